/* test_rules_more.c -- nag, nesterov, qhm, aggmo, adam, adamw, rmsprop and
 * adagrad: each rule's first three steps computed by hand, the identities
 * between rules, hyper-parameter ranges and resets. */
#include <stdint.h>
#include <stdlib.h>

#include "check.h"
#include "momsandbox.h"

static const char *const new_rules[] = {
    "nag", "nesterov", "qhm", "aggmo", "adam", "adamw", "rmsprop", "adagrad",
};
enum { NRULES = sizeof new_rules / sizeof new_rules[0] };

static ms_rule *make(const char *name) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find(name), &r));
  return r;
}

/* One step on f = 1/2 sum lambda_i x_i^2, the way trace.c drives a rule:
 * the gradient is taken at the rule's look-ahead point. */
static void step_quadratic(ms_rule *r, double *x, const double *lambda,
                           size_t n) {
  double y[4], g[4];
  CHECK_OK(ms_rule_lookahead(r, x, y, n));
  for (size_t i = 0; i < n; i++) g[i] = lambda[i] * y[i];
  CHECK_OK(ms_rule_step(r, x, g, n));
}

/* Three steps on f = 0.1 x1^2 + 2 x2^2 (gradient (0.2 x1, 4 x2)) from
 * (-5, -2), compared with the expected points. */
static void three_steps_2d(ms_rule *r, const double expect[3][2]) {
  static const double lambda[2] = {0.2, 4};
  double x[2] = {-5, -2};
  for (int t = 0; t < 3; t++) {
    step_quadratic(r, x, lambda, 2);
    CHECK_NEAR(x[0], expect[t][0], 1e-12);
    CHECK_NEAR(x[1], expect[t][1], 1e-12);
  }
  CHECK(ms_rule_steps(r) == 3);
}

/* Three steps on f = x^2 / 2 (gradient x) from x = 1. */
static void three_steps_1d(ms_rule *r, const double expect[3]) {
  static const double lambda[1] = {1};
  double x = 1;
  for (int t = 0; t < 3; t++) {
    step_quadratic(r, &x, lambda, 1);
    CHECK_NEAR(x, expect[t], 1e-12);
  }
}

/* ------------------------------------------------------ momentum family */

static void test_nag(void) {
  ms_rule *r = make("nag");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "momentum", 0.9));
  /* y1 = 1, v1 = -0.1, x1 = 0.9;
   * y2 = 0.9 - 0.09 = 0.81, v2 = -0.09 - 0.081 = -0.171, x2 = 0.729;
   * y3 = 0.729 - 0.1539 = 0.5751, v3 = -0.1539 - 0.05751 = -0.21141,
   * x3 = 0.51759 */
  static const double e[3] = {0.9, 0.729, 0.51759};
  three_steps_1d(r, e);
  CHECK_NEAR(ms_rule_state(r, 0)[0], -0.21141, 1e-12);
  double x = 0.51759, y;
  CHECK_OK(ms_rule_lookahead(r, &x, &y, 1));
  CHECK_NEAR(y, 0.51759 - 0.9 * 0.21141, 1e-12);   /* y4 = x3 + 0.9 v3 */
  ms_rule_free(r);
}

/* ms_trace_run on 0.1 x1^2 + 2 x2^2 gives, point for point, the look-ahead
 * iteration written out here.  Both evaluate the same expressions in the
 * same order, so they agree to the bit. */
