/*
 * vec.c -- BLAS-1 style operations on dense double vectors.
 *
 * The element-wise arithmetic runs at the machine's vector width
 * (simd.h); reductions are plain loops in a fixed order, so that results
 * are identical from run to run.
 *
 * NULL with n = 0 is an empty vector.  NULL with n > 0 is a mistake the
 * engine survives: an operation does nothing and a reduction gives NaN
 * (isfinite: 0).  One test at the entry, none inside the loops.
 */
#include <math.h>
#include <stddef.h>

#include "momsandbox.h"
#include "simd.h"

void ms_vec_fill(double *y, double a, size_t n) {
  if (y == NULL) return;
  for (size_t i = 0; i < n; i++) y[i] = a;
}

void ms_vec_copy(double *y, const double *x, size_t n) {
  if (y == NULL || x == NULL) return;
  for (size_t i = 0; i < n; i++) y[i] = x[i];
}

/* The arithmetic below runs at the vector width of the machine (simd.h):
 * each element is the same operations in the same order at every width,
 * so the bits do not depend on it. */
MS_SIMD_LOOP(scale_loop, y, (double *y, double a, size_t n),
  MS_AT(y) = MS_AT(y) * a;
);
MS_SIMD_LOOP(axpy_loop, y, (double *y, double a, const double *x, size_t n),
  MS_AT(y) = MS_AT(y) + a * MS_AT(x);
);
MS_SIMD_LOOP(axpby_loop, y,
             (double *y, double a, const double *x, double b, size_t n),
  MS_AT(y) = a * MS_AT(x) + b * MS_AT(y);
);
MS_SIMD_LOOP(add_loop, y, (double *y, const double *x, size_t n),
  MS_AT(y) = MS_AT(y) + MS_AT(x);
);
MS_SIMD_LOOP(sub_loop, y, (double *y, const double *x, size_t n),
  MS_AT(y) = MS_AT(y) - MS_AT(x);
);
MS_SIMD_LOOP(mul_loop, y, (double *y, const double *x, size_t n),
  MS_AT(y) = MS_AT(y) * MS_AT(x);
);
MS_SIMD_LOOP(div_loop, y, (double *y, const double *x, size_t n),
  MS_AT(y) = MS_AT(y) / MS_AT(x);
);
MS_SIMD_LOOP(addcmul_loop, y,
             (double *y, double a, const double *u, const double *v, size_t n),
  MS_AT(y) = MS_AT(y) + a * MS_AT(u) * MS_AT(v);
);
MS_SIMD_LOOP(addcdiv_loop, y,
             (double *y, double a, const double *u, const double *v, size_t n),
  MS_AT(y) = MS_AT(y) + a * MS_AT(u) / MS_AT(v);
);
MS_SIMD_LOOP(sqrt_loop, y, (double *y, size_t n),
  MS_AT(y) = MS_SQRT(MS_AT(y));
);

void ms_vec_scale(double *y, double a, size_t n) {
  if (y != NULL) MS_SIMD(scale_loop)(y, a, n);
}

void ms_vec_axpy(double *y, double a, const double *x, size_t n) {
  if (y != NULL && x != NULL) MS_SIMD(axpy_loop)(y, a, x, n);
}

void ms_vec_axpby(double *y, double a, const double *x, double b, size_t n) {
  if (y != NULL && x != NULL) MS_SIMD(axpby_loop)(y, a, x, b, n);
}

void ms_vec_add(double *y, const double *x, size_t n) {
  if (y != NULL && x != NULL) MS_SIMD(add_loop)(y, x, n);
}

void ms_vec_sub(double *y, const double *x, size_t n) {
  if (y != NULL && x != NULL) MS_SIMD(sub_loop)(y, x, n);
}

void ms_vec_mul(double *y, const double *x, size_t n) {
  if (y != NULL && x != NULL) MS_SIMD(mul_loop)(y, x, n);
}

