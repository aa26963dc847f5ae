/* test_analysis.c -- the chapter's theory as computations: R(beta, eta,
 * lambda), its eigenvalues and spectral radius (against power iteration),
 * the convergence region, the optimal parameters, Jacobi's eigenvalues of
 * a constructed Q, and the minimiser of h(x) = x'Qx/2 + c'x + b. */
#include <stdlib.h>

#include "check.h"
#include "momsandbox.h"

/* The long-run growth factor of R^k v by power iteration: the mean of
 * log |v| per step after a burn-in, renormalising every step. */
static double power_radius(const double R[4], int steps) {
  double v[2] = {1, 0.3}, logsum = 0;
  for (int k = 0; k < 2 * steps; k++) {
    double a = R[0] * v[0] + R[1] * v[1], b = R[2] * v[0] + R[3] * v[1];
    double norm = sqrt(a * a + b * b);
    v[0] = a / norm;
    v[1] = b / norm;
    if (k >= steps) logsum += log(norm);
  }
  return exp(logsum / steps);
}

static void test_matrix_and_eigenvalues(void) {
  double R[4], re[2], im[2];
  CHECK_OK(ms_momentum_matrix(0.5, 0.6, 4, R));
  CHECK_EQ(R[0], 0.5);
  CHECK_EQ(R[1], 4);
  CHECK_EQ(R[2], -0.3);
  CHECK_NEAR(R[3], 1 - 2.4, 1e-15);
  /* the chapter's momentum run: z^2 + 0.9 z + 0.5, a complex pair */
  CHECK_OK(ms_momentum_eigenvalues(0.5, 0.6, 4, re, im));
  CHECK_NEAR(re[0], -0.45, 1e-15);
  CHECK_NEAR(im[0], sqrt(0.5 - 0.45 * 0.45), 1e-15);
  CHECK(im[1] == -im[0] && re[1] == re[0]);
  double rho;
  CHECK_OK(ms_momentum_radius(0.5, 0.6, 4, &rho));
  CHECK_NEAR(rho, sqrt(0.5), 1e-15);
  /* real roots: beta = 0.25, eta lambda = 0.04: z^2 - 1.21 z + 0.25 */
  CHECK_OK(ms_momentum_eigenvalues(0.25, 0.2, 0.2, re, im));
  double s = sqrt(1.21 * 1.21 - 1);
  CHECK_NEAR(re[0], (1.21 + s) / 2, 1e-15);
  CHECK_NEAR(re[1], (1.21 - s) / 2, 1e-15);
  CHECK(im[0] == 0 && im[1] == 0);
  /* beta = 0 is gradient descent: the roots 1 - eta lambda and 0 */
  CHECK_OK(ms_momentum_eigenvalues(0, 0.6, 4, re, im));
  CHECK_NEAR(re[0], -1.4, 1e-15);
  CHECK_EQ(re[1], 0);
  /* every root solves z^2 - T z + beta = 0 */
  ms_rng rng;
  ms_rng_seed(&rng, 3);
  for (int k = 0; k < 1000; k++) {
    double beta = ms_rng_uniform(&rng), lambda = exp(4 * ms_rng_uniform(&rng) - 2);
    double eta = 5 * ms_rng_uniform(&rng) / lambda + 1e-9;
    double T = 1 + beta - eta * lambda;
    CHECK_OK(ms_momentum_eigenvalues(beta, eta, lambda, re, im));
    for (int i = 0; i < 2; i++) {
      double pr = re[i] * re[i] - im[i] * im[i] - T * re[i] + beta;
      double pi = 2 * re[i] * im[i] - T * im[i];
      CHECK(fabs(pr) < 1e-12 * (1 + T * T) && fabs(pi) < 1e-12 * (1 + T * T));
    }
    CHECK(hypot(re[0], im[0]) >= hypot(re[1], im[1]));
  }
}

