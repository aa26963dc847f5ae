/* test_registry.c -- every class of the rule registry keeps the contract
 * of ms_rule_class: a unique name, sane hyper-parameter descriptors and
 * state names, finite steps from the defaults, a reset that restores the
 * rule, clones that step bit for bit as the original, and a heavy_ball
 * hook (where there is one) that tells the truth, bit for bit, both
 * against the class's own step and in a sweep's vectorised loop.  A rule
 * added to rules/builtin.c is tested without anyone writing its test. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "momsandbox.h"

enum { N = 3, STEPS = 8 };
/* f = 1/2 sum lambda_i x_i^2 from x0: gradient lambda x */
static const double lambda[N] = {0.5, 2, 4};
static const double x0[N] = {1, -2, 0.5};

/* A value strictly inside the range of h (u in (0, 1) picks where), or
 * 0 or 1 for a flag. */
static double inside(const ms_hyper_info *h, double u) {
  if (h->kind == MS_HYPER_FLAG) return u < 0.5 ? 0 : 1;
  double lo = h->lo, hi = h->hi;
  if (isinf(lo) && isinf(hi)) lo = -1, hi = 1;
  else if (isinf(hi)) hi = lo + 1;
  else if (isinf(lo)) lo = hi - 1;
  return lo + u * (hi - lo);
}

/* An instance with the class defaults, required values set inside their
 * ranges. */
static ms_rule *make(const ms_rule_class *cls) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(cls, &r));
  for (int i = 0; r != NULL && i < cls->nhyper; i++)
    if (isnan(cls->hyper[i].def))
      CHECK_OK(ms_rule_set(r, cls->hyper[i].name, inside(&cls->hyper[i], 0.1)));
  return r;
}

/* STEPS steps from x0 through the rule's own functions (its lookahead
 * too), x_t into traj[t - 1]. */
static ms_status run(ms_rule *r, double traj[STEPS][N]) {
  double x[N], y[N], g[N];
  memcpy(x, x0, sizeof x);
  for (int t = 0; t < STEPS; t++) {
    ms_status st = ms_rule_lookahead(r, x, y, N);
    for (int i = 0; i < N; i++) g[i] = lambda[i] * y[i];
    if (st == MS_OK) st = ms_rule_step(r, x, g, N);
    if (st != MS_OK) return st;
    memcpy(traj[t], x, sizeof x);
  }
  return MS_OK;
}

/* The same steps as the vectorised loop of sweeps takes them
 * (sweep_fast.c's step_lanes, scale 1). */
static void run_heavy_ball(double lr, double beta, int nesterov,
                           double traj[STEPS][N]) {
  double x[N], v[N] = {0}, neta = -lr;
  memcpy(x, x0, sizeof x);
  for (int t = 0; t < STEPS; t++) {
    for (int k = 0; k < N; k++) {
      double g = lambda[k] * x[k];
      v[k] = beta * v[k] + g;
      x[k] += neta * (nesterov ? g + beta * v[k] : v[k]);
    }
    memcpy(traj[t], x, sizeof x);
  }
}

static int same_bits(const void *a, const void *b, size_t size) {
  return memcmp(a, b, size) == 0;
}

/* ------------------------------------------------------------- names */

static void test_names(void) {
  int count = ms_rule_class_count();
  CHECK(count > 0);
  CHECK(ms_rule_class_at(count) == NULL && ms_rule_class_at(-1) == NULL);
  for (int i = 0; i < count; i++) {
    const ms_rule_class *cls = ms_rule_class_at(i);
    CHECK(cls != NULL && cls->name != NULL && cls->name[0] != '\0');
    if (cls == NULL || cls->name == NULL) continue;
    CHECK(cls->step != NULL);
    CHECK(ms_rule_class_find(cls->name) == cls);
    for (int j = 0; j < i; j++)
      CHECK(strcmp(ms_rule_class_at(j)->name, cls->name) != 0);
  }
}

/* ------------------------------------------------- hyper-parameters */

static int in_range(const ms_hyper_info *h, double v) {
  int below = h->lo_open ? !(v > h->lo) : !(v >= h->lo);
  int above = h->hi_open ? !(v < h->hi) : !(v <= h->hi);
  return !below && !above;
}

