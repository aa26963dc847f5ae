/*
 * train.c -- the minibatch loop of d2l's train_ch11: shuffled minibatches,
 * one rule step each, the loss over the whole data set every eval_every
 * examples, and a timer that, like d2l's, runs only while training.
 *
 * Nothing is allocated inside the loop: the order of the examples is an
 * index array shuffled in place each epoch, and a minibatch is a slice of
 * it, which the model's gradient walks in one pass.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

enum { POLL = 1024 };        /* steps between looks at interrupts and time */
static const double progress_period = 0.1;            /* seconds */
static const double max_bytes = 1024.0 * 1024 * 1024;

struct ms_train_result {
  size_t np;              /* parameters */
  size_t d;               /* of which weights */
  int64_t per_epoch;      /* examples per epoch */
  size_t len, cap;        /* points of the loss curve, room for */
  int64_t *examples;      /* examples seen at each point */
  double *loss;           /* the reported loss there */
  double initial, final;
  int64_t steps, steps_per_epoch;
  double seconds, wall;
  double *params, *init;  /* np each */
  int64_t diverged;
  char reason[200];
};

void ms_train_opts_init(ms_train_opts *opts) {
  if (opts == NULL) return;
  memset(opts, 0, sizeof *opts);
  opts->batch = 10;
  opts->epochs = 2;
  opts->seed = 1;
  opts->eval_every = 200;
  opts->shuffle = 1;
}

void ms_train_free(ms_train_result *res) {
  if (res == NULL) return;
  free(res->examples);
  free(res->loss);
  free(res->params);
  free(res);
}

/* Minibatches and examples of one epoch. */
static void epoch_shape(size_t n, const ms_train_opts *o, int64_t *batches,
                        int64_t *examples) {
  int64_t b = o->batch, full = (int64_t)n / b;
  *batches = o->drop_last || (int64_t)n % b == 0 ? full : full + 1;
  *examples = o->drop_last ? full * b : (int64_t)n;
}

/* Points on the loss curve: one per eval_every examples, and the end. */
static ms_status capacity(size_t n, const ms_train_opts *o, size_t *cap) {
  int64_t batches, per_epoch;
  epoch_shape(n, o, &batches, &per_epoch);
  if (o->epochs > INT64_MAX / per_epoch)
    return ms_fail(MS_ERANGE, "epochs = %lld is too many",
                   (long long)o->epochs);
  int64_t total = o->epochs * per_epoch;
  int64_t points = (o->eval_every > 0 ? total / o->eval_every : 0) + 1;
  double bytes = (double)points * (sizeof(int64_t) + sizeof(double));
  if (bytes > max_bytes)
    return ms_fail(MS_ERANGE,
                   "a loss curve of %lld points needs %.1f GiB (limit 1 GiB): "
                   "evaluate less often with a larger eval_every",
                   (long long)points, bytes / max_bytes);
  *cap = (size_t)points;
  return MS_OK;
}

ms_status ms_train_check(const ms_model *model, const ms_data *data,
                         const ms_train_opts *o) {
  MS_NEED(model);
  MS_NEED(data);
  ms_train_opts defaults;
  if (o == NULL) {   /* as ms_train_run takes it: the defaults */
    ms_train_opts_init(&defaults);
    o = &defaults;
  }
  ms_status st = ms_model_accepts(model, data);
  if (st != MS_OK) return st;
  if (o->batch < 1)
    return ms_fail(MS_EINVAL, "batch must be >= 1, got %lld",
                   (long long)o->batch);
  if ((uint64_t)o->batch > data->n)
    return ms_fail(MS_EINVAL,
                   "batch = %lld is larger than the data (%zu examples)",
                   (long long)o->batch, data->n);
  if (o->epochs < 0)
    return ms_fail(MS_EINVAL, "epochs must be >= 0, got %lld",
                   (long long)o->epochs);
  if (o->eval_every < 0)
    return ms_fail(MS_EINVAL,
                   "eval_every must be >= 0 (0: only at the end), got %lld",
                   (long long)o->eval_every);
  size_t np = ms_model_nparams(model);
  for (size_t j = 0; o->init != NULL && j < np; j++)
    if (!isfinite(o->init[j]))
      return ms_fail(MS_EINVAL, "init[%zu] is not finite", j + 1);
  size_t cap;
  return capacity(data->n, o, &cap);
}

static ms_status result_new(size_t np, size_t d, size_t cap,
                            ms_train_result **out) {
  ms_train_result *res = ms_calloc(1, sizeof *res);
  if (res != NULL) {
    res->np = np;
    res->d = d;
    res->cap = cap;
    res->examples = ms_calloc(cap, sizeof *res->examples);
    res->loss = ms_calloc(cap, sizeof *res->loss);
    res->params = ms_calloc(2 * np, sizeof *res->params);
    res->init = res->params ? res->params + np : NULL;
  }
  if (res == NULL || !res->examples || !res->loss || !res->params) {
    ms_train_free(res);
    return ms_fail(MS_ENOMEM, "out of memory for a loss curve of %zu points",
                   cap);
  }
  *out = res;
  return MS_OK;
}

