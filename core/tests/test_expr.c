/*
 * test_expr.c -- objectives compiled from expression graphs: every
 * operation's value, gradient and Hessian against closed forms worked out
 * by hand, Rosenbrock against the built-in, malformed graphs, and
 * evaluation from several threads at once; the evaluation proper (batched)
 * against the reference passes (one node at a time) on random graphs.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "momsandbox.h"
#include "expr_graph.h"

static void check_rel(double got, double want, double tol, const char *what) {
  double scale = fmax(fabs(want), 1e-300);
  if (!(fabs(got - want) <= tol * scale)) {
    fprintf(stderr, "%s: got %.17g, expected %.17g\n", what, got, want);
    check_failures++;
  }
}

/* sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2, written as a user would. */
static ms_objective *rosenbrock_graph(size_t dim, double a, double b) {
  static graph g;
  g.len = 0;
  uint32_t sum = cst(&g, 0), ca = cst(&g, a), cb = cst(&g, b);
  for (uint32_t i = 0; i + 1 < dim; i++) {
    uint32_t xi = var(&g, i), xj = var(&g, i + 1);
    uint32_t u = op2(&g, MS_EXPR_SUB, xj, op1(&g, MS_EXPR_SQR, xi));
    uint32_t t = op2(&g, MS_EXPR_MUL, cb, op1(&g, MS_EXPR_SQR, u));
    uint32_t v = node(&g, MS_EXPR_POWC, op2(&g, MS_EXPR_SUB, ca, xi), 0, 2);
    sum = op2(&g, MS_EXPR_ADD, sum, op2(&g, MS_EXPR_ADD, t, v));
  }
  return compile(&g, dim);
}

static void test_rosenbrock(void) {
  enum { D = 5 };
  ms_objective *c = rosenbrock_graph(D, 1, 100), *r = NULL;
  CHECK_OK(ms_objective_rosenbrock(1, 100, D, &r));
  CHECK(ms_objective_is_pure(c) && ms_objective_has_grad(c));
  const double x[D] = {-1.2, 1, 0.3, -0.7, 2.5};
  double fc, fr, gc[D], gr[D];
  CHECK_OK(ms_objective_eval(c, x, &fc, gc));
  CHECK_OK(ms_objective_eval(r, x, &fr, gr));
  check_rel(fc, fr, 1e-14, "rosenbrock f");
  for (int i = 0; i < D; i++) check_rel(gc[i], gr[i], 1e-14, "rosenbrock grad");
  double fv;   /* value alone */
  CHECK_OK(ms_objective_eval(c, x, &fv, NULL));
  CHECK_EQ(fv, fc);
  /* the Hessian by hand: tridiagonal */
  double H[D * D], want[D * D] = {0};
  CHECK_OK(ms_objective_hessian(c, x, H));
  for (int i = 0; i + 1 < D; i++) {
    want[i * D + i] += 1200 * x[i] * x[i] - 400 * x[i + 1] + 2;
    want[(i + 1) * D + i + 1] += 200;
    want[i * D + i + 1] += -400 * x[i];
    want[(i + 1) * D + i] += -400 * x[i];
  }
  for (int i = 0; i < D * D; i++) CHECK_NEAR(H[i], want[i], 1e-11 * fabs(want[i]));
  ms_objective_free(c);
  ms_objective_free(r);
}

/* One operation of x1 (and x2) at x, against its value, gradient and
 * Hessian by hand. */
typedef struct {
  int op;
  int binary;
  double c;
  double x[2];
  double f, g[2], h[3];   /* h: d11, d12, d22 */
} case_t;

