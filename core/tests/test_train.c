/* test_train.c -- the minibatch loop: one full batch is one gradient step,
 * every example once per epoch, reproducible runs, the loss curve, the
 * last smaller batch, divergence, failures, interrupts and CSV output. */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "momsandbox.h"
#include "momsandbox_pull.h"   /* ms_interrupt_clear */

static ms_rule *rule(const char *name, double lr, double beta) {
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find(name), &r));
  CHECK_OK(ms_rule_set(r, "lr", lr));
  if (beta >= 0) CHECK_OK(ms_rule_set(r, "beta", beta));
  return r;
}

static ms_data *synthetic(size_t n, uint64_t seed) {
  const double w[3] = {2, -3.4, 1};
  ms_data *d = NULL;
  CHECK_OK(ms_data_synthetic(w, 3, 4.2, 0.1, n, seed, &d));
  return d;
}

static ms_model *linreg(size_t d) {
  ms_model *m = NULL;
  CHECK_OK(ms_model_linreg(d, NULL, &m));
  return m;
}

/* batch = n, one epoch: x_1 = x_0 - lr * (1/n) sum_i (w'x_i + b - y_i) [x_i, 1] */
static void test_full_batch_is_gradient_descent(void) {
  const double X[6] = {1, 2, -1, 0.5, 3, -2}, y[3] = {1, -1, 2};
  const double init[3] = {0.5, -0.25, 0.125};
  ms_data *data = NULL;
  CHECK_OK(ms_data_new(X, y, 3, 2, &data));
  ms_model *m = linreg(2);
  ms_rule *gd = rule("gd", 0.1, -1);
  ms_train_opts o;
  ms_train_opts_init(&o);
  o.batch = 3;
  o.epochs = 1;
  o.init = init;
  ms_train_result *res = NULL;
  CHECK_OK(ms_train_run(m, data, gd, &o, &res));
  double g[3] = {0, 0, 0};
  for (int i = 0; i < 3; i++) {
    double r = X[2 * i] * init[0] + X[2 * i + 1] * init[1] + init[2] - y[i];
    g[0] += r * X[2 * i];
    g[1] += r * X[2 * i + 1];
    g[2] += r;
  }
  CHECK(ms_train_steps(res) == 1 && ms_train_nparams(res) == 3);
  for (int j = 0; j < 3; j++) {
    CHECK_NEAR(ms_train_params(res)[j], init[j] - 0.1 * g[j] / 3, 1e-15);
    CHECK_EQ(ms_train_init(res)[j], init[j]);
  }
  /* the reported loss is at the final parameters, over all the data */
  double loss;
  CHECK_OK(ms_model_evaluate(m, data, ms_train_params(res), &loss));
  CHECK_EQ(ms_train_final_loss(res), loss);
  CHECK_OK(ms_model_evaluate(m, data, init, &loss));
  CHECK_EQ(ms_train_initial_loss(res), loss);
  CHECK(ms_train_len(res) == 1 && ms_train_examples(res, 0) == 3);
  CHECK_EQ(ms_train_epoch(res, 0), 1);
  ms_train_free(res);
  ms_rule_free(gd);
  ms_model_free(m);
  ms_data_free(data);
}

/* A rule that records, per step, which examples the minibatch held: with
 * one-hot features and labels 1 at w = 0, b = 0, the gradient of w_i is
 * -1/m for the examples i of the minibatch and 0 for the others. */
enum { N = 23 };
static int seen[4][N];       /* times example i was seen in epoch e */
static int batch_of[4][N];   /* the minibatch (0, 1, 2) it was in */
static int steps_seen;

static ms_status record_step(void *ctx, const double *h, double *x,
                             const double *g, double *const *state, size_t n,
                             int64_t t) {
  (void)ctx, (void)h, (void)x, (void)state, (void)t;
  int epoch = steps_seen / 3, batch = steps_seen % 3;   /* 23 = 10 + 10 + 3 */
  steps_seen++;
  for (size_t i = 0; i + 1 < n && epoch < 4; i++)
    if (g[i] != 0) {
      seen[epoch][i]++;
      batch_of[epoch][i] = batch;
    }
  return MS_OK;
}

static const ms_hyper_info no_hyper[1] = {{"unused", 0, 0, 1, 0, 0, MS_HYPER_REAL}};
static const ms_rule_class recorder = {.name = "recorder", .nhyper = 1,
                                       .hyper = no_hyper, .step = record_step};

