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
 * Those passes are the reference: the Hessian runs them, and the tests
 * compare the evaluation proper with them.  The evaluation proper runs the
 * same operations grouped into batches (expr_schedule.c), one loop per
 * batch (expr_batch.c): a function written as a loop over x becomes a few
 * vector loops, where one dispatch per node cost some 3 ns a node.
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

#include "expr.h"

typedef ms_expr_program program;
typedef ms_expr_instr instr;

static size_t scratch_count(const program *p) {
  return 2 * (p->nslots + 1) + 2 * p->nops;
}

/* ------------------------------------------------------------ operations */

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
  ms_expr_copy(v + p->nvars, p->consts, p->nconsts);
  v[p->nslots] = 0;
  double *res = v + p->nvars + p->nconsts, pa, pb;
  const instr *code = p->code;
  const unsigned char *ops = p->ops;
  const double *cs = p->cs;
  if (da == NULL) {
    for (size_t k = 0; k < p->nops; k++)
      res[k] = ms_expr_apply(ops[k], v[code[k].a], v[code[k].b], cs[k], &pa, &pb);
  } else {
    for (size_t k = 0; k < p->nops; k++)
      res[k] = ms_expr_apply(ops[k], v[code[k].a], v[code[k].b], cs[k], &da[k], &db[k]);
  }
}

/* The adjoints adj (nslots + 1) of f from the partials; with magnitude,
 * of their magnitudes: each entry then the sum of the magnitudes of the
 * terms the gradient sums, what bounds the effect of their order (for the
 * tests, through ms_expr_reference). */
static void reverse(const program *p, const double *da, const double *db,
                    double *adj, int magnitude) {
  for (size_t k = 0; k <= p->nslots; k++) adj[k] = 0;
  adj[p->out] = 1;
  size_t base = p->nvars + p->nconsts;
  const instr *code = p->code;
  for (size_t k = p->nops; k-- > 0;) {
    double g = adj[base + k];
    adj[code[k].a] += (magnitude ? fabs(da[k]) : da[k]) * g;
    adj[code[k].b] += (magnitude ? fabs(db[k]) : db[k]) * g;
  }
}

static void gather_grad(const program *p, const double *adj, double *grad) {
  ms_vec_fill(grad, 0, p->dim);
  for (size_t k = 0; k < p->nvars; k++) grad[p->var_index[k]] += adj[k];
}

void *ms_expr_calloc(size_t count, size_t size) {
  size_t bytes;
  if (!ms_size_mul(count ? count : 1, size ? size : 1, &bytes) ||
      bytes > SIZE_MAX - MS_EXPR_LINE)
    return NULL;
  bytes = (bytes + MS_EXPR_LINE - 1) / MS_EXPR_LINE * MS_EXPR_LINE;
  void *p = aligned_alloc(MS_EXPR_LINE, bytes);
  if (p != NULL) memset(p, 0, bytes);
  return p;
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
    if ((s = ms_expr_calloc(1, sizeof *s)) == NULL) return NULL;
    if (pthread_setspecific(scratch_key, s) != 0) {
      free(s);
      return NULL;
    }
  }
  if (s->count < count) {
    double *buf = ms_expr_calloc(count, sizeof *buf);
    if (buf == NULL) return NULL;
    free(s->buf);
    s->buf = buf;
    s->count = count;
  }
  return s->buf;
}

/* The reference passes, one operation at a time in the caller's order. */
static void eval_reference(const program *p, const double *x, double *v,
                           double *f, double *grad) {
  double *adj = v + p->nslots + 1, *da = adj + p->nslots + 1, *db = da + p->nops;
  forward(p, x, v, grad ? da : NULL, db);
  if (f != NULL) *f = v[p->out];
  if (grad != NULL) {
    reverse(p, da, db, adj, p->reference == MS_EXPR_MAGNITUDE);
    gather_grad(p, adj, grad);
  }
}

/* The evaluation proper, batch after batch (the variables and constants
 * have the same slots in both). */
static void eval_batched(const program *p, const double *x, double *v,
                         double *f, double *grad) {
  double *adj = v + p->bslots + 1, *da = adj + p->bslots + 1, *db = da + p->npart;
  if (p->vars_in_order) ms_expr_copy(v, x, p->nvars);
  else
    for (size_t k = 0; k < p->nvars; k++) v[k] = x[p->var_index[k]];
  ms_expr_copy(v + p->nvars, p->consts, p->nconsts);
  ms_expr_batch_forward(p, v, da, db);
  if (f != NULL) *f = v[p->bout];
  if (grad == NULL) return;
  ms_expr_batch_reverse(p, v, da, db, adj);
  if (p->vars_in_order) ms_expr_copy(grad, adj, p->dim);
  else gather_grad(p, adj, grad);
}

/* How p evaluates: as it was told, else its machine code when it has
 * some, else by the reference passes when small (ms_expr_small), else
 * batched. */
static int evaluation(const program *p) {
  if (p->reference != MS_EXPR_AUTO) return p->reference;
  if (atomic_load_explicit(&p->native, memory_order_acquire) != NULL)
    return MS_EXPR_NATIVE;
  return ms_expr_small(p) ? MS_EXPR_REFERENCE : MS_EXPR_BATCHED;
}

void ms_expr_eval(const program *p, double *scratch, const double *x,
                  double *f, double *grad) {
  /* machine code first, when there is (expr_native.c) */
  const ms_expr_native *nv = ms_expr_native_of(p);
  if (nv != NULL) {
    ms_expr_native_eval(nv, x, f, grad);
    return;
  }
  if (evaluation(p) == MS_EXPR_BATCHED) eval_batched(p, x, scratch, f, grad);
  else eval_reference(p, x, scratch, f, grad);
}

