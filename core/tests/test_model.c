/* test_model.c -- models: losses by hand, gradients against finite
 * differences, the least-squares optimum, initialisation, logistic
 * regression, and the model as an objective. */
#include <stdlib.h>

#include "check.h"
#include "momsandbox.h"

static ms_data *synthetic(size_t d, double noise, size_t n) {
  double w[12];
  for (size_t j = 0; j < d; j++) w[j] = (j % 2 ? -1.0 : 1.0) * (0.5 + 0.25 * (double)j);
  ms_data *data = NULL;
  CHECK_OK(ms_data_synthetic(w, d, 0.7, noise, n, 3, &data));
  return data;
}

static ms_model *linreg(size_t d, ms_loss loss) {
  ms_model_opts o;
  ms_model_opts_init(&o);
  o.loss = loss;
  ms_model *m = NULL;
  CHECK_OK(ms_model_linreg(d, &o, &m));
  return m;
}

/* Two examples, one feature: by hand. */
static void test_losses_by_hand(void) {
  const double X[2] = {1, 2}, y[2] = {1, 5}, p[2] = {2, 0.5};
  ms_data *data = NULL;
  CHECK_OK(ms_data_new(X, y, 2, 1, &data));
  ms_model *sq = linreg(1, MS_LOSS_SQUARED), *mse = linreg(1, MS_LOSS_MSE);
  /* residuals yhat - y: 2.5 - 1 = 1.5, 4.5 - 5 = -0.5 */
  double loss, g[2];
  CHECK_OK(ms_model_loss(sq, data, p, NULL, 0, &loss, g));
  CHECK_EQ(loss, 0.5 * (1.5 * 1.5 + 0.25) / 2);
  CHECK_EQ(g[0], (1.5 * 1 - 0.5 * 2) / 2);
  CHECK_EQ(g[1], (1.5 - 0.5) / 2);
  CHECK_OK(ms_model_loss(mse, data, p, NULL, 0, &loss, g));
  CHECK_EQ(loss, (1.5 * 1.5 + 0.25) / 2);
  CHECK_EQ(g[0], 2 * (1.5 * 1 - 0.5 * 2) / 2);
  /* both report half the mean squared error (d2l halves MSELoss) */
  double e1, e2;
  CHECK_OK(ms_model_evaluate(sq, data, p, &e1));
  CHECK_OK(ms_model_evaluate(mse, data, p, &e2));
  CHECK_EQ(e1, 0.5 * (1.5 * 1.5 + 0.25) / 2);
  CHECK_EQ(e1, e2);
  /* one example of the two, by row index */
  const size_t second[1] = {1};
  CHECK_OK(ms_model_loss(sq, data, p, second, 1, &loss, NULL));
  CHECK_EQ(loss, 0.5 * 0.25);
  CHECK_OK(ms_model_loss(sq, data, p, second, 1, NULL, g));
  CHECK_EQ(g[0], -0.5 * 2);
  const size_t bad[1] = {2};
  CHECK_STATUS(ms_model_loss(sq, data, p, bad, 1, &loss, g), MS_EINVAL);
  CHECK_ERROR_HAS("row 3 is out of range (2 examples)");
  CHECK_STATUS(ms_model_loss(sq, data, p, second, 0, &loss, g), MS_EINVAL);
  CHECK_EQ(ms_model_predict(sq, p, X + 1), 4.5);
  ms_model_free(sq);
  ms_model_free(mse);
  ms_data_free(data);
}

/* Central differences with step h, against the analytic gradient. */
static void gradcheck(ms_model *m, const ms_data *data, const size_t *rows,
                      size_t count, const double *p0, double tol) {
  size_t np = ms_model_nparams(m);
  double p[16], g[16], lp, lm;
  for (size_t j = 0; j < np; j++) p[j] = p0[j];
  CHECK_OK(ms_model_loss(m, data, p, rows, count, NULL, g));
  for (size_t j = 0; j < np; j++) {
    double h = 1e-5;
    p[j] = p0[j] + h;
    CHECK_OK(ms_model_loss(m, data, p, rows, count, &lp, NULL));
    p[j] = p0[j] - h;
    CHECK_OK(ms_model_loss(m, data, p, rows, count, &lm, NULL));
    p[j] = p0[j];
    CHECK_NEAR(g[j], (lp - lm) / (2 * h), tol * fmax(1, fabs(g[j])));
  }
}

