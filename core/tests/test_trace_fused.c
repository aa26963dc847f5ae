/* test_trace_fused.c -- the fused trace loop against the general one: for
 * every objective with a kernel and every rule with a loop, the same
 * points, values, divergence step and reason, and rule state, bit for
 * bit -- through runs that converge, that record every k-th point, that
 * start at -0, and that diverge in the first block or in a later one. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "momsandbox.h"
#include "trace.h"

/* A run: x_0 recorded, then the general loop or the fused one; NULL when
 * want_fused and the pair has no fused loop. */
static ms_trace *run(ms_objective *obj, ms_rule *rule, const double *x0,
                     size_t n, int64_t steps, int64_t every, int want_fused) {
  ms_trace_opts o = {.steps = steps, .every = every};
  ms_trace *tr = NULL;
  double *work = calloc(3 * n, sizeof *work), f0;
  double *x = work, *g = work + n, *y = work + 2 * n;
  memcpy(x, x0, n * sizeof *x);
  CHECK_OK(ms_rule_reset(rule, n));
  CHECK_OK(ms_trace_new(n, &o, &tr));
  CHECK_OK(ms_objective_eval(obj, x, &f0, NULL));
  CHECK_OK(ms_trace_record(tr, x, f0));
  ms_status st = MS_OK;
  if (want_fused) {
    if (!ms_trace_fused(tr, obj, rule, x, g, y, &st)) {
      ms_trace_free(tr);
      tr = NULL;
    }
  } else {
    st = ms_trace_steps(tr, obj, rule, x, g, y, 0, 0, steps);
  }
  CHECK_OK(st);
  free(work);
  return tr;
}

static int same_bits(const double *a, const double *b, size_t n) {
  return memcmp(a, b, n * sizeof *a) == 0;
}

static int64_t diverged_runs, late_divergences, pairs, gradient_first;

/* The two loops from x0, and the rule's state after each. */
static void compare(ms_objective *obj, ms_rule *rule, const double *x0,
                    size_t n, int64_t steps, int64_t every) {
  ms_trace *a = run(obj, rule, x0, n, steps, every, 0);
  double state_a[64] = {0}, state_b[64] = {0};
  int64_t t_a = ms_rule_steps(rule), t_b;
  if (ms_rule_state(rule, 0)) memcpy(state_a, ms_rule_state(rule, 0), n * sizeof(double));
  ms_trace *b = run(obj, rule, x0, n, steps, every, 1);
  CHECK(b != NULL);
  if (b == NULL) {
    ms_trace_free(a);
    return;
  }
  t_b = ms_rule_steps(rule);
  if (ms_rule_state(rule, 0)) memcpy(state_b, ms_rule_state(rule, 0), n * sizeof(double));
  pairs++;
  size_t len = ms_trace_len(a);
  CHECK(ms_trace_len(b) == len);
  CHECK(ms_trace_diverged(b) == ms_trace_diverged(a));
  CHECK(t_a == t_b);
  CHECK(same_bits(state_a, state_b, n));
  if (ms_trace_diverged(a)) {
    diverged_runs++;
    late_divergences += ms_trace_diverged(a) > 4096;   /* past the first block */
    CHECK(strcmp(ms_trace_reason(a), ms_trace_reason(b)) == 0);
    gradient_first += strncmp(ms_trace_reason(a), "gradient", 8) == 0;
  }
  size_t i = 0;   /* the first point that differs, if any */
  for (; i < len && i < ms_trace_len(b); i++) {
    double fa = ms_trace_value(a, i), fb = ms_trace_value(b, i);
    if (!same_bits(ms_trace_point(a, i), ms_trace_point(b, i), n) ||
        !same_bits(&fa, &fb, 1))
      break;
  }
  CHECK(i == len);
  ms_trace_free(a);
  ms_trace_free(b);
}

static ms_rule *rule_of(const char *cls, const char *const *names,
                        const double *values, int count) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find(cls), &r));
  for (int i = 0; i < count; i++) CHECK_OK(ms_rule_set(r, names[i], values[i]));
  return r;
}

/* Every rule with a fused loop, in the settings its loop branches on. */
typedef struct {
  const char *cls;
  const char *names[4];
  double values[4];
  int count;
} rule_spec;

