/*
 * expr.h -- the program of an objective compiled from an expression graph,
 * shared by its three parts: expr.c (the program in the caller's order,
 * its reference passes and the Hessian), expr_schedule.c (the same
 * operations grouped into batches) and expr_batch.c (the evaluation of the
 * batches, value and gradient).
 */
#ifndef MS_EXPR_H
#define MS_EXPR_H

#include <math.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"

typedef struct {
  uint32_t a, b;   /* operand slots (b = the sink for unary operations) */
} ms_expr_instr;

/* A batch's operation beyond the engine's: an accumulation chain. */
enum { MS_EXPR_CHAIN = MS_EXPR_NOPS };

/* Operations of the same kind, independent of each other, evaluated by
 * one loop.  Their results take the slots out, out + 1, ..., out + n - 1.
 * Operand i of an affine batch is slot a + sa i (b + sb i), a stride of 0
 * (one slot for all, a constant say) or 1 (consecutive slots); that of a
 * gathered batch is idx[a + i] (idx[b + i]).  A chain is one result,
 *
 *   v[out] = (...((v[a] + s_0 v[t_0]) + s_1 v[t_1]) ...) + s_(n-1) v[t_(n-1)]
 *
 * with t_j = idx[b + j], s_j = sign[b + j] (+1 or -1), summed in that
 * order: the caller's s = s + t_j, node after node. */
typedef struct {
  unsigned char op;       /* MS_EXPR_* or MS_EXPR_CHAIN */
  unsigned char gather;   /* operands from idx */
  unsigned char sa, sb;   /* the strides of an affine batch */
  unsigned char wa, wb;   /* the operand's adjoints are wanted: not all
                             constants, nor the sink */
  unsigned char fa, fb;   /* they are the first to reach their slots in
                             the reverse pass: stored, not summed */
  uint32_t n;             /* members (a chain: terms) */
  uint32_t out;           /* the first result's slot */
  uint32_t a, b;          /* first operand slots, or offsets in idx */
  uint32_t part;          /* offset of the members' partials in da, db */
  double c;               /* POWC's exponent */
} ms_expr_batch;

/* A program as machine code (expr_native.c): ms_fg computes f and the
 * gradient, ms_f f alone, from x and k (the program's constants, then
 * POWC's exponents); lib is the loaded shared object. */
typedef struct ms_expr_native {
  void (*fg)(const double *x, const double *k, double *f, double *grad);
  void (*f)(const double *x, const double *k, double *f);
  double *k;
  void *lib;
} ms_expr_native;

typedef struct ms_expr_program {
  size_t dim;
  size_t nvars, nconsts, nops;   /* slots: variables, constants, operations */
  size_t nslots;                 /* all three; the sink is slot nslots */
  size_t out;                    /* the slot of f */
  int quadratic;                 /* f is a polynomial of degree <= 2 */
  int reference;                 /* MS_EXPR_AUTO, _BATCHED, _REFERENCE, _MAGNITUDE */
  int vars_in_order;             /* variable slot k is x[k], every one */
  uint32_t *var_index;           /* nvars: x index of each variable slot */
  double *consts;                /* nconsts */
  ms_expr_instr *code;           /* nops: operands, all the reverse pass reads */
  unsigned char *ops;            /* nops: each operation */
  double *cs;                    /* nops: each constant (POWC's exponent) */
  /* the schedule (expr_schedule.c): the variables and constants keep their
   * slots, the results are numbered batch after batch */
  size_t nbatches;
  ms_expr_batch *batch;
  uint32_t *idx;                 /* gathered operands, chains' terms */
  double *sign;                  /* a chain term's sign, beside it in idx */
  unsigned char *first;          /* a chain term's adjoint is the first to
                                    reach its slot, beside it in idx */
  uint32_t *zero;                /* nzero ranges (first, count) of slots whose
                                    adjoints the reverse pass zeroes */
  size_t nzero;
  size_t bslots;                 /* slots of the schedule; its sink is bslots */
  size_t bout;                   /* the slot of f */
  size_t npart;                  /* partials stored per pass (da, db each) */
  /* machine code (expr_native.c): set once, read by every evaluation;
   * the state and the work planned so far are read and written under
   * expr_native.c's lock */
  _Atomic(ms_expr_native *) native;
  int native_state;
  double native_work;
} ms_expr_program;

/* Does p run by the reference passes when left to choose: its batches
 * average under two operations, which loop over nothing, so one switch
 * per operation costs less (Rosenbrock at d = 2: 35 ns an evaluation, not
 * 55).  Such a program is also the one that gets machine code
 * (expr_native.c), which keeps the reference passes' order. */
static inline int ms_expr_small(const ms_expr_program *p) {
  return p->nops < 2 * p->nbatches;
}

/* 1 for the operations of one operand (b is the sink). */
int ms_expr_unary(int op);

/* Shorter batches run the scalar loop: a vector loop's call and its
 * ragged ends would cost more than they save. */
enum { MS_EXPR_SMALL = 8 };

/* Batches the vector loops take (expr_batch.c): affine, long enough, of
 * an operation whose partials the values give again cheaply. */