static void test_gradients(void) {
  ms_data *data = synthetic(9, 0.3, 40);   /* 9 > the unrolled sizes */
  const double p[10] = {0.3, -0.2, 0.1, 0.5, -0.4, 0.2, 0.05, -0.1, 0.3, 0.2};
  const size_t rows[5] = {7, 3, 39, 3, 0};
  for (int k = 0; k < 2; k++) {
    ms_model *m = linreg(9, k ? MS_LOSS_MSE : MS_LOSS_SQUARED);
    gradcheck(m, data, NULL, 0, p, 1e-8);
    gradcheck(m, data, rows, 5, p, 1e-8);
    ms_model_free(m);
  }
  ms_data_free(data);
  for (size_t d = 1; d <= 8; d++) {      /* every unrolled size */
    data = synthetic(d, 0.3, 17);
    ms_model *m = linreg(d, MS_LOSS_SQUARED);
    gradcheck(m, data, rows + 3, 2, p, 1e-8);
    ms_model_free(m);
    ms_data_free(data);
  }
}

/* Labels in [0, 1]: the logistic loss, its gradient, and p = sigmoid. */
static void test_logreg(void) {
  const double X[6] = {1, 0, 0, 1, -1, 2}, y[3] = {1, 0, 0.25};
  ms_data *data = NULL;
  CHECK_OK(ms_data_new(X, y, 3, 2, &data));
  ms_model *m = NULL;
  CHECK_OK(ms_model_logreg(2, NULL, &m));
  CHECK(strcmp(ms_model_name(m), "logreg") == 0);
  const double p[3] = {0.5, -1, 0.25};
  double loss, want = 0;
  CHECK_OK(ms_model_loss(m, data, p, NULL, 0, &loss, NULL));
  for (size_t i = 0; i < 3; i++) {
    double z = X[2 * i] * p[0] + X[2 * i + 1] * p[1] + p[2];
    double q = 1 / (1 + exp(-z));
    want += -y[i] * log(q) - (1 - y[i]) * log(1 - q);
  }
  CHECK_NEAR(loss, want / 3, 1e-15);
  CHECK_NEAR(ms_model_predict(m, p, X), 1 / (1 + exp(-0.75)), 1e-16);
  gradcheck(m, data, NULL, 0, p, 1e-8);
  const double far[3] = {800, -800, 0};   /* no overflow in the loss */
  CHECK_OK(ms_model_loss(m, data, far, NULL, 0, &loss, NULL));
  CHECK(isfinite(loss) && loss > 100);
  double opt[3];
  CHECK_STATUS(ms_model_optimum(m, data, opt, &loss), MS_EINVAL);
  CHECK_ERROR_HAS("logreg has no closed-form optimum");
  ms_data_free(data);
  const double y2[3] = {1, 2, 0};
  CHECK_OK(ms_data_new(X, y2, 3, 2, &data));
  CHECK_STATUS(ms_model_loss(m, data, p, NULL, 0, &loss, NULL), MS_EINVAL);
  CHECK_ERROR_HAS("logreg needs labels in [0, 1], but example 2 has 2");
  ms_model_free(m);
  ms_data_free(data);
}

static void test_optimum(void) {
  /* noiseless data: the optimum is the truth, the loss zero */
  ms_data *data = synthetic(3, 0, 50);
  ms_model *m = linreg(3, MS_LOSS_SQUARED);
  double p[4], loss, g[4];
  CHECK_OK(ms_model_optimum(m, data, p, &loss));
  CHECK_NEAR(p[0], 0.5, 1e-12);
  CHECK_NEAR(p[1], -0.75, 1e-12);
  CHECK_NEAR(p[2], 1.0, 1e-12);
  CHECK_NEAR(p[3], 0.7, 1e-12);
  CHECK(loss < 1e-25);
  ms_data_free(data);
  /* noisy data: the gradient vanishes there, and any move costs */
  data = synthetic(3, 0.5, 50);
  CHECK_OK(ms_model_optimum(m, data, p, &loss));
  CHECK_OK(ms_model_loss(m, data, p, NULL, 0, NULL, g));
  for (int j = 0; j < 4; j++) CHECK(fabs(g[j]) < 1e-13);
  for (int j = 0; j < 4; j++) {
    double q[4] = {p[0], p[1], p[2], p[3]}, moved;
    q[j] += 1e-4;
    CHECK_OK(ms_model_evaluate(m, data, q, &moved));
    CHECK(moved > loss);
  }
  ms_data_free(data);
  /* a feature that copies another: no unique optimum */
  const double X[8] = {1, 1, 2, 2, 3, 3, 4, 4}, y[4] = {1, 2, 2, 5};
  CHECK_OK(ms_data_new(X, y, 4, 2, &data));
  ms_model *m2 = linreg(2, MS_LOSS_SQUARED);
  CHECK_STATUS(ms_model_optimum(m2, data, p, &loss), MS_EINVAL);
  CHECK_ERROR_HAS("linearly dependent");
  ms_data_free(data);
  CHECK_OK(ms_data_new(X, y, 2, 2, &data));     /* 2 examples, 3 parameters */
  CHECK_STATUS(ms_model_optimum(m2, data, p, &loss), MS_EINVAL);
  CHECK_ERROR_HAS("2 examples cannot determine 3 parameters");
  ms_data_free(data);
  data = synthetic(3, 0, 10);
  CHECK_STATUS(ms_model_optimum(m2, data, p, &loss), MS_ESIZE);
  CHECK_ERROR_HAS("the model takes 2 features but the data has 3");
  ms_data_free(data);
  ms_model_free(m);
  ms_model_free(m2);
}

