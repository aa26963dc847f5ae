/*
 * trace_fused.c -- the trace loop fused for a built-in objective and a
 * built-in rule: the objective's gradient and value and the rule's step
 * inlined into one pass per step, with x and the rule's state in
 * registers at small d.
 *
 * The general loop (ms_trace_steps) makes three calls a step through
 * pointers and checks the gradient and x for finiteness in loops of their
 * own; at d = 2 that is most of its 26 ns a step.  Here a step is the
 * arithmetic and the stores of the point and f, nothing else.
 *
 * Same bits as the general loop: every formula below is its objective's
 * or rule's, operation for operation in the same order (the build has no
 * contraction into fused multiply-adds), and test_trace_fused compares
 * the two loops bit for bit over every pair.  Keep them in step: a change
 * to core/src/rules/{gd,momentum,sgd,nesterov}.c, to the quadratic of
 * objective.c or to the functions of testfunctions.c is a change here.
 *
 * Divergence is checked without a branch: each step adds f - f -- 0 for
 * a finite f, NaN otherwise -- into a sum tested once per block (the
 * steps between two polls for Ctrl-C).  + and * keep inf and NaN (0 * inf
 * is NaN): every rule here adds a multiple of the gradient to x with them,
 * so x is not finite once the gradient is not, and every built-in formula
 * makes f of every coordinate of x with them, so f is not finite once x
 * is not.  A compiled expression may divide or leave a coordinate out: x
 * has terms v - v of its own there.  x and the state are copied at the
 * start of a block; a block whose sum is not 0 is run again from that copy
 * by the general loop, which stops at the step where the run diverged and
 * says why, exactly as if it had run alone.
 *
 * A pair is run here when the objective has a formula (ms_objective_formula),
 * a built-in's or a compiled expression's (its evaluation called
 * directly: what the loop saves is the general loop's calls and checks),
 * the rule is gd, momentum, sgd or nesterov with no schedule, and
 * d <= MAX_N; every other run, Lua callbacks included, takes the general
 * loop.  d = 2 has loops of its own, where the compiler keeps the
 * coordinates in registers.
 */
#include <math.h>
#include <string.h>

#include "expr.h"
#include "internal.h"
#include "trace.h"

extern const ms_rule_class ms_rule_gd;
extern const ms_rule_class ms_rule_momentum;
extern const ms_rule_class ms_rule_sgd;
extern const ms_rule_class ms_rule_nesterov;

/* Beyond this the work per step hides the calls, and the copies per block
 * (a block is a step from d = 8192 on) would cost. */
enum { MAX_N = 256 };

typedef enum { R_GD, R_MOMENTUM, R_SGD, R_NESTEROV, R_COUNT } rule_kind;

/* What a loop reads: the objective's data, the rule's hyper-parameters,
 * and where the committed x and state are. */
typedef struct fused {
  const double *lambda;   /* the diagonal quadratic's */
  double a, b;            /* Rosenbrock's */
  double lr, beta;        /* beta: momentum's beta, sgd's and nesterov's momentum */
  double damp, wd;        /* sgd: 1 - dampening, weight_decay */
  int nesterov, maximize; /* sgd's flags */
  size_t n;
  ms_trace *tr;
  ms_objective *obj;
  ms_rule *rule;
  const ms_expr_program *expr;   /* a compiled expression's program */
  double *scratch;               /* and this thread's scratch for it */
  const ms_expr_native *native;  /* its machine code, called directly */
  double *x, *v;          /* x_t and the rule's state at the last block's end */
  double *g, *y;          /* the general loop's room, for a replay */
} fused;

#define INLINE static inline __attribute__((always_inline))

/* ------------------------------------------------------------ objectives
 * f into *f and the gradient into g (either NULL: not wanted), as the
 * objective's function computes them. */

