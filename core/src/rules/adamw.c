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

extern const ms_rule_class ms_rule_adam;

/* The order of adam.c's table: h is handed to Adam's step as it is. */
enum { LR, BETA1, BETA2, EPS, WEIGHT_DECAY, AMSGRAD, MAXIMIZE, NHYPER };

static const ms_hyper_info hyper[] = {
    {"lr", 1e-3, 0, INFINITY, 0, 1, MS_HYPER_REAL},
    {"beta1", 0.9, 0, 1, 0, 1, MS_HYPER_REAL},
    {"beta2", 0.999, 0, 1, 0, 1, MS_HYPER_REAL},
    {"eps", 1e-8, 0, INFINITY, 1, 1, MS_HYPER_REAL},
    {"weight_decay", 1e-2, 0, INFINITY, 0, 1, MS_HYPER_REAL},
    {"amsgrad", 0, 0, 1, 0, 0, MS_HYPER_FLAG},
    {"maximize", 0, 0, 1, 0, 0, MS_HYPER_FLAG},
};

static const char *const state_names[] = {"exp_avg", "exp_avg_sq",
                                          "max_exp_avg_sq"};

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  double adam_h[NHYPER];
  memcpy(adam_h, h, sizeof adam_h);
  adam_h[WEIGHT_DECAY] = 0;
  if (h[WEIGHT_DECAY] != 0) ms_vec_scale(x, 1 - h[LR] * h[WEIGHT_DECAY], n);
  return ms_rule_adam.step(ctx, adam_h, x, g, state, n, t);
}

const ms_rule_class ms_rule_adamw = {
    .name = "adamw", .nhyper = NHYPER, .hyper = hyper, .nstate = 3,
    .state_names = state_names, .step = step,
};