static void test_operations(void) {
  const double a = 0.7, b = 1.3;
  const double r = a * a + b * b;
  const case_t cases[] = {
      {MS_EXPR_ADD, 1, 0, {a, b}, a + b, {1, 1}, {0, 0, 0}},
      {MS_EXPR_SUB, 1, 0, {a, b}, a - b, {1, -1}, {0, 0, 0}},
      {MS_EXPR_MUL, 1, 0, {a, b}, a * b, {b, a}, {0, 1, 0}},
      {MS_EXPR_DIV, 1, 0, {a, b}, a / b, {1 / b, -a / (b * b)},
       {0, -1 / (b * b), 2 * a / (b * b * b)}},
      {MS_EXPR_POW, 1, 0, {a, b}, pow(a, b), {b * pow(a, b - 1), pow(a, b) * log(a)},
       {b * (b - 1) * pow(a, b - 2), pow(a, b - 1) * (1 + b * log(a)),
        pow(a, b) * log(a) * log(a)}},
      {MS_EXPR_NEG, 0, 0, {a, b}, -a, {-1, 0}, {0, 0, 0}},
      {MS_EXPR_SQR, 0, 0, {a, b}, a * a, {2 * a, 0}, {2, 0, 0}},
      {MS_EXPR_POWC, 0, 3.5, {a, b}, pow(a, 3.5), {3.5 * pow(a, 2.5), 0},
       {3.5 * 2.5 * pow(a, 1.5), 0, 0}},
      {MS_EXPR_SIN, 0, 0, {a, b}, sin(a), {cos(a), 0}, {-sin(a), 0, 0}},
      {MS_EXPR_COS, 0, 0, {a, b}, cos(a), {-sin(a), 0}, {-cos(a), 0, 0}},
      {MS_EXPR_TAN, 0, 0, {a, b}, tan(a), {1 / (cos(a) * cos(a)), 0},
       {2 * sin(a) / pow(cos(a), 3), 0, 0}},
      {MS_EXPR_EXP, 0, 0, {a, b}, exp(a), {exp(a), 0}, {exp(a), 0, 0}},
      {MS_EXPR_LOG, 0, 0, {a, b}, log(a), {1 / a, 0}, {-1 / (a * a), 0, 0}},
      {MS_EXPR_SQRT, 0, 0, {a, b}, sqrt(a), {0.5 / sqrt(a), 0},
       {-0.25 / (a * sqrt(a)), 0, 0}},
      {MS_EXPR_ABS, 0, 0, {-a, b}, a, {-1, 0}, {0, 0, 0}},
      {MS_EXPR_ABS, 0, 0, {0, b}, 0, {0, 0}, {0, 0, 0}},
      {MS_EXPR_TANH, 0, 0, {a, b}, tanh(a), {1 / (cosh(a) * cosh(a)), 0},
       {-2 * tanh(a) / (cosh(a) * cosh(a)), 0, 0}},
      {MS_EXPR_ATAN, 0, 0, {a, b}, atan(a), {1 / (1 + a * a), 0},
       {-2 * a / ((1 + a * a) * (1 + a * a)), 0, 0}},
      {MS_EXPR_ATAN2, 1, 0, {a, b}, atan2(a, b), {b / r, -a / r},
       {-2 * a * b / (r * r), (a * a - b * b) / (r * r), 2 * a * b / (r * r)}},
      {MS_EXPR_MIN, 1, 0, {a, b}, a, {1, 0}, {0, 0, 0}},
      {MS_EXPR_MIN, 1, 0, {b, a}, a, {0, 1}, {0, 0, 0}},
      {MS_EXPR_MIN, 1, 0, {a, a}, a, {1, 0}, {0, 0, 0}},   /* ties: a, as Lua */
      {MS_EXPR_MAX, 1, 0, {a, b}, b, {0, 1}, {0, 0, 0}},
      {MS_EXPR_MAX, 1, 0, {b, a}, b, {1, 0}, {0, 0, 0}},
      {MS_EXPR_MAX, 1, 0, {a, a}, a, {1, 0}, {0, 0, 0}},
  };
  for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
    const case_t *t = &cases[k];
    static graph g;
    g.len = 0;
    uint32_t x1 = var(&g, 0), x2 = var(&g, 1);
    node(&g, t->op, x1, t->binary ? x2 : 0, t->c);
    ms_objective *f = compile(&g, 2);
    double fv, gv[2], H[4];
    char what[64];
    snprintf(what, sizeof what, "case %zu (op %d)", k + 1, t->op);
    CHECK_OK(ms_objective_eval(f, t->x, &fv, gv));
    CHECK_OK(ms_objective_hessian(f, t->x, H));
    check_rel(fv, t->f, 1e-15, what);
    for (int i = 0; i < 2; i++) CHECK_NEAR(gv[i], t->g[i], 1e-14 * fabs(t->g[i]));
    CHECK_NEAR(H[0], t->h[0], 1e-13 * fabs(t->h[0]));
    CHECK_NEAR(H[1], t->h[1], 1e-13 * fabs(t->h[1]));
    CHECK_NEAR(H[2], t->h[1], 1e-13 * fabs(t->h[1]));
    CHECK_NEAR(H[3], t->h[2], 1e-13 * fabs(t->h[2]));
    if (check_failures) fprintf(stderr, "  after %s\n", what);
    ms_objective_free(f);
  }
}

