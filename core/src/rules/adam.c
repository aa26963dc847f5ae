/*
 * adam.c -- Adam (Kingma & Ba, "Adam: A Method for Stochastic
 * Optimization", ICLR 2015) and AMSGrad (Reddi, Kale & Kumar, "On the
 * Convergence of Adam and Beyond", ICLR 2018), with the semantics and the
 * operation order of PyTorch's torch.optim.Adam (2.x, _single_tensor_adam):
 *
 *   d_t = (maximize ? -g_t : g_t) + weight_decay x_{t-1}     (L2 penalty)
 *   m_t = lerp(m_{t-1}, d_t, 1 - beta1)         = beta1 m + (1 - beta1) d
 *   v_t = v_{t-1} beta2 + (1 - beta2) d_t d_t
 *   vmax_t = max(vmax_{t-1}, v_t)                             (amsgrad)
 *   denom = sqrt(amsgrad ? vmax_t : v_t) / (1 - beta2^t)^0.5 + eps
 *   x_t = x_{t-1} + (-(lr / (1 - beta1^t)) m_t) / denom
 *
 * m_0 = v_0 = vmax_0 = 0.  lerp is ATen's scalar formula (torch.lerp):
 * a + w (b - a) for w < 0.5, b - (b - a)(1 - w) otherwise.
 * (1 - beta2^t)^0.5 is pow(), not sqrt(): PyTorch writes
 * "bias_correction2 ** 0.5", and libm's pow differs from sqrt in the last
 * bit for about one argument in a thousand.  PyTorch's x86-64 kernels for
 * add(alpha), addcmul and lerp round a b + c once (fused multiply-add);
 * the engine is built without contraction, so a PyTorch run agrees with
 * this one to rounding, not bit for bit.
 *
 * AdamW (adamw.c) is this rule after a decoupled decay of x.
 */
#include <math.h>

#include "../internal.h"
#include "../simd.h"

enum { LR, BETA1, BETA2, EPS, WEIGHT_DECAY, AMSGRAD, MAXIMIZE };

static const ms_hyper_info hyper[] = {
    [LR] = {.name = "lr", .def = 1e-3, .lo = 0, .hi = INFINITY, .hi_open = 1},
    [BETA1] = {.name = "beta1", .def = 0.9, .lo = 0, .hi = 1, .hi_open = 1},
    [BETA2] = {.name = "beta2", .def = 0.999, .lo = 0, .hi = 1, .hi_open = 1},
    [EPS] = {.name = "eps", .def = 1e-8, .lo = 0, .hi = INFINITY, .lo_open = 1,
             .hi_open = 1},
    [WEIGHT_DECAY] = {.name = "weight_decay", .def = 0, .lo = 0,
                      .hi = INFINITY, .hi_open = 1},
    [AMSGRAD] = {.name = "amsgrad", .def = 0, .lo = 0, .hi = 1,
                 .kind = MS_HYPER_FLAG},
    [MAXIMIZE] = {.name = "maximize", .def = 0, .lo = 0, .hi = 1,
                  .kind = MS_HYPER_FLAG},
};

static const char *const state_names[] = {"exp_avg", "exp_avg_sq",
                                          "max_exp_avg_sq"};

/* The constants of step t, for every element. */
typedef struct consts {
  double beta2, eps, wd, step_size, bc2_sqrt, w1, c2;
} consts;

/* x' = decay x (AdamW's decoupled decay; 1: none), then Adam's update of
 * x' -- in one pass.  MS_MAXIMUM is torch.maximum: NaN if either is. */
MS_SIMD_LOOP(update, x, (double *x, const double *g, double *m, double *v,
                         double *vmax, size_t n, consts k, double decay,
                         int amsgrad, int maximize),
  ms_v xi = MS_AT(x), gi = MS_AT(g), mi = MS_AT(m), vi = MS_AT(v);
  ms_v d = maximize ? -gi : gi;
  if (k.wd != 0) d += k.wd * xi;
  mi = MS_LERP(mi, d, k.w1);
  vi = vi * k.beta2 + k.c2 * d * d;
  MS_AT(m) = mi;
  MS_AT(v) = vi;
  ms_v s = vi;
  if (amsgrad) s = MS_AT(vmax) = MS_MAXIMUM(MS_AT(vmax), vi);
  ms_v denom = MS_SQRT(s) / k.bc2_sqrt + k.eps;
  if (decay != 1) xi = xi * decay;
  MS_AT(x) = xi + -k.step_size * mi / denom;
);

ms_status ms_rule_adam_step(const double *h, double decay, double *x,
                            const double *g, double *const *state, size_t n,
                            int64_t t) {
  double beta1 = h[BETA1], beta2 = h[BETA2];
  consts k = {
      .beta2 = beta2, .eps = h[EPS], .wd = h[WEIGHT_DECAY],
      .step_size = h[LR] / (1 - pow(beta1, (double)t)),
      .bc2_sqrt = pow(1 - pow(beta2, (double)t), 0.5),
      .w1 = 1 - beta1, .c2 = 1 - beta2,
  };
  MS_SIMD(update)(x, g, state[0], state[1], state[2], n, k, decay,
                  h[AMSGRAD] != 0, h[MAXIMIZE] != 0);
  return MS_OK;
}

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx;
  return ms_rule_adam_step(h, 1, x, g, state, n, t);
}

const ms_rule_class ms_rule_adam = {
    .name = "adam",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
};
