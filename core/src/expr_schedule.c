/*
 * expr_schedule.c -- the operations of a compiled expression grouped into
 * batches that one loop each evaluates (expr_batch.c), so that a function
 * written as a loop over x runs as a few vector loops instead of one
 * dispatch per node.
 *
 * Three steps:
 *
 * 1. Chains.  An addition or subtraction whose left operand is another
 *    one used nowhere else continues that one's chain: s = s + t_i, the
 *    sum of a loop.  A chain becomes one operation, summed term after term
 *    in the caller's order, so each of its nodes is still the same IEEE
 *    operation on the same values (an addition's operands may be swapped:
 *    a + b and b + a are the same number).  Its partial nodes get no
 *    slot, and its reverse pass hands every term the chain's adjoint.
 *
 * 2. Levels: an operation's is 1 + the highest of its operands' (the
 *    variables and constants have 0), so the operations of a level depend
 *    on none of each other.  The operations of a level with the same
 *    opcode (and POWC exponent) form a group, in the caller's order.
 *
 * 3. Batches.  A group is cut into runs whose operand slots are affine in
 *    the member's index with a stride of 0 or 1: the constant 100 of every
 *    term, x_(i+1) of x_1..x_n.  The results of a run take consecutive
 *    slots, which is what makes the next level's runs affine in turn: a
 *    loop i = 1..n-1 of the caller keeps stride 1 from level to level.
 *    What is left of a group (runs shorter than MIN_RUN) is one gathered
 *    batch, its operand slots listed.
 *
 * 4. Adjoints.  The reverse pass visits the batches from the last: the
 *    first contribution to reach a slot may store instead of adding to a
 *    zero, which spares zeroing the slot and reading it back.  An affine
 *    batch's operand whose slots are all reached first stores (fa, fb),
 *    and so does a chain's term reached first; the slots an addition
 *    reaches first are zeroed before the pass, in ranges.
 *
 * Sorting the operations by level alone, one dispatch per operation, made
 * Rosenbrock of d = 1000 slower: its values spread over more cache lines.
 * Batched, each level's loop streams through consecutive slots.
 */
#include <stdlib.h>
#include <string.h>

#include "expr.h"

enum { NONE = UINT32_MAX };
/* Shorter runs go to the group's gathered batch: a batch costs a dispatch
 * of its own. */
enum { MIN_RUN = 4 };

/* One operation to schedule: a node, or a chain named by its last node. */
typedef struct {
  uint32_t level;
  unsigned char op;
  uint64_t cbits;   /* POWC's exponent, by its bits (0 for the others) */
  uint32_t k;
} unit;

typedef struct {
  ms_expr_program *p;
  size_t base;           /* the first operation's slot */
  uint32_t *link;        /* nops: the chain node before k, or NONE */
  unsigned char *swap;   /* nops: k's chain operand is b (an addition) */
  unsigned char *inner;  /* nops: k continues in a chain, no slot */
  uint32_t *slot;        /* nops: k's slot in the schedule */
  uint32_t *path;        /* nops: a chain's nodes, last first */
  uint32_t *rest;        /* nops: members of a group's gathered batch */
  unit *units;
  size_t nunits, next, nidx;
} builder;

static int is_sum(int op) { return op == MS_EXPR_ADD || op == MS_EXPR_SUB; }

/* ---------------------------------------------------------------- chains */

/* link[k]: the sum node k continues, one that nothing else uses (f is
 * used by the caller). */
