/*
 * sweep.c -- the runs of a sweep: the plan of what to measure, the choice
 * between the general loop (any rule, any objective: the full-batch loop
 * of trace.c, here) and the vectorised one (sweep_fast.c), and the work
 * units the threads of sweep_pool.c take.  The grid and the CSV output are
 * sweep_grid.c's.
 *
 * Runs that call back into user code (a rule class, objective or schedule
 * that is not built-in) all run on the calling thread, the only one the
 * binding can call back on.
 */
#define _DEFAULT_SOURCE
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"

enum { FAST_LANES = 512 };   /* lanes per work unit: a few KiB, in L1 */
static const int64_t max_steps = 10000000000;   /* 1e10, as traces */

/* ---------------------------------------------------- the fast path */

/* Is the rule with hyper-parameters h heavy ball or Nesterov momentum?
 * Its class says (ms_rule_class.heavy_ball), with the learning rate and
 * the momentum. */
static int reduce(const ms_rule_class *cls, const double *h, double *lr,
                  double *beta, int *nesterov) {
  return cls->heavy_ball != NULL && cls->heavy_ball(h, lr, beta, nesterov);
}

/* Can every point of [first, first + count) take the vectorised loop, and
 * with which update?  Only axis values change between points, so the
 * defaults with each value of each axis stand for all the points of a
 * grid. */
static int fast_path(const ms_sweep *s, int64_t first, int64_t count,
                     int *nesterov) {
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  int nh = cls->nhyper;
  if (!ms_rule_class_is_builtin(cls)) return 0;   /* see heavy_ball */
  for (int k = 0; k < nh; k++) {
    int on_axis = 0;
    for (size_t a = 0; a < s->naxes; a++) on_axis |= s->axes[a].hyper == k;
    if (!on_axis && ms_rule_get_schedule(s->rule, k) != NULL) return 0;
  }
  double h[64], lr, beta, scale;
  if (nh > 64) return 0;
  ms_sweep_point_hyper(s, first, h, &scale);
  if (!reduce(cls, h, &lr, &beta, nesterov)) return 0;
  for (int64_t i = first; s->points != NULL && i < first + count; i++) {
    int nest;
    ms_sweep_point_hyper(s, i, h, &scale);
    if (!reduce(cls, h, &lr, &beta, &nest) || nest != *nesterov) return 0;
  }
  for (size_t a = 0; s->points == NULL && a < s->naxes; a++) {
    if (s->axes[a].hyper < 0) continue;
    ms_sweep_point_hyper(s, first, h, &scale);
    for (int64_t k = 0; k < s->axes[a].count; k++) {
      int nest;
      h[s->axes[a].hyper] = ms_grid_axis_value(&s->axes[a], k);
      if (!reduce(cls, h, &lr, &beta, &nest) || nest != *nesterov) return 0;
    }
  }
  return 1;
}

/* ---------------------------------------------------------- the runs */

/* What the threads of a run share. */
typedef struct job {
  ms_sweep *s;
  ms_sweep_plan plan;
  int fast;
  ms_fast_setup fs;
  double *lambda;       /* of the diagonal quadratic, for the fast path */
  int scaled;           /* a scale axis */
  int64_t unit;         /* points per work unit */
  atomic_llong next;    /* next work unit */
} job;

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
  int have_g = !lookahead && plan->steps > 0;
  double f = NAN;
  ms_vec_copy(x, x0, n);
  ms_status st = ms_objective_eval(obj, x, &f, have_g ? g : NULL);
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
    /* f at every step, with the next gradient where the rule allows: a
     * run diverges at the first step whose gradient, x or f is not
     * finite, as a trace does (f overflows long before x on a quadratic) */
    have_g = !lookahead && t < plan->steps;
    if ((st = ms_objective_eval(obj, x, &f, have_g ? g : NULL)) != MS_OK)
      break;
    if (!isfinite(f)) {
      r->diverged = t;
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
  r->rate = plan->measures & MS_MEASURE_RATE ? ms_rate_value(&rate, p.dprev) : NAN;
  r->steps = p.hit;
  return MS_OK;
}

/* Prefix the failure just recorded with the point it happened at. */
static ms_status at_point(const ms_sweep *s, int64_t i, ms_status st) {
  if (st == MS_EINTR || st == MS_ECALLBACK) return st;
  char label[256], detail[512];
  ms_sweep_point_label(s, i, label, sizeof label);
  snprintf(detail, sizeof detail, "%s", ms_last_error());
  return ms_fail(st, "at %s: %s", label, detail);
}

