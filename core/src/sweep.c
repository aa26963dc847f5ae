/*
 * sweep.c -- a rule run at every point of a grid of hyper-parameters:
 * the grid, the plan of what to measure, the threads that share the
 * runs, the general loop (any rule, any objective: the full-batch loop of
 * trace.c) and the CSV output.  The vectorised loop is in sweep_fast.c.
 *
 * Threads take work units -- a point of the general loop, a few hundred
 * lanes of the vectorised one -- from a shared counter until none is
 * left; each run depends on its parameters alone, so the results do not
 * depend on who ran them.  The calling thread watches: it passes Ctrl-C
 * (ms_interrupt) and failures on as a stop flag that the workers poll
 * every 16 steps, and reports progress.  Workers block all signals, so
 * that handlers run on the calling thread.  Runs that call back into user
 * code (a rule class, objective or schedule that is not built-in) all run
 * on the calling thread, the only one the binding can call back on.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"

enum { FAST_LANES = 512 };   /* lanes per work unit: a few KiB, in L1 */
static const int64_t max_steps = 10000000000;   /* 1e10, as traces */
static const double progress_every = 0.1;      /* seconds */

typedef struct axis {
  char *name;
  int hyper;        /* index of the rule's hyper-parameter; -1: scale */
  int64_t count;    /* values; 0 for the columns of explicit points */
  double *values;   /* count values, or NULL for a range */
  double from, to;
  int log;
} axis;

struct ms_sweep {
  ms_objective *obj;
  ms_rule *rule;          /* a clone of the caller's: every point's defaults */
  size_t n;
  double *x0;
  axis *axes;
  size_t naxes;
  double *points;         /* npoints x naxes, or NULL for a grid */
  int64_t npoints;
  double *xstar;          /* given by ms_sweep_target, or NULL */
  double fstar;           /* given, or NaN */
  /* the last run */
  ms_sweep_result *res;
  size_t res_bytes;
  int64_t first, count;
  int measures, fast, threads;
  double seconds;
};

/* ---------------------------------------------------------- the grid */

ms_status ms_sweep_new(ms_objective *obj, const ms_rule *rule,
                       const double *x0, size_t n, ms_sweep **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(obj);
  MS_NEED(rule);
  MS_NEED(x0);
  ms_status st = ms_check_start(obj, x0, n);
  if (st != MS_OK) return st;
  ms_sweep *s = ms_calloc(1, sizeof *s);
  if (s == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  s->obj = obj;
  s->n = n;
  s->fstar = NAN;
  s->x0 = ms_calloc(n, sizeof *s->x0);
  st = s->x0 ? ms_rule_clone(rule, &s->rule)
             : ms_fail(MS_ENOMEM, "out of memory");
  if (st != MS_OK) {
    ms_sweep_free(s);
    return st;
  }
  ms_vec_copy(s->x0, x0, n);
  *out = s;
  return MS_OK;
}

void ms_sweep_free(ms_sweep *s) {
  if (s == NULL) return;
  for (size_t a = 0; a < s->naxes; a++) {
    free(s->axes[a].name);
    free(s->axes[a].values);
  }
  free(s->axes);
  free(s->points);
  free(s->xstar);
  free(s->x0);
  ms_rule_free(s->rule);
  ms_big_free(s->res, s->res_bytes);
  free(s);
}

/* "lr, beta" */
static void hyper_names(const ms_rule *rule, char *buf, size_t size) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  buf[0] = '\0';
  for (int i = 0, len = 0; i < cls->nhyper && (size_t)len < size; i++)
    len += snprintf(buf + len, size - (size_t)len, "%s%s", i ? ", " : "",
                    cls->hyper[i].name);
}

