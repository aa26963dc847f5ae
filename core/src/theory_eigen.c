/*
 * theory_eigen.c -- the eigenvalues of a small real matrix that need not
 * be symmetric (a rule's iteration matrix: its eigenvalues come in
 * complex pairs).  The classic method: balance (rows and columns scaled
 * by powers of two, exact, so that no entry dwarfs the others), reduce to
 * upper Hessenberg form by stabilised elimination, then Francis' double-
 * shift QR iteration (Wilkinson and Reinsch, Handbook for Automatic
 * Computation II, procedures balance, elmhes and hqr; the same steps as
 * Numerical Recipes' balanc, elmhes and hqr, here in double and 1-based
 * through A()).  A 2 x 2 block is solved by the quadratic formula in a
 * form that does not cancel.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { MAX_ITS = 60 };   /* per eigenvalue; hqr needs a handful */

#define A(i, j) a[((i) - 1) * n + ((j) - 1)]

/* Scale rows and columns by powers of two until each row and its column
 * have about the same norm: eigenvalues unchanged, bit for bit. */
static void balance(double *a, size_t n) {
  const double radix = 2, sqrdx = radix * radix;
  int done = 0;
  while (!done) {
    done = 1;
    for (size_t i = 1; i <= n; i++) {
      double r = 0, c = 0;
      for (size_t j = 1; j <= n; j++)
        if (j != i) {
          c += fabs(A(j, i));
          r += fabs(A(i, j));
        }
      if (c == 0 || r == 0) continue;
      double g = r / radix, f = 1, s = c + r;
      while (c < g) {
        f *= radix;
        c *= sqrdx;
      }
      g = r * radix;
      while (c > g) {
        f /= radix;
        c /= sqrdx;
      }
      if ((c + r) / f < 0.95 * s) {
        done = 0;
        for (size_t j = 1; j <= n; j++) A(i, j) /= f;
        for (size_t j = 1; j <= n; j++) A(j, i) *= f;
      }
    }
  }
}

/* Upper Hessenberg form by elimination with partial pivoting; the
 * multipliers are not kept (only the eigenvalues are wanted). */
static void hessenberg(double *a, size_t n) {
  for (size_t m = 2; m < n; m++) {
    double x = 0;
    size_t i = m;
    for (size_t j = m; j <= n; j++)
      if (fabs(A(j, m - 1)) > fabs(x)) {
        x = A(j, m - 1);
        i = j;
      }
    if (i != m) {
      for (size_t j = m - 1; j <= n; j++) {
        double t = A(i, j);
        A(i, j) = A(m, j);
        A(m, j) = t;
      }
      for (size_t j = 1; j <= n; j++) {
        double t = A(j, i);
        A(j, i) = A(j, m);
        A(j, m) = t;
      }
    }
    if (x == 0) continue;
    for (i = m + 1; i <= n; i++) {
      double y = A(i, m - 1);
      if (y == 0) continue;
      y /= x;
      A(i, m - 1) = 0;
      for (size_t j = m; j <= n; j++) A(i, j) -= y * A(m, j);
      for (size_t j = 1; j <= n; j++) A(j, m) += y * A(j, i);
    }
  }
}

static double sign(double a, double b) { return b >= 0 ? fabs(a) : -fabs(a); }