/* Leaves as f, shared and unused nodes, a variable f does not read. */
static void test_shapes(void) {
  static graph g;
  g.len = 0;
  cst(&g, 4);
  ms_objective *f = compile(&g, 3);
  double x[3] = {1, 2, 3}, fv, gv[3], H[9];
  CHECK_OK(ms_objective_eval(f, x, &fv, gv));
  CHECK(fv == 4 && gv[0] == 0 && gv[1] == 0 && gv[2] == 0);
  ms_objective_free(f);

  g.len = 0;
  var(&g, 1);
  f = compile(&g, 3);
  CHECK_OK(ms_objective_eval(f, x, &fv, gv));
  CHECK(fv == 2 && gv[0] == 0 && gv[1] == 1 && gv[2] == 0);
  ms_objective_free(f);

  /* f = x3 * x3 + sin(x1) (dead), through one shared node used twice */
  g.len = 0;
  uint32_t x3 = var(&g, 2);
  op1(&g, MS_EXPR_SIN, var(&g, 0));
  op2(&g, MS_EXPR_MUL, x3, x3);
  f = compile(&g, 3);
  CHECK_OK(ms_objective_eval(f, x, &fv, gv));
  CHECK(fv == 9 && gv[0] == 0 && gv[1] == 0 && gv[2] == 6);
  CHECK_OK(ms_objective_hessian(f, x, H));
  for (int i = 0; i < 9; i++) CHECK_EQ(H[i], i == 8 ? 2 : 0);
  ms_objective_free(f);
}

static void test_errors(void) {
  static graph g;
  g.len = 0;
  ms_objective *f = (ms_objective *)&g;
  CHECK_STATUS(ms_objective_expr(2, g.n, 0, &f), MS_EINVAL);
  CHECK(f == NULL);
  CHECK_ERROR_HAS("at least one node");
  var(&g, 2);
  CHECK_STATUS(ms_objective_expr(2, g.n, 1, &f), MS_EINVAL);
  CHECK_ERROR_HAS("node 1: variable 2 is not in [0, 2)");
  CHECK_STATUS(ms_objective_expr(0, g.n, 1, &f), MS_EINVAL);
  g.len = 0;
  var(&g, 0);
  op2(&g, MS_EXPR_ADD, 0, 1);
  CHECK_STATUS(ms_objective_expr(2, g.n, 2, &f), MS_EINVAL);
  CHECK_ERROR_HAS("node 2: an operand is not an earlier node");
  g.n[1].op = MS_EXPR_NOPS;
  CHECK_STATUS(ms_objective_expr(2, g.n, 2, &f), MS_EINVAL);
  CHECK_ERROR_HAS("node 2: unknown operation");
  g.n[1].op = -1;
  CHECK_STATUS(ms_objective_expr(2, g.n, 2, &f), MS_EINVAL);
  CHECK_STATUS(ms_objective_expr(2, g.n, (size_t)MS_EXPR_NODES_MAX + 1, &f), MS_ERANGE);
  CHECK_ERROR_HAS("too large");
  CHECK(f == NULL);

  /* a Hessian only where it is exact */
  ms_objective *q = NULL, *b = NULL;
  const double lambda[2] = {1, 3}, x[2] = {5, 6};
  double H[4];
  CHECK_OK(ms_objective_quadratic(lambda, 2, &q));
  CHECK_OK(ms_objective_hessian(q, x, H));
  CHECK(H[0] == 1 && H[1] == 0 && H[2] == 0 && H[3] == 3);
  CHECK_OK(ms_objective_booth(&b));
  CHECK_STATUS(ms_objective_hessian(b, x, H), MS_EINVAL);
  CHECK_ERROR_HAS("no exact Hessian");
  ms_objective_free(q);
  ms_objective_free(b);
}

