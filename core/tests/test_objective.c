/* test_objective.c -- built-in objectives and finite differences. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "momsandbox.h"

static void test_quadratic(void) {
  ms_objective *f;
  double lambda[2] = {0.2, 4}, x[2] = {-5, -2}, g[2], v;
  CHECK_OK(ms_objective_quadratic(lambda, 2, &f));
  CHECK_OK(ms_objective_eval(f, x, &v, g));
  CHECK_EQ(v, 0.1 * 25 + 2 * 4);          /* 0.1 x1^2 + 2 x2^2 */
  CHECK_EQ(g[0], 0.2 * -5); CHECK_EQ(g[1], 4 * -2);
  CHECK(ms_objective_dim(f) == 2);
  CHECK(strcmp(ms_objective_name(f), "quadratic") == 0);
  ms_objective_free(f);

  double bad[2] = {1, NAN};
  CHECK_STATUS(ms_objective_quadratic(bad, 2, &f), MS_EINVAL);
  CHECK(f == NULL);
  CHECK_ERROR_HAS("lambda[2]");
  CHECK_STATUS(ms_objective_quadratic(lambda, 0, &f), MS_EINVAL);
}

/* h(x) = 1/2 x'Qx + c'x + b with Q = [[2, 1], [1, 3]], c = (1, -1), b = 5:
 * the minimiser solves Qx = -c, x* = (-0.8, 0.6), h(x*) = b + (c'x*) / 2. */
static void test_quadratic_form(void) {
  double Q[4] = {2, 1, 1, 3}, c[2] = {1, -1}, x[2] = {-0.8, 0.6}, g[2], v;
  ms_objective *h;
  CHECK_OK(ms_objective_quadratic_form(Q, c, 5, 2, &h));
  CHECK_OK(ms_objective_eval(h, x, &v, g));
  CHECK_NEAR(g[0], 0, 1e-15); CHECK_NEAR(g[1], 0, 1e-15);
  CHECK_NEAR(v, 5 + 0.5 * (1 * -0.8 + -1 * 0.6), 1e-15);
  double y[2] = {1, 0};
  CHECK_OK(ms_objective_eval(h, y, &v, g));
  CHECK_EQ(v, 0.5 * 2 + 1 + 5);
  CHECK_EQ(g[0], 2 + 1); CHECK_EQ(g[1], 1 - 1);
  ms_objective_free(h);

  double asym[4] = {2, 1, 0, 3};
  CHECK_STATUS(ms_objective_quadratic_form(asym, c, 0, 2, &h), MS_EINVAL);
  CHECK_ERROR_HAS("not symmetric");
  CHECK_OK(ms_objective_quadratic_form(Q, NULL, 0, 2, &h));   /* c = 0 */
  CHECK_OK(ms_objective_eval(h, x, &v, NULL));
  CHECK_NEAR(v, 0.5 * (2 * 0.64 - 2 * 0.48 + 3 * 0.36), 1e-15);
  ms_objective_free(h);
}

/* A user objective without gradient: the engine differentiates it. */
static ms_status cubic(void *ctx, const double *x, size_t n, double *f,
                       double *grad) {
  (void)ctx, (void)n, (void)grad;
  *f = x[0] * x[0] * x[0] + 3 * x[0] * x[1] + exp(x[1]);
  return MS_OK;
}

static int freed;
static void count_free(void *ctx) { (void)ctx, freed++; }

static void test_numgrad(void) {
  ms_objective *f;
  CHECK_OK(ms_objective_new(2, cubic, 0, NULL, count_free, &f));
  double x[2] = {1.5, -0.5}, g[2], v;
  CHECK_OK(ms_objective_eval(f, x, &v, g));
  CHECK_NEAR(g[0], 3 * 2.25 + 3 * -0.5, 1e-9);
  CHECK_NEAR(g[1], 3 * 1.5 + exp(-0.5), 1e-9);
  ms_objective_free(f);
  CHECK(freed == 1);

  double Q[4] = {2, 1, 1, 3}, c[2] = {1, -1}, y[2] = {123.5, -7.25}, a[2];
  CHECK_OK(ms_objective_quadratic_form(Q, c, 0, 2, &f));
  CHECK_OK(ms_objective_eval(f, y, NULL, a));
  CHECK_OK(ms_objective_numgrad(f, y, g));
  CHECK_NEAR(g[0] / a[0], 1, 1e-9); CHECK_NEAR(g[1] / a[1], 1, 1e-9);
  ms_objective_free(f);
  ms_objective_free(NULL);
}

/* ms_objective_builtin makes what the function it names makes. */
static void same_objective(ms_objective *a, ms_objective *b) {
  size_t n = ms_objective_dim(a);
  CHECK(n == ms_objective_dim(b) && n <= 3);
  double x[3] = {0.3, -1.2, 0.7}, ga[3], gb[3], fa, fb;
  CHECK_OK(ms_objective_eval(a, x, &fa, ga));
  CHECK_OK(ms_objective_eval(b, x, &fb, gb));
  CHECK_EQ(fa, fb);
  for (size_t i = 0; i < n; i++) CHECK_EQ(ga[i], gb[i]);
  CHECK(strcmp(ms_objective_name(a), ms_objective_name(b)) == 0);
  ms_objective_free(a);
  ms_objective_free(b);
}

static void test_builtin(void) {
  ms_objective *a, *b;
  const double form[] = {2, 2, 1, 1, 3, 0.5, -1, 4};   /* n, Q, c, b */
  CHECK_OK(ms_objective_builtin("quadratic_form", form, 8, &a));
  CHECK_OK(ms_objective_quadratic_form(form + 1, form + 5, 4, 2, &b));
  same_objective(a, b);
  CHECK_OK(ms_objective_builtin("quadratic_form", form, 6, &a));   /* no c */
  CHECK_OK(ms_objective_quadratic_form(form + 1, NULL, 0.5, 2, &b));
  same_objective(a, b);
  const double rosen[] = {1, 100, 3}, rot[] = {10, 3, 0.5, 7};
  CHECK_OK(ms_objective_builtin("rosenbrock", rosen, 3, &a));
  CHECK_OK(ms_objective_rosenbrock(1, 100, 3, &b));
  same_objective(a, b);
  CHECK_OK(ms_objective_builtin("rotated_quadratic", rot, 4, &a));
  CHECK_OK(ms_objective_rotated_quadratic(10, 3, 0.5, 7, &b));
  same_objective(a, b);
  CHECK_OK(ms_objective_builtin("quadratic", rosen, 2, &a));
  CHECK_OK(ms_objective_quadratic(rosen, 2, &b));
  same_objective(a, b);
  CHECK_OK(ms_objective_builtin("himmelblau", NULL, 0, &a));
  CHECK_OK(ms_objective_himmelblau(&b));
  same_objective(a, b);

  const double half[] = {1, 100, 2.5}, big[] = {1e300, 1};
  CHECK_STATUS(ms_objective_builtin("rosenbrock", half, 3, &a), MS_EINVAL);
  CHECK(a == NULL);
  CHECK_STATUS(ms_objective_builtin("rosenbrock", rosen, 2, &a), MS_EINVAL);
  CHECK_STATUS(ms_objective_builtin("quadratic_form", form, 7, &a), MS_EINVAL);
  CHECK_STATUS(ms_objective_builtin("quadratic_form", big, 2, &a), MS_EINVAL);
  CHECK_STATUS(ms_objective_builtin("nope", NULL, 0, &a), MS_EINVAL);
}

int main(void) {
  test_quadratic();
  test_quadratic_form();
  test_numgrad();
  test_builtin();
  return check_report("test_objective");
}
