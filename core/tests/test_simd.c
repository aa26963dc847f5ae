/* test_simd.c -- the vectorised loops give the same bits at every vector
 * width.  Every built-in rule, with every option, steps at every level the
 * processor has (scalar, SSE2, AVX2, AVX-512: simd.h), and x and the state
 * are compared after each step with a plain scalar loop written here from
 * the rule's equations in the engine's order of operations (the loops the
 * rules had before they were vectorised).  Sizes cover every remainder of
 * every width; inputs include NaN, infinities, signed zeros, subnormals and
 * huge numbers, and the state starts from arbitrary values, not zeros, so
 * that a step which must ignore it (t = 1) is seen to.  "The same" is bit
 * for bit, except that any NaN equals any NaN (which NaN payload an
 * operation on two NaNs keeps is up to the compiler, on any level).  The
 * element-wise operations on vectors (vec.c) are checked the same way. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "internal.h"
#include "momsandbox.h"
#include "simd.h"

enum { STEPS = 3, MAXSTATE = 3 };

/* ------------------------------------------------------------ inputs */

static uint64_t seed = 42;
static uint64_t next_u64(void) {   /* splitmix64 */
  uint64_t z = (seed += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static double uniform(void) { return (double)(next_u64() >> 11) * 0x1p-53; }

/* Mostly ordinary numbers of either sign; one in eight special. */
static double number(void) {
  static const double special[] = {
      NAN, -NAN, INFINITY, -INFINITY, 0.0, -0.0, 0x1p-1070, -0x1p-1060,
      1e300, -1e300, 0x1p-1022, 1e-300,
  };
  if (next_u64() % 8 == 0)
    return special[next_u64() % (sizeof special / sizeof special[0])];
  return (uniform() - 0.5) * 8;
}

static void fill(double *v, size_t n) {
  for (size_t i = 0; i < n; i++) v[i] = number();
}

static int same(double a, double b) {
  return (isnan(a) && isnan(b)) || memcmp(&a, &b, sizeof a) == 0;
}

/* --------------------------------------------- the reference loops */

/* The hyper-parameters of the rule, by name. */
static const ms_rule *cur;
static double H(const char *name) {
  return ms_rule_get(cur, ms_rule_hyper_index(cur, name));
}

static double lerp(double a, double b, double w) {
  return fabs(w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

static double maximum(double a, double b) {
  return isnan(a) || a > b ? a : b;
}

/* L2 term and sign of the rules that have them. */
static double direction(double g, double x) {
  double d = H("maximize") != 0 ? -g : g;
  if (H("weight_decay") != 0) d += H("weight_decay") * x;
  return d;
}

static void ref_gd(double *x, const double *g, double **s, size_t n,
                   int64_t t) {
  (void)s, (void)t;
  for (size_t i = 0; i < n; i++) x[i] += -H("lr") * g[i];
}

static void ref_momentum(double *x, const double *g, double **s, size_t n,
                         int64_t t) {
  (void)t;
  for (size_t i = 0; i < n; i++) {
    s[0][i] = H("beta") * s[0][i] + g[i];
    x[i] += -H("lr") * s[0][i];
  }
}

static void ref_sgd(double *x, const double *g, double **s, size_t n,
                    int64_t t) {
  double mom = H("momentum"), damp = 1 - H("dampening");
  for (size_t i = 0; i < n; i++) {
    double d = direction(g[i], x[i]);
    if (mom != 0) {
      s[0][i] = t == 1 ? d : mom * s[0][i] + damp * d;
      d = H("nesterov") != 0 ? d + mom * s[0][i] : s[0][i];
    }
    x[i] += -H("lr") * d;
  }
}

static void ref_nag(double *x, const double *g, double **s, size_t n,
                    int64_t t) {
  (void)t;
  for (size_t i = 0; i < n; i++) {
    s[0][i] = H("momentum") * s[0][i] - H("lr") * g[i];
    x[i] += s[0][i];
  }
}

static void ref_nesterov(double *x, const double *g, double **s, size_t n,
                         int64_t t) {
  double mom = H("momentum");
  for (size_t i = 0; i < n; i++) {
    s[0][i] = t == 1 ? g[i] : mom * s[0][i] + g[i];
    x[i] += -H("lr") * (g[i] + mom * s[0][i]);
  }
}

static void ref_qhm(double *x, const double *g, double **s, size_t n,
                    int64_t t) {
  (void)t;
  double lr = H("lr"), beta = H("beta"), nu = H("nu");
  for (size_t i = 0; i < n; i++) {
    s[0][i] = s[0][i] * beta + (1 - beta) * g[i];
    x[i] += -lr * nu * s[0][i];
    x[i] += -lr * (1 - nu) * g[i];
  }
}

static void ref_aggmo(double *x, const double *g, double **s, size_t n,
                      int64_t t) {
  (void)t;
  const char *beta[3] = {"beta1", "beta2", "beta3"};
  for (size_t i = 0; i < n; i++)
    for (int k = 0; k < 3; k++) {
      s[k][i] = H(beta[k]) * s[k][i] - g[i];
      x[i] += H("lr") / 3 * s[k][i];
    }
}

static void adam(double *x, const double *g, double **s, size_t n, int64_t t,
                 double wd) {
  double beta1 = H("beta1"), beta2 = H("beta2");
  double step_size = H("lr") / (1 - pow(beta1, (double)t));
  double bc2_sqrt = pow(1 - pow(beta2, (double)t), 0.5);
  for (size_t i = 0; i < n; i++) {
    double d = H("maximize") != 0 ? -g[i] : g[i];
    if (wd != 0) d += wd * x[i];
    s[0][i] = lerp(s[0][i], d, 1 - beta1);
    s[1][i] = s[1][i] * beta2 + (1 - beta2) * d * d;
    double v = s[1][i];
    if (H("amsgrad") != 0) v = s[2][i] = maximum(s[2][i], s[1][i]);
    x[i] += -step_size * s[0][i] / (sqrt(v) / bc2_sqrt + H("eps"));
  }
}

static void ref_adam(double *x, const double *g, double **s, size_t n,
                     int64_t t) {
  adam(x, g, s, n, t, H("weight_decay"));
}

static void ref_adamw(double *x, const double *g, double **s, size_t n,
                      int64_t t) {
  if (H("weight_decay") != 0)
    for (size_t i = 0; i < n; i++) x[i] *= 1 - H("lr") * H("weight_decay");
  adam(x, g, s, n, t, 0);
}

static void ref_rmsprop(double *x, const double *g, double **s, size_t n,
                        int64_t t) {
  (void)t;
  double alpha = H("alpha"), mom = H("momentum"), lr = H("lr");
  for (size_t i = 0; i < n; i++) {
    double d = direction(g[i], x[i]);
    s[0][i] = s[0][i] * alpha + (1 - alpha) * d * d;
    double r;
    if (H("centered") != 0) {
      s[2][i] = lerp(s[2][i], d, 1 - alpha);
      r = sqrt(s[0][i] - s[2][i] * s[2][i]);
    } else {
      r = sqrt(s[0][i]);
    }
    r += H("eps");
    if (mom > 0) {
      s[1][i] = s[1][i] * mom + d / r;
      x[i] += -lr * s[1][i];
    } else {
      x[i] += -lr * d / r;
    }
  }
}

static void ref_adagrad(double *x, const double *g, double **s, size_t n,
                        int64_t t) {
  double clr = H("lr") / (1 + (double)(t - 1) * H("lr_decay"));
  if (t == 1)
    for (size_t i = 0; i < n; i++) s[0][i] = H("initial_accumulator_value");
  for (size_t i = 0; i < n; i++) {
    double d = direction(g[i], x[i]);
    s[0][i] += d * d;
    x[i] += -clr * d / (sqrt(s[0][i]) + H("eps"));
  }
}

/* ------------------------------------------ rules and their options */

typedef void ref_fn(double *x, const double *g, double **s, size_t n,
                    int64_t t);

typedef struct option {
  const char *name;
  int count;
  double values[3];
} option;

typedef struct rule_case {
  const char *name;
  ref_fn *ref;
  option opt[6];   /* every combination of their values */
} rule_case;

#define FLAG(name) {name, 2, {0, 1}}
static const rule_case cases[] = {
    {"gd", ref_gd, {{"lr", 1, {0.1}}}},
    {"momentum", ref_momentum, {{"lr", 1, {0.1}}, {"beta", 2, {0.9, 0.3}}}},
    {"sgd", ref_sgd, {{"lr", 1, {0.1}}, {"momentum", 2, {0, 0.9}},
                      {"dampening", 2, {0, 0.3}}, FLAG("nesterov"),
                      {"weight_decay", 2, {0, 0.01}}, FLAG("maximize")}},
    {"nag", ref_nag, {{"lr", 1, {0.1}}, {"momentum", 2, {0.9, 0}}}},
    {"nesterov", ref_nesterov, {{"lr", 1, {0.1}}, {"momentum", 1, {0.9}}}},
    {"qhm", ref_qhm, {{"lr", 1, {0.1}}, {"nu", 3, {0, 0.7, 1}},
                      {"beta", 2, {0.999, 0.5}}}},
    {"aggmo", ref_aggmo, {{"lr", 1, {0.1}}, {"beta1", 2, {0, 0.5}}}},
    {"adam", ref_adam, {{"beta1", 2, {0.9, 0.2}}, FLAG("amsgrad"),
                        {"weight_decay", 2, {0, 0.01}}, FLAG("maximize")}},
    {"adamw", ref_adamw, {{"beta1", 2, {0.9, 0.2}}, FLAG("amsgrad"),
                          {"weight_decay", 2, {0, 0.01}}, FLAG("maximize")}},
    {"rmsprop", ref_rmsprop, {{"alpha", 2, {0.99, 0.3}}, FLAG("centered"),
                              {"momentum", 2, {0, 0.5}},
                              {"weight_decay", 2, {0, 0.01}},
                              FLAG("maximize")}},
    {"adagrad", ref_adagrad, {{"lr_decay", 2, {0, 0.1}},
                              {"initial_accumulator_value", 2, {0, 0.5}},
                              {"weight_decay", 2, {0, 0.01}},
                              FLAG("maximize")}},
};

/* Every remainder of 2, 4 and 8, short and long vectors. */
static const size_t sizes[] = {1,  2,  3,  4,  5,  6,  7,  8,  9,  10, 11,
                               12, 13, 15, 16, 17, 23, 31, 64, 67, 1001};

static int levels_run;
static long compared;

/* STEPS steps of rule at every level, each from the same x, state and
 * gradients, against the reference. */
static void check_rule(ms_rule *rule, ref_fn *ref, size_t n) {
  int nstate = ms_rule_class_of(rule)->nstate;
  size_t words = (size_t)(2 + STEPS + 2 * MAXSTATE) * n;
  double *mem = malloc(words * sizeof *mem);
  double *x0 = mem, *g = x0 + n, *s0 = g + STEPS * n, *rs = s0 + MAXSTATE * n;
  fill(x0, n);
  fill(g, STEPS * n);
  fill(s0, MAXSTATE * n);
  double *rx = malloc(n * sizeof *rx), *x = malloc(n * sizeof *x);
  double *y = malloc(n * sizeof *y), *ry = malloc(n * sizeof *ry);
  for (int level = 0; level < MS_SIMD_LEVELS; level++) {
    if (!ms_simd_supported(level)) continue;
    CHECK(ms_simd_set_level(level) == level);
    memcpy(x, x0, n * sizeof *x);
    memcpy(rx, x0, n * sizeof *x);
    memcpy(rs, s0, MAXSTATE * n * sizeof *rs);
    double *refstate[MAXSTATE] = {rs, rs + n, rs + 2 * n};
    CHECK_OK(ms_rule_reset(rule, n));
    for (int k = 0; k < nstate; k++)
      memcpy(ms_rule_state(rule, k), s0 + k * n, n * sizeof *s0);
    int ok = 1;
    for (int64_t t = 1; t <= STEPS && ok; t++) {
      const double *gt = g + (t - 1) * n;
      if (ms_rule_class_of(rule)->lookahead != NULL) {
        CHECK_OK(ms_rule_lookahead(rule, x, y, n));
        for (size_t i = 0; i < n; i++)   /* nag's y = x + momentum v */
          ry[i] = rx[i] + H("momentum") * refstate[0][i];
        for (size_t i = 0; i < n; i++) ok &= same(y[i], ry[i]);
      }
      CHECK_OK(ms_rule_step(rule, x, gt, n));
      ref(rx, gt, refstate, n, t);
      for (size_t i = 0; i < n; i++) ok &= same(x[i], rx[i]);
      for (int k = 0; k < nstate; k++)
        for (size_t i = 0; i < n; i++)
          ok &= same(ms_rule_state(rule, k)[i], refstate[k][i]);
      compared += (long)n * (1 + nstate);
      if (!ok)
        fprintf(stderr, "%s differs at level %s, n = %zu, step %lld\n",
                ms_rule_class_of(rule)->name, ms_simd_name(level), n,
                (long long)t);
    }
    CHECK(ok);
  }
  free(mem);
  free(rx);
  free(x);
  free(y);
  free(ry);
}

/* Every combination of the case's option values, option k onwards. */
static void combinations(const rule_case *c, ms_rule *rule, int k) {
  if (k == 6 || c->opt[k].name == NULL) {
    if (ms_rule_check(rule) != MS_OK) return;   /* nesterov's constraint */
    for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
      check_rule(rule, c->ref, sizes[s]);
    return;
  }
  for (int v = 0; v < c->opt[k].count; v++) {
    CHECK_OK(ms_rule_set(rule, c->opt[k].name, c->opt[k].values[v]));
    combinations(c, rule, k + 1);
  }
}

static void test_rules(void) {
  CHECK(sizeof cases / sizeof cases[0] == (size_t)ms_rule_class_count());
  for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
    ms_rule *rule = NULL;
    CHECK_OK(ms_rule_new(ms_rule_class_find(cases[c].name), &rule));
    if (rule == NULL) continue;
    cur = rule;
    combinations(&cases[c], rule, 0);
    ms_rule_free(rule);
  }
}

/* ------------------------------------------------------------ vectors */

static int ref_isfinite(const double *x, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x[i])) return 0;
  return 1;
}

/* One non-finite entry anywhere, or none, at every level. */
static void test_isfinite(void) {
  enum { N = 9000 };
  static double x[N];
  static const double bad[] = {NAN, INFINITY, -INFINITY};
  for (size_t i = 0; i < N; i++) x[i] = (uniform() - 0.5) * 1e308 * 2;
  for (int level = 0; level < MS_SIMD_LEVELS; level++) {
    if (!ms_simd_supported(level)) continue;
    ms_simd_set_level(level);
    size_t lens[] = {0, 1, 2, 3, 5, 7, 8, 9, 15, 16, 17, 33, 4095, 4096,
                     4097, 8191, N};
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
      size_t n = lens[l];
      CHECK(ms_vec_isfinite(x, n) == 1);
      for (size_t at = 0; at < n; at += n < 40 ? 1 : 97) {
        double keep = x[at];
        x[at] = bad[at % 3];
        CHECK(ms_vec_isfinite(x, n) == ref_isfinite(x, n));
        CHECK(ms_vec_isfinite(x, n) == 0);
        x[at] = keep;
      }
    }
    x[N - 1] = -0.0;   /* zeros and subnormals are finite */
    x[N - 2] = 0x1p-1074;
    CHECK(ms_vec_isfinite(x, N) == 1);
  }
}

