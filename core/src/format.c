/*
 * format.c -- numbers as text: the shortest decimal form of a double that
 * reads back as the same double, for CSV files, messages and labels.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

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
