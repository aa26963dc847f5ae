/*
 * testfunctions.c -- classic optimisation test functions (Jamil and Yang,
 * "A literature survey of benchmark functions for global optimization
 * problems", 2013) and an ill-conditioned quadratic of chosen condition
 * number, each with its gradient, a plotting window and known minima.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

/* Make an objective of fixed dimension from fn, with ctx (freed with it). */
static ms_status make(size_t dim, ms_objective_fn fn, void *ctx,
                      const char *name, const double *window,
                      const double *minimizer, ms_objective **out) {
  ms_status st = ms_objective_new(dim, fn, 1, ctx, free, out);
  if (st != MS_OK) {
    free(ctx);
    return st;
  }
  ms_objective_describe(*out, name, window, minimizer);
  return MS_OK;
}

/* ------------------------------------------------------------ Rosenbrock */

typedef struct {
  double a, b;
} rosenbrock;

static ms_status rosenbrock_fn(void *ctx, const double *x, size_t n,
                               double *f, double *grad) {
  const rosenbrock *r = ctx;
  double sum = 0;
  if (grad != NULL) ms_vec_fill(grad, 0, n);
  for (size_t i = 0; i + 1 < n; i++) {
    double u = x[i + 1] - x[i] * x[i], v = r->a - x[i];
    sum += r->b * u * u + v * v;
    if (grad != NULL) {
      grad[i] += -4 * r->b * u * x[i] - 2 * v;
      grad[i + 1] += 2 * r->b * u;
    }
  }
  if (f != NULL) *f = sum;
  return MS_OK;
}

