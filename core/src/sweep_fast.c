/*
 * sweep_fast.c -- the vectorised loop of a sweep: heavy ball and Nesterov
 * momentum on a diagonal quadratic.  Every (point, coordinate) pair is a
 * lane of a structure of arrays, and one loop without branches steps all
 * lanes, which the compiler turns into SIMD instructions (this file is
 * built with -O3: see CMakeLists.txt).  Divergence is checked once per
 * block of 16 steps; the lanes of a point that diverged are replayed from
 * the block's start to find the step.  The arithmetic is that of the rules
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
  ms_probe *probe;           /* points */
  ms_rate_acc *rate;         /* points */
  unsigned char *live;       /* points: 1 while the run goes on */
};

ms_fast_work *ms_fast_work_new(const ms_fast_setup *fs, size_t points) {
  ms_fast_work *w = ms_calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->points = points;
  w->lanes = points * fs->n;
  double **arrays[] = {&w->x, &w->v, &w->lam, &w->beta, &w->neta, &w->scale,
                       &w->x0, &w->v0};
  int ok = 1;
  for (size_t i = 0; i < MS_COUNT(arrays); i++)
    ok &= (*arrays[i] = ms_calloc(w->lanes, sizeof(double))) != NULL;
  w->probe = ms_calloc(points, sizeof *w->probe);
  w->rate = ms_calloc(points, sizeof *w->rate);
  w->live = ms_calloc(points, 1);
  if (!ok || w->probe == NULL || w->rate == NULL || w->live == NULL) {
    ms_fast_work_free(w);
    return NULL;
  }
  return w;
}

void ms_fast_work_free(ms_fast_work *w) {
  if (w == NULL) return;
  double *arrays[] = {w->x, w->v, w->lam, w->beta, w->neta, w->scale,
                      w->x0, w->v0};
  for (size_t i = 0; i < MS_COUNT(arrays); i++) free(arrays[i]);
  free(w->probe);
  free(w->rate);
  free(w->live);
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

/* f at point p, computed by the objective itself (as in the general
 * loop, whatever its order of operations), then scaled. */
static double loss(const ms_fast_setup *fs, const ms_fast_work *w, size_t p) {
  double f;
  ms_objective_eval(fs->obj, w->x + p * fs->n, &f, NULL);
  return fs->scaled ? f * w->scale[p * fs->n] : f;
}

/* |x - 0|^2 at point p, summed as the general loop sums it. */
static double dist2(const ms_fast_setup *fs, const ms_fast_work *w, size_t p) {
  const double *x = w->x + p * fs->n;
  double d = 0.0;
  for (size_t i = 0; i < fs->n; i++) d += x[i] * x[i];
  return d;
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

/* Point p has a NaN or Inf among its lanes after the block that started
 * after step t0: replay its lanes one at a time to find the first step at
 * which one of them was. */
static int64_t divergence(const ms_fast_setup *fs, ms_fast_work *w, size_t p,
                          int64_t t0) {
  size_t n = fs->n, k0 = p * n;
  double *x = w->x0 + k0, *v = w->v0 + k0;
  const double *l = w->lam + k0, *b = w->beta + k0, *e = w->neta + k0,
               *s = w->scale + k0;
  for (int64_t t = t0 + 1;; t++) {
    int bad = 0;
    for (size_t i = 0; i < n; i++) {
      step_lanes(x + i, v + i, l + i, b + i, e + i, s + i, 1, fs->scaled,
                 fs->nesterov);
      bad |= !isfinite(x[i]);
    }
    if (bad || t >= t0 + MS_SWEEP_BLOCK) return t;
  }
}

/* Is every x[0 .. m) finite?  An exponent of all ones (Inf, NaN) carries
 * into the sign bit when one is added to it: integer operations that
 * vectorise, where isfinite would branch on every lane. */
static int all_finite(const double *x, size_t m) {
  const uint64_t exponent = 0x7ff0000000000000, one = 0x0010000000000000;
  uint64_t carry = 0;
  for (size_t k = 0; k < m; k++) {
    uint64_t bits;
    memcpy(&bits, &x[k], sizeof bits);
    carry |= (bits & exponent) + one;
  }
  return !(carry >> 63);
}

/* After the block of steps t0 + 1 .. t0 + len: retire the points that
 * diverged in it.  Returns the number still running. */
static size_t check_block(const ms_fast_setup *fs, ms_fast_work *w,
                          size_t count, int64_t t0, ms_sweep_result *res) {
  size_t n = fs->n, running = 0;
  if (all_finite(w->x, count * n)) {
    for (size_t p = 0; p < count; p++) running += w->live[p];
    return running;
  }
  for (size_t p = 0; p < count; p++) {
    if (!w->live[p]) continue;
    if (ms_vec_isfinite(w->x + p * n, n)) {
      running++;
      continue;
    }
    res[p].diverged = divergence(fs, w, p, t0);
    /* the general loop stops there: no later step counts (f may be -Inf
     * on a concave quadratic) */
    if (w->probe[p].hit >= (double)res[p].diverged) w->probe[p].hit = NAN;
    retire(fs, w, p);
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
  size_t running = count;
  for (int64_t t0 = 0; t0 < plan->steps && running > 0;
       t0 += MS_SWEEP_BLOCK) {
    if (stop(stop_ctx)) return MS_EINTR;
    int64_t len = plan->steps - t0 < MS_SWEEP_BLOCK ? plan->steps - t0
                                                    : MS_SWEEP_BLOCK;
    ms_vec_copy(w->x0, w->x, m);
    ms_vec_copy(w->v0, w->v, m);
    for (int64_t t = t0 + 1; t <= t0 + len; t++) {
      step_all(fs, w, m);
      measure(fs, w, count, t);
    }
    running = check_block(fs, w, count, t0, res);
  }
  for (size_t p = 0; p < count; p++) {
    res[p].loss = res[p].diverged ? INFINITY : loss(fs, w, p);
    res[p].rate = plan->measures & MS_MEASURE_RATE
                      ? ms_rate_value(&w->rate[p], w->probe[p].dprev) : NAN;
    res[p].steps = w->probe[p].hit;
  }
  return MS_OK;
}