/* A new axis named name, after checking that the name is one. */
static ms_status add_axis(ms_sweep *s, const char *name, axis **out) {
  int hyper = ms_rule_hyper_index(s->rule, name);
  if (hyper < 0 && strcmp(name, "scale") != 0) {
    char names[256];
    hyper_names(s->rule, names, sizeof names);
    return ms_fail(MS_EINVAL, "%s has no hyper-parameter '%s' (it takes %s; "
                              "or scale, a factor on the objective)",
                   ms_rule_class_of(s->rule)->name, name, names);
  }
  for (size_t a = 0; a < s->naxes; a++)
    if (strcmp(s->axes[a].name, name) == 0)
      return ms_fail(MS_EINVAL, "%s is in the grid twice", name);
  axis *axes = realloc(s->axes, (s->naxes + 1) * sizeof *axes);
  if (axes == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  s->axes = axes;
  axis *ax = memset(&axes[s->naxes], 0, sizeof *ax);
  if ((ax->name = malloc(strlen(name) + 1)) == NULL)
    return ms_fail(MS_ENOMEM, "out of memory");
  strcpy(ax->name, name);
  ax->hyper = hyper;
  s->naxes++;
  *out = ax;
  return MS_OK;
}

/* May the axis take values v[0], v[stride], ... (count of them)?  The
 * rule's own checks, on a scratch copy; *bad is the index of the first
 * value it refuses. */
static ms_status check_values(const ms_sweep *s, const axis *ax,
                              const double *v, size_t count, size_t stride,
                              size_t *bad) {
  ms_rule *scratch = NULL;
  ms_status st = ax->hyper >= 0 ? ms_rule_clone(s->rule, &scratch) : MS_OK;
  for (*bad = 0; *bad < count && st == MS_OK; ++*bad) {
    double x = v[*bad * stride];
    if (scratch != NULL) st = ms_rule_set(scratch, ax->name, x);
    else if (!isfinite(x))
      st = ms_fail(MS_EINVAL, "scale must be finite, got %g",
                   isnan(x) ? NAN : x);
    if (st != MS_OK) break;
  }
  ms_rule_free(scratch);
  return st;
}

static ms_status check_grid_kind(const ms_sweep *s) {
  if (s->points != NULL)
    return ms_fail(MS_EINVAL, "the sweep has explicit points: no axes too");
  return MS_OK;
}

/* Undo the last add_axis after a bad value. */
static ms_status drop_axis(ms_sweep *s, ms_status st) {
  s->naxes--;
  free(s->axes[s->naxes].name);
  free(s->axes[s->naxes].values);
  return st;
}

ms_status ms_sweep_axis(ms_sweep *s, const char *name, const double *values,
                        size_t count) {
  MS_NEED(s);
  MS_NEED(name);
  MS_NEED(values);
  axis *ax;
  ms_status st = check_grid_kind(s);
  if (st == MS_OK && count == 0)
    st = ms_fail(MS_EINVAL, "%s: no values", name);
  if (st != MS_OK || (st = add_axis(s, name, &ax)) != MS_OK) return st;
  size_t bad;
  if ((st = check_values(s, ax, values, count, 1, &bad)) != MS_OK)
    return drop_axis(s, st);
  if ((ax->values = ms_calloc(count, sizeof *ax->values)) == NULL)
    return drop_axis(s, ms_fail(MS_ENOMEM, "out of memory"));
  ms_vec_copy(ax->values, values, count);
  ax->count = (int64_t)count;
  return MS_OK;
}

ms_status ms_sweep_range(ms_sweep *s, const char *name, double from,
                         double to, int64_t count, int log) {
  MS_NEED(s);
  MS_NEED(name);
  ms_status st = check_grid_kind(s);
  if (st != MS_OK) return st;
  if (!isfinite(from) || !isfinite(to))
    return ms_fail(MS_EINVAL, "%s: the range must have finite ends", name);
  if (count < 1)
    return ms_fail(MS_EINVAL, "%s: empty range (n = %lld)", name,
                   (long long)count);
  if (from > to)
    return ms_fail(MS_EINVAL, "%s: reversed range (from %g > to %g)", name,
                   from, to);
  if (count == 1 && from != to)
    return ms_fail(MS_EINVAL, "%s: one value (n = 1) needs from = to, got "
                              "%g and %g", name, from, to);
  if (count > 1 && from == to)
    return ms_fail(MS_EINVAL, "%s: from = to = %g gives one value, not n = "
                              "%lld", name, from, (long long)count);
  if (log && !(from > 0))
    return ms_fail(MS_EINVAL, "%s: a log range needs from > 0, got %g", name,
                   from);
  axis *ax;
  if ((st = add_axis(s, name, &ax)) != MS_OK) return st;
  if (ax->hyper >= 0 &&
      ms_rule_class_of(s->rule)->hyper[ax->hyper].kind == MS_HYPER_FLAG &&
      count > 2)
    return drop_axis(s, ms_fail(MS_EINVAL, "%s is a flag: give its values "
                                           "as a list", name));
  /* the values lie between the ends, and every range of a hyper-parameter
   * is an interval: checking the ends checks them all */
  double ends[2] = {from, to};
  size_t bad;
  if ((st = check_values(s, ax, ends, 2, 1, &bad)) != MS_OK)
    return drop_axis(s, st);
  ax->from = from;
  ax->to = to;
  ax->count = count;
  ax->log = log != 0;
  return MS_OK;
}

ms_status ms_sweep_points(ms_sweep *s, const char *const *names,
                          size_t nnames, const double *values, size_t count) {
  MS_NEED(s);
  if (nnames > 0) {   /* no names: no values either, NULL is empty */
    MS_NEED(names);
    MS_NEED(values);
  }
  if (s->naxes > 0 || s->points != NULL)
    return ms_fail(MS_EINVAL, "the sweep has %s: no explicit points too",
                   s->points ? "points already" : "axes");
  if (count == 0) return ms_fail(MS_EINVAL, "no points");
  size_t cells;   /* count x nnames values: a product that must not wrap */
  if (!ms_size_mul(count, nnames, &cells) ||
      cells > SIZE_MAX / sizeof(double))
    return ms_fail(MS_ERANGE, "%zu points of %zu values each are too many",
                   count, nnames);
  ms_status st = MS_OK;
  for (size_t a = 0; a < nnames && st == MS_OK; a++) {
    axis *ax;
    size_t bad;
    if (names[a] == NULL) {
      st = ms_fail(MS_EINVAL, "ms_sweep_points: names[%zu] is NULL", a + 1);
      break;
    }
    if ((st = add_axis(s, names[a], &ax)) != MS_OK) break;
    if ((st = check_values(s, ax, values + a, count, nnames, &bad)) != MS_OK) {
      char detail[512];
      snprintf(detail, sizeof detail, "%s", ms_last_error());
      st = ms_fail(st, "point %zu: %s", bad + 1, detail);
    }
  }
  if (st == MS_OK && (s->points = ms_calloc(cells, sizeof(double))) == NULL)
    st = ms_fail(MS_ENOMEM, "out of memory for %zu points", count);
  if (st != MS_OK) {
    while (s->naxes > 0) drop_axis(s, st);
    return st;
  }
  ms_vec_copy(s->points, values, cells);
  s->npoints = (int64_t)count;
  return MS_OK;
}

ms_status ms_sweep_target(ms_sweep *s, const double *xstar,
                          const double *fstar) {
  MS_NEED(s);
  if (xstar != NULL) {
    if (!ms_vec_isfinite(xstar, s->n))
      return ms_fail(MS_EINVAL, "x* must be finite");
    if (s->xstar == NULL && !(s->xstar = ms_calloc(s->n, sizeof(double))))
      return ms_fail(MS_ENOMEM, "out of memory");
    ms_vec_copy(s->xstar, xstar, s->n);
  }
  if (fstar != NULL) {
    if (!isfinite(*fstar)) return ms_fail(MS_EINVAL, "f* must be finite");
    s->fstar = *fstar;
  }
  return MS_OK;
}

static double axis_value(const axis *ax, int64_t k) {
  if (k < 0 || k >= ax->count) return NAN;
  if (ax->values != NULL) return ax->values[k];
  if (k == 0) return ax->from;            /* both ends exact */
  if (k == ax->count - 1) return ax->to;
  double u = (double)k / (double)(ax->count - 1);
  if (ax->log) return exp(log(ax->from) + u * (log(ax->to) - log(ax->from)));
  return ax->from + u * (ax->to - ax->from);
}

/* Points of the whole grid, or -1 when there are more than 2^62. */
static int64_t grid_total(const ms_sweep *s, double *exact) {
  if (s->points != NULL) {
    *exact = (double)s->npoints;
    return s->npoints;
  }
  double total = 1;
  for (size_t a = 0; a < s->naxes; a++) total *= (double)s->axes[a].count;
  *exact = total;
  return total > 4611686018427387904.0 ? -1 : (int64_t)total;
}

/* A NULL sweep reads as an empty one. */
int64_t ms_sweep_total(const ms_sweep *s) {
  double exact;
  return s != NULL ? grid_total(s, &exact) : 0;
}

double ms_sweep_value(const ms_sweep *s, int64_t i, size_t a) {
  if (s == NULL || a >= s->naxes || i < 0 || i >= ms_sweep_total(s)) return NAN;
  if (s->points != NULL) return s->points[i * (int64_t)s->naxes + (int64_t)a];
  for (size_t b = 0; b < a; b++) i /= s->axes[b].count;
  return axis_value(&s->axes[a], i % s->axes[a].count);
}

const ms_rule *ms_sweep_rule(const ms_sweep *s) { return s ? s->rule : NULL; }
int64_t ms_sweep_first(const ms_sweep *s) { return s ? s->first : 0; }
int64_t ms_sweep_count(const ms_sweep *s) {
  return s != NULL && s->res != NULL ? s->count : 0;
}
size_t ms_sweep_naxes(const ms_sweep *s) { return s ? s->naxes : 0; }
const ms_sweep_result *ms_sweep_results(const ms_sweep *s) {
  return s ? s->res : NULL;
}
int ms_sweep_measures(const ms_sweep *s) { return s ? s->measures : 0; }
int ms_sweep_was_fast(const ms_sweep *s) { return s ? s->fast : 0; }
int ms_sweep_threads(const ms_sweep *s) { return s ? s->threads : 0; }
double ms_sweep_seconds(const ms_sweep *s) { return s ? s->seconds : NAN; }

const char *ms_sweep_axis_name(const ms_sweep *s, size_t a) {
  return s != NULL && a < s->naxes ? s->axes[a].name : NULL;
}

int64_t ms_sweep_axis_len(const ms_sweep *s, size_t a) {
  return s != NULL && a < s->naxes ? s->axes[a].count : 0;
}

double ms_sweep_axis_value(const ms_sweep *s, size_t a, int64_t k) {
  return s != NULL && a < s->naxes ? axis_value(&s->axes[a], k) : NAN;
}

int ms_sweep_axis_log(const ms_sweep *s, size_t a) {
  return s != NULL && a < s->naxes && s->axes[a].log;
}

/* "lr=0.1, beta=0.5", for messages about point i. */
static void point_label(const ms_sweep *s, int64_t i, char *buf,
                        size_t size) {
  int len = 0;
  buf[0] = '\0';
  for (size_t a = 0; a < s->naxes && (size_t)len < size; a++) {
    char num[32];
    ms_format_double(num, sizeof num, ms_sweep_value(s, i, a));
    len += snprintf(buf + len, size - (size_t)len, "%s%s=%s", a ? ", " : "",
                    s->axes[a].name, num);
  }
}

/* The hyper-parameters (the rule's, then the axes') and the scale of
 * point i. */
static void point_hyper(const ms_sweep *s, int64_t i, double *h,
                        double *scale) {
  int nh = ms_rule_class_of(s->rule)->nhyper;
  for (int k = 0; k < nh; k++) h[k] = ms_rule_get(s->rule, k);
  *scale = 1;
  for (size_t a = 0; a < s->naxes; a++) {
    double v = ms_sweep_value(s, i, a);
    if (s->axes[a].hyper >= 0) h[s->axes[a].hyper] = v;
    else *scale = v;
  }
}

/* ---------------------------------------------------- the fast path */

/* Is the rule with hyper-parameters h heavy ball or Nesterov momentum?
 * Then its momentum is *beta. */
static int reduce(const ms_rule *rule, const double *h, double *beta,
                  int *nesterov) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  int mom = ms_rule_hyper_index(rule, "momentum");
  *nesterov = 0;
  if (cls == ms_rule_class_find("gd")) {
    *beta = 0;
  } else if (cls == ms_rule_class_find("momentum")) {
    *beta = h[ms_rule_hyper_index(rule, "beta")];
  } else if (cls == ms_rule_class_find("nesterov")) {
    *beta = h[mom];
    *nesterov = 1;
  } else if (cls == ms_rule_class_find("sgd")) {
    static const char *const off[] = {"dampening", "weight_decay", "maximize"};
    for (size_t k = 0; k < sizeof off / sizeof off[0]; k++)
      if (h[ms_rule_hyper_index(rule, off[k])] != 0) return 0;
    *beta = h[mom];
    *nesterov = h[ms_rule_hyper_index(rule, "nesterov")] != 0;
  } else {
    return 0;
  }
  return 1;
}

