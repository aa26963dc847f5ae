/*
 * analysis.c -- the chapter's theory as computations: the momentum matrix
 * R(beta, eta, lambda) of a scalar quadratic, its eigenvalues and spectral
 * radius, the best constant parameters for a spectrum in [mu, L], and the
 * linear algebra that reduces any convex quadratic to scalar ones (Jacobi
 * eigen-decomposition, Cholesky solve).
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { MAX_SWEEPS = 64 };   /* cyclic Jacobi needs about 6 to 10 */

/* NaN as "nan", never "-nan", in messages. */
static double shown(double v) { return isnan(v) ? NAN : v; }

static ms_status check_lambda(double lambda) {
  if (lambda > 0 && isfinite(lambda)) return MS_OK;
  return ms_fail(MS_EINVAL, "lambda must be > 0 (a convex quadratic), got %g",
                 shown(lambda));
}

static ms_status check_eta(double eta) {
  if (eta > 0 && isfinite(eta)) return MS_OK;
  return ms_fail(MS_EINVAL, "eta must be > 0, got %g", shown(eta));
}

static ms_status check_scalar(double beta, double eta, double lambda) {
  if (!(beta >= 0 && beta < 1))
    return ms_fail(MS_EINVAL, "beta must be in [0, 1), got %g", shown(beta));
  ms_status st = check_eta(eta);
  return st == MS_OK ? check_lambda(lambda) : st;
}

ms_status ms_momentum_matrix(double beta, double eta, double lambda,
                             double R[4]) {
  MS_NEED(R);
  ms_status st = check_scalar(beta, eta, lambda);
  if (st != MS_OK) return st;
  R[0] = beta;
  R[1] = lambda;
  R[2] = -eta * beta;
  R[3] = 1 - eta * lambda;
  return MS_OK;
}

/* The roots of z^2 - T z + beta (T the trace, beta the determinant of R):
 * the larger root first, the smaller as beta / z1 rather than by the
 * formula, which would cancel. */
static void roots(double beta, double eta, double lambda, double re[2],
                  double im[2]) {
  double T = 1 + beta - eta * lambda;
  double disc = T * T - 4 * beta;
  if (disc < 0) {
    re[0] = re[1] = T / 2;
    im[0] = sqrt(-disc) / 2;
    im[1] = -im[0];
    return;
  }
  double z1 = (T + copysign(sqrt(disc), T)) / 2;
  re[0] = z1;
  re[1] = z1 != 0 ? beta / z1 : 0;
  im[0] = im[1] = 0;
}

ms_status ms_momentum_eigenvalues(double beta, double eta, double lambda,
                                  double re[2], double im[2]) {
  MS_NEED(re);
  MS_NEED(im);
  ms_status st = check_scalar(beta, eta, lambda);
  if (st == MS_OK) roots(beta, eta, lambda, re, im);
  return st;
}

ms_status ms_momentum_radius(double beta, double eta, double lambda,
                             double *rho) {
  MS_NEED(rho);
  double re[2], im[2];
  ms_status st = ms_momentum_eigenvalues(beta, eta, lambda, re, im);
  if (st != MS_OK) return st;
  /* a complex pair has modulus sqrt(det R) = sqrt(beta) exactly */
  *rho = im[0] != 0 ? sqrt(beta) : fabs(re[0]);
  return MS_OK;
}

ms_status ms_momentum_converges(double beta, double eta, double lambda,
                                int *converges) {
  MS_NEED(converges);
  ms_status st = check_scalar(beta, eta, lambda);
  if (st == MS_OK) *converges = eta * lambda < 2 + 2 * beta;
  return st;
}

ms_status ms_gd_rate(double eta, double lambda, double *rate) {
  MS_NEED(rate);
  ms_status st = check_eta(eta);
  if (st == MS_OK) st = check_lambda(lambda);
  if (st == MS_OK) *rate = fabs(1 - eta * lambda);
  return st;
}