INLINE void eval(ms_formula k, const fused *c, const double *x, size_t n,
                 double *f, double *grad) {
  switch (k) {
  case MS_FORMULA_DIAGONAL: {   /* objective.c: diag_quadratic_fn */
    const double *l = c->lambda;
    if (f != NULL) {
      double s = 0.0;
      for (size_t i = 0; i < n; i++) s += 0.5 * l[i] * x[i] * x[i];
      *f = s;
    }
    if (grad != NULL)
      for (size_t i = 0; i < n; i++) grad[i] = l[i] * x[i];
    break;
  }
  case MS_FORMULA_ROSENBROCK: {   /* testfunctions.c: rosenbrock_fn */
    double sum = 0;
    if (grad != NULL)
      for (size_t i = 0; i < n; i++) grad[i] = 0;
    for (size_t i = 0; i + 1 < n; i++) {
      double u = x[i + 1] - x[i] * x[i], v = c->a - x[i];
      sum += c->b * u * u + v * v;
      if (grad != NULL) {
        grad[i] += -4 * c->b * u * x[i] - 2 * v;
        grad[i + 1] += 2 * c->b * u;
      }
    }
    if (f != NULL) *f = sum;
    break;
  }
  case MS_FORMULA_BEALE: {   /* testfunctions.c: beale_fn */
    static const double cc[3] = {1.5, 2.25, 2.625};
    double sum = 0, gx = 0, gy = 0, yk = 1;
    for (int k3 = 1; k3 <= 3; k3++) {
      double dyk = k3 * yk;
      yk *= x[1];
      double r = cc[k3 - 1] - x[0] + x[0] * yk;
      sum += r * r;
      gx += 2 * r * (yk - 1);
      gy += 2 * r * x[0] * dyk;
    }
    if (f != NULL) *f = sum;
    if (grad != NULL) grad[0] = gx, grad[1] = gy;
    break;
  }
  case MS_FORMULA_BOOTH: {   /* testfunctions.c: booth_fn */
    double u = x[0] + 2 * x[1] - 7, v = 2 * x[0] + x[1] - 5;
    if (f != NULL) *f = u * u + v * v;
    if (grad != NULL) grad[0] = 2 * u + 4 * v, grad[1] = 4 * u + 2 * v;
    break;
  }
  case MS_FORMULA_EXPR:   /* expr.c: program_fn */
    if (c->native != NULL) ms_expr_native_eval(c->native, x, f, grad);
    else ms_expr_eval(c->expr, c->scratch, x, f, grad);
    break;
  case MS_FORMULA_HIMMELBLAU: {   /* testfunctions.c: himmelblau_fn */
    double u = x[0] * x[0] + x[1] - 11, v = x[0] + x[1] * x[1] - 7;
    if (f != NULL) *f = u * u + v * v;
    if (grad != NULL)
      grad[0] = 4 * u * x[0] + 2 * v, grad[1] = 2 * u + 4 * v * x[1];
    break;
  }
  default:
    break;
  }
}

/* ----------------------------------------------------------------- rules
 * Step t of the rule (first: t == 1) on x and its state v, as the rule's
 * step function computes it. */

INLINE void update(rule_kind r, const fused *c, double *x, const double *g,
                   double *v, size_t n, int first) {
  double lr = c->lr, beta = c->beta;
  switch (r) {
  case R_GD:   /* rules/gd.c: ms_vec_axpy(x, -lr, g, n) */
    for (size_t i = 0; i < n; i++) x[i] += -lr * g[i];
    break;
  case R_MOMENTUM:   /* rules/momentum.c */
    for (size_t i = 0; i < n; i++) {
      v[i] = beta * v[i] + g[i];
      x[i] += -lr * v[i];
    }
    break;
  case R_SGD:   /* rules/sgd.c */
    for (size_t i = 0; i < n; i++) {
      double d = c->maximize ? -g[i] : g[i];
      if (c->wd != 0) d += c->wd * x[i];
      if (beta != 0) {
        v[i] = first ? d : beta * v[i] + c->damp * d;
        d = c->nesterov ? d + beta * v[i] : v[i];
      }
      x[i] += -lr * d;
    }
    break;
  case R_NESTEROV:   /* rules/nesterov.c */
    for (size_t i = 0; i < n; i++) {
      double d = g[i];
      v[i] = first ? d : beta * v[i] + d;
      d = d + beta * v[i];
      x[i] += -lr * d;
    }
    break;
  default:
    break;
  }
}