static void test_radius_is_power_iteration(void) {
  static const double cases[][3] = {
      {0.5, 0.6, 4},   {0.25, 0.6, 4},  {0.5, 0.6, 0.2}, {0.9, 0.1, 1},
      {0.0, 0.4, 4},   {0.1, 1.9, 1},   {0.5, 2.9, 1},   {0.5, 3.1, 1},
      {0.99, 0.01, 1}, {0.3, 0.05, 10}, {0.64, 0.04, 1}, /* double root */
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    double beta = cases[k][0], eta = cases[k][1], lambda = cases[k][2];
    double R[4], rho;
    CHECK_OK(ms_momentum_matrix(beta, eta, lambda, R));
    CHECK_OK(ms_momentum_radius(beta, eta, lambda, &rho));
    CHECK_NEAR(power_radius(R, 200000), rho, 2e-4 * rho);
  }
}

static void test_convergence_region(void) {
  int yes;
  for (double beta = 0; beta < 1; beta += 0.125) {
    double edge = 2 + 2 * beta, rho;
    CHECK_OK(ms_momentum_converges(beta, edge * 0.999, 1, &yes));
    CHECK(yes == 1);
    CHECK_OK(ms_momentum_radius(beta, edge * 0.999, 1, &rho));
    CHECK(rho < 1);
    CHECK_OK(ms_momentum_converges(beta, edge * 1.001, 1, &yes));
    CHECK(yes == 0);
    CHECK_OK(ms_momentum_radius(beta, edge * 1.001, 1, &rho));
    CHECK(rho > 1);
    CHECK_OK(ms_momentum_radius(beta, edge, 1, &rho));   /* on the edge */
    CHECK_NEAR(rho, 1, 1e-12);
  }
  double rate;
  CHECK_OK(ms_gd_rate(0.6, 4, &rate));
  CHECK_NEAR(rate, 1.4, 1e-15);
  CHECK_OK(ms_gd_rate(0.4, 0.2, &rate));
  CHECK_NEAR(rate, 0.92, 1e-15);
}

static void test_bad_scalars(void) {
  double R[4], x;
  int yes;
  CHECK_STATUS(ms_momentum_matrix(0.5, 0.1, 0, R), MS_EINVAL);
  CHECK_ERROR_HAS("lambda must be > 0");
  CHECK_STATUS(ms_momentum_radius(0.5, 0.1, -1, &x), MS_EINVAL);
  CHECK_ERROR_HAS("got -1");
  CHECK_STATUS(ms_momentum_radius(0.5, 0, 1, &x), MS_EINVAL);
  CHECK_ERROR_HAS("eta must be > 0, got 0");
  CHECK_STATUS(ms_momentum_converges(0.5, -0.1, 1, &yes), MS_EINVAL);
  CHECK_STATUS(ms_momentum_radius(1, 0.1, 1, &x), MS_EINVAL);
  CHECK_ERROR_HAS("beta must be in [0, 1), got 1");
  CHECK_STATUS(ms_momentum_radius(-0.1, 0.1, 1, &x), MS_EINVAL);
  CHECK_STATUS(ms_momentum_radius(NAN, 0.1, 1, &x), MS_EINVAL);
  CHECK_ERROR_HAS("got nan");
  CHECK_STATUS(ms_momentum_radius(0.5, INFINITY, 1, &x), MS_EINVAL);
  CHECK_STATUS(ms_gd_rate(0.1, 0, &x), MS_EINVAL);
  CHECK_STATUS(ms_gd_optimal(0, 1, &x, &x), MS_EINVAL);
  CHECK_ERROR_HAS("mu must be > 0");
  CHECK_STATUS(ms_momentum_optimal(2, 1, &x, &x, &x), MS_EINVAL);
  CHECK_ERROR_HAS("L must be finite and >= mu = 2, got 1");
}

