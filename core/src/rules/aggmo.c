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
    [LR] = {.name = "lr", .def = NAN, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [BETA1] = {.name = "beta1", .def = 0, .lo = 0, .hi = 1, .hi_open = 1},
    [BETA2] = {.name = "beta2", .def = 0.9, .lo = 0, .hi = 1, .hi_open = 1},
    [BETA3] = {.name = "beta3", .def = 0.99, .lo = 0, .hi = 1, .hi_open = 1},
};

static const char *const state_names[] = {"v1", "v2", "v3"};
_Static_assert(MS_COUNT(state_names) == K, "one velocity per beta");

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
    .name = "aggmo",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
};
