/*
 * sgd.c -- stochastic gradient descent with the semantics of PyTorch's
 * torch.optim.SGD:
 *
 *   d_t = (maximize ? -g_t : g_t) + weight_decay x_{t-1}
 *   b_1 = d_1,  b_t = momentum b_{t-1} + (1 - dampening) d_t   (t > 1)
 *   d_t = nesterov ? d_t + momentum b_t : b_t                  (momentum > 0)
 *   x_t = x_{t-1} - lr d_t
 *
 * The buffer starts as the first gradient, so the first step is never
 * dampened.
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR, MOMENTUM, DAMPENING, NESTEROV, WEIGHT_DECAY, MAXIMIZE };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = NAN, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [MOMENTUM] = {.name = "momentum", .def = 0, .lo = 0, .hi = 1,
                  .hi_open = 1},
    [DAMPENING] = {.name = "dampening", .def = 0, .lo = 0, .hi = 1},
    [NESTEROV] = {.name = "nesterov", .def = 0, .lo = 0, .hi = 1,
                  .kind = MS_HYPER_FLAG},
    [WEIGHT_DECAY] = {.name = "weight_decay", .def = 0, .lo = 0,
                      .hi = INFINITY, .hi_open = 1},
    [MAXIMIZE] = {.name = "maximize", .def = 0, .lo = 0, .hi = 1,
                  .kind = MS_HYPER_FLAG},
};

static const char *const state_names[] = {"momentum_buffer"};

static ms_status check(const double *h) {
  if (h[NESTEROV] != 0 && (h[MOMENTUM] <= 0 || h[DAMPENING] != 0))
    return ms_fail(MS_EINVAL,
                   "nesterov requires momentum > 0 and dampening = 0");
  return MS_OK;
}

MS_SIMD_LOOP(update, x, (double *x, const double *g, double *buf, size_t n,
                         double lr, double mom, double damp, double wd,
                         int nesterov, int maximize, int first),
  ms_v xi = MS_AT(x), gi = MS_AT(g);
  ms_v d = maximize ? -gi : gi;
  if (wd != 0) d += wd * xi;
  if (mom != 0) {
    ms_v bi = MS_AT(buf);
    bi = first ? d : mom * bi + damp * d;
    MS_AT(buf) = bi;
    d = nesterov ? d + mom * bi : bi;
  }
  MS_AT(x) = xi + -lr * d;
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx;
  MS_SIMD(update)(x, g, state[0], n, h[LR], h[MOMENTUM], 1 - h[DAMPENING],
                  h[WEIGHT_DECAY], h[NESTEROV] != 0, h[MAXIMIZE] != 0, t == 1);
  return MS_OK;
}

/* For the vectorised loop of sweeps: without dampening, weight decay or
 * maximize, heavy ball (Nesterov with nesterov), as momentum.c and
 * nesterov.c; momentum 0 is gd.c's update. */
static int heavy_ball(const double *h, double *lr, double *beta,
                      int *nesterov) {
  if (h[DAMPENING] != 0 || h[WEIGHT_DECAY] != 0 || h[MAXIMIZE] != 0)
    return 0;
  *lr = h[LR];
  *beta = h[MOMENTUM];
  *nesterov = h[NESTEROV] != 0;
  return 1;
}

const ms_rule_class ms_rule_sgd = {
    .name = "sgd",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .check = check,
    .step = step,
    .heavy_ball = heavy_ball,
};