ms_status ms_objective_rosenbrock(double a, double b, size_t dim,
                                  ms_objective **out) {
  *out = NULL;
  if (dim < 2) return ms_fail(MS_EINVAL, "Rosenbrock needs dim >= 2");
  if (!isfinite(a) || !isfinite(b))
    return ms_fail(MS_EINVAL, "a and b must be finite");
  rosenbrock *r = ms_calloc(1, sizeof *r);
  double *xmin = ms_calloc(dim, sizeof *xmin);
  if (r == NULL || xmin == NULL) {
    free(r);
    free(xmin);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  r->a = a;
  r->b = b;
  /* x = (a, a^2) in 2-D; the chained form has all x_i = 1 when a = 1 */
  int known = dim == 2 || a == 1;
  for (size_t i = 0; i < dim; i++) xmin[i] = i == 1 && dim == 2 ? a * a : a;
  static const double window[4] = {-2, 2, -1, 3};
  ms_status st = make(dim, rosenbrock_fn, r, "rosenbrock", window,
                      known && b > 0 ? xmin : NULL, out);
  free(xmin);
  return st;
}

/* ----------------------------------------------------------------- Beale */

static ms_status beale_fn(void *ctx, const double *x, size_t n, double *f,
                          double *grad) {
  (void)ctx, (void)n;
  static const double c[3] = {1.5, 2.25, 2.625};
  double sum = 0, gx = 0, gy = 0, yk = 1;   /* yk = y^k */
  for (int k = 1; k <= 3; k++) {
    double dyk = k * yk;                     /* d(y^k)/dy */
    yk *= x[1];
    double r = c[k - 1] - x[0] + x[0] * yk;
    sum += r * r;
    gx += 2 * r * (yk - 1);
    gy += 2 * r * x[0] * dyk;
  }
  if (f != NULL) *f = sum;
  if (grad != NULL) grad[0] = gx, grad[1] = gy;
  return MS_OK;
}

ms_status ms_objective_beale(ms_objective **out) {
  static const double window[4] = {-4.5, 4.5, -4.5, 4.5}, xmin[2] = {3, 0.5};
  return make(2, beale_fn, NULL, "beale", window, xmin, out);
}

/* ----------------------------------------------------------------- Booth */

static ms_status booth_fn(void *ctx, const double *x, size_t n, double *f,
                          double *grad) {
  (void)ctx, (void)n;
  double u = x[0] + 2 * x[1] - 7, v = 2 * x[0] + x[1] - 5;
  if (f != NULL) *f = u * u + v * v;
  if (grad != NULL) grad[0] = 2 * u + 4 * v, grad[1] = 4 * u + 2 * v;
  return MS_OK;
}

ms_status ms_objective_booth(ms_objective **out) {
  static const double window[4] = {-10, 10, -10, 10}, xmin[2] = {1, 3};
  return make(2, booth_fn, NULL, "booth", window, xmin, out);
}

/* ------------------------------------------------------------ Himmelblau */

static ms_status himmelblau_fn(void *ctx, const double *x, size_t n,
                               double *f, double *grad) {
  (void)ctx, (void)n;
  double u = x[0] * x[0] + x[1] - 11, v = x[0] + x[1] * x[1] - 7;
  if (f != NULL) *f = u * u + v * v;
  if (grad != NULL)
    grad[0] = 4 * u * x[0] + 2 * v, grad[1] = 2 * u + 4 * v * x[1];
  return MS_OK;
}

ms_status ms_objective_himmelblau(ms_objective **out) {
  /* one of the four minima; the others are (-2.805118, 3.131312),
   * (-3.779310, -3.283186) and (3.584428, -1.848126) */
  static const double window[4] = {-5, 5, -5, 5}, xmin[2] = {3, 2};
  return make(2, himmelblau_fn, NULL, "himmelblau", window, xmin, out);
}

/* ------------------------------------------- rotated ill-conditioned quadratic */

/* A random orthogonal matrix (row-major, n x n): Gram-Schmidt, twice for
 * accuracy, on rows of standard normals. */
static void random_orthogonal(double *R, size_t n, uint64_t seed) {
  ms_rng rng;
  ms_rng_seed(&rng, seed);
  for (size_t i = 0; i < n * n; i++) R[i] = ms_rng_normal(&rng);
  for (size_t i = 0; i < n; i++) {
    double *r = R + i * n;
    for (int pass = 0; pass < 2; pass++)
      for (size_t j = 0; j < i; j++)
        ms_vec_axpy(r, -ms_vec_dot(r, R + j * n, n), R + j * n, n);
    ms_vec_scale(r, 1 / ms_vec_norm(r, n), n);
  }
}

ms_status ms_objective_rotated_quadratic(double kappa, size_t dim,
                                         double angle, uint64_t seed,
                                         ms_objective **out) {
  *out = NULL;
  if (dim < 2) return ms_fail(MS_EINVAL, "dim must be >= 2");
  if (dim > 4096) return ms_fail(MS_ERANGE, "dim must be <= 4096");
  if (!(kappa >= 1) || !isfinite(kappa))
    return ms_fail(MS_EINVAL, "kappa must be >= 1, got %g", kappa);
  if (!isfinite(angle)) return ms_fail(MS_EINVAL, "angle must be finite");
  double *R = ms_calloc(2 * dim * dim, sizeof *R), *Q = R + dim * dim;
  if (R == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  if (dim == 2) {
    R[0] = cos(angle), R[1] = -sin(angle), R[2] = sin(angle), R[3] = cos(angle);
  } else {
    random_orthogonal(R, dim, seed);
  }
  /* Q = R diag(lambda) R', lambda_k = kappa^(k / (dim - 1)) */
  for (size_t i = 0; i < dim; i++)
    for (size_t j = 0; j <= i; j++) {
      double q = 0;
      for (size_t k = 0; k < dim; k++)
        q += R[i * dim + k] * pow(kappa, (double)k / (double)(dim - 1)) *
             R[j * dim + k];
      Q[i * dim + j] = Q[j * dim + i] = q;
    }
  ms_status st = ms_objective_quadratic_form(Q, NULL, 0, dim, out);
  free(R);
  if (st != MS_OK) return st;
  double *zero = ms_calloc(dim, sizeof *zero);
  ms_objective_describe(*out, "rotated_quadratic", NULL, zero);
  free(zero);
  return MS_OK;
}
