/*
 * sweep_fast.c -- the vectorised loop of a sweep: heavy ball and Nesterov
 * momentum on a diagonal quadratic.  Every (point, coordinate) pair is a
 * lane of a structure of arrays, and one loop without branches steps all
 * lanes, which the compiler turns into SIMD instructions (this file is
 * built with -O3: see CMakeLists.txt).  Divergence (of x, the gradient or
 * f, as in the general loop) is checked once per block of 16 steps; the
 * lanes of a point that diverged, or may have, are replayed from the
 * block's start to find the step.  The arithmetic is that of the rules
 * whose class's heavy_ball says so (rules/momentum.c, nesterov.c, sgd.c,
 * gd.c), operation for operation, and f comes from the objective itself,
 * so that the results are those of the general loop bit for bit.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

struct ms_fast_work {
  size_t points, lanes;
  double *x, *v;             /* lanes: point p, coordinate i at p n + i */
  double *lam, *beta, *neta, *scale;
  double *x0, *v0;           /* x and v at the start of the block */
  double *thr;               /* lanes: the point's bound, see thresholds */
  ms_probe *probe, *probe0;  /* points; probe0: at the start of the block */
  ms_rate_acc *rate, *rate0; /* points */
  unsigned char *live;       /* points: 1 while the run goes on */
  unsigned char *watch;      /* points: f may overflow in this block */
  int watching;              /* some point is watched */
};

ms_fast_work *ms_fast_work_new(const ms_fast_setup *fs, size_t points) {
  ms_fast_work *w = ms_calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->points = points;
  w->lanes = points * fs->n;
  double **arrays[] = {&w->x,  &w->v,  &w->lam, &w->beta, &w->neta,
                       &w->scale, &w->x0, &w->v0, &w->thr};
  int ok = 1;
  for (size_t i = 0; i < MS_COUNT(arrays); i++)
    ok &= (*arrays[i] = ms_calloc(w->lanes, sizeof(double))) != NULL;
  w->probe = ms_calloc(points, sizeof *w->probe);
  w->probe0 = ms_calloc(points, sizeof *w->probe0);
  w->rate = ms_calloc(points, sizeof *w->rate);
  w->rate0 = ms_calloc(points, sizeof *w->rate0);
  w->live = ms_calloc(points, 1);
  w->watch = ms_calloc(points, 1);
  if (!ok || w->probe == NULL || w->probe0 == NULL || w->rate == NULL ||
      w->rate0 == NULL || w->live == NULL || w->watch == NULL) {
    ms_fast_work_free(w);
    return NULL;
  }
  return w;
}

void ms_fast_work_free(ms_fast_work *w) {
  if (w == NULL) return;
  double *arrays[] = {w->x,     w->v,  w->lam, w->beta, w->neta,
                      w->scale, w->x0, w->v0,  w->thr};
  for (size_t i = 0; i < MS_COUNT(arrays); i++) free(arrays[i]);
  free(w->probe);
  free(w->probe0);
  free(w->rate);
  free(w->rate0);
  free(w->live);
  free(w->watch);
  free(w);
}

/* One step of lanes [0, m).  scaled and nesterov are constants where this
 * is inlined, so each of the four loops is branch-free. */
static inline void step_lanes(double *restrict x, double *restrict v,
                              const double *restrict lam,
                              const double *restrict beta,
                              const double *restrict neta,
                              const double *restrict scale, size_t m,
                              int scaled, int nesterov) {
  for (size_t k = 0; k < m; k++) {
    double g = lam[k] * x[k];
    if (scaled) g = g * scale[k];
    v[k] = beta[k] * v[k] + g;
    x[k] += neta[k] * (nesterov ? g + beta[k] * v[k] : v[k]);
  }
}

static void step_all(const ms_fast_setup *fs, ms_fast_work *w, size_t m) {
  double *x = w->x, *v = w->v;
  const double *l = w->lam, *b = w->beta, *e = w->neta, *s = w->scale;
  switch (fs->scaled * 2 + fs->nesterov) {
    case 0: step_lanes(x, v, l, b, e, s, m, 0, 0); break;
    case 1: step_lanes(x, v, l, b, e, s, m, 0, 1); break;
    case 2: step_lanes(x, v, l, b, e, s, m, 1, 0); break;
    default: step_lanes(x, v, l, b, e, s, m, 1, 1); break;
  }
}

/* f at the point whose lanes x are, with scale s, computed by the
 * objective itself (as in the general loop, whatever its order of
 * operations), then scaled. */
static double loss_at(const ms_fast_setup *fs, const double *x, double s) {
  double f;
  ms_objective_eval(fs->obj, x, &f, NULL);
  return fs->scaled ? f * s : f;
}

static double loss(const ms_fast_setup *fs, const ms_fast_work *w, size_t p) {
  return loss_at(fs, w->x + p * fs->n, w->scale[p * fs->n]);
}