/* The state of a run between its steps. */
typedef struct run {
  const ms_model *model;
  const ms_data *data;
  ms_rule *rule;
  const ms_train_opts *o;
  ms_train_result *res;
  size_t *rows;           /* the order of the examples */
  double *p, *g, *y, *prev;   /* parameters, gradient, look-ahead, backup */
  double start, mark;     /* the run began; the timer last started */
  double last_progress;
} run;

/* Name the first non-finite entry of v as a parameter (w[j] or b). */
static void diverge(run *r, const char *what, const double *v) {
  ms_train_result *res = r->res;
  size_t j = 0;
  while (j < res->np && isfinite(v[j])) j++;
  double bad = isnan(v[j]) ? NAN : v[j];   /* "nan", never "-nan" */
  res->diverged = res->steps;
  if (j == res->d)
    snprintf(res->reason, sizeof res->reason, "%sb is %g", what, bad);
  else
    snprintf(res->reason, sizeof res->reason, "%sw[%zu] is %g", what, j + 1,
             bad);
}

/* d2l's timer: training time accumulates between start and stop. */
static void timer_stop(run *r) { r->res->seconds += ms_now() - r->mark; }
static void timer_start(run *r) { r->mark = ms_now(); }

/* Record the loss over the data at the current parameters; 0 when it is
 * not finite (the run has diverged). */
static int evaluate(run *r, int64_t examples) {
  ms_train_result *res = r->res;
  double loss;
  ms_model_evaluate(r->model, r->data, r->p, &loss);
  res->examples[res->len] = examples;
  res->loss[res->len] = loss;
  res->final = loss;
  if (!isfinite(loss)) {
    res->diverged = res->steps;
    snprintf(res->reason, sizeof res->reason, "loss is %g",
             isnan(loss) ? NAN : loss);
    return 0;
  }
  res->len++;
  return 1;
}

/* Every POLL steps: an interrupt, and the progress report when due. */
static ms_status poll(run *r, int64_t total) {
  ms_status st = ms_interrupted();
  if (st != MS_OK || r->o->progress == NULL) return st;
  double t = ms_now();
  if (t - r->last_progress < progress_period) return MS_OK;
  r->last_progress = t;
  return r->o->progress(r->o->progress_ctx, r->res->steps, total,
                        t - r->start);
}

/* One step on the minibatch rows[0 .. m); *ok = 0 when it diverged. */
static ms_status step(run *r, const size_t *rows, size_t m, int *ok) {
  size_t np = r->res->np;
  const double *at = r->p;
  ms_status st;
  if (ms_rule_class_of(r->rule)->lookahead != NULL) {
    if ((st = ms_rule_lookahead(r->rule, r->p, r->y, np)) != MS_OK) return st;
    at = r->y;
  }
  double loss;
  ms_model_batch(r->model, r->data, at, rows, m, &loss, r->g);
  r->res->steps++;
  if (!isfinite(loss)) {
    r->res->diverged = r->res->steps;
    r->res->final = isnan(loss) ? NAN : loss;
    snprintf(r->res->reason, sizeof r->res->reason,
             "the minibatch loss is %g", r->res->final);
    *ok = 0;
    return MS_OK;
  }
  if (!ms_vec_isfinite(r->g, np)) {
    diverge(r, "the gradient of ", r->g);
    *ok = 0;
    return MS_OK;
  }
  ms_vec_copy(r->prev, r->p, np);
  if ((st = ms_rule_step(r->rule, r->p, r->g, np)) != MS_OK) return st;
  if (!ms_vec_isfinite(r->p, np)) {
    diverge(r, "", r->p);
    ms_vec_copy(r->p, r->prev, np);   /* keep the last finite parameters */
    *ok = 0;
  }
  return MS_OK;
}

static ms_status loop(run *r) {
  const ms_train_opts *o = r->o;
  ms_train_result *res = r->res;
  size_t n = r->data->n;
  int64_t batches, examples = 0, next_eval = o->eval_every;
  epoch_shape(n, o, &batches, &res->per_epoch);
  res->steps_per_epoch = batches;
  int64_t total = o->epochs * batches, until_poll = POLL;
  ms_rng rng;
  ms_rng_seed(&rng, o->seed);
  ms_model_init(r->model, &rng, r->p);
  if (o->init != NULL) ms_vec_copy(r->p, o->init, res->np);
  ms_vec_copy(res->init, r->p, res->np);
  for (size_t i = 0; i < n; i++) r->rows[i] = i;
  ms_model_evaluate(r->model, r->data, r->p, &res->initial);
  res->final = res->initial;
  if (!isfinite(res->initial))
    return ms_fail(MS_ENONFINITE, "the loss at the initial parameters is %g",
                   isnan(res->initial) ? NAN : res->initial);
  ms_status st = MS_OK;
  int ok = 1;
  r->start = r->mark = r->last_progress = ms_now();
  for (int64_t e = 0; e < o->epochs && ok && st == MS_OK; e++) {
    if (o->shuffle) ms_rng_shuffle(&rng, r->rows, n);
    for (int64_t k = 0; k < batches && ok; k++) {
      size_t first = (size_t)(k * o->batch);
      size_t m = n - first < (size_t)o->batch ? n - first : (size_t)o->batch;
      if ((st = step(r, r->rows + first, m, &ok)) != MS_OK) break;
      examples += (int64_t)m;
      if (ok && o->eval_every > 0 && examples >= next_eval) {
        timer_stop(r);
        ok = evaluate(r, examples);
        timer_start(r);
        next_eval += (examples - next_eval) / o->eval_every * o->eval_every +
                     o->eval_every;
      }
      if (--until_poll == 0) {
        until_poll = POLL;
        if ((st = poll(r, total)) != MS_OK) break;
      }
    }
  }
  timer_stop(r);
  if (st == MS_OK && ok && (res->len == 0 || res->examples[res->len - 1] != examples))
    ok = evaluate(r, examples);
  if (!ok && isfinite(res->final)) res->final = NAN;
  res->wall = ms_now() - r->start;
  ms_vec_copy(res->params, r->p, res->np);
  return st;
}