/* Can every point of [first, first + count) take the vectorised loop, and
 * with which update?  Only axis values change between points, so the
 * defaults with each value of each axis stand for all the points of a
 * grid. */
static int fast_path(const ms_sweep *s, int64_t first, int64_t count,
                     int *nesterov) {
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  int nh = cls->nhyper;
  for (int k = 0; k < nh; k++) {
    int on_axis = 0;
    for (size_t a = 0; a < s->naxes; a++) on_axis |= s->axes[a].hyper == k;
    if (!on_axis && ms_rule_get_schedule(s->rule, k) != NULL) return 0;
  }
  double h[64], beta, scale;
  if (nh > 64) return 0;
  point_hyper(s, first, h, &scale);
  if (!reduce(s->rule, h, &beta, nesterov)) return 0;
  for (int64_t i = first; s->points != NULL && i < first + count; i++) {
    int nest;
    point_hyper(s, i, h, &scale);
    if (!reduce(s->rule, h, &beta, &nest) || nest != *nesterov) return 0;
  }
  for (size_t a = 0; s->points == NULL && a < s->naxes; a++) {
    if (s->axes[a].hyper < 0) continue;
    point_hyper(s, first, h, &scale);
    for (int64_t k = 0; k < s->axes[a].count; k++) {
      int nest;
      h[s->axes[a].hyper] = axis_value(&s->axes[a], k);
      if (!reduce(s->rule, h, &beta, &nest) || nest != *nesterov) return 0;
    }
  }
  return 1;
}

