/*
 * trace.c -- the full-batch loop of d2l's train_2d, recording the
 * trajectory x_0, x_1, ... and f along it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"
#include "trace.h"

static const int64_t max_steps = 10000000000;   /* 1e10 */
static const double max_bytes = 1024.0 * 1024 * 1024;


void ms_trace_opts_init(ms_trace_opts *opts) {
  if (opts == NULL) return;
  opts->steps = 20;
  opts->every = 1;
}

static size_t buffer_bytes(size_t n, size_t cap) {
  return cap * (n + 1) * sizeof(double);
}

/* A short trajectory lives in the trace's own block: one allocation a
 * call, not two (a 20-step run at d = 2 is 500 bytes). */
enum { INLINE_BYTES = 4096 };

void ms_trace_free(ms_trace *tr) {
  if (tr == NULL || tr->in_mem) return;   /* the caller's memory, all of it */
  if (tr->x != (double *)(tr + 1)) ms_big_give(tr->x, buffer_bytes(tr->n, tr->cap));
  free(tr);
}

/* Name the first non-finite entry of v for the trace's reason. */
void ms_trace_diverge(ms_trace *tr, int64_t t, const char *what,
                      const double *v, size_t n) {
  if (tr == NULL) return;
  if (what == NULL) what = "a value";
  tr->diverged = t;
  if (v == NULL || n == 0) {   /* nothing to name */
    snprintf(tr->reason, sizeof tr->reason, "%s is not finite", what);
    return;
  }
  size_t i = 0;
  while (i + 1 < n && isfinite(v[i])) i++;
  double bad = isnan(v[i]) ? NAN : v[i];   /* print "nan", never "-nan" */
  if (n == 1)
    snprintf(tr->reason, sizeof tr->reason, "%s is %g", what, bad);
  else
    snprintf(tr->reason, sizeof tr->reason, "%s[%zu] is %g", what, i + 1,
             bad);
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

/* The checks of the options alone, for a trace of dimension n. */
static ms_status check_opts(size_t n, const ms_trace_opts *o) {
  if (o->steps < 0)
    return ms_fail(MS_EINVAL, "steps must be >= 0, got %lld",
                   (long long)o->steps);
  if (o->steps > max_steps)
    return ms_fail(MS_ERANGE, "steps = %lld is more than the limit %lld",
                   (long long)o->steps, (long long)max_steps);
  if (o->every < 1)
    return ms_fail(MS_EINVAL, "every must be >= 1, got %lld",
                   (long long)o->every);
  size_t cap;
  return capacity(n, o, &cap);
}

ms_status ms_check_start(const ms_objective *obj, const double *x0,
                         size_t n) {
  MS_NEED(obj);
  MS_NEED(x0);
  size_t dim = ms_objective_dim(obj);
  if (n != dim)
    return ms_fail(MS_ESIZE, "x0 has %zu entries but the objective takes %zu",
                   n, dim);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(x0[i]))
      return ms_fail(MS_EINVAL, "x0[%zu] is not finite", i + 1);
  return MS_OK;
}

ms_status ms_trace_check(const ms_objective *obj, const double *x0,
                         size_t n, const ms_trace_opts *o) {
  MS_NEED(obj);
  MS_NEED(x0);
  ms_trace_opts defaults;
  if (o == NULL) {   /* as ms_trace_run takes it: the defaults */
    ms_trace_opts_init(&defaults);
    o = &defaults;
  }
  ms_status st = ms_check_start(obj, x0, n);
  return st == MS_OK ? check_opts(n, o) : st;
}

/* The options of a trace of n coordinates, checked, and the points it
 * records. */
static ms_status shape(size_t n, const ms_trace_opts *opts, ms_trace_opts *o,
                       size_t *cap) {
  ms_trace_opts_init(o);
  if (opts != NULL) *o = *opts;
  ms_status st = n > 0 ? check_opts(n, o)
                       : ms_fail(MS_EINVAL, "parameters must not be empty");
  return st == MS_OK ? capacity(n, o, cap) : st;
}

size_t ms_trace_size(size_t n, const ms_trace_opts *opts) {
  ms_trace_opts o;
  size_t cap;
  if (shape(n, opts, &o, &cap) != MS_OK) return 0;
  return sizeof(ms_trace) + buffer_bytes(n, cap);
}