static ms_status check_spectrum(double mu, double L) {
  if (!(mu > 0) || !isfinite(mu))
    return ms_fail(MS_EINVAL, "mu must be > 0 (a strongly convex quadratic), "
                              "got %g", shown(mu));
  if (!(L >= mu) || !isfinite(L))
    return ms_fail(MS_EINVAL, "L must be finite and >= mu = %g, got %g", mu,
                   shown(L));
  return MS_OK;
}

ms_status ms_gd_optimal(double mu, double L, double *eta, double *rate) {
  MS_NEED(eta);
  MS_NEED(rate);
  ms_status st = check_spectrum(mu, L);
  if (st != MS_OK) return st;
  *eta = 2 / (mu + L);
  *rate = (L - mu) / (L + mu);   /* (kappa - 1) / (kappa + 1) */
  return MS_OK;
}

ms_status ms_momentum_optimal(double mu, double L, double *eta, double *beta,
                              double *rate) {
  MS_NEED(eta);
  MS_NEED(beta);
  MS_NEED(rate);
  ms_status st = check_spectrum(mu, L);
  if (st != MS_OK) return st;
  double a = sqrt(L), b = sqrt(mu);
  *eta = 4 / ((a + b) * (a + b));
  *rate = (a - b) / (a + b);     /* (sqrt kappa - 1) / (sqrt kappa + 1) */
  *beta = *rate * *rate;
  return MS_OK;
}

ms_status ms_theory(const char *name, const double in[3], double out[4],
                    int *nout) {
  static const char *const names[] = {"R",         "eigenvalues", "radius",
                                      "converges", "gd_rate",     "gd_optimal",
                                      "momentum_optimal"};
  static const int counts[] = {4, 4, 1, 1, 1, 2, 3};
  MS_NEED(name);
  MS_NEED(in);
  MS_NEED(out);
  MS_NEED(nout);
  int k = 0, yes = 0;
  while (k < 7 && strcmp(name, names[k]) != 0) k++;
  if (k == 7) return ms_fail(MS_EINVAL, "no formula '%s'", name);
  *nout = counts[k];
  ms_status st;
  switch (k) {
    case 0: return ms_momentum_matrix(in[0], in[1], in[2], out);
    case 1: return ms_momentum_eigenvalues(in[0], in[1], in[2], out, out + 2);
    case 2: return ms_momentum_radius(in[0], in[1], in[2], out);
    case 3:
      st = ms_momentum_converges(in[0], in[1], in[2], &yes);
      out[0] = yes;
      return st;
    case 4: return ms_gd_rate(in[0], in[1], out);
    case 5: return ms_gd_optimal(in[0], in[1], out, out + 1);
    default: return ms_momentum_optimal(in[0], in[1], out, out + 1, out + 2);
  }
}

/* ------------------------------------------------------- linear algebra */

/* A <- J'AJ and V <- VJ for the rotation J in the plane (p, q) that zeroes
 * A[p][q] (Golub and Van Loan, Matrix Computations, section 8.5). */
static void rotate(double *A, double *V, size_t n, size_t p, size_t q) {
  double apq = A[p * n + q];
  double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
  double t = 1 / (fabs(theta) + hypot(theta, 1));   /* the smaller root */
  if (theta < 0) t = -t;
  double c = 1 / sqrt(t * t + 1), s = t * c;
  for (size_t k = 0; k < n; k++) {
    double akp = A[k * n + p], akq = A[k * n + q];
    A[k * n + p] = c * akp - s * akq;
    A[k * n + q] = s * akp + c * akq;
  }
  for (size_t k = 0; k < n; k++) {
    double apk = A[p * n + k], aqk = A[q * n + k];
    A[p * n + k] = c * apk - s * aqk;
    A[q * n + k] = s * apk + c * aqk;
    double vkp = V[k * n + p], vkq = V[k * n + q];
    V[k * n + p] = c * vkp - s * vkq;
    V[k * n + q] = s * vkp + c * vkq;
  }
  A[p * n + q] = A[q * n + p] = 0;
}

