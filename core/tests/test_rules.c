/* test_rules.c -- each built-in rule's first three steps, computed by
 * hand, and the equivalences the chapter relies on. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "momsandbox.h"

static ms_rule *make(const char *name) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find(name), &r));
  return r;
}

/* Three steps on f = 0.1 x1^2 + 2 x2^2 (gradient (0.2 x1, 4 x2)) from
 * (-5, -2), compared with the expected points. */
static void three_steps_2d(ms_rule *r, const double expect[3][2]) {
  double x[2] = {-5, -2};
  for (int t = 0; t < 3; t++) {
    double g[2] = {0.2 * x[0], 4 * x[1]};
    CHECK_OK(ms_rule_step(r, x, g, 2));
    CHECK_NEAR(x[0], expect[t][0], 1e-12);
    CHECK_NEAR(x[1], expect[t][1], 1e-12);
  }
  CHECK(ms_rule_steps(r) == 3);
}

/* Three steps on f = x^2 / 2 (gradient x) from x = 1. */
static void three_steps_1d(ms_rule *r, const double expect[3]) {
  double x = 1;
  for (int t = 0; t < 3; t++) {
    double g = x;
    CHECK_OK(ms_rule_step(r, &x, &g, 1));
    CHECK_NEAR(x, expect[t], 1e-12);
  }
}

static void test_gd(void) {
  ms_rule *r = make("gd");
  CHECK_OK(ms_rule_set(r, "lr", 0.4));
  /* x <- x - 0.4 g */
  static const double e[3][2] = {{-4.6, 1.2}, {-4.232, -0.72}, {-3.89344, 0.432}};
  three_steps_2d(r, e);
  ms_rule_free(r);
}

static void test_momentum(void) {
  ms_rule *r = make("momentum");
  CHECK_OK(ms_rule_set(r, "lr", 0.6));
  CHECK_OK(ms_rule_set(r, "beta", 0.5));
  /* v1 = (-1, -8), v2 = (-1.38, 7.2), v3 = (-1.4044, -2.48) */
  static const double e[3][2] = {
      {-4.4, 2.8}, {-3.572, -1.52}, {-2.72936, -0.032}};
  three_steps_2d(r, e);
  CHECK_NEAR(ms_rule_state(r, 0)[0], -1.4044, 1e-12);
  CHECK_NEAR(ms_rule_state(r, 0)[1], -2.48, 1e-12);
  /* reset zeroes the velocity: the same three steps again */
  CHECK_OK(ms_rule_reset(r, 2));
  CHECK(ms_rule_state(r, 0)[0] == 0 && ms_rule_steps(r) == 0);
  three_steps_2d(r, e);
  ms_rule_free(r);
}

static void test_sgd_dampening(void) {
  ms_rule *r = make("sgd");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "momentum", 0.9));
  CHECK_OK(ms_rule_set(r, "dampening", 0.5));
  /* b1 = g1 = 1 (not dampened), b2 = 0.9 + 0.5 * 0.9 = 1.35,
   * b3 = 0.9 * 1.35 + 0.5 * 0.765 = 1.5975 */
  static const double e[3] = {0.9, 0.765, 0.60525};
  three_steps_1d(r, e);
  ms_rule_free(r);
}

static void test_sgd_nesterov(void) {
  ms_rule *r = make("sgd");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "momentum", 0.9));
  CHECK_OK(ms_rule_set(r, "nesterov", 1));
  /* d_t = g_t + 0.9 b_t: 1.9, 2.349, 2.47779 */
  static const double e[3] = {0.81, 0.5751, 0.327321};
  three_steps_1d(r, e);
  ms_rule_free(r);
}

static void test_sgd_weight_decay_and_maximize(void) {
  ms_rule *r = make("sgd");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "weight_decay", 0.1));
  static const double e[3] = {0.89, 0.7921, 0.704969};  /* x <- x (1 - 0.11) */
  three_steps_1d(r, e);
  ms_rule_free(r);

  r = make("sgd");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "maximize", 1));
  static const double up[3] = {1.1, 1.21, 1.331};       /* ascent */
  three_steps_1d(r, up);
  ms_rule_free(r);
}

/* sgd{momentum = beta} and momentum{beta} are the same iteration: the
 * trajectories agree bit for bit. */
static void test_sgd_equals_momentum(void) {
  ms_rule *a = make("momentum"), *b = make("sgd");
  CHECK_OK(ms_rule_set(a, "lr", 0.05));
  CHECK_OK(ms_rule_set(a, "beta", 0.9));
  CHECK_OK(ms_rule_set(b, "lr", 0.05));
  CHECK_OK(ms_rule_set(b, "momentum", 0.9));
  double xa[3] = {1, -2, 3}, xb[3] = {1, -2, 3};
  const double lambda[3] = {0.3, 2, 7.5};
  int same = 1;
  for (int t = 0; t < 200; t++) {
    double ga[3], gb[3];
    for (int i = 0; i < 3; i++) ga[i] = lambda[i] * xa[i], gb[i] = lambda[i] * xb[i];
    CHECK_OK(ms_rule_step(a, xa, ga, 3));
    CHECK_OK(ms_rule_step(b, xb, gb, 3));
    same = same && memcmp(xa, xb, sizeof xa) == 0;
  }
  CHECK(same);
  ms_rule_free(a);
  ms_rule_free(b);
}