/* ms_trace_new, in mem (bytes of it) when mem is not NULL. */
static ms_status trace_new(size_t n, const ms_trace_opts *opts, void *mem,
                           size_t bytes, ms_trace **out) {
  MS_NEED(out);
  *out = NULL;
  ms_trace_opts o;
  size_t cap = 0;
  ms_status st = shape(n, opts, &o, &cap);
  if (st != MS_OK) return st;
  size_t need = buffer_bytes(n, cap);
  if (mem != NULL && (bytes < sizeof(ms_trace) + need ||
                      (uintptr_t)mem % _Alignof(ms_trace) != 0))
    return ms_fail(MS_EINVAL, "a trace of %zu points needs %zu bytes aligned to "
                   "%zu; mem has %zu", cap, sizeof(ms_trace) + need,
                   _Alignof(ms_trace), bytes);
  int inline_x = mem != NULL || need <= INLINE_BYTES;
  ms_trace *tr = mem != NULL ? mem : malloc(sizeof *tr + (inline_x ? need : 0));
  if (tr != NULL) {
    *tr = (ms_trace){.n = n, .cap = cap, .in_mem = mem != NULL};
    tr->every = o.every;
    tr->steps = o.steps;
    /* written before read: neither is zeroed */
    tr->x = inline_x ? (double *)(tr + 1) : ms_big_take(need);
    tr->f = tr->x ? tr->x + cap * n : NULL;
  }
  if (tr == NULL || tr->x == NULL) {
    ms_trace_free(tr);
    return ms_fail(MS_ENOMEM, "out of memory for a trace of %zu points", cap);
  }
  *out = tr;
  return MS_OK;
}

ms_status ms_trace_new(size_t n, const ms_trace_opts *opts, ms_trace **out) {
  return trace_new(n, opts, NULL, 0, out);
}

/* The next point, in room the caller knows is there. */
static void append(ms_trace *tr, const double *x, double f) {
  double *p = tr->x + tr->len * tr->n;
  for (size_t i = 0; i < tr->n; i++) p[i] = x[i];
  tr->f[tr->len++] = f;
}

ms_status ms_trace_record(ms_trace *tr, const double *x, double f) {
  MS_NEED(tr);
  MS_NEED(x);
  if (tr->len == tr->cap)
    return ms_fail(MS_ERANGE, "the trace is full (%zu points)", tr->cap);
  if (tr->len == 0 && !isfinite(f))
    return ms_fail(MS_ENONFINITE, "f(x0) is %g", isnan(f) ? NAN : f);
  append(tr, x, f);
  return MS_OK;
}

/* f at x, and -- when fused is set -- the gradient there for the next
 * step in the same call, which built-in objectives compute in one pass. */
static ms_status value(ms_objective *obj, const double *x, double *f,
                       double *g, int fused) {
  return ms_objective_eval(obj, x, f, fused ? g : NULL);
}

/* The loop counts down to its next poll and record rather than dividing:
 * at d = 2 a step takes a few nanoseconds. */
ms_status ms_trace_steps(ms_trace *tr, ms_objective *obj, ms_rule *rule,
                         double *x, double *g, double *y, int have_g,
                         int64_t t0, int64_t t1) {
  size_t n = tr->n;
  int lookahead = ms_rule_class_of(rule)->lookahead != NULL;
  int64_t poll_every = n < MS_TRACE_POLL_COORDS
                           ? MS_TRACE_POLL_COORDS / (int64_t)n : 1;
  int64_t next_poll = (t0 / poll_every + 1) * poll_every;
  int64_t next_record = (int64_t)tr->len * tr->every;   /* point len's step */
  if (next_record > tr->steps) next_record = tr->steps;
  for (int64_t t = t0 + 1; t <= t1; t++) {
    ms_status st = MS_OK;
    if (t == next_poll) {
      if ((st = ms_interrupted()) != MS_OK) return st;
      next_poll += poll_every;
    }
    const double *bad;
    st = ms_loop_step(obj, rule, lookahead, x, g, y, n, have_g, &bad);
    if (st != MS_OK) return st;
    if (bad != NULL) {
      ms_trace_diverge(tr, t, bad == x ? "x" : "gradient", bad, n);
      return MS_OK;
    }
    /* f at every step, recorded or not: a run diverges at the first step
     * whose gradient, x or f is not finite, as in a sweep */
    double f;
    have_g = !lookahead && t < tr->steps;
    if ((st = value(obj, x, &f, g, have_g)) != MS_OK) return st;
    if (!isfinite(f)) {
      ms_trace_diverge(tr, t, "f", &f, 1);
      return MS_OK;
    }
    if (t == next_record) {
      append(tr, x, f);   /* run records no more than the trace holds */
      next_record = tr->steps - t > tr->every ? t + tr->every : tr->steps;
    }
  }
  return MS_OK;
}

