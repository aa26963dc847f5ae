/*
 * fuzz_data.c -- libFuzzer harness for the data parser (ms_data_parse).
 *
 * The first byte of an input picks the options (header, standardise, the
 * label column, rows); the rest is the text.  Besides what AddressSanitizer
 * and UBSan catch, every outcome must keep the parser's promises: a failure
 * leaves no data set and says why; a success holds finite numbers only and,
 * when standardised, a positive finite scale for every column.
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -Icore/include \
 *     -Icore/src core/tests/fuzz_data.c core/src/{data,status,mem,vec,rng}.c \
 *     -lm -o fuzz_data
 *   ./fuzz_data -dict=core/tests/fuzz/data.dict corpus core/tests/fuzz/seeds
 *
 * (cmake builds it as build/fuzz_data when clang has libFuzzer; ctest runs
 * it briefly as fuzz.data; docs/fuzzing.md records longer runs.)
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "momsandbox.h"

#define REQUIRE(cond) \
  do {                \
    if (!(cond)) abort(); \
  } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *bytes, size_t size) {
  if (size == 0) return 0;
  unsigned f = bytes[0];
  ms_data_opts o;
  ms_data_opts_init(&o);
  o.header = f & 1;
  o.standardize = (f >> 1) & 1;
  static const int64_t labels[4] = {-1, 1, 2, -2};
  o.label = labels[(f >> 2) & 3];
  o.rows = (f >> 4) & 3;                       /* 0 (all) to 3 */
  if (o.header && (f & 0x40)) o.label_name = "y";
  ms_data *d = (ms_data *)&o;                  /* must become NULL on failure */
  ms_status st = ms_data_parse((const char *)bytes + 1, size - 1, "fuzz", &o, &d);
  if (st != MS_OK) {
    REQUIRE(d == NULL);
    REQUIRE(ms_last_error()[0] != '\0');
    return 0;
  }
  size_t n = ms_data_len(d), k = ms_data_features(d);
  REQUIRE(n >= 1 && k >= 1);
  REQUIRE(o.rows == 0 || n == (size_t)o.rows);
  for (size_t i = 0; i < n; i++) {
    const double *x = ms_data_row(d, i);
    for (size_t j = 0; j < k; j++) REQUIRE(isfinite(x[j]));
    REQUIRE(isfinite(ms_data_label(d, i)));
  }
  double mean, std;
  for (size_t j = 0; j <= k; j++) {
    int scaled = ms_data_scaling(d, j, &mean, &std);
    REQUIRE(scaled == o.standardize);
    REQUIRE(!scaled || (isfinite(mean) && isfinite(std) && std > 0));
    REQUIRE((ms_data_name(d, j) != NULL) == o.header);
  }
  ms_data_free(d);
  return 0;
}