double *ms_expr_scratch(const program *p) {
  /* the reference's count, which the schedule's (fewer slots, fewer
   * partials) does not exceed */
  return thread_scratch(scratch_count(p));
}

static ms_status program_fn(void *ctx, const double *x, size_t n, double *f,
                            double *grad) {
  const program *p = ctx;
  (void)n;
  const ms_expr_native *nv = ms_expr_native_of(p);
  if (nv != NULL) {   /* machine code needs no scratch */
    ms_expr_native_eval(nv, x, f, grad);
    return MS_OK;
  }
  double *v = ms_expr_scratch(p);
  if (v == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  ms_expr_eval(p, v, x, f, grad);
  return MS_OK;
}

const program *ms_expr_program_of(const ms_objective *obj) {
  return ms_objective_context(obj, program_fn);
}

int ms_expr_evaluation(const ms_objective *obj) {
  const program *p = ms_objective_context(obj, program_fn);
  return p == NULL ? -1 : evaluation(p);
}

void ms_expr_reference(ms_objective *obj, int how) {
  program *p = ms_objective_context(obj, program_fn);
  if (p != NULL) p->reference = how;
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
  ms_expr_schedule_free(p);
  ms_expr_native_free(atomic_load(&p->native));
  free(p);
}

int ms_expr_unary(int op) {
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
  if (e->a >= i || (!ms_expr_unary(e->op) && e->b >= i))
    return ms_fail(MS_EINVAL, "node %zu: an operand is not an earlier node",
                   i + 1);
  return MS_OK;
}

/* Slots of the live nodes (those f depends on) into slot[], SIZE_MAX for
 * the dead, and their counts into p.  The variables are in the order of
 * x (a loop over x then reads them at stride 1, expr_schedule.c), the
 * operations in the caller's. */
static ms_status number_slots(program *p, const ms_expr_node *nodes, size_t n,
                              size_t *slot) {
  size_t *at = ms_calloc(p->dim + 1, sizeof *at);   /* variables before x_j */
  if (at == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  for (size_t i = 0; i < n; i++) slot[i] = 0;
  slot[n - 1] = 1;   /* live marks first, walking back from f */
  for (size_t i = n; i-- > 0;) {
    if (!slot[i] || nodes[i].op == MS_EXPR_VAR || nodes[i].op == MS_EXPR_CONST)
      continue;
    slot[nodes[i].a] = 1;
    if (!ms_expr_unary(nodes[i].op)) slot[nodes[i].b] = 1;
  }
  size_t nv = 0, nc = 0, no = 0;
  for (size_t i = 0; i < n; i++) {
    if (!slot[i]) continue;
    if (nodes[i].op == MS_EXPR_VAR) nv++, at[nodes[i].a + 1]++;
    else if (nodes[i].op == MS_EXPR_CONST) nc++;
    else no++;
  }
  for (size_t j = 1; j <= p->dim; j++) at[j] += at[j - 1];
  p->nvars = nv, p->nconsts = nc, p->nops = no;
  p->nslots = nv + nc + no;
  size_t ic = nv, io = nv + nc;
  for (size_t i = 0; i < n; i++) {
    if (!slot[i]) slot[i] = SIZE_MAX;
    else if (nodes[i].op == MS_EXPR_VAR) slot[i] = at[nodes[i].a]++;
    else if (nodes[i].op == MS_EXPR_CONST) slot[i] = ic++;
    else slot[i] = io++;
  }
  free(at);
  return MS_OK;
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
          .b = (uint32_t)(ms_expr_unary(e->op) ? sink : slot[e->b])};
      p->ops[s - base] = (unsigned char)e->op;
      p->cs[s - base] = e->c;
    }
  }
  p->out = slot[n - 1];
  p->quadratic = degree_of(p) <= 2;
  p->vars_in_order = p->nvars == p->dim;   /* one slot each, in order */
  for (size_t k = 0; k < p->nvars; k++)
    p->vars_in_order &= p->var_index[k] == k;
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
  program *p = ms_expr_calloc(1, sizeof *p);
  size_t *slot = ms_calloc(n, sizeof *slot);
  if (p == NULL || slot == NULL) {
    free(p);
    free(slot);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  p->dim = dim;
  ms_status st = number_slots(p, nodes, n, slot);
  if (st != MS_OK) {
    free(p);
    free(slot);
    return st;
  }
  p->var_index = ms_expr_calloc(p->nvars, sizeof *p->var_index);
  p->consts = ms_expr_calloc(p->nconsts, sizeof *p->consts);
  p->code = ms_expr_calloc(p->nops, sizeof *p->code);
  p->ops = ms_expr_calloc(p->nops, sizeof *p->ops);
  p->cs = ms_expr_calloc(p->nops, sizeof *p->cs);
  if (!p->var_index || !p->consts || !p->code || !p->ops || !p->cs)
    st = ms_fail(MS_ENOMEM, "out of memory");
  if (st == MS_OK) {
    fill_program(p, nodes, n, slot);
    st = ms_expr_schedule(p);
  }
  if (st == MS_OK) {
    st = ms_objective_new(dim, program_fn, 1, p, program_free, out);
  }
  free(slot);
  if (st != MS_OK) {
    program_free(p);
    return st;
  }
  ms_objective_describe(*out, "expression", NULL, NULL);
  ms_objective_set_formula(*out, MS_FORMULA_EXPR, NULL, 0, 0);
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
  reverse(p, da, db, adj, 0);
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