/* |x - 0|^2 of the lanes x of a point, summed as the general loop sums
 * it. */
static double dist2_at(const double *x, size_t n) {
  double d = 0.0;
  for (size_t i = 0; i < n; i++) d += x[i] * x[i];
  return d;
}

static double dist2(const ms_fast_setup *fs, const ms_fast_work *w, size_t p) {
  return dist2_at(w->x + p * fs->n, fs->n);
}

/* The run of point p is over: its lanes hold zeros from now on, which
 * cost nothing to step and stay clear of slow subnormal arithmetic. */
static void retire(const ms_fast_setup *fs, ms_fast_work *w, size_t p) {
  size_t n = fs->n;
  ms_vec_fill(w->x + p * n, 0, n);
  ms_vec_fill(w->v + p * n, 0, n);
  w->live[p] = 0;
}

/* Measurements after step t; a point that converged retires with x = 0,
 * its minimiser. */
static void measure(const ms_fast_setup *fs, ms_fast_work *w, size_t count,
                    int64_t t) {
  const ms_sweep_plan *plan = fs->plan;
  int want_d = ms_probe_wants_d(plan, t);
  int want_f = plan->measures & MS_MEASURE_STEPS;
  if (!want_d && !want_f) return;
  for (size_t p = 0; p < count; p++) {
    if (!w->live[p]) continue;
    double d = want_d ? dist2(fs, w, p) : NAN;
    double f = want_f ? loss(fs, w, p) : NAN;
    if (ms_probe_step(&w->probe[p], &w->rate[p], plan, t, d, f))
      retire(fs, w, p);
  }
}

/* Divergence is the general loop's: the first step whose gradient, x or
 * f is not finite.  A NaN or Inf in x or v stays there (every operation
 * of a step keeps it), and the gradient's shows in x at the same step:
 * those are seen at the end of the block.  f is not seen in the loop, and
 * on a quadratic it overflows long before x does, and may come back (an
 * oscillation's peak): a point whose |x| and |v| are below its bound thr
 * at the start of a block cannot make f overflow within the block; the
 * others are watched, their block replayed step by step with f. */

/* Does every lane k of [0, m) have |x_k| <= thr_k and |v_k| <= thr_k?  (A
 * NaN compares false.)  No branch: the loop vectorises. */
static int in_bounds(const double *x, const double *v, const double *thr,
                     size_t m) {
  int ok = 1;
  for (size_t k = 0; k < m; k++)
    ok &= (fabs(x[k]) <= thr[k]) & (fabs(v[k]) <= thr[k]);
  return ok;
}

/* The bound of each point: while every |x_i| <= M, |f| <= 4 n^2 max(L, 1)
 * max(|scale|, 1) M^2 (L = max |lambda_i|, with room for any order of
 * summation), finite for M below safe.  One step multiplies max(|x|, |v|)
 * by at most c (a triangle inequality on the update, with room for
 * rounding), a block by c^16: a block that starts below safe / c^16 stays
 * below safe. */
static void thresholds(const ms_fast_setup *fs, ms_fast_work *w,
                       size_t count) {
  size_t n = fs->n;
  for (size_t p = 0; p < count; p++) {
    double c = 1, L = 1, S = fmax(fabs(w->scale[p * n]), 1);
    for (size_t k = p * n; k < (p + 1) * n; k++) {
      double b = fabs(w->beta[k]), e = fabs(w->neta[k]);
      double ls = fabs(w->lam[k]) * fabs(w->scale[k]), cv = b + ls;
      double cx = 1 + e * (fs->nesterov ? ls + b * cv : cv);
      c = fmax(c, fmax(cv, cx));
      L = fmax(L, fabs(w->lam[k]));
    }
    double safe = sqrt(1e300 / (4 * (double)n * (double)n * L * S));
    double grow = pow(c * (1 + 1e-9), MS_SWEEP_BLOCK);
    double thr = isfinite(grow) ? safe / grow : 0;
    for (size_t k = p * n; k < (p + 1) * n; k++) w->thr[k] = thr;
  }
}

/* Do the runs measure something at every step (then a replay restores
 * their measurements from the start of the block)? */
static int per_step(const ms_sweep_plan *plan) {
  return plan->measures & (MS_MEASURE_RATE | MS_MEASURE_STEPS);
}

/* Replay the block t0 + 1 .. t0 + len of point p from its start, step by
 * step as the general loop runs it: f at every step, the measurements,
 * and the stop at divergence or convergence. */
