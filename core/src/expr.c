/*
 * expr.c -- objectives compiled from an expression graph: the program made
 * of the caller's nodes, its evaluation with the reverse-mode gradient in
 * one pass, and the exact Hessian.
 *
 * The program renumbers the live nodes into slots: the variables first,
 * then the constants, then the operations in the caller's (topological)
 * order, so a forward pass is a gather of x, a copy of the constants and
 * one switch per operation.  That pass also stores each operation's local
 * partial derivatives da = dv/da, db = dv/db, which makes the reverse pass
 * a branch-free loop:
 *
 *   adj[a] += da adj[v],  adj[b] += db adj[v]       (v from last to first)
 *
 * A unary operation's b is a sink slot nobody reads.  The Hessian is dim
 * forward-over-reverse passes: along e_j, the tangents vd of the values
 * and ad of the adjoints,
 *
 *   vd[v] = da vd[a] + db vd[b]
 *   ad[a] += da ad[v] + (daa vd[a] + dab vd[b]) adj[v]
 *   ad[b] += db ad[v] + (dab vd[a] + dbb vd[b]) adj[v]
 *
 * give column j, ad at the variables.
 *
 * Evaluation must be safe from several threads at once (sweeps): the
 * program is read-only, and each thread has its own scratch buffer, kept
 * between calls and grown as needed, freed when the thread ends.  (One
 * buffer per objective, taken by whichever call came first, made a sweep
 * on two threads slower than on one: the flag's cache line went back and
 * forth, and the other thread allocated at every call.)
 */
#include <pthread.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

typedef struct {
  uint32_t a, b;   /* operand slots (b = the sink for unary operations) */
} instr;

typedef struct {
  size_t dim;
  size_t nvars, nconsts, nops;   /* slots: variables, constants, operations */
  size_t nslots;                 /* all three; the sink is slot nslots */
  size_t out;                    /* the slot of f */
  int quadratic;                 /* f is a polynomial of degree <= 2 */
  uint32_t *var_index;           /* nvars: x index of each variable slot */
  double *consts;                /* nconsts */
  instr *code;                   /* nops: operands, all the reverse pass reads */
  unsigned char *ops;            /* nops: each operation */
  double *cs;                    /* nops: each constant (POWC's exponent) */
} program;

static size_t scratch_count(const program *p) {
  return 2 * (p->nslots + 1) + 2 * p->nops;
}

/* ------------------------------------------------------------ operations */