static void test_hyper_checks(void) {
  ms_rule *r = make("momentum");
  CHECK_STATUS(ms_rule_check(r), MS_EINVAL);      /* lr has no default */
  CHECK_ERROR_HAS("lr is required");
  CHECK_STATUS(ms_rule_set(r, "lr", -0.1), MS_EINVAL);
  CHECK_ERROR_HAS("lr must be in [0, inf)");
  CHECK_STATUS(ms_rule_set(r, "lr", NAN), MS_EINVAL);
  CHECK_STATUS(ms_rule_set(r, "lr", INFINITY), MS_EINVAL);
  CHECK_STATUS(ms_rule_set(r, "beta", 1), MS_EINVAL);
  CHECK_ERROR_HAS("beta must be in [0, 1)");
  CHECK_STATUS(ms_rule_set(r, "beta", -0.5), MS_EINVAL);
  CHECK_STATUS(ms_rule_set(r, "lrr", 0.1), MS_EINVAL);
  CHECK_ERROR_HAS("no hyper-parameter 'lrr'");
  CHECK_OK(ms_rule_set(r, "beta", 0));
  CHECK(ms_rule_get(r, ms_rule_hyper_index(r, "beta")) == 0);
  ms_rule_free(r);

  r = make("sgd");
  CHECK_OK(ms_rule_set(r, "lr", 0.1));
  CHECK_OK(ms_rule_set(r, "nesterov", 1));
  CHECK_STATUS(ms_rule_check(r), MS_EINVAL);      /* needs momentum > 0 */
  CHECK_ERROR_HAS("nesterov requires momentum > 0");
  CHECK_OK(ms_rule_set(r, "momentum", 0.9));
  CHECK_OK(ms_rule_check(r));
  CHECK_OK(ms_rule_set(r, "dampening", 0.1));
  CHECK_STATUS(ms_rule_check(r), MS_EINVAL);      /* and no dampening */
  CHECK_STATUS(ms_rule_set(r, "nesterov", 0.5), MS_EINVAL);  /* a flag */
  ms_rule_free(r);
  ms_rule_free(NULL);
}

static void test_registry_and_clone(void) {
  CHECK(ms_rule_class_count() >= 3);
  CHECK(ms_rule_class_find("nope") == NULL);
  CHECK(ms_rule_class_at(-1) == NULL);
  for (int i = 0; i < ms_rule_class_count(); i++)
    CHECK(ms_rule_class_find(ms_rule_class_at(i)->name) == ms_rule_class_at(i));
  ms_rule *r = make("momentum"), *c = NULL;
  CHECK_OK(ms_rule_set(r, "lr", 0.3));
  double x[1] = {1}, g[1] = {1};
  CHECK_OK(ms_rule_step(r, x, g, 1));
  CHECK_OK(ms_rule_clone(r, &c));
  CHECK(ms_rule_get(c, 0) == 0.3 && ms_rule_steps(c) == 0 && ms_rule_dim(c) == 0);
  ms_rule_free(r);
  ms_rule_free(c);
}

/* A class made at run time: x <- x - lr g, with a flag and a state. */
static ms_status made_step(void *ctx, const double *h, double *x, const double *g,
                           double *const *state, size_t n, int64_t t) {
  (void)ctx;
  (void)t;
  for (size_t i = 0; i < n; i++) {
    state[0][i] += 1;
    x[i] -= (h[1] != 0 ? 2 : 1) * h[0] * g[i];
  }
  return MS_OK;
}