/* A polynomial of degree 2 is a quadratic to the analysis; others not. */
static void test_quadratic_parts(void) {
  static graph g;   /* (x1 - 1)^2 + x1 x2 + 3 */
  g.len = 0;
  uint32_t x1 = var(&g, 0), x2 = var(&g, 1);
  uint32_t u = op1(&g, MS_EXPR_SQR, op2(&g, MS_EXPR_SUB, x1, cst(&g, 1)));
  op2(&g, MS_EXPR_ADD, op2(&g, MS_EXPR_ADD, u, op2(&g, MS_EXPR_MUL, x1, x2)), cst(&g, 3));
  ms_objective *f = compile(&g, 2);
  double Q[4], c[2], b;
  CHECK(ms_objective_quadratic_parts(f, Q, c, &b) == 1);
  CHECK(Q[0] == 2 && Q[1] == 1 && Q[2] == 1 && Q[3] == 0);
  CHECK(c[0] == -2 && c[1] == 0 && b == 4);
  CHECK(ms_objective_diagonal(f, NULL) == 0);   /* sweeps' fast loop: built-ins only */
  ms_objective_free(f);
  g.len = 0;   /* x1^2 x2, x1 / x2, exp(x1): not quadratics */
  x1 = var(&g, 0), x2 = var(&g, 1);
  op2(&g, MS_EXPR_MUL, op1(&g, MS_EXPR_SQR, x1), x2);
  f = compile(&g, 2);
  CHECK(ms_objective_quadratic_parts(f, Q, c, &b) == 0);
  ms_objective_free(f);
  g.n[2] = (ms_expr_node){.op = MS_EXPR_DIV, .a = 0, .b = 1};
  g.len = 3;
  f = compile(&g, 2);
  CHECK(ms_objective_quadratic_parts(f, NULL, NULL, NULL) == 0);
  ms_objective_free(f);
  g.n[2] = (ms_expr_node){.op = MS_EXPR_EXP, .a = 0};
  f = compile(&g, 2);
  CHECK(ms_objective_quadratic_parts(f, NULL, NULL, NULL) == 0);
  ms_objective_free(f);
}

/* The largest graph is taken and evaluated (a chain: no recursion). */
static void test_largest(void) {
  size_t n = MS_EXPR_NODES_MAX;
  ms_expr_node *nodes = calloc(n, sizeof *nodes);
  nodes[0] = (ms_expr_node){.op = MS_EXPR_VAR};
  nodes[1] = (ms_expr_node){.op = MS_EXPR_CONST, .c = 1};
  for (size_t i = 2; i < n; i++)   /* x + 1 + 1 + ... */
    nodes[i] = (ms_expr_node){.op = MS_EXPR_ADD, .a = (uint32_t)(i == 2 ? 0 : i - 1), .b = 1};
  ms_objective *f = NULL;
  CHECK_OK(ms_objective_expr(1, nodes, n, &f));
  double x = 0.5, fv, gv;
  CHECK_OK(ms_objective_eval(f, &x, &fv, &gv));
  CHECK_EQ(fv, 0.5 + (double)(n - 2));
  CHECK_EQ(gv, 1);
  ms_objective_free(f);
  free(nodes);
}

