/*
 * nesterov.c -- Nesterov momentum in the form PyTorch computes for
 * torch.optim.SGD(nesterov=True, dampening=0) (Sutskever et al. 2013,
 * rewritten in terms of the look-ahead point, as in Bengio, Boulanger-
 * Lewandowski & Pascanu, "Advances in optimizing recurrent networks", 2013):
 *
 *   b_1 = g_1,  b_t = momentum b_{t-1} + g_t   (t > 1)
 *   x_t = x_{t-1} - lr (g_t + momentum b_t)
 *
 * The gradient is taken at x itself; x_t is the look-ahead point of "nag".
 * The arithmetic is that of sgd{momentum = m, nesterov = true}, so both
 * give bit-identical trajectories (sgd's "+ (1 - dampening) d" is "+ 1 d",
 * and multiplying by 1 is exact).
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR, MOMENTUM };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = NAN, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [MOMENTUM] = {.name = "momentum", .def = 0.9, .lo = 0, .hi = 1,
                  .lo_open = 1, .hi_open = 1},
};

static const char *const state_names[] = {"momentum_buffer"};

MS_SIMD_LOOP(update, x, (double *x, const double *g, double *buf, size_t n,
                         double lr, double mom, int first),
  ms_v d = MS_AT(g), bi = MS_AT(buf);
  bi = first ? d : mom * bi + d;
  MS_AT(buf) = bi;
  d = d + mom * bi;
  MS_AT(x) += -lr * d;
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx;
  MS_SIMD(update)(x, g, state[0], n, h[LR], h[MOMENTUM], t == 1);
  return MS_OK;
}

/* For the vectorised loop of sweeps: Nesterov momentum, whose first
 * buffer g_1 is beta 0 + g_1. */
static int heavy_ball(const double *h, double *lr, double *beta,
                      int *nesterov) {
  *lr = h[LR];
  *beta = h[MOMENTUM];
  *nesterov = 1;
  return 1;
}

const ms_rule_class ms_rule_nesterov = {
    .name = "nesterov",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
    .heavy_ball = heavy_ball,
};