/* The value of op on va, vb (c its constant), and its first partials. */
#if defined(__GNUC__)
__attribute__((always_inline))
#endif
static inline double apply(int op, double va, double vb, double c, double *da,
                           double *db) {
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

/* The second partials of op at va, vb (v its value). */
static void second(int op, double va, double vb, double v, double c,
                   double *daa, double *dab, double *dbb) {
  *daa = *dab = *dbb = 0;
  switch (op) {
  case MS_EXPR_MUL: *dab = 1; break;
  case MS_EXPR_DIV:
    *dab = -1 / (vb * vb);
    *dbb = 2 * v / (vb * vb);
    break;
  case MS_EXPR_POW: {
    double la = log(va);
    *daa = vb * (vb - 1) * pow(va, vb - 2);
    *dab = va == 0 ? 0 : pow(va, vb - 1) * (1 + vb * la);
    *dbb = va == 0 ? 0 : v * la * la;
    break;
  }
  case MS_EXPR_SQR: *daa = 2; break;
  case MS_EXPR_POWC: *daa = c * (c - 1) * pow(va, c - 2); break;
  case MS_EXPR_SIN: *daa = -v; break;
  case MS_EXPR_COS: *daa = -v; break;
  case MS_EXPR_TAN: *daa = 2 * v * (1 + v * v); break;
  case MS_EXPR_EXP: *daa = v; break;
  case MS_EXPR_LOG: *daa = -1 / (va * va); break;
  case MS_EXPR_SQRT: *daa = -0.25 / (va * v); break;
  case MS_EXPR_TANH: *daa = -2 * v * (1 - v * v); break;
  case MS_EXPR_ATAN: {
    double r = 1 + va * va;
    *daa = -2 * va / (r * r);
    break;
  }
  case MS_EXPR_ATAN2: {
    double r = va * va + vb * vb, r2 = r * r;
    *daa = -2 * va * vb / r2;
    *dab = (va * va - vb * vb) / r2;
    *dbb = 2 * va * vb / r2;
    break;
  }
  default: break;   /* linear, or piecewise linear */
  }
}

/* ---------------------------------------------------------------- passes */

/* Values into v (nslots + 1: the sink is 0); with da and db, the first
 * partials too. */
static void forward(const program *p, const double *x, double *v, double *da,
                    double *db) {
  for (size_t k = 0; k < p->nvars; k++) v[k] = x[p->var_index[k]];
  if (p->nconsts) memcpy(v + p->nvars, p->consts, p->nconsts * sizeof *v);
  v[p->nslots] = 0;
  double *res = v + p->nvars + p->nconsts, pa, pb;
  const instr *code = p->code;
  const unsigned char *ops = p->ops;
  const double *cs = p->cs;
  if (da == NULL) {
    for (size_t k = 0; k < p->nops; k++)
      res[k] = apply(ops[k], v[code[k].a], v[code[k].b], cs[k], &pa, &pb);
  } else {
    for (size_t k = 0; k < p->nops; k++)
      res[k] = apply(ops[k], v[code[k].a], v[code[k].b], cs[k], &da[k], &db[k]);
  }
}

/* The adjoints adj (nslots + 1) of f from the partials. */
static void reverse(const program *p, const double *da, const double *db,
                    double *adj) {
  memset(adj, 0, (p->nslots + 1) * sizeof *adj);
  adj[p->out] = 1;
  size_t base = p->nvars + p->nconsts;
  const instr *code = p->code;
  for (size_t k = p->nops; k-- > 0;) {
    double g = adj[base + k];
    adj[code[k].a] += da[k] * g;
    adj[code[k].b] += db[k] * g;
  }
}

static void gather_grad(const program *p, const double *adj, double *grad) {
  ms_vec_fill(grad, 0, p->dim);
  for (size_t k = 0; k < p->nvars; k++) grad[p->var_index[k]] += adj[k];
}

/* The calling thread's scratch, of at least count doubles, or NULL. */
typedef struct {
  double *buf;
  size_t count;
} scratch_t;

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static int scratch_ok;

static void scratch_free(void *s) {
  if (s == NULL) return;
  free(((scratch_t *)s)->buf);
  free(s);
}
static void scratch_init(void) {
  scratch_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

static double *thread_scratch(size_t count) {
  pthread_once(&scratch_once, scratch_init);
  if (!scratch_ok) return NULL;
  scratch_t *s = pthread_getspecific(scratch_key);
  if (s == NULL) {
    if ((s = ms_calloc(1, sizeof *s)) == NULL) return NULL;
    if (pthread_setspecific(scratch_key, s) != 0) {
      free(s);
      return NULL;
    }
  }
  if (s->count < count) {
    double *buf = ms_calloc(count, sizeof *buf);
    if (buf == NULL) return NULL;
    free(s->buf);
    s->buf = buf;
    s->count = count;
  }
  return s->buf;
}

static ms_status program_fn(void *ctx, const double *x, size_t n, double *f,
                            double *grad) {
  const program *p = ctx;
  (void)n;
  double *v = thread_scratch(scratch_count(p));
  if (v == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  double *adj = v + p->nslots + 1, *da = adj + p->nslots + 1, *db = da + p->nops;
  forward(p, x, v, grad ? da : NULL, db);
  if (f != NULL) *f = v[p->out];
  if (grad != NULL) {
    reverse(p, da, db, adj);
    gather_grad(p, adj, grad);
  }
  return MS_OK;
}

/* ------------------------------------------------------------- compiling */

static void program_free(void *ctx) {
  program *p = ctx;
  if (p == NULL) return;
  free(p->var_index);
  free(p->consts);
  free(p->code);
  free(p->ops);
  free(p->cs);
  free(p);
}

static int unary(int op) {
  return op == MS_EXPR_NEG || op == MS_EXPR_SQR || op == MS_EXPR_POWC ||
         (op >= MS_EXPR_SIN && op <= MS_EXPR_ATAN);
}

/* Node i of nodes is well formed: a known operation on earlier nodes, a
 * variable of x. */
static ms_status check_node(const ms_expr_node *e, size_t i, size_t dim) {
  if (e->op < 0 || e->op >= MS_EXPR_NOPS)
    return ms_fail(MS_EINVAL, "node %zu: unknown operation %d", i + 1, e->op);
  if (e->op == MS_EXPR_VAR) {
    if (e->a >= dim)
      return ms_fail(MS_EINVAL, "node %zu: variable %u is not in [0, %zu)",
                     i + 1, e->a, dim);
    return MS_OK;
  }
  if (e->op == MS_EXPR_CONST) return MS_OK;
  if (e->a >= i || (!unary(e->op) && e->b >= i))
    return ms_fail(MS_EINVAL, "node %zu: an operand is not an earlier node",
                   i + 1);
  return MS_OK;
}

/* Slots of the live nodes (those f depends on) into slot[], SIZE_MAX for
 * the dead, and their counts into p.  The operations keep the caller's
 * order: sorted by depth, so that a pass would meet independent ones in a
 * row, Rosenbrock of dim 1000 ran slower (its values then spread over
 * more cache lines). */
static void number_slots(program *p, const ms_expr_node *nodes, size_t n,
                         size_t *slot) {
  for (size_t i = 0; i < n; i++) slot[i] = 0;
  slot[n - 1] = 1;   /* live marks first, walking back from f */
  for (size_t i = n; i-- > 0;) {
    if (!slot[i] || nodes[i].op == MS_EXPR_VAR || nodes[i].op == MS_EXPR_CONST)
      continue;
    slot[nodes[i].a] = 1;
    if (!unary(nodes[i].op)) slot[nodes[i].b] = 1;
  }
  size_t nv = 0, nc = 0, no = 0;
  for (size_t i = 0; i < n; i++) {
    if (!slot[i]) continue;
    if (nodes[i].op == MS_EXPR_VAR) nv++;
    else if (nodes[i].op == MS_EXPR_CONST) nc++;
    else no++;
  }
  p->nvars = nv, p->nconsts = nc, p->nops = no;
  p->nslots = nv + nc + no;
  size_t iv = 0, ic = nv, io = nv + nc;
  for (size_t i = 0; i < n; i++) {
    if (!slot[i]) slot[i] = SIZE_MAX;
    else if (nodes[i].op == MS_EXPR_VAR) slot[i] = iv++;
    else if (nodes[i].op == MS_EXPR_CONST) slot[i] = ic++;
    else slot[i] = io++;
  }
}

/* The degree of f as a polynomial in x, or 3 for "above 2 or none":
 * whether the analysis may read it as 1/2 x'Qx + c'x + b. */
static int degree_of(const program *p) {
  size_t base = p->nvars + p->nconsts;
  unsigned char *deg = ms_calloc(p->nslots + 1, 1);
  if (deg == NULL) return 3;
  for (size_t k = 0; k < p->nvars; k++) deg[k] = 1;
  for (size_t k = 0; k < p->nops; k++) {
    const instr *e = &p->code[k];
    int a = deg[e->a], b = deg[e->b], d;   /* the sink has degree 0 */
    switch (p->ops[k]) {
    case MS_EXPR_ADD: case MS_EXPR_SUB: d = a > b ? a : b; break;
    case MS_EXPR_MUL: d = a + b; break;
    case MS_EXPR_DIV: d = b == 0 ? a : 3; break;
    case MS_EXPR_NEG: d = a; break;
    case MS_EXPR_SQR: d = 2 * a; break;
    case MS_EXPR_POWC:
      d = p->cs[k] == 0 ? 0 : p->cs[k] == 1 ? a : p->cs[k] == 2 ? 2 * a : a == 0 ? 0 : 3;
      break;
    default: d = a == 0 && b == 0 ? 0 : 3;   /* of constants only, a constant */
    }
    deg[base + k] = (unsigned char)(d > 3 ? 3 : d);
  }
  int d = deg[p->out];
  free(deg);
  return d;
}

static void fill_program(program *p, const ms_expr_node *nodes, size_t n,
                         const size_t *slot) {
  size_t sink = p->nslots, base = p->nvars + p->nconsts;
  for (size_t i = 0; i < n; i++) {
    size_t s = slot[i];
    if (s == SIZE_MAX) continue;
    const ms_expr_node *e = &nodes[i];
    if (e->op == MS_EXPR_VAR) p->var_index[s] = e->a;
    else if (e->op == MS_EXPR_CONST) p->consts[s - p->nvars] = e->c;
    else {
      p->code[s - base] = (instr){
          .a = (uint32_t)slot[e->a],
          .b = (uint32_t)(unary(e->op) ? sink : slot[e->b])};
      p->ops[s - base] = (unsigned char)e->op;
      p->cs[s - base] = e->c;
    }
  }
  p->out = slot[n - 1];
  p->quadratic = degree_of(p) <= 2;
}

ms_status ms_objective_expr(size_t dim, const ms_expr_node *nodes, size_t n,
                            ms_objective **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(nodes);
  if (n == 0) return ms_fail(MS_EINVAL, "an expression needs at least one node");
  if (n > MS_EXPR_NODES_MAX)
    return ms_fail(MS_ERANGE, "an expression of %zu nodes is too large (at most %d)",
                   n, (int)MS_EXPR_NODES_MAX);
  if (dim == 0) return ms_fail(MS_EINVAL, "dimension must be at least 1");
  for (size_t i = 0; i < n; i++) {
    ms_status st = check_node(&nodes[i], i, dim);
    if (st != MS_OK) return st;
  }
  program *p = ms_calloc(1, sizeof *p);
  size_t *slot = ms_calloc(n, sizeof *slot);
  if (p == NULL || slot == NULL) {
    free(p);
    free(slot);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  p->dim = dim;
  number_slots(p, nodes, n, slot);
  p->var_index = ms_calloc(p->nvars, sizeof *p->var_index);
  p->consts = ms_calloc(p->nconsts, sizeof *p->consts);
  p->code = ms_calloc(p->nops, sizeof *p->code);
  p->ops = ms_calloc(p->nops, sizeof *p->ops);
  p->cs = ms_calloc(p->nops, sizeof *p->cs);
  ms_status st = MS_OK;
  if (!p->var_index || !p->consts || !p->code || !p->ops || !p->cs)
    st = ms_fail(MS_ENOMEM, "out of memory");
  if (st == MS_OK) {
    fill_program(p, nodes, n, slot);
    st = ms_objective_new(dim, program_fn, 1, p, program_free, out);
  }
  free(slot);
  if (st != MS_OK) {
    program_free(p);
    return st;
  }
  ms_objective_describe(*out, "expression", NULL, NULL);
  return MS_OK;
}

/* --------------------------------------------------------------- Hessian */

/* Column j of the Hessian into col (dim numbers): tangents along e_j of
 * the values (vd) and of the adjoints (ad), given the values v, the
 * adjoints adj and the partials. */
static void hessian_column(const program *p, size_t j, const double *adj,
                           const double *da, const double *db,
                           const double *dd, double *vd, double *ad,
                           double *col) {
  size_t base = p->nvars + p->nconsts;
  for (size_t k = 0; k < p->nvars; k++) vd[k] = p->var_index[k] == j;
  for (size_t k = p->nvars; k <= p->nslots; k++) vd[k] = 0;
  const instr *code = p->code;
  for (size_t k = 0; k < p->nops; k++)
    vd[base + k] = da[k] * vd[code[k].a] + db[k] * vd[code[k].b];
  memset(ad, 0, (p->nslots + 1) * sizeof *ad);
  for (size_t k = p->nops; k-- > 0;) {
    double g = adj[base + k], gd = ad[base + k];
    double ta = vd[code[k].a], tb = vd[code[k].b];
    const double *d2 = dd + 3 * k;   /* daa, dab, dbb */
    ad[code[k].a] += da[k] * gd + (d2[0] * ta + d2[1] * tb) * g;
    ad[code[k].b] += db[k] * gd + (d2[1] * ta + d2[2] * tb) * g;
  }
  gather_grad(p, ad, col);
}

/* Scratch of the Hessian: v, adj, vd, ad (nslots + 1 each), da, db, and
 * the second partials (3 per operation). */
static ms_status program_hessian(const program *p, const double *x, double *H) {
  size_t n = p->dim, m = p->nslots + 1, count;
  if (!ms_size_mul(p->nops, 5, &count) || count > SIZE_MAX - 4 * m ||
      !ms_size_mul(count + 4 * m, sizeof(double), &count))
    return ms_fail(MS_ERANGE, "hessian: the expression is too large");
  double *v = ms_calloc(5 * p->nops + 4 * m, sizeof *v);
  double *col = ms_calloc(n, sizeof *col);
  if (v == NULL || col == NULL) {
    free(v);
    free(col);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  double *adj = v + m, *vd = adj + m, *ad = vd + m, *da = ad + m,
         *db = da + p->nops, *dd = db + p->nops;
  forward(p, x, v, da, db);
  reverse(p, da, db, adj);
  size_t base = p->nvars + p->nconsts;
  for (size_t k = 0; k < p->nops; k++) {
    const instr *e = &p->code[k];
    second(p->ops[k], v[e->a], v[e->b], v[base + k], p->cs[k], &dd[3 * k],
           &dd[3 * k + 1], &dd[3 * k + 2]);
  }
  ms_status st = MS_OK;
  for (size_t j = 0; j < n && st == MS_OK; j++) {
    if ((st = ms_interrupted()) != MS_OK) break;
    hessian_column(p, j, adj, da, db, dd, vd, ad, col);
    for (size_t i = 0; i < n; i++) H[i * n + j] = col[i];
  }
  /* exact up to rounding, which may differ across the diagonal */
  for (size_t i = 0; st == MS_OK && i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      H[i * n + j] = H[j * n + i] = 0.5 * (H[i * n + j] + H[j * n + i]);
  free(v);
  free(col);
  return st;
}

int ms_expr_quadratic_parts(const ms_objective *obj, double *Q, double *c,
                            double *b) {
  const program *p = ms_objective_context(obj, program_fn);
  if (p == NULL || !p->quadratic) return 0;
  size_t n = p->dim, nn;
  if (!ms_size_mul(n, n, &nn)) return 0;
  double *zero = ms_calloc(n, sizeof *zero), *Qbuf = Q;
  if (zero == NULL) return 0;
  if (Qbuf == NULL && (Qbuf = ms_calloc(nn, sizeof *Qbuf)) == NULL) {
    free(zero);
    return 0;
  }
  double f;
  /* exact: the Hessian is constant, the gradient at 0 is c, f(0) is b */
  int ok = program_hessian(p, zero, Qbuf) == MS_OK &&
           program_fn((void *)p, zero, n, &f, c != NULL ? c : zero) == MS_OK;
  if (b != NULL) *b = f;
  if (Qbuf != Q) free(Qbuf);
  free(zero);
  return ok;
}

ms_status ms_objective_hessian(ms_objective *obj, const double *x, double *H) {
  MS_NEED(obj);
  MS_NEED(x);
  MS_NEED(H);
  if (ms_objective_quadratic_parts(obj, H, NULL, NULL)) return MS_OK;
  const program *p = ms_objective_context(obj, program_fn);
  if (p == NULL)
    return ms_fail(MS_EINVAL, "the objective has no exact Hessian: it is not "
                              "compiled from an expression nor a quadratic");
  size_t n = p->dim, nn;
  if (!ms_size_mul(n, n, &nn) || !ms_size_mul(nn, sizeof(double), &nn))
    return ms_fail(MS_ERANGE, "hessian: dimension %zu is too large", n);
  return program_hessian(p, x, H);
}
