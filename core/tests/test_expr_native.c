/*
 * test_expr_native.c -- compiled expressions as machine code
 * (expr_native.c): value and gradient the same bits as the reference
 * passes on random graphs of every operation, at points with ties, zeros
 * of both signs, negatives and infinities, and on loop-shaped graphs; a
 * long trace the same with and without; without cc, with a cc that fails
 * or writes no shared object, evaluation goes on interpreted, the same,
 * and no temporary file is left behind; MOMSANDBOX_NATIVE; the policy.
 */
#define _POSIX_C_SOURCE 200809L   /* setenv, strdup, mkdtemp */
#include <dirent.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "internal.h"
#include "momsandbox.h"
#include "expr_graph.h"

static int have_cc(void) {
  char path[4096];
  return ms_which("cc", path, sizeof path);
}

/* The same number: the same bits, or both NaN (which NaN an operation on
 * two NaNs gives is the compiler's choice of operand order). */
static int same(double a, double b) {
  return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

/* A small generator of our own: the same graphs on every libc. */
static unsigned lcg(unsigned *s) {
  *s = *s * 1103515245u + 12345u;
  return *s >> 8;
}

static int random_op(unsigned *seed) {
  return MS_EXPR_ADD + (int)(lcg(seed) % (MS_EXPR_NOPS - MS_EXPR_ADD));
}

static uint32_t random_node(graph *g, int op, uint32_t a, uint32_t b, unsigned *seed) {
  return node(g, op, a, b, op == MS_EXPR_POWC ? (double)(lcg(seed) % 7) * 0.5 - 1 : 0);
}

/* Any operation on any earlier nodes, constants of both signs and zeros
 * of both signs among the leaves. */
static void random_graph(graph *g, size_t dim, size_t len, unsigned *seed) {
  g->len = 0;
  for (uint32_t i = 0; i < dim; i++) var(g, (uint32_t)((i * 5 + 3) % dim));
  cst(g, 0);
  cst(g, -0.0);
  cst(g, -1.5);
  cst(g, 2);
  while (g->len < len) {
    uint32_t a = (uint32_t)(lcg(seed) % g->len), b = (uint32_t)(lcg(seed) % g->len);
    random_node(g, random_op(seed), a, b, seed);
  }
}

/* What a loop of the caller's makes (as test_expr.c): the same few
 * operations for each i on x_i, x_(i+1), a shared node and constants,
 * summed into s. */
static void loop_graph(graph *g, size_t dim, unsigned *seed) {
  int ops[4];
  for (int k = 0; k < 4; k++) ops[k] = random_op(seed);
  g->len = 0;
  uint32_t shared = op1(g, MS_EXPR_SIN, var(g, (uint32_t)(dim / 2))), s = 0;
  for (uint32_t i = 0; i < dim; i++) {
    uint32_t r[8] = {var(g, i), var(g, (uint32_t)((i + 1) % dim)), shared,
                     cst(g, 0.25 * i - 1)};
    for (int k = 0; k < 4; k++)
      r[4 + k] = random_node(g, ops[k], r[lcg(seed) % (4 + k)], r[lcg(seed) % (4 + k)], seed);
    s = i == 0 ? r[7] : op2(g, i % 2 ? MS_EXPR_ADD : MS_EXPR_SUB, s, r[7]);
  }
}

/* Points of few distinct numbers (MIN and MAX ties, ABS at 0, LOG and
 * SQRT of negatives), some infinite. */
static void random_x(double *x, size_t dim, int special, unsigned *seed) {
  static const double pick[] = {-2, -1.5, -1, -0.5, -0.0, 0, 0.5, 1, 1.5, 2, 0.3, -0.7};
  static const double inf[] = {INFINITY, -INFINITY, 0, 1};
  for (size_t i = 0; i < dim; i++)
    x[i] = special && lcg(seed) % 3 == 0 ? inf[lcg(seed) % 4]
                                          : pick[lcg(seed) % (sizeof pick / sizeof *pick)];
}

/* nat (machine code) and ref (the reference passes) at x: f and the
 * gradient together, f alone, the gradient alone; 1 when all the same. */
static int agree(ms_objective *nat, ms_objective *ref, const double *x,
                 size_t dim, const char *what) {
  double fn, fr, f1, *gn = calloc(3 * dim, sizeof *gn), *gr = gn + dim, *g1 = gr + dim;
  CHECK_OK(ms_objective_eval(nat, x, &fn, gn));
  CHECK_OK(ms_objective_eval(ref, x, &fr, gr));
  CHECK_OK(ms_objective_eval(nat, x, &f1, NULL));
  int ok = same(fn, fr) && same(fn, f1);
  CHECK_OK(ms_objective_eval(nat, x, NULL, g1));
  for (size_t i = 0; i < dim; i++) ok &= same(gn[i], gr[i]) && same(g1[i], gr[i]);
  if (!ok) {
    check_failures++;
    fprintf(stderr, "%s: f %a, reference %a\n", what, fn, fr);
    for (size_t i = 0; i < dim; i++)
      if (!same(gn[i], gr[i]))
        fprintf(stderr, "  grad %zu: %a, reference %a\n", i, gn[i], gr[i]);
  }
  free(gn);
  return ok;
}

/* g compiled to machine code and by the reference passes, at points. */
static void check_graph(const graph *g, size_t dim, int points, unsigned *seed,
                        const char *what) {
  ms_objective *nat = compile(g, dim), *ref = compile(g, dim);
  ms_expr_reference(ref, MS_EXPR_REFERENCE);
  CHECK_OK(ms_expr_native_compile(nat));
  CHECK(ms_expr_evaluation(nat) == MS_EXPR_NATIVE);
  double x[64];
  for (int k = 0; k < points; k++) {
    random_x(x, dim, k % 4 == 3, seed);
    if (!agree(nat, ref, x, dim, what)) break;
  }
  ms_objective_free(nat);
  ms_objective_free(ref);
}

static void test_random(void) {
  static graph g;
  unsigned seed = 2024;
  char what[64];
  for (int r = 0; r < 24; r++) {
    size_t dim = 1 + lcg(&seed) % 6;
    random_graph(&g, dim, r % 3 ? 60 : 300, &seed);
    snprintf(what, sizeof what, "random graph %d", r);
    check_graph(&g, dim, 200, &seed, what);
  }
  for (int r = 0; r < 6; r++) {
    size_t dim = 2 + lcg(&seed) % 40;
    loop_graph(&g, dim, &seed);
    snprintf(what, sizeof what, "loop graph %d (dim %zu)", r, dim);
    check_graph(&g, dim, 50, &seed, what);
  }
}

/* f = x_1 (no operation), f = a constant, and an operand used twice
 * (a * a, adjoint summed twice into one slot). */
static void test_shapes(void) {
  static graph g;
  unsigned seed = 7;
  g.len = 0;
  var(&g, 1);
  check_graph(&g, 3, 20, &seed, "f = x2");
  g.len = 0;
  cst(&g, -0.0);
  check_graph(&g, 2, 20, &seed, "f = -0");
  g.len = 0;
  uint32_t a = op2(&g, MS_EXPR_SUB, var(&g, 0), cst(&g, 1));
  op2(&g, MS_EXPR_MUL, a, a);
  check_graph(&g, 1, 20, &seed, "(x - 1) (x - 1)");
  /* x + 2^-53 (x - x): x's adjoint is 1, then (1 + 2^-53) - 2^-53 in
   * the reference's order, a then b (1 - 2^-53), not 1 the other way */
  g.len = 0;
  uint32_t x = var(&g, 0);
  op2(&g, MS_EXPR_ADD, x, op2(&g, MS_EXPR_MUL, cst(&g, 0x1p-53), op2(&g, MS_EXPR_SUB, x, x)));
  check_graph(&g, 1, 20, &seed, "x + 2^-53 (x - x)");
}

/* 100 (x2 - x1^2)^2 + (1 - x1)^2, as bench/objectives.lua writes it. */
static ms_objective *rosenbrock(void) {
  static graph g;
  g.len = 0;
  uint32_t x1 = var(&g, 0), x2 = var(&g, 1);
  uint32_t u = op2(&g, MS_EXPR_SUB, x2, op1(&g, MS_EXPR_SQR, x1));
  uint32_t t = op2(&g, MS_EXPR_MUL, cst(&g, 100), op1(&g, MS_EXPR_SQR, u));
  uint32_t v = op1(&g, MS_EXPR_SQR, op2(&g, MS_EXPR_SUB, cst(&g, 1), x1));
  op2(&g, MS_EXPR_ADD, t, v);
  return compile(&g, 2);
}

static ms_trace *heavy_ball(ms_objective *f, int64_t steps) {
  ms_rule *rule = NULL;
  ms_trace *tr = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find("momentum"), &rule));
  CHECK_OK(ms_rule_set(rule, "lr", 1e-5));
  CHECK_OK(ms_rule_set(rule, "beta", 0.9));
  ms_trace_opts o;
  ms_trace_opts_init(&o);
  o.steps = steps;
  o.every = steps / 4;
  double x0[2] = {-1.2, 1};
  CHECK_OK(ms_trace_run(f, rule, x0, 2, &o, &tr));
  ms_rule_free(rule);
  return tr;
}