/* Threads evaluating one objective at once get what one thread gets. */
enum { THREADS = 4, CALLS = 5000, D = 64 };   /* D: vector loops */
static ms_objective *shared;
static double expected[D + 1];

static void *evaluate_many(void *arg) {
  long bad = 0;
  double x[D], f, g[D];
  for (int i = 0; i < D; i++) x[i] = 0.1 * i - 0.3;
  for (int k = 0; k < CALLS; k++) {
    ms_objective_eval(shared, x, &f, g);
    bad += f != expected[0];
    for (int i = 0; i < D; i++) bad += g[i] != expected[i + 1];
  }
  *(long *)arg = bad;
  return NULL;
}

static void test_threads(void) {
  shared = rosenbrock_graph(D, 1, 100);
  double x[D];
  for (int i = 0; i < D; i++) x[i] = 0.1 * i - 0.3;
  CHECK_OK(ms_objective_eval(shared, x, &expected[0], &expected[1]));
  pthread_t t[THREADS];
  long bad[THREADS];
  for (int i = 0; i < THREADS; i++) pthread_create(&t[i], NULL, evaluate_many, &bad[i]);
  for (int i = 0; i < THREADS; i++) {
    pthread_join(t[i], NULL);
    CHECK(bad[i] == 0);
  }
  ms_objective_free(shared);
}


/* ----------------------------------------- the evaluation proper, batched */

/* The same value: the same bits, or both NaN (which NaN an operation on
 * two returns is the compiler's choice of operand order). */
