/*
 * rule.c -- update-rule instances: hyper-parameters, state, stepping.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

struct ms_rule {
  const ms_rule_class *cls;
  void *ctx;        /* handed to the class callbacks */
  double *hyper;    /* cls->nhyper values */
  const ms_schedule **sched;  /* per hyper-parameter: a schedule or NULL */
  int nsched;       /* how many are scheduled */
  double *cur;      /* the values in effect at step cur_t */
  int64_t cur_t;
  size_t n;         /* dimension of the state; 0 before the first reset */
  int64_t t;        /* steps taken since the last reset */
  double *store;    /* nstate * n doubles */
  double **state;   /* nstate pointers into store */
};

int ms_rule_class_count(void) { return (int)ms_rule_builtin_count; }

const ms_rule_class *ms_rule_class_at(int i) {
  return i >= 0 && i < ms_rule_class_count() ? ms_rule_builtin[i] : NULL;
}

int ms_rule_class_is_builtin(const ms_rule_class *cls) {
  for (size_t i = 0; i < ms_rule_builtin_count; i++)
    if (ms_rule_builtin[i] == cls) return 1;
  return 0;
}

const ms_rule_class *ms_rule_class_find(const char *name) {
  if (name == NULL) return NULL;
  for (int i = 0; i < ms_rule_class_count(); i++)
    if (strcmp(ms_rule_builtin[i]->name, name) == 0) return ms_rule_builtin[i];
  return NULL;
}

/* A class of ms_rule_class_new: the descriptors follow it, then the
 * state names' pointers and the strings, in the same block. */
typedef struct made_class {
  ms_rule_class cls;
  ms_hyper_info hyper[];
} made_class;

/* s copied to *text, which then points past the copy. */
static const char *copy(char **text, const char *s) {
  const char *d = strcpy(*text, s);
  *text += strlen(s) + 1;
  return d;
}