/* ------------------------------------------------------------- the loop */

/* Steps 1..steps of the pair (k, r) at dimension n (a constant where the
 * caller is specialised), with xl, vl, grad and lam as room of n numbers
 * where the block runs.  The numbers the steps read are copied into
 * locals first: through c, the compiler would load them again after every
 * store into the trace, which might have changed them. */
INLINE ms_status loop(ms_formula k, rule_kind r, size_t n, fused *pc,
                      double *xl, double *vl, double *grad, double *lam) {
  fused cl = *pc, *c = &cl;
  if (k == MS_FORMULA_DIAGONAL) {
    for (size_t i = 0; i < n; i++) lam[i] = pc->lambda[i];
    cl.lambda = lam;
  }
  ms_trace *tr = c->tr;
  const int64_t steps = tr->steps, every = tr->every;
  const int64_t block = MS_TRACE_POLL_COORDS / (int64_t)n;
  const size_t nv = r == R_GD ? 0 : n;   /* state entries */
  int64_t next_record = every < steps ? every : steps;
  size_t len = tr->len;
  double *px = tr->x, *pf = tr->f;
  for (int64_t t = 0; t < steps;) {
    ms_status st;
    if (t > 0 && (st = ms_interrupted()) != MS_OK) return st;
    int64_t t1 = steps - t > block ? t + block : steps;
    for (size_t i = 0; i < n; i++) xl[i] = c->x[i];
    for (size_t i = 0; i < nv; i++) vl[i] = c->v[i];
    size_t len0 = len;
    int64_t next_record0 = next_record;
    double bad = 0;
    eval(k, c, xl, n, NULL, grad);
    for (int64_t s = t + 1; s <= t1; s++) {
      double f;
      update(r, c, xl, grad, vl, n, s == 1);
      /* f at every step, with the next gradient, as the general loop
       * (which leaves out the last step's: one more costs less than the
       * branch, and changes nothing) */
      eval(k, c, xl, n, &f, grad);
      bad += f - f;   /* (and so x's and the gradient's: above) */
      if (k == MS_FORMULA_EXPR)
        for (size_t i = 0; i < n; i++) bad += xl[i] - xl[i];
      if (s == next_record) {
        double *p = px + len * n;
        for (size_t i = 0; i < n; i++) p[i] = xl[i];
        pf[len++] = f;
        next_record = steps - s > every ? s + every : steps;
      }
    }
    if (bad == 0) {   /* every number finite: the block stands */
      for (size_t i = 0; i < n; i++) c->x[i] = xl[i];
      for (size_t i = 0; i < nv; i++) c->v[i] = vl[i];
      t = t1;
      continue;
    }
    /* Diverged in this block: run it again from its start, where the
     * general loop finds the step and names what went bad. */
    tr->len = len0;
    ms_rule_set_steps(c->rule, t);
    st = ms_trace_steps(tr, c->obj, c->rule, c->x, c->g, c->y, 0, t, t1);
    if (st != MS_OK || tr->diverged) return st;
    len = tr->len;   /* (it found nothing: carry on from where it is) */
    next_record = next_record0;
    while (next_record <= t1 && next_record < steps)
      next_record = steps - next_record > every ? next_record + every : steps;
    t = t1;
  }
  tr->len = len;
  ms_rule_set_steps(c->rule, steps);
  return MS_OK;
}

typedef ms_status (*kernel_fn)(fused *c);

/* The loop of one pair at d = 2 (locals the compiler keeps in registers)
 * and at any d <= MAX_N. */