/* An even power of two 2^-2k with 2^2k near the largest |entry| of the
 * nn numbers of Q (1 for a zero Q).  Multiplying by it is exact, its
 * square root too, so a matrix scaled by it gives the same rotations and
 * the same Cholesky factor (scaled) bit for bit -- while the sums of
 * squares and products that the algorithms form can no longer overflow
 * or underflow, as they did for entries above ~1e154 or below ~1e-162. */
static double matrix_scale(const double *Q, size_t nn) {
  double big = 0;
  for (size_t i = 0; i < nn; i++) big = fmax(big, fabs(Q[i]));
  if (big == 0) return 1;
  int e = ilogb(big);
  return ldexp(1, -(e - (e & 1)));   /* e rounded down to even */
}

/* Diagonalise A in place, accumulating the rotations in V (columns). */
static ms_status jacobi(double *A, double *V, size_t n) {
  double norm = 0;
  for (size_t i = 0; i < n * n; i++) norm += A[i] * A[i];
  for (size_t i = 0; i < n; i++) V[i * n + i] = 1;
  for (int sweep = 0; sweep < MAX_SWEEPS; sweep++) {
    double off = 0;
    for (size_t p = 0; p < n; p++)
      for (size_t q = p + 1; q < n; q++) off += A[p * n + q] * A[p * n + q];
    if (off <= DBL_EPSILON * DBL_EPSILON * norm) return MS_OK;
    for (size_t p = 0; p < n; p++) {
      for (size_t q = p + 1; q < n; q++)
        if (A[p * n + q] != 0) rotate(A, V, n, p, q);
      ms_status st = ms_interrupted();   /* O(n^3) a sweep: Ctrl-C */
      if (st != MS_OK) return st;
    }
  }
  return ms_fail(MS_ENONFINITE, "Jacobi rotations did not converge");
}

ms_status ms_eigen_symmetric(const double *Q, size_t n, double *values,
                             double *vectors) {
  ms_interrupted();   /* before anything long: the handler in place */
  MS_NEED(values);
  ms_status st = ms_check_symmetric(Q, n);
  if (st != MS_OK) return st;
  size_t nn, two_nn;   /* n <= 46340 here, but a wrap must never go unseen */
  if (!ms_size_mul(n, n, &nn) || !ms_size_mul(nn, 2, &two_nn))
    return ms_fail(MS_ERANGE, "a %zu x %zu matrix is too large", n, n);
  double *A = ms_calloc(two_nn, sizeof *A), *V = A + nn;
  size_t *order = ms_calloc(n, sizeof *order);
  if (A == NULL || order == NULL) {
    free(A);
    free(order);
    return ms_fail(MS_ENOMEM, "out of memory for a %zu x %zu matrix", n, n);
  }
  double scale = matrix_scale(Q, nn);
  ms_vec_copy(A, Q, nn);
  ms_vec_scale(A, scale, nn);
  if ((st = jacobi(A, V, n)) == MS_OK) {
    for (size_t i = 0; i < n; i++) order[i] = i;
    for (size_t i = 1; i < n; i++)     /* insertion sort by eigenvalue */
      for (size_t j = i; j > 0; j--) {
        size_t k = order[j];
        if (!(A[k * (n + 1)] < A[order[j - 1] * (n + 1)])) break;
        order[j] = order[j - 1];
        order[j - 1] = k;
      }
    for (size_t k = 0; k < n; k++) {
      size_t col = order[k];
      values[k] = A[col * (n + 1)] / scale;
      if (vectors == NULL) continue;
      size_t big = 0;
      for (size_t i = 1; i < n; i++)
        if (fabs(V[i * n + col]) > fabs(V[big * n + col])) big = i;
      double sign = V[big * n + col] < 0 ? -1 : 1;
      for (size_t i = 0; i < n; i++) vectors[k * n + i] = sign * V[i * n + col];
    }
  }
  free(A);
  free(order);
  return st;
}

/* Q = L L' with L lower triangular (row-major): 0 when a pivot is not
 * positive, that is when Q is not positive definite; -1 when interrupted
 * (it polls: O(n^3)). */