ms_status ms_rule_class_new(const char *name, size_t nhyper, size_t nstate,
                            const char *const *names, const double *desc,
                            ms_rule_step_fn step,
                            ms_rule_lookahead_fn lookahead,
                            ms_rule_class **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(name);
  MS_NEED(step);
  if (nhyper > 255 || nstate > 64)
    return ms_fail(MS_EINVAL, "at most 255 hyper-parameters and 64 state vectors");
  if (nhyper + nstate > 0) MS_NEED(names);
  if (nhyper > 0) MS_NEED(desc);
  size_t chars = strlen(name) + 1;
  for (size_t i = 0; i < nhyper + nstate; i++) {
    if (names[i] == NULL) return ms_fail(MS_EINVAL, "name %zu is NULL", i + 1);
    chars += strlen(names[i]) + 1;
  }
  for (size_t i = 0; i < nhyper; i++)
    for (int k = 3; k < 6; k++)
      if (desc[6 * i + k] != 0 && desc[6 * i + k] != 1)
        return ms_fail(MS_EINVAL, "%s: lo_open, hi_open and flag must be 0 or 1",
                       names[i]);
  size_t head = sizeof(made_class) + nhyper * sizeof(ms_hyper_info);
  made_class *c = ms_calloc(1, head + nstate * sizeof(char *) + chars);
  if (c == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  const char **state = (const char **)((char *)c + head);
  char *text = (char *)(state + nstate);
  c->cls.name = copy(&text, name);
  for (size_t i = 0; i < nhyper; i++) {
    const double *d = desc + 6 * i;
    ms_hyper_info *h = &c->hyper[i];
    h->name = copy(&text, names[i]);
    h->def = d[0];
    h->lo = d[1];
    h->hi = d[2];
    h->lo_open = d[3] != 0;
    h->hi_open = d[4] != 0;
    h->kind = d[5] != 0 ? MS_HYPER_FLAG : MS_HYPER_REAL;
  }
  for (size_t i = 0; i < nstate; i++) state[i] = copy(&text, names[nhyper + i]);
  c->cls.nhyper = (int)nhyper;
  c->cls.hyper = c->hyper;
  c->cls.nstate = (int)nstate;
  c->cls.state_names = state;
  c->cls.step = step;
  c->cls.lookahead = lookahead;
  *out = &c->cls;
  return MS_OK;
}

void ms_rule_class_free(const ms_rule_class *cls) {
  if (cls != NULL && !ms_rule_class_is_builtin(cls)) free((void *)cls);
}

/* Can instances of cls work?  Every name is compared with strcmp and
 * every array read, so none may be missing. */
static int class_ok(const ms_rule_class *cls) {
  if (cls == NULL || cls->step == NULL || cls->name == NULL ||
      cls->nhyper < 0 || cls->nstate < 0 ||
      (cls->nhyper > 0 && cls->hyper == NULL))
    return 0;
  for (int i = 0; i < cls->nhyper; i++)
    if (cls->hyper[i].name == NULL) return 0;
  return 1;
}

ms_status ms_rule_new(const ms_rule_class *cls, ms_rule **out) {
  MS_NEED(out);
  *out = NULL;
  if (!class_ok(cls)) return ms_fail(MS_EINVAL, "invalid rule class");
  ms_rule *r = ms_calloc(1, sizeof *r);
  if (r != NULL) {
    r->cls = cls;
    r->hyper = ms_calloc((size_t)cls->nhyper, sizeof *r->hyper);
    r->cur = ms_calloc((size_t)cls->nhyper, sizeof *r->cur);
    r->sched = ms_calloc((size_t)cls->nhyper, sizeof *r->sched);
    r->state = ms_calloc((size_t)cls->nstate, sizeof *r->state);
  }
  if (r == NULL || !r->hyper || !r->cur || !r->sched || !r->state) {
    ms_rule_free(r);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  for (int i = 0; i < cls->nhyper; i++) r->hyper[i] = cls->hyper[i].def;
  *out = r;
  return MS_OK;
}

void ms_rule_free(ms_rule *rule) {
  if (rule == NULL) return;
  free(rule->store);
  free(rule->state);
  free(rule->sched);
  free(rule->cur);
  free(rule->hyper);
  free(rule);
}

ms_status ms_rule_clone(const ms_rule *rule, ms_rule **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(rule);
  ms_status st = ms_rule_new(rule->cls, out);
  if (st != MS_OK) return st;
  size_t nh = (size_t)rule->cls->nhyper;
  memcpy((*out)->hyper, rule->hyper, nh * sizeof(double));
  memcpy((*out)->sched, rule->sched, nh * sizeof *rule->sched);
  (*out)->nsched = rule->nsched;
  (*out)->ctx = rule->ctx;
  return MS_OK;
}

const ms_rule_class *ms_rule_class_of(const ms_rule *rule) {
  return rule != NULL ? rule->cls : NULL;
}

void ms_rule_set_context(ms_rule *rule, void *ctx) {
  if (rule != NULL) rule->ctx = ctx;
}

int ms_rule_hyper_index(const ms_rule *rule, const char *name) {
  if (rule == NULL || name == NULL) return -1;
  for (int i = 0; i < rule->cls->nhyper; i++)
    if (strcmp(rule->cls->hyper[i].name, name) == 0) return i;
  return -1;
}

/* Is v allowed for the hyper-parameter described by h?  Explains in
 * ms_last_error() when it is not. */
static ms_status check_value(const ms_hyper_info *h, double v) {
  if (h->kind == MS_HYPER_FLAG) {
    if (v == 0.0 || v == 1.0) return MS_OK;
    return ms_fail(MS_EINVAL, "%s must be a flag (0 or 1), got %g", h->name,
                   v);
  }
  int below = h->lo_open ? !(v > h->lo) : !(v >= h->lo);
  int above = h->hi_open ? !(v < h->hi) : !(v <= h->hi);
  if (!isnan(v) && !below && !above) return MS_OK;
  return ms_fail(MS_EINVAL, "%s must be in %c%g, %g%c, got %g", h->name,
                 h->lo_open ? '(' : '[', h->lo, h->hi,
                 h->hi_open ? ')' : ']', isnan(v) ? NAN : v);  /* not -nan */
}

ms_status ms_rule_set(ms_rule *rule, const char *name, double value) {
  MS_NEED(rule);
  MS_NEED(name);
  int i = ms_rule_hyper_index(rule, name);
  if (i < 0)
    return ms_fail(MS_EINVAL, "%s has no hyper-parameter '%s'",
                   rule->cls->name, name);
  ms_status st = check_value(&rule->cls->hyper[i], value);
  if (st != MS_OK) return st;
  rule->hyper[i] = value;
  if (rule->sched[i] != NULL) rule->nsched--;
  rule->sched[i] = NULL;
  return MS_OK;
}

ms_status ms_rule_set_schedule(ms_rule *rule, const char *name,
                               const ms_schedule *schedule) {
  MS_NEED(rule);
  MS_NEED(name);
  int i = ms_rule_hyper_index(rule, name);
  if (i < 0)
    return ms_fail(MS_EINVAL, "%s has no hyper-parameter '%s'",
                   rule->cls->name, name);
  if (schedule != NULL && rule->cls->hyper[i].kind == MS_HYPER_FLAG)
    return ms_fail(MS_EINVAL, "%s is a flag and cannot follow a schedule",
                   name);
  rule->nsched += (schedule != NULL) - (rule->sched[i] != NULL);
  rule->sched[i] = schedule;
  rule->cur_t = 0;
  return MS_OK;
}

const ms_schedule *ms_rule_get_schedule(const ms_rule *rule, int i) {
  return rule != NULL && i >= 0 && i < rule->cls->nhyper ? rule->sched[i] : NULL;
}

double ms_rule_get(const ms_rule *rule, int i) {
  return rule != NULL && i >= 0 && i < rule->cls->nhyper ? rule->hyper[i] : NAN;
}

ms_status ms_rule_check(const ms_rule *rule) {
  MS_NEED(rule);
  const ms_rule_class *cls = rule->cls;
  for (int i = 0; i < cls->nhyper; i++) {
    if (rule->sched[i] != NULL) continue;   /* checked at every step */
    if (isnan(rule->hyper[i]))
      return ms_fail(MS_EINVAL, "%s is required", cls->hyper[i].name);
    ms_status st = check_value(&cls->hyper[i], rule->hyper[i]);
    if (st != MS_OK) return st;
  }
  return cls->check && rule->nsched == 0 ? cls->check(rule->hyper) : MS_OK;
}

ms_status ms_rule_reset(ms_rule *rule, size_t n) {
  MS_NEED(rule);
  ms_status st = ms_rule_check(rule);
  if (st != MS_OK) return st;
  if (n == 0) return ms_fail(MS_EINVAL, "parameters must not be empty");
  size_t nstate = (size_t)rule->cls->nstate, count, bytes;
  /* nstate * n doubles, a product that must not wrap to a small buffer */
  if (!ms_size_mul(nstate, n, &count) ||
      !ms_size_mul(count, sizeof(double), &bytes))
    return ms_fail(MS_ERANGE,
                   "%zu state vectors of dimension %zu are too large", nstate,
                   n);
  if (n != rule->n) {
    double *store = NULL;
    if (nstate > 0 && (store = ms_calloc(count, sizeof *store)) == NULL)
      return ms_fail(MS_ENOMEM, "out of memory for %zu state vectors of %zu",
                     nstate, n);
    free(rule->store);
    rule->store = store;
    rule->n = n;
  } else if (nstate > 0) {
    ms_vec_fill(rule->store, 0.0, count);
  }
  for (size_t i = 0; i < nstate; i++) rule->state[i] = rule->store + i * n;
  rule->t = 0;
  rule->cur_t = 0;
  return MS_OK;
}

size_t ms_rule_dim(const ms_rule *rule) { return rule ? rule->n : 0; }
int64_t ms_rule_steps(const ms_rule *rule) { return rule ? rule->t : 0; }
void ms_rule_set_steps(ms_rule *rule, int64_t t) { rule->t = t; }

double *ms_rule_state(ms_rule *rule, int i) {
  if (rule == NULL || i < 0 || i >= rule->cls->nstate || rule->n == 0) return NULL;
  return rule->state[i];
}

static ms_status ensure_dim(ms_rule *rule, size_t n) {
  return n == rule->n ? MS_OK : ms_rule_reset(rule, n);
}

/* Prefix the failure just recorded with the step (and the scheduled
 * hyper-parameter) it happened at. */
static ms_status at_step(ms_status st, int64_t t, const char *scheduled) {
  char detail[256];
  snprintf(detail, sizeof detail, "%s", ms_last_error());
  if (scheduled != NULL)
    return ms_fail(st, "the schedule of %s at step %lld: %s", scheduled,
                   (long long)t, detail);
  return ms_fail(st, "at step %lld: %s", (long long)t, detail);
}

/* The hyper-parameters in effect at step t: the values, with scheduled
 * ones evaluated and checked like any value a user sets. */
static ms_status hyper_at(ms_rule *rule, int64_t t, const double **h) {
  const ms_rule_class *cls = rule->cls;
  *h = rule->hyper;
  if (rule->nsched == 0) return MS_OK;
  *h = rule->cur;
  if (rule->cur_t == t) return MS_OK;
  for (int i = 0; i < cls->nhyper; i++) {
    double v = rule->hyper[i];
    if (rule->sched[i] != NULL) {
      ms_status st = ms_schedule_value(rule->sched[i], t, &v);
      if (st != MS_OK) return st;
      if ((st = check_value(&cls->hyper[i], v)) != MS_OK)
        return at_step(st, t, cls->hyper[i].name);
    }
    rule->cur[i] = v;
  }
  ms_status st = cls->check ? cls->check(rule->cur) : MS_OK;
  if (st != MS_OK) return at_step(st, t, NULL);
  rule->cur_t = t;
  return MS_OK;
}

ms_status ms_rule_begin_lookahead(ms_rule *rule, size_t n, int64_t *t,
                                  const double **h) {
  MS_NEED(rule);
  MS_NEED(t);
  MS_NEED(h);
  ms_status st = ensure_dim(rule, n);
  *t = rule->t + 1;
  return st == MS_OK ? hyper_at(rule, *t, h) : st;
}

ms_status ms_rule_begin_step(ms_rule *rule, size_t n, int64_t *t,
                             const double **h) {
  ms_status st = ms_rule_begin_lookahead(rule, n, t, h);
  if (st == MS_OK) rule->t = *t;
  return st;
}

ms_status ms_rule_lookahead(ms_rule *rule, const double *x, double *y,
                            size_t n) {
  MS_NEED(rule);
  MS_NEED(x);
  MS_NEED(y);
  if (rule->cls->lookahead == NULL) {
    ms_status st = ensure_dim(rule, n);
    if (st == MS_OK) ms_vec_copy(y, x, n);
    return st;
  }
  int64_t t;
  const double *h;
  ms_status st = ms_rule_begin_lookahead(rule, n, &t, &h);
  if (st != MS_OK) return st;
  return rule->cls->lookahead(rule->ctx, h, x, rule->state, y, n, t);
}

ms_status ms_rule_step(ms_rule *rule, double *x, const double *g, size_t n) {
  MS_NEED(rule);
  MS_NEED(x);
  MS_NEED(g);
  int64_t t;
  const double *h;
  ms_status st = ms_rule_begin_step(rule, n, &t, &h);
  if (st != MS_OK) return st;
  return rule->cls->step(rule->ctx, h, x, g, rule->state, n, t);
}