/* A trace long enough to pay for a compile compiles at its start, and
 * is the same as the reference's, point for point. */
static void test_trace(void) {
  ms_objective *nat = rosenbrock(), *ref = rosenbrock();
  ms_expr_reference(ref, MS_EXPR_REFERENCE);
  CHECK(ms_expr_evaluation(nat) == MS_EXPR_REFERENCE);   /* small: not batched */
  ms_trace *short_run = heavy_ball(nat, 1000);
  CHECK(ms_expr_evaluation(nat) == MS_EXPR_REFERENCE);   /* does not pay */
  ms_trace_free(short_run);
  int64_t steps = 5000000;
  ms_trace *a = heavy_ball(nat, steps), *b = heavy_ball(ref, steps);
  if (have_cc()) CHECK(ms_expr_evaluation(nat) == MS_EXPR_NATIVE);
  CHECK(ms_trace_len(a) == ms_trace_len(b) && ms_trace_len(a) == 5);
  for (size_t i = 0; i < ms_trace_len(a); i++) {
    CHECK(memcmp(ms_trace_point(a, i), ms_trace_point(b, i), 2 * sizeof(double)) == 0);
    double fa = ms_trace_value(a, i), fb = ms_trace_value(b, i);
    CHECK(memcmp(&fa, &fb, sizeof fa) == 0);
  }
  ms_trace_free(a);
  ms_trace_free(b);
  ms_objective_free(nat);
  ms_objective_free(ref);
}