static void test_nag_trace_is_lookahead(void) {
  const double lambda[2] = {0.2, 4}, x0[2] = {-5, -2};
  const double lr = 0.1, mu = 0.8;
  ms_objective *f = NULL;
  CHECK_OK(ms_objective_quadratic(lambda, 2, &f));
  ms_rule *r = make("nag");
  CHECK_OK(ms_rule_set(r, "lr", lr));
  CHECK_OK(ms_rule_set(r, "momentum", mu));
  ms_trace_opts o;
  ms_trace_opts_init(&o);
  o.steps = 60;
  ms_trace *tr = NULL;
  CHECK_OK(ms_trace_run(f, r, x0, 2, &o, &tr));
  CHECK(ms_trace_len(tr) == 61 && ms_trace_diverged(tr) == 0);
  double x[2] = {-5, -2}, v[2] = {0, 0};
  int same = 1;
  for (int t = 1; t <= 60; t++) {
    for (int i = 0; i < 2; i++) {
      double y = x[i] + mu * v[i];
      v[i] = mu * v[i] - lr * (lambda[i] * y);
      x[i] = x[i] + v[i];
    }
    same = same && memcmp(x, ms_trace_point(tr, (size_t)t), sizeof x) == 0;
  }
  CHECK(same);
  ms_trace_free(tr);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* nag's look-ahead point y_{t+1} = x_t + mu v_t is nesterov's x_t: the same
 * sequence, computed with different roundings. */
static void test_nag_lookahead_is_nesterov(void) {
  const double lambda[2] = {0.2, 4};
  ms_rule *a = make("nag"), *b = make("nesterov");
  CHECK_OK(ms_rule_set(a, "lr", 0.1));
  CHECK_OK(ms_rule_set(b, "lr", 0.1));
  double xa[2] = {-5, -2}, xb[2] = {-5, -2}, ya[2];
  for (int t = 0; t < 100; t++) {
    step_quadratic(a, xa, lambda, 2);
    step_quadratic(b, xb, lambda, 2);
    CHECK_OK(ms_rule_lookahead(a, xa, ya, 2));
    CHECK_NEAR(ya[0], xb[0], 1e-12);
    CHECK_NEAR(ya[1], xb[1], 1e-12);
  }
  ms_rule_free(a);
  ms_rule_free(b);
}

static void test_nesterov(void) {
  ms_rule *r = make("nesterov");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "momentum", 0.5));
  /* g1 = (-1, -8) = b1, g1 + 0.5 b1 = (-1.5, -12), x1 = (-4.85, -0.8);
   * g2 = (-0.97, -3.2), b2 = (-0.5 - 0.97, -4 - 3.2) = (-1.47, -7.2),
   *   g2 + 0.5 b2 = (-1.705, -6.8), x2 = (-4.6795, -0.12);
   * g3 = (-0.9359, -0.48), b3 = (-0.735 - 0.9359, -3.6 - 0.48)
   *   = (-1.6709, -4.08), g3 + 0.5 b3 = (-1.77135, -2.52),
   *   x3 = (-4.502365, 0.132) */
  static const double e[3][2] = {
      {-4.85, -0.8}, {-4.6795, -0.12}, {-4.502365, 0.132}};
  three_steps_2d(r, e);
  CHECK_NEAR(ms_rule_state(r, 0)[0], -1.6709, 1e-12);
  ms_rule_free(r);
}

/* nesterov{momentum} is sgd{momentum, nesterov = true}, bit for bit. */
static void test_nesterov_equals_sgd(void) {
  ms_rule *a = make("nesterov"), *b = make("sgd");
  CHECK_OK(ms_rule_set(a, "lr", 0.05));
  CHECK_OK(ms_rule_set(a, "momentum", 0.9));
  CHECK_OK(ms_rule_set(b, "lr", 0.05));
  CHECK_OK(ms_rule_set(b, "momentum", 0.9));
  CHECK_OK(ms_rule_set(b, "nesterov", 1));
  const double lambda[3] = {0.3, 2, 7.5};
  double xa[3] = {1, -2, 3}, xb[3] = {1, -2, 3};
  int same = 1;
  for (int t = 0; t < 200; t++) {
    step_quadratic(a, xa, lambda, 3);
    step_quadratic(b, xb, lambda, 3);
    same = same && memcmp(xa, xb, sizeof xa) == 0;
  }
  CHECK(same);
  ms_rule_free(a);
  ms_rule_free(b);
}

