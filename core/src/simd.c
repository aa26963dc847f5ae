/*
 * simd.c -- which vector width the element-wise loops of simd.h run at:
 * the widest the processor has, chosen once; MS_SIMD=scalar|sse2|avx2|avx512
 * in the environment, or ms_simd_set_level, asks for a narrower one (to
 * compare levels: every level gives the same bits).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "simd.h"

static const char *const names[MS_SIMD_LEVELS] = {
    [MS_SIMD_SCALAR] = "scalar", [MS_SIMD_SSE2] = "sse2",
    [MS_SIMD_AVX2] = "avx2", [MS_SIMD_AVX512] = "avx512"};

/* -1 until the first loop asks.  Every thread that finds it unset makes
 * the same choice, so a race between two of them is harmless. */
static atomic_int current = -1;

const char *ms_simd_name(int level) {
  return level >= 0 && level < MS_SIMD_LEVELS ? names[level] : NULL;
}

int ms_simd_supported(int level) {
  switch (level) {
  case MS_SIMD_SCALAR: return 1;
#if MS_SIMD_X86
  case MS_SIMD_SSE2: return 1;   /* part of x86-64 */
  case MS_SIMD_AVX2:
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2");
  case MS_SIMD_AVX512:
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") &&
           __builtin_cpu_supports("avx512dq") &&
           __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512bw") &&
           __builtin_cpu_supports("avx512cd");
#endif
  default: return 0;
  }
}

static int widest(void) {
  int level = MS_SIMD_LEVELS - 1;
  while (!ms_simd_supported(level)) level--;
  return level;
}

/* The widest level, or the one MS_SIMD names if the processor has it. */
static int chosen(void) {
  int level = widest();
  const char *want = getenv("MS_SIMD");
  for (int l = 0; want != NULL && l < level; l++)
    if (strcmp(want, names[l]) == 0) return l;
  return level;
}

int ms_simd_level(void) {
  int level = atomic_load_explicit(&current, memory_order_relaxed);
  if (level < 0) {
    level = chosen();
    atomic_store_explicit(&current, level, memory_order_relaxed);
  }
  return level;
}

int ms_simd_set_level(int level) {
  if (level < 0) level = widest();
  if (level < MS_SIMD_LEVELS && ms_simd_supported(level))
    atomic_store_explicit(&current, level, memory_order_relaxed);
  return ms_simd_level();
}
