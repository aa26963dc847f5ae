/*
 * theory_matrix.c -- the iteration matrix of any update rule on the
 * scalar quadratic f(x) = lambda x^2 / 2, found from the rule's own step.
 *
 * A rule whose step is linear in x, the gradient and its state is, on f,
 * a linear map of z = (x, s_1, ..., s_m) -- x and the rule's state
 * vectors, in the class's order: z_t = M_t z_{t-1}.  Its column j is the
 * step from the unit vector e_j: a one-dimensional clone of the rule
 * takes step t from x = z_0 with its state set to z_1..z_m, the gradient
 * lambda y taken where the rule looks (y = x but for look-ahead rules).
 * Nothing else of the rule is assumed, so a rule written in a scripting
 * language is probed through its callback like a built-in one.
 *
 * Step t is taken as step t of a run (its scheduled hyper-parameters at
 * t, and t handed to the step), from the state the probe sets: the steps
 * before are not replayed.  A rule whose first step ignores its state
 * (sgd's and nesterov's buffer starts as the first gradient) thus has a
 * different matrix at t = 1 than at every later step.
 *
 * Linearity is checked, never assumed: a zero input must stay zero, and
 * the step of three other inputs -- a combination with mixed signs, one
 * scaled by 1000, one by 1/1000 -- must be what M predicts to 1e-10 of
 * the magnitudes in play.  Adam, RMSProp and Adagrad (their steps divide
 * by a root of the gradient's square) and rules that branch on the
 * gradient fail it and are refused, with the reason.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

static const double TOL = 1e-10;
enum { MAX_M = 65 };   /* x and at most 64 state vectors */

/* A one-dimensional clone of a rule ready to be stepped from any z. */
typedef struct probe {
  ms_rule *r;
  const ms_rule_class *cls;
  double lambda;
  int64_t t;
  size_t m;   /* 1 + the number of state vectors */
} probe;

static ms_status probe_open(probe *p, const ms_rule *rule, double lambda,
                            int64_t t) {
  p->r = NULL;
  MS_NEED(rule);
  if (!isfinite(lambda))
    return ms_fail(MS_EINVAL, "lambda must be a finite number, got %g",
                   isnan(lambda) ? NAN : lambda);
  if (t < 1) return ms_fail(MS_EINVAL, "t must be >= 1, got %lld", (long long)t);
  p->cls = ms_rule_class_of(rule);
  p->lambda = lambda;
  p->t = t;
  p->m = 1 + (size_t)p->cls->nstate;
  if (p->m > MAX_M)
    return ms_fail(MS_EINVAL, "%s has more than %d state vectors", p->cls->name,
                   MAX_M - 1);
  ms_status st = ms_rule_clone(rule, &p->r);
  if (st == MS_OK) st = ms_rule_reset(p->r, 1);
  return st;
}

static void probe_close(probe *p) {
  ms_rule_free(p->r);
  p->r = NULL;
}

/* out = the step of z (m numbers each). */
static ms_status probe_step(probe *p, const double *z, double *out) {
  ms_rule_set_steps(p->r, p->t - 1);   /* the next step is step t */
  for (size_t i = 1; i < p->m; i++) ms_rule_state(p->r, (int)i - 1)[0] = z[i];
  double x = z[0], y, g;
  ms_status st = ms_rule_lookahead(p->r, &x, &y, 1);
  if (st != MS_OK) return st;
  g = p->lambda * y;
  if ((st = ms_rule_step(p->r, &x, &g, 1)) != MS_OK) return st;
  out[0] = x;
  for (size_t i = 1; i < p->m; i++) out[i] = ms_rule_state(p->r, (int)i - 1)[0];
  return MS_OK;
}

/* The name of entry i of z, for messages. */
static const char *entry(const probe *p, size_t i) {
  return i == 0 ? "x" : p->cls->state_names[i - 1];
}

static ms_status not_linear(const probe *p, const char *why) {
  return ms_fail(MS_EINVAL, "%s is not linear on lambda x^2 / 2 (lambda = %g, "
                 "step %lld): %s, so it has no iteration matrix", p->cls->name,
                 p->lambda, (long long)p->t, why);
}