static void test_qhm(void) {
  ms_rule *r = make("qhm");
  CHECK_OK(ms_rule_set(r, "lr", 1));
  CHECK_OK(ms_rule_set(r, "beta", 0.9));
  CHECK_OK(ms_rule_set(r, "nu", 0.7));
  /* b1 = 0.1, x1 = 1 - (0.3 * 1 + 0.7 * 0.1) = 0.63;
   * b2 = 0.09 + 0.063 = 0.153, x2 = 0.63 - (0.189 + 0.1071) = 0.3339;
   * b3 = 0.1377 + 0.03339 = 0.17109,
   * x3 = 0.3339 - (0.10017 + 0.119763) = 0.113967 */
  static const double e[3] = {0.63, 0.3339, 0.113967};
  three_steps_1d(r, e);
  CHECK_NEAR(ms_rule_state(r, 0)[0], 0.17109, 1e-12);
  ms_rule_free(r);
}

/* The limits of qhm, bit for bit: with nu = 1 the gradient term is
 * x + (-0) g and with nu = 0 the buffer term is x + (-0) b, both exactly x,
 * and the other term is x + (-lr) u, which is what x - lr u rounds to. */
static void test_qhm_limits(void) {
  const double lambda[3] = {0.3, 2, 7.5}, lr = 0.2, beta = 0.9;
  ms_rule *ema = make("qhm"), *plain = make("qhm"), *gd = make("gd");
  CHECK_OK(ms_rule_set(ema, "lr", lr));
  CHECK_OK(ms_rule_set(ema, "beta", beta));
  CHECK_OK(ms_rule_set(ema, "nu", 1));
  CHECK_OK(ms_rule_set(plain, "lr", lr));
  CHECK_OK(ms_rule_set(plain, "beta", beta));
  CHECK_OK(ms_rule_set(plain, "nu", 0));
  CHECK_OK(ms_rule_set(gd, "lr", lr));
  double xe[3] = {1, -2, 3}, xp[3] = {1, -2, 3}, xg[3] = {1, -2, 3};
  double x[3] = {1, -2, 3}, b[3] = {0, 0, 0};
  int same_ema = 1, same_gd = 1;
  for (int t = 0; t < 200; t++) {
    for (int i = 0; i < 3; i++) {   /* EMA momentum, written out */
      b[i] = beta * b[i] + (1 - beta) * (lambda[i] * x[i]);
      x[i] -= lr * b[i];
    }
    step_quadratic(ema, xe, lambda, 3);
    step_quadratic(plain, xp, lambda, 3);
    step_quadratic(gd, xg, lambda, 3);
    same_ema = same_ema && memcmp(x, xe, sizeof x) == 0;
    same_gd = same_gd && memcmp(xp, xg, sizeof xp) == 0;
  }
  CHECK(same_ema);
  CHECK(same_gd);
  ms_rule_free(ema);
  ms_rule_free(plain);
  ms_rule_free(gd);
}

static void test_aggmo(void) {
  ms_rule *r = make("aggmo");
  CHECK_OK(ms_rule_set(r, "lr", 0.3));   /* lr / K = 0.1; betas 0, .9, .99 */
  /* v1 = (-1, -1, -1), x1 = 1 + 0.1 (-3) = 0.7;
   * g2 = 0.7: v2 = (-0.7, -0.9 - 0.7, -0.99 - 0.7) = (-0.7, -1.6, -1.69),
   *   x2 = 0.7 - 0.399 = 0.301;
   * g3 = 0.301: v3 = (-0.301, -1.44 - 0.301, -1.6731 - 0.301)
   *   = (-0.301, -1.741, -1.9741), x3 = 0.301 - 0.40161 = -0.10061 */
  static const double e[3] = {0.7, 0.301, -0.10061};
  three_steps_1d(r, e);
  CHECK_NEAR(ms_rule_state(r, 0)[0], -0.301, 1e-12);
  CHECK_NEAR(ms_rule_state(r, 1)[0], -1.741, 1e-12);
  CHECK_NEAR(ms_rule_state(r, 2)[0], -1.9741, 1e-12);
  ms_rule_free(r);
}

/* ----------------------------------------------------- adaptive methods */

