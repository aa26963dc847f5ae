/*
 * expr_batch.c -- a compiled expression evaluated batch by batch (the
 * schedule of expr_schedule.c): one switch per batch, then one loop over
 * its members, the forward pass with the values (and the partials that
 * cannot be had again cheaply), the reverse pass with the adjoints.
 *
 * Additions, subtractions, products, negations and squares of affine
 * operands run in vector loops at the machine's width (simd.h): they
 * store no partials, the reverse pass reads them off the operands' values
 * (dv/da of a * b is b).  Every other batch runs ms_expr_apply member by
 * member, which stores the partials da, db of each, as the reference
 * passes do.  A chain is summed term after term, the caller's order.
 *
 * Same values as the reference passes, bit for bit: every result is the
 * same IEEE operation on the same operands (+, -, * are correctly rounded
 * at every width; no multiply-add is fused).  The gradient sums the same
 * terms, each rounded as the reference's, but a slot used by several
 * batches may receive them in another order: it may differ in the last
 * bits, the same on every call and every thread.  No adjoint is summed
 * for a constant.
 */
#include <string.h>

#include "expr.h"
#include "simd.h"

/* ------------------------------------------------------- vector kernels */

/* r = a op b: both vectors (vv), a one slot (sv), b one slot (vs). */
#define MS_EXPR_BINARY(name, OP)                                          \
  MS_SIMD_LOOP(name##_vv, r,                                             \
               (double *r, const double *a, const double *b, size_t n),  \
               ms_v ai = MS_AT(a);                                       \
               ms_v bi = MS_AT(b); MS_AT(r) = ai OP bi;);                \
  MS_SIMD_LOOP(name##_sv, r,                                             \
               (double *r, double a, const double *b, size_t n),         \
               ms_v bi = MS_AT(b); MS_AT(r) = a OP bi;);                 \
  MS_SIMD_LOOP(name##_vs, r,                                             \
               (double *r, const double *a, double b, size_t n),         \
               ms_v ai = MS_AT(a); MS_AT(r) = ai OP b;)

MS_EXPR_BINARY(f_add, +);
MS_EXPR_BINARY(f_sub, -);
MS_EXPR_BINARY(f_mul, *);
MS_SIMD_LOOP(f_neg, r, (double *r, const double *a, size_t n),
             ms_v ai = MS_AT(a); MS_AT(r) = -ai;);
MS_SIMD_LOOP(f_sqr, r, (double *r, const double *a, size_t n),
             ms_v ai = MS_AT(a); MS_AT(r) = ai * ai;);

/* adj += d g (name_add), or adj = d g where it is the first to reach
 * adj (name_set), d the partial: 1, -1, w (a vector or one slot), 2 a. */
#define MS_EXPR_ADJOINT(name, params, d)                                 \
  MS_SIMD_LOOP(name##_add, adj, params, ms_v gi = MS_AT(g);              \
               MS_AT(adj) += d;);                                        \
  MS_SIMD_LOOP(name##_set, adj, params, ms_v gi = MS_AT(g);              \
               MS_AT(adj) = d;)

MS_EXPR_ADJOINT(r_one, (double *adj, const double *g, size_t n), gi);
MS_EXPR_ADJOINT(r_minus, (double *adj, const double *g, size_t n), -gi);
MS_EXPR_ADJOINT(r_mul,
                (double *adj, const double *w, const double *g, size_t n),
                MS_AT(w) * gi);
MS_EXPR_ADJOINT(r_muls, (double *adj, double w, const double *g, size_t n),
                w * gi);
MS_EXPR_ADJOINT(r_sqr,
                (double *adj, const double *a, const double *g, size_t n),
                (2.0 * MS_AT(a)) * gi);

/* ------------------------------------------------------------- forward */

/* A vectorised batch's results; 0 when its strides have no vector loop
 * (both operands one slot each), for the scalar loop to do. */