static const rule_spec rules[] = {
    {"gd", {"lr"}, {1}, 1},
    {"momentum", {"lr", "beta"}, {1, 0.5}, 2},
    {"momentum", {"lr", "beta"}, {1, 0}, 2},
    {"nesterov", {"lr", "momentum"}, {1, 0.9}, 2},
    {"sgd", {"lr"}, {1}, 1},
    {"sgd", {"lr", "momentum"}, {1, 0.8}, 2},
    {"sgd", {"lr", "momentum", "nesterov"}, {1, 0.7, 1}, 3},
    {"sgd", {"lr", "momentum", "dampening"}, {1, 0.6, 0.3}, 3},
    {"sgd", {"lr", "momentum", "weight_decay"}, {1, 0.5, 0.01}, 3},
    {"sgd", {"lr", "momentum", "maximize"}, {1, 0.5, 1}, 3},
};

/* Every rule spec at learning rates lr (rule_spec's lr scaled). */
static void each_rule(ms_objective *obj, const double *x0, size_t n,
                      double lr, int64_t steps, int64_t every) {
  for (size_t k = 0; k < MS_COUNT(rules); k++) {
    double values[4];
    memcpy(values, rules[k].values, sizeof values);
    values[0] *= lr;
    ms_rule *r = rule_of(rules[k].cls, rules[k].names, values, rules[k].count);
    compare(obj, r, x0, n, steps, every);
    ms_rule_free(r);
  }
}

static void test_quadratics(void) {
  ms_objective *q2 = NULL, *q5 = NULL;
  const double l2[2] = {0.2, 4}, l5[5] = {1, 0.5, 2, 3, 0.1};
  CHECK_OK(ms_objective_quadratic(l2, 2, &q2));
  CHECK_OK(ms_objective_quadratic(l5, 5, &q5));
  const double x2[2] = {-5, -2}, z2[2] = {-0.0, 3}, x5[5] = {1, -2, 0.5, -0.0, 4};
  /* converging, every point and every 7th; diverging at lr 0.55 (x2 grows
   * by 1.2 a step: f overflows in the first block) and at 0.5125 (1.05:
   * in the second block, past step 4096) */
  for (int every = 1; every <= 7; every += 6) {
    each_rule(q2, x2, 2, 0.1, 1000, every);
    each_rule(q2, z2, 2, 0.1, 1000, every);
    each_rule(q5, x5, 5, 0.1, 1000, every);
    each_rule(q2, x2, 2, 0.55, 3000, every);
    each_rule(q2, x2, 2, 0.5125, 20000, every);
    each_rule(q5, x5, 5, 0.9, 3000, every);
  }
  each_rule(q2, x2, 2, 0.1, 20, 1);   /* d2l's length, and 1 step */
  each_rule(q2, x2, 2, 0.1, 1, 1);
  /* a gradient that overflows where f does not: 1.7e308 * 1.1 is inf, and
   * f = ((0.5 * 1.7e308) * 1.1) * 1.1 about 1.03e308 */
  ms_objective *steep = NULL;
  const double ls[2] = {1.7e308, 1}, xs[2] = {1.1, 1};
  CHECK_OK(ms_objective_quadratic(ls, 2, &steep));
  each_rule(steep, xs, 2, 0.1, 10, 1);
  ms_objective_free(steep);
  ms_objective_free(q2);
  ms_objective_free(q5);
}

static void test_functions(void) {
  ms_objective *f[5] = {NULL};
  CHECK_OK(ms_objective_rosenbrock(1, 100, 2, &f[0]));
  CHECK_OK(ms_objective_rosenbrock(1, 100, 4, &f[1]));
  CHECK_OK(ms_objective_beale(&f[2]));
  CHECK_OK(ms_objective_booth(&f[3]));
  CHECK_OK(ms_objective_himmelblau(&f[4]));
  const size_t dims[5] = {2, 4, 2, 2, 2};
  const double x0[4] = {-1.2, 1, 0.5, -0.0};
  for (int k = 0; k < 5; k++)
    for (int every = 1; every <= 3; every += 2) {
      each_rule(f[k], x0, dims[k], 1e-4, 2000, every);   /* slow descent */
      each_rule(f[k], x0, dims[k], 0.02, 2000, every);   /* most diverge */
      each_rule(f[k], x0, dims[k], 1.0, 50, every);
    }
  for (int k = 0; k < 5; k++) ms_objective_free(f[k]);
}

/* Appends a node to e (len of them so far), returning its index. */
static uint32_t node(ms_expr_node *e, uint32_t *len, int op, uint32_t a,
                     uint32_t b, double c) {
  e[*len] = (ms_expr_node){.op = op, .a = a, .b = b, .c = c};
  return (*len)++;
}

/* Rosenbrock of dimension n compiled from an expression, as a user
 * writes it: s + 100 (x_(i+1) - x_i^2)^2 + (1 - x_i)^2. */
