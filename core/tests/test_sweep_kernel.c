/* test_sweep_kernel.c -- the SIMD kernels of the vectorised sweep loop
 * (sweep_kernel.c): at every level this machine runs (SSE2, AVX2,
 * AVX-512, forced one after the other), the results are those of the
 * general loop bit for bit, over grids of (lr, beta) with runs that
 * converge to the floor, diverge (f first, or x), or neither; with 1 to 5
 * coordinates (lane counts that fill no tile), point counts that leave a
 * partial tile, scales, Nesterov's form, every measure, and starts so far
 * out that f could overflow from the first block on. */
#include <stdlib.h>

#include "check.h"
#include "simd.h"    /* ms_simd_set_level */
#include "sweep.h"   /* ms_kernel_level, ms_kernel_get */

static const double lambda[5] = {0.2, 4, 1, 0.05, 2.5};

/* Runs that diverged, converged to the floor, and neither. */
static int64_t seen[3];

/* s run by the general loop, then by the vectorised one at every level:
 * the same results, bit for bit. */
static void check_levels(ms_sweep *s, int64_t steps, int measures) {
  ms_sweep_opts o;
  ms_sweep_opts_init(&o);
  o.steps = steps;
  o.measures = measures;
  o.tol = 1e-9;
  o.threads = 2;
  o.fast = 0;
  CHECK_OK(ms_sweep_run(s, &o));
  CHECK(!ms_sweep_was_fast(s));
  int64_t n = ms_sweep_count(s);
  ms_sweep_result *general = malloc((size_t)n * sizeof *general);
  memcpy(general, ms_sweep_results(s), (size_t)n * sizeof *general);
  for (int64_t i = 0; i < n; i++) {
    seen[0] += general[i].diverged > 0;
    seen[1] += general[i].loss == 0;
    seen[2] += general[i].diverged == 0 && general[i].loss != 0;
  }
  o.fast = 1;
  for (int level = MS_KERNEL_SSE2; level <= MS_KERNEL_AVX512; level++) {
    ms_simd_set_level(MS_SIMD_SSE2 + level);
    if (ms_kernel_level() != level) continue;   /* not on this machine */
    CHECK_OK(ms_sweep_run(s, &o));
    CHECK(ms_sweep_was_fast(s));
    const ms_sweep_result *fast = ms_sweep_results(s);
    for (int64_t i = 0; i < n; i++) {
      if (memcmp(&fast[i], &general[i], sizeof *fast) == 0) continue;
      fprintf(stderr, "%s, point %lld: loss %.17g/%.17g rate %.17g/%.17g "
                      "steps %g/%g diverged %lld/%lld\n",
              ms_kernel_get(level)->name, (long long)i, fast[i].loss,
              general[i].loss, fast[i].rate, general[i].rate, fast[i].steps,
              general[i].steps, (long long)fast[i].diverged,
              (long long)general[i].diverged);
      CHECK(0);
      break;
    }
  }
  ms_simd_set_level(-1);
  free(general);
}

/* momentum (or nesterov) in dimension n over lr x beta, points lr values
 * in [lo, hi], from x0 = start (1, -1, 1, ...). */
static void grid(const char *rule, size_t n, int64_t points, double lo,
                 double hi, double start, int scaled, int64_t steps,
                 int measures) {
  ms_objective *f;
  CHECK_OK(ms_objective_quadratic(lambda, n, &f));
  ms_rule *r;
  CHECK_OK(ms_rule_new(ms_rule_class_find(rule), &r));
  double x0[5];
  for (size_t i = 0; i < n; i++) x0[i] = i % 2 ? -start : start;
  ms_sweep *s;
  CHECK_OK(ms_sweep_new(f, r, x0, n, &s));
  CHECK_OK(ms_sweep_range(s, "lr", lo, hi, points, 0));
  double beta[] = {0.1, 0.5, 0.9};   /* (0, 1): nesterov's range too */
  CHECK_OK(ms_sweep_axis(s, strcmp(rule, "momentum") ? "momentum" : "beta",
                         beta, 3));
  if (scaled) {
    double scale[] = {0.5, 3};
    CHECK_OK(ms_sweep_axis(s, "scale", scale, 2));
  }
  check_levels(s, steps, measures);
  ms_sweep_free(s);
  ms_rule_free(r);
  ms_objective_free(f);
}

enum { LOSS = MS_MEASURE_LOSS,
       ALL = MS_MEASURE_LOSS | MS_MEASURE_RATE | MS_MEASURE_STEPS };

int main(void) {
  /* the levels: SSE2 always, and no level above the machine's */
  CHECK(strcmp(ms_kernel_get(MS_KERNEL_SSE2)->name, "sse2") == 0);
  ms_simd_set_level(MS_SIMD_SSE2);
  CHECK(ms_kernel_level() == MS_KERNEL_SSE2);
  ms_simd_set_level(MS_SIMD_SCALAR);
  CHECK(ms_kernel_level() == MS_KERNEL_SSE2);
  ms_simd_set_level(-1);
  int best = ms_kernel_level();
  CHECK(ms_kernel_get(best) == ms_kernel_get(MS_KERNEL_AVX512));
  for (int level = MS_KERNEL_SSE2; level <= best; level++)
    CHECK(MS_KERNEL_PAD % ms_kernel_get(level)->tile == 0);
  printf("kernels up to %s\n", ms_kernel_get(best)->name);

  for (size_t n = 1; n <= 5; n++) {
    const char *rule = n % 2 ? "nesterov" : "momentum";
    /* lr from converging fast (to the floor) to diverging within a block */
    grid(rule, n, 37, 0.02, 1.6, 1, n == 2, 700, LOSS);
    grid(rule, n, 11, 0.05, 1.2, 1, n == 3, 400, ALL);
    /* lengths that end inside a block */
    grid(rule, n, 13, 0.3, 0.9, 1, 0, 45, LOSS);
  }
  /* starts of 1e120: f may overflow within the first blocks, and runs
   * that converge all the same are watched until they are back */
  grid("momentum", 2, 23, 0.01, 1.5, 1e120, 1, 600, LOSS);
  grid("nesterov", 3, 23, 0.01, 1.5, 1e150, 0, 600, ALL);
  /* a grid of many units: every thread, tiles of every point count */
  grid("momentum", 2, 401, 0.001, 1.3, 1, 0, 300, LOSS);
  CHECK(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);   /* every case met */
  printf("%lld diverged, %lld converged to the floor, %lld neither\n",
         (long long)seen[0], (long long)seen[1], (long long)seen[2]);
  return check_report("test_sweep_kernel");
}