static int forward_vector(const ms_expr_batch *b, double *v) {
  double *r = v + b->out;
  const double *A = v + b->a, *B = v + b->b;
  size_t n = b->n;
  int vv = b->sa && b->sb, sv = !b->sa && b->sb, vs = b->sa && !b->sb;
#define MS_EXPR_FORWARD2(name)                                           \
  if (vv) MS_SIMD(name##_vv)(r, A, B, n);                                \
  else if (sv) MS_SIMD(name##_sv)(r, *A, B, n);                          \
  else if (vs) MS_SIMD(name##_vs)(r, A, *B, n);                          \
  else return 0;                                                         \
  return 1
  switch (b->op) {
  case MS_EXPR_ADD: MS_EXPR_FORWARD2(f_add);
  case MS_EXPR_SUB: MS_EXPR_FORWARD2(f_sub);
  case MS_EXPR_MUL: MS_EXPR_FORWARD2(f_mul);
  case MS_EXPR_NEG:
    if (!b->sa) return 0;
    MS_SIMD(f_neg)(r, A, n);
    return 1;
  case MS_EXPR_SQR:
    if (!b->sa) return 0;
    MS_SIMD(f_sqr)(r, A, n);
    return 1;
  default: return 0;
  }
#undef MS_EXPR_FORWARD2
}

#define MS_EXPR_EACH(X)                                                  \
  X(MS_EXPR_ADD) X(MS_EXPR_SUB) X(MS_EXPR_MUL) X(MS_EXPR_DIV)            \
  X(MS_EXPR_POW) X(MS_EXPR_NEG) X(MS_EXPR_SQR) X(MS_EXPR_POWC)           \
  X(MS_EXPR_SIN) X(MS_EXPR_COS) X(MS_EXPR_TAN) X(MS_EXPR_EXP)            \
  X(MS_EXPR_LOG) X(MS_EXPR_SQRT) X(MS_EXPR_ABS) X(MS_EXPR_TANH)          \
  X(MS_EXPR_ATAN) X(MS_EXPR_ATAN2) X(MS_EXPR_MIN) X(MS_EXPR_MAX)

/* Any batch member by member, operation by operation as the reference,
 * with the partials: operand i at A[i sa] (affine) or v[ia[i]]. */
static void forward_scalar(const ms_expr_program *p, const ms_expr_batch *b,
                           double *v, double *da, double *db) {
  double *r = v + b->out, *pa = da + b->part, *pb = db + b->part, c = b->c;
  size_t n = b->n, sa = b->sa, sb = b->sb;
  if (b->gather) {
    const uint32_t *ia = p->idx + b->a, *ib = p->idx + b->b;
#define MS_EXPR_GATHERED(OP)                                             \
  case OP:                                                               \
    for (size_t i = 0; i < n; i++)                                       \
      r[i] = ms_expr_apply(OP, v[ia[i]], v[ib[i]], c, &pa[i], &pb[i]);   \
    break;
    switch (b->op) { MS_EXPR_EACH(MS_EXPR_GATHERED) default: break; }
#undef MS_EXPR_GATHERED
    return;
  }
  const double *A = v + b->a, *B = v + b->b;
#define MS_EXPR_AFFINE(OP)                                               \
  case OP:                                                               \
    for (size_t i = 0; i < n; i++)                                       \
      r[i] = ms_expr_apply(OP, A[i * sa], B[i * sb], c, &pa[i], &pb[i]); \
    break;
  switch (b->op) { MS_EXPR_EACH(MS_EXPR_AFFINE) default: break; }
#undef MS_EXPR_AFFINE
}

/* s = s + t_j, term after term: the caller's nodes in their order (a
 * term's sign is exact, and s + -t is s - t). */
static void forward_chain(const ms_expr_program *p, const ms_expr_batch *b,
                          double *v) {
  const uint32_t *t = p->idx + b->b;
  const double *s = p->sign + b->b;
  double acc = v[b->a];
  for (size_t j = 0; j < b->n; j++) acc += s[j] * v[t[j]];
  v[b->out] = acc;
}

void ms_expr_batch_forward(const ms_expr_program *p, double *v, double *da,
                           double *db) {
  v[p->bslots] = 0;   /* the sink */
  for (size_t k = 0; k < p->nbatches; k++) {
    const ms_expr_batch *b = &p->batch[k];
    if (b->op == MS_EXPR_CHAIN) forward_chain(p, b, v);
    else if (!ms_expr_vectorised(b) || !forward_vector(b, v))
      forward_scalar(p, b, v, da, db);
  }
}

/* ------------------------------------------------------------- reverse */

/* One operand's adjoints (second: b's) of a vectorised batch, the
 * partials from the values. */
static void reverse_vector(const ms_expr_batch *b, const double *v,
                           double *adj, int second) {
  const double *g = adj + b->out, *A = v + b->a, *B = v + b->b;
  double *to = adj + (second ? b->b : b->a);
  size_t n = b->n;
  if (!(second ? b->sb : b->sa)) {   /* one slot: summed member by member */
    for (size_t i = n; i-- > 0;) {
      double pa, pb;
      ms_expr_apply(b->op, A[i * b->sa], B[i * b->sb], 0, &pa, &pb);
      *to += (second ? pb : pa) * g[i];
    }
    return;
  }
  const double *other = second ? A : B;   /* a product's partial */
  int other_vec = second ? b->sa : b->sb, set = second ? b->fb : b->fa;
#define MS_EXPR_ADJ(name, ...)                                           \
  (set ? MS_SIMD(name##_set)(to, __VA_ARGS__) : MS_SIMD(name##_add)(to, __VA_ARGS__))
  switch (b->op) {
  case MS_EXPR_ADD: MS_EXPR_ADJ(r_one, g, n); break;
  case MS_EXPR_SUB:
    if (second) MS_EXPR_ADJ(r_minus, g, n);
    else MS_EXPR_ADJ(r_one, g, n);
    break;
  case MS_EXPR_NEG: MS_EXPR_ADJ(r_minus, g, n); break;
  case MS_EXPR_MUL:
    if (other_vec) MS_EXPR_ADJ(r_mul, other, g, n);
    else MS_EXPR_ADJ(r_muls, *other, g, n);
    break;
  case MS_EXPR_SQR: MS_EXPR_ADJ(r_sqr, A, g, n); break;
  default: break;
  }
#undef MS_EXPR_ADJ
}

/* Any other batch, from the partials, member by member from the last. */
static void reverse_scalar(const ms_expr_program *p, const ms_expr_batch *b,
                           const double *da, const double *db, double *adj) {
  const double *g = adj + b->out, *pa = da + b->part, *pb = db + b->part;
  size_t n = b->n, sa = b->sa, sb = b->sb;
  if (b->gather) {
    const uint32_t *ia = p->idx + b->a, *ib = p->idx + b->b;
    for (size_t i = n; i-- > 0;) {
      if (b->wa) adj[ia[i]] += pa[i] * g[i];
      if (b->wb) adj[ib[i]] += pb[i] * g[i];
    }
    return;
  }
  double *A = adj + b->a, *B = adj + b->b;
  for (size_t i = n; i-- > 0;) {   /* stored where the first (fa, fb) */
    if (b->wa) A[i * sa] = (b->fa ? 0 : A[i * sa]) + pa[i] * g[i];
    if (b->wb) B[i * sb] = (b->fb ? 0 : B[i * sb]) + pb[i] * g[i];
  }
}

/* Every term's adjoint is the chain's, signed; in the reference's order
 * (from the last node; the first node's operands a then b). */
static void reverse_chain(const ms_expr_program *p, const ms_expr_batch *b,
                          double *adj) {
  const uint32_t *t = p->idx + b->b;
  const double *s = p->sign + b->b;
  const unsigned char *first = p->first + b->b;
  double g = adj[b->out];
  for (size_t j = b->n; j-- > 1;) {
    if (first[j]) adj[t[j]] = s[j] * g;
    else adj[t[j]] += s[j] * g;
  }
  if (b->wa) adj[b->a] += g;
  if (first[0]) adj[t[0]] = s[0] * g;
  else adj[t[0]] += s[0] * g;
}

void ms_expr_batch_reverse(const ms_expr_program *p, const double *v,
                           const double *da, const double *db, double *adj) {
  for (size_t k = 0; k < p->nzero; k++)
    ms_expr_zero(adj + p->zero[2 * k], p->zero[2 * k + 1]);
  adj[p->bout] = 1;
  for (size_t k = p->nbatches; k-- > 0;) {
    const ms_expr_batch *b = &p->batch[k];
    if (b->op == MS_EXPR_CHAIN) reverse_chain(p, b, adj);
    else if (!ms_expr_vectorised(b)) reverse_scalar(p, b, da, db, adj);
    else {
      if (b->wa) reverse_vector(b, v, adj, 0);
      if (b->wb) reverse_vector(b, v, adj, 1);
    }
  }
}
