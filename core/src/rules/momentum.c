/*
 * momentum.c -- heavy-ball momentum in the form of d2l (ch. 11.6):
 *
 *   v_t = beta v_{t-1} + g_t,     v_0 = 0
 *   x_t = x_{t-1} - lr v_t
 *
 * The arithmetic is the one of sgd{momentum = beta} (PyTorch), so both give
 * bit-identical trajectories.
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR, BETA };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = NAN, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [BETA] = {.name = "beta", .def = 0.9, .lo = 0, .hi = 1, .hi_open = 1},
};

static const char *const state_names[] = {"v"};

MS_SIMD_LOOP(update, x, (double *x, const double *g, double *v, size_t n,
                         double lr, double beta),
  ms_v vi = beta * MS_AT(v) + MS_AT(g);
  MS_AT(v) = vi;
  MS_AT(x) += -lr * vi;
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  MS_SIMD(update)(x, g, state[0], n, h[LR], h[BETA]);
  return MS_OK;
}

/* For the vectorised loop of sweeps: this is heavy ball itself. */
static int heavy_ball(const double *h, double *lr, double *beta,
                      int *nesterov) {
  *lr = h[LR];
  *beta = h[BETA];
  *nesterov = 0;
  return 1;
}

const ms_rule_class ms_rule_momentum = {
    .name = "momentum",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
    .heavy_ball = heavy_ball,
};
