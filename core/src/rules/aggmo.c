/*
 * aggmo.c -- aggregated momentum: Lucas, Sun, Zemel & Grosse, "Aggregated
 * Momentum: Stability Through Passive Damping", ICLR 2019 (section 3), with
 * K = 3 velocities and the paper's default betas (0, 0.9, 0.99):
 *
 *   v_t^(i) = beta_i v_{t-1}^(i) - g_t,   v_0^(i) = 0,   i = 1..K
 *   x_t = x_{t-1} + (lr / K) sum_i v_t^(i)
 *
 * The sum is taken as the authors' AtheMathmo/AggMo (src/aggmo.py) takes
 * it: one velocity at a time, x += (lr / K) v^(i) for i = 1, 2, 3.  Their
 * buffers are -v (b = beta b + g, x -= (lr / K) b); negation is exact, so
 * the trajectories agree bit for bit.
 */
#include <math.h>

#include "../internal.h"

enum { LR, BETA1, BETA2, BETA3 };
enum { K = 3 };   /* velocities, one per beta */

static const ms_hyper_info hyper[] = {
    {"lr", NAN, 0, INFINITY, 0, 1, MS_HYPER_REAL},
    {"beta1", 0, 0, 1, 0, 1, MS_HYPER_REAL},
    {"beta2", 0.9, 0, 1, 0, 1, MS_HYPER_REAL},
    {"beta3", 0.99, 0, 1, 0, 1, MS_HYPER_REAL},
};

static const char *const state_names[] = {"v1", "v2", "v3"};

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  double c = h[LR] / K;
  for (size_t i = 0; i < n; i++) {
    for (int k = 0; k < K; k++) {
      double *v = state[k];
      v[i] = h[BETA1 + k] * v[i] - g[i];
      x[i] += c * v[i];
    }
  }
  return MS_OK;
}

const ms_rule_class ms_rule_aggmo = {
    .name = "aggmo", .nhyper = 4, .hyper = hyper, .nstate = K,
    .state_names = state_names, .step = step,
};
