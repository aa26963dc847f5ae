/* test_vec.c -- vector operations against values computed by hand. */
#include "check.h"
#include "momsandbox.h"

static void test_blas1(void) {
  double x[3] = {1, -2, 3}, y[3] = {4, 5, -6};
  CHECK_EQ(ms_vec_dot(x, y, 3), 4 - 10 - 18);
  CHECK_EQ(ms_vec_sum(x, 3), 2);
  CHECK_EQ(ms_vec_max(x, 3), 3);
  CHECK_EQ(ms_vec_min(y, 3), -6);
  CHECK_NEAR(ms_vec_norm(x, 3), sqrt(14.0), 1e-15);
  ms_vec_axpy(y, 2, x, 3);              /* y = (6, 1, 0) */
  CHECK_EQ(y[0], 6); CHECK_EQ(y[1], 1); CHECK_EQ(y[2], 0);
  ms_vec_axpby(y, 1, x, -1, 3);         /* y = x - y = (-5, -3, 3) */
  CHECK_EQ(y[0], -5); CHECK_EQ(y[1], -3); CHECK_EQ(y[2], 3);
  ms_vec_scale(y, 0.5, 3);
  CHECK_EQ(y[0], -2.5);
  ms_vec_copy(y, x, 3);
  CHECK_EQ(y[2], 3);
  ms_vec_fill(y, 7, 3);
  CHECK_EQ(y[1], 7);
}

static void test_elementwise(void) {
  double y[4] = {4, -9, 0, 2}, u[4] = {1, 2, 3, 4}, v[4] = {2, 2, 2, 2};
  ms_vec_addcmul(y, 0.5, u, v, 4);      /* y += 0.5 u v = (5, -7, 3, 6) */
  CHECK_EQ(y[0], 5); CHECK_EQ(y[1], -7); CHECK_EQ(y[3], 6);
  ms_vec_addcdiv(y, 2, u, v, 4);        /* y += 2 u / v = (6, -5, 6, 10) */
  CHECK_EQ(y[0], 6); CHECK_EQ(y[2], 6); CHECK_EQ(y[3], 10);
  ms_vec_sign(y, 4);
  CHECK_EQ(y[0], 1); CHECK_EQ(y[1], -1);
  double z[3] = {-4, 0, 9};
  ms_vec_abs(z, 3);
  ms_vec_sqrt(z, 3);
  CHECK_EQ(z[0], 2); CHECK_EQ(z[1], 0); CHECK_EQ(z[2], 3);
  ms_vec_clamp(z, 0.5, 2.5, 3);
  CHECK_EQ(z[0], 2); CHECK_EQ(z[1], 0.5); CHECK_EQ(z[2], 2.5);
  double a[2] = {6, 8}, b[2] = {2, 4};
  ms_vec_mul(a, b, 2); CHECK_EQ(a[1], 32);
  ms_vec_div(a, b, 2); CHECK_EQ(a[1], 8);
  ms_vec_add(a, b, 2); CHECK_EQ(a[0], 8);
  ms_vec_sub(a, b, 2); CHECK_EQ(a[0], 6);
}

static void test_special_values(void) {
  double big[2] = {1e200, 1e200};
  CHECK_NEAR(ms_vec_norm(big, 2) / 1e200, sqrt(2.0), 1e-15);   /* no overflow */
  double tiny[2] = {3e-300, 4e-300};
  CHECK_NEAR(ms_vec_norm(tiny, 2) / 1e-300, 5, 1e-14);         /* no underflow */
  double withnan[3] = {1, NAN, 2};
  CHECK(isnan(ms_vec_max(withnan, 3)));
  CHECK(isnan(ms_vec_min(withnan, 3)));
  CHECK(!ms_vec_isfinite(withnan, 3));
  CHECK(ms_vec_isfinite(big, 2));
  CHECK(ms_vec_max(big, 0) == -INFINITY);
  char buf[32];
  ms_format_double(buf, sizeof buf, 0.1);
  CHECK(strcmp(buf, "0.1") == 0);
  ms_format_double(buf, sizeof buf, 1.0 / 3);
  CHECK(strcmp(buf, "0.3333333333333333") == 0);
}

int main(void) {
  test_blas1();
  test_elementwise();
  test_special_values();
  return check_report("test_vec");
}