ms_status ms_train_run(const ms_model *model, const ms_data *data,
                       ms_rule *rule, const ms_train_opts *opts,
                       ms_train_result **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(model);
  MS_NEED(data);
  MS_NEED(rule);
  ms_train_opts o;
  ms_train_opts_init(&o);
  if (opts != NULL) o = *opts;
  size_t cap = 0, np = ms_model_nparams(model);
  ms_status st = ms_train_check(model, data, &o);
  if (st == MS_OK) st = capacity(data->n, &o, &cap);
  if (st == MS_OK) st = ms_rule_reset(rule, np);
  if (st != MS_OK) return st;

  run r = {.model = model, .data = data, .rule = rule, .o = &o};
  double *work = ms_calloc(4 * np, sizeof *work);
  r.rows = ms_calloc(data->n, sizeof *r.rows);
  if (work == NULL || r.rows == NULL) {
    free(work);
    free(r.rows);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  r.p = work;
  r.g = work + np;
  r.y = work + 2 * np;
  r.prev = work + 3 * np;
  if ((st = result_new(np, ms_model_features(model), cap, &r.res)) == MS_OK)
    st = loop(&r);
  free(work);
  free(r.rows);
  if (st != MS_OK) {
    ms_train_free(r.res);
    return st;
  }
  *out = r.res;
  return MS_OK;
}

/* ------------------------------------------------------------- results */

/* A NULL result reads as an empty one: no points, no steps, NaN for the
 * numbers. */
size_t ms_train_len(const ms_train_result *res) { return res ? res->len : 0; }

int64_t ms_train_examples(const ms_train_result *res, size_t i) {
  return res != NULL && i < res->len ? res->examples[i] : -1;
}

double ms_train_epoch(const ms_train_result *res, size_t i) {
  return res != NULL && i < res->len ? (double)res->examples[i] / (double)res->per_epoch : NAN;
}

double ms_train_loss(const ms_train_result *res, size_t i) {
  return res != NULL && i < res->len ? res->loss[i] : NAN;
}

double ms_train_initial_loss(const ms_train_result *res) {
  return res ? res->initial : NAN;
}
double ms_train_final_loss(const ms_train_result *res) {
  return res ? res->final : NAN;
}
int64_t ms_train_steps(const ms_train_result *res) { return res ? res->steps : 0; }

double ms_train_epochs_done(const ms_train_result *res) {
  if (res == NULL) return NAN;
  return res->steps_per_epoch > 0
             ? (double)res->steps / (double)res->steps_per_epoch : 0;
}

double ms_train_seconds(const ms_train_result *res) {
  return res ? res->seconds : NAN;
}
double ms_train_wall(const ms_train_result *res) { return res ? res->wall : NAN; }

double ms_train_sec_per_epoch(const ms_train_result *res) {
  if (res == NULL) return NAN;
  double epochs = ms_train_epochs_done(res);
  return epochs > 0 ? res->seconds / epochs : 0;
}

size_t ms_train_nparams(const ms_train_result *res) { return res ? res->np : 0; }
const double *ms_train_params(const ms_train_result *res) {
  return res ? res->params : NULL;
}
const double *ms_train_init(const ms_train_result *res) {
  return res ? res->init : NULL;
}
int64_t ms_train_diverged(const ms_train_result *res) {
  return res ? res->diverged : 0;
}
const char *ms_train_reason(const ms_train_result *res) {
  return res ? res->reason : NULL;
}

ms_status ms_train_write_csv(const ms_train_result *res, const char *path) {
  MS_NEED(res);
  MS_NEED(path);
  ms_file file;
  ms_status st = ms_file_begin(path, &file);
  if (st != MS_OK) return st;
  fputs("examples,epoch,loss\n", file.fp);
  for (size_t i = 0; i < res->len; i++) {
    fprintf(file.fp, "%lld", (long long)res->examples[i]);
    ms_file_put_number(file.fp, ms_train_epoch(res, i), 0);
    ms_file_put_number(file.fp, res->loss[i], 0);
    fputc('\n', file.fp);
  }
  return ms_file_end(&file, MS_OK);
}
