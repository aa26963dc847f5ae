/*
 * adagrad.c -- Adagrad (Duchi, Hazan & Singer, "Adaptive Subgradient
 * Methods for Online Learning and Stochastic Optimization", JMLR 12, 2011)
 * with the semantics and the operation order of PyTorch's
 * torch.optim.Adagrad (2.x, _single_tensor_adagrad, dense gradients):
 *
 *   d_t   = (maximize ? -g_t : g_t) + weight_decay x_{t-1}   (L2 penalty)
 *   clr_t = lr / (1 + (t - 1) lr_decay)
 *   s_t   = s_{t-1} + d_t d_t,   s_0 = initial_accumulator_value
 *   x_t   = x_{t-1} + (-clr_t d_t) / (sqrt(s_t) + eps)
 *
 * The engine zeroes the state on reset, so step 1 sets s_0 first.
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR, LR_DECAY, WEIGHT_DECAY, INITIAL_ACCUMULATOR_VALUE, EPS, MAXIMIZE };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = 1e-2, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [LR_DECAY] = {.name = "lr_decay", .def = 0, .lo = 0, .hi = INFINITY,
                  .hi_open = 1},
    [WEIGHT_DECAY] = {.name = "weight_decay", .def = 0, .lo = 0,
                      .hi = INFINITY, .hi_open = 1},
    [INITIAL_ACCUMULATOR_VALUE] = {.name = "initial_accumulator_value",
                                   .def = 0, .lo = 0, .hi = INFINITY,
                                   .hi_open = 1},
    [EPS] = {.name = "eps", .def = 1e-10, .lo = 0, .hi = INFINITY,
             .lo_open = 1, .hi_open = 1},
    [MAXIMIZE] = {.name = "maximize", .def = 0, .lo = 0, .hi = 1,
                  .kind = MS_HYPER_FLAG},
};

static const char *const state_names[] = {"sum"};

/* first: s_{t-1} is s_0 = init, whatever the state holds. */
MS_SIMD_LOOP(update, x, (double *x, const double *g, double *sum, size_t n,
                         double clr, double wd, double eps, double init,
                         int first, int maximize),
  ms_v xi = MS_AT(x), gi = MS_AT(g);
  ms_v d = maximize ? -gi : gi;
  if (wd != 0) d += wd * xi;
  ms_v s = MS_AT(sum);
  s = first ? init + d * d : s + d * d;
  MS_AT(sum) = s;
  MS_AT(x) = xi + -clr * d / (MS_SQRT(s) + eps);
);

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx;
  double clr = h[LR] / (1 + (double)(t - 1) * h[LR_DECAY]);
  MS_SIMD(update)(x, g, state[0], n, clr, h[WEIGHT_DECAY], h[EPS],
                  h[INITIAL_ACCUMULATOR_VALUE], t == 1, h[MAXIMIZE] != 0);
  return MS_OK;
}

const ms_rule_class ms_rule_adagrad = {
    .name = "adagrad",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
};
