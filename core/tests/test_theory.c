/* test_theory.c -- the theory of any linear rule: eigenvalues of general
 * real matrices against closed forms, iteration matrices probed from the
 * built-in rules' steps against the matrices worked out by hand from
 * their equations, radii against heavy ball's closed form, non-linear
 * rules refused, and the region map. */
#include <stdlib.h>

#include "check.h"
#include "momsandbox.h"

static ms_rule *rule_of(const char *name, const char *const *keys,
                        const double *values, int n) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find(name), &r));
  for (int i = 0; i < n; i++) CHECK_OK(ms_rule_set(r, keys[i], values[i]));
  return r;
}

/* Is a + bi among the n eigenvalues (re, im) to tol? */
static int has(const double *re, const double *im, int n, double a, double b,
               double tol) {
  for (int k = 0; k < n; k++)
    if (fabs(re[k] - a) <= tol && fabs(im[k] - b) <= tol) return 1;
  return 0;
}

static void test_eigenvalues(void) {
  double re[4], im[4];
  /* a rotation by 0.3 scaled by 0.9: 0.9 e^(+-0.3i) */
  double c = 0.9 * cos(0.3), s = 0.9 * sin(0.3);
  double rot[4] = {c, -s, s, c};
  CHECK_OK(ms_matrix_eigenvalues(rot, 2, re, im));
  CHECK_NEAR(re[0], c, 1e-15);
  CHECK_NEAR(im[0], s, 1e-15);
  CHECK_NEAR(im[1], -s, 1e-15);
  /* triangular: the diagonal, the larger modulus first */
  double tri[9] = {0.5, 7, -3, 0, -2, 1e3, 0, 0, 1.5};
  CHECK_OK(ms_matrix_eigenvalues(tri, 3, re, im));
  CHECK_NEAR(re[0], -2, 1e-12);
  CHECK_NEAR(re[1], 1.5, 1e-12);
  CHECK_NEAR(re[2], 0.5, 1e-12);
  CHECK(im[0] == 0 && im[1] == 0 && im[2] == 0);
  /* the companion matrix of (z - 0.5)(z + 0.25)(z^2 - z + 0.5), roots
   * 0.5, -0.25, 0.5 +- 0.5i: (z^2 - 0.25 z - 0.125)(z^2 - z + 0.5) =
   * z^4 - 1.25 z^3 + 0.625 z^2 + 0 z - 0.0625 */
  double comp[16] = {1.25, -0.625, 0, 0.0625, 1, 0, 0, 0,
                     0,    1,      0, 0,      0, 0, 1, 0};
  CHECK_OK(ms_matrix_eigenvalues(comp, 4, re, im));
  CHECK(has(re, im, 4, 0.5, 0, 1e-12));
  CHECK(has(re, im, 4, -0.25, 0, 1e-12));
  CHECK(has(re, im, 4, 0.5, 0.5, 1e-12));
  CHECK(has(re, im, 4, 0.5, -0.5, 1e-12));
  CHECK_NEAR(hypot(re[0], im[0]), sqrt(0.5), 1e-12);
  /* scale: entries far apart in size */
  double wide[4] = {1e150, 1e-150, 1e150, 2e-150};   /* det 1, trace 1e150 */
  CHECK_OK(ms_matrix_eigenvalues(wide, 2, re, im));
  CHECK_NEAR(re[0] / 1e150, 1, 1e-15);
  double nan_m[1] = {NAN};
  CHECK_STATUS(ms_matrix_eigenvalues(nan_m, 1, re, im), MS_EINVAL);
  CHECK_ERROR_HAS("entry (1, 1) is not finite");
  CHECK_STATUS(ms_matrix_eigenvalues(rot, 0, re, im), MS_EINVAL);
}

/* The matrices of the rules' equations, on (x, state...), lambda = l. */
static void test_matrices(void) {
  double M[16], l = 0.7, lr = 0.3, b = 0.6;
  const char *lb[] = {"lr", "beta"}, *lm[] = {"lr", "momentum"};
  double v[] = {lr, b};
  ms_rule *r = rule_of("gd", lb, v, 1);
  CHECK_OK(ms_rule_matrix(r, l, 2, M));
  CHECK_EQ(M[0], 1 - lr * l);
  ms_rule_free(r);
  /* momentum: v' = b v + l x; x' = x - lr v' */
  r = rule_of("momentum", lb, v, 2);
  CHECK_OK(ms_rule_matrix(r, l, 2, M));
  CHECK_NEAR(M[0], 1 - lr * l, 1e-16);
  CHECK_NEAR(M[1], -lr * b, 1e-16);
  CHECK_EQ(M[2], l);
  CHECK_EQ(M[3], b);
  ms_rule_free(r);
  /* nag: y = x + m v; v' = m v - lr l y; x' = x + v' */
  r = rule_of("nag", lm, v, 2);
  CHECK_OK(ms_rule_matrix(r, l, 5, M));
  CHECK_NEAR(M[0], 1 - lr * l, 1e-16);
  CHECK_NEAR(M[1], b - lr * l * b, 1e-16);
  CHECK_NEAR(M[2], -lr * l, 1e-16);
  CHECK_NEAR(M[3], b - lr * l * b, 1e-16);
  ms_rule_free(r);
  /* nesterov at t = 1: the buffer starts as g, its column is zero */
  r = rule_of("nesterov", lm, v, 2);
  CHECK_OK(ms_rule_matrix(r, l, 1, M));
  CHECK_NEAR(M[0], 1 - lr * l * (1 + b), 1e-15);
  CHECK_EQ(M[1], 0);
  CHECK_EQ(M[2], l);
  CHECK_EQ(M[3], 0);
  /* and later: b' = m b + l x; x' = x - lr (l x + m b') */
  CHECK_OK(ms_rule_matrix(r, l, 2, M));
  CHECK_NEAR(M[0], 1 - lr * l * (1 + b), 1e-15);
  CHECK_NEAR(M[1], -lr * b * b, 1e-16);
  CHECK_EQ(M[2], l);
  CHECK_EQ(M[3], b);
  ms_rule_free(r);
}

