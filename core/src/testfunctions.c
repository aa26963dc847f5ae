/*
 * testfunctions.c -- classic optimisation test functions (Jamil and Yang,
 * "A literature survey of benchmark functions for global optimization
 * problems", 2013) and an ill-conditioned quadratic of chosen condition
 * number, each with its gradient, a plotting window and known minima.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

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
  MS_NEED(out);
  *out = NULL;
  if (dim < 2) return ms_fail(MS_EINVAL, "Rosenbrock needs dim >= 2");
  if (dim > SIZE_MAX / sizeof(double))   /* x itself could not exist */
    return ms_fail(MS_ERANGE, "dimension %zu is too large", dim);
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
  if (st == MS_OK) ms_objective_set_formula(*out, MS_FORMULA_ROSENBROCK, NULL, a, b);
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
  ms_status st = make(2, beale_fn, NULL, "beale", window, xmin, out);
  if (st == MS_OK) ms_objective_set_formula(*out, MS_FORMULA_BEALE, NULL, 0, 0);
  return st;
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
  ms_status st = make(2, booth_fn, NULL, "booth", window, xmin, out);
  if (st == MS_OK) ms_objective_set_formula(*out, MS_FORMULA_BOOTH, NULL, 0, 0);
  return st;
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
  ms_status st = make(2, himmelblau_fn, NULL, "himmelblau", window, xmin, out);
  if (st == MS_OK) ms_objective_set_formula(*out, MS_FORMULA_HIMMELBLAU, NULL, 0, 0);
  return st;
}

/* ------------------------------------------- rotated ill-conditioned quadratic */

/* The rotation is the orthogonal factor R of G = L R, G a matrix of
 * standard normals (row after row from the seeded generator) and L lower
 * triangular with a positive diagonal: the Gram-Schmidt orthonormalisation
 * of G's rows, a uniformly (Haar) distributed rotation.  It is computed
 * with Householder reflectors, in O(n^3) operations that stream through
 * memory a block of rows at a time, and polls for interrupts between
 * blocks; Q = R diag(lambda) R' takes a third of the time.  (dim = 4096,
 * the largest, takes about a minute; Gram-Schmidt with pow in the inner
 * loop took over ten.) */

enum { PANEL = 8,      /* reflectors applied together to each row below */
       ROWS = 16 };    /* rows of R formed together */

/* a . b in four interleaved sums, added in a fixed order */
static double dot4(const double *a, const double *b, size_t n) {
  double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
  size_t i = 0;
  for (; i + 4 <= n; i += 4) {
    s0 += a[i] * b[i];
    s1 += a[i + 1] * b[i + 1];
    s2 += a[i + 2] * b[i + 2];
    s3 += a[i + 3] * b[i + 3];
  }
  for (; i < n; i++) s0 += a[i] * b[i];
  return (s0 + s1) + (s2 + s3);
}

/* y = y H for the reflector H = I - tau v v' of m coordinates, v[0] = 1
 * and v[1 .. m) at v + 1. */
static void reflect(double *restrict y, const double *restrict v, size_t m,
                    double tau) {
  if (tau == 0) return;
  double w = tau * (y[0] + dot4(y + 1, v + 1, m - 1));
  y[0] -= w;
  size_t i = 1;
  for (; i + 4 <= m; i += 4) {   /* four at a time, as the compiler pairs */
    y[i] -= w * v[i];
    y[i + 1] -= w * v[i + 1];
    y[i + 2] -= w * v[i + 2];
    y[i + 3] -= w * v[i + 3];
  }
  for (; i < m; i++) y[i] -= w * v[i];
}

/* The reflector (LAPACK's dlarfg) that maps the m numbers at x to
 * (beta, 0, ..., 0): v[1 .. m) replaces x[1 .. m), tau to *tau; beta. */
static double reflector(double *x, size_t m, double *tau) {
  double alpha = x[0], xnorm = m > 1 ? ms_vec_norm(x + 1, m - 1) : 0;
  *tau = 0;
  if (xnorm == 0) return alpha;
  double beta = -copysign(hypot(alpha, xnorm), alpha);
  *tau = (beta - alpha) / beta;
  ms_vec_scale(x + 1, 1 / (alpha - beta), m - 1);
  return beta;
}

/* R (n x n, row-major) from the seed, with A (n x n) and tau (n) as work
 * space.  A = G H_0 H_1 ... H_{n-2} is lower triangular (L); row i of
 * G's orthogonal factor is then e_i' H_i ... H_0, times the sign of
 * L[i][i]. */