static void check_hyper(const ms_rule_class *cls) {
  CHECK(cls->nhyper >= 0 && (cls->nhyper == 0 || cls->hyper != NULL));
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(cls, &r));
  for (int i = 0; i < cls->nhyper; i++) {
    const ms_hyper_info *h = &cls->hyper[i];
    CHECK(h->name != NULL && h->name[0] != '\0');
    for (int j = 0; j < i; j++) CHECK(strcmp(cls->hyper[j].name, h->name) != 0);
    CHECK(h->kind == MS_HYPER_REAL || h->kind == MS_HYPER_FLAG);
    CHECK((h->lo_open == 0 || h->lo_open == 1) &&
          (h->hi_open == 0 || h->hi_open == 1));
    CHECK(h->lo <= h->hi);   /* false for NaN too */
    if (h->kind == MS_HYPER_FLAG)
      CHECK(h->lo == 0 && h->hi == 1 && (h->def == 0 || h->def == 1));
    CHECK(isnan(h->def) || in_range(h, h->def));
    CHECK(in_range(h, inside(h, 0.1)) && in_range(h, inside(h, 0.6)));
    /* the engine agrees: the instance starts at the default, which it
     * accepts as a value */
    double got = ms_rule_get(r, i);
    CHECK(isnan(h->def) ? isnan(got) : got == h->def);
    CHECK(ms_rule_hyper_index(r, h->name) == i);
    if (!isnan(h->def)) CHECK_OK(ms_rule_set(r, h->name, h->def));
  }
  ms_rule_free(r);
}

/* ------------------------------------------------------------ state */

static void check_state(const ms_rule_class *cls) {
  CHECK(cls->nstate >= 0 && (cls->nstate == 0 || cls->state_names != NULL));
  for (int i = 0; i < cls->nstate; i++) {
    const char *name = cls->state_names[i];
    CHECK(name != NULL && name[0] != '\0');
    for (int j = 0; name != NULL && j < i; j++)
      CHECK(strcmp(cls->state_names[j], name) != 0);
  }
  ms_rule *r = make(cls);
  CHECK_OK(ms_rule_reset(r, N));
  CHECK(ms_rule_dim(r) == N && ms_rule_steps(r) == 0);
  CHECK(ms_rule_state(r, cls->nstate) == NULL);
  for (int i = 0; i < cls->nstate; i++) {
    const double *v = ms_rule_state(r, i);
    CHECK(v != NULL);
    for (int k = 0; v != NULL && k < N; k++) CHECK(v[k] == 0);
    for (int j = 0; v != NULL && j < i; j++) {   /* vectors apart */
      const double *u = ms_rule_state(r, j);
      CHECK(u + N <= v || v + N <= u);
    }
  }
  ms_rule_free(r);
}

/* ----------------------------------------------- steps, reset, clone */

static int state_finite(ms_rule *r, int nstate) {
  int ok = 1;
  for (int i = 0; i < nstate; i++) ok &= ms_vec_isfinite(ms_rule_state(r, i), N);
  return ok;
}

static void check_steps(const ms_rule_class *cls) {
  double first[STEPS][N], again[STEPS][N], cloned[STEPS][N];
  ms_rule *r = make(cls), *c = NULL;
  CHECK_OK(ms_rule_check(r));   /* the defaults satisfy the class's check */
  CHECK_OK(run(r, first));
  CHECK(ms_vec_isfinite(&first[0][0], STEPS * N));
  CHECK(state_finite(r, cls->nstate));
  CHECK(ms_rule_steps(r) == STEPS);
  /* a reset restores the rule as it was made */
  CHECK_OK(ms_rule_reset(r, N));
  CHECK(ms_rule_steps(r) == 0);
  for (int i = 0; i < cls->nstate; i++)
    CHECK(ms_vec_max(ms_rule_state(r, i), N) == 0 &&
          ms_vec_min(ms_rule_state(r, i), N) == 0);
  CHECK_OK(run(r, again));
  CHECK(same_bits(first, again, sizeof first));
  /* a clone steps as the original */
  CHECK_OK(ms_rule_clone(r, &c));
  CHECK(c != NULL && ms_rule_class_of(c) == cls);
  if (c != NULL) {
    CHECK_OK(run(c, cloned));
    CHECK(same_bits(first, cloned, sizeof first));
  }
  ms_rule_free(c);
  ms_rule_free(r);
}

