/*
 * adamw.c -- AdamW: Adam with decoupled weight decay (Loshchilov & Hutter,
 * "Decoupled Weight Decay Regularization", ICLR 2019), with the semantics
 * of PyTorch's torch.optim.AdamW (2.x, _single_tensor_adam with
 * decoupled_weight_decay):
 *
 *   x'  = x_{t-1} (1 - lr weight_decay)
 *   x_t = adam step from x' with the gradient g_t and no L2 term
 *
 * The Adam step is the one of adam.c, called with weight_decay = 0, so
 * adamw{weight_decay = 0} and adam{} give bit-identical trajectories.  The
 * hyper-parameters are those of adam, in the same order, but weight decay
 * defaults to 0.01.
 */
#include <math.h>
#include <string.h>

#include "../internal.h"

/* The order of adam.c's table: h is handed to Adam's step as it is. */
enum { LR, BETA1, BETA2, EPS, WEIGHT_DECAY, AMSGRAD, MAXIMIZE, NHYPER };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = 1e-3, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [BETA1] = {.name = "beta1", .def = 0.9, .lo = 0, .hi = 1, .hi_open = 1},
    [BETA2] = {.name = "beta2", .def = 0.999, .lo = 0, .hi = 1, .hi_open = 1},
    [EPS] = {.name = "eps", .def = 1e-8, .lo = 0, .hi = INFINITY, .lo_open = 1,
             .hi_open = 1},
    [WEIGHT_DECAY] = {.name = "weight_decay", .def = 1e-2, .lo = 0,
                      .hi = INFINITY, .hi_open = 1},
    [AMSGRAD] = {.name = "amsgrad", .def = 0, .lo = 0, .hi = 1,
                 .kind = MS_HYPER_FLAG},
    [MAXIMIZE] = {.name = "maximize", .def = 0, .lo = 0, .hi = 1,
                  .kind = MS_HYPER_FLAG},
};

_Static_assert(MS_COUNT(hyper) == NHYPER, "adam's table, entry for entry");

static const char *const state_names[] = {"exp_avg", "exp_avg_sq",
                                          "max_exp_avg_sq"};

/* The decay and Adam's step in one pass over x. */
static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx;
  double adam_h[NHYPER];
  memcpy(adam_h, h, sizeof adam_h);
  adam_h[WEIGHT_DECAY] = 0;
  double decay = h[WEIGHT_DECAY] != 0 ? 1 - h[LR] * h[WEIGHT_DECAY] : 1;
  return ms_rule_adam_step(adam_h, decay, x, g, state, n, t);
}

const ms_rule_class ms_rule_adamw = {
    .name = "adamw",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
};
