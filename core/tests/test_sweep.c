/* test_sweep.c -- sweeps: the vectorised and the general loop agree bit
 * for bit, measured rates match the spectral radius, divergence steps,
 * threads and shards do not change results, interrupts and failures stop
 * every thread, bad grids are refused, CSV parts concatenate. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"   /* ms_fail, for a callback that fails */
#include "sweep.h"      /* ms_sweep_check_memory */

static ms_objective *quadratic(double l1, double l2, size_t n) {
  double lambda[2] = {l1, l2};
  ms_objective *f = NULL;
  CHECK_OK(ms_objective_quadratic(lambda, n, &f));
  return f;
}

static ms_rule *rule(const char *name) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find(name), &r));
  return r;
}

static ms_sweep_opts opts(int64_t steps, int measures) {
  ms_sweep_opts o;
  ms_sweep_opts_init(&o);
  o.steps = steps;
  o.measures = measures;
  return o;
}

enum { ALL = MS_MEASURE_LOSS | MS_MEASURE_RATE | MS_MEASURE_STEPS };

/* Runs that diverged, converged to the floor, and measured a rate. */
static int64_t seen[3];

/* Run s with the vectorised loop and without: identical results. */
static void check_both_ways(ms_sweep *s, int64_t steps, int expect_fast) {
  ms_sweep_opts o = opts(steps, ALL);
  o.tol = 1e-9;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_was_fast(s) == expect_fast);
  int64_t n = ms_sweep_count(s);
  ms_sweep_result *fast = malloc((size_t)n * sizeof *fast);
  memcpy(fast, ms_sweep_results(s), (size_t)n * sizeof *fast);
  o.fast = 0;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_was_fast(s) == 0);
  CHECK(memcmp(fast, ms_sweep_results(s), (size_t)n * sizeof *fast) == 0);
  for (int64_t i = 0; i < n; i++) {
    seen[0] += fast[i].diverged > 0;
    seen[1] += fast[i].loss == 0;
    seen[2] += !isnan(fast[i].rate);
  }
  free(fast);
}

