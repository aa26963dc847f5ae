/*
 * clock.c -- the engine's one clock.  Every time the engine measures
 * (training's timer, a sweep's seconds, the pace of progress reports) and
 * the clock it offers hosts (ms_clock) is this monotonic clock: the times
 * of a run compare with each other whatever the wall clock does meanwhile.
 * The timed waits of a sweep's calling thread run on it too.
 */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <time.h>

#include "internal.h"

double ms_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int ms_cond_init(pthread_cond_t *cond) {
  pthread_condattr_t attr;
  int err = pthread_condattr_init(&attr);
  if (err != 0) return err;
  err = pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
  if (err == 0) err = pthread_cond_init(cond, &attr);
  pthread_condattr_destroy(&attr);
  return err;
}

int ms_cond_wait_for(pthread_cond_t *cond, pthread_mutex_t *lock,
                     double seconds) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  ts.tv_nsec += (long)(seconds * 1e9);
  ts.tv_sec += ts.tv_nsec / 1000000000;
  ts.tv_nsec %= 1000000000;
  return pthread_cond_timedwait(cond, lock, &ts);
}