/* Heavy ball's closed form and the probed matrix agree; so does sgd
 * with momentum, and aggmo with three equal betas. */
static void test_radius(void) {
  const char *lb[] = {"lr", "beta"}, *lm[] = {"lr", "momentum"},
             *la[] = {"lr", "beta1", "beta2", "beta3"};
  double worst = 0;
  for (int i = 0; i < 2000; i++) {
    double beta = (i * 0.6180339887498949) - floor(i * 0.6180339887498949);
    double eta = 0.01 + 3 * ((i * 0.7548776662) - floor(i * 0.7548776662));
    double lambda = 0.05 + ((i * 0.5698402910) - floor(i * 0.5698402910));
    double rho, r1, r2, r3, v[] = {eta, beta}, a[] = {eta, beta, beta, beta};
    CHECK_OK(ms_momentum_radius(beta, eta, lambda, &rho));
    ms_rule *hb = rule_of("momentum", lb, v, 2), *sgd = rule_of("sgd", lm, v, 2),
            *agg = rule_of("aggmo", la, a, 4);
    CHECK_OK(ms_rule_radius(hb, &lambda, 1, 2, &r1));
    CHECK_OK(ms_rule_radius(sgd, &lambda, 1, 2, &r2));
    CHECK_OK(ms_rule_radius(agg, &lambda, 1, 2, &r3));
    worst = fmax(worst, fmax(fabs(r1 - rho), fmax(fabs(r2 - rho), fabs(r3 - rho))));
    ms_rule_free(hb);
    ms_rule_free(sgd);
    ms_rule_free(agg);
  }
  CHECK_NEAR(worst, 0, 1e-12);
  /* the largest over several lambda */
  const char *lr[] = {"lr"};
  double eta = 0.5, lams[] = {0.1, 3, 1}, rho;
  ms_rule *gd = rule_of("gd", lr, &eta, 1);
  CHECK_OK(ms_rule_radius(gd, lams, 3, 2, &rho));
  CHECK_NEAR(rho, 0.95, 1e-15);
  CHECK_STATUS(ms_rule_radius(gd, lams, 0, 2, &rho), MS_EINVAL);
  double bad = NAN;
  CHECK_STATUS(ms_rule_radius(gd, &bad, 1, 2, &rho), MS_EINVAL);
  CHECK_ERROR_HAS("lambda must be a finite number, got nan");
  CHECK_STATUS(ms_rule_matrix(gd, 1, 0, &rho), MS_EINVAL);
  CHECK_ERROR_HAS("t must be >= 1");
  ms_rule_free(gd);
}

static void test_not_linear(void) {
  const char *names[] = {"adam", "adamw", "rmsprop", "adagrad"};
  const char *lr[] = {"lr"};
  double v = 0.1, M[16];
  for (int i = 0; i < 4; i++) {
    ms_rule *r = rule_of(names[i], lr, &v, 1);
    CHECK_STATUS(ms_rule_matrix(r, 2, 3, M), MS_EINVAL);
    CHECK_ERROR_HAS(names[i]);
    CHECK_ERROR_HAS("is not linear");
    ms_rule_free(r);
  }
}

static void test_region(void) {
  const char *lr[] = {"lr"};
  double eta = 0.1, lam = 1, xs[] = {0.5, 1.5, 2.5}, ys[] = {0, 0.5}, out[6];
  ms_rule *r = rule_of("momentum", lr, &eta, 1);
  CHECK_OK(ms_rule_region(r, &lam, 1, 2, "lr", xs, 3, "beta", ys, 2, out));
  for (int i = 0; i < 2; i++)
    for (int j = 0; j < 3; j++) {
      double rho;
      CHECK_OK(ms_momentum_radius(ys[i], xs[j], lam, &rho));
      CHECK_NEAR(out[i * 3 + j], rho, 1e-14);
    }
  CHECK_STATUS(ms_rule_region(r, &lam, 1, 2, "lr", xs, 3, "nu", ys, 2, out), MS_EINVAL);
  CHECK_ERROR_HAS("momentum has no hyper-parameter 'nu'");
  double neg[] = {-1};
  CHECK_STATUS(ms_rule_region(r, &lam, 1, 2, "lr", neg, 1, "beta", ys, 1, out), MS_EINVAL);
  CHECK_ERROR_HAS("at lr = -1, beta = 0: lr must be in");
  ms_rule_free(r);
}

int main(void) {
  test_eigenvalues();
  test_matrices();
  test_radius();
  test_not_linear();
  test_region();
  return check_report("test_theory");
}
