/*
 * sweep_kernel.c -- the SIMD kernels of the vectorised sweep loop, one per
 * instruction set (SSE2, which every x86-64 has, AVX2 and AVX-512), built
 * from the one body in sweep_kernel.h, and the choice among them at run
 * time: that of the level simd.c chose for the whole engine (the widest
 * the processor and its operating system support, unless MS_SIMD or
 * ms_simd_set_level asks for a narrower one).
 * All give the same bits (core/tests/test_sweep_kernel.c checks it), so
 * the choice changes the speed alone.
 *
 * Other machines than x86-64 get the body once, in plain C vectors that
 * the compiler maps to what it has.
 */

#include "simd.h"
#include "sweep.h"

#define MS_KCAT2(a, b) a##b
#define MS_KCAT(a, b) MS_KCAT2(a, b)
#define MS_KSTR2(a) #a
#define MS_KSTR(a) MS_KSTR2(a)

/* SSE2: 16 registers of 2 doubles; 6 vectors a tile would leave too few
 * for the step's temporaries. */
#define KNAME sse2
#define KATTR
#define KW 2
#define KT 4
#include "sweep_kernel.h"
#undef KNAME
#undef KATTR
#undef KW
#undef KT

#if defined(__x86_64__) && defined(__GNUC__)
#define MS_KERNEL_X86 1

/* AVX2: 16 registers of 4 doubles. */
#define KNAME avx2
#define KATTR __attribute__((target("avx2")))
#define KW 4
#define KT 4
#include "sweep_kernel.h"
#undef KNAME
#undef KATTR
#undef KW
#undef KT

/* AVX-512: 32 registers of 8 doubles; a step's chain of four operations
 * takes about 10 cycles and the two multipliers take 8 lanes each per
 * cycle, so 8 vectors in flight keep them busy. */
#define KNAME avx512
#define KATTR __attribute__((target("avx512f")))
#define KW 8
#define KT 8
#include "sweep_kernel.h"
#undef KNAME
#undef KATTR
#undef KW
#undef KT
#endif

static const ms_kernel *const kernels[] = {
    &kernel_sse2,
#ifdef MS_KERNEL_X86
    &kernel_avx2,
    &kernel_avx512,
#endif
};

/* The kernel level of a level of simd.h: SSE2 is the narrowest kernel,
 * and the plain-C one where no x86 level exists. */
static int kernel_of(int simd_level) {
  int k = simd_level - MS_SIMD_SSE2;
  return k < 0 ? MS_KERNEL_SSE2 : k > MS_KERNEL_AVX512 ? MS_KERNEL_AVX512 : k;
}

/* The widest level this machine runs. */
static int machine_level(void) {
  int level = MS_SIMD_LEVELS - 1;
  while (!ms_simd_supported(level)) level--;
  return kernel_of(level);
}

int ms_kernel_level(void) { return kernel_of(ms_simd_level()); }

const ms_kernel *ms_kernel_get(int level) {
  int best = machine_level();
  return kernels[level >= 0 && level < best ? level : best];
}