static void test_fast_is_general(void) {
  ms_objective *f = quadratic(0.2, 4, 2);
  const double x0[2] = {-5, -2};
  static const char *const names[] = {"momentum", "gd", "nesterov", "sgd"};
  for (size_t k = 0; k < 4; k++) {
    ms_rule *r = rule(names[k]);
    ms_sweep *s;
    CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
    CHECK_OK(ms_sweep_range(s, "lr", 0.05, 1.1, 12, 0));
    if (k == 0) {
      double beta[] = {0, 0.25, 0.5, 0.9};
      CHECK_OK(ms_sweep_axis(s, "beta", beta, 4));
    } else if (k >= 2) {
      CHECK_OK(ms_sweep_range(s, "momentum", 0.1, 0.9, 3, 0));
    }
    if (k == 3) {
      double on[] = {1};
      CHECK_OK(ms_sweep_axis(s, "nesterov", on, 1));
    }
    double scale[] = {0.5, 1, 2};
    if (k == 0) CHECK_OK(ms_sweep_axis(s, "scale", scale, 3));
    check_both_ways(s, 1500, 1);
    ms_sweep_free(s);
    ms_rule_free(r);
  }
  CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);   /* every case met */
  /* a diagonal quadratic form knows no minimiser: with f* alone, the
   * general loop (which cannot stop at the floor without x*); given x*,
   * the vectorised one, with f as the form computes it */
  double Q[4] = {0.2, 0, 0, 4}, zero = 0, origin[2] = {0, 0};
  ms_objective *form;
  CHECK_OK(ms_objective_quadratic_form(Q, NULL, 0, 2, &form));
  ms_rule *m = rule("momentum");
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(form, m, x0, 2, &s));
  CHECK_OK(ms_sweep_range(s, "lr", 0.05, 1.1, 12, 0));
  CHECK_OK(ms_sweep_range(s, "beta", 0, 0.9, 4, 0));
  CHECK_OK(ms_sweep_target(s, NULL, &zero));
  ms_sweep_opts o = opts(100, MS_MEASURE_LOSS | MS_MEASURE_STEPS);
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_was_fast(s) == 0);
  CHECK_OK(ms_sweep_target(s, origin, NULL));
  check_both_ways(s, 1500, 1);
  ms_sweep_free(s);
  ms_rule_free(m);
  ms_objective_free(form);
  /* sgd with dampening is not heavy ball: the general loop only */
  ms_rule *r = rule("sgd");
  CHECK_OK(ms_rule_set(r, "momentum", 0.5));
  CHECK_OK(ms_rule_set(r, "dampening", 0.5));
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  CHECK_OK(ms_sweep_range(s, "lr", 0.05, 1.1, 12, 0));
  o = opts(100, MS_MEASURE_LOSS);
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_was_fast(s) == 0);
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* 1000 random (eta, beta, lambda): lambda as the scale of x^2 / 2. */
static void test_rate_is_radius(void) {
  enum { N = 1000 };
  ms_objective *f = quadratic(1, 0, 1);
  ms_rule *r = rule("momentum");
  const double x0[1] = {1};
  static const char *const names[] = {"lr", "beta", "scale"};
  double *pts = malloc(3 * N * sizeof *pts);
  ms_rng rng;
  ms_rng_seed(&rng, 2024);
  for (int k = 0; k < N; k++) {
    double beta = 0.99 * ms_rng_uniform(&rng);
    double lambda = exp(log(0.01) + log(1e4) * ms_rng_uniform(&rng));
    double el = (2 + 2 * beta) * (0.001 + 0.998 * ms_rng_uniform(&rng));
    pts[3 * k] = el / lambda;
    pts[3 * k + 1] = beta;
    pts[3 * k + 2] = lambda;
  }
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, 1, &s));
  CHECK_OK(ms_sweep_points(s, names, 3, pts, N));
  ms_sweep_opts o = opts(2000, MS_MEASURE_RATE);
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_was_fast(s));
  CHECK(ms_sweep_threads(s) == (sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1) ||
        sysconf(_SC_NPROCESSORS_ONLN) > 2);
  const ms_sweep_result *res = ms_sweep_results(s);
  double worst = 0;
  for (int k = 0; k < N; k++) {
    double rho;
    CHECK_OK(ms_momentum_radius(pts[3 * k + 1], pts[3 * k], pts[3 * k + 2], &rho));
    CHECK(res[k].diverged == 0);
    worst = fmax(worst, fabs(res[k].rate - rho));
  }
  CHECK(worst <= 1e-3);
  ms_sweep_free(s);
  free(pts);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* gd with eta lambda = 1 reaches x* = 0 in one step: its rate is 0 (not
 * NaN, which best("rate") would pass over); eta lambda = 0.5 halves. */
static void test_exact_convergence_rate(void) {
  ms_objective *f = quadratic(1, 0, 1);
  ms_rule *r = rule("momentum");
  const double x0[1] = {1};
  static const char *const names[] = {"lr", "beta"};
  const double pts[] = {1, 0, 0.5, 0};
  for (int fast = 0; fast <= 1; fast++) {
    ms_sweep *s;
    CHECK_OK(ms_sweep_new(f, r, x0, 1, &s));
    CHECK_OK(ms_sweep_points(s, names, 2, pts, 2));
    ms_sweep_opts o = opts(200, MS_MEASURE_RATE);
    o.fast = fast;
    CHECK_OK(ms_sweep_run(s, &o));
    const ms_sweep_result *res = ms_sweep_results(s);
    CHECK(res[0].rate == 0 && res[0].diverged == 0);
    CHECK_NEAR(res[1].rate, 0.5, 1e-12);
    ms_sweep_free(s);
  }
  ms_rule_free(r);
  ms_objective_free(f);
}

