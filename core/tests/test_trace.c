/* test_trace.c -- the full-batch loop: the book's four numbers, recording,
 * divergence, argument checks and CSV output. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "momsandbox.h"

static ms_objective *chapter_f(void) {
  double lambda[2] = {0.2, 4};   /* f = 0.1 x1^2 + 2 x2^2 */
  ms_objective *f = NULL;
  CHECK_OK(ms_objective_quadratic(lambda, 2, &f));
  return f;
}

static ms_rule *rule(const char *name, double lr, double beta) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find(name), &r));
  CHECK_OK(ms_rule_set(r, "lr", lr));
  if (beta >= 0) CHECK_OK(ms_rule_set(r, "beta", beta));
  return r;
}

/* d2l 11.6 prints the final point of each experiment to six decimals. */
static void test_book_numbers(void) {
  static const struct { const char *rule; double lr, beta, x1, x2; } book[] = {
      {"gd", 0.4, -1, -0.943467, -0.000073},
      {"gd", 0.6, -1, -0.387814, -1673.365109},
      {"momentum", 0.6, 0.5, 0.007188, 0.002553},
      {"momentum", 0.6, 0.25, -0.126340, -0.186632},
  };
  ms_objective *f = chapter_f();
  const double x0[2] = {-5, -2};
  for (size_t k = 0; k < sizeof book / sizeof book[0]; k++) {
    ms_rule *r = rule(book[k].rule, book[k].lr, book[k].beta);
    ms_trace *tr = NULL;
    CHECK_OK(ms_trace_run(f, r, x0, 2, NULL, &tr));   /* default: 20 steps */
    CHECK(ms_trace_len(tr) == 21);
    CHECK(ms_trace_step(tr, 20) == 20 && ms_trace_diverged(tr) == 0);
    const double *x = ms_trace_point(tr, 20);
    CHECK_NEAR(x[0], book[k].x1, 5e-7);
    CHECK_NEAR(x[1], book[k].x2, 5e-7);
    CHECK_EQ(ms_trace_point(tr, 0)[0], -5);
    CHECK_EQ(ms_trace_value(tr, 0), 0.1 * 25 + 2 * 4);
    CHECK_EQ(ms_trace_value(tr, 20), 0.1 * x[0] * x[0] + 2 * x[1] * x[1]);
    ms_trace_free(tr);
    ms_rule_free(r);
  }
  ms_objective_free(f);
}

/* |1 - 0.6 * 4| = 1.4 > 1: x2 grows like 1.4^t until f overflows. */
static void test_divergence(void) {
  ms_objective *f = chapter_f();
  ms_rule *r = rule("gd", 0.6, -1);
  const double x0[2] = {-5, -2};
  ms_trace_opts o;
  ms_trace_opts_init(&o);
  o.steps = 2000;
  ms_trace *tr = NULL;
  CHECK_OK(ms_trace_run(f, r, x0, 2, &o, &tr));
  int64_t k = ms_trace_diverged(tr);
  /* f = 2 x2^2 > DBL_MAX once 1.4^k * 2 > 9.5e153: k ~ 1052 */
  CHECK(k > 1000 && k < 1100);
  CHECK(ms_trace_len(tr) == (size_t)k);        /* x_0 .. x_{k-1} */
  CHECK(ms_trace_step(tr, ms_trace_len(tr) - 1) == k - 1);
  for (size_t i = 0; i < ms_trace_len(tr); i++)
    CHECK(isfinite(ms_trace_value(tr, i)));
  CHECK(strstr(ms_trace_reason(tr), "f is inf") != NULL);
  ms_trace_free(tr);
  ms_rule_free(r);
  ms_objective_free(f);
}

static void test_every(void) {
  ms_objective *f = chapter_f();
  ms_rule *r = rule("momentum", 0.1, 0.9);
  const double x0[2] = {1, 1};
  ms_trace_opts o = {.steps = 10, .every = 3};
  ms_trace *tr = NULL;
  CHECK_OK(ms_trace_run(f, r, x0, 2, &o, &tr));
  CHECK(ms_trace_len(tr) == 5);                 /* steps 0, 3, 6, 9, 10 */
  CHECK(ms_trace_step(tr, 1) == 3 && ms_trace_step(tr, 4) == 10);
  ms_trace *full = NULL;
  o.every = 1;
  CHECK_OK(ms_trace_run(f, r, x0, 2, &o, &full));
  CHECK(memcmp(ms_trace_point(tr, 3), ms_trace_point(full, 9), 2 * sizeof(double)) == 0);
  CHECK(memcmp(ms_trace_point(tr, 4), ms_trace_point(full, 10), 2 * sizeof(double)) == 0);
  ms_trace_free(tr);
  ms_trace_free(full);
  ms_rule_free(r);
  ms_objective_free(f);
}

