/*
 * check.h -- the few assertions the core's unit tests need.  A failed
 * check prints file:line and the expression and marks the test failed;
 * the test goes on, so one run shows every failure.
 */
#ifndef MS_CHECK_H
#define MS_CHECK_H

#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_failures;

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__,   \
              #cond);                                                    \
      check_failures++;                                                  \
    }                                                                    \
  } while (0)

/* |a - b| <= tol, printing both values when it is not. */
#define CHECK_NEAR(a, b, tol)                                            \
  do {                                                                   \
    double a_ = (a), b_ = (b);                                           \
    if (!(fabs(a_ - b_) <= (tol))) {                                     \
      fprintf(stderr, "%s:%d: %s = %.17g, expected %.17g (tol %g)\n",     \
              __FILE__, __LINE__, #a, a_, b_, (double)(tol));            \
      check_failures++;                                                  \
    }                                                                    \
  } while (0)

/* Exactly equal doubles (same value; -0 == 0). */
#define CHECK_EQ(a, b) CHECK_NEAR(a, b, 0.0)

#define CHECK_STATUS(call, expected)                                     \
  do {                                                                   \
    ms_status st_ = (call);                                              \
    if (st_ != (expected)) {                                             \
      fprintf(stderr, "%s:%d: %s returned %s (%s), expected %s\n",        \
              __FILE__, __LINE__, #call, ms_strerror(st_),               \
              ms_last_error(), ms_strerror(expected));                   \
      check_failures++;                                                  \
    }                                                                    \
  } while (0)

#define CHECK_OK(call) CHECK_STATUS(call, MS_OK)

/* The detail message of the last failure contains text. */
#define CHECK_ERROR_HAS(text) CHECK(strstr(ms_last_error(), (text)) != NULL)

static int check_report(const char *name) {
  if (check_failures) fprintf(stderr, "%s: %d failed\n", name, check_failures);
  else printf("%s: ok\n", name);
  return check_failures != 0;
}

#endif
