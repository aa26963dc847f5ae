/*
 * status.c -- status codes and the per-thread detail message of the last
 * failure (ms_fail, ms_last_error), and the version they belong to.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"

static _Thread_local char last_error[512];

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
