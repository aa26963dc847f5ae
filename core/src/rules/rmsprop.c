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
#include "../simd.h"

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

/* The constants of a step, for every element. */
typedef struct consts {
  double lr, alpha, eps, wd, mom, c;
} consts;

MS_SIMD_LOOP(update, x, (double *x, const double *g, double *sq, double *buf,
                         double *ga, size_t n, consts k, int centered,
                         int maximize),
  ms_v xi = MS_AT(x), gi = MS_AT(g);
  ms_v d = maximize ? -gi : gi;
  if (k.wd != 0) d += k.wd * xi;
  ms_v s = MS_AT(sq) * k.alpha + k.c * d * d, r;
  MS_AT(sq) = s;
  if (centered) {
    ms_v a = MS_AT(ga);
    a = MS_LERP(a, d, k.c);
    MS_AT(ga) = a;
    r = MS_SQRT(s - a * a);
  } else {
    r = MS_SQRT(s);
  }
  r += k.eps;
  if (k.mom > 0) {
    ms_v b = MS_AT(buf) * k.mom + d / r;
    MS_AT(buf) = b;
    MS_AT(x) = xi + -k.lr * b;
  } else {
    MS_AT(x) = xi + -k.lr * d / r;
  }
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  consts k = {.lr = h[LR], .alpha = h[ALPHA], .eps = h[EPS],
              .wd = h[WEIGHT_DECAY], .mom = h[MOMENTUM], .c = 1 - h[ALPHA]};
  MS_SIMD(update)(x, g, state[0], state[1], state[2], n, k,
                  h[CENTERED] != 0, h[MAXIMIZE] != 0);
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