/* ---------------------------------------------------------- the runs */

/* What the threads of a run share. */
typedef struct job {
  ms_sweep *s;
  const ms_sweep_opts *o;
  ms_sweep_plan plan;
  int fast;
  ms_fast_setup fs;
  double *lambda;       /* of the diagonal quadratic, for the fast path */
  int scaled;           /* a scale axis */
  int64_t unit;         /* points per work unit */
  atomic_llong next;    /* next work unit */
  atomic_llong done;    /* points finished */
  atomic_int stop;
  pthread_mutex_t lock; /* guards active, st and msg */
  pthread_cond_t cond;
  int active;           /* workers still running */
  ms_status st;         /* the first failure */
  char msg[512];
  double start, reported;
} job;

/* Record the failure just reported by ms_fail (the first one wins) and
 * stop everyone. */
static void job_fail(job *j, ms_status st) {
  pthread_mutex_lock(&j->lock);
  if (j->st == MS_OK) {
    j->st = st;
    snprintf(j->msg, sizeof j->msg, "%s", ms_last_error());
  }
  pthread_mutex_unlock(&j->lock);
  atomic_store(&j->stop, 1);
}

/* On the calling thread: progress, at most every 0.1 s unless final. */
static void job_report(job *j, int final) {
  const ms_sweep_opts *o = j->o;
  double t = ms_now();
  if (o->progress == NULL || (!final && t - j->reported < progress_every))
    return;
  j->reported = t;
  ms_status st = o->progress(o->progress_ctx, atomic_load(&j->done),
                             j->s->count, t - j->start);
  if (st != MS_OK) job_fail(j, st);
}

static int stop_worker(void *ctx) {
  return atomic_load_explicit(&((job *)ctx)->stop, memory_order_relaxed);
}

static int stop_caller(void *ctx) {
  job *j = ctx;
  ms_status st = ms_interrupted();
  if (st != MS_OK) job_fail(j, st);
  job_report(j, 0);
  return atomic_load(&j->stop);
}

/* f scaled by the point's scale: the objective of a "scale" axis. */
typedef struct scaled {
  ms_objective *inner;
  double scale;
} scaled;

static ms_status scaled_fn(void *ctx, const double *x, size_t n, double *f,
                           double *grad) {
  const scaled *sc = ctx;
  ms_status st = ms_objective_eval(sc->inner, x, f, grad);
  if (st != MS_OK) return st;
  if (f != NULL) *f = *f * sc->scale;
  for (size_t i = 0; grad != NULL && i < n; i++) grad[i] = grad[i] * sc->scale;
  return MS_OK;
}

/* A thread's own things for the general loop. */
typedef struct general_work {
  ms_rule *rule;
  ms_objective *obj;    /* the scaled objective, or the sweep's */
  scaled sc;
  double *x, *g, *y;
} general_work;

static void general_free(general_work *w) {
  ms_rule_free(w->rule);
  if (w->obj != w->sc.inner) ms_objective_free(w->obj);
  free(w->x);
}