/* ------------------------------------------------- the heavy_ball hook */

/* With hyper-parameters i and j (-1: none) moved inside their ranges: when
 * the hook says the step is heavy ball, the class's step gives the bits
 * of the vectorised loop's update.  Returns 1 when the hook said so. */
static int check_hook_at(const ms_rule_class *cls, int i, int j) {
  ms_rule *r = make(cls);
  for (int k = 0; k < cls->nhyper; k++) {
    const ms_hyper_info *h = &cls->hyper[k];
    double probe = h->kind == MS_HYPER_FLAG ? 1 - ms_rule_get(r, k)
                                            : inside(h, 0.6);
    if ((k == i || k == j) && ms_rule_set(r, h->name, probe) != MS_OK) {
      ms_rule_free(r);
      return 0;
    }
  }
  int said = 0;
  if (ms_rule_check(r) == MS_OK) {   /* a combination the class allows */
    double h[64], lr, beta, mine[STEPS][N], fast[STEPS][N];
    int nesterov;
    for (int k = 0; k < cls->nhyper && k < 64; k++) h[k] = ms_rule_get(r, k);
    said = cls->nhyper <= 64 && cls->heavy_ball(h, &lr, &beta, &nesterov);
    if (said) {
      CHECK(nesterov == 0 || nesterov == 1);
      CHECK_OK(run(r, mine));
      run_heavy_ball(lr, beta, nesterov, fast);
      if (!same_bits(mine, fast, sizeof mine)) {
        fprintf(stderr, "%s: heavy_ball differs from step with %s and %s\n",
                cls->name, i >= 0 ? cls->hyper[i].name : "-",
                j >= 0 ? cls->hyper[j].name : "-");
        check_failures++;
      }
    }
  }
  ms_rule_free(r);
  return said;
}

/* A sweep over the learning rate in the vectorised loop and in the
 * general one (the class's step) gives the same results, bit for bit. */
static void check_hook_sweep(const ms_rule_class *cls) {
  ms_objective *f = NULL;
  ms_rule *r = make(cls);
  ms_sweep *s = NULL;
  static const double lrs[] = {0.05, 0.1, 0.3};
  CHECK_OK(ms_objective_quadratic(lambda, N, &f));
  CHECK_OK(ms_sweep_new(f, r, x0, N, &s));
  CHECK_OK(ms_sweep_axis(s, "lr", lrs, 3));
  ms_sweep_opts o;
  ms_sweep_opts_init(&o);
  o.steps = 50;
  o.measures = MS_MEASURE_LOSS | MS_MEASURE_RATE;
  o.threads = 1;
  ms_sweep_result fast[3], general[3];
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(ms_sweep_was_fast(s) && ms_sweep_count(s) == 3);
  if (ms_sweep_count(s) == 3) memcpy(fast, ms_sweep_results(s), sizeof fast);
  o.fast = 0;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(!ms_sweep_was_fast(s) && ms_sweep_count(s) == 3);
  if (ms_sweep_count(s) == 3)
    memcpy(general, ms_sweep_results(s), sizeof general);
  CHECK(same_bits(fast, general, sizeof fast));
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

static void check_hook(const ms_rule_class *cls) {
  if (cls->heavy_ball == NULL) return;
  int said = 0;
  for (int i = -1; i < cls->nhyper; i++)
    for (int j = i; j < cls->nhyper; j++) said += check_hook_at(cls, i, j);
  CHECK(said > 0);   /* a hook that never says yes is dead code */
  if (said > 0 && check_hook_at(cls, -1, -1)) check_hook_sweep(cls);
}

int main(void) {
  test_names();
  for (int i = 0; i < ms_rule_class_count(); i++) {
    const ms_rule_class *cls = ms_rule_class_at(i);
    int before = check_failures;
    check_hyper(cls);
    check_state(cls);
    check_steps(cls);
    check_hook(cls);
    if (check_failures != before) fprintf(stderr, "  (rule %s)\n", cls->name);
  }
  return check_report("test_registry");
}
