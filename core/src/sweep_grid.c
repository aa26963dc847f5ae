/*
 * sweep_grid.c -- the grid of a sweep and its results as CSV: the axes
 * (values, ranges, or explicit points) checked against the rule, the
 * values and hyper-parameters of each point, what the last run left, and
 * the CSV file of the results.  Running the points is sweep.c's.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sweep.h"

/* ---------------------------------------------------------- the grid */

ms_status ms_sweep_new(ms_objective *obj, const ms_rule *rule,
                       const double *x0, size_t n, ms_sweep **out) {
  MS_NEED(out);
  *out = NULL;
  MS_NEED(obj);
  MS_NEED(rule);
  MS_NEED(x0);
  ms_status st = ms_check_start(obj, x0, n);
  if (st != MS_OK) return st;
  ms_sweep *s = ms_calloc(1, sizeof *s);
  if (s == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  s->obj = obj;
  s->n = n;
  s->fstar = NAN;
  s->x0 = ms_calloc(n, sizeof *s->x0);
  st = s->x0 ? ms_rule_clone(rule, &s->rule)
             : ms_fail(MS_ENOMEM, "out of memory");
  if (st != MS_OK) {
    ms_sweep_free(s);
    return st;
  }
  ms_vec_copy(s->x0, x0, n);
  *out = s;
  return MS_OK;
}

void ms_sweep_free(ms_sweep *s) {
  if (s == NULL) return;
  for (size_t a = 0; a < s->naxes; a++) {
    free(s->axes[a].name);
    free(s->axes[a].values);
  }
  free(s->axes);
  free(s->points);
  free(s->xstar);
  free(s->x0);
  ms_rule_free(s->rule);
  ms_big_free(s->res, s->res_bytes);
  free(s);
}

/* "lr, beta" */
static void hyper_names(const ms_rule *rule, char *buf, size_t size) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  buf[0] = '\0';
  for (int i = 0, len = 0; i < cls->nhyper && (size_t)len < size; i++)
    len += snprintf(buf + len, size - (size_t)len, "%s%s", i ? ", " : "",
                    cls->hyper[i].name);
}