/* The eigenvalues of the Hessenberg matrix a into wr + i wi (1-based). */
static ms_status hqr(double *a, size_t n, double *wr, double *wi) {
  double anorm = 0, t = 0;
  for (size_t i = 1; i <= n; i++)
    for (size_t j = i > 1 ? i - 1 : 1; j <= n; j++) anorm += fabs(A(i, j));
  long nn = (long)n, l;
  double p = 0, q = 0, r = 0, s, w, x, y, z;
  while (nn >= 1) {
    int its = 0;
    do {
      for (l = nn; l >= 2; l--) {   /* a small subdiagonal entry splits */
        s = fabs(A(l - 1, l - 1)) + fabs(A(l, l));
        if (s == 0) s = anorm;
        if (fabs(A(l, l - 1)) + s == s) {
          A(l, l - 1) = 0;
          break;
        }
      }
      x = A(nn, nn);
      if (l == nn) {   /* one root */
        wr[nn] = x + t;
        wi[nn--] = 0;
      } else {
        y = A(nn - 1, nn - 1);
        w = A(nn, nn - 1) * A(nn - 1, nn);
        if (l == nn - 1) {   /* two roots: z^2 - (x + y) z + x y - w */
          p = 0.5 * (y - x);
          q = p * p + w;
          z = sqrt(fabs(q));
          x += t;
          if (q >= 0) {
            z = p + sign(z, p);
            wr[nn - 1] = wr[nn] = x + z;
            if (z != 0) wr[nn] = x - w / z;
            wi[nn - 1] = wi[nn] = 0;
          } else {
            wr[nn - 1] = wr[nn] = x + p;
            wi[nn - 1] = -(wi[nn] = z);
          }
          nn -= 2;
        } else {
          if (its == MAX_ITS)
            return ms_fail(MS_ENONFINITE, "QR iterations did not converge");
          if (its == 10 || its == 20) {   /* exceptional shift */
            t += x;
            for (long i = 1; i <= nn; i++) A(i, i) -= x;
            s = fabs(A(nn, nn - 1)) + fabs(A(nn - 1, nn - 2));
            y = x = 0.75 * s;
            w = -0.4375 * s * s;
          }
          ++its;
          long m;
          for (m = nn - 2; m >= l; m--) {   /* two small subdiagonals */
            z = A(m, m);
            r = x - z;
            s = y - z;
            p = (r * s - w) / A(m + 1, m) + A(m, m + 1);
            q = A(m + 1, m + 1) - z - r - s;
            r = A(m + 2, m + 1);
            s = fabs(p) + fabs(q) + fabs(r);
            p /= s;
            q /= s;
            r /= s;
            if (m == l) break;
            double u = fabs(A(m, m - 1)) * (fabs(q) + fabs(r));
            double v = fabs(p) * (fabs(A(m - 1, m - 1)) + fabs(z) +
                                  fabs(A(m + 1, m + 1)));
            if (u + v == v) break;
          }
          for (long i = m + 2; i <= nn; i++) {
            A(i, i - 2) = 0;
            if (i != m + 2) A(i, i - 3) = 0;
          }
          for (long k = m; k <= nn - 1; k++) {   /* the double QR step */
            if (k != m) {
              p = A(k, k - 1);
              q = A(k + 1, k - 1);
              r = 0;
              if (k != nn - 1) r = A(k + 2, k - 1);
              if ((x = fabs(p) + fabs(q) + fabs(r)) != 0) {
                p /= x;
                q /= x;
                r /= x;
              }
            }
            if ((s = sign(sqrt(p * p + q * q + r * r), p)) == 0) continue;
            if (k == m) {
              if (l != m) A(k, k - 1) = -A(k, k - 1);
            } else {
              A(k, k - 1) = -s * x;
            }
            p += s;
            x = p / s;
            y = q / s;
            z = r / s;
            q /= p;
            r /= p;
            for (long j = k; j <= nn; j++) {
              p = A(k, j) + q * A(k + 1, j);
              if (k != nn - 1) {
                p += r * A(k + 2, j);
                A(k + 2, j) -= p * z;
              }
              A(k + 1, j) -= p * y;
              A(k, j) -= p * x;
            }
            long mmin = nn < k + 3 ? nn : k + 3;
            for (long i = l; i <= mmin; i++) {
              p = x * A(i, k) + y * A(i, k + 1);
              if (k != nn - 1) {
                p += z * A(i, k + 2);
                A(i, k + 2) -= p * r;
              }
              A(i, k + 1) -= p * q;
              A(i, k) -= p;
            }
          }
        }
      }
    } while (l < nn - 1);
  }
  return MS_OK;
}

#undef A

ms_status ms_matrix_eigenvalues(const double *M, size_t n, double *re,
                                double *im) {
  MS_NEED(M);
  MS_NEED(re);
  MS_NEED(im);
  if (n == 0 || n > 1024)
    return ms_fail(MS_EINVAL, "n must be in [1, 1024], got %zu", n);
  for (size_t i = 0; i < n * n; i++)
    if (!isfinite(M[i]))
      return ms_fail(MS_EINVAL, "entry (%zu, %zu) is not finite", i / n + 1,
                     i % n + 1);
  double *a = ms_calloc(n * n + 2 * (n + 1), sizeof *a);
  if (a == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  double *wr = a + n * n, *wi = wr + n + 1;
  memcpy(a, M, n * n * sizeof *a);
  balance(a, n);
  hessenberg(a, n);
  ms_status st = hqr(a, n, wr, wi);
  /* the larger modulus first; a pair with the positive part first */
  for (size_t i = 0; st == MS_OK && i < n; i++) {
    re[i] = wr[i + 1];
    im[i] = wi[i + 1];
  }
  for (size_t i = 1; st == MS_OK && i < n; i++)
    for (size_t j = i; j > 0; j--) {
      double a1 = hypot(re[j - 1], im[j - 1]), a2 = hypot(re[j], im[j]);
      if (!(a2 > a1 || (a2 == a1 && (re[j] > re[j - 1] ||
                                     (re[j] == re[j - 1] && im[j] > im[j - 1])))))
        break;
      double t = re[j]; re[j] = re[j - 1]; re[j - 1] = t;
      t = im[j]; im[j] = im[j - 1]; im[j - 1] = t;
    }
  free(a);
  return st;
}