/* Each element-wise operation of vec.c, as the plain loop it was, applied
 * by op to y (from x, u, v and the scalars a, b). */
enum { V_SCALE, V_AXPY, V_AXPBY, V_ADD, V_SUB, V_MUL, V_DIV, V_ADDCMUL,
       V_ADDCDIV, V_SQRT, V_OPS };
static const char *const vec_op_names[V_OPS] = {
    "scale", "axpy", "axpby", "add", "sub", "mul", "div", "addcmul",
    "addcdiv", "sqrt"};

static void ref_vec(int op, double *y, double a, double b, const double *x,
                    const double *u, const double *v, size_t n) {
  for (size_t i = 0; i < n; i++) {
    switch (op) {
    case V_SCALE: y[i] *= a; break;
    case V_AXPY: y[i] += a * x[i]; break;
    case V_AXPBY: y[i] = a * x[i] + b * y[i]; break;
    case V_ADD: y[i] += x[i]; break;
    case V_SUB: y[i] -= x[i]; break;
    case V_MUL: y[i] *= x[i]; break;
    case V_DIV: y[i] /= x[i]; break;
    case V_ADDCMUL: y[i] += a * u[i] * v[i]; break;
    case V_ADDCDIV: y[i] += a * u[i] / v[i]; break;
    case V_SQRT: y[i] = sqrt(y[i]); break;
    }
  }
}

