/*
 * rmsprop.c -- RMSprop (Tieleman & Hinton, COURSERA: Neural Networks for
 * Machine Learning, lecture 6.5, 2012; centred variant: Graves, "Generating
 * Sequences With Recurrent Neural Networks", 2013) with the
 * semantics and the operation order of PyTorch's torch.optim.RMSprop (2.x,
 * _single_tensor_rmsprop):
 *
 *   d_t = (maximize ? -g_t : g_t) + weight_decay x_{t-1}     (L2 penalty)
 *   s_t = s_{t-1} alpha + (1 - alpha) d_t d_t                (square_avg)
 *   a_t = lerp(a_{t-1}, d_t, 1 - alpha)          (grad_avg, when centered)
 *   r_t = sqrt(centered ? s_t - a_t a_t : s_t) + eps
 *   momentum > 0:  b_t = b_{t-1} momentum + d_t / r_t,  x_t = x_{t-1} - lr b_t
 *   otherwise:     x_t = x_{t-1} + (-lr d_t) / r_t
 *
 * All state starts at zero; eps is added after the square root.  lerp is
 * ATen's scalar formula, as in adam.c.
 */
#include <math.h>

#include "../internal.h"

enum { LR, ALPHA, EPS, WEIGHT_DECAY, MOMENTUM, CENTERED, MAXIMIZE };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = 1e-2, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [ALPHA] = {.name = "alpha", .def = 0.99, .lo = 0, .hi = 1, .hi_open = 1},
    [EPS] = {.name = "eps", .def = 1e-8, .lo = 0, .hi = INFINITY, .lo_open = 1,
             .hi_open = 1},
    [WEIGHT_DECAY] = {.name = "weight_decay", .def = 0, .lo = 0,
                      .hi = INFINITY, .hi_open = 1},
    [MOMENTUM] = {.name = "momentum", .def = 0, .lo = 0, .hi = 1,
                  .hi_open = 1},
    [CENTERED] = {.name = "centered", .def = 0, .lo = 0, .hi = 1,
                  .kind = MS_HYPER_FLAG},
    [MAXIMIZE] = {.name = "maximize", .def = 0, .lo = 0, .hi = 1,
                  .kind = MS_HYPER_FLAG},
};

static const char *const state_names[] = {"square_avg", "momentum_buffer",
                                          "grad_avg"};


static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  double lr = h[LR], alpha = h[ALPHA], eps = h[EPS], wd = h[WEIGHT_DECAY];
  double mom = h[MOMENTUM], c = 1 - alpha;
  int centered = h[CENTERED] != 0, maximize = h[MAXIMIZE] != 0;
  double *sq = state[0], *buf = state[1], *ga = state[2];
  for (size_t i = 0; i < n; i++) {
    double d = maximize ? -g[i] : g[i];
    if (wd != 0) d += wd * x[i];
    sq[i] = sq[i] * alpha + c * d * d;
    double r;
    if (centered) {
      ga[i] = ms_lerp(ga[i], d, c);
      r = sqrt(sq[i] - ga[i] * ga[i]);
    } else {
      r = sqrt(sq[i]);
    }
    r += eps;
    if (mom > 0) {
      buf[i] = buf[i] * mom + d / r;
      x[i] += -lr * buf[i];
    } else {
      x[i] += -lr * d / r;
    }
  }
  return MS_OK;
}

const ms_rule_class ms_rule_rmsprop = {
    .name = "rmsprop",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
};