static void test_every_example_once(void) {
  double *X = calloc(N * N, sizeof *X), y[N], init[N + 1] = {0};
  for (int i = 0; i < N; i++) {
    X[i * N + i] = 1;
    y[i] = 1;
  }
  ms_data *data = NULL;
  CHECK_OK(ms_data_new(X, y, N, N, &data));
  free(X);
  ms_model *m = linreg(N);
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(&recorder, &r));
  ms_train_opts o;
  ms_train_opts_init(&o);
  o.epochs = 4;
  o.init = init;
  ms_train_result *res = NULL;
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  CHECK(ms_train_steps(res) == 12 && steps_seen == 12);
  int reordered = 0;   /* a fresh order every epoch */
  for (int e = 0; e < 4; e++)
    for (int i = 0; i < N; i++) {
      CHECK(seen[e][i] == 1);
      reordered |= e > 0 && batch_of[e][i] != batch_of[0][i];
    }
  CHECK(reordered);
  ms_train_free(res);
  /* drop_last: 2 minibatches of 10 per epoch, 20 examples */
  o.drop_last = 1;
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  CHECK(ms_train_steps(res) == 8);
  CHECK(ms_train_examples(res, ms_train_len(res) - 1) == 80);
  CHECK_EQ(ms_train_epochs_done(res), 4);
  ms_train_free(res);
  ms_rule_free(r);
  ms_model_free(m);
  ms_data_free(data);
}

/* The same seed gives the same bits; another seed, another run; an
 * explicit init keeps the seed's order of examples. */
static void test_reproducible(void) {
  ms_data *data = synthetic(200, 1);
  ms_model *m = linreg(3);
  ms_rule *r = rule("momentum", 0.02, 0.5);
  ms_train_opts o;
  ms_train_opts_init(&o);
  o.seed = 42;
  o.eval_every = 50;
  ms_train_result *a = NULL, *b = NULL, *c = NULL;
  CHECK_OK(ms_train_run(m, data, r, &o, &a));
  CHECK_OK(ms_train_run(m, data, r, &o, &b));
  CHECK(ms_train_len(a) == 8 && ms_train_len(b) == 8);
  CHECK(memcmp(ms_train_params(a), ms_train_params(b), 4 * sizeof(double)) == 0);
  for (size_t i = 0; i < ms_train_len(a); i++)
    CHECK(memcmp(&(double){ms_train_loss(a, i)}, &(double){ms_train_loss(b, i)},
                 sizeof(double)) == 0);
  o.init = ms_train_init(a);          /* the same start, given explicitly */
  CHECK_OK(ms_train_run(m, data, r, &o, &c));
  CHECK(memcmp(ms_train_params(a), ms_train_params(c), 4 * sizeof(double)) == 0);
  ms_train_free(b);
  ms_train_free(c);
  o.init = NULL;
  o.seed = 43;
  CHECK_OK(ms_train_run(m, data, r, &o, &b));
  CHECK(ms_train_params(a)[0] != ms_train_params(b)[0]);
  CHECK(ms_train_init(a)[0] != ms_train_init(b)[0]);
  ms_train_free(a);
  ms_train_free(b);
  /* shuffle = 0: the data's order, whatever the seed */
  o.shuffle = 0;
  CHECK_OK(ms_train_run(m, data, r, &o, &a));
  o.init = ms_train_init(a);
  o.seed = 7;
  CHECK_OK(ms_train_run(m, data, r, &o, &b));
  CHECK(memcmp(ms_train_params(a), ms_train_params(b), 4 * sizeof(double)) == 0);
  ms_train_free(a);
  ms_train_free(b);
  ms_rule_free(r);
  ms_model_free(m);
  ms_data_free(data);
}

/* Evaluations every eval_every examples, and at the end. */
static void test_curve(void) {
  ms_data *data = synthetic(1500, 2);
  ms_model *m = linreg(3);
  ms_rule *r = rule("momentum", 0.01, 0.9);
  ms_train_opts o;
  ms_train_opts_init(&o);
  ms_train_result *res = NULL;
  CHECK_OK(ms_train_run(m, data, r, &o, &res));   /* d2l's: 15 points */
  CHECK(ms_train_len(res) == 15 && ms_train_steps(res) == 300);
  for (size_t i = 0; i < 15; i++) {
    CHECK(ms_train_examples(res, i) == 200 * (int64_t)(i + 1));
    CHECK_NEAR(ms_train_epoch(res, i), 200.0 * (double)(i + 1) / 1500, 1e-15);
  }
  CHECK_EQ(ms_train_final_loss(res), ms_train_loss(res, 14));
  CHECK(ms_train_final_loss(res) < 0.01 && ms_train_initial_loss(res) > 10);
  CHECK(ms_train_seconds(res) > 0 && ms_train_wall(res) >= ms_train_seconds(res));
  CHECK_NEAR(ms_train_sec_per_epoch(res), ms_train_seconds(res) / 2, 1e-15);
  CHECK(ms_train_diverged(res) == 0 && ms_train_reason(res)[0] == '\0');
  ms_train_free(res);
  /* batch 30: an evaluation once 200, 400, ... have been passed */
  o.batch = 30;
  o.epochs = 1;
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  CHECK(ms_train_len(res) == 8);
  CHECK(ms_train_examples(res, 0) == 210 && ms_train_examples(res, 1) == 420);
  CHECK(ms_train_examples(res, 7) == 1500);     /* the end */
  ms_train_free(res);
  o.eval_every = 0;                             /* only at the end */
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  CHECK(ms_train_len(res) == 1 && ms_train_examples(res, 0) == 1500);
  ms_train_free(res);
  o.epochs = 0;                                 /* no training at all */
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  CHECK(ms_train_steps(res) == 0 && ms_train_len(res) == 1);
  CHECK_EQ(ms_train_final_loss(res), ms_train_initial_loss(res));
  CHECK_EQ(ms_train_sec_per_epoch(res), 0);
  ms_train_free(res);
  ms_rule_free(r);
  /* a look-ahead rule (Nesterov's) takes its gradients at y */
  r = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find("nag"), &r));
  CHECK_OK(ms_rule_set(r, "lr", 0.01));
  ms_train_opts_init(&o);
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  double opt[4], best;
  CHECK_OK(ms_model_optimum(m, data, opt, &best));
  CHECK(ms_train_final_loss(res) >= best && ms_train_final_loss(res) < best + 0.01);
  ms_train_free(res);
  ms_rule_free(r);
  ms_model_free(m);
  ms_data_free(data);
}