static void run_vec(int op, double *y, double a, double b, const double *x,
                    const double *u, const double *v, size_t n) {
  switch (op) {
  case V_SCALE: ms_vec_scale(y, a, n); break;
  case V_AXPY: ms_vec_axpy(y, a, x, n); break;
  case V_AXPBY: ms_vec_axpby(y, a, x, b, n); break;
  case V_ADD: ms_vec_add(y, x, n); break;
  case V_SUB: ms_vec_sub(y, x, n); break;
  case V_MUL: ms_vec_mul(y, x, n); break;
  case V_DIV: ms_vec_div(y, x, n); break;
  case V_ADDCMUL: ms_vec_addcmul(y, a, u, v, n); break;
  case V_ADDCDIV: ms_vec_addcdiv(y, a, u, v, n); break;
  case V_SQRT: ms_vec_sqrt(y, n); break;
  }
}

/* Every operation at every level against its plain loop, for every
 * remainder of every width, arrays starting anywhere in a block, and x
 * the very array y (v:axpy(a, v)). */
static void test_vec_ops(void) {
  enum { N = 1001 + 8 };
  static double y0[N], x[N], u[N], v[N], y[N], ry[N];
  for (int level = 0; level < MS_SIMD_LEVELS; level++) {
    if (!ms_simd_supported(level)) continue;
    ms_simd_set_level(level);
    for (int op = 0; op < V_OPS; op++)
      for (size_t s = 0; s < sizeof sizes / sizeof sizes[0]; s++)
        for (size_t off = 0; off < 8; off += 3)
          for (int alias = 0; alias < 2; alias++) {
            size_t n = sizes[s];
            double a = number(), b = number();
            fill(y0, N), fill(x, N), fill(u, N), fill(v, N);
            memcpy(y, y0, sizeof y), memcpy(ry, y0, sizeof ry);
            const double *xs = alias ? y + off : x + off;
            const double *rxs = alias ? ry + off : x + off;
            run_vec(op, y + off, a, b, xs, u + off, v + off, n);
            ref_vec(op, ry + off, a, b, rxs, u + off, v + off, n);
            int ok = 1;
            for (size_t i = 0; i < N; i++) ok &= same(y[i], ry[i]);
            compared += N;
            if (!ok)
              fprintf(stderr, "%s differs at level %s, n = %zu, offset %zu%s\n",
                      vec_op_names[op], ms_simd_name(level), n, off,
                      alias ? ", x = y" : "");
            CHECK(ok);
          }
  }
}