/* eps = 1e-20 is far below |g| here, so it does not show at 1e-12. */
static void test_adam(void) {
  ms_rule *r = make("adam");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  /* t = 1: g = 1, m = 0.1, v = 0.001, bias corrections 0.1 and 0.001:
   *   x1 = 1 - 0.1 (0.1 / 0.1) / sqrt(0.001 / 0.001) = 0.9
   * t = 2: g = 0.9, m = 0.09 + 0.09 = 0.18, v = 0.000999 + 0.00081
   *   = 0.001809, corrections 1 - 0.81 = 0.19 and 1 - 0.998001 = 0.001999
   * t = 3: g = x2, m = 0.162 + 0.1 x2, v = 0.999 * 0.001809 + 0.001 x2^2,
   *   corrections 1 - 0.729 = 0.271 and 1 - 0.999^3 = 0.002997001 */
  double x2 = 0.9 - 0.1 * (0.18 / 0.19) / sqrt(0.001809 / 0.001999);
  double m3 = 0.162 + 0.1 * x2, v3 = 0.999 * 0.001809 + 0.001 * x2 * x2;
  double x3 = x2 - 0.1 * (m3 / 0.271) / sqrt(v3 / 0.002997001);
  const double e[3] = {0.9, x2, x3};
  three_steps_1d(r, e);
  CHECK_NEAR(ms_rule_state(r, 0)[0], m3, 1e-12);
  CHECK_NEAR(ms_rule_state(r, 1)[0], v3, 1e-12);
  CHECK(ms_rule_state(r, 2)[0] == 0);      /* amsgrad is off */
  ms_rule_free(r);
}

/* The first step is lr sign(g): m / sqrt(v) is g / |g| after the bias
 * corrections.  With eps = 1 it is lr g / (|g| + 1). */
static void test_adam_first_step(void) {
  static const double lambda[2] = {0.2, 4};
  ms_rule *r = make("adam");
  CHECK_OK(ms_rule_set(r, "lr", 0.01));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  double x[2] = {-5, -2};
  step_quadratic(r, x, lambda, 2);          /* g = (-1, -8) */
  CHECK_NEAR(x[0], -5 + 0.01, 1e-12);
  CHECK_NEAR(x[1], -2 + 0.01, 1e-12);
  CHECK_OK(ms_rule_set(r, "eps", 1));
  CHECK_OK(ms_rule_reset(r, 2));
  x[0] = -5, x[1] = -2;
  step_quadratic(r, x, lambda, 2);
  CHECK_NEAR(x[0], -5 + 0.01 * 1 / 2, 1e-12);
  CHECK_NEAR(x[1], -2 + 0.01 * 8 / 9, 1e-12);
  ms_rule_free(r);
}

/* AMSGrad divides by the largest second moment so far.  beta1 = 0 makes
 * m = g; beta2 = 0.5; gradients 2, 1, 1 from x = 0:
 *   v = 2, 1.5, 1.25 and max v = 2, 2, 2; corrections 0.5, 0.75, 0.875
 *   x1 = -0.1 * 2 / sqrt(2 / 0.5) = -0.1
 *   x2 = x1 - 0.1 / sqrt(2 / 0.75),  x3 = x2 - 0.1 / sqrt(2 / 0.875) */
static void test_adam_amsgrad(void) {
  ms_rule *r = make("adam");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "beta1", 0));
  CHECK_OK(ms_rule_set(r, "beta2", 0.5));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  CHECK_OK(ms_rule_set(r, "amsgrad", 1));
  const double g[3] = {2, 1, 1};
  double x = 0, e = 0;
  const double denom[3] = {2, sqrt(2 / 0.75), sqrt(2 / 0.875)};
  for (int t = 0; t < 3; t++) {
    CHECK_OK(ms_rule_step(r, &x, &g[t], 1));
    e -= 0.1 * g[t] / denom[t];
    CHECK_NEAR(x, e, 1e-12);
  }
  CHECK_EQ(ms_rule_state(r, 0)[0], 1);
  CHECK_EQ(ms_rule_state(r, 1)[0], 1.25);
  CHECK_EQ(ms_rule_state(r, 2)[0], 2);
  ms_rule_free(r);
}