void ms_vec_div(double *y, const double *x, size_t n) {
  if (y != NULL && x != NULL) MS_SIMD(div_loop)(y, x, n);
}

void ms_vec_addcmul(double *y, double a, const double *u, const double *v,
                    size_t n) {
  if (y != NULL && u != NULL && v != NULL) MS_SIMD(addcmul_loop)(y, a, u, v, n);
}

void ms_vec_addcdiv(double *y, double a, const double *u, const double *v,
                    size_t n) {
  if (y != NULL && u != NULL && v != NULL) MS_SIMD(addcdiv_loop)(y, a, u, v, n);
}

void ms_vec_sqrt(double *y, size_t n) {
  if (y != NULL) MS_SIMD(sqrt_loop)(y, n);
}

void ms_vec_abs(double *y, size_t n) {
  if (y == NULL) return;
  for (size_t i = 0; i < n; i++) y[i] = fabs(y[i]);
}

void ms_vec_sign(double *y, size_t n) {
  if (y == NULL) return;
  for (size_t i = 0; i < n; i++)
    y[i] = y[i] > 0 ? 1.0 : y[i] < 0 ? -1.0 : y[i];  /* keeps 0, -0, NaN */
}

void ms_vec_clamp(double *y, double lo, double hi, size_t n) {
  if (y == NULL) return;
  for (size_t i = 0; i < n; i++) y[i] = y[i] < lo ? lo : y[i] > hi ? hi : y[i];
}

double ms_vec_dot(const double *x, const double *y, size_t n) {
  if ((x == NULL || y == NULL) && n > 0) return NAN;
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i] * y[i];
  return s;
}

/* Scaled sum of squares, as LAPACK's dnrm2: no overflow for large
 * entries, no underflow to 0 for tiny ones. */
double ms_vec_norm(const double *x, size_t n) {
  if (x == NULL && n > 0) return NAN;
  double scale = 0.0, ssq = 1.0;
  for (size_t i = 0; i < n; i++) {
    double a = fabs(x[i]);
    if (a == 0.0) continue;
    if (isnan(a) || isinf(a)) return a;
    if (scale < a) {
      ssq = 1.0 + ssq * (scale / a) * (scale / a);
      scale = a;
    } else {
      ssq += (a / scale) * (a / scale);
    }
  }
  return scale * sqrt(ssq);
}

double ms_vec_sum(const double *x, size_t n) {
  if (x == NULL && n > 0) return NAN;
  double s = 0.0;
  for (size_t i = 0; i < n; i++) s += x[i];
  return s;
}

double ms_vec_max(const double *x, size_t n) {
  if (x == NULL && n > 0) return NAN;
  double m = -INFINITY;
  for (size_t i = 0; i < n; i++)
    if (x[i] > m || isnan(x[i])) m = x[i];
  return m;
}

double ms_vec_min(const double *x, size_t n) {
  if (x == NULL && n > 0) return NAN;
  double m = INFINITY;
  for (size_t i = 0; i < n; i++)
    if (x[i] < m || isnan(x[i])) m = x[i];
  return m;
}

/* acc + x 0 is NaN from the first NaN or infinity of x on, and a zero
 * before: one vectorised pass, no branch per element. */
MS_SIMD_LOOP(nonfinite, x, (double *acc, const double *x, size_t n),
  MS_LANES(acc) += MS_AT(x) * 0.0;
);

int ms_vec_isfinite(const double *x, size_t n) {
  if (x == NULL && n > 0) return 0;
  enum { CHUNK = 4096 };   /* stop within 32 KiB of the first bad entry */
  for (size_t at = 0; at < n; at += CHUNK) {
    double acc[8] = {0};
    MS_SIMD(nonfinite)(acc, x + at, n - at < CHUNK ? n - at : CHUNK);
    for (int k = 0; k < 8; k++)
      if (acc[k] != 0) return 0;
  }
  return 1;
}