/* ------------------------------------------------------------ levels */

static void test_levels(void) {
  CHECK(ms_simd_supported(MS_SIMD_SCALAR));
  CHECK(!ms_simd_supported(-1) && !ms_simd_supported(MS_SIMD_LEVELS));
  CHECK(ms_simd_name(MS_SIMD_LEVELS) == NULL);
  int widest = ms_simd_set_level(-1);
  CHECK(ms_simd_supported(widest));
  CHECK(ms_simd_level() == widest);
  /* a level the machine lacks leaves the level as it is */
  CHECK(ms_simd_set_level(MS_SIMD_SCALAR) == MS_SIMD_SCALAR);
  CHECK(ms_simd_set_level(MS_SIMD_LEVELS) == MS_SIMD_SCALAR);
  for (int l = 0; l < MS_SIMD_LEVELS; l++)
    if (ms_simd_supported(l)) {
      printf("level %s\n", ms_simd_name(l));
      levels_run++;
    } else if (ms_simd_set_level(l) != MS_SIMD_SCALAR) {
      CHECK(!"an unsupported level was set");
    }
}

int main(void) {
  test_levels();
  test_rules();
  test_isfinite();
  test_vec_ops();
  ms_simd_set_level(-1);
  printf("%d levels, %ld numbers compared\n", levels_run, compared);
  return check_report("test_simd");
}