static void test_adamw(void) {
  ms_rule *r = make("adamw");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  CHECK_OK(ms_rule_set(r, "weight_decay", 0.5));   /* x <- 0.95 x first */
  /* t = 1: g = 1, 0.95 - 0.1 = 0.85
   * t = 2: g = 0.85, m = 0.09 + 0.085 = 0.175, v = 0.000999 + 0.0007225
   *   = 0.0017215, corrections 0.19 and 0.001999
   * t = 3: g = x2, m = 0.1575 + 0.1 x2, v = 0.999 * 0.0017215 + 0.001 x2^2,
   *   corrections 0.271 and 0.002997001 */
  double x2 = 0.95 * 0.85 - 0.1 * (0.175 / 0.19) / sqrt(0.0017215 / 0.001999);
  double m3 = 0.1575 + 0.1 * x2, v3 = 0.999 * 0.0017215 + 0.001 * x2 * x2;
  double x3 = 0.95 * x2 - 0.1 * (m3 / 0.271) / sqrt(v3 / 0.002997001);
  const double e[3] = {0.85, x2, x3};
  three_steps_1d(r, e);
  ms_rule_free(r);
}

/* AdamW without weight decay is Adam, bit for bit, with and without
 * AMSGrad. */
static void test_adamw_equals_adam(void) {
  const double lambda[3] = {0.3, 2, 7.5};
  for (int ams = 0; ams <= 1; ams++) {
    ms_rule *a = make("adam"), *b = make("adamw");
    CHECK_OK(ms_rule_set(a, "lr", 0.05));
    CHECK_OK(ms_rule_set(a, "amsgrad", ams));
    CHECK_OK(ms_rule_set(b, "lr", 0.05));
    CHECK_OK(ms_rule_set(b, "amsgrad", ams));
    CHECK_OK(ms_rule_set(b, "weight_decay", 0));
    double xa[3] = {1, -2, 3}, xb[3] = {1, -2, 3};
    int same = 1;
    for (int t = 0; t < 200; t++) {
      step_quadratic(a, xa, lambda, 3);
      step_quadratic(b, xb, lambda, 3);
      same = same && memcmp(xa, xb, sizeof xa) == 0;
    }
    CHECK(same);
    ms_rule_free(a);
    ms_rule_free(b);
  }
}

/* The first step is lr g / sqrt(0.5 g^2) = sqrt(2) lr sign(g). */
static void test_rmsprop(void) {
  ms_rule *r = make("rmsprop");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "alpha", 0.5));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  /* s1 = 0.5, x1 = 1 - 0.1 / sqrt(0.5);
   * s2 = 0.25 + 0.5 x1^2, x2 = x1 - 0.1 x1 / sqrt(s2);
   * s3 = 0.5 s2 + 0.5 x2^2, x3 = x2 - 0.1 x2 / sqrt(s3) */
  double x1 = 1 - 0.1 / sqrt(0.5), s2 = 0.25 + 0.5 * x1 * x1;
  double x2 = x1 - 0.1 * x1 / sqrt(s2), s3 = 0.5 * s2 + 0.5 * x2 * x2;
  const double e[3] = {x1, x2, x2 - 0.1 * x2 / sqrt(s3)};
  three_steps_1d(r, e);
  CHECK_NEAR(ms_rule_state(r, 0)[0], s3, 1e-12);
  ms_rule_free(r);
}