static ms_status general_init(job *j, general_work *w) {
  size_t n = j->s->n;
  memset(w, 0, sizeof *w);
  w->sc.inner = w->obj = j->s->obj;
  size_t cells;   /* x, g and y: 3 n, a product that must not wrap */
  if (!ms_size_mul(3, n, &cells))
    return ms_fail(MS_ERANGE, "the work space of dimension %zu is too large",
                   n);
  ms_status st = ms_rule_clone(j->s->rule, &w->rule);
  if (st == MS_OK && j->scaled)
    st = ms_objective_new(n, scaled_fn, 1, &w->sc, NULL, &w->obj);
  if (st == MS_OK && (w->x = ms_calloc(cells, sizeof(double))) == NULL)
    st = ms_fail(MS_ENOMEM, "out of memory");
  if (st != MS_OK) {
    if (w->obj == NULL) w->obj = w->sc.inner;   /* ms_objective_new failed */
    general_free(w);
    return st;
  }
  w->g = w->x + n;
  w->y = w->x + 2 * n;
  return MS_OK;
}

static double dist2(const double *x, const double *xstar, size_t n) {
  double d = 0.0;
  for (size_t i = 0; i < n; i++) d += (x[i] - xstar[i]) * (x[i] - xstar[i]);
  return d;
}

/* One run of the general loop, as trace.c's: the rule is reset. */
static ms_status general_run(ms_objective *obj, ms_rule *rule,
                             const ms_sweep_plan *plan, const double *x0,
                             size_t n, general_work *w, ms_sweep_result *r,
                             ms_sweep_stop_fn stop, void *stop_ctx) {
  double *x = w->x, *g = w->g;
  int lookahead = ms_rule_class_of(rule)->lookahead != NULL;
  int want_f = plan->measures & MS_MEASURE_STEPS;
  int have_g = 0;
  double f = NAN;
  ms_status st = MS_OK;
  ms_vec_copy(x, x0, n);
  if (want_f) {
    have_g = !lookahead && plan->steps > 0;
    st = ms_objective_eval(obj, x, &f, have_g ? g : NULL);
  }
  ms_probe p;
  ms_rate_acc rate;
  ms_probe_start(&p, &rate, plan, plan->xstar ? dist2(x, plan->xstar, n) : NAN,
                 f);
  r->diverged = 0;
  for (int64_t t = 1; t <= plan->steps && st == MS_OK; t++) {
    if (t % MS_SWEEP_BLOCK == 1 && stop(stop_ctx)) return MS_EINTR;
    const double *bad;
    st = ms_loop_step(obj, rule, lookahead, x, g, w->y, n, have_g, &bad);
    if (st != MS_OK) break;
    if (bad != NULL) {
      r->diverged = t;
      break;
    }
    have_g = 0;
    if (want_f) {
      have_g = !lookahead && t < plan->steps;
      if ((st = ms_objective_eval(obj, x, &f, have_g ? g : NULL)) != MS_OK)
        break;
    }
    double d = ms_probe_wants_d(plan, t) ? dist2(x, plan->xstar, n) : NAN;
    if (ms_probe_step(&p, &rate, plan, t, d, want_f ? f : NAN)) {
      ms_vec_copy(x, plan->xstar, n);
      break;
    }
  }
  if (st == MS_OK && !r->diverged) st = ms_objective_eval(obj, x, &f, NULL);
  if (st != MS_OK) return st;
  r->loss = r->diverged ? INFINITY : f;
  r->rate = plan->measures & MS_MEASURE_RATE ? ms_rate_value(&rate) : NAN;
  r->steps = p.hit;
  return MS_OK;
}

/* Prefix the failure just recorded with the point it happened at. */
static ms_status at_point(const ms_sweep *s, int64_t i, ms_status st) {
  if (st == MS_EINTR || st == MS_ECALLBACK) return st;
  char label[256], detail[512];
  point_label(s, i, label, sizeof label);
  snprintf(detail, sizeof detail, "%s", ms_last_error());
  return ms_fail(st, "at %s: %s", label, detail);
}

static ms_status general_point(job *j, general_work *w, int64_t i,
                               ms_sweep_result *r, ms_sweep_stop_fn stop) {
  const ms_sweep *s = j->s;
  ms_sweep_plan plan = j->plan;
  ms_status st = MS_OK;
  w->sc.scale = 1;
  for (size_t a = 0; a < s->naxes && st == MS_OK; a++) {
    double v = ms_sweep_value(s, i, a);
    if (s->axes[a].hyper >= 0) st = ms_rule_set(w->rule, s->axes[a].name, v);
    else w->sc.scale = v;
  }
  if (st == MS_OK) st = ms_rule_reset(w->rule, s->n);
  plan.fstar *= w->sc.scale;
  if (st == MS_OK)
    st = general_run(w->obj, w->rule, &plan, s->x0, s->n, w, r, stop, j);
  return st == MS_OK ? MS_OK : at_point(s, i, st);
}

static ms_status fast_unit(job *j, ms_fast_work *w, double *buf,
                           int64_t first, int64_t count, ms_sweep_result *r,
                           ms_sweep_stop_fn stop) {
  const ms_sweep *s = j->s;
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  double *beta = buf, *eta = beta + j->unit, *scale = eta + j->unit;
  double *h = scale + j->unit;
  int lr = ms_rule_hyper_index(s->rule, "lr"), nesterov;
  for (int64_t k = 0; k < count; k++) {
    point_hyper(s, first + k, h, &scale[k]);
    if (cls->check != NULL) {
      ms_status st = cls->check(h);
      if (st != MS_OK) return at_point(s, first + k, st);
    }
    reduce(s->rule, h, &beta[k], &nesterov);
    eta[k] = h[lr];
  }
  return ms_fast_run(&j->fs, w, beta, eta, j->scaled ? scale : NULL,
                     (size_t)count, r, stop, j);
}