/* ms_theory gives each formula by name, as its own function does. */
static void test_by_name(void) {
  const double in[3] = {0.5, 0.1, 4}, spectrum[3] = {0.2, 4, NAN};
  const double bad[3] = {NAN, 1, 1};
  double out[4], re[2], im[2], x[3];
  int n, yes;
  CHECK_OK(ms_theory("eigenvalues", in, out, &n));
  CHECK_OK(ms_momentum_eigenvalues(0.5, 0.1, 4, re, im));
  CHECK(n == 4 && out[0] == re[0] && out[1] == re[1]);
  CHECK(out[2] == im[0] && out[3] == im[1]);
  CHECK_OK(ms_theory("converges", in, out, &n));
  CHECK_OK(ms_momentum_converges(0.5, 0.1, 4, &yes));
  CHECK(n == 1 && out[0] == yes);
  CHECK_OK(ms_theory("momentum_optimal", spectrum, out, &n));
  CHECK_OK(ms_momentum_optimal(0.2, 4, &x[0], &x[1], &x[2]));
  CHECK(n == 3 && out[0] == x[0] && out[1] == x[1] && out[2] == x[2]);
  CHECK_STATUS(ms_theory("gd_rate", bad, out, &n), MS_EINVAL);
  CHECK_ERROR_HAS("eta must be > 0, got nan");
  CHECK_STATUS(ms_theory("speed", in, out, &n), MS_EINVAL);
  CHECK_ERROR_HAS("no formula 'speed'");
}

/* The worst radius over eigenvalues in [mu, L], densely sampled. */
static double worst_radius(double beta, double eta, double mu, double L) {
  double worst = 0, rho;
  for (int k = 0; k <= 2000; k++) {
    double lambda = mu + (L - mu) * k / 2000.0;
    if (ms_momentum_radius(beta, eta, lambda, &rho) != MS_OK) return NAN;
    worst = fmax(worst, rho);
  }
  return worst;
}

static void test_optimal(void) {
  double mu = 0.2, L = 4, kappa = 20;   /* the chapter's f */
  double eta, beta, rate, rho;
  CHECK_OK(ms_gd_optimal(mu, L, &eta, &rate));
  CHECK_NEAR(eta, 2 / 4.2, 1e-15);
  CHECK_NEAR(rate, (kappa - 1) / (kappa + 1), 1e-15);
  CHECK_OK(ms_gd_rate(eta, mu, &rho));
  CHECK_NEAR(rho, rate, 1e-15);
  CHECK_OK(ms_gd_rate(eta, L, &rho));
  CHECK_NEAR(rho, rate, 1e-15);

  CHECK_OK(ms_momentum_optimal(mu, L, &eta, &beta, &rate));
  double sk = sqrt(kappa);
  CHECK_NEAR(rate, (sk - 1) / (sk + 1), 1e-15);
  CHECK_NEAR(beta, rate * rate, 1e-15);
  CHECK_NEAR(eta, 4 / pow(sqrt(L) + sqrt(mu), 2), 1e-15);
  /* every eigenvalue in [mu, L] contracts by sqrt(beta) */
  CHECK_NEAR(worst_radius(beta, eta, mu, L), rate, 1e-6);
  /* and no parameters nearby do better */
  for (int i = -3; i <= 3; i++)
    for (int j = -3; j <= 3; j++) {
      if (i == 0 && j == 0) continue;
      double e = eta * (1 + 0.02 * i), b = beta + 0.01 * j;
      CHECK(worst_radius(b, e, mu, L) > rate);
    }
}

