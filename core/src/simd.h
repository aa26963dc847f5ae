/*
 * simd.h -- element-wise loops written once and run at the vector width of
 * the machine: 8 doubles a block with AVX-512, 4 with AVX2, 2 with SSE2.
 *
 *   MS_SIMD_LOOP(name, x, (double *x, const double *g, size_t n,
 *                          double a),
 *     ms_v gi = MS_AT(g);
 *     MS_AT(x) += a * gi;
 *   )
 *   ...
 *   MS_SIMD(name)(x, g, n, a);
 *
 * defines one function per level (name_scalar, name_sse2, name_avx2,
 * name_avx512, each compiled for its instruction set) and a table `name`
 * of them; MS_SIMD(name) is the one of the level in use (simd.c).  The
 * body is run element by element (ms_v = double) until the blocks of the
 * array named second (x) are aligned to their size, then for the block of
 * elements [i, i + width) while a whole block fits in [0, n), then element
 * by element for the rest, so the parameters must name the length n.  In
 * the body, ms_v is the type of a block (a vector of doubles, or a
 * double), MS_AT(p) the block of p at i (an lvalue), and scalars mix with
 * blocks as in `a * gi` (every lane times a).  Read blocks into ms_v
 * variables before choosing between them with ?: (whose two arms must
 * have the very same type).
 *
 * Same bits on every level: each lane does the operations the body writes,
 * in its order, each rounded once (the engine is built with
 * -ffp-contract=off, so no multiply-add is fused), and +, -, *, / and sqrt
 * are correctly rounded in every instruction set.  Only NaN payloads may
 * differ (which NaN an operation with two NaN operands returns is the
 * compiler's choice of operand order, on any level).
 *
 * The arrays of a loop are each either the same array as another or
 * disjoint from it: an element's update reads that element only.
 */
#ifndef MS_SIMD_H
#define MS_SIMD_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define MS_SIMD_X86 1
#else
#define MS_SIMD_X86 0
#endif

/* The levels, in increasing order of width. */
enum {
  MS_SIMD_SCALAR,   /* one double at a time: the reference */
  MS_SIMD_SSE2,
  MS_SIMD_AVX2,
  MS_SIMD_AVX512,   /* AVX-512 F, DQ, VL, BW and CD (x86-64-v4) */
  MS_SIMD_LEVELS
};

/* The level the loops run at: the widest the processor has, unless the
 * environment variable MS_SIMD (scalar, sse2, avx2 or avx512) or
 * ms_simd_set_level chose a narrower one. */
int ms_simd_level(void);
/* 1 if the processor (and its operating system) runs level. */
int ms_simd_supported(int level);
/* Run at level from now on (-1: the widest supported); returns the level
 * in use, which is the old one when level is not supported.  For tests
 * and benchmarks; not meant to be called while loops run. */
int ms_simd_set_level(int level);
/* "scalar", "sse2", "avx2", "avx512", or NULL. */
const char *ms_simd_name(int level);

/* Block types: vectors of doubles that may sit anywhere a double may. */
typedef double ms_f64x2 __attribute__((vector_size(16)));
typedef double ms_f64x4 __attribute__((vector_size(32)));
typedef double ms_f64x8 __attribute__((vector_size(64)));
typedef long long ms_i64x2 __attribute__((vector_size(16)));
typedef long long ms_i64x4 __attribute__((vector_size(32)));
typedef long long ms_i64x8 __attribute__((vector_size(64)));
/* The same, to load and store through (any alignment, any double). */
typedef double ms_f64x2m
    __attribute__((vector_size(16), aligned(8), may_alias));
typedef double ms_f64x4m
    __attribute__((vector_size(32), aligned(8), may_alias));
typedef double ms_f64x8m
    __attribute__((vector_size(64), aligned(8), may_alias));

#if MS_SIMD_X86
#define MS_TARGET_SSE2
#define MS_TARGET_AVX2 __attribute__((target("avx2")))
#define MS_TARGET_AVX512 \
  __attribute__((target("avx512f,avx512dq,avx512vl,avx512bw,avx512cd")))
#endif
#define MS_SIMD_INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------ operations on blocks */

#define MS_AT(p) (*(ms_vm *)((p) + i))
/* The block at p itself, whatever i is: an accumulator, p room for 8. */
#define MS_LANES(p) (*(ms_vm *)(p))

/* sqrt of every lane. */
MS_SIMD_INLINE double ms_sqrt1(double a) { return sqrt(a); }
#if MS_SIMD_X86
MS_TARGET_SSE2 MS_SIMD_INLINE ms_f64x2 ms_sqrt2(ms_f64x2 a) {
  return (ms_f64x2)_mm_sqrt_pd((__m128d)a);
}
MS_TARGET_AVX2 MS_SIMD_INLINE ms_f64x4 ms_sqrt4(ms_f64x4 a) {
  return (ms_f64x4)_mm256_sqrt_pd((__m256d)a);
}
MS_TARGET_AVX512 MS_SIMD_INLINE ms_f64x8 ms_sqrt8(ms_f64x8 a) {
  return (ms_f64x8)_mm512_sqrt_pd((__m512d)a);
}
#define MS_SQRT(a)                                                       \
  _Generic((ms_v){0}, double: ms_sqrt1, ms_f64x2: ms_sqrt2,              \
           ms_f64x4: ms_sqrt4, ms_f64x8: ms_sqrt8)(a)
