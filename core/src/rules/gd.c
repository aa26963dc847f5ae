/*
 * gd.c -- plain gradient descent:  x_t = x_{t-1} - lr g_t.
 */
#include <math.h>

#include "../internal.h"

static const ms_hyper_info hyper[] = {
    {"lr", NAN, 0, INFINITY, 0, 1, MS_HYPER_REAL},
};

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx, (void)state, (void)t;
  ms_vec_axpy(x, -h[0], g, n);
  return MS_OK;
}

const ms_rule_class ms_rule_gd = {
    .name = "gd", .nhyper = 1, .hyper = hyper, .step = step,
};