static void test_rmsprop_centered_momentum(void) {
  ms_rule *r = make("rmsprop");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "alpha", 0.5));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  CHECK_OK(ms_rule_set(r, "momentum", 0.5));
  CHECK_OK(ms_rule_set(r, "centered", 1));
  /* t = 1: s = 0.5, a = 0.5, sqrt(s - a^2) = 0.5, b = 1 / 0.5 = 2,
   *   x1 = 1 - 0.2 = 0.8
   * t = 2: g = 0.8, s = 0.25 + 0.32 = 0.57, a = 0.25 + 0.4 = 0.65,
   *   s - a^2 = 0.1475, b = 1 + 0.8 / sqrt(0.1475), x2 = 0.8 - 0.1 b
   * t = 3: g = x2, s = 0.285 + 0.5 x2^2, a = 0.325 + 0.5 x2,
   *   b = 0.5 b2 + x2 / sqrt(s - a^2), x3 = x2 - 0.1 b */
  double b2 = 1 + 0.8 / sqrt(0.1475), x2 = 0.8 - 0.1 * b2;
  double s3 = 0.285 + 0.5 * x2 * x2, a3 = 0.325 + 0.5 * x2;
  double b3 = 0.5 * b2 + x2 / sqrt(s3 - a3 * a3);
  const double e[3] = {0.8, x2, x2 - 0.1 * b3};
  three_steps_1d(r, e);
  CHECK_NEAR(ms_rule_state(r, 1)[0], b3, 1e-12);
  CHECK_NEAR(ms_rule_state(r, 2)[0], a3, 1e-12);
  ms_rule_free(r);
}

static void test_adagrad(void) {
  ms_rule *r = make("adagrad");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  /* t = 1: g = (-1, -8), sum = (1, 64), x1 = x0 + 0.1 = (-4.9, -1.9)
   * t = 2: g = (-0.98, -7.6), sum = (1.9604, 121.76),
   *   x2 = x1 - 0.1 g / sqrt(sum)
   * t = 3: g = (0.2, 4) x2, sum += g^2, x3 = x2 - 0.1 g / sqrt(sum) */
  double e[3][2] = {{-4.9, -1.9},
                    {-4.9 + 0.098 / sqrt(1.9604), -1.9 + 0.76 / sqrt(121.76)}};
  double g3[2] = {0.2 * e[1][0], 4 * e[1][1]};
  double s3[2] = {1.9604 + g3[0] * g3[0], 121.76 + g3[1] * g3[1]};
  for (int i = 0; i < 2; i++) e[2][i] = e[1][i] - 0.1 * g3[i] / sqrt(s3[i]);
  three_steps_2d(r, (const double(*)[2])e);
  CHECK_NEAR(ms_rule_state(r, 0)[1], s3[1], 1e-12);
  ms_rule_free(r);
}

/* The accumulator starts at initial_accumulator_value, after every reset;
 * lr decays as lr / (1 + (t - 1) lr_decay). */
static void test_adagrad_initial_value(void) {
  ms_rule *r = make("adagrad");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "eps", 1e-20));
  CHECK_OK(ms_rule_set(r, "initial_accumulator_value", 3));
  CHECK_OK(ms_rule_set(r, "lr_decay", 0.5));
  /* t = 1: sum = 3 + 1 = 4, x1 = 1 - 0.1 * 1 / 2 = 0.95
   * t = 2: lr 0.1 / 1.5, sum = 4 + 0.9025, x2 = 0.95 - (0.1/1.5) 0.95 / sqrt(sum)
   * t = 3: lr 0.1 / 2, sum = 4.9025 + x2^2, x3 = x2 - 0.05 x2 / sqrt(sum) */
  double x2 = 0.95 - 0.1 / 1.5 * 0.95 / sqrt(4.9025);
  const double e[3] = {0.95, x2, x2 - 0.05 * x2 / sqrt(4.9025 + x2 * x2)};
  for (int run = 0; run < 2; run++) {
    CHECK_OK(ms_rule_reset(r, 1));
    three_steps_1d(r, e);
    CHECK_NEAR(ms_rule_state(r, 0)[0], 4.9025 + x2 * x2, 1e-12);
  }
  ms_rule_free(r);
}

/* maximize negates the gradient before the L2 term: rule{maximize,
 * weight_decay = w} fed g is rule{} fed -g + w x, bit for bit. */