static void test_divergence(void) {
  ms_data *data = synthetic(100, 3);
  ms_model *m = linreg(3);
  ms_rule *r = rule("momentum", 5, 0.9);
  ms_train_opts o;
  ms_train_opts_init(&o);
  o.epochs = 100;
  ms_train_result *res = NULL;
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  int64_t k = ms_train_diverged(res);
  CHECK(k > 1 && k < 1000 && ms_train_steps(res) == k);
  CHECK(strstr(ms_train_reason(res), "is inf") != NULL ||
        strstr(ms_train_reason(res), "is nan") != NULL);
  CHECK(!isfinite(ms_train_final_loss(res)));
  for (int j = 0; j < 4; j++) CHECK(isfinite(ms_train_params(res)[j]));
  for (size_t i = 0; i < ms_train_len(res); i++) CHECK(isfinite(ms_train_loss(res, i)));
  ms_train_free(res);
  ms_rule_free(r);
  /* an lr so large that the parameters overflow in one step */
  r = rule("gd", 1e308, -1);
  CHECK_OK(ms_train_run(m, data, r, &o, &res));
  CHECK(ms_train_diverged(res) == 1);
  CHECK(strstr(ms_train_reason(res), "w[") != NULL || strstr(ms_train_reason(res), "b is") != NULL);
  CHECK(isnan(ms_train_final_loss(res)));
  CHECK(memcmp(ms_train_params(res), ms_train_init(res), 4 * sizeof(double)) == 0);
  ms_train_free(res);
  ms_rule_free(r);
  ms_model_free(m);
  ms_data_free(data);
}

static void test_bad_arguments(void) {
  ms_data *data = synthetic(50, 4);
  ms_model *m = linreg(3), *m4 = linreg(4);
  ms_rule *r = rule("gd", 0.1, -1);
  ms_train_opts o;
  ms_train_opts_init(&o);
  ms_train_result *res = (ms_train_result *)1;
  CHECK_STATUS(ms_train_run(m4, data, r, &o, &res), MS_ESIZE);
  CHECK(res == NULL);
  CHECK_ERROR_HAS("the model takes 4 features but the data has 3");
  o.batch = 0;
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_EINVAL);
  CHECK_ERROR_HAS("batch must be >= 1, got 0");
  o.batch = 51;
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_EINVAL);
  CHECK_ERROR_HAS("batch = 51 is larger than the data (50 examples)");
  o.batch = 50;
  o.epochs = -1;
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_EINVAL);
  CHECK_ERROR_HAS("epochs must be >= 0, got -1");
  o.epochs = INT64_MAX / 2;
  CHECK_STATUS(ms_train_check(m, data, &o), MS_ERANGE);
  o.epochs = 1000000000;
  o.eval_every = 1;
  CHECK_STATUS(ms_train_check(m, data, &o), MS_ERANGE);
  CHECK_ERROR_HAS("larger eval_every");
  o.epochs = 1;
  o.eval_every = -5;
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_EINVAL);
  CHECK_ERROR_HAS("eval_every must be >= 0");
  o.eval_every = 200;
  const double init[4] = {0, INFINITY, 0, 0};
  o.init = init;
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_EINVAL);
  CHECK_ERROR_HAS("init[2] is not finite");
  const double huge[4] = {1e200, 1e200, 1e200, 0};
  o.init = huge;
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_ENONFINITE);
  CHECK_ERROR_HAS("the loss at the initial parameters is inf");
  o.init = NULL;
  ms_rule *unset = NULL;
  CHECK_OK(ms_rule_new(ms_rule_class_find("gd"), &unset));
  CHECK_STATUS(ms_train_run(m, data, unset, &o, &res), MS_EINVAL);
  CHECK_ERROR_HAS("lr is required");
  ms_rule_free(unset);
  ms_rule_free(r);
  ms_model_free(m);
  ms_model_free(m4);
  ms_data_free(data);
}