#else
#define MS_SQRT(a) ms_sqrt1(a)
#endif

/* torch.maximum of every lane: a if it is NaN or greater, else b. */
MS_SIMD_INLINE double ms_maximum1(double a, double b) {
  return isnan(a) || a > b ? a : b;
}
#define MS_SIMD_MAXIMUM(W)                                               \
  MS_SIMD_INLINE ms_f64x##W ms_maximum##W(ms_f64x##W a, ms_f64x##W b) {  \
    ms_i64x##W m = (a != a) | (a > b);                                   \
    return (ms_f64x##W)((m & (ms_i64x##W)a) | (~m & (ms_i64x##W)b));     \
  }
#if MS_SIMD_X86
MS_TARGET_SSE2 MS_SIMD_MAXIMUM(2)
MS_TARGET_AVX2 MS_SIMD_MAXIMUM(4)
MS_TARGET_AVX512 MS_SIMD_MAXIMUM(8)
#define MS_MAXIMUM(a, b)                                                 \
  _Generic((ms_v){0}, double: ms_maximum1, ms_f64x2: ms_maximum2,        \
           ms_f64x4: ms_maximum4, ms_f64x8: ms_maximum8)(a, b)
#else
#define MS_MAXIMUM(a, b) ms_maximum1(a, b)
#endif

/* torch.lerp(a, b, w) of every lane, w a scalar: ATen's formula, as
 * ms_lerp (internal.h). */
#define MS_LERP(a, b, w)                                                 \
  (((w) < 0 ? -(w) : (w)) < 0.5 ? (a) + (w) * ((b) - (a))                \
                                : (b) - ((b) - (a)) * (1 - (w)))

/* ------------------------------------------------------------ the loop */

/* Blocks of type T (loaded and stored as TM) from i on, while whole
 * before end. */
#define MS_SIMD_BLOCKS_(T, TM, W, end, ...)                              \
  {                                                                      \
    typedef T ms_v __attribute__((unused));                              \
    typedef TM ms_vm __attribute__((unused));                            \
    for (; i + (W) <= (end); i += (W)) {                                 \
      __VA_ARGS__                                                        \
    }                                                                    \
  }

/* Elements one by one until a block of W at `align` starts on a multiple
 * of its size (a block across two cache lines costs a second access,
 * every block of AVX-512 on memory from malloc), then whole blocks, then
 * the rest one by one. */
#define MS_SIMD_LEVEL_(name, level, target, T, TM, W, align, params, ...) \
  target static void name##_##level params {                            \
    size_t i = 0, bytes = (W) * sizeof(double);                          \
    size_t head = (bytes - (uintptr_t)(align) % bytes) % bytes / 8;      \
    MS_SIMD_BLOCKS_(double, double, 1, head < n ? head : n, __VA_ARGS__) \
    MS_SIMD_BLOCKS_(T, TM, W, n, __VA_ARGS__)                            \
    MS_SIMD_BLOCKS_(double, double, 1, n, __VA_ARGS__)                   \
  }

#if MS_SIMD_X86
#define MS_SIMD_LOOP(name, align, params, ...)                           \
  MS_SIMD_LEVEL_(name, scalar, , double, double, 1, align, params,       \
                 __VA_ARGS__)                                            \
  MS_SIMD_LEVEL_(name, sse2, MS_TARGET_SSE2, ms_f64x2, ms_f64x2m, 2,     \
                 align, params, __VA_ARGS__)                             \
  MS_SIMD_LEVEL_(name, avx2, MS_TARGET_AVX2, ms_f64x4, ms_f64x4m, 4,     \
                 align, params, __VA_ARGS__)                             \
  MS_SIMD_LEVEL_(name, avx512, MS_TARGET_AVX512, ms_f64x8, ms_f64x8m, 8, \
                 align, params, __VA_ARGS__)                             \
  static void (*const name[MS_SIMD_LEVELS]) params = {                   \
      name##_scalar, name##_sse2, name##_avx2, name##_avx512}
#else
#define MS_SIMD_LOOP(name, align, params, ...)                           \
  MS_SIMD_LEVEL_(name, scalar, , double, double, 1, align, params,       \
                 __VA_ARGS__)                                            \
  static void (*const name[MS_SIMD_LEVELS]) params = {                   \
      name##_scalar, name##_scalar, name##_scalar, name##_scalar}
#endif

#define MS_SIMD(name) (name[ms_simd_level()])

#endif