/* ------------------------------------------------------ failures, files */

static char tmpdir[256], bindir[256];

static int entries(const char *dir) {
  DIR *d = opendir(dir);
  if (d == NULL) return -1;
  int n = 0;
  for (struct dirent *e; (e = readdir(d)) != NULL;)
    n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
  closedir(d);
  return n;
}

static void write_script(const char *name, const char *body) {
  char path[512];
  snprintf(path, sizeof path, "%s/%s", bindir, name);
  FILE *f = fopen(path, "w");
  CHECK(f != NULL);
  if (f == NULL) return;
  fputs(body, f);
  fclose(f);
  chmod(path, 0700);
}

/* A compile that fails for the cause named: the program stays the
 * reference, the same numbers, and TMPDIR holds nothing. */
static void check_failure(const char *cause) {
  ms_objective *f = rosenbrock(), *ref = rosenbrock();
  ms_expr_reference(ref, MS_EXPR_REFERENCE);
  CHECK_STATUS(ms_expr_native_compile(f), MS_EIO);
  if (strstr(ms_last_error(), cause) == NULL)
    fprintf(stderr, "%s: got '%s'\n", cause, ms_last_error()), check_failures++;
  CHECK(ms_expr_evaluation(f) == MS_EXPR_REFERENCE);
  double x[2] = {-1.2, 1};
  agree(f, ref, x, 2, cause);
  /* remembered: not tried again, even with cc back */
  const char *path = getenv("PATH");
  char *saved = path ? strdup(path) : NULL;
  setenv("PATH", "/usr/bin:/bin", 1);
  CHECK_STATUS(ms_expr_native_compile(f), MS_EIO);
  CHECK_ERROR_HAS("failed before");
  if (saved) setenv("PATH", saved, 1);
  free(saved);
  CHECK(entries(tmpdir) == 0);
  ms_objective_free(f);
  ms_objective_free(ref);
}

static void test_failures(void) {
  snprintf(tmpdir, sizeof tmpdir, "/tmp/ms-native-test-XXXXXX");
  snprintf(bindir, sizeof bindir, "/tmp/ms-native-bin-XXXXXX");
  CHECK(mkdtemp(tmpdir) != NULL && mkdtemp(bindir) != NULL);
  char *path = strdup(getenv("PATH") ? getenv("PATH") : "/usr/bin:/bin");
  setenv("TMPDIR", tmpdir, 1);
  if (have_cc()) {   /* a success leaves nothing either */
    ms_objective *f = rosenbrock();
    CHECK_OK(ms_expr_native_compile(f));
    CHECK(entries(tmpdir) == 0);
    ms_objective_free(f);
  }
  setenv("PATH", "", 1);
  check_failure("cc: not found");
  write_script("cc", "#!/bin/sh\nexit 3\n");
  setenv("PATH", bindir, 1);
  check_failure("cc failed (exit status 3)");
  write_script("cc", "#!/bin/sh\n"
                     "while [ $# -gt 0 ]; do\n"
                     "  if [ \"$1\" = -o ]; then echo junk > \"$2\"; fi; shift\n"
                     "done\n");
  check_failure("cannot load");
  setenv("TMPDIR", "/nonexistent/ms-native", 1);
  setenv("PATH", path, 1);
  check_failure("cannot create a folder");
  setenv("PATH", path, 1);
  unsetenv("TMPDIR");
  char cc[512];
  snprintf(cc, sizeof cc, "%s/cc", bindir);
  unlink(cc);
  rmdir(bindir);
  rmdir(tmpdir);
  free(path);
}