static void test_bad_arguments(void) {
  ms_objective *f = chapter_f();
  ms_rule *r = rule("gd", 0.1, -1);
  const double x0[3] = {1, 2, 3};
  ms_trace *tr = (ms_trace *)1;
  CHECK_STATUS(ms_trace_run(f, r, x0, 3, NULL, &tr), MS_ESIZE);
  CHECK(tr == NULL);
  CHECK_ERROR_HAS("x0 has 3 entries but the objective takes 2");
  ms_trace_opts o = {.steps = -1, .every = 1};
  CHECK_STATUS(ms_trace_run(f, r, x0, 2, &o, &tr), MS_EINVAL);
  CHECK_ERROR_HAS("steps must be >= 0");
  o.steps = INT64_MAX;
  CHECK_STATUS(ms_trace_run(f, r, x0, 2, &o, &tr), MS_ERANGE);
  o.steps = 1000000000;          /* 1e9 points of 4 doubles: 30 GB */
  CHECK_STATUS(ms_trace_run(f, r, x0, 2, &o, &tr), MS_ERANGE);
  CHECK_ERROR_HAS("every = k");
  o.every = 1000000;             /* ... unless thinned out */
  o.steps = 0;
  CHECK_OK(ms_trace_run(f, r, x0, 2, &o, &tr));
  CHECK(ms_trace_len(tr) == 1);
  ms_trace_free(tr);
  o.every = 0;
  CHECK_STATUS(ms_trace_run(f, r, x0, 2, &o, &tr), MS_EINVAL);
  const double inf0[2] = {INFINITY, 0};
  CHECK_STATUS(ms_trace_run(f, r, inf0, 2, NULL, &tr), MS_EINVAL);
  ms_rule *unset = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find("gd"), &unset));
  CHECK_STATUS(ms_trace_run(f, unset, x0, 2, NULL, &tr), MS_EINVAL);
  CHECK_ERROR_HAS("lr is required");
  ms_rule_free(unset);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* A failing objective stops the run and its status reaches the caller. */
static int calls;
static ms_status failing(void *ctx, const double *x, size_t n, double *f,
                         double *grad) {
  (void)ctx, (void)x, (void)n, (void)grad;
  if (++calls > 5) return MS_ECALLBACK;
  if (f) *f = 0;
  if (grad) grad[0] = 0;
  return MS_OK;
}

static void test_callback_failure(void) {
  ms_objective *f = NULL;
  CHECK_OK(ms_objective_new(1, failing, 1, NULL, NULL, &f));
  ms_rule *r = rule("gd", 0.1, -1);
  const double x0[1] = {1};
  ms_trace *tr = (ms_trace *)1;
  CHECK_STATUS(ms_trace_run(f, r, x0, 1, NULL, &tr), MS_ECALLBACK);
  CHECK(tr == NULL && calls == 6);
  ms_rule_free(r);
  ms_objective_free(f);
}