static void test_maximize_and_weight_decay(void) {
  static const char *const names[] = {"adam", "rmsprop", "adagrad"};
  const double lambda[2] = {0.2, 4};
  for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
    ms_rule *a = make(names[k]), *b = make(names[k]);
    CHECK_OK(ms_rule_set(a, "maximize", 1));
    CHECK_OK(ms_rule_set(a, "weight_decay", 0.3));
    double xa[2] = {-5, -2}, xb[2] = {-5, -2};
    int same = 1;
    for (int t = 0; t < 50; t++) {
      double ga[2], gb[2];
      for (int i = 0; i < 2; i++) {
        ga[i] = -lambda[i] * xa[i];     /* ascend -f: minimise f */
        gb[i] = -ga[i] + 0.3 * xb[i];
      }
      CHECK_OK(ms_rule_step(a, xa, ga, 2));
      CHECK_OK(ms_rule_step(b, xb, gb, 2));
      same = same && memcmp(xa, xb, sizeof xa) == 0;
    }
    CHECK(same);
    CHECK(fabs(xa[0]) < 5 && fabs(xa[1]) < 2);   /* went downhill in f */
    ms_rule_free(a);
    ms_rule_free(b);
  }
}

/* ------------------------------------------------- hyper-parameters */

/* PyTorch's defaults; NaN: required. */
static void test_defaults(void) {
  static const struct { const char *rule, *hyper; double def; } d[] = {
      {"nag", "lr", NAN}, {"nag", "momentum", 0.9},
      {"nesterov", "lr", NAN}, {"nesterov", "momentum", 0.9},
      {"qhm", "lr", NAN}, {"qhm", "beta", 0.999}, {"qhm", "nu", 0.7},
      {"aggmo", "lr", NAN}, {"aggmo", "beta1", 0}, {"aggmo", "beta2", 0.9},
      {"aggmo", "beta3", 0.99},
      {"adam", "lr", 1e-3}, {"adam", "beta1", 0.9}, {"adam", "beta2", 0.999},
      {"adam", "eps", 1e-8}, {"adam", "weight_decay", 0},
      {"adam", "amsgrad", 0}, {"adam", "maximize", 0},
      {"adamw", "lr", 1e-3}, {"adamw", "weight_decay", 1e-2},
      {"rmsprop", "lr", 1e-2}, {"rmsprop", "alpha", 0.99},
      {"rmsprop", "eps", 1e-8}, {"rmsprop", "momentum", 0},
      {"rmsprop", "centered", 0}, {"rmsprop", "weight_decay", 0},
      {"adagrad", "lr", 1e-2}, {"adagrad", "lr_decay", 0},
      {"adagrad", "initial_accumulator_value", 0}, {"adagrad", "eps", 1e-10},
  };
  for (size_t k = 0; k < sizeof d / sizeof d[0]; k++) {
    ms_rule *r = make(d[k].rule);
    double v = ms_rule_get(r, ms_rule_hyper_index(r, d[k].hyper));
    CHECK(isnan(d[k].def) ? isnan(v) : v == d[k].def);
    ms_rule_free(r);
  }
  /* A rule runs as constructed unless it has no default lr. */
  for (int k = 0; k < NRULES; k++) {
    ms_rule *r = make(new_rules[k]);
    if (isnan(ms_rule_get(r, ms_rule_hyper_index(r, "lr")))) {
      CHECK_STATUS(ms_rule_check(r), MS_EINVAL);
      CHECK_ERROR_HAS("lr is required");
    } else {
      CHECK_OK(ms_rule_check(r));
    }
    ms_rule_free(r);
  }
  /* adamw hands its hyper-parameters to adam's step as they are. */
  const ms_rule_class *a = ms_rule_class_find("adam");
  const ms_rule_class *w = ms_rule_class_find("adamw");
  CHECK(a->nhyper == w->nhyper);
  for (int i = 0; i < a->nhyper && i < w->nhyper; i++)
    CHECK(strcmp(a->hyper[i].name, w->hyper[i].name) == 0);
}

