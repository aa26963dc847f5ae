/* test_sigint.c -- Ctrl-C for the engine's loops: the handler that
 * ms_sigint_begin puts in front of the host's (at the first poll, or at
 * once when the host's must wait), what it passes on and when, what it
 * leaves behind, and how often the trace loop polls. */
#define _POSIX_C_SOURCE 200809L
#include <signal.h>
#include <stdlib.h>

#include "check.h"
#include "momsandbox.h"
#include "momsandbox_host.h"
#include "momsandbox_pull.h"

static volatile sig_atomic_t host_calls;
static void host_handler(int sig) {
  (void)sig;
  host_calls++;
}

static void set_handler(void (*handler)(int)) {
  struct sigaction sa;
  sa.sa_handler = handler;
  sa.sa_flags = 0;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGINT, &sa, NULL);
}

/* The plain handler now installed (NULL for one with SA_SIGINFO: ours). */
static void (*current(void))(int) {
  struct sigaction sa;
  sigaction(SIGINT, NULL, &sa);
  return (sa.sa_flags & SA_SIGINFO) ? NULL : sa.sa_handler;
}

/* Nothing changes before the first poll; from it on SIGINT interrupts the
 * loops and still reaches the host's handler; the host's comes back. */
static void test_chains_to_the_host(void) {
  set_handler(host_handler);
  host_calls = 0;
  ms_interrupt_clear();
  ms_sigint_begin(0);
  CHECK(current() == host_handler);   /* short calls make no system calls */
  CHECK_OK(ms_interrupted());
  CHECK(current() == NULL);
  raise(SIGINT);
  CHECK(host_calls == 1);
  CHECK_STATUS(ms_interrupted(), MS_EINTR);
  CHECK(strcmp(ms_last_error(), "interrupted") == 0);
  ms_sigint_end();
  CHECK(current() == host_handler);
  ms_interrupt_clear();
  CHECK_OK(ms_interrupted());   /* outside begin/end: no handler of ours */
  CHECK(current() == host_handler);
}

/* With the default action before, the first Ctrl-C stops the loops and
 * the second would end the process, as without momsandbox. */
static void test_default_action(void) {
  set_handler(SIG_DFL);
  ms_interrupt_clear();
  ms_sigint_begin(0);
  CHECK_OK(ms_interrupted());
  raise(SIGINT);
  CHECK_STATUS(ms_interrupted(), MS_EINTR);
  CHECK(current() == SIG_DFL);
  ms_sigint_end();
  CHECK(current() == SIG_DFL);
  ms_interrupt_clear();
}

/* Deferred: ours is in place before any poll, and the host's handler
 * runs when the call ends, not while it runs. */
static void test_deferred(void) {
  set_handler(host_handler);
  host_calls = 0;
  ms_interrupt_clear();
  ms_sigint_begin(1);
  CHECK(current() == NULL);
  raise(SIGINT);
  CHECK(host_calls == 0);
  CHECK_STATUS(ms_interrupted(), MS_EINTR);
  CHECK(current() == SIG_DFL);   /* a second Ctrl-C would end the process */
  ms_sigint_end();
  CHECK(host_calls == 1);
  CHECK(current() == host_handler);
  /* no Ctrl-C: nothing owed */
  ms_interrupt_clear();
  ms_sigint_begin(1);
  ms_sigint_end();
  CHECK(host_calls == 1 && current() == host_handler);
  /* with the default action before, the call just fails: nothing to owe */
  set_handler(SIG_DFL);
  ms_sigint_begin(1);
  raise(SIGINT);
  CHECK_STATUS(ms_interrupted(), MS_EINTR);
  ms_sigint_end();
  CHECK(current() == SIG_DFL);
  ms_interrupt_clear();
}

/* A background job's ignored SIGINT stays ignored. */
static void test_ignored(void) {
  set_handler(SIG_IGN);
  ms_interrupt_clear();
  ms_sigint_begin(0);
  CHECK_OK(ms_interrupted());
  CHECK(current() == SIG_IGN);
  raise(SIGINT);
  CHECK_OK(ms_interrupted());
  ms_sigint_end();
  CHECK(current() == SIG_IGN);
}

/* Pairs nest: the host's handler returns with the outermost end; an end
 * without a begin does nothing. */
static void test_nesting(void) {
  set_handler(host_handler);
  ms_sigint_end();
  CHECK(current() == host_handler);
  ms_sigint_begin(0);
  ms_sigint_begin(0);
  CHECK_OK(ms_interrupted());
  ms_sigint_end();
  CHECK(current() == NULL);
  ms_sigint_end();
  CHECK(current() == host_handler);
  set_handler(SIG_DFL);
}

/* f = 1/2 |x|^2, and a Ctrl-C at the evaluation *ctx counts down to. */
static ms_status interrupting(void *ctx, const double *x, size_t n,
                              double *f, double *grad) {
  int *left = ctx;
  if (--*left == 0) ms_interrupt();
  if (f != NULL) *f = 0.5 * ms_vec_dot(x, x, n);
  if (grad != NULL) ms_vec_copy(grad, x, n);
  return MS_OK;
}

/* The trace loop polls by the coordinates it updates: every step at
 * d = 8192, so a large problem stops after the step it was asked in. */
static void test_trace_polls_by_work(void) {
  enum { N = 8192 };
  double *x0 = calloc(N, sizeof *x0);
  int left = 3;   /* an evaluation a few steps in */
  ms_objective *f = NULL;
  ms_rule *gd = NULL;
  ms_trace *tr = NULL;
  CHECK_OK(ms_objective_new(N, interrupting, 1, &left, NULL, &f));
  CHECK_OK(ms_rule_new(ms_rule_class_find("gd"), &gd));
  CHECK_OK(ms_rule_set(gd, "lr", 0.1));
  ms_trace_opts o;
  ms_trace_opts_init(&o);
  o.steps = o.every = 1000;
  CHECK_STATUS(ms_trace_run(f, gd, x0, N, &o, &tr), MS_EINTR);
  CHECK(tr == NULL && left == 0);   /* no evaluation after it */
  left = 0;   /* never again */
  o.steps = 4;
  /* no run clears the flag: a request made just before a run stops it */
  CHECK_STATUS(ms_trace_run(f, gd, x0, N, &o, &tr), MS_EINTR);
  ms_interrupt_clear();
  CHECK_OK(ms_trace_run(f, gd, x0, N, &o, &tr));
  ms_trace_free(tr);
  ms_rule_free(gd);
  ms_objective_free(f);
  free(x0);
}

int main(void) {
  test_chains_to_the_host();
  test_default_action();
  test_deferred();
  test_ignored();
  test_nesting();
  test_trace_polls_by_work();
  return check_report("test_sigint");
}