/* Take work units until none is left or the run stops. */
static void work(job *j, int on_caller) {
  ms_sweep *s = j->s;
  ms_sweep_stop_fn stop = on_caller ? stop_caller : stop_worker;
  general_work gw;
  ms_fast_work *fw = NULL;
  double *buf = NULL;
  ms_status st;
  if (j->fast) {
    size_t nh = (size_t)ms_rule_class_of(s->rule)->nhyper, cells;
    /* beta, eta and scale of each lane, then h: 3 unit + nh */
    if (!ms_size_mul(3, (size_t)j->unit, &cells) || cells > SIZE_MAX - nh) {
      st = ms_fail(MS_ERANGE, "the work space of %lld lanes is too large",
                   (long long)j->unit);
    } else {
      fw = ms_fast_work_new(&j->fs, (size_t)j->unit);
      buf = ms_calloc(cells + nh, sizeof *buf);
      st = fw && buf ? MS_OK : ms_fail(MS_ENOMEM, "out of memory");
    }
  } else if ((st = general_init(j, &gw)) != MS_OK) {
    job_fail(j, st);
    return;
  }
  while (st == MS_OK && !stop(j)) {
    int64_t u = atomic_fetch_add(&j->next, 1);
    int64_t first = u * j->unit;
    if (first >= s->count) break;
    int64_t count = s->count - first < j->unit ? s->count - first : j->unit;
    ms_sweep_result *r = s->res + first;
    if (j->fast) {
      st = fast_unit(j, fw, buf, s->first + first, count, r, stop);
    } else {
      for (int64_t k = 0; k < count && st == MS_OK; k++)
        st = general_point(j, &gw, s->first + first + k, r + k, stop);
    }
    if (st == MS_OK) atomic_fetch_add(&j->done, count);
  }
  /* a unit that stopped because another failed records nothing */
  if (st != MS_OK && !(st == MS_EINTR && atomic_load(&j->stop)))
    job_fail(j, st);
  if (j->fast) {
    ms_fast_work_free(fw);
    free(buf);
  } else {
    general_free(&gw);
  }
}

static void *worker(void *arg) {
  job *j = arg;
  work(j, 0);
  pthread_mutex_lock(&j->lock);
  j->active--;
  pthread_cond_signal(&j->cond);
  pthread_mutex_unlock(&j->lock);
  return NULL;
}

/* Start nthreads workers (with every signal blocked) and watch them. */
static int run_threads(job *j, int nthreads) {
  pthread_t *tid = ms_calloc((size_t)nthreads, sizeof *tid);
  if (tid == NULL) return 0;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int started = 0;
  pthread_mutex_lock(&j->lock);
  for (; started < nthreads; started++) {
    if (pthread_create(&tid[started], NULL, worker, j) != 0) break;
    j->active++;
  }
  pthread_mutex_unlock(&j->lock);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_mutex_lock(&j->lock);
  while (j->active > 0) {
    ms_cond_wait_for(&j->cond, &j->lock, progress_every);
    pthread_mutex_unlock(&j->lock);
    ms_status st = ms_interrupted();
    if (st != MS_OK) job_fail(j, st);
    job_report(j, 0);
    pthread_mutex_lock(&j->lock);
  }
  pthread_mutex_unlock(&j->lock);
  for (int k = 0; k < started; k++) pthread_join(tid[k], NULL);
  free(tid);
  return started;
}

static int online_cpus(void) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  return n >= 1 && n <= 1024 ? (int)n : 1;
}

/* "29.1 TiB" */
static void human(char *buf, size_t size, double bytes) {
  static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB",
                                     "EiB"};
  int k = 0;
  while (bytes >= 1024 && k < 6) bytes /= 1024, k++;
  snprintf(buf, size, k ? "%.1f %s" : "%.0f %s", bytes, unit[k]);
}

/* Results for count points, and the work space (per_thread bytes) of each
 * of threads threads, must fit in half of the machine's memory. */
ms_status ms_sweep_check_memory(double points, int threads,
                                double per_thread) {
  double results = points * (double)sizeof(ms_sweep_result);
  double work = (double)threads * per_thread, need = results + work;
  double phys = (double)sysconf(_SC_PHYS_PAGES) * (double)sysconf(_SC_PAGESIZE);
  if (phys <= 0) phys = 1024.0 * 1024 * 1024;
  if (need <= phys / 2 && results <= (double)SIZE_MAX) return MS_OK;
  char a[32], b[32], c[32];
  human(a, sizeof a, results);
  human(b, sizeof b, phys);
  if (work <= results)
    return ms_fail(MS_ERANGE, "a sweep of %.4g points needs %s for its "
                              "results, more than half of this machine's %s: "
                              "split it into shards or use a coarser grid",
                   points, a, b);
  human(c, sizeof c, per_thread);
  return ms_fail(MS_ERANGE, "a sweep of %.4g points on %d thread%s needs %s "
                            "of work space for each thread and %s for its "
                            "results, more than half of this machine's %s%s",
                 points, threads, threads == 1 ? "" : "s", c, a, b,
                 threads > 1 ? ": use fewer threads" : "");
}

/* Threads a run may use: at most max_threads_per_cpu per online CPU (more
 * only share the CPUs, with their own buffers). */
enum { max_threads_per_cpu = 4 };

/* The work space of one thread (work): the rule's clone and the general
 * loop's x, gradient and lookahead, or the vectorised loop's lanes. */
