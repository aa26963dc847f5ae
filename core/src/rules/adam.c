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


/* torch.maximum: NaN if either is. */
static double maximum(double a, double b) { return isnan(a) || a > b ? a : b; }

static ms_status step(void *ctx, const double *h, double *x, const double *g,
                      double *const *state, size_t n, int64_t t) {
  (void)ctx;
  double beta1 = h[BETA1], beta2 = h[BETA2], eps = h[EPS];
  double wd = h[WEIGHT_DECAY];
  int amsgrad = h[AMSGRAD] != 0, maximize = h[MAXIMIZE] != 0;
  double step_size = h[LR] / (1 - pow(beta1, (double)t));
  double bc2_sqrt = pow(1 - pow(beta2, (double)t), 0.5);
  double w1 = 1 - beta1, c2 = 1 - beta2;
  double *m = state[0], *v = state[1], *vmax = state[2];
  for (size_t i = 0; i < n; i++) {
    double d = maximize ? -g[i] : g[i];
    if (wd != 0) d += wd * x[i];
    m[i] = ms_lerp(m[i], d, w1);
    v[i] = v[i] * beta2 + c2 * d * d;
    double s = v[i];
    if (amsgrad) s = vmax[i] = maximum(vmax[i], v[i]);
    double denom = sqrt(s) / bc2_sqrt + eps;
    x[i] += -step_size * m[i] / denom;
  }
  return MS_OK;
}

const ms_rule_class ms_rule_adam = {
    .name = "adam",
    .nhyper = MS_COUNT(hyper),
    .hyper = hyper,
    .nstate = MS_COUNT(state_names),
    .state_names = state_names,
    .step = step,
};