static void test_csv(void) {
  ms_objective *f = chapter_f();
  ms_rule *r = rule("gd", 0.4, -1);
  const double x0[2] = {-5, -2};
  ms_trace_opts o = {.steps = 2, .every = 1};
  ms_trace *tr = NULL;
  CHECK_OK(ms_trace_run(f, r, x0, 2, &o, &tr));
  char path[] = "/tmp/ms_test_trace_XXXXXX";
  int fd = mkstemp(path);
  CHECK(fd >= 0);
  close(fd);
  CHECK_OK(ms_trace_write_csv(tr, path));
  /* Header, then step,x1,x2,f per point, each number read back exactly. */
  FILE *fp = fopen(path, "r");
  char line[256];
  CHECK(fp != NULL && fgets(line, sizeof line, fp) != NULL);
  CHECK(strcmp(line, "step,x1,x2,f\n") == 0);
  static const double hand[3][3] = {
      {-5, -2, 10.5}, {-4.6, 1.2, 0.1 * 4.6 * 4.6 + 2 * 1.44},
      {-4.232, -0.72, 0.1 * 4.232 * 4.232 + 2 * 0.72 * 0.72}};
  for (int i = 0; i < 3; i++) {
    long step = -1;
    double x1 = NAN, x2 = NAN, fx = NAN;
    CHECK(fp != NULL && fgets(line, sizeof line, fp) != NULL);
    CHECK(sscanf(line, "%ld,%lf,%lf,%lf", &step, &x1, &x2, &fx) == 4);
    CHECK(step == i);
    CHECK_NEAR(x1, hand[i][0], 1e-14);
    CHECK_NEAR(x2, hand[i][1], 1e-14);
    CHECK_NEAR(fx, hand[i][2], 1e-13);
    CHECK(x1 == ms_trace_point(tr, (size_t)i)[0]);   /* exact round trip */
    CHECK(fx == ms_trace_value(tr, (size_t)i));
  }
  CHECK(fp != NULL && fgets(line, sizeof line, fp) == NULL);
  if (fp) fclose(fp);
  remove(path);
  CHECK_STATUS(ms_trace_write_csv(tr, "/nonexistent-dir/x.csv"), MS_EIO);
  CHECK_ERROR_HAS("cannot write /nonexistent-dir/x.csv");
  ms_trace_free(tr);
  ms_rule_free(r);
  ms_objective_free(f);
}

/* A trace in the caller's memory: the same points as one the engine
 * allocates, exactly the room ms_trace_size asks for (the sanitizers see
 * an overrun), and ms_trace_free leaves that memory alone. */
static void test_in_memory(void) {
  ms_objective *f = chapter_f();
  ms_rule *r = rule("gd", 0.6, -1);
  const double x0[2] = {-5, -2};
  ms_trace_opts o = {.steps = 2000, .every = 1};   /* diverges near 1052 */
  size_t bytes = ms_trace_size(2, &o);
  ms_trace_opts o20 = {.steps = 20, .every = 1};
  /* 2001 points of x1, x2 and f: 1980 more than 20 steps keep */
  CHECK(bytes - ms_trace_size(2, &o20) == 1980 * 3 * sizeof(double));
  double *mem = malloc(bytes);
  ms_trace *tr = NULL, *ref = NULL;
  CHECK_OK(ms_trace_run(f, r, x0, 2, &o, &ref));
  CHECK_OK(ms_trace_run_in(f, r, x0, 2, &o, mem, bytes, &tr));
  CHECK((void *)tr == (void *)mem);
  CHECK(ms_trace_len(tr) == ms_trace_len(ref) && ms_trace_diverged(tr) > 0);
  CHECK(ms_trace_diverged(tr) == ms_trace_diverged(ref));
  CHECK(strcmp(ms_trace_reason(tr), ms_trace_reason(ref)) == 0);
  for (size_t i = 0; i < ms_trace_len(tr); i++) {
    CHECK(memcmp(ms_trace_point(tr, i), ms_trace_point(ref, i), 2 * sizeof(double)) == 0);
    CHECK(memcmp(&(double){ms_trace_value(tr, i)}, &(double){ms_trace_value(ref, i)},
                 sizeof(double)) == 0);
  }
  ms_trace_free(tr);   /* nothing: mem is still ours */
  tr = (ms_trace *)1;
  CHECK_STATUS(ms_trace_run_in(f, r, x0, 2, &o, mem, bytes - 1, &tr), MS_EINVAL);
  CHECK(tr == NULL);
  CHECK_ERROR_HAS("bytes aligned to");
  CHECK_STATUS(ms_trace_run_in(f, r, x0, 2, &o20, (char *)mem + 1, bytes - 1, &tr),
               MS_EINVAL);
  CHECK_STATUS(ms_trace_run_in(f, r, x0, 3, &o, mem, bytes, &tr), MS_ESIZE);
  o.steps = -1;
  CHECK(ms_trace_size(2, &o) == 0);
  CHECK_ERROR_HAS("steps must be >= 0");
  CHECK(ms_trace_size(0, NULL) == 0);
  CHECK(ms_trace_size(2, NULL) == ms_trace_size(2, &o20));   /* the defaults */
  free(mem);
  ms_trace_free(ref);
  ms_rule_free(r);
  ms_objective_free(f);
}

int main(void) {
  test_book_numbers();
  test_divergence();
  test_every();
  test_bad_arguments();
  test_in_memory();
  test_callback_failure();
  test_csv();
  return check_report("test_trace");
}
