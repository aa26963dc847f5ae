/*
 * sweep_fast.c -- the vectorised loop of a sweep: heavy ball and Nesterov
 * momentum on a diagonal quadratic.  Every (point, coordinate) pair is a
 * lane of a structure of arrays; the SIMD kernels of sweep_kernel.c
 * advance them a tile at a time through a whole block of 32 steps, in
 * registers.  Between blocks this file measures and checks the runs: a
 * point is measured only when its tile says it may have converged (when
 * only the loss is measured; the rate and the steps to a tolerance take a
 * block one step at a time, measuring every point at every step).
 * Divergence (of x, the gradient or f, as in the general loop) is checked
 * once per block; the lanes of a point that diverged, or may have, are
 * replayed from the block's start to find the step.  The arithmetic is
 * that of the rules whose class's heavy_ball says so (rules/momentum.c,
 * nesterov.c, sgd.c, gd.c), operation for operation, and f comes from the
 * objective itself, so that the results are those of the general loop bit
 * for bit.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

struct ms_fast_work {
  size_t points, lanes;      /* lanes: a multiple of MS_KERNEL_PAD */
  ms_lanes L;                /* point p, coordinate i at lane p n + i */
  double *arena;             /* the arrays of L */
  unsigned char *flags;      /* one per tile */
  ms_probe *probe, *probe0;  /* points; probe0: at the start of the block */
  ms_rate_acc *rate, *rate0; /* points */
  unsigned char *live;       /* points: 1 while the run goes on */
  unsigned char *watch;      /* points: f may overflow in this block */
  int watching;              /* some point is watched */
  size_t running;            /* live points */
};

enum { NARRAYS = 10 };   /* the arrays of ms_lanes */

ms_fast_work *ms_fast_work_new(const ms_fast_setup *fs, size_t points) {
  ms_fast_work *w = ms_calloc(1, sizeof *w);
  if (w == NULL) return NULL;
  w->points = points;
  w->lanes = (points * fs->n + MS_KERNEL_PAD - 1) / MS_KERNEL_PAD *
             MS_KERNEL_PAD;
  size_t bytes = NARRAYS * w->lanes * sizeof(double);
  w->arena = aligned_alloc(64, bytes);
  if (w->arena != NULL) memset(w->arena, 0, bytes);
  double **arrays[NARRAYS] = {&w->L.x,     &w->L.v,   &w->L.lam, &w->L.beta,
                              &w->L.neta,  &w->L.scale, &w->L.thr, &w->L.x0,
                              &w->L.v0,    &w->L.xmark};
  for (size_t i = 0; w->arena != NULL && i < NARRAYS; i++)
    *arrays[i] = w->arena + i * w->lanes;
  w->flags = ms_calloc(w->lanes, 1);
  w->probe = ms_calloc(points, sizeof *w->probe);
  w->probe0 = ms_calloc(points, sizeof *w->probe0);
  w->rate = ms_calloc(points, sizeof *w->rate);
  w->rate0 = ms_calloc(points, sizeof *w->rate0);
  w->live = ms_calloc(points, 1);
  w->watch = ms_calloc(points, 1);
  if (w->arena == NULL || w->flags == NULL || w->probe == NULL ||
      w->probe0 == NULL || w->rate == NULL || w->rate0 == NULL ||
      w->live == NULL || w->watch == NULL) {
    ms_fast_work_free(w);
    return NULL;
  }
  return w;
}

size_t ms_fast_work_bytes(size_t n, size_t points) {
  size_t lanes = (points * n + MS_KERNEL_PAD - 1) / MS_KERNEL_PAD *
                 MS_KERNEL_PAD;
  return (NARRAYS * sizeof(double) + 1) * lanes +
         points * (2 * sizeof(ms_probe) + 2 * sizeof(ms_rate_acc) + 2);
}