static double thread_bytes(const job *j) {
  const ms_sweep *s = j->s;
  double n = (double)s->n, unit = (double)j->unit;
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  if (j->fast)
    return 8 * unit * n * sizeof(double) +
           unit * (sizeof(ms_probe) + sizeof(ms_rate_acc) + 1) +
           (3 * unit + cls->nhyper) * sizeof(double);
  return (3 + (double)cls->nstate) * n * sizeof(double) +
         2 * (double)cls->nhyper * sizeof(double);
}

void ms_sweep_opts_init(ms_sweep_opts *opts) {
  if (opts == NULL) return;
  memset(opts, 0, sizeof *opts);
  opts->steps = 100;
  opts->measures = MS_MEASURE_LOSS;
  opts->tol = 1e-6;
  opts->shards = 1;
  opts->fast = 1;
}

static ms_status check_opts(const ms_sweep_opts *o) {
  if (o->steps < 0 || o->steps > max_steps)
    return ms_fail(MS_EINVAL, "steps must be in [0, %lld], got %lld",
                   (long long)max_steps, (long long)o->steps);
  if (o->measures & ~(MS_MEASURE_LOSS | MS_MEASURE_RATE | MS_MEASURE_STEPS))
    return ms_fail(MS_EINVAL, "unknown measures %#x", (unsigned)o->measures);
  if (!(o->tol >= 0) || !isfinite(o->tol))
    return ms_fail(MS_EINVAL, "tol must be finite and >= 0, got %g",
                   isnan(o->tol) ? NAN : o->tol);
  if (o->threads < 0)
    return ms_fail(MS_EINVAL, "threads must be >= 0, got %d", o->threads);
  if (o->shards < 1 || o->shard < 0 || o->shard >= o->shards)
    return ms_fail(MS_EINVAL, "shard %lld of %lld: need 0 <= shard < shards",
                   (long long)o->shard, (long long)o->shards);
  return MS_OK;
}

/* Everything a required hyper-parameter could be missing from. */
static ms_status check_required(const ms_sweep *s) {
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  for (int k = 0; k < cls->nhyper; k++) {
    int on_axis = 0;
    for (size_t a = 0; a < s->naxes; a++) on_axis |= s->axes[a].hyper == k;
    if (!on_axis && isnan(ms_rule_get(s->rule, k)) &&
        ms_rule_get_schedule(s->rule, k) == NULL)
      return ms_fail(MS_EINVAL, "%s is required: set it in the rule or make "
                                "it an axis", cls->hyper[k].name);
  }
  return MS_OK;
}

/* The minimiser and f* the measures need: given, or known. */
static ms_status make_plan(ms_sweep *s, const ms_sweep_opts *o, job *j,
                           double *xbuf) {
  ms_sweep_plan *plan = &j->plan;
  plan->steps = o->steps;
  plan->measures = o->measures | MS_MEASURE_LOSS;
  plan->tol = o->tol;
  plan->fstar = s->fstar;
  plan->xstar = s->xstar;
  if (plan->xstar == NULL && ms_objective_minimizer(s->obj, xbuf))
    plan->xstar = xbuf;
  if (isnan(plan->fstar) && plan->xstar != NULL) {
    ms_status st = ms_objective_eval(s->obj, plan->xstar, &plan->fstar, NULL);
    if (st != MS_OK) return st;
  }
  if (plan->measures & MS_MEASURE_RATE && plan->xstar == NULL)
    return ms_fail(MS_EINVAL, "the rate needs the minimiser x*, which the "
                              "objective does not know: give it");
  if (plan->measures & MS_MEASURE_STEPS && isnan(plan->fstar))
    return ms_fail(MS_EINVAL, "steps to a tolerance need the minimum f* (or "
                              "x*), which the objective does not know: give "
                              "it");
  return MS_OK;
}

/* Can any thread run the points: nothing calls back into user code? */
static int pure(const ms_sweep *s) {
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  int builtin = 0;
  for (int i = 0; i < ms_rule_class_count(); i++)
    builtin |= ms_rule_class_at(i) == cls;
  for (int k = 0; k < cls->nhyper; k++) {
    const ms_schedule *sched = ms_rule_get_schedule(s->rule, k);
    if (sched != NULL && !ms_schedule_is_pure(sched)) return 0;
  }
  return builtin && ms_objective_is_pure(s->obj);
}

/* The vectorised loop, when it applies. */
static ms_status setup_fast(ms_sweep *s, const ms_sweep_opts *o, job *j) {
  int nesterov;
  if (!o->fast || !ms_objective_diagonal(s->obj, NULL) ||
      j->plan.xstar == NULL || j->plan.fstar != 0 ||
      !fast_path(s, s->first, s->count, &nesterov))
    return MS_OK;
  for (size_t i = 0; i < s->n; i++)
    if (j->plan.xstar[i] != 0) return MS_OK;
  if ((j->lambda = ms_calloc(s->n, sizeof(double))) == NULL)
    return ms_fail(MS_ENOMEM, "out of memory");
  ms_objective_diagonal(s->obj, j->lambda);
  j->fast = 1;
  j->fs = (ms_fast_setup){.obj = s->obj, .n = s->n, .lambda = j->lambda,
                          .x0 = s->x0,
                          .nesterov = nesterov, .scaled = j->scaled,
                          .plan = &j->plan};
  return MS_OK;
}

/* Work units: enough for every thread to have a few, and in the fast path
 * no more lanes than fit in L1. */
