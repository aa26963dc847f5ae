/*
 * trace.h -- a trace's insides, shared by the general loop (trace.c) and
 * the fused one (trace_fused.c); not installed.
 */
#ifndef MS_TRACE_H
#define MS_TRACE_H

#include "internal.h"

/* Coordinates updated between looks at ms_interrupted: a poll every 4096
 * steps at d = 2, every step from d = 8192 on. */
enum { MS_TRACE_POLL_COORDS = 8192 };

struct ms_trace {
  size_t n;          /* dimension */
  size_t len, cap;   /* recorded points, room for */
  int64_t every;     /* point i is step min(i * every, steps) */
  int64_t steps;
  double *x;         /* cap * n coordinates, then cap values of f */
  double *f;
  int64_t diverged;  /* step at which the run stopped, 0 if it did not */
  char reason[200];
  int in_mem;         /* in the caller's memory (ms_trace_run_in) */
};

/* The general loop: steps t0 + 1 .. t1 from x = x_t0 (points up to step
 * t0 recorded, the rule's state at step t0), calling the objective and the
 * rule through their interfaces; g holds the gradient at x when have_g, y
 * is room for a look-ahead point.  Stops early, with tr->diverged set, at
 * the first step where the gradient, x or a recorded f is not finite. */
ms_status ms_trace_steps(ms_trace *tr, ms_objective *obj, ms_rule *rule,
                         double *x, double *g, double *y, int have_g,
                         int64_t t0, int64_t t1);

/* The fused loop, steps 1 .. tr->steps from x = x_0 (recorded) when the
 * objective and the rule have one: 1 and its status in *st, else 0 and
 * nothing done.  g and y are the general loop's room (n each), for the
 * replay of a block where the run diverged. */
int ms_trace_fused(ms_trace *tr, ms_objective *obj, ms_rule *rule, double *x,
                   double *g, double *y, ms_status *st);

#endif
