/*
 * interrupt.c -- the flag that asks running loops to stop (MS_EINTR).
 *
 * One flag for the process, set by ms_interrupt from anywhere (a signal
 * handler too: a sig_atomic_t store is all it does) and polled by the
 * loops every few thousand coordinate updates.  The loops never clear it:
 * a Ctrl-C that comes while a binding still checks its arguments must
 * stop the call it leads to.  Whoever asked clears it once the request
 * has been served: the outermost ms_sigint_end, a host's own handler
 * (the momsandbox CLI's, when its hook has stopped the Lua code).
 * Polling also lets sigint.c put its SIGINT handler in place for a host
 * that asked for it, at the first poll of a call rather than at every
 * call (see sigint.c).
 */
#include <signal.h>

#include "internal.h"

static volatile sig_atomic_t interrupt_requested;

void ms_interrupt(void) { interrupt_requested = 1; }

void ms_interrupt_clear(void) { interrupt_requested = 0; }

ms_status ms_interrupted(void) {
  ms_sigint_arm();
  return interrupt_requested ? ms_fail(MS_EINTR, "interrupted") : MS_OK;
}
