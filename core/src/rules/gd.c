/*
 * gd.c -- plain gradient descent:  x_t = x_{t-1} - lr g_t.
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = NAN, .lo = 0, .hi = INFINITY, .hi_open = 1},
};

MS_SIMD_LOOP(update, x, (double *x, const double *g, size_t n, double lr),
  MS_AT(x) += -lr * MS_AT(g);
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)state, (void)t;
  MS_SIMD(update)(x, g, n, h[LR]);
  return MS_OK;
}

/* For the vectorised loop of sweeps: heavy ball without momentum, whose
 * velocity 0 v + g is g. */
static int heavy_ball(const double *h, double *lr, double *beta,
                      int *nesterov) {
  *lr = h[LR];
  *beta = 0;
  *nesterov = 0;
  return 1;
}

const ms_rule_class ms_rule_gd = {
    .name = "gd",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .step = step,
    .heavy_ball = heavy_ball,
};
