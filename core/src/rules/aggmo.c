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
#include "../simd.h"

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

MS_SIMD_LOOP(update, x, (double *x, const double *g, double *v1, double *v2,
                         double *v3, size_t n, double c, double b1, double b2,
                         double b3),
  ms_v gi = MS_AT(g);
  ms_v w1 = b1 * MS_AT(v1) - gi, w2 = b2 * MS_AT(v2) - gi;
  ms_v w3 = b3 * MS_AT(v3) - gi;
  MS_AT(v1) = w1;
  MS_AT(v2) = w2;
  MS_AT(v3) = w3;
  MS_AT(x) = MS_AT(x) + c * w1 + c * w2 + c * w3;
);
_Static_assert(K == 3, "update has one velocity per beta");

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  MS_SIMD(update)(x, g, state[0], state[1], state[2], n, h[LR] / K, h[BETA1],
                  h[BETA2], h[BETA3]);
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