static ms_objective *compiled_rosenbrock(size_t n) {
  ms_expr_node e[64];
  uint32_t len = 0, s = 0;
  uint32_t one = node(e, &len, MS_EXPR_CONST, 0, 0, 1);
  uint32_t hundred = node(e, &len, MS_EXPR_CONST, 0, 0, 100);
  for (uint32_t i = 0; i + 1 < n; i++) {
    uint32_t xj = node(e, &len, MS_EXPR_VAR, i + 1, 0, 0);
    uint32_t xi = node(e, &len, MS_EXPR_VAR, i, 0, 0);
    uint32_t sq = node(e, &len, MS_EXPR_SQR, xi, 0, 0);
    uint32_t u = node(e, &len, MS_EXPR_SUB, xj, sq, 0);
    uint32_t u2 = node(e, &len, MS_EXPR_SQR, u, 0, 0);
    uint32_t t = node(e, &len, MS_EXPR_MUL, hundred, u2, 0);
    uint32_t w = node(e, &len, MS_EXPR_SUB, one, xi, 0);
    uint32_t v = node(e, &len, MS_EXPR_SQR, w, 0, 0);
    if (i > 0) t = node(e, &len, MS_EXPR_ADD, s, t, 0);
    s = node(e, &len, MS_EXPR_ADD, t, v, 0);
  }
  ms_objective *f = NULL;
  CHECK_OK(ms_objective_expr(n, e, len, &f));
  return f;
}

/* Compiled objectives: their evaluation called by the fused loop. */
static void test_compiled(void) {
  const double x0[4] = {-1.2, 1, 0.5, -0.0};
  for (size_t n = 2; n <= 4; n += 2) {
    ms_objective *f = compiled_rosenbrock(n);
    for (int every = 1; every <= 3; every += 2) {
      each_rule(f, x0, n, 1e-4, 2000, every);
      each_rule(f, x0, n, 0.02, 2000, every);
      each_rule(f, x0, n, 1.0, 50, every);
    }
    ms_objective_free(f);
  }
  /* 1 / x at 1e-200: the gradient, -1e400, is -inf, x becomes inf, and f
   * = 1 / inf = 0 is finite: the fused loop must see x itself */
  ms_expr_node e[3];
  uint32_t len = 0;
  uint32_t one = node(e, &len, MS_EXPR_CONST, 0, 0, 1);
  uint32_t x = node(e, &len, MS_EXPR_VAR, 0, 0, 0);
  node(e, &len, MS_EXPR_DIV, one, x, 0);
  ms_objective *inv = NULL;
  CHECK_OK(ms_objective_expr(1, e, len, &inv));
  const double tiny[1] = {1e-200};
  int64_t before = gradient_first;
  each_rule(inv, tiny, 1, 1, 10, 1);
  CHECK(gradient_first == before + (int64_t)MS_COUNT(rules));
  ms_objective_free(inv);
}

/* The loops that have no fused twin say so and leave the trace alone. */
static void test_general_only(void) {
  ms_objective *q = NULL;
  const double l[2] = {0.2, 4}, x0[2] = {-5, -2};
  CHECK_OK(ms_objective_quadratic(l, 2, &q));
  const char *nag_names[] = {"lr"};
  const double nag_values[] = {0.1};
  ms_rule *nag = rule_of("nag", nag_names, nag_values, 1);
  CHECK(run(q, nag, x0, 2, 10, 1, 1) == NULL);
  ms_rule *gd = rule_of("gd", nag_names, nag_values, 1);
  ms_schedule *s = NULL;
  const double args[1] = {0.1};
  CHECK_OK(ms_schedule_builtin("constant", args, 1, NULL, 0, &s));
  CHECK_OK(ms_rule_set_schedule(gd, "lr", s));
  CHECK(run(q, gd, x0, 2, 10, 1, 1) == NULL);
  ms_schedule_free(s);
  ms_rule_free(gd);
  ms_rule_free(nag);
  ms_objective_free(q);
}

int main(void) {
  test_quadratics();
  test_functions();
  test_compiled();
  test_general_only();
  /* the cases above are what they claim: many runs, a good part diverged */
  printf("%lld runs compared, %lld diverged (%lld after step 4096)\n", (long long)pairs,
         (long long)diverged_runs, (long long)late_divergences);
  CHECK(pairs > 400);
  CHECK(diverged_runs > 100);
  CHECK(late_divergences > 3);
  /* the fused loop sees these through x alone, the replay names them */
  printf("%lld of them at a gradient not finite\n", (long long)gradient_first);
  CHECK(gradient_first > 0);
  return check_report("test_trace_fused");
}
