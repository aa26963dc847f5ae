/*
 * momsandbox_pull.h -- the engine's loops run by a binding in its own
 * language: the functions that let a loop written elsewhere do what the
 * engine's loops do, so that it gives the same results.  LuaJIT's binding
 * runs ms_trace_run's loop in Lua (bindings/ffi/momsandbox/ffi_trace.lua)
 * and *pulls* from the engine what the engine's loop would compute, so
 * that LuaJIT compiles the loop together with the objectives, rules and
 * schedules written in Lua instead of being called back from C.
 *
 * The rules of momsandbox.h hold here too: plain C declarations that
 * LuaJIT's ffi.cdef accepts once the '#' lines are removed (declared
 * after momsandbox.h), statuses and ms_last_error() for failures.
 */
#ifndef MOMSANDBOX_PULL_H
#define MOMSANDBOX_PULL_H

#include <stddef.h>
#include <stdint.h>

#include "momsandbox.h"

/* ------------------------------------------------------------- interrupts
 * As the engine's loops do: poll every few thousand steps (MS_EINTR with
 * the detail "interrupted" once ms_interrupt was called).  Clear the flag
 * when the request has been served, never when a loop starts: a request
 * made just before must stop it.                                          */

void ms_interrupt_clear(void);
ms_status ms_interrupted(void);

/* -------------------------------------------------------------- schedules */

/* For a loop that evaluates a callback schedule's function itself: the
 * value at step t, which the next ms_schedule_value for step t returns
 * without calling back.  MS_EINVAL for a schedule that is not a
 * callback. */
ms_status ms_schedule_supply(ms_schedule *s, int64_t t, double value);

/* ------------------------------------------------------------------ rules */

/* For a loop that runs a class's lookahead or step itself rather than
 * through its function pointer.  Each does for the rule's next step what
 * ms_rule_lookahead or ms_rule_step does around the class's function --
 * the state made ready for dimension n, the hyper-parameters in effect
 * evaluated and checked; begin_step also counts the step -- and gives the
 * step's number t and the values h (the state vectors are
 * ms_rule_state's). */
ms_status ms_rule_begin_lookahead(ms_rule *rule, size_t n, int64_t *t,
                                  const double **h);
ms_status ms_rule_begin_step(ms_rule *rule, size_t n, int64_t *t,
                             const double **h);

/* ------------------------------------------------------------- objectives
 * For a loop that evaluates the objective itself: what ms_trace_run says
 * of its run before it starts, the evaluations planned (a trace of `steps`:
 * steps + 1).  A compiled expression becomes machine code once the
 * evaluations planned over all its runs pay for the compile (see
 * core/src/expr_native.c; the same numbers, sooner); any other objective
 * ignores it.  MS_EINVAL for a NULL objective, or a MOMSANDBOX_NATIVE that
 * is neither on nor off. */
ms_status ms_objective_plan(const ms_objective *obj, double evaluations);

/* ----------------------------------------------------------------- traces */

/* A trace filled by a loop of the caller's own.  ms_trace_new: an empty
 * trace with room for the points ms_trace_run records with opts (checked
 * as ms_trace_check checks them).  ms_trace_record: the next point, x_0
 * first -- whose f must be finite (MS_ENONFINITE) -- then one per recorded
 * step.  ms_trace_diverge: the run stopped at step t because `what` ("x",
 * "gradient" or "f"), n numbers at v, holds one that is not finite. */
ms_status ms_trace_new(size_t n, const ms_trace_opts *opts, ms_trace **out);
ms_status ms_trace_record(ms_trace *tr, const double *x, double f);
void ms_trace_diverge(ms_trace *tr, int64_t t, const char *what,
                      const double *v, size_t n);

#endif