static void replay(const ms_fast_setup *fs, ms_fast_work *w, size_t p,
                   int64_t t0, int64_t len, ms_sweep_result *res) {
  const ms_sweep_plan *plan = fs->plan;
  size_t n = fs->n, k0 = p * n;
  double *x = w->x0 + k0, *v = w->v0 + k0;
  const double *l = w->lam + k0, *b = w->beta + k0, *e = w->neta + k0,
               *s = w->scale + k0;
  if (per_step(plan)) {
    w->probe[p] = w->probe0[p];
    w->rate[p] = w->rate0[p];
  }
  w->live[p] = 1;
  for (int64_t t = t0 + 1; t <= t0 + len; t++) {
    for (size_t i = 0; i < n; i++)
      step_lanes(x + i, v + i, l + i, b + i, e + i, s + i, 1, fs->scaled,
                 fs->nesterov);
    double f = loss_at(fs, x, s[0]);
    if (!isfinite(f)) {
      res[p].diverged = t;
      retire(fs, w, p);
      return;
    }
    double d = ms_probe_wants_d(plan, t) ? dist2_at(x, n) : NAN;
    f = plan->measures & MS_MEASURE_STEPS ? f : NAN;
    if (ms_probe_step(&w->probe[p], &w->rate[p], plan, t, d, f)) {
      retire(fs, w, p);
      return;
    }
  }
  ms_vec_copy(w->x + k0, x, n);   /* the bits the block left there */
  ms_vec_copy(w->v + k0, v, n);
}

/* After the block t0 + 1 .. t0 + len: replay the points that were watched
 * or have a NaN or Inf, and watch those that left their bound.  Returns
 * the number still running. */
static size_t check_block(const ms_fast_setup *fs, ms_fast_work *w,
                          size_t count, int64_t t0, int64_t len,
                          ms_sweep_result *res) {
  size_t n = fs->n, running = 0;
  if (!w->watching && in_bounds(w->x, w->v, w->thr, count * n)) {
    for (size_t p = 0; p < count; p++) running += w->live[p];
    return running;
  }
  w->watching = 0;
  for (size_t p = 0; p < count; p++) {
    if (!w->live[p] && !w->watch[p]) continue;
    size_t k0 = p * n;
    if (w->watch[p] || !ms_vec_isfinite(w->x + k0, n))
      replay(fs, w, p, t0, len, res);
    w->watch[p] = w->live[p] &&
                  !in_bounds(w->x + k0, w->v + k0, w->thr + k0, n);
    w->watching |= w->watch[p];
    running += w->live[p];
  }
  return running;
}

ms_status ms_fast_run(const ms_fast_setup *fs, ms_fast_work *w,
                      const double *beta, const double *eta,
                      const double *scale, size_t count,
                      ms_sweep_result *res, ms_sweep_stop_fn stop,
                      void *stop_ctx) {
  const ms_sweep_plan *plan = fs->plan;
  size_t n = fs->n, m = count * n;
  for (size_t p = 0; p < count; p++) {
    for (size_t i = 0; i < n; i++) {
      size_t k = p * n + i;
      w->x[k] = fs->x0[i];
      w->v[k] = 0;
      w->lam[k] = fs->lambda[i];
      w->beta[k] = beta[p];
      w->neta[k] = -eta[p];
      w->scale[k] = scale != NULL ? scale[p] : 1;
    }
    w->live[p] = 1;
    res[p].diverged = 0;
    double f0 = plan->measures & MS_MEASURE_STEPS ? loss(fs, w, p) : NAN;
    ms_probe_start(&w->probe[p], &w->rate[p], plan, dist2(fs, w, p), f0);
  }
  thresholds(fs, w, count);
  w->watching = 0;
  for (size_t p = 0; p < count; p++) {
    size_t k0 = p * n;
    w->watch[p] = !in_bounds(w->x + k0, w->v + k0, w->thr + k0, n);
    w->watching |= w->watch[p];
  }
  size_t running = count;
  for (int64_t t0 = 0; t0 < plan->steps && running > 0;
       t0 += MS_SWEEP_BLOCK) {
    if (stop(stop_ctx)) return MS_EINTR;
    int64_t len = plan->steps - t0 < MS_SWEEP_BLOCK ? plan->steps - t0
                                                    : MS_SWEEP_BLOCK;
    ms_vec_copy(w->x0, w->x, m);
    ms_vec_copy(w->v0, w->v, m);
    if (per_step(plan)) {
      memcpy(w->probe0, w->probe, count * sizeof *w->probe);
      memcpy(w->rate0, w->rate, count * sizeof *w->rate);
    }
    for (int64_t t = t0 + 1; t <= t0 + len; t++) {
      step_all(fs, w, m);
      measure(fs, w, count, t);
    }
    running = check_block(fs, w, count, t0, len, res);
  }
  for (size_t p = 0; p < count; p++) {
    res[p].loss = res[p].diverged ? INFINITY : loss(fs, w, p);
    res[p].rate = plan->measures & MS_MEASURE_RATE
                      ? ms_rate_value(&w->rate[p], w->probe[p].dprev) : NAN;
    res[p].steps = w->probe[p].hit;
  }
  return MS_OK;
}