ms_status ms_trace_run(ms_objective *obj, ms_rule *rule, const double *x0,
                       size_t n, const ms_trace_opts *opts, ms_trace **out) {
  return ms_trace_run_in(obj, rule, x0, n, opts, NULL, 0, out);
}

ms_status ms_trace_run_in(ms_objective *obj, ms_rule *rule, const double *x0,
                          size_t n, const ms_trace_opts *opts, void *mem,
                          size_t bytes, ms_trace **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(obj);
  MS_NEED(rule);
  MS_NEED(x0);
  ms_trace_opts o;
  ms_trace_opts_init(&o);
  if (opts != NULL) o = *opts;
  ms_status st = ms_trace_check(obj, x0, n, &o);
  /* a compiled expression's machine code, when this run makes it pay */
  if (st == MS_OK) st = ms_objective_plan(obj, (double)o.steps + 1);
  if (st == MS_OK) st = ms_rule_reset(rule, n);
  if (st != MS_OK) return st;

  ms_trace *tr = NULL;
  /* the loop's x, gradient and look-ahead point: on the stack when small */
  double small[3 * 16], *work = small;
  if (n > 16 && (work = ms_calloc(3 * n, sizeof *work)) == NULL)
    return ms_fail(MS_ENOMEM, "out of memory");
  double *x = work, *g = work + n, *y = work + 2 * n;
  ms_vec_copy(x, x0, n);

  double f0;
  int have_g = ms_rule_class_of(rule)->lookahead == NULL && o.steps > 0;
  if ((st = trace_new(n, &o, mem, bytes, &tr)) == MS_OK &&
      (st = value(obj, x, &f0, g, have_g)) == MS_OK &&
      (st = ms_trace_record(tr, x, f0)) == MS_OK &&
      !ms_trace_fused(tr, obj, rule, x, g, y, &st))
    st = ms_trace_steps(tr, obj, rule, x, g, y, have_g, 0, tr->steps);
  if (work != small) free(work);
  if (st != MS_OK) {
    ms_trace_free(tr);
    return st;
  }
  *out = tr;
  return MS_OK;
}

/* A NULL trace reads as an empty one. */
size_t ms_trace_dim(const ms_trace *tr) { return tr ? tr->n : 0; }
size_t ms_trace_len(const ms_trace *tr) { return tr ? tr->len : 0; }

int64_t ms_trace_step(const ms_trace *tr, size_t i) {
  if (tr == NULL || i >= tr->len) return -1;
  int64_t t = (int64_t)i * tr->every;
  return t < tr->steps ? t : tr->steps;
}

const double *ms_trace_point(const ms_trace *tr, size_t i) {
  return tr != NULL && i < tr->len ? tr->x + i * tr->n : NULL;
}

double ms_trace_value(const ms_trace *tr, size_t i) {
  return tr != NULL && i < tr->len ? tr->f[i] : NAN;
}

int64_t ms_trace_diverged(const ms_trace *tr) { return tr ? tr->diverged : 0; }

const char *ms_trace_reason(const ms_trace *tr) {
  return tr != NULL ? tr->reason : NULL;
}

/* step,x1,...,xn,f; every number in the shortest form that reads back
 * exactly. */
ms_status ms_trace_write_csv(const ms_trace *tr, const char *path) {
  MS_NEED(tr);
  MS_NEED(path);
  ms_file file;
  ms_status st = ms_file_begin(path, &file);
  if (st != MS_OK) return st;
  fputs("step", file.fp);
  for (size_t j = 0; j < tr->n; j++) fprintf(file.fp, ",x%zu", j + 1);
  fputs(",f\n", file.fp);
  for (size_t i = 0; i < tr->len; i++) {
    fprintf(file.fp, "%lld", (long long)ms_trace_step(tr, i));
    for (size_t j = 0; j < tr->n; j++)
      ms_file_put_number(file.fp, tr->x[i * tr->n + j], 0);
    ms_file_put_number(file.fp, tr->f[i], 0);
    fputc('\n', file.fp);
  }
  return ms_file_end(&file, MS_OK);
}