static int cholesky(const double *Q, double *L, size_t n) {
  for (size_t j = 0; j < n; j++) {
    if (ms_interrupted() != MS_OK) return -1;
    double d = Q[j * n + j] - ms_vec_dot(L + j * n, L + j * n, j);
    if (!(d > 0)) return 0;
    L[j * n + j] = sqrt(d);
    for (size_t i = j + 1; i < n; i++)
      L[i * n + j] = (Q[i * n + j] - ms_vec_dot(L + i * n, L + j * n, j)) /
                     L[j * n + j];
  }
  return 1;
}

/* Solve L L' x = b in place. */
static void cholesky_solve(const double *L, double *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    x[i] = (x[i] - ms_vec_dot(L + i * n, x, i)) / L[i * n + i];
  for (size_t i = n; i-- > 0;) {
    double s = x[i];
    for (size_t k = i + 1; k < n; k++) s -= L[k * n + i] * x[k];
    x[i] = s / L[i * n + i];
  }
}

/* Why Cholesky failed, in terms a user can check: the smallest
 * eigenvalue. */
static ms_status not_definite(const double *Q, size_t n) {
  double *values = ms_calloc(n, sizeof *values);
  if (values == NULL || ms_eigen_symmetric(Q, n, values, NULL) != MS_OK) {
    free(values);
    return ms_fail(MS_EINVAL, "Q is not positive definite, so h has no "
                              "unique minimiser");
  }
  double least = values[0];
  free(values);
  return ms_fail(MS_EINVAL, "Q is not positive definite (its smallest "
                            "eigenvalue is %g), so h has no unique minimiser",
                 least);
}

ms_status ms_quadratic_minimize(const double *Q, const double *c, double b,
                                size_t n, double *x, double *hmin) {
  ms_interrupted();   /* before anything long: the handler in place */
  MS_NEED(x);
  ms_status st = ms_check_symmetric(Q, n);
  if (st != MS_OK) return st;
  size_t nn, size;   /* L, the scaled Q and c, a residual */
  if (!ms_size_mul(n, n, &nn) || !ms_size_mul(nn, 2, &size) || size > SIZE_MAX - 2 * n)
    return ms_fail(MS_ERANGE, "a %zu x %zu matrix is too large", n, n);
  for (size_t i = 0; c != NULL && i < n; i++)
    if (!isfinite(c[i]))
      return ms_fail(MS_EINVAL, "c[%zu] is not finite", i + 1);
  if (!isfinite(b)) return ms_fail(MS_EINVAL, "b is not finite");
  /* Solved as (sQ) x = -(s c), s = matrix_scale(Q): the same x */
  double *L = ms_calloc(2 * nn + 2 * n, sizeof *L), *S = L + nn, *cs = S + nn,
         *r = cs + n;
  if (L == NULL)
    return ms_fail(MS_ENOMEM, "out of memory for a %zu x %zu matrix", n, n);
  double scale = matrix_scale(Q, nn);
  ms_vec_copy(S, Q, nn);
  ms_vec_scale(S, scale, nn);
  for (size_t i = 0; i < n; i++) cs[i] = c != NULL ? scale * c[i] : 0;
  int ok = cholesky(S, L, n);
  if (ok <= 0) {
    free(L);
    return ok < 0 ? MS_EINTR : not_definite(Q, n);
  }
  for (size_t i = 0; i < n; i++) x[i] = -cs[i];
  cholesky_solve(L, x, n);
  /* Two rounds of refinement bring the residual Qx + c down to rounding
   * level even when Q is not well conditioned. */
  for (int round = 0; round < 2; round++) {
    for (size_t i = 0; i < n; i++) r[i] = -cs[i] - ms_vec_dot(S + i * n, x, n);
    cholesky_solve(L, r, n);
    ms_vec_add(x, r, n);
  }
  if (!ms_vec_isfinite(x, n)) {
    free(L);
    return ms_fail(MS_ERANGE, "the minimiser of h is too large for a double");
  }
  /* h at the minimiser: x'Qx / 2 + c'x + b with Qx = -c */
  if (hmin != NULL) *hmin = b + (c != NULL ? ms_vec_dot(c, x, n) / 2 : 0);
  free(L);
  return MS_OK;
}
