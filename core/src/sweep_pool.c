/*
 * sweep_pool.c -- the threads that share the runs of a sweep.
 *
 * Threads take work units -- a point of the general loop, a few hundred
 * lanes of the vectorised one -- from a shared counter until none is
 * left; each run depends on its parameters alone, so the results do not
 * depend on who ran them.  The calling thread watches: it passes Ctrl-C
 * (ms_interrupt) and failures on as a stop flag that the workers poll
 * every 32 steps, and reports progress.  Workers block all signals, so
 * that handlers run on the calling thread.  What a unit is and how it
 * runs is sweep.c's; this file knows threads only.
 */
#define _DEFAULT_SOURCE
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sweep.h"

static const double progress_every = 0.1;      /* seconds */
/* Threads a run may use per online CPU: more only share the CPUs, with
 * their own buffers. */
enum { max_threads_per_cpu = 4 };

void ms_pool_init(ms_pool *p, ms_progress_fn progress, void *progress_ctx,
                  int64_t due) {
  memset(p, 0, sizeof *p);
  p->progress = progress;
  p->progress_ctx = progress_ctx;
  p->due = due;
  atomic_init(&p->done, 0);
  atomic_init(&p->stop, 0);
  pthread_mutex_init(&p->lock, NULL);
  ms_cond_init(&p->cond);
}

void ms_pool_destroy(ms_pool *p) {
  pthread_cond_destroy(&p->cond);
  pthread_mutex_destroy(&p->lock);
}

void ms_pool_fail(ms_pool *p, ms_status st) {
  pthread_mutex_lock(&p->lock);
  if (p->st == MS_OK) {
    p->st = st;
    snprintf(p->msg, sizeof p->msg, "%s", ms_last_error());
  }
  pthread_mutex_unlock(&p->lock);
  atomic_store(&p->stop, 1);
}

/* On the calling thread: progress, at most every 0.1 s unless final. */
static void report(ms_pool *p, int final) {
  double t = ms_now();
  if (p->progress == NULL || (!final && t - p->reported < progress_every))
    return;
  p->reported = t;
  ms_status st = p->progress(p->progress_ctx, atomic_load(&p->done), p->due,
                             t - p->start);
  if (st != MS_OK) ms_pool_fail(p, st);
}

int ms_pool_stop_worker(void *pool) {
  return atomic_load_explicit(&((ms_pool *)pool)->stop, memory_order_relaxed);
}

int ms_pool_stop_caller(void *pool) {
  ms_pool *p = pool;
  ms_status st = ms_interrupted();
  if (st != MS_OK) ms_pool_fail(p, st);
  report(p, 0);
  return atomic_load(&p->stop);
}

/* What a worker thread runs. */
typedef struct worker_arg {
  ms_pool *pool;
  ms_pool_work_fn work;
  void *ctx;
} worker_arg;

static void *worker(void *arg) {
  const worker_arg *w = arg;
  ms_pool *p = w->pool;
  w->work(w->ctx, p, ms_pool_stop_worker);
  pthread_mutex_lock(&p->lock);
  p->active--;
  pthread_cond_signal(&p->cond);
  pthread_mutex_unlock(&p->lock);
  return NULL;
}

/* Start nthreads workers (with every signal blocked) and watch them. */
static int run_threads(worker_arg *w, int nthreads) {
  ms_pool *p = w->pool;
  pthread_t *tid = ms_calloc((size_t)nthreads, sizeof *tid);
  if (tid == NULL) return 0;
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int started = 0;
  pthread_mutex_lock(&p->lock);
  for (; started < nthreads; started++) {
    if (pthread_create(&tid[started], NULL, worker, w) != 0) break;
    p->active++;
  }
  pthread_mutex_unlock(&p->lock);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  pthread_mutex_lock(&p->lock);
  while (p->active > 0) {
    ms_cond_wait_for(&p->cond, &p->lock, progress_every);
    pthread_mutex_unlock(&p->lock);
    ms_status st = ms_interrupted();
    if (st != MS_OK) ms_pool_fail(p, st);
    report(p, 0);
    pthread_mutex_lock(&p->lock);
  }
  pthread_mutex_unlock(&p->lock);
  for (int k = 0; k < started; k++) pthread_join(tid[k], NULL);
  free(tid);
  return started;
}

int ms_pool_threads(int wanted) {
  long n = sysconf(_SC_NPROCESSORS_ONLN);
  int cpus = n >= 1 && n <= 1024 ? (int)n : 1;
  int threads = wanted ? wanted : cpus;
  return threads > max_threads_per_cpu * cpus ? max_threads_per_cpu * cpus
                                              : threads;
}

int ms_pool_run(ms_pool *p, int threads, ms_pool_work_fn work, void *ctx) {
  worker_arg w = {.pool = p, .work = work, .ctx = ctx};
  p->start = p->reported = ms_now();
  int ran = threads > 1 ? run_threads(&w, threads) : 0;
  if (ran == 0) {
    ran = 1;
    work(ctx, p, ms_pool_stop_caller);
  }
  if (p->st == MS_OK) report(p, 1);
  p->seconds = ms_now() - p->start;
  return ran;
}