static void test_init(void) {
  ms_model_opts o;
  ms_model_opts_init(&o);
  CHECK_EQ(o.weight_std, 0.01);
  ms_model *m = NULL;
  CHECK_OK(ms_model_linreg(4, &o, &m));
  ms_rng a, b;
  ms_rng_seed(&a, 5);
  ms_rng_seed(&b, 5);
  double p[5];
  ms_model_init(m, &a, p);
  for (int j = 0; j < 4; j++) CHECK_EQ(p[j], 0.01 * ms_rng_normal(&b));
  CHECK_EQ(p[4], 0);
  ms_model_free(m);
  o.bias_init = MS_BIAS_UNIFORM;
  o.weight_std = 0;
  CHECK_OK(ms_model_linreg(4, &o, &m));
  ms_rng_seed(&a, 5);
  ms_rng_seed(&b, 5);
  ms_model_init(m, &a, p);
  CHECK_EQ(p[0], 0);
  for (int j = 0; j < 4; j++) ms_rng_normal(&b);
  CHECK_EQ(p[4], (2 * ms_rng_uniform(&b) - 1) / 2);   /* 1/sqrt(4) */
  for (int s = 0; s < 100; s++) {
    ms_rng_seed(&a, (uint64_t)s);
    ms_model_init(m, &a, p);
    CHECK(fabs(p[4]) <= 0.5);
  }
  ms_model_options(m, &o);
  CHECK(o.bias_init == MS_BIAS_UNIFORM && o.loss == MS_LOSS_SQUARED);
  ms_model_free(m);
  o.weight_std = -1;
  CHECK_STATUS(ms_model_linreg(4, &o, &m), MS_EINVAL);
  ms_model_opts_init(&o);
  o.loss = MS_LOSS_LOGISTIC;
  CHECK_STATUS(ms_model_linreg(4, &o, &m), MS_EINVAL);
  CHECK_STATUS(ms_model_linreg(0, NULL, &m), MS_EINVAL);
  ms_model_free(NULL);
}

/* The full-data training loss as an objective: same value and gradient,
 * the optimum as its minimiser. */
static void test_objective(void) {
  ms_data *data = synthetic(3, 0.2, 30);
  ms_model *m = linreg(3, MS_LOSS_SQUARED);
  ms_objective *f = NULL;
  CHECK_OK(ms_model_objective(m, data, &f));
  CHECK(ms_objective_dim(f) == 4);
  const double p[4] = {0.1, 0.2, -0.3, 0.4};
  double v, w, g[4], h[4], opt[4], x[4], loss;
  CHECK_OK(ms_objective_eval(f, p, &v, g));
  CHECK_OK(ms_model_loss(m, data, p, NULL, 0, &w, h));
  CHECK_EQ(v, w);
  CHECK(memcmp(g, h, sizeof g) == 0);
  double err;
  size_t at;
  CHECK_OK(ms_objective_gradcheck(f, p, &err, &at));
  CHECK(err < 1e-8);
  CHECK(ms_objective_minimizer(f, x));
  CHECK_OK(ms_model_optimum(m, data, opt, &loss));
  CHECK(memcmp(x, opt, sizeof x) == 0);
  ms_objective_free(f);
  ms_model_free(m);
  m = linreg(2, MS_LOSS_SQUARED);
  CHECK_STATUS(ms_model_objective(m, data, &f), MS_ESIZE);
  ms_model_free(m);
  ms_data_free(data);
}

int main(void) {
  test_losses_by_hand();
  test_gradients();
  test_logreg();
  test_optimum();
  test_init();
  test_objective();
  return check_report("test_model");
}