static ms_status random_orthogonal(double *R, double *A, double *tau,
                                   size_t n, uint64_t seed) {
  ms_rng rng;
  ms_rng_seed(&rng, seed);
  ms_status st;
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < n; j++) A[i * n + j] = ms_rng_normal(&rng);
    if ((st = ms_interrupted()) != MS_OK) return st;
  }
  for (size_t k0 = 0; k0 + 1 < n; k0 += PANEL) {
    size_t k1 = k0 + PANEL < n - 1 ? k0 + PANEL : n - 1;
    for (size_t k = k0; k < k1; k++) {   /* the panel's reflectors */
      double *row = A + k * n;
      for (size_t j = k0; j < k; j++)
        reflect(row + j, A + j * n + j, n - j, tau[j]);
      row[k] = reflector(row + k, n - k, &tau[k]);   /* L[k][k] */
    }
    for (size_t i = k1; i < n; i++) {    /* applied to every row below */
      for (size_t j = k0; j < k1; j++)
        reflect(A + i * n + j, A + j * n + j, n - j, tau[j]);
      if (i % 256 == 0 && (st = ms_interrupted()) != MS_OK) return st;
    }
    if ((st = ms_interrupted()) != MS_OK) return st;
  }
  tau[n - 1] = 0;
  for (size_t i0 = 0; i0 < n; i0 += ROWS) {
    size_t i1 = i0 + ROWS < n ? i0 + ROWS : n;
    ms_vec_fill(R + i0 * n, 0, (i1 - i0) * n);
    for (size_t i = i0; i < i1; i++) R[i * n + i] = 1;
    for (size_t k = i1; k-- > 0;) {
      for (size_t i = k > i0 ? k : i0; i < i1; i++)
        reflect(R + i * n + k, A + k * n + k, n - k, tau[k]);
      if (k % 256 == 0 && (st = ms_interrupted()) != MS_OK) return st;
    }
    for (size_t i = i0; i < i1; i++)
      if (A[i * n + i] < 0) ms_vec_scale(R + i * n, -1, n);
    if ((st = ms_interrupted()) != MS_OK) return st;
  }
  return MS_OK;
}

/* Q = R diag(lambda) R' (n x n), lower triangle computed and mirrored:
 * Q[i][j] = sum over k in order of (R[i][k] lambda[k]) R[j][k], j <= i,
 * sixteen entries at a time. */
static ms_status rotate(double *Q, const double *R, const double *lambda,
                        size_t n) {
  for (size_t i0 = 0; i0 < n; i0 += 4) {
    size_t ib = n - i0 < 4 ? n - i0 : 4;
    for (size_t j0 = 0; j0 <= i0; j0 += 4) {
      size_t jb = n - j0 < 4 ? n - j0 : 4;
      double q[4][4] = {{0}};
      if (ib == 4 && jb == 4) {
        const double *a0 = R + i0 * n, *a1 = a0 + n, *a2 = a1 + n,
                     *a3 = a2 + n, *b0 = R + j0 * n, *b1 = b0 + n,
                     *b2 = b1 + n, *b3 = b2 + n;
        for (size_t k = 0; k < n; k++) {
          double l = lambda[k], x[4] = {a0[k] * l, a1[k] * l, a2[k] * l,
                                        a3[k] * l},
                 y[4] = {b0[k], b1[k], b2[k], b3[k]};
          for (int u = 0; u < 4; u++)
            for (int w = 0; w < 4; w++) q[u][w] += x[u] * y[w];
        }
      } else {
        for (size_t u = 0; u < ib; u++)
          for (size_t w = 0; w < jb; w++)
            for (size_t k = 0; k < n; k++)
              q[u][w] += R[(i0 + u) * n + k] * lambda[k] *
                         R[(j0 + w) * n + k];
      }
      for (size_t u = 0; u < ib; u++)
        for (size_t w = 0; w < jb && j0 + w <= i0 + u; w++)
          Q[(i0 + u) * n + j0 + w] = Q[(j0 + w) * n + i0 + u] = q[u][w];
    }
    ms_status st = ms_interrupted();
    if (st != MS_OK) return st;
  }
  return MS_OK;
}