/* A new axis named name, after checking that the name is one. */
static ms_status add_axis(ms_sweep *s, const char *name, ms_grid_axis **out) {
  int hyper = ms_rule_hyper_index(s->rule, name);
  if (hyper < 0 && strcmp(name, "scale") != 0) {
    char names[256];
    hyper_names(s->rule, names, sizeof names);
    return ms_fail(MS_EINVAL, "%s has no hyper-parameter '%s' (it takes %s; "
                              "or scale, a factor on the objective)",
                   ms_rule_class_of(s->rule)->name, name, names);
  }
  for (size_t a = 0; a < s->naxes; a++)
    if (strcmp(s->axes[a].name, name) == 0)
      return ms_fail(MS_EINVAL, "%s is in the grid twice", name);
  ms_grid_axis *axes = realloc(s->axes, (s->naxes + 1) * sizeof *axes);
  if (axes == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  s->axes = axes;
  ms_grid_axis *ax = memset(&axes[s->naxes], 0, sizeof *ax);
  if ((ax->name = malloc(strlen(name) + 1)) == NULL)
    return ms_fail(MS_ENOMEM, "out of memory");
  strcpy(ax->name, name);
  ax->hyper = hyper;
  s->naxes++;
  *out = ax;
  return MS_OK;
}

/* May the axis take values v[0], v[stride], ... (count of them)?  The
 * rule's own checks, on a scratch copy; *bad is the index of the first
 * value it refuses. */
static ms_status check_values(const ms_sweep *s, const ms_grid_axis *ax,
                              const double *v, size_t count, size_t stride,
                              size_t *bad) {
  ms_rule *scratch = NULL;
  ms_status st = ax->hyper >= 0 ? ms_rule_clone(s->rule, &scratch) : MS_OK;
  for (*bad = 0; *bad < count && st == MS_OK; ++*bad) {
    double x = v[*bad * stride];
    if (scratch != NULL) st = ms_rule_set(scratch, ax->name, x);
    else if (!isfinite(x))
      st = ms_fail(MS_EINVAL, "scale must be finite, got %g",
                   isnan(x) ? NAN : x);
    if (st != MS_OK) break;
  }
  ms_rule_free(scratch);
  return st;
}

static ms_status check_grid_kind(const ms_sweep *s) {
  if (s->points != NULL)
    return ms_fail(MS_EINVAL, "the sweep has explicit points: no axes too");
  return MS_OK;
}

/* Undo the last add_axis after a bad value. */
static ms_status drop_axis(ms_sweep *s, ms_status st) {
  s->naxes--;
  free(s->axes[s->naxes].name);
  free(s->axes[s->naxes].values);
  return st;
}

ms_status ms_sweep_axis(ms_sweep *s, const char *name, const double *values,
                        size_t count) {
  MS_NEED(s);
  MS_NEED(name);
  MS_NEED(values);
  ms_grid_axis *ax;
  ms_status st = check_grid_kind(s);
  if (st == MS_OK && count == 0)
    st = ms_fail(MS_EINVAL, "%s: no values", name);
  if (st != MS_OK || (st = add_axis(s, name, &ax)) != MS_OK) return st;
  size_t bad;
  if ((st = check_values(s, ax, values, count, 1, &bad)) != MS_OK)
    return drop_axis(s, st);
  if ((ax->values = ms_calloc(count, sizeof *ax->values)) == NULL)
    return drop_axis(s, ms_fail(MS_ENOMEM, "out of memory"));
  ms_vec_copy(ax->values, values, count);
  ax->count = (int64_t)count;
  return MS_OK;
}

ms_status ms_range_check(const char *name, double from, double to,
                         int64_t count, int log_spaced) {
  MS_NEED(name);
  if (!isfinite(from) || !isfinite(to))
    return ms_fail(MS_EINVAL, "%s: the range must have finite ends", name);
  if (count < 1)
    return ms_fail(MS_EINVAL, "%s: empty range (n = %lld)", name,
                   (long long)count);
  if (from > to)
    return ms_fail(MS_EINVAL, "%s: reversed range (from %g > to %g)", name,
                   from, to);
  if (count == 1 && from != to)
    return ms_fail(MS_EINVAL, "%s: one value (n = 1) needs from = to, got "
                              "%g and %g", name, from, to);
  if (count > 1 && from == to)
    return ms_fail(MS_EINVAL, "%s: from = to = %g gives one value, not n = "
                              "%lld", name, from, (long long)count);
  if (log_spaced && !(from > 0))
    return ms_fail(MS_EINVAL, "%s: a log range needs from > 0, got %g", name,
                   from);
  return MS_OK;
}

double ms_range_value(double from, double to, int64_t count, int log_spaced,
                      int64_t k) {
  if (k < 0 || k >= count) return NAN;
  if (k == 0) return from;            /* both ends exact */
  if (k == count - 1) return to;
  double u = (double)k / (double)(count - 1);
  if (log_spaced) return exp(log(from) + u * (log(to) - log(from)));
  return from + u * (to - from);
}

ms_status ms_sweep_range(ms_sweep *s, const char *name, double from,
                         double to, int64_t count, int log) {
  MS_NEED(s);
  MS_NEED(name);
  ms_status st = check_grid_kind(s);
  if (st == MS_OK) st = ms_range_check(name, from, to, count, log);
  if (st != MS_OK) return st;
  ms_grid_axis *ax;
  if ((st = add_axis(s, name, &ax)) != MS_OK) return st;
  if (ax->hyper >= 0 &&
      ms_rule_class_of(s->rule)->hyper[ax->hyper].kind == MS_HYPER_FLAG &&
      count > 2)
    return drop_axis(s, ms_fail(MS_EINVAL, "%s is a flag: give its values "
                                           "as a list", name));
  /* the values lie between the ends, and every range of a hyper-parameter
   * is an interval: checking the ends checks them all */
  double ends[2] = {from, to};
  size_t bad;
  if ((st = check_values(s, ax, ends, 2, 1, &bad)) != MS_OK)
    return drop_axis(s, st);
  ax->from = from;
  ax->to = to;
  ax->count = count;
  ax->log = log != 0;
  return MS_OK;
}

ms_status ms_sweep_points(ms_sweep *s, const char *const *names,
                          size_t nnames, const double *values, size_t count) {
  MS_NEED(s);
  if (nnames > 0) {   /* no names: no values either, NULL is empty */
    MS_NEED(names);
    MS_NEED(values);
  }
  if (s->naxes > 0 || s->points != NULL)
    return ms_fail(MS_EINVAL, "the sweep has %s: no explicit points too",
                   s->points ? "points already" : "axes");
  if (count == 0) return ms_fail(MS_EINVAL, "no points");
  size_t cells;   /* count x nnames values: a product that must not wrap */
  if (!ms_size_mul(count, nnames, &cells) ||
      cells > SIZE_MAX / sizeof(double))
    return ms_fail(MS_ERANGE, "%zu points of %zu values each are too many",
                   count, nnames);
  ms_status st = MS_OK;
  for (size_t a = 0; a < nnames && st == MS_OK; a++) {
    ms_grid_axis *ax;
    size_t bad;
    if (names[a] == NULL) {
      st = ms_fail(MS_EINVAL, "ms_sweep_points: names[%zu] is NULL", a + 1);
      break;
    }
    if ((st = add_axis(s, names[a], &ax)) != MS_OK) break;
    if ((st = check_values(s, ax, values + a, count, nnames, &bad)) != MS_OK) {
      char detail[512];
      snprintf(detail, sizeof detail, "%s", ms_last_error());
      st = ms_fail(st, "point %zu: %s", bad + 1, detail);
    }
  }
  if (st == MS_OK && (s->points = ms_calloc(cells, sizeof(double))) == NULL)
    st = ms_fail(MS_ENOMEM, "out of memory for %zu points", count);
  if (st != MS_OK) {
    while (s->naxes > 0) drop_axis(s, st);
    return st;
  }
  ms_vec_copy(s->points, values, cells);
  s->npoints = (int64_t)count;
  return MS_OK;
}

ms_status ms_sweep_target(ms_sweep *s, const double *xstar,
                          const double *fstar) {
  MS_NEED(s);
  if (xstar != NULL) {
    if (!ms_vec_isfinite(xstar, s->n))
      return ms_fail(MS_EINVAL, "x* must be finite");
    if (s->xstar == NULL && !(s->xstar = ms_calloc(s->n, sizeof(double))))
      return ms_fail(MS_ENOMEM, "out of memory");
    ms_vec_copy(s->xstar, xstar, s->n);
  }
  if (fstar != NULL) {
    if (!isfinite(*fstar)) return ms_fail(MS_EINVAL, "f* must be finite");
    s->fstar = *fstar;
  }
  return MS_OK;
}

double ms_grid_axis_value(const ms_grid_axis *ax, int64_t k) {
  if (k < 0 || k >= ax->count) return NAN;
  if (ax->values != NULL) return ax->values[k];
  return ms_range_value(ax->from, ax->to, ax->count, ax->log, k);
}

int64_t ms_sweep_grid_total(const ms_sweep *s, double *exact) {
  if (s->points != NULL) {
    *exact = (double)s->npoints;
    return s->npoints;
  }
  double total = 1;
  for (size_t a = 0; a < s->naxes; a++) total *= (double)s->axes[a].count;
  *exact = total;
  return total > 4611686018427387904.0 ? -1 : (int64_t)total;
}

/* A NULL sweep reads as an empty one. */
int64_t ms_sweep_total(const ms_sweep *s) {
  double exact;
  return s != NULL ? ms_sweep_grid_total(s, &exact) : 0;
}

double ms_sweep_value(const ms_sweep *s, int64_t i, size_t a) {
  if (s == NULL || a >= s->naxes || i < 0 || i >= ms_sweep_total(s)) return NAN;
  if (s->points != NULL) return s->points[i * (int64_t)s->naxes + (int64_t)a];
  for (size_t b = 0; b < a; b++) i /= s->axes[b].count;
  return ms_grid_axis_value(&s->axes[a], i % s->axes[a].count);
}

const ms_rule *ms_sweep_rule(const ms_sweep *s) { return s ? s->rule : NULL; }
int64_t ms_sweep_first(const ms_sweep *s) { return s ? s->first : 0; }
int64_t ms_sweep_count(const ms_sweep *s) {
  return s != NULL && s->res != NULL ? s->count : 0;
}
size_t ms_sweep_naxes(const ms_sweep *s) { return s ? s->naxes : 0; }
const ms_sweep_result *ms_sweep_results(const ms_sweep *s) {
  return s ? s->res : NULL;
}
int ms_sweep_measures(const ms_sweep *s) { return s ? s->measures : 0; }
int ms_sweep_was_fast(const ms_sweep *s) { return s ? s->fast : 0; }
int ms_sweep_threads(const ms_sweep *s) { return s ? s->threads : 0; }
double ms_sweep_seconds(const ms_sweep *s) { return s ? s->seconds : NAN; }

ms_status ms_sweep_column(const ms_sweep *s, size_t c, double *out) {
  MS_NEED(s);
  MS_NEED(out);
  if (s->res == NULL) return ms_fail(MS_EINVAL, "the sweep has not run");
  if (c >= s->naxes + 4)
    return ms_fail(MS_EINVAL, "no column %zu (%zu axes, then 4 results)", c,
                   s->naxes);
  for (int64_t k = 0; k < s->count; k++) {
    const ms_sweep_result *r = &s->res[k];
    double results[4] = {r->loss, r->rate, r->steps, (double)r->diverged};
    out[k] = c < s->naxes ? ms_sweep_value(s, s->first + k, c)
                          : results[c - s->naxes];
  }
  return MS_OK;
}

const char *ms_sweep_axis_name(const ms_sweep *s, size_t a) {
  return s != NULL && a < s->naxes ? s->axes[a].name : NULL;
}

int64_t ms_sweep_axis_len(const ms_sweep *s, size_t a) {
  return s != NULL && a < s->naxes ? s->axes[a].count : 0;
}

double ms_sweep_axis_value(const ms_sweep *s, size_t a, int64_t k) {
  return s != NULL && a < s->naxes ? ms_grid_axis_value(&s->axes[a], k) : NAN;
}

int ms_sweep_axis_log(const ms_sweep *s, size_t a) {
  return s != NULL && a < s->naxes && s->axes[a].log;
}

void ms_sweep_point_label(const ms_sweep *s, int64_t i, char *buf,
                        size_t size) {
  int len = 0;
  buf[0] = '\0';
  for (size_t a = 0; a < s->naxes && (size_t)len < size; a++) {
    char num[32];
    ms_format_double(num, sizeof num, ms_sweep_value(s, i, a));
    len += snprintf(buf + len, size - (size_t)len, "%s%s=%s", a ? ", " : "",
                    s->axes[a].name, num);
  }
}

void ms_sweep_point_hyper(const ms_sweep *s, int64_t i, double *h,
                        double *scale) {
  int nh = ms_rule_class_of(s->rule)->nhyper;
  for (int k = 0; k < nh; k++) h[k] = ms_rule_get(s->rule, k);
  *scale = 1;
  for (size_t a = 0; a < s->naxes; a++) {
    double v = ms_sweep_value(s, i, a);
    if (s->axes[a].hyper >= 0) h[s->axes[a].hyper] = v;
    else *scale = v;
  }
}

/* ------------------------------------------------------------- output */

/* A header cell as RFC 4180 wants it: quoted, with its quotes doubled,
 * when it holds a comma, a quote or a line break (names of hyper-parameters
 * of rules written in Lua may hold anything). */
static void put_name(FILE *fp, const char *name) {
  if (strpbrk(name, ",\"\r\n") == NULL) {
    fputs(name, fp);
    return;
  }
  fputc('"', fp);
  for (const char *c = name; *c != 0; c++) {
    if (*c == '"') fputc('"', fp);
    fputc(*c, fp);
  }
  fputc('"', fp);
}

ms_status ms_sweep_write_csv(const ms_sweep *s, const char *path,
                             int header) {
  MS_NEED(s);
  MS_NEED(path);
  if (s->res == NULL) return ms_fail(MS_EINVAL, "the sweep has not run");
  ms_file file;
  ms_status st = ms_file_begin(path, &file);
  if (st != MS_OK) return st;
  int rate = s->measures & MS_MEASURE_RATE;
  int steps = s->measures & MS_MEASURE_STEPS;
  if (header) {
    for (size_t a = 0; a < s->naxes; a++) {
      put_name(file.fp, s->axes[a].name);
      fputc(',', file.fp);
    }
    fprintf(file.fp, "loss%s%s,diverged\n", rate ? ",rate" : "",
            steps ? ",steps" : "");
  }
  for (int64_t k = 0; k < s->count && st == MS_OK; k++) {
    if (k % 4096 == 4095 && (st = ms_interrupted()) != MS_OK) break;
    const ms_sweep_result *r = &s->res[k];
    for (size_t a = 0; a < s->naxes; a++)
      ms_file_put_number(file.fp, ms_sweep_value(s, s->first + k, a),
                         a == 0);
    ms_file_put_number(file.fp, r->loss, s->naxes == 0);
    if (rate) ms_file_put_number(file.fp, r->rate, 0);
    if (steps) ms_file_put_number(file.fp, r->steps, 0);
    fprintf(file.fp, ",%lld\n", (long long)r->diverged);
  }
  return ms_file_end(&file, st);
}