/* gd with eta lambda = 2.4: x_t = (-1.4)^t until x or g = 4x overflows. */
static void test_divergence_step(void) {
  ms_objective *f = quadratic(4, 0, 1);
  ms_rule *r = rule("gd");
  const double x0[1] = {1};
  double x = 1, lr = 0.6;
  int64_t expect = 0;
  for (int64_t t = 1; !expect; t++) {   /* x_t = (-1.4)^t, f = 2 x^2 */
    double g = 4 * x;
    x += -lr * g;
    if (!isfinite(g) || !isfinite(x) || !isfinite(0.0 + 0.5 * 4 * x * x))
      expect = t;
  }
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, 1, &s));
  CHECK_OK(ms_sweep_axis(s, "lr", &lr, 1));
  for (int fast = 0; fast <= 1; fast++) {
    ms_sweep_opts o = opts(5000, MS_MEASURE_LOSS | MS_MEASURE_RATE);
    o.fast = fast;
    CHECK_OK(ms_sweep_run(s, &o));
    const ms_sweep_result *res = ms_sweep_results(s);
    CHECK(res[0].diverged == expect && expect > 1000);   /* f: ~1e308 */
    CHECK(res[0].loss == INFINITY);
    CHECK_NEAR(res[0].rate, 1.4, 1e-6);   /* measured until it overflowed */
  }
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* Steps to f <= tol for gd on lambda x^2 / 2: f_t = f_0 q^(2t). */
static void test_steps(void) {
  ms_objective *f = quadratic(2, 0, 1);
  ms_rule *r = rule("gd");
  const double x0[1] = {3};
  double lr[] = {0.1, 0.25, 0.4, 0.5};
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, 1, &s));
  CHECK_OK(ms_sweep_axis(s, "lr", lr, 4));
  ms_sweep_opts o = opts(200, MS_MEASURE_STEPS);
  o.tol = 1e-8;
  CHECK_OK(ms_sweep_run(s, &o));
  const ms_sweep_result *res = ms_sweep_results(s);
  for (int k = 0; k < 3; k++) {
    double q = fabs(1 - 2 * lr[k]);
    double t = ceil(log(1e-8 / 9) / (2 * log(q)));
    CHECK(res[k].steps == t || res[k].steps == t + 1);   /* rounding */
    CHECK(isnan(res[k].rate));                           /* not asked for */
  }
  CHECK(res[3].steps == 1 && res[3].loss == 0);   /* x_1 = 0 exactly */
  o.tol = 100;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_results(s)[0].steps == 0);        /* f(x_0) = 9 */
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

static char *slurp(const char *path) {
  FILE *fp = fopen(path, "rb");
  if (fp == NULL) return NULL;
  char *buf = calloc(1 << 20, 1);
  size_t len = fread(buf, 1, (1 << 20) - 1, fp);
  buf[len] = '\0';
  fclose(fp);
  return buf;
}

