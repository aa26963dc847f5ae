/*
 * sweep_kernel.h -- the body of the sweep's SIMD kernels, one copy per
 * instruction set: sweep_kernel.c includes it with
 *   KNAME  the suffix of the names (sse2, avx2, avx512)
 *   KATTR  the function attribute that targets the instruction set
 *   KW     doubles in a vector of that set (2, 4, 8)
 *   KT     vectors in a tile (enough independent chains to hide the
 *          latency of a step, few enough to stay in registers)
 *
 * A tile of KW KT lanes is loaded into registers and advanced through the
 * whole block of steps before the next tile: memory is touched once per
 * block, not once per step.  Every lane does the arithmetic of
 * step_lanes in sweep_fast.c, operation for operation, with no fused
 * multiply-add (-ffp-contract=off): the width of the vectors changes how
 * many lanes go at once, never a lane's bits.
 */

#define KV MS_KCAT(ms_kv_, KNAME)
#define KL MS_KCAT(ms_kl_, KNAME)
typedef double KV __attribute__((vector_size(KW * sizeof(double))));
typedef long long KL __attribute__((vector_size(KW * sizeof(double))));

/* Any lane set in a mask of comparisons (-1 or 0 per lane)? */
KATTR static inline int MS_KCAT(any_, KNAME)(KL m) {
  long long r = 0;
  for (int i = 0; i < KW; i++) r |= m[i];
  return r != 0;
}

KATTR static inline __attribute__((always_inline)) unsigned
MS_KCAT(advance_, KNAME)(const ms_lanes *L, size_t m, int steps, int mark,
                         int save, int group, unsigned char *flags,
                         int scaled, int nesterov) {
  const KL abs_mask = (KL){0} + 0x7fffffffffffffffLL;
  const KV tiny = (KV){0} + MS_KERNEL_TINY, inf = (KV){0} + INFINITY;
  KL swap[3];   /* lane i ^ 1, i ^ 2, i ^ 4: the other lanes of a group */
  int swaps = 0;
  for (int g = 1; g < group && g < KW; g *= 2, swaps++)
    for (int i = 0; i < KW; i++) swap[swaps][i] = i ^ g;
  unsigned all = 0;
  for (size_t k = 0, j = 0; k < m; k += KW * KT, j++) {
    KV x[KT], v[KT], l[KT], b[KT], e[KT], s[KT];
    for (int i = 0; i < KT; i++) {
      size_t o = k + (size_t)i * KW;
      x[i] = *(const KV *)(L->x + o);
      v[i] = *(const KV *)(L->v + o);
      l[i] = *(const KV *)(L->lam + o);
      b[i] = *(const KV *)(L->beta + o);
      e[i] = *(const KV *)(L->neta + o);
      if (scaled) s[i] = *(const KV *)(L->scale + o);
      if (save) {
        *(KV *)(L->x0 + o) = x[i];
        *(KV *)(L->v0 + o) = v[i];
      }
    }
    for (int t = 1; t <= steps; t++) {
      for (int i = 0; i < KT; i++) {
        KV g = l[i] * x[i];
        if (scaled) g = g * s[i];
        v[i] = b[i] * v[i] + g;
        x[i] = x[i] + e[i] * (nesterov ? g + b[i] * v[i] : v[i]);
      }
      if (t == mark)
        for (int i = 0; i < KT; i++)
          *(KV *)(L->xmark + k + (size_t)i * KW) = x[i];
    }
    KL out = (KL){0}, small = (KL){0};
    for (int i = 0; i < KT; i++) {
      size_t o = k + (size_t)i * KW;
      KV thr = *(const KV *)(L->thr + o);
      KV ax = (KV)((KL)x[i] & abs_mask), av = (KV)((KL)v[i] & abs_mask);
      out |= ~((ax <= thr) & (av <= thr));   /* NaN: out */
      if (mark) {   /* a group whose lanes are all small */
        KV am = (KV)(*(const KL *)(L->xmark + o) & abs_mask);
        KL sm = (ax <= tiny) & (am <= tiny) & (thr < inf);
        for (int w = 0; w < swaps; w++) sm &= __builtin_shuffle(sm, swap[w]);
        small |= sm;
      }
      *(KV *)(L->x + o) = x[i];
      *(KV *)(L->v + o) = v[i];
    }
    flags[j] = (unsigned char)(MS_KCAT(any_, KNAME)(out) * MS_KERNEL_OUT |
                               MS_KCAT(any_, KNAME)(small) * MS_KERNEL_SMALL);
    all |= flags[j];
  }
  return all;
}

/* The four loops: scaled or not, heavy ball or Nesterov. */
#define MS_KVARIANT(suffix, sc, ne)                                          \
  KATTR static unsigned MS_KCAT(MS_KCAT(advance_, KNAME), suffix)(          \
      const ms_lanes *L, size_t m, int steps, int mark, int save,           \
      int group, unsigned char *flags) {                                    \
    return MS_KCAT(advance_, KNAME)(L, m, steps, mark, save, group, flags,  \
                                    sc, ne);                                \
  }
MS_KVARIANT(_hb, 0, 0)
MS_KVARIANT(_nag, 0, 1)
MS_KVARIANT(_hb_scaled, 1, 0)
MS_KVARIANT(_nag_scaled, 1, 1)
#undef MS_KVARIANT

static const ms_kernel MS_KCAT(kernel_, KNAME) = {
    .name = MS_KSTR(KNAME),
    .tile = KW * KT,
    .run = {MS_KCAT(MS_KCAT(advance_, KNAME), _hb),
            MS_KCAT(MS_KCAT(advance_, KNAME), _nag),
            MS_KCAT(MS_KCAT(advance_, KNAME), _hb_scaled),
            MS_KCAT(MS_KCAT(advance_, KNAME), _nag_scaled)},
};

#undef KV
#undef KL