static ms_status general_point(job *j, general_work *w, int64_t i,
                               ms_sweep_result *r, ms_sweep_stop_fn stop,
                               ms_pool *pool) {
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
    st = general_run(w->obj, w->rule, &plan, s->x0, s->n, w, r, stop, pool);
  return st == MS_OK ? MS_OK : at_point(s, i, st);
}

static ms_status fast_unit(job *j, ms_fast_work *w, double *buf,
                           int64_t first, int64_t count, ms_sweep_result *r,
                           ms_sweep_stop_fn stop, ms_pool *pool) {
  const ms_sweep *s = j->s;
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  double *beta = buf, *eta = beta + j->unit, *scale = eta + j->unit;
  double *h = scale + j->unit;
  int nesterov;
  for (int64_t k = 0; k < count; k++) {
    ms_sweep_point_hyper(s, first + k, h, &scale[k]);
    if (cls->check != NULL) {
      ms_status st = cls->check(h);
      if (st != MS_OK) return at_point(s, first + k, st);
    }
    reduce(cls, h, &eta[k], &beta[k], &nesterov);
  }
  return ms_fast_run(&j->fs, w, beta, eta, j->scaled ? scale : NULL,
                     (size_t)count, r, stop, pool);
}

/* Take work units until none is left or the run stops (a thread's work
 * for sweep_pool.c). */
static void work(void *ctx, ms_pool *pool, ms_sweep_stop_fn stop) {
  job *j = ctx;
  ms_sweep *s = j->s;
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
    ms_pool_fail(pool, st);
    return;
  }
  while (st == MS_OK && !stop(pool)) {
    int64_t u = atomic_fetch_add(&j->next, 1);
    int64_t first = u * j->unit;
    if (first >= s->count) break;
    int64_t count = s->count - first < j->unit ? s->count - first : j->unit;
    ms_sweep_result *r = s->res + first;
    if (j->fast) {
      st = fast_unit(j, fw, buf, s->first + first, count, r, stop, pool);
    } else {
      for (int64_t k = 0; k < count && st == MS_OK; k++)
        st = general_point(j, &gw, s->first + first + k, r + k, stop, pool);
    }
    if (st == MS_OK) atomic_fetch_add(&pool->done, count);
  }
  /* a unit that stopped because another failed records nothing */
  if (st != MS_OK && !(st == MS_EINTR && atomic_load(&pool->stop)))
    ms_pool_fail(pool, st);
  if (j->fast) {
    ms_fast_work_free(fw);
    free(buf);
  } else {
    general_free(&gw);
  }
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

/* The work space of one thread (work): the rule's clone and the general
 * loop's x, gradient and lookahead, or the vectorised loop's lanes. */
static double thread_bytes(const job *j) {
  const ms_sweep *s = j->s;
  double n = (double)s->n, unit = (double)j->unit;
  const ms_rule_class *cls = ms_rule_class_of(s->rule);
  if (j->fast)
    return (double)ms_fast_work_bytes(j->s->n, (size_t)j->unit) +
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
  int builtin = ms_rule_class_is_builtin(cls);
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
                          .plan = &j->plan,
                          .kernel = ms_kernel_get(ms_kernel_level())};
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
  int64_t total = ms_sweep_grid_total(s, &exact);
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
  job j = {.s = s};
  double *xbuf = ms_calloc(s->n, sizeof *xbuf);
  if (xbuf == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  for (size_t a = 0; a < s->naxes; a++) j.scaled |= s->axes[a].hyper < 0;
  st = make_plan(s, &o, &j, xbuf);
  if (st == MS_OK) st = setup_fast(s, &o, &j);
  /* machine code for a compiled expression, before the threads start */
  if (st == MS_OK && !j.fast)
    st = ms_objective_plan(s->obj, (double)count * (double)(o.steps + 1));
  int threads = pure(s) ? ms_pool_threads(o.threads) : 1;
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

  ms_pool pool;
  ms_pool_init(&pool, o.progress, o.progress_ctx, count);
  s->threads = ms_pool_run(&pool, threads, work, &j);
  s->seconds = pool.seconds;
  s->fast = j.fast;
  ms_pool_destroy(&pool);
  free(xbuf);
  free(j.lambda);
  if (pool.st != MS_OK) {
    ms_big_free(s->res, s->res_bytes);
    s->res = NULL;
    return ms_fail(pool.st, "%s", pool.msg);
  }
  return MS_OK;
}