/* The columns of M from the unit inputs; finite, or an error. */
static ms_status columns(probe *p, double *M, double *z, double *out) {
  size_t m = p->m;
  for (size_t j = 0; j < m; j++) {
    for (size_t i = 0; i < m; i++) z[i] = i == j;
    ms_status st = probe_step(p, z, out);
    if (st != MS_OK) return st;
    for (size_t i = 0; i < m; i++) {
      if (!isfinite(out[i]))
        return ms_fail(MS_ENONFINITE, "the step of %s from %s = 1 on lambda "
                       "x^2 / 2 (lambda = %g) gives %s = %g", p->cls->name,
                       entry(p, j), p->lambda, entry(p, i),
                       isnan(out[i]) ? NAN : out[i]);
      M[i * m + j] = out[i];
    }
  }
  return MS_OK;
}

/* Does the step of z agree with M z?  Within TOL of the largest term a
 * row's arithmetic can hold: |M_ij| |z_j|, or |z_j| itself where the
 * step cancels (x - lr lambda x with lr lambda near 1). */
static int predicted(const probe *p, const double *M, const double *z,
                     const double *out) {
  size_t m = p->m;
  double zmax = 0;
  for (size_t j = 0; j < m; j++) zmax = fmax(zmax, fabs(z[j]));
  for (size_t i = 0; i < m; i++) {
    double pred = 0, big = 1;
    for (size_t j = 0; j < m; j++) {
      pred += M[i * m + j] * z[j];
      big = fmax(big, fabs(M[i * m + j]));
    }
    if (!(fabs(out[i] - pred) <= TOL * (double)m * big * zmax)) return 0;
  }
  return 1;
}

/* Inputs that a linear step maps as M predicts, and what the failure of
 * each says. */
static ms_status check_linear(probe *p, const double *M, double *z,
                              double *out) {
  static const double scales[] = {1, 1e3, 1e-3};
  static const char *const why[] = {
      "its step of a combination of inputs is not that combination of its "
      "steps",
      "its step of inputs scaled by 1000 is not 1000 times its step",
      "its step of inputs scaled by 1/1000 is not 1/1000 of its step"};
  size_t m = p->m;
  for (size_t i = 0; i < m; i++) z[i] = 0;
  ms_status st = probe_step(p, z, out);
  if (st != MS_OK) return st;
  for (size_t i = 0; i < m; i++)
    if (out[i] != 0) {
      char detail[160];
      snprintf(detail, sizeof detail, "from x = 0 and a zero state its step "
               "gives %s = %g", entry(p, i), isnan(out[i]) ? NAN : out[i]);
      return not_linear(p, detail);
    }
  for (size_t k = 0; k < MS_COUNT(scales); k++) {
    /* fixed inputs of both signs, of no simple ratio to one another */
    for (size_t i = 0; i < m; i++) z[i] = scales[k] * cos(1.7 * (double)(i + 3 * k) + 0.3);
    if ((st = probe_step(p, z, out)) != MS_OK) return st;
    if (!predicted(p, M, z, out)) return not_linear(p, why[k]);
  }
  return MS_OK;
}

/* M of the open probe p (m x m), checked; scratch holds 2 m numbers. */
static ms_status probe_matrix(probe *p, double *M, double *scratch) {
  ms_status st = columns(p, M, scratch, scratch + p->m);
  return st == MS_OK ? check_linear(p, M, scratch, scratch + p->m) : st;
}

ms_status ms_rule_matrix(const ms_rule *rule, double lambda, int64_t t,
                         double *M) {
  MS_NEED(M);
  probe p;
  ms_status st = probe_open(&p, rule, lambda, t);
  double scratch[2 * MAX_M];
  if (st == MS_OK) st = probe_matrix(&p, M, scratch);
  probe_close(&p);
  return st;
}

/* The entries of z that matter to x: those a run reaches from x (M_ij != 0
 * is an edge j -> i) and that reach x back.  The others add eigenvalues
 * x never sees -- sgd's buffer at momentum 0, never written, would add 1;
 * nesterov's at t = 1, overwritten, 0 -- so the radius leaves them out.
 * They are unions of M's strongly connected parts, so M restricted to
 * them has exactly the eigenvalues of those parts.  Their count; their
 * indices into keep. */
static size_t relevant(const double *M, size_t m, size_t *keep) {
  unsigned char to[MAX_M] = {1}, from[MAX_M] = {1};
  for (int changed = 1; changed;) {
    changed = 0;
    for (size_t i = 0; i < m; i++)
      for (size_t j = 0; j < m; j++) {
        if (M[i * m + j] == 0) continue;
        if (to[j] && !to[i]) to[i] = changed = 1;       /* x ... -> j -> i */
        if (from[i] && !from[j]) from[j] = changed = 1; /* j -> i ... -> x */
      }
  }
  size_t k = 0;
  for (size_t i = 0; i < m; i++)
    if (to[i] && from[i]) keep[k++] = i;
  return k;
}