static inline int ms_expr_vectorised(const ms_expr_batch *b) {
  if (b->gather || b->n < MS_EXPR_SMALL) return 0;
  return b->op == MS_EXPR_ADD || b->op == MS_EXPR_SUB ||
         b->op == MS_EXPR_MUL || b->op == MS_EXPR_NEG || b->op == MS_EXPR_SQR;
}

/* The value of op on va, vb (c its constant), and its first partials: the
 * one definition of every operation, for every pass. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline double ms_expr_apply(int op, double va, double vb, double c,
                                   double *da, double *db) {
  double v;
  *db = 0;
  switch (op) {
  case MS_EXPR_ADD: *da = 1; *db = 1; return va + vb;
  case MS_EXPR_SUB: *da = 1; *db = -1; return va - vb;
  case MS_EXPR_MUL: *da = vb; *db = va; return va * vb;
  case MS_EXPR_DIV:
    v = va / vb;
    *da = 1 / vb;
    *db = -v / vb;
    return v;
  case MS_EXPR_POW:
    v = pow(va, vb);
    *da = vb * pow(va, vb - 1);
    *db = va == 0 ? 0 : v * log(va);   /* 0^b is flat in b where defined */
    return v;
  case MS_EXPR_NEG: *da = -1; return -va;
  case MS_EXPR_SQR: *da = 2 * va; return va * va;
  case MS_EXPR_POWC: *da = c * pow(va, c - 1); return pow(va, c);
  case MS_EXPR_SIN: *da = cos(va); return sin(va);
  case MS_EXPR_COS: *da = -sin(va); return cos(va);
  case MS_EXPR_TAN: v = tan(va); *da = 1 + v * v; return v;
  case MS_EXPR_EXP: v = exp(va); *da = v; return v;
  case MS_EXPR_LOG: *da = 1 / va; return log(va);
  case MS_EXPR_SQRT: v = sqrt(va); *da = 0.5 / v; return v;
  case MS_EXPR_ABS: *da = va > 0 ? 1 : va < 0 ? -1 : 0; return fabs(va);
  case MS_EXPR_TANH: v = tanh(va); *da = 1 - v * v; return v;
  case MS_EXPR_ATAN: *da = 1 / (1 + va * va); return atan(va);
  case MS_EXPR_ATAN2: {
    double r = va * va + vb * vb;
    *da = vb / r;
    *db = -va / r;
    return atan2(va, vb);
  }
  /* as Lua's math.min and math.max: a unless b is strictly better */
  case MS_EXPR_MIN:
    if (vb < va) { *da = 0; *db = 1; return vb; }
    *da = 1; return va;
  case MS_EXPR_MAX:
    if (va < vb) { *da = 0; *db = 1; return vb; }
    *da = 1; return va;
  default: *da = 0; return 0;   /* not reached: checked when compiled */
  }
}

/* count * size zeroed bytes on cache lines of their own (free with
 * free), or NULL.  Every thread reads the program at every call, and
 * each writes its scratch: a line shared with memory another thread
 * writes (its sweep's x, say, next on the heap) would go back and forth
 * between the cores. */
enum { MS_EXPR_LINE = 64 };
void *ms_expr_calloc(size_t count, size_t size);

/* Copies and zeroes of a few numbers, as loops: a call to memcpy or
 * memset costs more than a small program's passes at d = 2. */
static inline void ms_expr_copy(double *restrict to, const double *restrict from,
                                size_t n) {
  if (n > 16) memcpy(to, from, n * sizeof *to);
  else
    for (size_t i = 0; i < n; i++) to[i] = from[i];
}
static inline void ms_expr_zero(double *to, size_t n) {
  if (n > 16) memset(to, 0, n * sizeof *to);
  else
    for (size_t i = 0; i < n; i++) to[i] = 0;
}

/* f (unless NULL) and the gradient (unless NULL) at x by nv. */
static inline void ms_expr_native_eval(const ms_expr_native *nv, const double *x,
                                       double *f, double *grad) {
  double unused;
  if (grad != NULL) nv->fg(x, nv->k, f != NULL ? f : &unused, grad);
  else if (f != NULL) nv->f(x, nv->k, f);
}
void ms_expr_native_free(ms_expr_native *nv);
/* p's machine code, which ms_expr_eval would run, or NULL. */
static inline const ms_expr_native *ms_expr_native_of(const ms_expr_program *p) {
  return p->reference == MS_EXPR_AUTO
             ? atomic_load_explicit(&p->native, memory_order_acquire)
             : NULL;
}

/* Groups p's operations into batches (p->batch, idx, sign, bslots, bout,
 * npart); MS_ENOMEM when out of memory. */
ms_status ms_expr_schedule(ms_expr_program *p);
void ms_expr_schedule_free(ms_expr_program *p);

/* The batched passes.  v: bslots + 1 values, the variables and constants
 * in place; da, db: npart each.  forward fills the results (the sink is
 * 0), reverse the adjoints adj (bslots + 1) of f. */
void ms_expr_batch_forward(const ms_expr_program *p, double *v, double *da,
                           double *db);
void ms_expr_batch_reverse(const ms_expr_program *p, const double *v,
                           const double *da, const double *db, double *adj);

#endif