void ms_fast_work_free(ms_fast_work *w) {
  if (w == NULL) return;
  free(w->arena);
  free(w->flags);
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

/* f at the point whose lanes x are, with scale s, computed by the
 * objective itself (as in the general loop, whatever its order of
 * operations), then scaled. */
static double loss_at(const ms_fast_setup *fs, const double *x, double s) {
  double f;
  ms_objective_eval(fs->obj, x, &f, NULL);
  return fs->scaled ? f * s : f;
}

static double loss(const ms_fast_setup *fs, const ms_fast_work *w, size_t p) {
  return loss_at(fs, w->L.x + p * fs->n, w->L.scale[p * fs->n]);
}

/* |x - 0|^2 of the lanes x of a point, summed as the general loop sums
 * it. */
static double dist2_at(const double *x, size_t n) {
  double d = 0.0;
  for (size_t i = 0; i < n; i++) d += x[i] * x[i];
  return d;
}

static double dist2(const ms_fast_setup *fs, const ms_fast_work *w, size_t p) {
  return dist2_at(w->L.x + p * fs->n, fs->n);
}

/* The run of point p is over: its lanes hold zeros from now on, which
 * cost nothing to step and stay clear of slow subnormal arithmetic, and
 * thr = Inf, which tells the kernels. */
static void retire(const ms_fast_setup *fs, ms_fast_work *w, size_t p) {
  size_t n = fs->n;
  ms_vec_fill(w->L.x + p * n, 0, n);
  ms_vec_fill(w->L.v + p * n, 0, n);
  ms_vec_fill(w->L.thr + p * n, INFINITY, n);
  w->running -= w->live[p];
  w->live[p] = 0;
}

/* Measurements of point p after step t, x its lanes then; a point that
 * converged retires with x = 0, its minimiser. */
static void measure_point(const ms_fast_setup *fs, ms_fast_work *w, size_t p,
                          int64_t t, const double *x) {
  const ms_sweep_plan *plan = fs->plan;
  double d = ms_probe_wants_d(plan, t) ? dist2_at(x, fs->n) : NAN;
  double f = plan->measures & MS_MEASURE_STEPS
                 ? loss_at(fs, x, w->L.scale[p * fs->n]) : NAN;
  if (ms_probe_step(&w->probe[p], &w->rate[p], plan, t, d, f))
    retire(fs, w, p);
}

/* Every live point after step t. */
static void measure_all(const ms_fast_setup *fs, ms_fast_work *w,
                        size_t count, int64_t t) {
  for (size_t p = 0; p < count; p++)
    if (w->live[p]) measure_point(fs, w, p, t, w->L.x + p * fs->n);
}

/* Are |x| and |xm| at most MS_KERNEL_TINY in every lane of a point (a
 * necessary condition of convergence)? */
static int tiny(const double *x, const double *xm, size_t n) {
  for (size_t i = 0; i < n; i++)
    if (!(fabs(x[i]) <= MS_KERNEL_TINY && fabs(xm[i]) <= MS_KERNEL_TINY))
      return 0;
  return 1;
}

/* The points of the tiles flagged small, after the steps t - 1 (x in
 * xmark) and t: the only ones that may have converged.  (Skipping the
 * others changes nothing: when only the loss is measured, a point's probe
 * keeps nothing from one block to the next.) */
static void measure_small(const ms_fast_setup *fs, ms_fast_work *w,
                          size_t count, int64_t t) {
  size_t n = fs->n, tile = fs->kernel->tile, tiles = count * n;
  tiles = (tiles + tile - 1) / tile;
  size_t next = 0;   /* points before it are done */
  for (size_t j = 0; j < tiles; j++) {
    if (!(w->flags[j] & MS_KERNEL_SMALL)) continue;
    size_t p = j * tile / n, end = ((j + 1) * tile + n - 1) / n;
    for (p = p > next ? p : next; p < end && p < count; p++) {
      if (!w->live[p] || !tiny(w->L.x + p * n, w->L.xmark + p * n, n))
        continue;
      measure_point(fs, w, p, t - 1, w->L.xmark + p * n);
      if (w->live[p]) measure_point(fs, w, p, t, w->L.x + p * n);
    }
    next = p;
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
 * rounding), a block by c^32: a block that starts below safe / c^32 stays
 * below safe. */
static void thresholds(const ms_fast_setup *fs, ms_fast_work *w,
                       size_t count) {
  size_t n = fs->n;
  for (size_t p = 0; p < count; p++) {
    double c = 1, L = 1, S = fmax(fabs(w->L.scale[p * n]), 1);
    for (size_t k = p * n; k < (p + 1) * n; k++) {
      double b = fabs(w->L.beta[k]), e = fabs(w->L.neta[k]);
      double ls = fabs(w->L.lam[k]) * fabs(w->L.scale[k]), cv = b + ls;
      double cx = 1 + e * (fs->nesterov ? ls + b * cv : cv);
      c = fmax(c, fmax(cv, cx));
      L = fmax(L, fabs(w->L.lam[k]));
    }
    double safe = sqrt(1e300 / (4 * (double)n * (double)n * L * S));
    double grow = c * (1 + 1e-9);   /* ^BLOCK: a bound, rounding incl. */
    for (int k = 1; k < MS_SWEEP_BLOCK; k *= 2) grow *= grow;
    double thr = isfinite(grow) ? safe / grow : 0;
    for (size_t k = p * n; k < (p + 1) * n; k++) w->L.thr[k] = thr;
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
  double *x = w->L.x0 + k0, *v = w->L.v0 + k0;
  const double *l = w->L.lam + k0, *b = w->L.beta + k0, *e = w->L.neta + k0,
               *s = w->L.scale + k0;
  if (per_step(plan)) {
    w->probe[p] = w->probe0[p];
    w->rate[p] = w->rate0[p];
  }
  w->running += !w->live[p];
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
  ms_vec_copy(w->L.x + k0, x, n);   /* the bits the block left there */
  ms_vec_copy(w->L.v + k0, v, n);
}

/* After the block t0 + 1 .. t0 + len, whose kernels flagged out (some
 * lane left its bound): replay the points that were watched or have a NaN
 * or Inf, and watch those that left their bound. */
static void check_block(const ms_fast_setup *fs, ms_fast_work *w,
                        size_t count, int64_t t0, int64_t len, int out,
                        ms_sweep_result *res) {
  size_t n = fs->n;
  if (!w->watching && !out) return;
  w->watching = 0;
  for (size_t p = 0; p < count; p++) {
    if (!w->live[p] && !w->watch[p]) continue;
    size_t k0 = p * n;
    if (w->watch[p] || !ms_vec_isfinite(w->L.x + k0, n))
      replay(fs, w, p, t0, len, res);
    w->watch[p] = w->live[p] &&
                  !in_bounds(w->L.x + k0, w->L.v + k0, w->L.thr + k0, n);
    w->watching |= w->watch[p];
  }
}

/* Steps t0 + 1 .. t0 + len of every point, measured. */
static void run_block(const ms_fast_setup *fs, ms_fast_work *w, size_t count,
                      int64_t t0, int64_t len, ms_sweep_result *res) {
  const ms_kernel_fn run = fs->kernel->run[fs->scaled * 2 + fs->nesterov];
  size_t m = (count * fs->n + MS_KERNEL_PAD - 1) / MS_KERNEL_PAD *
             MS_KERNEL_PAD;
  unsigned flags = 0;
  if (per_step(fs->plan)) {
    memcpy(w->probe0, w->probe, count * sizeof *w->probe);
    memcpy(w->rate0, w->rate, count * sizeof *w->rate);
    for (int64_t t = t0 + 1; t <= t0 + len; t++) {
      flags |= run(&w->L, m, 1, 0, t == t0 + 1, 1, w->flags);
      measure_all(fs, w, count, t);
    }
  } else {
    /* the loss alone: a check for convergence at the end of a full block,
     * with |x|^2 of the step before */
    int check = len == MS_SWEEP_BLOCK && ms_probe_wants_d(fs->plan, t0 + len);
    size_t group = fs->n & -fs->n;   /* the largest power of 2 dividing n */
    flags = run(&w->L, m, (int)len, check ? (int)len - 1 : 0, 1,
                group < MS_KERNEL_PAD ? (int)group : MS_KERNEL_PAD, w->flags);
    if (flags & MS_KERNEL_SMALL) measure_small(fs, w, count, t0 + len);
  }
  check_block(fs, w, count, t0, len, flags & MS_KERNEL_OUT, res);
}

ms_status ms_fast_run(const ms_fast_setup *fs, ms_fast_work *w,
                      const double *beta, const double *eta,
                      const double *scale, size_t count,
                      ms_sweep_result *res, ms_sweep_stop_fn stop,
                      void *stop_ctx) {
  const ms_sweep_plan *plan = fs->plan;
  size_t n = fs->n;
  ms_lanes *L = &w->L;
  for (size_t k = count * n; k < w->lanes; k++) {   /* retired lanes */
    L->x[k] = L->v[k] = L->lam[k] = L->beta[k] = L->neta[k] = 0;
    L->scale[k] = 1;
    L->thr[k] = INFINITY;
  }
  for (size_t p = 0; p < count; p++) {
    for (size_t i = 0; i < n; i++) {
      size_t k = p * n + i;
      L->x[k] = fs->x0[i];
      L->v[k] = 0;
      L->lam[k] = fs->lambda[i];
      L->beta[k] = beta[p];
      L->neta[k] = -eta[p];
      L->scale[k] = scale != NULL ? scale[p] : 1;
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
    w->watch[p] = !in_bounds(L->x + k0, L->v + k0, L->thr + k0, n);
    w->watching |= w->watch[p];
  }
  w->running = count;
  for (int64_t t0 = 0; t0 < plan->steps && w->running > 0;
       t0 += MS_SWEEP_BLOCK) {
    if (stop(stop_ctx)) return MS_EINTR;
    int64_t len = plan->steps - t0 < MS_SWEEP_BLOCK ? plan->steps - t0
                                                    : MS_SWEEP_BLOCK;
    run_block(fs, w, count, t0, len, res);
  }
  for (size_t p = 0; p < count; p++) {
    res[p].loss = res[p].diverged ? INFINITY : loss(fs, w, p);
    res[p].rate = plan->measures & MS_MEASURE_RATE
                      ? ms_rate_value(&w->rate[p], w->probe[p].dprev) : NAN;
    res[p].steps = w->probe[p].hit;
  }
  return MS_OK;
}