static void test_threads_shards_csv(void) {
  ms_objective *f = quadratic(0.2, 4, 2);
  ms_rule *r = rule("momentum");
  const double x0[2] = {-5, -2};
  ms_sweep *s, *part;
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  CHECK_OK(ms_sweep_range(s, "lr", 0.01, 1, 37, 1));
  CHECK_OK(ms_sweep_range(s, "beta", 0, 0.9, 10, 0));
  CHECK(ms_sweep_total(s) == 370);
  CHECK_NEAR(ms_sweep_value(s, 36, 0), 1, 0);
  CHECK_NEAR(ms_sweep_value(s, 37, 0), 0.01, 0);
  CHECK_NEAR(ms_sweep_value(s, 37, 1), 0.1, 1e-16);
  CHECK_NEAR(ms_sweep_axis_value(s, 0, 18), 0.1, 1e-15);   /* geometric */
  ms_sweep_opts o = opts(500, ALL);
  o.threads = 1;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_threads(s) == 1);
  char dir[] = "/tmp/test_sweep_XXXXXX";
  CHECK(mkdtemp(dir) != NULL);
  char whole[64], parts[64];
  snprintf(whole, sizeof whole, "%s/whole.csv", dir);
  CHECK_OK(ms_sweep_write_csv(s, whole, 1));
  ms_sweep_result *one = malloc(370 * sizeof *one);
  memcpy(one, ms_sweep_results(s), 370 * sizeof *one);
  o.threads = 4;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_threads(s) == 4);
  CHECK(memcmp(one, ms_sweep_results(s), 370 * sizeof *one) == 0);
  /* at most 4 threads per online CPU, whatever is asked */
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  o.threads = 1024;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_threads(s) >= 1 && ms_sweep_threads(s) <= 4 * cpus);
  CHECK(memcmp(one, ms_sweep_results(s), 370 * sizeof *one) == 0);
  /* three shards of 124, 123 and 123 points, in order */
  FILE *cat = fopen((snprintf(parts, sizeof parts, "%s/parts.csv", dir), parts), "wb");
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &part));
  CHECK_OK(ms_sweep_range(part, "lr", 0.01, 1, 37, 1));
  CHECK_OK(ms_sweep_range(part, "beta", 0, 0.9, 10, 0));
  int64_t next = 0;
  for (int k = 0; k < 3; k++) {
    o.shard = k;
    o.shards = 3;
    CHECK_OK(ms_sweep_run(part, &o));
    CHECK(ms_sweep_first(part) == next && ms_sweep_count(part) == (k ? 123 : 124));
    CHECK(memcmp(one + next, ms_sweep_results(part),
                 (size_t)ms_sweep_count(part) * sizeof *one) == 0);
    double col[124];   /* the columns of this shard: axes, then results */
    CHECK_OK(ms_sweep_column(part, 1, col));
    CHECK_EQ(col[0], ms_sweep_value(part, next, 1));
    CHECK_OK(ms_sweep_column(part, 2, col));
    CHECK_EQ(col[1], one[next + 1].loss);
    CHECK_OK(ms_sweep_column(part, 5, col));
    CHECK_EQ(col[2], (double)one[next + 2].diverged);
    CHECK_STATUS(ms_sweep_column(part, 6, col), MS_EINVAL);
    next += ms_sweep_count(part);
    char name[64];
    snprintf(name, sizeof name, "%s/part%d.csv", dir, k);
    CHECK_OK(ms_sweep_write_csv(part, name, k == 0));
    char *text = slurp(name);
    fputs(text, cat);
    free(text);
    remove(name);
  }
  fclose(cat);
  char *a = slurp(whole), *b = slurp(parts);
  CHECK(a && b && strcmp(a, b) == 0);
  CHECK(strncmp(a, "lr,beta,loss,rate,steps,diverged\n0.01,0,", 40) == 0);
  int lines = 0;
  for (char *p = a; *p; p++) lines += *p == '\n';
  CHECK(lines == 371);
  free(a);
  free(b);
  remove(whole);
  remove(parts);
  rmdir(dir);
  free(one);
  ms_sweep_free(part);
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

static int progress_calls;

static ms_status interrupting(void *ctx, int64_t done, int64_t total,
                              double seconds) {
  (void)ctx, (void)done, (void)total, (void)seconds;
  if (++progress_calls == 2) ms_interrupt();
  return MS_OK;
}

static ms_status refusing(void *ctx, int64_t done, int64_t total,
                          double seconds) {
  (void)ctx, (void)done, (void)total, (void)seconds;
  return ms_fail(MS_ECALLBACK, "stopped by the progress callback");
}

/* A long sweep stops on ms_interrupt (from the calling thread, as the
 * CLI's handler) and keeps no results. */