static void plan_units(job *j, int threads) {
  int64_t count = j->s->count, per = (count + 4 * threads - 1) / (4 * threads);
  if (!j->fast) {
    j->unit = 1;
    return;
  }
  int64_t lanes = (int64_t)(FAST_LANES / j->s->n);
  j->unit = per < lanes ? per : lanes;
  if (j->unit < 1) j->unit = 1;
}

ms_status ms_sweep_run(ms_sweep *s, const ms_sweep_opts *opts) {
  MS_NEED(s);
  ms_sweep_opts o;
  ms_sweep_opts_init(&o);
  if (opts != NULL) o = *opts;
  ms_status st = check_opts(&o);
  if (st == MS_OK) st = check_required(s);
  if (st != MS_OK) return st;
  double exact;
  int64_t total = grid_total(s, &exact);
  int64_t part = total / o.shards, extra = total % o.shards;
  int64_t count = part + (o.shard < extra);
  if (total < 0) return ms_sweep_check_memory(exact / (double)o.shards, 0, 0);
  if ((st = ms_sweep_check_memory((double)count, 0, 0)) != MS_OK) return st;

  ms_big_free(s->res, s->res_bytes);
  s->res = NULL;
  s->first = o.shard * part + (o.shard < extra ? o.shard : extra);
  s->count = count;
  s->measures = o.measures | MS_MEASURE_LOSS;
  s->fast = 0;
  s->threads = 0;
  job j = {.s = s, .o = &o};
  double *xbuf = ms_calloc(s->n, sizeof *xbuf);
  if (xbuf == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  for (size_t a = 0; a < s->naxes; a++) j.scaled |= s->axes[a].hyper < 0;
  st = make_plan(s, &o, &j, xbuf);
  if (st == MS_OK) st = setup_fast(s, &o, &j);
  int cpus = online_cpus(), threads = o.threads ? o.threads : cpus;
  if (threads > max_threads_per_cpu * cpus) threads = max_threads_per_cpu * cpus;
  if (!pure(s)) threads = 1;
  plan_units(&j, threads);
  int64_t units = (count + j.unit - 1) / j.unit;
  if (threads > units) threads = units > 0 ? (int)units : 1;
  if (st == MS_OK)
    st = ms_sweep_check_memory((double)count, threads, thread_bytes(&j));
  s->res_bytes = (size_t)(count ? count : 1) * sizeof *s->res;
  if (st == MS_OK && (s->res = ms_big_alloc(s->res_bytes)) == NULL)
    st = ms_fail(MS_ENOMEM, "out of memory for %lld results",
                 (long long)count);
  if (st != MS_OK) {
    free(xbuf);
    free(j.lambda);
    return st;
  }

  pthread_mutex_init(&j.lock, NULL);
  ms_cond_init(&j.cond);
  ms_interrupt_clear();
  j.start = j.reported = ms_now();
  s->threads = threads > 1 ? run_threads(&j, threads) : 0;
  if (s->threads == 0) {
    s->threads = 1;
    work(&j, 1);
  }
  if (j.st == MS_OK) job_report(&j, 1);
  s->seconds = ms_now() - j.start;
  s->fast = j.fast;
  pthread_cond_destroy(&j.cond);
  pthread_mutex_destroy(&j.lock);
  free(xbuf);
  free(j.lambda);
  if (j.st != MS_OK) {
    ms_big_free(s->res, s->res_bytes);
    s->res = NULL;
    return ms_fail(j.st, "%s", j.msg);
  }
  return MS_OK;
}

/* ------------------------------------------------------------- output */

/* A header cell as RFC 4180 wants it: quoted, with its quotes doubled,
 * when it holds a comma, a quote or a line break (names of hyper-parameters
 * of rules written in Lua may hold anything). */
static void put_name(FILE *fp, const char *name) {
  if (strpbrk(name, ",\"\r\n") == NULL) {
    fputs(name, fp);
    return;
  }
  fputc('"', fp);
  for (const char *c = name; *c != 0; c++) {
    if (*c == '"') fputc('"', fp);
    fputc(*c, fp);
  }
  fputc('"', fp);
}

ms_status ms_sweep_write_csv(const ms_sweep *s, const char *path,
                             int header) {
  MS_NEED(s);
  MS_NEED(path);
  if (s->res == NULL) return ms_fail(MS_EINVAL, "the sweep has not run");
  ms_file file;
  ms_status st = ms_file_begin(path, &file);
  if (st != MS_OK) return st;
  int rate = s->measures & MS_MEASURE_RATE;
  int steps = s->measures & MS_MEASURE_STEPS;
  if (header) {
    for (size_t a = 0; a < s->naxes; a++) {
      put_name(file.fp, s->axes[a].name);
      fputc(',', file.fp);
    }
    fprintf(file.fp, "loss%s%s,diverged\n", rate ? ",rate" : "",
            steps ? ",steps" : "");
  }
  ms_interrupt_clear();
  for (int64_t k = 0; k < s->count && st == MS_OK; k++) {
    if (k % 4096 == 4095 && (st = ms_interrupted()) != MS_OK) break;
    const ms_sweep_result *r = &s->res[k];
    for (size_t a = 0; a < s->naxes; a++)
      ms_file_put_number(file.fp, ms_sweep_value(s, s->first + k, a),
                         a == 0);
    ms_file_put_number(file.fp, r->loss, s->naxes == 0);
    if (rate) ms_file_put_number(file.fp, r->rate, 0);
    if (steps) ms_file_put_number(file.fp, r->steps, 0);
    fprintf(file.fp, ",%lld\n", (long long)r->diverged);
  }
  return ms_file_end(&file, st);
}
