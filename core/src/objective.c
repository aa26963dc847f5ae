/*
 * objective.c -- the objective interface, finite differences, and the
 * quadratic built-ins.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include "internal.h"

struct ms_objective {
  size_t dim;
  const char *name;
  ms_objective_fn fn;
  int has_grad;
  void *ctx;
  ms_free_fn free_ctx;
  double window[4];   /* plotting window of a 2-D objective, if has_window */
  int has_window;
  double *minimizer;  /* a global minimiser, if known (dim numbers) */
  int pure;           /* a built-in: evaluation runs no user code */
  ms_formula kernel;   /* the formula, for loops that inline it */
  const double *kdata;
  double kparams[2];
};

ms_status ms_objective_new(size_t dim, ms_objective_fn fn, int has_grad,
                           void *ctx, ms_free_fn free_ctx,
                           ms_objective **out) {
  MS_NEED(out);
  *out = NULL;
  if (dim == 0) return ms_fail(MS_EINVAL, "dimension must be at least 1");
  if (dim > SIZE_MAX / sizeof(double))   /* x itself could not exist */
    return ms_fail(MS_ERANGE, "dimension %zu is too large", dim);
  if (fn == NULL) return ms_fail(MS_EINVAL, "objective function is NULL");
  ms_objective *obj = ms_calloc(1, sizeof *obj);
  if (obj == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  obj->dim = dim;
  obj->name = "objective";
  obj->fn = fn;
  obj->has_grad = has_grad != 0;
  obj->ctx = ctx;
  obj->free_ctx = free_ctx;
  *out = obj;
  return MS_OK;
}

void ms_objective_free(ms_objective *obj) {
  if (obj == NULL) return;
  if (obj->free_ctx) obj->free_ctx(obj->ctx);
  free(obj->minimizer);
  free(obj);
}

void ms_objective_describe(ms_objective *obj, const char *name,
                           const double *window, const double *minimizer) {
  obj->name = name;
  obj->pure = 1;
  if (window != NULL) {
    ms_vec_copy(obj->window, window, 4);
    obj->has_window = 1;
  }
  if (minimizer != NULL &&
      (obj->minimizer = ms_calloc(obj->dim, sizeof(double))) != NULL)
    ms_vec_copy(obj->minimizer, minimizer, obj->dim);
}

void ms_objective_set_formula(ms_objective *obj, ms_formula kernel,
                             const double *data, double a, double b) {
  obj->kernel = kernel;
  obj->kdata = data;
  obj->kparams[0] = a;
  obj->kparams[1] = b;
}

ms_formula ms_objective_formula(const ms_objective *obj, const double **data,
                              double params[2]) {
  if (obj == NULL) return MS_FORMULA_NONE;
  *data = obj->kdata;
  params[0] = obj->kparams[0];
  params[1] = obj->kparams[1];
  return obj->kernel;
}

int ms_objective_window(const ms_objective *obj, double window[4]) {
  if (obj == NULL) return 0;
  if (obj->has_window) ms_vec_copy(window, obj->window, 4);
  return obj->has_window;
}

int ms_objective_minimizer(const ms_objective *obj, double *x) {
  if (obj == NULL) return 0;
  if (obj->minimizer != NULL) ms_vec_copy(x, obj->minimizer, obj->dim);
  return obj->minimizer != NULL;
}

void *ms_objective_context(const ms_objective *obj, ms_objective_fn fn) {
  return obj != NULL && obj->fn == fn ? obj->ctx : NULL;
}

/* A NULL objective reads as none: dimension 0, no name, no gradient. */
size_t ms_objective_dim(const ms_objective *obj) {
  return obj != NULL ? obj->dim : 0;
}
const char *ms_objective_name(const ms_objective *obj) {
  return obj != NULL ? obj->name : NULL;
}
int ms_objective_has_grad(const ms_objective *obj) {
  return obj != NULL && obj->has_grad;
}
int ms_objective_is_pure(const ms_objective *obj) {
  return obj != NULL && obj->pure;
}

static ms_status numgrad(ms_objective *obj, const double *x, double *grad);

ms_status ms_objective_eval(ms_objective *obj, const double *x, double *f,
                            double *grad) {
  MS_NEED(obj);
  MS_NEED(x);
  if (grad != NULL && !obj->has_grad) {
    if (f != NULL) {
      ms_status st = obj->fn(obj->ctx, x, obj->dim, f, NULL);
      if (st != MS_OK) return st;
    }
    return numgrad(obj, x, grad);   /* in a loop: its interrupt stands */
  }
  return obj->fn(obj->ctx, x, obj->dim, f, grad);
}

static ms_status value_at(ms_objective *obj, const double *x, double *f) {
  return obj->fn(obj->ctx, x, obj->dim, f, NULL);
}

/* Coordinates between looks at ms_interrupted: 4 evaluations of f (each
 * of at least n operations) per coordinate, so a look at least every
 * 16384 n operations, and at every coordinate from n = 4096 on. */
enum { NUMGRAD_POLL = 4096 };

/* Fourth-order central differences,
 *   f'(x) ~ (f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h,
 * with h = eps^(1/5) max(1, |x_i|), which balances the O(h^4) truncation
 * error against the O(eps/h) rounding error.  The 4n evaluations of f
 * take long for a large objective: Ctrl-C stops them (MS_EINTR). */
static ms_status numgrad(ms_objective *obj, const double *x, double *grad) {
  size_t n = obj->dim;
  size_t poll_every = n < NUMGRAD_POLL ? NUMGRAD_POLL / n : 1, next_poll = 0;
  double *xs = ms_calloc(n, sizeof *xs);
  if (xs == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  ms_vec_copy(xs, x, n);
  ms_status st = MS_OK;
  for (size_t i = 0; i < n && st == MS_OK; i++) {
    if (i == next_poll) {
      if ((st = ms_interrupted()) != MS_OK) break;
      next_poll += poll_every;
    }
    double xi = x[i];
    double h = pow(DBL_EPSILON, 0.2) * fmax(1.0, fabs(xi));
    volatile double xh = xi + h;  /* make h exactly representable */
    h = xh - xi;
    double fv[4];
    static const double offset[4] = {-2, -1, 1, 2};
    for (int k = 0; k < 4 && st == MS_OK; k++) {
      xs[i] = xi + offset[k] * h;
      st = value_at(obj, xs, &fv[k]);
    }
    xs[i] = xi;
    grad[i] = (fv[0] - 8 * fv[1] + 8 * fv[2] - fv[3]) / (12 * h);
  }
  free(xs);
  return st;
}

ms_status ms_objective_numgrad(ms_objective *obj, const double *x,
                               double *grad) {
  MS_NEED(obj);
  MS_NEED(x);
  MS_NEED(grad);
  return numgrad(obj, x, grad);
}

ms_status ms_objective_gradcheck(ms_objective *obj, const double *x,
                                 double *max_error, size_t *index) {
  MS_NEED(obj);
  MS_NEED(x);
  MS_NEED(max_error);
  MS_NEED(index);
  size_t n = obj->dim, two_n, bytes;   /* two gradients */
  if (!ms_size_mul(n, 2, &two_n) ||
      !ms_size_mul(two_n, sizeof(double), &bytes))
    return ms_fail(MS_ERANGE, "gradcheck: dimension %zu is too large", n);
  double *a = ms_calloc(two_n, sizeof *a), *num = a + n;
  if (a == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  ms_status st = ms_objective_eval(obj, x, NULL, a);
  if (st == MS_OK) st = numgrad(obj, x, num);
  *max_error = 0;
  *index = 0;
  for (size_t i = 0; st == MS_OK && i < n; i++) {
    /* relative where the gradient is large, absolute below 1: at a
     * stationary point finite differences only have rounding noise */
    double scale = fmax(fmax(fabs(a[i]), fabs(num[i])), 1);
    double err = fabs(a[i] - num[i]) / scale;
    if (!(err <= *max_error)) {   /* NaN counts as the worst */
      *max_error = err;
      *index = i;
    }
  }
  free(a);
  return st;
}

/* ------------------------------------------------ f(x) = 1/2 sum l_i x_i^2 */

typedef struct {
  size_t n;
  double lambda[];
} diag_quadratic;

static ms_status diag_quadratic_fn(void *ctx, const double *x, size_t n,
                                   double *f, double *grad) {
  const double *l = ((diag_quadratic *)ctx)->lambda;
  if (f != NULL) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += 0.5 * l[i] * x[i] * x[i];
    *f = s;
  }
  if (grad != NULL)
    for (size_t i = 0; i < n; i++) grad[i] = l[i] * x[i];
  return MS_OK;
}

ms_status ms_objective_quadratic(const double *lambda, size_t n,
                                 ms_objective **out) {
  MS_NEED(out);
  *out = NULL;
  if (n == 0) return ms_fail(MS_EINVAL, "lambda must not be empty");
  MS_NEED(lambda);
  if (n > (SIZE_MAX - sizeof(diag_quadratic)) / sizeof(double))
    return ms_fail(MS_ERANGE, "a quadratic of dimension %zu is too large", n);
  for (size_t i = 0; i < n; i++)
    if (!isfinite(lambda[i]))
      return ms_fail(MS_EINVAL, "lambda[%zu] is not finite", i + 1);
  diag_quadratic *q = ms_calloc(1, sizeof *q + n * sizeof(double));
  if (q == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  q->n = n;
  ms_vec_copy(q->lambda, lambda, n);
  ms_status st = ms_objective_new(n, diag_quadratic_fn, 1, q, free, out);
  if (st != MS_OK) {
    free(q);
    return st;
  }
  double *zero = ms_calloc(n, sizeof *zero);
  ms_objective_describe(*out, "quadratic", NULL, zero);
  ms_objective_set_formula(*out, MS_FORMULA_DIAGONAL, q->lambda, 0, 0);
  free(zero);
  return MS_OK;
}

/* ------------------------------------------- h(x) = 1/2 x'Qx + c'x + b */

typedef struct {
  size_t n;
  double b;
  double *c;     /* n */
  double Q[];    /* n x n, row-major */
} quadratic_form;

static ms_status quadratic_form_fn(void *ctx, const double *x, size_t n,
                                   double *f, double *grad) {
  const quadratic_form *q = ctx;
  double fx = q->b;
  for (size_t i = 0; i < n; i++) {
    double qx = ms_vec_dot(q->Q + i * n, x, n);  /* (Qx)_i */
    if (grad != NULL) grad[i] = qx + q->c[i];
    fx += x[i] * (0.5 * qx + q->c[i]);
  }
  if (f != NULL) *f = fx;
  return MS_OK;
}

ms_status ms_check_symmetric(const double *Q, size_t n) {
  if (n == 0) return ms_fail(MS_EINVAL, "Q must not be empty");
  if (Q == NULL) return ms_fail(MS_EINVAL, "Q is NULL");
  if (n > 46340) return ms_fail(MS_ERANGE, "Q is too large (n = %zu)", n);
  double big = 0.0;
  for (size_t i = 0; i < n * n; i++) {
    if (!isfinite(Q[i]))
      return ms_fail(MS_EINVAL, "Q[%zu][%zu] is not finite", i / n + 1,
                     i % n + 1);
    big = fmax(big, fabs(Q[i]));
  }
  for (size_t i = 0; i < n; i++)
    for (size_t j = i + 1; j < n; j++)
      if (fabs(Q[i * n + j] - Q[j * n + i]) > 1e-12 * big)
        return ms_fail(MS_EINVAL,
                       "Q is not symmetric: Q[%zu][%zu] = %g but "
                       "Q[%zu][%zu] = %g",
                       i + 1, j + 1, Q[i * n + j], j + 1, i + 1, Q[j * n + i]);
  return MS_OK;
}

ms_status ms_objective_quadratic_form(const double *Q, const double *c,
                                      double b, size_t n, ms_objective **out) {
  MS_NEED(out);
  *out = NULL;
  ms_status st = ms_check_symmetric(Q, n);
  if (st != MS_OK) return st;
  for (size_t i = 0; c != NULL && i < n; i++)
    if (!isfinite(c[i]))
      return ms_fail(MS_EINVAL, "c[%zu] is not finite", i + 1);
  if (!isfinite(b)) return ms_fail(MS_EINVAL, "b is not finite");
  quadratic_form *q = ms_calloc(1, sizeof *q + (n * n + n) * sizeof(double));
  if (q == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  q->n = n;
  q->b = b;
  q->c = q->Q + n * n;
  ms_vec_copy(q->Q, Q, n * n);
  if (c != NULL) ms_vec_copy(q->c, c, n);
  st = ms_objective_new(n, quadratic_form_fn, 1, q, free, out);
  if (st != MS_OK) {
    free(q);
    return st;
  }
  ms_objective_describe(*out, "quadratic_form", NULL, NULL);
  return MS_OK;
}

/* ------------------------------------------------------- introspection */

int ms_objective_diagonal(const ms_objective *obj, double *lambda) {
  if (obj == NULL) return 0;
  size_t n = obj->dim;
  if (obj->fn == diag_quadratic_fn) {
    if (lambda != NULL)
      ms_vec_copy(lambda, ((const diag_quadratic *)obj->ctx)->lambda, n);
    return 1;
  }
  if (obj->fn != quadratic_form_fn) return 0;
  const quadratic_form *q = obj->ctx;
  if (q->b != 0) return 0;
  for (size_t i = 0; i < n; i++) {
    if (q->c[i] != 0) return 0;
    for (size_t j = 0; j < n; j++)
      if (i != j && q->Q[i * n + j] != 0) return 0;
  }
  for (size_t i = 0; lambda != NULL && i < n; i++) lambda[i] = q->Q[i * n + i];
  return 1;
}

int ms_objective_quadratic_parts(const ms_objective *obj, double *Q,
                                 double *c, double *b) {
  if (obj == NULL) return 0;
  size_t n = obj->dim;
  if (obj->fn == diag_quadratic_fn) {
    const double *l = ((const diag_quadratic *)obj->ctx)->lambda;
    for (size_t i = 0; Q != NULL && i < n; i++)
      for (size_t j = 0; j < n; j++) Q[i * n + j] = i == j ? l[i] : 0;
    if (c != NULL) ms_vec_fill(c, 0, n);
    if (b != NULL) *b = 0;
    return 1;
  }
  if (obj->fn != quadratic_form_fn) return ms_expr_quadratic_parts(obj, Q, c, b);
  const quadratic_form *q = obj->ctx;
  if (Q != NULL) ms_vec_copy(Q, q->Q, n * n);
  if (c != NULL) ms_vec_copy(c, q->c, n);
  if (b != NULL) *b = q->b;
  return 1;
}
