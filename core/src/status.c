/*
 * status.c -- status codes, the per-thread detail message, version.
 */
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static _Thread_local char last_error[512];
static volatile sig_atomic_t interrupt_requested;

int ms_abi_version(void) { return MS_ABI_VERSION; }

const char *ms_version(void) { return "0.1.0"; }

const char *ms_strerror(ms_status status) {
  switch (status) {
    case MS_OK: return "success";
    case MS_ENOMEM: return "out of memory";
    case MS_EINVAL: return "invalid argument";
    case MS_ESIZE: return "size mismatch";
    case MS_ERANGE: return "request too large";
    case MS_ECALLBACK: return "callback failed";
    case MS_EIO: return "input/output error";
    case MS_EPARSE: return "malformed data";
    case MS_ENONFINITE: return "non-finite value";
    case MS_EINTR: return "interrupted";
  }
  return "unknown status";
}

const char *ms_last_error(void) { return last_error; }

ms_status ms_fail(ms_status status, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(last_error, sizeof last_error, fmt, ap);
  va_end(ap);
  return status;
}

ms_status ms_null(const char *fn, const char *arg) {
  return ms_fail(MS_EINVAL, "%s: %s is NULL", fn, arg);
}

void *ms_calloc(size_t count, size_t size) {
  if (size != 0 && count > SIZE_MAX / size) return NULL;
  return calloc(count ? count : 1, size ? size : 1);
}

void ms_format_double(char *buf, size_t size, double x) {
  /* Formatted whole first: a number cut to fit would read back as another
   * number, so one that does not fit gives "" instead. */
  char tmp[32];
  if (isnan(x)) {   /* "nan" whatever its sign bit */
    snprintf(tmp, sizeof tmp, "nan");
  } else {
    for (int prec = 15; prec <= 17; prec++) {
      snprintf(tmp, sizeof tmp, "%.*g", prec, x);
      if (strtod(tmp, NULL) == x) break;
    }
  }
  if (buf == NULL || size == 0) return;
  size_t len = strlen(tmp);
  if (len >= size) len = 0;
  memcpy(buf, tmp, len);
  buf[len] = 0;
}

void ms_interrupt(void) { interrupt_requested = 1; }

void ms_interrupt_clear(void) { interrupt_requested = 0; }

ms_status ms_interrupted(void) {
  ms_sigint_arm();
  return interrupt_requested ? ms_fail(MS_EINTR, "interrupted") : MS_OK;
}
