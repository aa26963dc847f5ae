/*
 * sweep.h -- what the files of a sweep share: the grid (sweep_grid.c, which
 * also writes the results as CSV), the threads that share the runs
 * (sweep_pool.c), the general loop and the runs (sweep.c, any rule and
 * objective), and the vectorised loop (sweep_fast.c, heavy ball and
 * Nesterov momentum on diagonal quadratics).  Both loops measure through
 * the functions below, in the same order of operations, so that their
 * results agree bit for bit.
 */
#ifndef MS_SWEEP_H
#define MS_SWEEP_H

#include <math.h>
#include <pthread.h>
#include <stdatomic.h>

#include "internal.h"

/* ------------------------------------------------ the grid (sweep_grid.c) */

/* An axis of the grid, or a column of explicit points. */
typedef struct ms_grid_axis {
  char *name;
  int hyper;        /* index of the rule's hyper-parameter; -1: scale */
  int64_t count;    /* values; 0 for the columns of explicit points */
  double *values;   /* count values, or NULL for a range */
  double from, to;
  int log;
} ms_grid_axis;

struct ms_sweep {
  ms_objective *obj;
  ms_rule *rule;          /* a clone of the caller's: every point's defaults */
  size_t n;
  double *x0;
  ms_grid_axis *axes;
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

/* Value k of an axis (NaN out of range); a range's ends are exact. */
double ms_grid_axis_value(const ms_grid_axis *ax, int64_t k);
/* Points of the whole grid, or -1 when there are more than 2^62; *exact
 * is the count as a double either way. */
int64_t ms_sweep_grid_total(const ms_sweep *s, double *exact);
/* "lr=0.1, beta=0.5", for messages about point i. */
void ms_sweep_point_label(const ms_sweep *s, int64_t i, char *buf,
                          size_t size);
/* The hyper-parameters (the rule's, then the axes') and the scale of
 * point i. */
void ms_sweep_point_hyper(const ms_sweep *s, int64_t i, double *h,
                          double *scale);

/* ---------------------------------------------- the runs and their loops */

/* Steps between the checks for convergence (and interrupts, and, in the
 * vectorised loop, divergence).  A check costs the vectorised loop a
 * round trip of its tiles through memory: at 16 steps that was nearly
 * half of its time on AVX-512, at 32 a quarter (bench/sweep.lua); the
 * general loop checks at the same steps, so that both agree. */
enum { MS_SWEEP_BLOCK = 32 };

/* |x_t - x*|^2 + |x_{t-1} - x*|^2 below this: converged as far as doubles
 * can tell.  The iterates are still far from subnormal numbers, whose
 * arithmetic is slow and inexact. */
#define MS_SWEEP_FLOOR 1e-280

/* What the runs measure; the same for every point. */
typedef struct ms_sweep_plan {
  int64_t steps;
  int measures;         /* MS_MEASURE_* bits */
  double tol;
  double fstar;         /* f at the minimiser (NaN: unknown) */
  const double *xstar;  /* the minimiser, or NULL */
} ms_sweep_plan;

/* The rate: least-squares slope of s_t = log |z_t| over the samples of the
 * current dyadic block of steps [lo, 2 lo) and the one before. */
typedef struct ms_rate_acc {
  int64_t lo;                /* 0 before the first sample */
  double cur[5], prev[5];    /* count, sum t, sum s, sum t^2, sum t s */
} ms_rate_acc;

/* The measurements of one run in progress, but for the rate's sums: kept
 * apart, so that the vectorised loop touches 16 bytes per run when the
 * rate is not measured. */
typedef struct ms_probe {
  double dprev;   /* |x_{t-1} - x*|^2 */
  double hit;     /* first t with f(x_t) - f* <= tol; NaN until then */
} ms_probe;

/* Start at x_0 with d0 = |x_0 - x*|^2 and f0 = f(x_0) (NaN when not
 * measured); rate may be NULL when the rate is not measured. */
static inline void ms_probe_start(ms_probe *p, ms_rate_acc *rate,
                                  const ms_sweep_plan *plan, double d0,
                                  double f0) {
  *p = (ms_probe){.dprev = d0, .hit = NAN};
  if (rate != NULL) *rate = (ms_rate_acc){0};
  if (plan->measures & MS_MEASURE_STEPS && f0 - plan->fstar <= plan->tol)
    p->hit = 0;
}

/* Add sample t, z2 = |z_t|^2.  A sample that is 0 or not finite (the
 * iterate underflowed or overflowed) says nothing about the rate. */
static inline void ms_rate_add(ms_rate_acc *a, int64_t t, double z2) {
  double s = 0.5 * log(z2);
  if (!isfinite(s)) return;
  if (a->lo == 0 || t >= 2 * a->lo) {
    int adjacent = a->lo != 0 && t < 4 * a->lo;
    for (int i = 0; i < 5; i++) {
      a->prev[i] = adjacent ? a->cur[i] : 0;
      a->cur[i] = 0;
    }
    a->lo = 1;
    while (a->lo <= t / 2) a->lo *= 2;
  }
  double u = (double)t;
  a->cur[0] += 1;
  a->cur[1] += u;
  a->cur[2] += s;
  a->cur[3] += u * u;
  a->cur[4] += u * s;
}

/* The rate of a run that ended with |x - x*|^2 = dlast: a run that
 * reached x* exactly before two samples were taken has rate 0.  (Read at
 * the end, not kept in the sums: a field more there slows the vectorised
 * loop that measures the loss alone by a fifth.) */
static inline double ms_rate_value(const ms_rate_acc *a, double dlast) {
  double m[5];
  for (int i = 0; i < 5; i++) m[i] = a->prev[i] + a->cur[i];
  double den = m[0] * m[3] - m[1] * m[1];
  if (m[0] < 2 || !(den > 0)) return dlast == 0 ? 0 : NAN;
  return exp((m[0] * m[4] - m[1] * m[2]) / den);
}

/* After step t, with d = |x_t - x*|^2 and f = f(x_t), each NaN when not
 * needed: returns 1 when the run has converged to the floor. */
static inline int ms_probe_step(ms_probe *p, ms_rate_acc *rate,
                                const ms_sweep_plan *plan, int64_t t,
                                double d, double f) {
  if (plan->measures & MS_MEASURE_STEPS && isnan(p->hit) &&
      f - plan->fstar <= plan->tol)
    p->hit = (double)t;
  double z2 = d + p->dprev;
  if (plan->measures & MS_MEASURE_RATE) ms_rate_add(rate, t, z2);
  p->dprev = d;
  return t % MS_SWEEP_BLOCK == 0 && z2 < MS_SWEEP_FLOOR;
}

/* The steps at which ms_probe_step needs d, NaN at the others: every step
 * for the rate, else the checks and the steps just before them. */
static inline int ms_probe_wants_d(const ms_sweep_plan *plan, int64_t t) {
  int64_t r = t % MS_SWEEP_BLOCK;
  return plan->xstar != NULL && (plan->measures & MS_MEASURE_RATE || r == 0 ||
                                 r == MS_SWEEP_BLOCK - 1);
}

/* Polled every block: nonzero stops the run (interrupt, or another thread
 * failed). */
typedef int (*ms_sweep_stop_fn)(void *ctx);

/* --------------------------------------------- the threads (sweep_pool.c)
 * Threads take work units from a counter of the caller's until none is
 * left; the calling thread watches: it passes Ctrl-C (ms_interrupt) and
 * failures on as a stop flag that the runs poll, and reports progress.
 * Workers block all signals, so that handlers run on the calling thread. */

typedef struct ms_pool {
  ms_progress_fn progress;  /* may be NULL */
  void *progress_ctx;
  int64_t due;              /* points to run, for progress */
  atomic_llong done;        /* points finished */
  atomic_int stop;          /* the runs stop at their next poll */
  pthread_mutex_t lock;     /* guards active, st and msg */
  pthread_cond_t cond;
  int active;               /* workers still running */
  ms_status st;             /* the first failure */
  char msg[512];            /* and its message */
  double start, reported;   /* on ms_now's clock */
  double seconds;           /* wall time of ms_pool_run */
} ms_pool;

/* Each thread's work: take units until none is left or the pool stops,
 * polling stop(pool) (ms_pool_stop_caller on the calling thread,
 * ms_pool_stop_worker on the others), and adding finished points to
 * done; a failure goes to ms_pool_fail. */
typedef void (*ms_pool_work_fn)(void *ctx, ms_pool *pool,
                                ms_sweep_stop_fn stop);

void ms_pool_init(ms_pool *p, ms_progress_fn progress, void *progress_ctx,
                  int64_t due);
void ms_pool_destroy(ms_pool *p);
/* The threads a run may use: wanted, or one per online CPU when it is 0,
 * and no more than 4 per online CPU (more only share the CPUs). */
int ms_pool_threads(int wanted);
/* Clear the interrupt flag, run work on threads workers (on the calling
 * thread alone when threads is 1 or none could start), report the end
 * (when nothing failed), and return the threads that ran it.  p->st is
 * the first failure, with its message in p->msg. */
int ms_pool_run(ms_pool *p, int threads, ms_pool_work_fn work, void *ctx);
/* Record the failure just reported by ms_fail (the first one wins) and
 * stop everyone. */
void ms_pool_fail(ms_pool *p, ms_status st);
int ms_pool_stop_worker(void *pool);
int ms_pool_stop_caller(void *pool);

/* ------------------------------------- the SIMD kernels (sweep_kernel.c) */

/* The lanes of a work unit, structure of arrays, 64-byte aligned, their
 * count a multiple of MS_KERNEL_PAD (a lane past the last point is all
 * zeros, with thr = Inf, as a retired one). */
enum { MS_KERNEL_PAD = 64 };
typedef struct ms_lanes {
  double *x, *v;                      /* the state */
  double *lam, *beta, *neta, *scale;  /* a step's constants */
  double *thr;     /* |x| and |v| above it: watch the point; Inf: retired */
  double *x0, *v0; /* the state at the start of the block */
  double *xmark;   /* x after step mark */
} ms_lanes;

/* Flags of a tile after a block: some lane has |x| or |v| above thr (or a
 * NaN); some group of live lanes (see ms_kernel_fn) has |x| <=
 * MS_KERNEL_TINY after step mark and after the last step in every lane
 * (its run may have converged: |x_t|^2 + |x_{t-1}|^2 < 1e-280 needs both
 * in every coordinate, with room for rounding). */
enum { MS_KERNEL_OUT = 1, MS_KERNEL_SMALL = 2 };
#define MS_KERNEL_TINY 1.000001e-140

/* Advance lanes [0, m) (m a multiple of the tile) by steps steps, tile by
 * tile; store x after step mark (1 .. steps; 0: none) in xmark, and, when
 * save, x and v before the first step in x0 and v0.  The flags of tile j
 * go to flags[j]; returns them or'ed together.  group, a power of 2,
 * divides the lanes of a point: the lanes of group k ... k + group - 1
 * (k a multiple of group) belong to one point. */
typedef unsigned (*ms_kernel_fn)(const ms_lanes *L, size_t m, int steps,
                                 int mark, int save, int group,
                                 unsigned char *flags);

enum { MS_KERNEL_SSE2, MS_KERNEL_AVX2, MS_KERNEL_AVX512 };
typedef struct ms_kernel {
  const char *name;    /* "sse2", "avx2", "avx512" */
  size_t tile;         /* lanes in a tile: divides MS_KERNEL_PAD */
  ms_kernel_fn run[4]; /* [2 scaled + nesterov] */
} ms_kernel;

/* The level the sweeps use: that of the engine's level (simd.h's
 * ms_simd_level, which MS_SIMD or ms_simd_set_level can narrow). */
int ms_kernel_level(void);
/* The kernel of a level, or of the widest this machine runs when it runs
 * no wider. */
const ms_kernel *ms_kernel_get(int level);

/* ------------------------------------------------- the vectorised loop */

/* A run of the vectorised loop: v <- beta v + g, then x <- x - eta v
 * (heavy ball) or x <- x - eta (g + beta v) (Nesterov), g = scale lambda x,
 * from x0 on f = scale sum lambda_i x_i^2 / 2, whose minimiser is 0. */
typedef struct ms_fast_setup {
  ms_objective *obj;   /* its f, built-in (it runs on any thread) */
  size_t n;
  const double *lambda, *x0;
  int nesterov;
  int scaled;      /* 0: every scale is 1 (no multiplication at all) */
  const ms_sweep_plan *plan;
  const ms_kernel *kernel;
} ms_fast_setup;

typedef struct ms_fast_work ms_fast_work;

/* Workspace for up to points runs at once (of ms_fast_work_bytes). */
ms_fast_work *ms_fast_work_new(const ms_fast_setup *fs, size_t points);
size_t ms_fast_work_bytes(size_t n, size_t points);
void ms_fast_work_free(ms_fast_work *w);
/* Run count points, point k with beta[k], eta[k] and scale[k] (NULL when
 * not scaled), into res[0 .. count). */
ms_status ms_fast_run(const ms_fast_setup *fs, ms_fast_work *w,
                      const double *beta, const double *eta,
                      const double *scale, size_t count,
                      ms_sweep_result *res, ms_sweep_stop_fn stop,
                      void *stop_ctx);

/* Refuse (MS_ERANGE, with the sizes) a run of points results whose
 * threads would each take per_thread bytes of work space, when all of it
 * would not fit in half of the machine's memory. */
ms_status ms_sweep_check_memory(double points, int threads, double per_thread);

#endif
