/*
 * model.c -- models trained by the minibatch loop: linear regression with
 * d2l's squared loss or PyTorch's MSE, and logistic regression: both are
 * linear in the features, z = w'x + b, so one kernel computes the losses
 * and gradients of both.  The parameters are the weights, then the bias.
 */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct model_class {
  const char *name;
  int logistic;                 /* 0: linear regression, 1: logistic */
  double (*link)(double z);     /* the prediction from z = w'x + b */
} model_class;

struct ms_model {
  const model_class *cls;
  size_t d;
  ms_model_opts o;
};

void ms_model_opts_init(ms_model_opts *opts) {
  if (opts == NULL) return;
  opts->loss = MS_LOSS_SQUARED;
  opts->weight_std = 0.01;
  opts->bias_init = MS_BIAS_ZERO;
}

static double identity(double z) { return z; }

static double sigmoid(double z) {
  if (z >= 0) return 1 / (1 + exp(-z));
  double e = exp(z);
  return e / (1 + e);
}

/* -y log p - (1 - y) log(1 - p) = log(1 + e^z) - y z, without overflow. */
static double logistic_loss(double z, double y) {
  return (z > 0 ? z : 0) + log1p(exp(-fabs(z))) - y * z;
}

static const model_class linreg = {"linreg", 0, identity};
static const model_class logreg = {"logreg", 1, sigmoid};

static double dot(const double *x, const double *w, size_t d) {
  double z = 0;
  for (size_t j = 0; j < d; j++) z += x[j] * w[j];
  return z;
}

/* ------------------------------------------------- losses and gradients */

#if defined(__GNUC__)
#define INLINE inline __attribute__((always_inline))
#else
#define INLINE inline
#endif

enum { SMALL = 8 };   /* feature counts with a kernel of their own */

/* The sums over the examples rows[0 .. count) (0 .. count-1 when rows is
 * NULL) of the per-example losses (into *sum, when not NULL) and of their
 * gradients (times scale, into grad, when not NULL).  One pass: z = w'x +
 * b, the residual r = dloss/dz (yhat - y for least squares, p - y for the
 * logistic loss), then r x into the gradient.  Every sum runs over the
 * examples in order, so the result is the same bits wherever it runs.
 *
 * Inlined with d constant (d <= SMALL), the loops unroll and the gradient
 * stays in registers: the gradient of a minibatch of 10 airfoil examples
 * then takes half the time. */
static INLINE void pass(const ms_data *data, const double *p, size_t d,
                        int logistic, const size_t *rows, size_t count,
                        double scale, double *sum, double *grad) {
  double small[SMALL + 1], s = 0;
  double *acc = d <= SMALL ? small : grad;
  for (size_t j = 0; grad != NULL && j <= d; j++) acc[j] = 0;
  for (size_t k = 0; k < count; k++) {
    size_t i = rows != NULL ? rows[k] : k;
    const double *x = data->x + i * d;
    double z = 0, r;
#pragma GCC unroll 8
    for (size_t j = 0; j < d; j++) z += x[j] * p[j];
    z += p[d];
    if (logistic) {
      r = sigmoid(z) - data->y[i];
      if (sum != NULL) s += logistic_loss(z, data->y[i]);
    } else {
      r = z - data->y[i];
      s += r * r;
    }
    if (grad != NULL) {
#pragma GCC unroll 8
      for (size_t j = 0; j < d; j++) acc[j] += r * x[j];
      acc[d] += r;
    }
  }
  if (grad != NULL)
    for (size_t j = 0; j <= d; j++) grad[j] = acc[j] * scale;
  if (sum != NULL) *sum = s;
}

#define SUMS(D)                                                   \
  case D:                                                         \
    pass(data, p, D, 0, rows, count, scale, sum, grad);           \
    return;

static void sums(const ms_model *m, const ms_data *data, const double *p,
                 const size_t *rows, size_t count, double scale, double *sum,
                 double *grad) {
  switch (m->cls->logistic ? 0 : m->d) {
    SUMS(1) SUMS(2) SUMS(3) SUMS(4) SUMS(5) SUMS(6) SUMS(7) SUMS(8)
    default:
      pass(data, p, m->d, m->cls->logistic, rows, count, scale, sum, grad);
  }
}

/* --------------------------------------------------------- the interface */