#define PAIR(K, R)                                                        \
  static ms_status K##_##R##_2(fused *c) {                                \
    double xl[2], vl[2], grad[2], lam[2];                                 \
    return loop(MS_FORMULA_##K, R, 2, c, xl, vl, grad, lam);               \
  }                                                                       \
  static ms_status K##_##R##_n(fused *c) {                                \
    double xl[MAX_N], vl[MAX_N], grad[MAX_N], lam[MAX_N];                 \
    return loop(MS_FORMULA_##K, R, c->n, c, xl, vl, grad, lam);            \
  }
#define RULES(K) PAIR(K, R_GD) PAIR(K, R_MOMENTUM) PAIR(K, R_SGD) PAIR(K, R_NESTEROV)
RULES(DIAGONAL)
RULES(ROSENBROCK)
RULES(BEALE)
RULES(BOOTH)
RULES(HIMMELBLAU)
RULES(EXPR)

#define ROW(K)                                                            \
  [MS_FORMULA_##K] = {{K##_R_GD_2, K##_R_GD_n},                            \
                     {K##_R_MOMENTUM_2, K##_R_MOMENTUM_n},                \
                     {K##_R_SGD_2, K##_R_SGD_n},                          \
                     {K##_R_NESTEROV_2, K##_R_NESTEROV_n}}
static const kernel_fn loops[MS_FORMULA_COUNT][R_COUNT][2] = {
    ROW(DIAGONAL), ROW(ROSENBROCK), ROW(BEALE), ROW(BOOTH), ROW(HIMMELBLAU),
    ROW(EXPR),
};

/* Hyper-parameter `name` of rule into *v; 0 when it has none. */
static int hyper(const ms_rule *rule, const char *name, double *v) {
  int i = ms_rule_hyper_index(rule, name);
  if (i >= 0) *v = ms_rule_get(rule, i);
  return i >= 0;
}

/* Which loop the rule has, with its hyper-parameters in c; -1: none. */
static int rule_kind_of(const ms_rule *rule, fused *c) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  for (int i = 0; i < cls->nhyper; i++)
    if (ms_rule_get_schedule(rule, i) != NULL) return -1;
  hyper(rule, "lr", &c->lr);
  if (cls == &ms_rule_gd) return R_GD;
  if (cls == &ms_rule_momentum) return hyper(rule, "beta", &c->beta) ? R_MOMENTUM : -1;
  if (cls == &ms_rule_nesterov)
    return hyper(rule, "momentum", &c->beta) ? R_NESTEROV : -1;
  if (cls != &ms_rule_sgd) return -1;
  double damp = 0, nesterov = 0, maximize = 0;
  if (!hyper(rule, "momentum", &c->beta) || !hyper(rule, "dampening", &damp) ||
      !hyper(rule, "nesterov", &nesterov) || !hyper(rule, "weight_decay", &c->wd) ||
      !hyper(rule, "maximize", &maximize))
    return -1;
  c->damp = 1 - damp;
  c->nesterov = nesterov != 0;
  c->maximize = maximize != 0;
  return R_SGD;
}

int ms_trace_fused(ms_trace *tr, ms_objective *obj, ms_rule *rule, double *x,
                   double *g, double *y, ms_status *st) {
  fused c = {.n = tr->n, .tr = tr, .obj = obj, .rule = rule, .x = x,
             .g = g, .y = y};
  double p[2];
  ms_formula k = ms_objective_formula(obj, &c.lambda, p);
  if (k == MS_FORMULA_NONE || k >= MS_FORMULA_COUNT || c.n > MAX_N ||
      tr->steps == 0)
    return 0;
  int r = rule_kind_of(rule, &c);
  if (r < 0) return 0;
  c.a = p[0];
  c.b = p[1];
  if (k == MS_FORMULA_EXPR) {   /* its scratch first: the loop cannot fail */
    c.expr = ms_expr_program_of(obj);
    if (c.expr == NULL || (c.scratch = ms_expr_scratch(c.expr)) == NULL) return 0;
    c.native = ms_expr_native_of(c.expr);
  }
  c.v = r == R_GD ? NULL : ms_rule_state(rule, 0);
  *st = loops[k][r][c.n == 2 ? 0 : 1](&c);
  return 1;
}
