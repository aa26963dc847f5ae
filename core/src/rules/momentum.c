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

static const ms_hyper_info hyper[] = {
    {"lr", NAN, 0, INFINITY, 0, 1, MS_HYPER_REAL},
    {"beta", 0.9, 0, 1, 0, 1, MS_HYPER_REAL},
};

static const char *const state_names[] = {"v"};

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  double lr = h[0], beta = h[1];
  double *v = state[0];
  for (size_t i = 0; i < n; i++) {
    v[i] = beta * v[i] + g[i];
    x[i] += -lr * v[i];
  }
  return MS_OK;
}

const ms_rule_class ms_rule_momentum = {
    .name = "momentum", .nhyper = 2, .hyper = hyper,
    .nstate = 1, .state_names = state_names, .step = step,
};