static ms_status model_new(const model_class *cls, size_t features,
                           const ms_model_opts *opts, ms_model **out) {
  *out = NULL;
  ms_model_opts o;
  ms_model_opts_init(&o);
  if (opts != NULL) o = *opts;
  if (features == 0) return ms_fail(MS_EINVAL, "a model needs at least one feature");
  if (features > SIZE_MAX / 64)
    return ms_fail(MS_ERANGE, "%zu features are too many", features);
  if (!(o.weight_std >= 0) || !isfinite(o.weight_std))
    return ms_fail(MS_EINVAL, "weight_std must be a finite number >= 0");
  if (o.bias_init != MS_BIAS_ZERO && o.bias_init != MS_BIAS_UNIFORM)
    return ms_fail(MS_EINVAL, "unknown bias initialisation %d", (int)o.bias_init);
  int ok = cls == &linreg ? o.loss == MS_LOSS_SQUARED || o.loss == MS_LOSS_MSE
                          : o.loss == MS_LOSS_LOGISTIC;
  if (!ok)
    return ms_fail(MS_EINVAL, "%s cannot train on that loss", cls->name);
  ms_model *m = ms_calloc(1, sizeof *m);
  if (m == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  m->cls = cls;
  m->d = features;
  m->o = o;
  *out = m;
  return MS_OK;
}

ms_status ms_model_linreg(size_t features, const ms_model_opts *opts,
                          ms_model **out) {
  MS_NEED(out);
  return model_new(&linreg, features, opts, out);
}

ms_status ms_model_logreg(size_t features, const ms_model_opts *opts,
                          ms_model **out) {
  MS_NEED(out);
  ms_model_opts o;
  ms_model_opts_init(&o);
  if (opts != NULL) o = *opts;
  o.loss = MS_LOSS_LOGISTIC;   /* its only loss */
  return model_new(&logreg, features, &o, out);
}

void ms_model_free(ms_model *model) { free(model); }

/* A NULL model reads as none: no name, no features, no parameters. */
const char *ms_model_name(const ms_model *model) {
  return model ? model->cls->name : NULL;
}
void ms_model_options(const ms_model *model, ms_model_opts *opts) {
  if (model != NULL && opts != NULL) *opts = model->o;
}
size_t ms_model_features(const ms_model *model) { return model ? model->d : 0; }
size_t ms_model_nparams(const ms_model *model) {
  return model ? model->d + 1 : 0;
}

ms_status ms_model_accepts(const ms_model *model, const ms_data *data) {
  if (data->d != model->d)
    return ms_fail(MS_ESIZE, "the model takes %zu features but the data has %zu",
                   model->d, data->d);
  if (model->cls == &logreg)
    for (size_t i = 0; i < data->n; i++)
      if (!(data->y[i] >= 0 && data->y[i] <= 1))
        return ms_fail(MS_EINVAL,
                       "logreg needs labels in [0, 1], but example %zu has %g",
                       i + 1, data->y[i]);
  return MS_OK;
}

/* Per-example loss factor: the training loss is factor * sum / count. */
static double loss_factor(const ms_model *model) {
  return model->o.loss == MS_LOSS_SQUARED ? 0.5 : 1.0;
}

ms_status ms_model_batch(const ms_model *model, const ms_data *data,
                         const double *params, const size_t *rows,
                         size_t count, double *loss, double *grad) {
  double sum;
  /* d(1/2 r^2) = r dr, d(r^2) = 2 r dr; logistic: (p - y) dz */
  double scale = (model->o.loss == MS_LOSS_MSE ? 2.0 : 1.0) / (double)count;
  sums(model, data, params, rows, count, scale, loss ? &sum : NULL, grad);
  if (loss != NULL) *loss = loss_factor(model) * (sum / (double)count);
  return MS_OK;
}

ms_status ms_model_loss(const ms_model *model, const ms_data *data,
                        const double *params, const size_t *rows,
                        size_t count, double *loss, double *grad) {
  MS_NEED(model);
  MS_NEED(data);
  MS_NEED(params);
  ms_status st = ms_model_accepts(model, data);
  if (st != MS_OK) return st;
  if (rows == NULL) count = data->n;
  if (count == 0) return ms_fail(MS_EINVAL, "a minibatch needs at least one example");
  if (count > SIZE_MAX / sizeof *rows)   /* no such array of rows */
    return ms_fail(MS_ERANGE, "a minibatch of %zu examples is too large", count);
  for (size_t k = 0; rows != NULL && k < count; k++)
    if (rows[k] >= data->n)
      return ms_fail(MS_EINVAL, "row %zu is out of range (%zu examples)",
                     rows[k] + 1, data->n);
  return ms_model_batch(model, data, params, rows, count, loss, grad);
}

ms_status ms_model_evaluate(const ms_model *model, const ms_data *data,
                            const double *params, double *loss) {
  MS_NEED(model);
  MS_NEED(data);
  MS_NEED(params);
  MS_NEED(loss);
  ms_status st = ms_model_accepts(model, data);
  if (st != MS_OK) return st;
  double sum;
  sums(model, data, params, NULL, data->n, 1, &sum, NULL);
  double factor = model->cls == &linreg ? 0.5 : 1.0;   /* see the header */
  *loss = factor * (sum / (double)data->n);
  return MS_OK;
}

double ms_model_predict(const ms_model *model, const double *params,
                        const double *x) {
  if (model == NULL || params == NULL || x == NULL) return NAN;
  return model->cls->link(dot(x, params, model->d) + params[model->d]);
}

void ms_model_init(const ms_model *model, ms_rng *rng, double *params) {
  if (model == NULL || rng == NULL || params == NULL) return;
  size_t d = model->d;
  for (size_t j = 0; j < d; j++)
    params[j] = model->o.weight_std * ms_rng_normal(rng);
  params[d] = 0;
  if (model->o.bias_init == MS_BIAS_UNIFORM)
    params[d] = (2 * ms_rng_uniform(rng) - 1) / sqrt((double)d);
}

/* ------------------------------------------------------ least squares */

/* Solve A z = c in place (A symmetric positive definite, d x d, row-major,
 * its lower triangle overwritten by the Cholesky factor); 0 when A is not
 * numerically positive definite. */
static int cholesky_solve(double *A, double *c, size_t d) {
  double top = 0;
  for (size_t j = 0; j < d; j++) top = fmax(top, A[j * d + j]);
  for (size_t j = 0; j < d; j++) {
    double s = A[j * d + j];
    for (size_t k = 0; k < j; k++) s -= A[j * d + k] * A[j * d + k];
    if (!(s > 1e-12 * top)) return 0;
    double l = sqrt(s);
    A[j * d + j] = l;
    for (size_t i = j + 1; i < d; i++) {
      double t = A[i * d + j];
      for (size_t k = 0; k < j; k++) t -= A[i * d + k] * A[j * d + k];
      A[i * d + j] = t / l;
    }
  }
  for (size_t i = 0; i < d; i++) {          /* L u = c */
    for (size_t k = 0; k < i; k++) c[i] -= A[i * d + k] * c[k];
    c[i] /= A[i * d + i];
  }
  for (size_t i = d; i-- > 0;) {            /* L' z = u */
    for (size_t k = i + 1; k < d; k++) c[i] -= A[k * d + i] * c[k];
    c[i] /= A[i * d + i];
  }
  return 1;
}

/* w minimises sum (w'(x_i - mean x) - (y_i - mean y))^2: the normal
 * equations of the centred data, whose matrix is far better conditioned
 * than that of the data with a column of ones; then b = mean y - w'mean x. */
static ms_status least_squares(const ms_data *data, double *params) {
  size_t n = data->n, d = data->d;
  if (n < d + 1)
    return ms_fail(MS_EINVAL, "%zu examples cannot determine %zu parameters",
                   n, d + 1);
  size_t dd;   /* d x d, then d means: a product that must not wrap */
  if (!ms_size_mul(d, d, &dd) || dd > SIZE_MAX - d)
    return ms_fail(MS_ERANGE, "the normal equations of %zu features are too "
                              "large", d);
  double *A = ms_calloc(dd + d, sizeof *A);
  if (A == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  double *mean = A + dd, ymean = 0;
  for (size_t i = 0; i < n; i++) {
    ms_vec_add(mean, data->x + i * d, d);
    ymean += data->y[i];
  }
  ms_vec_scale(mean, 1 / (double)n, d);
  ymean /= (double)n;
  double *c = params;
  ms_vec_fill(c, 0, d);
  for (size_t i = 0; i < n; i++) {
    const double *x = data->x + i * d;
    double r = data->y[i] - ymean;
    for (size_t j = 0; j < d; j++) {
      double xj = x[j] - mean[j];
      c[j] += xj * r;
      for (size_t k = 0; k <= j; k++) A[j * d + k] += xj * (x[k] - mean[k]);
    }
  }
  int ok = cholesky_solve(A, c, d);
  if (ok) params[d] = ymean - ms_vec_dot(params, mean, d);
  free(A);
  if (!ok)
    return ms_fail(MS_EINVAL, "the features are linearly dependent: the "
                              "least-squares optimum is not unique");
  return MS_OK;
}

ms_status ms_model_optimum(const ms_model *model, const ms_data *data,
                           double *params, double *loss) {
  MS_NEED(model);
  MS_NEED(data);
  MS_NEED(params);
  MS_NEED(loss);
  ms_status st = ms_model_accepts(model, data);
  if (st != MS_OK) return st;
  if (model->cls != &linreg)
    return ms_fail(MS_EINVAL, "%s has no closed-form optimum", model->cls->name);
  if ((st = least_squares(data, params)) != MS_OK) return st;
  return ms_model_evaluate(model, data, params, loss);
}

/* ------------------------------------------------ the model as objective */

typedef struct model_objective {
  const ms_model *model;
  const ms_data *data;
} model_objective;

static ms_status objective_fn(void *ctx, const double *x, size_t n,
                              double *f, double *grad) {
  const model_objective *mo = ctx;
  (void)n;
  return ms_model_batch(mo->model, mo->data, x, NULL, mo->data->n, f, grad);
}

ms_status ms_model_objective(const ms_model *model, const ms_data *data,
                             ms_objective **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(model);
  MS_NEED(data);
  ms_status st = ms_model_accepts(model, data);
  if (st != MS_OK) return st;
  model_objective *mo = ms_calloc(1, sizeof *mo);
  if (mo == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  mo->model = model;
  mo->data = data;
  if ((st = ms_objective_new(model->d + 1, objective_fn, 1, mo, free, out)) != MS_OK) {
    free(mo);
    return st;
  }
  /* Its minimiser, when the model has one in closed form. */
  double *opt = model->cls == &linreg ? ms_calloc(model->d + 1, sizeof *opt) : NULL;
  int known = opt != NULL && least_squares(data, opt) == MS_OK;
  ms_objective_describe(*out, model->cls->name, NULL, known ? opt : NULL);
  free(opt);
  return MS_OK;
}