/* Q = V diag(lambda) V' for the orthogonal V made of Givens rotations. */
static void constructed(double *Q, double *V, const double *lambda, size_t n,
                        uint64_t seed) {
  ms_rng rng;
  ms_rng_seed(&rng, seed);
  for (size_t i = 0; i < n * n; i++) V[i] = i % (n + 1) == 0;
  for (int r = 0; r < 200; r++) {
    size_t p = ms_rng_below(&rng, n), q = ms_rng_below(&rng, n);
    if (p == q) continue;
    double a = 6.283185307179586 * ms_rng_uniform(&rng), c = cos(a), s = sin(a);
    for (size_t k = 0; k < n; k++) {
      double vp = V[k * n + p], vq = V[k * n + q];
      V[k * n + p] = c * vp - s * vq;
      V[k * n + q] = s * vp + c * vq;
    }
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = 0; j < n; j++) {
      double q = 0;
      for (size_t k = 0; k < n; k++) q += V[i * n + k] * lambda[k] * V[j * n + k];
      Q[i * n + j] = q;
    }
  for (size_t i = 0; i < n; i++)   /* exactly symmetric */
    for (size_t j = 0; j < i; j++) Q[i * n + j] = Q[j * n + i];
}

static void test_jacobi(void) {
  enum { N = 12 };
  double lambda[N], Q[N * N], V[N * N], values[N], vectors[N * N];
  for (size_t k = 0; k < N; k++) lambda[k] = pow(2, -(double)k) - (k == 5 ? 3 : 0);
  lambda[7] = lambda[8];   /* a repeated eigenvalue */
  constructed(Q, V, lambda, N, 11);
  CHECK_OK(ms_eigen_symmetric(Q, N, values, vectors));
  double sorted[N];
  memcpy(sorted, lambda, sizeof sorted);
  for (size_t i = 1; i < N; i++)
    for (size_t j = i; j > 0 && sorted[j] < sorted[j - 1]; j--) {
      double t = sorted[j];
      sorted[j] = sorted[j - 1];
      sorted[j - 1] = t;
    }
  for (size_t k = 0; k < N; k++) {
    CHECK_NEAR(values[k], sorted[k], 1e-14);
    const double *v = vectors + k * N;
    double norm = 0, resid = 0;
    for (size_t i = 0; i < N; i++) {
      double qv = 0;
      for (size_t j = 0; j < N; j++) qv += Q[i * N + j] * v[j];
      resid = fmax(resid, fabs(qv - values[k] * v[i]));
      norm += v[i] * v[i];
    }
    CHECK_NEAR(norm, 1, 1e-14);
    CHECK(resid < 1e-14);
    for (size_t l = 0; l < k; l++) {
      double dot = 0;
      for (size_t i = 0; i < N; i++) dot += v[i] * vectors[l * N + i];
      CHECK(fabs(dot) < 1e-13);
    }
  }
  /* values alone; a 1 x 1 matrix; a 2 x 2 one by hand */
  CHECK_OK(ms_eigen_symmetric(Q, N, values, NULL));
  CHECK_NEAR(values[N - 1], 1, 1e-14);
  double one = -2;
  CHECK_OK(ms_eigen_symmetric(&one, 1, values, vectors));
  CHECK(values[0] == -2 && vectors[0] == 1);
  double two[4] = {2, 1, 1, 2};
  CHECK_OK(ms_eigen_symmetric(two, 2, values, vectors));
  CHECK_NEAR(values[0], 1, 1e-15);
  CHECK_NEAR(values[1], 3, 1e-15);
  CHECK_NEAR(vectors[2], sqrt(0.5), 1e-15);
  CHECK_NEAR(vectors[3], sqrt(0.5), 1e-15);
  /* {{2a, a}, {a, 2a}} has eigenvalues a and 3a at every scale: entries
   * whose squares overflow or underflow are scaled first */
  for (int e = -1000; e <= 1000; e += 50) {
    double a = ldexp(1, e), big[4] = {2 * a, a, a, 2 * a};
    CHECK_OK(ms_eigen_symmetric(big, 2, values, vectors));
    CHECK_NEAR(values[0] / a, 1, 1e-15);
    CHECK_NEAR(values[1] / a, 3, 1e-15);
    CHECK_NEAR(vectors[0], sqrt(0.5), 1e-15);
  }
  double huge[4] = {2e160, 1e160, 1e160, 2e160};
  CHECK_OK(ms_eigen_symmetric(huge, 2, values, NULL));
  CHECK_NEAR(values[0] / 1e160, 1, 1e-15);
  CHECK_NEAR(values[1] / 1e160, 3, 1e-15);
  /* bad matrices */
  double skew[4] = {1, 2, 0, 1};
  CHECK_STATUS(ms_eigen_symmetric(skew, 2, values, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("Q is not symmetric: Q[1][2] = 2 but Q[2][1] = 0");
  CHECK_STATUS(ms_eigen_symmetric(skew, 0, values, NULL), MS_EINVAL);
  double inf[1] = {INFINITY};
  CHECK_STATUS(ms_eigen_symmetric(inf, 1, values, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("Q[1][1] is not finite");
}

static void test_minimize(void) {
  enum { N = 8 };
  ms_rng rng;
  ms_rng_seed(&rng, 5);
  double A[N * N], Q[N * N], c[N], x[N], hmin;
  for (size_t i = 0; i < N * N; i++) A[i] = ms_rng_normal(&rng);
  for (size_t i = 0; i < N; i++) {
    c[i] = 10 * ms_rng_normal(&rng);
    for (size_t j = 0; j < N; j++) {
      double q = i == j ? 0.1 : 0;   /* Q = A'A + I/10 */
      for (size_t k = 0; k < N; k++) q += A[k * N + i] * A[k * N + j];
      Q[i * N + j] = q;
    }
  }
  CHECK_OK(ms_quadratic_minimize(Q, c, 3, N, x, &hmin));
  double h = 3, worst = 0;
  for (size_t i = 0; i < N; i++) {
    double qx = 0;
    for (size_t j = 0; j < N; j++) qx += Q[i * N + j] * x[j];
    worst = fmax(worst, fabs(qx + c[i]));
    h += x[i] * (0.5 * qx + c[i]);
  }
  CHECK(worst <= 1e-12);
  CHECK_NEAR(hmin, h, 1e-10 * fabs(h));
  /* nowhere lower nearby */
  for (size_t i = 0; i < N; i++) {
    x[i] += 1e-3;
    double hx = 3;
    for (size_t r = 0; r < N; r++) {
      double qx = 0;
      for (size_t j = 0; j < N; j++) qx += Q[r * N + j] * x[j];
      hx += x[r] * (0.5 * qx + c[r]);
    }
    CHECK(hx > hmin);
    x[i] -= 1e-3;
  }
  CHECK_OK(ms_quadratic_minimize(Q, NULL, 2, N, x, &hmin));
  CHECK(x[0] == 0 && hmin == 2);
  double indefinite[4] = {1, 0, 0, -1}, two[2] = {1, 1};
  CHECK_STATUS(ms_quadratic_minimize(indefinite, two, 0, 2, x, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("Q is not positive definite (its smallest eigenvalue is -1)");
  double singular[4] = {1, 1, 1, 1};
  CHECK_STATUS(ms_quadratic_minimize(singular, two, 0, 2, x, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("not positive definite");
  double skew[4] = {2, 1, 0, 2};
  CHECK_STATUS(ms_quadratic_minimize(skew, two, 0, 2, x, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("Q is not symmetric");
  two[1] = NAN;
  double spd[4] = {2, 1, 1, 2};
  CHECK_STATUS(ms_quadratic_minimize(spd, two, 0, 2, x, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("c[2] is not finite");
  /* at any scale: Q = a {{2, 1}, {1, 2}}, c = -a (1, 1) gives x = (1/3,
   * 1/3), h = -a/3; a {{1, 2}, {2, 1}} (eigenvalues 3a, -a) is refused */
  for (int e = -1000; e <= 1000; e += 50) {
    double a = ldexp(1, e), q[4] = {2 * a, a, a, 2 * a}, cc[2] = {-a, -a}, h;
    CHECK_OK(ms_quadratic_minimize(q, cc, 0, 2, x, &h));
    CHECK_NEAR(x[0], 1.0 / 3, 1e-15);
    CHECK_NEAR(x[1], 1.0 / 3, 1e-15);
    CHECK_NEAR(h / a, -1.0 / 3, 1e-15);
    double ind[4] = {a, 2 * a, 2 * a, a};
    CHECK_STATUS(ms_quadratic_minimize(ind, cc, 0, 2, x, NULL), MS_EINVAL);
    CHECK_ERROR_HAS("not positive definite");
  }
  /* a minimiser beyond the doubles: refused, not infinite */
  double tiny[4] = {1e-300, 0, 0, 1e-300}, far[2] = {-1e300, 0};
  CHECK_STATUS(ms_quadratic_minimize(tiny, far, 0, 2, x, NULL), MS_ERANGE);
  CHECK_ERROR_HAS("too large for a double");
}

static ms_status plain(void *ctx, const double *x, size_t n, double *f,
                       double *grad) {
  (void)ctx, (void)n;
  if (f) *f = x[0] * x[0];
  if (grad) grad[0] = 2 * x[0];
  return MS_OK;
}

static void test_introspection(void) {
  double lambda[2] = {0.2, 4}, got[2], Q[4], c[2], b;
  ms_objective *f, *g, *h, *r, *u;
  CHECK_OK(ms_objective_quadratic(lambda, 2, &f));
  CHECK(ms_objective_diagonal(f, got) == 1 && got[0] == 0.2 && got[1] == 4);
  CHECK(ms_objective_quadratic_parts(f, Q, c, &b) == 1);
  CHECK(Q[0] == 0.2 && Q[1] == 0 && Q[2] == 0 && Q[3] == 4 && c[1] == 0 && b == 0);
  double diag[4] = {1, 0, 0, 3}, full[4] = {2, 1, 1, 2}, cc[2] = {1, 0};
  CHECK_OK(ms_objective_quadratic_form(diag, NULL, 0, 2, &g));
  CHECK(ms_objective_diagonal(g, got) == 1 && got[0] == 1 && got[1] == 3);
  CHECK_OK(ms_objective_quadratic_form(diag, cc, 0, 2, &h));
  CHECK(ms_objective_diagonal(h, NULL) == 0);
  CHECK(ms_objective_quadratic_parts(h, Q, c, &b) == 1 && c[0] == 1);
  ms_objective_free(h);
  CHECK_OK(ms_objective_quadratic_form(full, cc, 5, 2, &h));
  CHECK(ms_objective_diagonal(h, NULL) == 0);
  CHECK(ms_objective_quadratic_parts(h, Q, NULL, &b) == 1 && Q[1] == 1 && b == 5);
  CHECK_OK(ms_objective_rosenbrock(1, 100, 2, &r));
  CHECK(ms_objective_diagonal(r, NULL) == 0 && ms_objective_quadratic_parts(r, NULL, NULL, NULL) == 0);
  CHECK_OK(ms_objective_new(1, plain, 1, NULL, NULL, &u));
  CHECK(ms_objective_is_pure(f) && ms_objective_is_pure(h) && ms_objective_is_pure(r));
  CHECK(!ms_objective_is_pure(u) && ms_objective_diagonal(u, NULL) == 0);
  ms_objective_free(f);
  ms_objective_free(g);
  ms_objective_free(h);
  ms_objective_free(r);
  ms_objective_free(u);
}

int main(void) {
  test_matrix_and_eigenvalues();
  test_radius_is_power_iteration();
  test_convergence_region();
  test_bad_scalars();
  test_by_name();
  test_optimal();
  test_jacobi();
  test_minimize();
  test_introspection();
  return check_report("test_analysis");
}
