/*
 * nag.c -- Nesterov's accelerated gradient in the look-ahead form of
 * Sutskever, Martens, Dahl & Hinton, "On the importance of initialization
 * and momentum in deep learning", ICML 2013, eq. (3)-(4):
 *
 *   y_t = x_{t-1} + momentum v_{t-1}          (where the gradient is taken)
 *   v_t = momentum v_{t-1} - lr grad f(y_t),  v_0 = 0
 *   x_t = x_{t-1} + v_t
 *
 * The look-ahead points y_{t+1} = x_t + momentum v_t are the iterates of
 * PyTorch's form (rule "nesterov"), which never leaves the look-ahead point.
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR, MOMENTUM };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = NAN, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [MOMENTUM] = {.name = "momentum", .def = 0.9, .lo = 0, .hi = 1,
                  .hi_open = 1},
};

static const char *const state_names[] = {"v"};

MS_SIMD_LOOP(ahead, y, (const double *x, const double *v, double *y, size_t n,
                        double mom),
  MS_AT(y) = MS_AT(x) + mom * MS_AT(v);
);

static ms_status lookahead(void *ctx, const double *h, const double *x,
                           double *const *state, double *y, size_t n,
                           int64_t t) {
  (void)ctx, (void)t;
  MS_SIMD(ahead)(x, state[0], y, n, h[MOMENTUM]);
  return MS_OK;
}

/* g is the gradient at the look-ahead point y_t. */
MS_SIMD_LOOP(update, x, (double *x, const double *g, double *v, size_t n,
                         double lr, double mom),
  ms_v vi = mom * MS_AT(v) - lr * MS_AT(g);
  MS_AT(v) = vi;
  MS_AT(x) += vi;
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)t;
  MS_SIMD(update)(x, g, state[0], n, h[LR], h[MOMENTUM]);
  return MS_OK;
}

const ms_rule_class ms_rule_nag = {
    .name = "nag",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .lookahead = lookahead,
    .step = step,
};