static ms_status find_chains(builder *B) {
  const ms_expr_program *p = B->p;
  uint32_t *uses = ms_calloc(p->nops ? p->nops : 1, sizeof *uses);
  if (uses == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  for (size_t k = 0; k < p->nops; k++) {
    if (p->code[k].a >= B->base) uses[p->code[k].a - B->base]++;
    if (!ms_expr_unary(p->ops[k]) && p->code[k].b >= B->base)
      uses[p->code[k].b - B->base]++;
  }
  if (p->out >= B->base) uses[p->out - B->base]++;
  for (size_t k = 0; k < p->nops; k++) {
    B->link[k] = NONE;
    if (!is_sum(p->ops[k])) continue;
    uint32_t a = p->code[k].a, b = p->code[k].b;
    if (a >= B->base && is_sum(p->ops[a - B->base]) && uses[a - B->base] == 1)
      B->link[k] = (uint32_t)(a - B->base);
    else if (p->ops[k] == MS_EXPR_ADD && b >= B->base &&
             is_sum(p->ops[b - B->base]) && uses[b - B->base] == 1) {
      B->link[k] = (uint32_t)(b - B->base);
      B->swap[k] = 1;
    }
    if (B->link[k] != NONE) B->inner[B->link[k]] = 1;
  }
  free(uses);
  return MS_OK;
}

/* The nodes of the chain ending at k into path, last first; their count. */
static size_t chain_path(const builder *B, uint32_t k) {
  size_t len = 0;
  for (uint32_t m = k; m != NONE; m = B->link[m]) B->path[len++] = m;
  return len;
}

/* Node m's term in its chain (the operand that is not the chain) and its
 * sign. */
static uint32_t chain_term(const builder *B, uint32_t m, double *sign) {
  const ms_expr_program *p = B->p;
  *sign = p->ops[m] == MS_EXPR_SUB ? -1 : 1;
  return B->swap[m] ? p->code[m].a : p->code[m].b;
}

/* ---------------------------------------------------------------- levels */

static uint32_t level_of(const builder *B, const uint32_t *lev, uint32_t s) {
  return s < B->base ? 0 : lev[s - B->base];
}

/* The units, each with its level: the nodes no chain continues, in the
 * caller's order. */
static ms_status make_units(builder *B) {
  const ms_expr_program *p = B->p;
  uint32_t *lev = ms_calloc(p->nops ? p->nops : 1, sizeof *lev);
  B->units = ms_calloc(p->nops ? p->nops : 1, sizeof *B->units);
  if (lev == NULL || B->units == NULL) {
    free(lev);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  for (uint32_t k = 0; k < p->nops; k++) {
    if (B->inner[k]) continue;
    uint32_t l = level_of(B, lev, p->code[k].a);
    if (!ms_expr_unary(p->ops[k])) {
      uint32_t lb = level_of(B, lev, p->code[k].b);
      l = lb > l ? lb : l;
    }
    unit u = {.op = p->ops[k], .k = k};
    if (B->link[k] != NONE) {   /* a chain: its start and every term */
      size_t len = chain_path(B, k);
      double sign;
      l = level_of(B, lev, p->code[B->path[len - 1]].a);
      for (size_t j = 0; j < len; j++) {
        uint32_t lt = level_of(B, lev, chain_term(B, B->path[j], &sign));
        l = lt > l ? lt : l;
      }
      u.op = MS_EXPR_CHAIN;
    }
    if (u.op == MS_EXPR_POWC) memcpy(&u.cbits, &p->cs[k], sizeof u.cbits);
    u.level = lev[k] = l + 1;
    B->units[B->nunits++] = u;
  }
  free(lev);
  return MS_OK;
}

static int unit_order(const void *x, const void *y) {
  const unit *u = x, *v = y;
  if (u->level != v->level) return u->level < v->level ? -1 : 1;
  if (u->op != v->op) return u->op < v->op ? -1 : 1;
  if (u->cbits != v->cbits) return u->cbits < v->cbits ? -1 : 1;
  return u->k < v->k ? -1 : u->k > v->k;
}

static int same_group(const unit *u, const unit *v) {
  return u->level == v->level && u->op == v->op && u->cbits == v->cbits &&
         u->op != MS_EXPR_CHAIN;
}

/* --------------------------------------------------------------- batches */

/* Slot s of the caller's program in the schedule. */
static uint32_t new_slot(const builder *B, uint32_t s) {
  if (s == B->p->nslots) return (uint32_t)(B->base + B->nunits);   /* sink */
  return s < B->base ? s : B->slot[s - B->base];
}

static uint32_t operand(const builder *B, const unit *u, int second) {
  const ms_expr_program *p = B->p;
  if (second && ms_expr_unary(u->op)) return (uint32_t)(B->base + B->nunits);
  return new_slot(B, second ? p->code[u->k].b : p->code[u->k].a);
}

/* Whether an adjoint of slots s, s + stride, ... (n of them) is wanted:
 * some is not a constant, nor the sink. */
static int wanted(const builder *B, uint32_t s, unsigned stride, size_t n) {
  const ms_expr_program *p = B->p;
  size_t last = s + stride * (n - 1);
  if (s >= B->base + B->nunits) return 0;
  return !(s >= p->nvars && last < B->base);
}

/* The end of the longest run from units[i] (before hi) whose operands
 * are affine, strides into *sa, *sb. */
static size_t run_end(const builder *B, size_t i, size_t hi, unsigned *sa,
                      unsigned *sb) {
  const unit *u = B->units;
  *sa = *sb = 0;
  if (i + 1 == hi) return hi;
  int64_t a0 = operand(B, &u[i], 0), b0 = operand(B, &u[i], 1);
  int64_t da = (int64_t)operand(B, &u[i + 1], 0) - a0;
  int64_t db = (int64_t)operand(B, &u[i + 1], 1) - b0;
  if (da < 0 || da > 1 || db < 0 || db > 1) return i + 1;
  size_t j = i + 2;
  while (j < hi && operand(B, &u[j], 0) == a0 + da * (int64_t)(j - i) &&
         operand(B, &u[j], 1) == b0 + db * (int64_t)(j - i))
    j++;
  *sa = (unsigned)da, *sb = (unsigned)db;
  return j;
}

static ms_expr_batch *new_batch(builder *B, const unit *u, size_t n) {
  ms_expr_program *p = B->p;
  ms_expr_batch *b = &p->batch[p->nbatches++];
  *b = (ms_expr_batch){.op = u->op, .n = (uint32_t)n, .out = (uint32_t)B->next,
                       .part = (uint32_t)p->npart, .c = p->cs[u->k]};
  p->npart += n;
  return b;
}

static void emit_affine(builder *B, size_t i, size_t j, unsigned sa,
                        unsigned sb) {
  const unit *u = B->units;
  ms_expr_batch *b = new_batch(B, &u[i], j - i);
  b->a = operand(B, &u[i], 0), b->b = operand(B, &u[i], 1);
  b->sa = (unsigned char)sa, b->sb = (unsigned char)sb;
  b->wa = (unsigned char)wanted(B, b->a, sa, b->n);
  b->wb = (unsigned char)wanted(B, b->b, sb, b->n);
  for (size_t m = i; m < j; m++) B->slot[u[m].k] = (uint32_t)B->next++;
}

/* The members listed in rest[0..n) as one batch of gathered operands. */
static void emit_gather(builder *B, size_t n) {
  ms_expr_program *p = B->p;
  ms_expr_batch *b = new_batch(B, &B->units[B->rest[0]], n);
  b->gather = 1;
  b->a = (uint32_t)B->nidx, b->b = (uint32_t)(B->nidx + n);
  for (size_t m = 0; m < n; m++) {
    const unit *u = &B->units[B->rest[m]];
    uint32_t sa = operand(B, u, 0), sb = operand(B, u, 1);
    p->idx[b->a + m] = sa, p->idx[b->b + m] = sb;
    b->wa |= (unsigned char)wanted(B, sa, 0, 1);
    b->wb |= (unsigned char)wanted(B, sb, 0, 1);
    B->slot[u->k] = (uint32_t)B->next++;
  }
  B->nidx += 2 * n;
}

static void emit_chain(builder *B, const unit *u) {
  ms_expr_program *p = B->p;
  size_t len = chain_path(B, u->k);
  ms_expr_batch *b = &p->batch[p->nbatches++];
  *b = (ms_expr_batch){.op = MS_EXPR_CHAIN, .n = (uint32_t)len,
                       .out = (uint32_t)B->next, .b = (uint32_t)B->nidx};
  b->a = new_slot(B, p->code[B->path[len - 1]].a);
  b->wa = (unsigned char)wanted(B, b->a, 0, 1);
  for (size_t j = 0; j < len; j++) {   /* first node first */
    uint32_t t = chain_term(B, B->path[len - 1 - j], &p->sign[B->nidx]);
    p->idx[B->nidx++] = new_slot(B, t);
  }
  B->slot[u->k] = (uint32_t)B->next++;
}

/* Units lo..hi (one group) into batches. */
static void emit_group(builder *B, size_t lo, size_t hi) {
  size_t nrest = 0;
  for (size_t i = lo; i < hi;) {
    unsigned sa, sb;
    size_t j = run_end(B, i, hi, &sa, &sb);
    if (j - i >= MIN_RUN || (i == lo && j == hi)) emit_affine(B, i, j, sa, sb);
    else
      for (size_t m = i; m < j; m++) B->rest[nrest++] = (uint32_t)m;
    i = j;
  }
  if (nrest > 0) emit_gather(B, nrest);
}

static ms_status emit_batches(builder *B) {
  ms_expr_program *p = B->p;
  size_t n = B->nunits ? B->nunits : 1;
  p->batch = ms_expr_calloc(n, sizeof *p->batch);
  /* a gathered member lists 2 slots, a chain's node 1 */
  p->idx = ms_expr_calloc(2 * p->nops + 1, sizeof *p->idx);
  p->sign = ms_expr_calloc(2 * p->nops + 1, sizeof *p->sign);
  if (p->batch == NULL || p->idx == NULL || p->sign == NULL)
    return ms_fail(MS_ENOMEM, "out of memory");
  qsort(B->units, B->nunits, sizeof *B->units, unit_order);
  B->next = B->base;
  for (size_t lo = 0, hi; lo < B->nunits; lo = hi) {
    if (B->units[lo].op == MS_EXPR_CHAIN) {
      emit_chain(B, &B->units[lo]);
      hi = lo + 1;
      continue;
    }
    for (hi = lo + 1; hi < B->nunits && same_group(&B->units[lo], &B->units[hi]);)
      hi++;
    emit_group(B, lo, hi);
  }
  p->bslots = B->base + B->nunits;
  p->bout = new_slot(B, (uint32_t)p->out);
  return MS_OK;
}

/* -------------------------------------------------------------- adjoints */

typedef struct {
  unsigned char *reached;   /* bslots + 1: some contribution came */
  unsigned char *zeroed;    /* bslots + 1: an addition came first */
} reach;

static void reach_add(reach *r, uint32_t s) {
  if (!r->reached[s]) r->zeroed[s] = 1;
  r->reached[s] = 1;
}

/* The slots operands a and b of affine batch b reach overlap. */
static int overlap(const ms_expr_batch *b) {
  size_t a_hi = b->a + b->sa * (b->n - 1), b_hi = b->b + b->sb * (b->n - 1);
  return b->wa && b->wb && !(a_hi < b->b || b_hi < b->a);
}

/* Operand second (b) of affine batch b: stored if none of its slots was
 * reached yet and each is reached once, else added.  A vector loop does
 * operand a, then b; the scalar loop does both member by member, so
 * there they must not share a slot. */
static unsigned char reach_affine(reach *r, const ms_expr_batch *b, int second) {
  uint32_t s = second ? b->b : b->a;
  size_t stride = second ? b->sb : b->sa;
  int store = ms_expr_vectorised(b) ? stride == 1
                                    : (stride == 1 || b->n == 1) && !overlap(b);
  for (size_t i = 0; store && i < b->n; i++) store = !r->reached[s + i];
  for (size_t i = 0; i < b->n; i++) {
    if (store) r->reached[s + i] = 1;
    else reach_add(r, (uint32_t)(s + i * stride));
  }
  return (unsigned char)store;
}

static void reach_term(reach *r, ms_expr_program *p, const ms_expr_batch *b,
                       size_t j) {
  uint32_t t = p->idx[b->b + j];
  p->first[b->b + j] = !r->reached[t];
  r->reached[t] = 1;
}

/* A chain's terms and start in the reverse pass's order (expr_batch.c). */
static void reach_chain(reach *r, ms_expr_program *p, const ms_expr_batch *b) {
  for (size_t j = b->n; j-- > 1;) reach_term(r, p, b, j);
  if (b->wa) reach_add(r, b->a);
  reach_term(r, p, b, 0);
}

static void reach_batch(reach *r, ms_expr_program *p, ms_expr_batch *b) {
  if (b->op == MS_EXPR_CHAIN) reach_chain(r, p, b);
  else if (b->gather) {
    for (size_t i = b->n; i-- > 0;) {
      if (b->wa) reach_add(r, p->idx[b->a + i]);
      if (b->wb) reach_add(r, p->idx[b->b + i]);
    }
  } else {
    if (b->wa) b->fa = reach_affine(r, b, 0);
    if (b->wb) b->fb = reach_affine(r, b, 1);
  }
}

/* The ranges of slots zeroed before the reverse pass: those an addition
 * reaches first, and the variables nothing reaches (the gradient reads
 * them). */
static ms_status zero_ranges(ms_expr_program *p, const reach *r) {
  size_t m = p->bslots + 1, n = 0;
  for (size_t s = 0; s < m; s++)
    if (r->zeroed[s] && (s == 0 || !r->zeroed[s - 1])) n++;
  p->zero = ms_expr_calloc(2 * n + 1, sizeof *p->zero);
  if (p->zero == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  for (size_t s = 0; s < m; s++) {
    if (!r->zeroed[s]) continue;
    if (s == 0 || !r->zeroed[s - 1]) p->zero[2 * p->nzero++] = (uint32_t)s;
    p->zero[2 * p->nzero - 1]++;
  }
  return MS_OK;
}

static ms_status plan_adjoints(ms_expr_program *p) {
  size_t m = p->bslots + 1;
  reach r = {ms_calloc(m, 1), ms_calloc(m, 1)};
  p->first = ms_expr_calloc(2 * p->nops + 1, 1);
  ms_status st = MS_OK;
  if (r.reached == NULL || r.zeroed == NULL || p->first == NULL)
    st = ms_fail(MS_ENOMEM, "out of memory");
  if (st == MS_OK) {
    r.reached[p->bout] = 1;   /* adj f = 1 */
    for (size_t k = p->nbatches; k-- > 0;) reach_batch(&r, p, &p->batch[k]);
    for (size_t s = 0; s < p->nvars; s++)
      if (!r.reached[s]) r.zeroed[s] = 1;
    st = zero_ranges(p, &r);
  }
  free(r.reached);
  free(r.zeroed);
  return st;
}

/* ------------------------------------------------------------- interface */

ms_status ms_expr_schedule(ms_expr_program *p) {
  size_t n = p->nops ? p->nops : 1;
  builder B = {.p = p, .base = p->nvars + p->nconsts};
  B.link = ms_calloc(n, sizeof *B.link);
  B.swap = ms_calloc(n, 1);
  B.inner = ms_calloc(n, 1);
  B.slot = ms_calloc(n, sizeof *B.slot);
  B.path = ms_calloc(n, sizeof *B.path);
  B.rest = ms_calloc(n, sizeof *B.rest);
  ms_status st = MS_OK;
  if (!B.link || !B.swap || !B.inner || !B.slot || !B.path || !B.rest)
    st = ms_fail(MS_ENOMEM, "out of memory");
  if (st == MS_OK) st = find_chains(&B);
  if (st == MS_OK) st = make_units(&B);
  if (st == MS_OK) st = emit_batches(&B);
  if (st == MS_OK) st = plan_adjoints(p);
  free(B.link);
  free(B.swap);
  free(B.inner);
  free(B.slot);
  free(B.path);
  free(B.rest);
  free(B.units);
  return st;
}

void ms_expr_schedule_free(ms_expr_program *p) {
  free(p->batch);
  free(p->idx);
  free(p->sign);
  free(p->first);
  free(p->zero);
}