/* A failing rule stops the run, whose status reaches the caller. */
static int calls;
static ms_status failing_step(void *ctx, const double *h, double *x,
                              const double *g, double *const *state, size_t n,
                              int64_t t) {
  (void)ctx, (void)h, (void)x, (void)g, (void)state, (void)n, (void)t;
  return ++calls == 7 ? MS_ECALLBACK : MS_OK;
}

static const ms_rule_class failing = {.name = "failing", .nhyper = 1,
                                      .hyper = no_hyper, .step = failing_step};

/* Stops the run through ms_interrupt, as Ctrl-C does. */
static ms_status interrupting_step(void *ctx, const double *h, double *x,
                                   const double *g, double *const *state,
                                   size_t n, int64_t t) {
  (void)ctx, (void)h, (void)x, (void)g, (void)state, (void)n;
  if (t == 10) ms_interrupt();
  return MS_OK;
}

static const ms_rule_class interrupting = {.name = "interrupting", .nhyper = 1,
                                           .hyper = no_hyper,
                                           .step = interrupting_step};

static int reports;
static ms_status stop_report(void *ctx, int64_t step, int64_t steps,
                             double seconds) {
  (void)ctx;
  reports++;
  CHECK(step > 0 && step < steps && seconds >= 0.1);
  return MS_EINTR;
}

static void test_stops(void) {
  ms_data *data = synthetic(100, 5);
  ms_model *m = linreg(3);
  ms_rule *r = NULL;
  CHECK_OK(ms_rule_new(&failing, &r));
  ms_train_result *res = (ms_train_result *)1;
  CHECK_STATUS(ms_train_run(m, data, r, NULL, &res), MS_ECALLBACK);
  CHECK(res == NULL && calls == 7);
  ms_rule_free(r);
  CHECK_OK(ms_rule_new(&interrupting, &r));
  ms_train_opts o;
  ms_train_opts_init(&o);
  o.epochs = 10000;                /* 100000 steps: polled every 1024 */
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_EINTR);
  CHECK(res == NULL);
  ms_interrupt_clear();   /* served (the host's business) */
  CHECK_OK(ms_train_run(m, data, r, NULL, &res));   /* its t = 10 asks again, */
  ms_interrupt_clear();                              /* after its last poll */
  ms_train_free(res);
  ms_rule_free(r);
  /* the progress report comes after 0.1 s and may stop the run */
  r = rule("gd", 0.01, -1);
  o.epochs = INT64_MAX / 200;
  o.eval_every = 0;
  o.progress = stop_report;
  CHECK_STATUS(ms_train_run(m, data, r, &o, &res), MS_EINTR);
  CHECK(reports == 1);
  ms_rule_free(r);
  ms_model_free(m);
  ms_data_free(data);
}

static void test_csv(void) {
  ms_data *data = synthetic(400, 6);
  ms_model *m = linreg(3);
  ms_rule *r = rule("momentum", 0.01, 0.9);
  ms_train_result *res = NULL;
  CHECK_OK(ms_train_run(m, data, r, NULL, &res));
  char dir[] = "/tmp/ms_test_train_XXXXXX", path[64];
  CHECK(mkdtemp(dir) != NULL);
  snprintf(path, sizeof path, "%s/loss.csv", dir);
  CHECK_OK(ms_train_write_csv(res, path));
  FILE *fp = fopen(path, "r");
  char line[128];
  CHECK(fp != NULL && fgets(line, sizeof line, fp) != NULL);
  CHECK(strcmp(line, "examples,epoch,loss\n") == 0);
  long long ex;
  double epoch, loss;
  CHECK(fscanf(fp, "%lld,%lf,%lf", &ex, &epoch, &loss) == 3);
  CHECK(ex == 200 && epoch == 0.5 && loss == ms_train_loss(res, 0));
  fclose(fp);
  remove(path);
  snprintf(path, sizeof path, "%s/no/loss.csv", dir);
  CHECK_STATUS(ms_train_write_csv(res, path), MS_EIO);
  rmdir(dir);
  ms_train_free(res);
  ms_rule_free(r);
  ms_model_free(m);
  ms_data_free(data);
}

int main(void) {
  test_full_batch_is_gradient_descent();
  test_every_example_once();
  test_reproducible();
  test_curve();
  test_divergence();
  test_bad_arguments();
  test_stops();
  test_csv();
  return check_report("test_train");
}