ms_status ms_objective_rotated_quadratic(double kappa, size_t dim,
                                         double angle, uint64_t seed,
                                         ms_objective **out) {
  MS_NEED(out);
  *out = NULL;
  if (dim < 2) return ms_fail(MS_EINVAL, "dim must be >= 2");
  if (dim > 4096) return ms_fail(MS_ERANGE, "dim must be <= 4096");
  if (!(kappa >= 1) || !isfinite(kappa))
    return ms_fail(MS_EINVAL, "kappa must be >= 1, got %g", kappa);
  if (!isfinite(angle)) return ms_fail(MS_EINVAL, "angle must be finite");
  /* R, then the work space of random_orthogonal, where Q goes after */
  size_t dd;   /* R and Q (dim x dim each), lambda and tau (dim each) */
  if (!ms_size_mul(dim, dim, &dd) || dd > (SIZE_MAX - 2 * dim) / 2)
    return ms_fail(MS_ERANGE, "the matrices of dim = %zu are too large", dim);
  double *R = ms_calloc(2 * dd + 2 * dim, sizeof *R);
  if (R == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  double *Q = R + dim * dim, *lambda = Q + dim * dim, *tau = lambda + dim;
  ms_status st = MS_OK;
  if (dim == 2) {
    R[0] = cos(angle), R[1] = -sin(angle), R[2] = sin(angle), R[3] = cos(angle);
  } else {
    st = random_orthogonal(R, Q, tau, dim, seed);
  }
  /* Q = R diag(lambda) R', lambda_k = kappa^(k / (dim - 1)) */
  for (size_t k = 0; k < dim; k++)
    lambda[k] = pow(kappa, (double)k / (double)(dim - 1));
  if (st == MS_OK) st = rotate(Q, R, lambda, dim);
  if (st != MS_OK) {
    free(R);
    return st;
  }
  st = ms_objective_quadratic_form(Q, NULL, 0, dim, out);
  free(R);
  if (st != MS_OK) return st;
  double *zero = ms_calloc(dim, sizeof *zero);
  ms_objective_describe(*out, "rotated_quadratic", NULL, zero);
  free(zero);
  return MS_OK;
}

ms_status ms_objective_builtin(const char *name, const double *args,
                               size_t nargs, ms_objective **out) {
  static const char *const names[] = {"quadratic", "quadratic_form", "rosenbrock", "beale",
                                      "booth", "himmelblau", "rotated_quadratic"};
  /* the numbers each takes, but quadratic's and quadratic_form's */
  static const size_t counts[] = {0, 0, 3, 0, 0, 0, 4};
  MS_NEED(out);
  *out = NULL;
  MS_NEED(name);
  size_t k = 0;
  while (k < MS_COUNT(names) && strcmp(names[k], name) != 0) k++;
  if (k == MS_COUNT(names)) return ms_fail(MS_EINVAL, "no such objective: %s", name);
  if (nargs > 0) MS_NEED(args);
  int64_t n = 0, i3 = 0;
  size_t nn = 0;
  if (k == 1 && (nargs < 2 || !ms_to_int64(args[0], &n) || n < 1 || n > 32768 ||
                 (nargs != (size_t)(n * n + 2) && nargs != (size_t)(n * n + n + 2))))
    return ms_fail(MS_EINVAL, "quadratic_form: n, then n x n, n or no, and 1 numbers");
  if (k > 1 && nargs != counts[k])
    return ms_fail(MS_EINVAL, "%s: wrong number of arguments (%zu)", name, nargs);
  if (k == 2 || k == 6) {   /* dim, seed: integers */
    if (!ms_to_int64(args[k == 2 ? 2 : 1], &n) || n < 0 ||
        (k == 6 && !ms_to_int64(args[3], &i3)))
      return ms_fail(MS_EINVAL, "%s: dim and seed must be integers", name);
  }
  switch (k) {
  case 0: return ms_objective_quadratic(args, nargs, out);
  case 1:
    nn = (size_t)(n * n);
    return ms_objective_quadratic_form(args + 1, nargs > nn + 2 ? args + 1 + nn : NULL,
                                       args[nargs - 1], (size_t)n, out);
  case 2: return ms_objective_rosenbrock(args[0], args[1], (size_t)n, out);
  case 3: return ms_objective_beale(out);
  case 4: return ms_objective_booth(out);
  case 5: return ms_objective_himmelblau(out);
  default: return ms_objective_rotated_quadratic(args[0], (size_t)n, args[2], (uint64_t)i3, out);
  }
}