/* MOMSANDBOX_NATIVE: off never compiles, on (or unset) when it pays,
 * anything else is refused by the run, named. */
static void test_knob(void) {
  ms_objective *f = rosenbrock();
  setenv("MOMSANDBOX_NATIVE", "off", 1);
  CHECK_OK(ms_objective_plan(f, 1e15));
  CHECK(ms_expr_evaluation(f) == MS_EXPR_REFERENCE);
  setenv("MOMSANDBOX_NATIVE", "yes", 1);
  CHECK_STATUS(ms_objective_plan(f, 1e15), MS_EINVAL);
  CHECK_ERROR_HAS("MOMSANDBOX_NATIVE must be 'on' or 'off', got 'yes'");
  ms_trace *tr = NULL;
  ms_rule *rule = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find("gd"), &rule));
  double x0[2] = {0, 0};
  CHECK_STATUS(ms_trace_run(f, rule, x0, 2, NULL, &tr), MS_EINVAL);
  CHECK(tr == NULL);
  setenv("MOMSANDBOX_NATIVE", "on", 1);
  CHECK_OK(ms_objective_plan(f, 1000));   /* does not pay yet */
  CHECK(ms_expr_evaluation(f) == MS_EXPR_REFERENCE);
  CHECK_OK(ms_objective_plan(f, 1e15));
  if (have_cc()) CHECK(ms_expr_evaluation(f) == MS_EXPR_NATIVE);
  unsetenv("MOMSANDBOX_NATIVE");
  /* another objective: nothing to do */
  ms_objective *q = NULL;
  double lambda[2] = {1, 2};
  CHECK_OK(ms_objective_quadratic(lambda, 2, &q));
  CHECK_OK(ms_objective_plan(q, 1e15));
  CHECK_STATUS(ms_expr_native_compile(q), MS_EINVAL);
  ms_objective_free(q);
  ms_rule_free(rule);
  ms_objective_free(f);
}

/* A program the interpreter runs batch by batch is left to its batches
 * (its gradient may sum in another order); one too large is refused. */
static void test_policy(void) {
  static graph g;
  g.len = 0;
  uint32_t s = cst(&g, 0);
  for (uint32_t i = 0; i < 64; i++)
    s = op2(&g, MS_EXPR_ADD, s, op1(&g, MS_EXPR_SQR, var(&g, i)));
  ms_objective *f = compile(&g, 64);
  CHECK(ms_expr_evaluation(f) == MS_EXPR_BATCHED);
  CHECK_OK(ms_objective_plan(f, 1e15));
  CHECK(ms_expr_evaluation(f) == MS_EXPR_BATCHED);
  ms_objective_free(f);
  g.len = 0;
  s = var(&g, 0);
  for (int i = 0; i < 600; i++) s = op2(&g, MS_EXPR_ADD, s, op1(&g, MS_EXPR_SIN, s));
  f = compile(&g, 1);   /* 1,200 operations */
  CHECK_STATUS(ms_expr_native_compile(f), MS_ERANGE);
  ms_objective_free(f);
}

/* Threads starting runs of one program at once: one compile, and every
 * evaluation the reference's. */
static ms_objective *shared;
static void *plan_and_eval(void *arg) {
  double x[2] = {0.5, -0.25}, fv, g[2];
  ms_objective_plan(shared, 1e15);
  ms_objective_eval(shared, x, &fv, g);
  double *out = arg;
  out[0] = fv, out[1] = g[0], out[2] = g[1];
  return NULL;
}

static void test_threads(void) {
  shared = rosenbrock();
  ms_objective *ref = rosenbrock();
  ms_expr_reference(ref, MS_EXPR_REFERENCE);
  double x[2] = {0.5, -0.25}, want[3], got[4][3];
  CHECK_OK(ms_objective_eval(ref, x, &want[0], &want[1]));
  pthread_t t[4];
  for (int i = 0; i < 4; i++) pthread_create(&t[i], NULL, plan_and_eval, got[i]);
  for (int i = 0; i < 4; i++) {
    pthread_join(t[i], NULL);
    CHECK(memcmp(got[i], want, sizeof want) == 0);
  }
  if (have_cc()) CHECK(ms_expr_evaluation(shared) == MS_EXPR_NATIVE);
  ms_objective_free(shared);
  ms_objective_free(ref);
}

int main(void) {
  unsetenv("MOMSANDBOX_NATIVE");
  if (have_cc()) {
    test_random();
    test_shapes();
  } else {
    printf("test_expr_native: no cc, the bit-for-bit comparisons skipped\n");
  }
  test_trace();
  test_failures();
  test_knob();
  test_policy();
  test_threads();
  return check_report("test_expr_native");
}
