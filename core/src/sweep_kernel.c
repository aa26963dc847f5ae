/*
 * sweep_kernel.c -- the SIMD kernels of the vectorised sweep loop, one per
 * instruction set (SSE2, which every x86-64 has, AVX2 and AVX-512), built
 * from the one body in sweep_kernel.h, and the choice among them at run
 * time: the widest the processor (and its operating system) supports,
 * unless MOMSANDBOX_SWEEP_ISA or ms_kernel_force asks for a narrower one.
 * All give the same bits (core/tests/test_sweep_kernel.c checks it), so
 * the choice changes the speed alone.
 *
 * Other machines than x86-64 get the body once, in plain C vectors that
 * the compiler maps to what it has.
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

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

/* The widest level this machine runs. */
static int machine_level(void) {
#ifdef MS_KERNEL_X86
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) return MS_KERNEL_AVX512;
  if (__builtin_cpu_supports("avx2")) return MS_KERNEL_AVX2;
#endif
  return MS_KERNEL_SSE2;
}

static atomic_int forced = -1;

void ms_kernel_force(int level) { atomic_store(&forced, level); }

int ms_kernel_level(void) {
  int best = machine_level(), want = atomic_load(&forced);
  if (want < 0) {
    const char *isa = getenv("MOMSANDBOX_SWEEP_ISA");
    for (int k = 0; isa != NULL && k < (int)MS_COUNT(kernels); k++)
      if (strcmp(isa, kernels[k]->name) == 0) want = k;
  }
  return want >= 0 && want < best ? want : best;
}

const ms_kernel *ms_kernel_get(int level) {
  int best = machine_level();
  return kernels[level >= 0 && level < best ? level : best];
}