static int same_value(double a, double b) {
  return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

/* Gradients may sum a slot's terms in another order: 1e-13 relative to
 * the sum of their magnitudes, m (which is |b| without cancellation). */
static int near_gradient(double a, double b, double m) {
  if (isnan(a) || isnan(b)) return isnan(a) && isnan(b);
  return a == b || fabs(a - b) <= 1e-13 * m;
}

/* g at x by the evaluation proper and by the reference passes: the same
 * value, near gradients; the proper's twice the same bits, and its value
 * alone the same. */
static void check_reference(const graph *g, size_t dim, const double *x,
                            const char *what) {
  ms_objective *fast = NULL, *ref = NULL, *mag = NULL;
  CHECK_OK(ms_objective_expr(dim, g->n, g->len, &fast));
  CHECK_OK(ms_objective_expr(dim, g->n, g->len, &ref));
  CHECK_OK(ms_objective_expr(dim, g->n, g->len, &mag));
  ms_expr_reference(fast, MS_EXPR_BATCHED);
  ms_expr_reference(ref, MS_EXPR_REFERENCE);
  ms_expr_reference(mag, MS_EXPR_MAGNITUDE);
  double fa, fb, fc, *ga = calloc(4 * dim, sizeof *ga), *gb = ga + dim, *gc = gb + dim,
                     *gm = gc + dim;
  CHECK_OK(ms_objective_eval(fast, x, &fa, ga));
  CHECK_OK(ms_objective_eval(ref, x, &fb, gb));
  CHECK_OK(ms_objective_eval(mag, x, &fc, gm));
  CHECK_OK(ms_objective_eval(fast, x, &fc, gc));
  int bad = !same_value(fa, fb) || memcmp(&fa, &fc, sizeof fa) != 0 ||
            memcmp(ga, gc, dim * sizeof *ga) != 0;
  for (size_t i = 0; i < dim; i++) bad |= !near_gradient(ga[i], gb[i], gm[i]);
  CHECK_OK(ms_objective_eval(fast, x, &fc, NULL));
  bad |= memcmp(&fa, &fc, sizeof fa) != 0;
  if (bad) {
    check_failures++;
    fprintf(stderr, "%s: f %.17g, reference %.17g\n", what, fa, fb);
    for (size_t i = 0; i < dim; i++)
      if (!near_gradient(ga[i], gb[i], gm[i]))
        fprintf(stderr, "  grad %zu: %.17g, reference %.17g (magnitude %g)\n", i,
                ga[i], gb[i], gm[i]);
  }
  free(ga);
  ms_objective_free(fast);
  ms_objective_free(ref);
  ms_objective_free(mag);
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
  /* POWC's exponents: squares and cubes repeat, so batches form */
  return node(g, op, a, b, op == MS_EXPR_POWC ? (double)(lcg(seed) % 5) - 1 : 0);
}

/* Any operation on any earlier nodes: constants of both signs and zeros
 * among the leaves, shared adjoints, cancellations, signed zeros. */
static void random_graph(graph *g, size_t dim, unsigned *seed) {
  g->len = 0;
  for (uint32_t i = 0; i < dim; i++) var(g, (uint32_t)((i * 5 + 3) % dim));
  cst(g, 0);
  cst(g, -1.5);
  cst(g, 2);
  while (g->len < 200) {
    uint32_t a = (uint32_t)(lcg(seed) % g->len), b = (uint32_t)(lcg(seed) % g->len);
    random_node(g, random_op(seed), a, b, seed);
  }
}

/* What a loop of the caller's makes: for i = 0..dim-1 the same few
 * operations, of operands x_i, x_(i+1), x_(p(i)) (p a permutation: no
 * stride), a node shared by every i, a constant shared or of its own,
 * the loop's earlier results; summed into s by s = s + t, t + s, s - t,
 * t - s, or any of these at each i. */
enum { TEMPLATE = 6, CHOICES = 6 };
static void loop_graph(graph *g, size_t dim, unsigned *seed) {
  struct { int op; unsigned a, b; } t[TEMPLATE];
  size_t len = 2 + lcg(seed) % (TEMPLATE - 1);
  for (size_t k = 0; k < len; k++)
    t[k].op = random_op(seed), t[k].a = lcg(seed) % (CHOICES + (unsigned)k),
    t[k].b = lcg(seed) % (CHOICES + (unsigned)k);
  unsigned sum = lcg(seed) % 5, mult = 1 + 2 * (lcg(seed) % 50);
  g->len = 0;
  uint32_t shared = op1(g, MS_EXPR_SIN, var(g, (uint32_t)(dim / 2)));
  uint32_t one = cst(g, 1.25), s = 0;
  for (size_t i = 0; i < dim; i++) {
    uint32_t r[CHOICES + TEMPLATE];
    r[0] = var(g, (uint32_t)i), r[1] = var(g, (uint32_t)((i + 1) % dim));
    r[2] = var(g, (uint32_t)(i * mult % dim));   /* mult odd, dim even: not */
    r[3] = shared, r[4] = one, r[5] = cst(g, 0.25 * (double)i - 1);
    for (size_t k = 0; k < len; k++)
      r[CHOICES + k] = random_node(g, t[k].op, r[t[k].a], r[t[k].b], seed);
    uint32_t v = r[CHOICES + len - 1];
    unsigned how = sum < 4 ? sum : lcg(seed) % 4;
    if (i == 0) s = v;
    else if (how == 0) s = op2(g, MS_EXPR_ADD, s, v);
    else if (how == 1) s = op2(g, MS_EXPR_ADD, v, s);
    else if (how == 2) s = op2(g, MS_EXPR_SUB, s, v);
    else s = op2(g, MS_EXPR_SUB, v, s);
  }
}

static void random_x(double *x, size_t dim, unsigned *seed) {
  for (size_t i = 0; i < dim; i++) x[i] = (lcg(seed) % 2001) / 500.0 - 2;
}

static void test_batched(void) {
  static graph g;
  static double x[1000];
  unsigned seed = 12345;
  char what[64];
  for (int r = 0; r < 2000; r++) {
    size_t dim = 1 + (size_t)(lcg(&seed) % 8);
    random_x(x, dim, &seed);
    random_graph(&g, dim, &seed);
    snprintf(what, sizeof what, "random graph %d", r);
    check_reference(&g, dim, x, what);
  }
  for (int r = 0; r < 400; r++) {
    size_t dim = r % 4 == 0 ? 1000 : 1 + (size_t)(lcg(&seed) % 64);
    random_x(x, dim, &seed);
    loop_graph(&g, dim, &seed);
    snprintf(what, sizeof what, "loop graph %d (dim %zu)", r, dim);
    check_reference(&g, dim, x, what);
  }
}

/* Rosenbrock of d = 1000 as the caller writes it: the reference's value,
 * the built-in's gradient. */
static void test_batched_rosenbrock(void) {
  enum { N = 1000 };
  static graph g;
  g.len = 0;
  uint32_t sum = cst(&g, 0), ca = cst(&g, 1), cb = cst(&g, 100);
  for (uint32_t i = 0; i + 1 < N; i++) {   /* s + b (x_{i+1} - x_i^2)^2 + (a - x_i)^2 */
    uint32_t xj = var(&g, i + 1), xi = var(&g, i);
    uint32_t u = op2(&g, MS_EXPR_SUB, xj, op1(&g, MS_EXPR_SQR, xi));
    uint32_t t = op2(&g, MS_EXPR_MUL, cb, op1(&g, MS_EXPR_SQR, u));
    uint32_t v = op1(&g, MS_EXPR_SQR, op2(&g, MS_EXPR_SUB, ca, xi));
    sum = op2(&g, MS_EXPR_ADD, op2(&g, MS_EXPR_ADD, sum, t), v);
  }
  static double x[N], gc[N], gr[N];
  for (int i = 0; i < N; i++) x[i] = i % 2 ? 1 : -1.2 + 0.001 * i;
  check_reference(&g, N, x, "rosenbrock 1000");
  ms_objective *c = compile(&g, N), *r = NULL;
  CHECK_OK(ms_objective_rosenbrock(1, 100, N, &r));
  double fc, fr;
  CHECK_OK(ms_objective_eval(c, x, &fc, gc));
  CHECK_OK(ms_objective_eval(r, x, &fr, gr));
  check_rel(fc, fr, 1e-13, "rosenbrock 1000 f");
  for (int i = 0; i < N; i++) check_rel(gc[i], gr[i], 1e-13, "rosenbrock 1000 grad");
  ms_objective_free(c);
  ms_objective_free(r);
}

/* Left to itself, a compiled objective evaluates as the reference when
 * its batches average under two operations (Rosenbrock of d = 2: one
 * switch per operation costs less), batched otherwise (d = 1000): the same
 * bits as the one it chose. */
static void test_choice(void) {
  static double x[1000], ga[1000], gb[1000];
  for (int i = 0; i < 1000; i++) x[i] = i % 2 ? 1 : -1.2 + 0.001 * i;
  size_t dims[] = {2, 1000};
  for (size_t k = 0; k < 2; k++) {
    size_t dim = dims[k];
    int small = dim < 1000;
    ms_objective *chosen = rosenbrock_graph(dim, 1, 100), *other = rosenbrock_graph(dim, 1, 100);
    int how = small ? MS_EXPR_REFERENCE : MS_EXPR_BATCHED;
    CHECK(ms_expr_evaluation(chosen) == how);
    ms_expr_reference(other, how);
    double fa, fb;
    CHECK_OK(ms_objective_eval(chosen, x, &fa, ga));
    CHECK_OK(ms_objective_eval(other, x, &fb, gb));
    CHECK(memcmp(&fa, &fb, sizeof fa) == 0);
    CHECK(memcmp(ga, gb, dim * sizeof *ga) == 0);
    ms_objective_free(chosen);
    ms_objective_free(other);
  }
}

int main(void) {
  test_rosenbrock();
  test_operations();
  test_shapes();
  test_errors();
  test_quadratic_parts();
  test_largest();
  test_threads();
  test_batched();
  test_batched_rosenbrock();
  test_choice();
  return check_report("test_expr");
}
