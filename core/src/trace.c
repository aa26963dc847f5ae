/*
 * trace.c -- the full-batch loop of d2l's train_2d, recording the
 * trajectory x_0, x_1, ... and f along it.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

enum { INTERRUPT_POLL = 4096 };
static const int64_t max_steps = 10000000000;   /* 1e10 */
static const double max_bytes = 1024.0 * 1024 * 1024;

struct ms_trace {
  size_t n;          /* dimension */
  size_t len, cap;   /* recorded points, room for */
  double *x;         /* cap * n */
  double *f;         /* cap */
  int64_t *step;     /* cap */
  int64_t diverged;  /* step at which the run stopped, 0 if it did not */
  char reason[200];
};

void ms_trace_opts_init(ms_trace_opts *opts) {
  opts->steps = 20;
  opts->every = 1;
}

void ms_trace_free(ms_trace *tr) {
  if (tr == NULL) return;
  free(tr->x);
  free(tr->f);
  free(tr->step);
  free(tr);
}

static ms_status trace_new(size_t n, size_t cap, ms_trace **out) {
  ms_trace *tr = ms_calloc(1, sizeof *tr);
  if (tr != NULL) {
    tr->n = n;
    tr->cap = cap;
    tr->x = ms_calloc(cap, n * sizeof(double));
    tr->f = ms_calloc(cap, sizeof(double));
    tr->step = ms_calloc(cap, sizeof(int64_t));
  }
  if (tr == NULL || tr->x == NULL || tr->f == NULL || tr->step == NULL) {
    ms_trace_free(tr);
    return ms_fail(MS_ENOMEM, "out of memory for a trace of %zu points", cap);
  }
  *out = tr;
  return MS_OK;
}

static void record(ms_trace *tr, int64_t t, const double *x, double f) {
  ms_vec_copy(tr->x + tr->len * tr->n, x, tr->n);
  tr->f[tr->len] = f;
  tr->step[tr->len] = t;
  tr->len++;
}

/* Name the first non-finite entry of v for the trace's reason. */
static void diverge(ms_trace *tr, int64_t t, const char *what,
                    const double *v, size_t n) {
  size_t i = 0;
  while (i < n && isfinite(v[i])) i++;
  double bad = isnan(v[i]) ? NAN : v[i];   /* print "nan", never "-nan" */
  tr->diverged = t;
  if (n == 1)
    snprintf(tr->reason, sizeof tr->reason, "%s is %g", what, bad);
  else
    snprintf(tr->reason, sizeof tr->reason, "%s[%zu] is %g", what, i + 1,
             bad);
}

static ms_status check_args(const ms_objective *obj, const double *x0,
                            size_t n, const ms_trace_opts *o) {
  size_t dim = ms_objective_dim(obj);
  if (n != dim)
    return ms_fail(MS_ESIZE, "x0 has %zu entries but the objective takes %zu",
                   n, dim);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x0[i]))
      return ms_fail(MS_EINVAL, "x0[%zu] is not finite", i + 1);
  if (o->steps < 0)
    return ms_fail(MS_EINVAL, "steps must be >= 0, got %lld",
                   (long long)o->steps);
  if (o->steps > max_steps)
    return ms_fail(MS_ERANGE, "steps = %lld is more than the limit %lld",
                   (long long)o->steps, (long long)max_steps);
  if (o->every < 1)
    return ms_fail(MS_EINVAL, "every must be >= 1, got %lld",
                   (long long)o->every);
  return MS_OK;
}

/* Points recorded: x_0, every k-th step, and the last one. */
static ms_status capacity(size_t n, const ms_trace_opts *o, size_t *cap) {
  int64_t points = o->steps / o->every + 1 + (o->steps % o->every != 0);
  double bytes = (double)points * ((double)n + 2) * sizeof(double);
  if (bytes > max_bytes)
    return ms_fail(MS_ERANGE,
                   "a trace of %lld points in %zu dimensions needs %.1f GiB "
                   "(limit 1 GiB): record fewer points with every = k",
                   (long long)points, n, bytes / max_bytes);
  *cap = (size_t)points;
  return MS_OK;
}

