/*
 * sigint.c -- Ctrl-C for the engine's long calls in any host.
 *
 * Interpreters stop Lua code on SIGINT with a hook, which the engine's C
 * loops never run (and LuaJIT's compiled loops never check).  While a
 * binding's call runs, a handler of ours stands in front of the host's:
 * it asks the loops to stop (ms_interrupt), and the host's handler still
 * runs, so that lua, luajit and the momsandbox CLI each keep their own
 * "interrupted!" and their "a second Ctrl-C kills".
 *
 * When it runs depends on the host.  The Lua C API calls back into Lua
 * under lua_pcall, which catches the error a hook raises: the host's
 * handler runs at once, and stops Lua callbacks too.  LuaJIT's FFI
 * callbacks must never raise, and a hook raises at whatever Lua
 * instruction comes next: there the host's handler runs when the call has
 * ended (defer), and our handler is in place from the start.  Otherwise
 * it goes in at the call's first poll of ms_interrupted: two system calls
 * cost more than a short trace, and a call that never polls ends soon.
 */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>

#include "internal.h"

enum { IDLE, WANTED, ARMED };

static struct sigaction host;     /* the handler in place before ours */
static int depth;                 /* nesting of begin/end */
static int defer;                 /* the outermost begin's choice */
static volatile sig_atomic_t owed;   /* a SIGINT the host has yet to see */
static atomic_int state = IDLE;   /* polled by sweep threads too */

static int host_has_function(void) {
  return (host.sa_flags & SA_SIGINFO) ||
         (host.sa_handler != SIG_DFL && host.sa_handler != SIG_IGN);
}

static void on_sigint(int sig, siginfo_t *info, void *context) {
  ms_interrupt();
  if (host_has_function() && !defer) {
    if (host.sa_flags & SA_SIGINFO)
      host.sa_sigaction(sig, info, context);
    else
      host.sa_handler(sig);
    return;
  }
  owed = host_has_function();
  struct sigaction dfl;   /* a second Ctrl-C ends the process */
  dfl.sa_handler = SIG_DFL;
  dfl.sa_flags = 0;
  sigemptyset(&dfl.sa_mask);
  sigaction(sig, &dfl, NULL);
}

void ms_sigint_arm(void) {
  int wanted = WANTED;
  if (!atomic_compare_exchange_strong(&state, &wanted, ARMED)) return;
  /* host is complete before a signal can reach on_sigint. */
  sigaction(SIGINT, NULL, &host);
  if (!(host.sa_flags & SA_SIGINFO) && host.sa_handler == SIG_IGN)
    return;   /* an ignored SIGINT (a background job) stays ignored */
  struct sigaction sa = host;
  sa.sa_flags = (host.sa_flags & SA_RESTART) | SA_SIGINFO;
  sa.sa_sigaction = on_sigint;
  sigaction(SIGINT, &sa, NULL);
}

void ms_sigint_begin(int defer_host) {
  if (depth++ > 0) return;
  defer = defer_host;
  owed = 0;
  atomic_store(&state, WANTED);
  if (defer) ms_sigint_arm();
}

void ms_sigint_end(void) {
  if (depth == 0 || --depth > 0) return;
  ms_interrupt_clear();   /* served: the call stopped, or ended first */
  if (atomic_exchange(&state, IDLE) != ARMED) return;
  if (owed) {   /* the host's turn, now that no callback can see it */
    owed = 0;
    sigaction(SIGINT, &host, NULL);
    raise(SIGINT);
    return;
  }
  /* If the host's handler replaced ours when it ran (lua's sets SIG_DFL
   * for the second Ctrl-C), its choice stands. */
  struct sigaction now;
  sigaction(SIGINT, NULL, &now);
  if ((now.sa_flags & SA_SIGINFO) && now.sa_sigaction == on_sigint)
    sigaction(SIGINT, &host, NULL);
}