static void test_interrupt(void) {
  ms_objective *f = quadratic(1e-9, 1e-9, 2);   /* far from converging */
  ms_rule *r = rule("momentum");
  const double x0[2] = {1, 1};
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  CHECK_OK(ms_sweep_range(s, "lr", 0.01, 1, 1000, 0));
  CHECK_OK(ms_sweep_range(s, "beta", 0, 0.9, 10, 0));
  for (int threads = 1; threads <= 2; threads++) {
    ms_sweep_opts o = opts(1000000, MS_MEASURE_LOSS);   /* 2e10 steps */
    o.threads = threads;
    o.progress = interrupting;
    progress_calls = 0;
    CHECK_STATUS(ms_sweep_run(s, &o), MS_EINTR);
    CHECK(ms_sweep_count(s) == 0 && ms_sweep_results(s) == NULL);
    ms_interrupt_clear();   /* served (the host's business) */
    o.progress = refusing;
    CHECK_STATUS(ms_sweep_run(s, &o), MS_ECALLBACK);
    CHECK_ERROR_HAS("stopped by the progress callback");
  }
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* A failure on a worker thread (a schedule leaving the range of lr)
 * stops them all and is reported once, naming the point. */
static void test_worker_failure(void) {
  ms_objective *f = quadratic(0.2, 4, 2);
  ms_rule *r = rule("momentum");
  ms_schedule *lr;
  CHECK_OK(ms_schedule_linear(0.1, 1, -1, 100, &lr));   /* < 0 from k = 51 */
  CHECK_OK(ms_rule_set_schedule(r, "lr", lr));
  const double x0[2] = {-5, -2};
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  CHECK_OK(ms_sweep_range(s, "beta", 0, 0.9, 64, 0));
  ms_sweep_opts o = opts(1000, MS_MEASURE_LOSS);
  o.threads = 2;
  CHECK_STATUS(ms_sweep_run(s, &o), MS_EINVAL);
  CHECK(ms_sweep_threads(s) == 2 && ms_sweep_was_fast(s) == 0);
  CHECK_ERROR_HAS("at beta=");
  CHECK_ERROR_HAS("the schedule of lr at step 52: lr must be in [0, inf)");
  CHECK(ms_sweep_results(s) == NULL);
  o.steps = 50;   /* stops before the schedule turns */
  CHECK_OK(ms_sweep_run(s, &o));
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_schedule_free(lr);
  ms_objective_free(f);
}

static int calls;

/* A user objective (a callback): runs on the calling thread only. */
static ms_status flaky(void *ctx, const double *x, size_t n, double *f,
                       double *grad) {
  (void)ctx;
  if (++calls == 500) return ms_fail(MS_ECALLBACK, "flaky failed");
  if (f) *f = 0.5 * ms_vec_dot(x, x, n);
  if (grad) ms_vec_copy(grad, x, n);
  return MS_OK;
}

static void test_user_objective(void) {
  ms_objective *f;
  CHECK_OK(ms_objective_new(2, flaky, 1, NULL, NULL, &f));
  ms_rule *r = rule("momentum");
  const double x0[2] = {1, 2}, xstar[2] = {0, 0};
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  CHECK_OK(ms_sweep_range(s, "lr", 0.1, 0.5, 5, 0));
  ms_sweep_opts o = opts(200, MS_MEASURE_RATE);
  CHECK_STATUS(ms_sweep_run(s, &o), MS_EINVAL);
  CHECK_ERROR_HAS("the rate needs the minimiser x*");
  CHECK_OK(ms_sweep_target(s, xstar, NULL));
  calls = 0;
  CHECK_STATUS(ms_sweep_run(s, &o), MS_ECALLBACK);
  CHECK(ms_sweep_threads(s) == 1);
  CHECK_ERROR_HAS("flaky failed");
  calls = 1000;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_threads(s) == 1 && !ms_sweep_was_fast(s));
  double rate = ms_sweep_results(s)[0].rate;   /* sqrt(0.9), roughly */
  CHECK(rate > 0.9 && rate < 1);
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* The general loop follows trace.c's, look-ahead rules included. */
static void test_general_is_trace(void) {
  ms_objective *f = quadratic(0.2, 4, 2);
  ms_rule *r = rule("nag");
  CHECK_OK(ms_rule_set(r, "lr", 0.3));
  const double x0[2] = {-5, -2};
  double mom = 0.6;
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  CHECK_OK(ms_sweep_axis(s, "momentum", &mom, 1));
  ms_sweep_opts o = opts(37, MS_MEASURE_LOSS);
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(!ms_sweep_was_fast(s));
  ms_trace *tr;
  ms_trace_opts to = {.steps = 37, .every = 1};
  CHECK_OK(ms_rule_set(r, "momentum", mom));
  CHECK_OK(ms_trace_run(f, r, x0, 2, &to, &tr));
  CHECK_EQ(ms_sweep_results(s)[0].loss, ms_trace_value(tr, 37));
  ms_trace_free(tr);
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

static void test_bad_grids(void) {
  ms_objective *f = quadratic(0.2, 4, 2);
  ms_rule *r = rule("momentum");
  const double x0[2] = {-5, -2}, bad_x0[2] = {NAN, 1};
  ms_sweep *s;
  CHECK_STATUS(ms_sweep_new(f, r, x0, 3, &s), MS_ESIZE);
  CHECK_STATUS(ms_sweep_new(f, r, bad_x0, 2, &s), MS_EINVAL);
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  CHECK_STATUS(ms_sweep_range(s, "lr", 0.1, 1, 0, 0), MS_EINVAL);
  CHECK_ERROR_HAS("lr: empty range (n = 0)");
  CHECK_STATUS(ms_sweep_range(s, "lr", 1, 0.1, 10, 0), MS_EINVAL);
  CHECK_ERROR_HAS("lr: reversed range (from 1 > to 0.1)");
  CHECK_STATUS(ms_sweep_range(s, "lr", 0.5, 0.5, 3, 0), MS_EINVAL);
  CHECK_ERROR_HAS("gives one value, not n = 3");
  CHECK_STATUS(ms_sweep_range(s, "lr", 0, 1, 10, 1), MS_EINVAL);
  CHECK_ERROR_HAS("a log range needs from > 0");
  CHECK_STATUS(ms_sweep_range(s, "lr", 0, INFINITY, 10, 0), MS_EINVAL);
  CHECK_STATUS(ms_sweep_range(s, "beta", 0.5, 1, 10, 0), MS_EINVAL);
  CHECK_ERROR_HAS("beta must be in [0, 1), got 1");
  CHECK_STATUS(ms_sweep_range(s, "lrr", 0.1, 1, 10, 0), MS_EINVAL);
  CHECK_ERROR_HAS("momentum has no hyper-parameter 'lrr' (it takes lr, beta;");
  CHECK_STATUS(ms_sweep_axis(s, "beta", x0, 0), MS_EINVAL);
  CHECK_ERROR_HAS("beta: no values");
  CHECK(ms_sweep_naxes(s) == 0);   /* nothing half-added */
  /* lr is required: neither the rule nor the grid gives it */
  double beta = 0.5;
  CHECK_OK(ms_sweep_axis(s, "beta", &beta, 1));
  CHECK_STATUS(ms_sweep_axis(s, "beta", &beta, 1), MS_EINVAL);
  CHECK_ERROR_HAS("beta is in the grid twice");
  CHECK_STATUS(ms_sweep_run(s, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("lr is required");
  /* a grid too large for memory: refused before anything runs */
  CHECK_OK(ms_sweep_range(s, "lr", 1e-6, 1, 1000000, 1));
  CHECK_OK(ms_sweep_range(s, "scale", 1, 2, 10000000, 0));
  ms_sweep_opts o = opts(10, MS_MEASURE_LOSS);
  CHECK_STATUS(ms_sweep_run(s, &o), MS_ERANGE);
  CHECK_ERROR_HAS("a sweep of 1e+13 points needs 291.0 TiB for its results");
  /* the work space of every thread counts: 8 threads of phys / 8 do not
   * fit in half of phys, 4 threads of phys / 16 do */
  double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  CHECK_OK(ms_sweep_check_memory(100, 4, phys / 16));
  CHECK_STATUS(ms_sweep_check_memory(100, 8, phys / 8), MS_ERANGE);
  CHECK_ERROR_HAS("a sweep of 100 points on 8 threads needs ");
  CHECK_ERROR_HAS(" of work space for each thread and ");
  CHECK_ERROR_HAS(": use fewer threads");
  CHECK_STATUS(ms_sweep_check_memory(1, 1, phys), MS_ERANGE);
  CHECK(strstr(ms_last_error(), "fewer threads") == NULL);
  o.shards = 0;
  CHECK_STATUS(ms_sweep_run(s, &o), MS_EINVAL);
  CHECK_ERROR_HAS("shard 0 of 0");
  o = opts(-1, MS_MEASURE_LOSS);
  CHECK_STATUS(ms_sweep_run(s, &o), MS_EINVAL);
  o = opts(10, 8);
  CHECK_STATUS(ms_sweep_run(s, &o), MS_EINVAL);
  const char *names[] = {"lr"};
  CHECK_STATUS(ms_sweep_points(s, names, 1, x0, 1), MS_EINVAL);
  CHECK_STATUS(ms_sweep_write_csv(s, "/tmp/never.csv", 1), MS_EINVAL);
  CHECK(access("/tmp/never.csv", F_OK) != 0);
  ms_sweep_free(s);
  /* explicit points are checked one by one */
  CHECK_OK(ms_sweep_new(f, r, x0, 2, &s));
  const char *two[] = {"lr", "beta"};
  double pts[4] = {0.1, 0.5, 0.2, 1.5};
  CHECK_STATUS(ms_sweep_points(s, two, 2, pts, 2), MS_EINVAL);
  CHECK_ERROR_HAS("point 2: beta must be in [0, 1), got 1.5");
  CHECK(ms_sweep_naxes(s) == 0);
  pts[3] = 0.5;
  CHECK_OK(ms_sweep_points(s, two, 2, pts, 2));
  CHECK_STATUS(ms_sweep_range(s, "lr", 0.1, 1, 2, 0), MS_EINVAL);
  CHECK_OK(ms_sweep_run(s, NULL));
  CHECK(ms_sweep_count(s) == 2 && ms_sweep_was_fast(s));
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* ms_range_check and ms_range_value on their own: the checks a sweep's
 * ranges get, and values against closed forms (ends exact). */
static void test_ranges(void) {
  CHECK_OK(ms_range_check("lr", 0.1, 0.4, 4, 0));
  CHECK(ms_range_value(0.1, 0.4, 4, 0, 0) == 0.1);
  CHECK(ms_range_value(0.1, 0.4, 4, 0, 3) == 0.4);
  CHECK(fabs(ms_range_value(0.1, 0.4, 4, 0, 1) - 0.2) < 1e-15);
  CHECK(fabs(ms_range_value(0.1, 0.4, 4, 0, 2) - 0.3) < 1e-15);
  CHECK_OK(ms_range_check("lr", 1, 1000, 4, 1));   /* 1, 10, 100, 1000 */
  CHECK(fabs(ms_range_value(1, 1000, 4, 1, 1) - 10) < 1e-13);
  CHECK(fabs(ms_range_value(1, 1000, 4, 1, 2) - 100) < 1e-12);
  CHECK(ms_range_value(1, 1000, 4, 1, 3) == 1000);
  CHECK(ms_range_value(0.5, 0.5, 1, 0, 0) == 0.5);
  CHECK(isnan(ms_range_value(0.1, 0.4, 4, 0, 4)));
  CHECK(isnan(ms_range_value(0.1, 0.4, 4, 0, -1)));
  CHECK_STATUS(ms_range_check("grid.lr", NAN, 1, 3, 0), MS_EINVAL);
  CHECK_ERROR_HAS("grid.lr: the range must have finite ends");
  CHECK_STATUS(ms_range_check("lr", 0.1, 1, 0, 0), MS_EINVAL);
  CHECK_ERROR_HAS("lr: empty range (n = 0)");
  CHECK_STATUS(ms_range_check("lr", 0.5, 0.6, 1, 0), MS_EINVAL);
  CHECK_ERROR_HAS("one value (n = 1) needs from = to, got 0.5 and 0.6");
  CHECK_STATUS(ms_range_check("lr", -1, 1, 3, 1), MS_EINVAL);
  CHECK_ERROR_HAS("a log range needs from > 0, got -1");
  CHECK_STATUS(ms_range_check(NULL, 0.1, 1, 3, 0), MS_EINVAL);
}

int main(void) {
  test_fast_is_general();
  test_rate_is_radius();
  test_exact_convergence_rate();
  test_divergence_step();
  test_steps();
  test_threads_shards_csv();
  test_interrupt();
  test_worker_failure();
  test_user_objective();
  test_general_is_trace();
  test_bad_grids();
  test_ranges();
  return check_report("test_sweep");
}