/* Steps 1..steps from x (which holds x_0 and is recorded already). */
static ms_status run(ms_trace *tr, ms_objective *obj, ms_rule *rule,
                     const ms_trace_opts *o, double *x, double *g, double *y) {
  size_t n = tr->n;
  int lookahead = ms_rule_class_of(rule)->lookahead != NULL;
  for (int64_t t = 1; t <= o->steps; t++) {
    ms_status st;
    if (t % INTERRUPT_POLL == 0 && (st = ms_interrupted()) != MS_OK) return st;
    if (lookahead && (st = ms_rule_lookahead(rule, x, y, n)) != MS_OK)
      return st;
    if ((st = ms_objective_eval(obj, lookahead ? y : x, NULL, g)) != MS_OK)
      return st;
    if (!ms_vec_isfinite(g, n)) {
      diverge(tr, t, "gradient", g, n);
      return MS_OK;
    }
    if ((st = ms_rule_step(rule, x, g, n)) != MS_OK) return st;
    if (!ms_vec_isfinite(x, n)) {
      diverge(tr, t, "x", x, n);
      return MS_OK;
    }
    if (t % o->every == 0 || t == o->steps) {
      double f;
      if ((st = ms_objective_eval(obj, x, &f, NULL)) != MS_OK) return st;
      if (!isfinite(f)) {
        diverge(tr, t, "f", &f, 1);
        return MS_OK;
      }
      record(tr, t, x, f);
    }
  }
  return MS_OK;
}

ms_status ms_trace_run(ms_objective *obj, ms_rule *rule, const double *x0,
                       size_t n, const ms_trace_opts *opts, ms_trace **out) {
  *out = NULL;
  ms_trace_opts o;
  ms_trace_opts_init(&o);
  if (opts != NULL) o = *opts;
  size_t cap = 0;
  ms_status st = check_args(obj, x0, n, &o);
  if (st == MS_OK) st = capacity(n, &o, &cap);
  if (st == MS_OK) st = ms_rule_reset(rule, n);
  if (st != MS_OK) return st;

  ms_trace *tr = NULL;
  double *work = ms_calloc(3 * n, sizeof *work);
  if (work == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  double *x = work, *g = work + n, *y = work + 2 * n;
  ms_vec_copy(x, x0, n);
  ms_interrupt_clear();

  double f0;
  if ((st = trace_new(n, cap, &tr)) == MS_OK &&
      (st = ms_objective_eval(obj, x, &f0, NULL)) == MS_OK) {
    if (!isfinite(f0))
      st = ms_fail(MS_ENONFINITE, "f(x0) is %g", f0);
    else {
      record(tr, 0, x, f0);
      st = run(tr, obj, rule, &o, x, g, y);
    }
  }
  free(work);
  if (st != MS_OK) {
    ms_trace_free(tr);
    return st;
  }
  *out = tr;
  return MS_OK;
}

size_t ms_trace_dim(const ms_trace *tr) { return tr->n; }
size_t ms_trace_len(const ms_trace *tr) { return tr->len; }

int64_t ms_trace_step(const ms_trace *tr, size_t i) {
  return i < tr->len ? tr->step[i] : -1;
}

const double *ms_trace_point(const ms_trace *tr, size_t i) {
  return i < tr->len ? tr->x + i * tr->n : NULL;
}

double ms_trace_value(const ms_trace *tr, size_t i) {
  return i < tr->len ? tr->f[i] : NAN;
}

int64_t ms_trace_diverged(const ms_trace *tr) { return tr->diverged; }

const char *ms_trace_reason(const ms_trace *tr) { return tr->reason; }

/* step,x1,...,xn,f with every number exact (%.17g). */
ms_status ms_trace_write_csv(const ms_trace *tr, const char *path) {
  ms_file file;
  ms_status st = ms_file_begin(path, &file);
  if (st != MS_OK) return st;
  fputs("step", file.fp);
  for (size_t j = 0; j < tr->n; j++) fprintf(file.fp, ",x%zu", j + 1);
  fputs(",f\n", file.fp);
  for (size_t i = 0; i < tr->len; i++) {
    fprintf(file.fp, "%lld", (long long)tr->step[i]);
    for (size_t j = 0; j < tr->n; j++)
      fprintf(file.fp, ",%.17g", tr->x[i * tr->n + j]);
    fprintf(file.fp, ",%.17g\n", tr->f[i]);
  }
  return ms_file_end(&file, MS_OK);
}
