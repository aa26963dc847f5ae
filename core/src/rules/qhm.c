/*
 * qhm.c -- quasi-hyperbolic momentum: Ma & Yarats, "Quasi-hyperbolic
 * momentum and Adam for deep learning", ICLR 2019, with the operation order
 * of the authors' facebookresearch/qhoptim (qhoptim.pyt.QHM, no weight
 * decay):
 *
 *   b_t = beta b_{t-1} + (1 - beta) g_t,   b_0 = 0
 *   x_t = x_{t-1} - lr nu b_t - lr (1 - nu) g_t
 *
 * nu = 1 is momentum on the exponential moving average of the gradients,
 * nu = 0 plain gradient descent; both limits are exact in floating point
 * (the dropped term is x + (-0) v, which leaves x unchanged).  The buffer
 * is dampened: momentum{lr, beta} corresponds to qhm{lr / (1 - beta), beta,
 * nu = 1}.
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR, BETA, NU };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = NAN, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [BETA] = {.name = "beta", .def = 0.999, .lo = 0, .hi = 1, .hi_open = 1},
    [NU] = {.name = "nu", .def = 0.7, .lo = 0, .hi = 1},
};

static const char *const state_names[] = {"momentum_buffer"};

MS_SIMD_LOOP(update, x, (double *x, const double *g, double *buf, size_t n,
                         double beta, double cb, double cg, double cd),
  ms_v gi = MS_AT(g);
  ms_v bi = MS_AT(buf) * beta + cd * gi;
  MS_AT(buf) = bi;
  MS_AT(x) = MS_AT(x) + cb * bi + cg * gi;
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  double lr = h[LR], beta = h[BETA], nu = h[NU];
  MS_SIMD(update)(x, g, state[0], n, beta, -lr * nu, -lr * (1 - nu), 1 - beta);
  return MS_OK;
}

const ms_rule_class ms_rule_qhm = {
    .name = "qhm",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
};