static void test_ranges(void) {
  static const struct { const char *rule, *hyper; double v; int ok; } c[] = {
      {"nag", "momentum", 1, 0}, {"nag", "momentum", 0, 1},
      {"nag", "lr", -1e-9, 0},
      {"nesterov", "momentum", 0, 0}, {"nesterov", "momentum", 1, 0},
      {"nesterov", "momentum", 1e-9, 1},
      {"qhm", "nu", 1, 1}, {"qhm", "nu", 0, 1}, {"qhm", "nu", 1.01, 0},
      {"qhm", "nu", -0.1, 0}, {"qhm", "beta", 1, 0}, {"qhm", "beta", 0, 1},
      {"aggmo", "beta1", 1, 0}, {"aggmo", "beta2", -0.1, 0},
      {"aggmo", "beta3", 0.999, 1},
      {"adam", "beta1", 1, 0}, {"adam", "beta2", 1, 0},
      {"adam", "beta1", 0, 1}, {"adam", "eps", 0, 0}, {"adam", "eps", -1, 0},
      {"adam", "weight_decay", -0.1, 0}, {"adam", "amsgrad", 0.5, 0},
      {"adam", "maximize", 2, 0}, {"adam", "lr", INFINITY, 0},
      {"adamw", "weight_decay", -0.1, 0}, {"adamw", "eps", 0, 0},
      {"rmsprop", "alpha", 1, 0}, {"rmsprop", "alpha", 0, 1},
      {"rmsprop", "momentum", 1, 0}, {"rmsprop", "eps", 0, 0},
      {"rmsprop", "centered", 0.5, 0},
      {"adagrad", "lr_decay", -1, 0}, {"adagrad", "eps", 0, 0},
      {"adagrad", "initial_accumulator_value", -1, 0},
      {"adagrad", "initial_accumulator_value", 0.1, 1},
  };
  for (size_t k = 0; k < sizeof c / sizeof c[0]; k++) {
    ms_rule *r = make(c[k].rule);
    CHECK_STATUS(ms_rule_set(r, c[k].hyper, c[k].v), c[k].ok ? MS_OK : MS_EINVAL);
    if (!c[k].ok) CHECK_ERROR_HAS(c[k].hyper);
    ms_rule_free(r);
  }
  /* Every hyper-parameter of every new rule refuses NaN. */
  for (int k = 0; k < NRULES; k++) {
    ms_rule *r = make(new_rules[k]);
    const ms_rule_class *cls = ms_rule_class_of(r);
    for (int i = 0; i < cls->nhyper; i++)
      CHECK_STATUS(ms_rule_set(r, cls->hyper[i].name, NAN), MS_EINVAL);
    ms_rule_free(r);
  }
}

/* A reset rule repeats its first three steps exactly (and every rule
 * makes progress on the 2-D problem with lr = 0.05). */
static void test_reset_repeats(void) {
  static const double lambda[2] = {0.2, 4};
  for (int k = 0; k < NRULES; k++) {
    ms_rule *r = make(new_rules[k]);
    CHECK_OK(ms_rule_set(r, "lr", 0.05));
    double first[3][2], again[3][2];
    double x[2] = {-5, -2};
    for (int t = 0; t < 3; t++) {
      step_quadratic(r, x, lambda, 2);
      memcpy(first[t], x, sizeof x);
    }
    CHECK_OK(ms_rule_reset(r, 2));
    CHECK(ms_rule_steps(r) == 0);
    x[0] = -5, x[1] = -2;
    for (int t = 0; t < 3; t++) {
      step_quadratic(r, x, lambda, 2);
      memcpy(again[t], x, sizeof x);
    }
    if (memcmp(first, again, sizeof first) != 0)
      fprintf(stderr, "%s: reset does not restart\n", new_rules[k]);
    CHECK(memcmp(first, again, sizeof first) == 0);
    CHECK(x[0] > -5 && fabs(x[1]) < 2);   /* every rule descends here */
    ms_rule_free(r);
  }
}

int main(void) {
  test_nag();
  test_nag_trace_is_lookahead();
  test_nag_lookahead_is_nesterov();
  test_nesterov();
  test_nesterov_equals_sgd();
  test_qhm();
  test_qhm_limits();
  test_aggmo();
  test_adam();
  test_adam_first_step();
  test_adam_amsgrad();
  test_adamw();
  test_adamw_equals_adam();
  test_rmsprop();
  test_rmsprop_centered_momentum();
  test_adagrad();
  test_adagrad_initial_value();
  test_maximize_and_weight_decay();
  test_defaults();
  test_ranges();
  test_reset_repeats();
  return check_report("test_rules_more");
}