/* The eigenvalues of M (m x m) that x sees, the larger modulus first:
 * their count into *k, re and im (m numbers each). */
static ms_status spectrum(const double *M, size_t m, double *re, double *im,
                          size_t *k) {
  size_t keep[MAX_M];
  double S[MAX_M * MAX_M];
  *k = relevant(M, m, keep);
  for (size_t i = 0; i < *k; i++)
    for (size_t j = 0; j < *k; j++) S[i * *k + j] = M[keep[i] * m + keep[j]];
  return ms_matrix_eigenvalues(S, *k, re, im);
}

/* The spectral radius of what x sees of M; room: 2 m numbers. */
static ms_status radius_of(const double *M, size_t m, double *room,
                           double *rho) {
  size_t k;
  ms_status st = spectrum(M, m, room, room + m, &k);
  if (st == MS_OK) *rho = hypot(room[0], room[m]);   /* sorted: first */
  return st;
}

ms_status ms_rule_spectrum(const ms_rule *rule, double lambda, int64_t t,
                           double *re, double *im, size_t *count) {
  MS_NEED(re);
  MS_NEED(im);
  MS_NEED(count);
  *count = 0;
  probe p;
  ms_status st = probe_open(&p, rule, lambda, t);
  double M[MAX_M * MAX_M], scratch[2 * MAX_M];
  if (st == MS_OK && (st = probe_matrix(&p, M, scratch)) == MS_OK)
    st = spectrum(M, p.m, re, im, count);
  probe_close(&p);
  return st;
}

ms_status ms_rule_radius(const ms_rule *rule, const double *lambda,
                         size_t count, int64_t t, double *radius) {
  MS_NEED(lambda);
  MS_NEED(radius);
  if (count == 0) return ms_fail(MS_EINVAL, "no lambda: count must be >= 1");
  probe p;
  ms_status st = probe_open(&p, rule, lambda[0], t);
  double M[MAX_M * MAX_M], scratch[2 * MAX_M], rho = 0;
  for (size_t k = 0; st == MS_OK && k < count; k++) {
    if ((k & 63) == 63 && (st = ms_interrupted()) != MS_OK) break;
    if (!isfinite(lambda[k])) {
      st = ms_fail(MS_EINVAL, "lambda[%zu] must be a finite number, got %g",
                   k + 1, isnan(lambda[k]) ? NAN : lambda[k]);
      break;
    }
    p.lambda = lambda[k];
    double r;
    if ((st = probe_matrix(&p, M, scratch)) == MS_OK &&
        (st = radius_of(M, p.m, scratch, &r)) == MS_OK)
      rho = fmax(rho, r);
  }
  probe_close(&p);
  if (st == MS_OK) *radius = rho;
  return st;
}

ms_status ms_rule_region(const ms_rule *rule, const double *lambda,
                         size_t count, int64_t t, const char *xname,
                         const double *x, size_t nx, const char *yname,
                         const double *y, size_t ny, double *radius) {
  MS_NEED(rule);
  MS_NEED(xname);
  MS_NEED(x);
  MS_NEED(yname);
  MS_NEED(y);
  MS_NEED(radius);
  if (nx == 0 || ny == 0) return ms_fail(MS_EINVAL, "the grid is empty");
  const char *names[2] = {xname, yname};
  for (int a = 0; a < 2; a++)
    if (ms_rule_hyper_index(rule, names[a]) < 0)
      return ms_fail(MS_EINVAL, "%s has no hyper-parameter '%s'",
                     ms_rule_class_of(rule)->name, names[a]);
  ms_rule *r;
  ms_status st = ms_rule_clone(rule, &r);
  for (size_t i = 0; st == MS_OK && i < ny; i++)
    for (size_t j = 0; st == MS_OK && j < nx; j++) {
      if ((j & 63) == 0 && (st = ms_interrupted()) != MS_OK) break;   /* Ctrl-C */
      if ((st = ms_rule_set(r, xname, x[j])) != MS_OK ||
          (st = ms_rule_set(r, yname, y[i])) != MS_OK ||
          (st = ms_rule_radius(r, lambda, count, t, &radius[i * nx + j])) != MS_OK) {
        char detail[256];
        snprintf(detail, sizeof detail, "%s", ms_last_error());
        if (st != MS_ECALLBACK && st != MS_EINTR)
          st = ms_fail(st, "at %s = %g, %s = %g: %s", xname, x[j], yname, y[i],
                       detail);
      }
    }
  ms_rule_free(r);
  return st;
}