static void test_class_new(void) {
  char lr[] = "lr";   /* copied: changing it afterwards changes nothing */
  const char *names[] = {lr, "double", "count"};
  const double desc[] = {NAN, 0, INFINITY, 1, 1, 0, /* lr in (0, inf) */
                         0, 0, 1, 0, 0, 1};          /* double: a flag */
  ms_rule_class *cls = NULL;
  CHECK_OK(ms_rule_class_new("made", 2, 1, names, desc, made_step, NULL, &cls));
  lr[0] = 'X';
  CHECK(strcmp(cls->name, "made") == 0 && cls->nhyper == 2 && cls->nstate == 1);
  CHECK(strcmp(cls->hyper[0].name, "lr") == 0 && isnan(cls->hyper[0].def));
  CHECK(cls->hyper[0].lo_open && cls->hyper[1].kind == MS_HYPER_FLAG);
  CHECK(strcmp(cls->state_names[0], "count") == 0 && cls->lookahead == NULL);
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(cls, &r));
  CHECK_STATUS(ms_rule_check(r), MS_EINVAL);   /* lr is required */
  CHECK_STATUS(ms_rule_set(r, "lr", 0), MS_EINVAL);
  CHECK_OK(ms_rule_set(r, "lr", 0.5));
  CHECK_OK(ms_rule_set(r, "double", 1));
  double x = 1, g = 1;
  CHECK_OK(ms_rule_step(r, &x, &g, 1));
  CHECK_EQ(x, 0);
  CHECK_EQ(ms_rule_state(r, 0)[0], 1);
  ms_rule_free(r);
  ms_rule_class_free(cls);
  ms_rule_class_free(ms_rule_class_find("gd"));   /* left alone */
  CHECK(ms_rule_class_find("gd") != NULL);

  const double badflag[] = {0, 0, 1, 0.5, 0, 0};
  CHECK_STATUS(ms_rule_class_new("c", 1, 0, names, badflag, made_step, NULL, &cls),
               MS_EINVAL);
  CHECK(cls == NULL);
  CHECK_STATUS(ms_rule_class_new("c", 256, 0, names, desc, made_step, NULL, &cls),
               MS_EINVAL);
  CHECK_STATUS(ms_rule_class_new("c", 0, 0, NULL, NULL, NULL, NULL, &cls), MS_EINVAL);
  const char *holes[] = {"lr", NULL};
  CHECK_STATUS(ms_rule_class_new("c", 1, 1, holes, desc, made_step, NULL, &cls),
               MS_EINVAL);
}

/* ms_schedule_builtin gives what the constructor it names gives. */
static void same_values(ms_schedule *a, ms_schedule *b) {
  for (int64_t t = 1; t <= 40; t++) {
    double u = -1, v = -2;
    CHECK_OK(ms_schedule_value(a, t, &u));
    CHECK_OK(ms_schedule_value(b, t, &v));
    CHECK_EQ(u, v);
  }
  ms_schedule_free(a);
  ms_schedule_free(b);
}

static void test_schedule_builtin(void) {
  ms_schedule *a, *b;
  const double cosine[] = {0.5, 7, 0.01, 1, 2};
  CHECK_OK(ms_schedule_builtin("cosine", cosine, 5, NULL, 0, &a));
  CHECK_OK(ms_schedule_cosine(0.5, 7, 0.01, 1, 2, &b));
  same_values(a, b);
  const double multistep[] = {1, 0.5, 3, 10};
  const int64_t milestones[] = {3, 10};
  CHECK_OK(ms_schedule_builtin("multistep", multistep, 4, NULL, 0, &a));
  CHECK_OK(ms_schedule_multistep(1, milestones, 2, 0.5, &b));
  same_values(a, b);
  const double step[] = {1, 4, 0.1}, linear[] = {2, 0.25, 1, 8};
  CHECK_OK(ms_schedule_builtin("step", step, 3, NULL, 0, &a));
  CHECK_OK(ms_schedule_step(1, 4, 0.1, &b));
  same_values(a, b);
  ms_schedule *parts[2];
  CHECK_OK(ms_schedule_builtin("linear", linear, 4, NULL, 0, &parts[0]));
  CHECK_OK(ms_schedule_builtin("constant", linear, 1, NULL, 0, &parts[1]));
  const double at[] = {8};
  const int64_t at_int[] = {8};
  CHECK_OK(ms_schedule_builtin("sequence", at, 1, parts, 2, &a));
  CHECK_OK(ms_schedule_sequence(parts, 2, at_int, &b));
  same_values(a, b);

  const double half[] = {1, 2.5, 0.1}, big[] = {1, 0x1p63, 0.1};
  CHECK_STATUS(ms_schedule_builtin("step", half, 3, NULL, 0, &a), MS_EINVAL);
  CHECK(a == NULL);
  CHECK_STATUS(ms_schedule_builtin("step", big, 3, NULL, 0, &a), MS_EINVAL);
  CHECK_STATUS(ms_schedule_builtin("step", step, 2, NULL, 0, &a), MS_EINVAL);
  CHECK_STATUS(ms_schedule_builtin("nope", step, 3, NULL, 0, &a), MS_EINVAL);
  const double restarts[] = {0.5, 7, 0.01, 2, 2};
  CHECK_STATUS(ms_schedule_builtin("cosine", restarts, 5, NULL, 0, &a), MS_EINVAL);
  CHECK_STATUS(ms_schedule_builtin("sequence", at, 1, parts, 1, &a), MS_EINVAL);
  ms_schedule_free(parts[0]);
  ms_schedule_free(parts[1]);
}

int main(void) {
  test_gd();
  test_momentum();
  test_sgd_dampening();
  test_sgd_nesterov();
  test_sgd_weight_decay_and_maximize();
  test_sgd_equals_momentum();
  test_hyper_checks();
  test_registry_and_clone();
  test_class_new();
  test_schedule_builtin();
  return check_report("test_rules");
}
