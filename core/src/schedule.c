/*
 * schedule.c -- hyper-parameter schedules: a value for every step t >= 1.
 *
 * The closed forms are PyTorch's (torch.optim.lr_scheduler, the
 * _get_closed_form_lr of each class), written in the same operation order,
 * with k = t - 1 as PyTorch's last_epoch: step 1 uses the base value.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const double pi = 3.14159265358979323846;  /* Python's math.pi */

typedef enum {
  CALLBACK, CONSTANT, STEP, MULTISTEP, EXPONENTIAL, COSINE, LINEAR,
  POLYNOMIAL, INVERSE_SQRT, SEQUENCE
} kind;

struct ms_schedule {
  kind kind;
  double base, gamma, min, start, end, power;
  int64_t steps, mult;            /* period, step size, warm-up, ... */
  int restarts;
  size_t count;                   /* milestones (and parts - 1) */
  int64_t *milestones;
  ms_schedule **parts;
  ms_schedule_fn fn;
  void *ctx;
  ms_free_fn free_ctx;
  int64_t supplied_t;             /* a callback's value at this step ... */
  double supplied;                /* ... given by ms_schedule_supply */
};

static ms_status make(kind k, double base, ms_schedule **out) {
  *out = NULL;
  if (!isfinite(base))
    return ms_fail(MS_EINVAL, "base value must be finite, got %g", base);
  ms_schedule *s = ms_calloc(1, sizeof *s);
  if (s == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  s->kind = k;
  s->base = base;
  *out = s;
  return MS_OK;
}

static ms_status need(int ok, const char *what) {
  return ok ? MS_OK : ms_fail(MS_EINVAL, "%s", what);
}

ms_status ms_schedule_builtin(const char *name, const double *args,
                              size_t nargs, ms_schedule *const *parts,
                              size_t count, ms_schedule **out) {
  /* how many numbers each takes (at least, for the last two), and which
   * are integers: bit i for args[i], bit 31 for every one past 30 */
  static const struct {
    const char *name;
    size_t nargs;
    uint32_t ints;
  } known[] = {{"constant", 1, 0},      {"step", 3, 1u << 1},
               {"exponential", 2, 0},   {"cosine", 5, 1u << 1 | 1u << 3 | 1u << 4},
               {"linear", 4, 1u << 3},  {"polynomial", 4, 1u << 1},
               {"inverse_sqrt", 2, 1u << 1}, {"multistep", 2, ~3u},
               {"sequence", 0, ~0u}};
  MS_NEED(out);
  *out = NULL;
  MS_NEED(name);
  size_t k = 0;
  while (k < MS_COUNT(known) && strcmp(known[k].name, name) != 0) k++;
  if (k == MS_COUNT(known)) return ms_fail(MS_EINVAL, "no such schedule: %s", name);
  if (k < 7 ? nargs != known[k].nargs : nargs < known[k].nargs)
    return ms_fail(MS_EINVAL, "%s: wrong number of arguments (%zu)", name, nargs);
  if (nargs > 0) MS_NEED(args);
  int64_t *n = ms_calloc(nargs, sizeof *n);   /* the integers of args */
  if (n == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  for (size_t i = 0; i < nargs; i++) {
    if ((known[k].ints >> (i < 31 ? i : 31) & 1) && !ms_to_int64(args[i], &n[i])) {
      free(n);
      return ms_fail(MS_EINVAL, "%s: argument %zu must be an integer", name, i + 1);
    }
  }
  const double *a = args;
  ms_status st;
  switch (k) {
  case 0: st = ms_schedule_constant(a[0], out); break;
  case 1: st = ms_schedule_step(a[0], n[1], a[2], out); break;
  case 2: st = ms_schedule_exponential(a[0], a[1], out); break;
  case 3: st = need(n[3] == 0 || n[3] == 1, "cosine: restarts must be 0 or 1");
    if (st == MS_OK) st = ms_schedule_cosine(a[0], n[1], a[2], (int)n[3], n[4], out);
    break;
  case 4: st = ms_schedule_linear(a[0], a[1], a[2], n[3], out); break;
  case 5: st = ms_schedule_polynomial(a[0], n[1], a[2], a[3], out); break;
  case 6: st = ms_schedule_inverse_sqrt(a[0], n[1], out); break;
  case 7: st = ms_schedule_multistep(a[0], n + 2, nargs - 2, a[1], out); break;
  default:
    st = need(count == nargs + 1, "sequence: need one milestone fewer than schedules");
    if (st == MS_OK) st = ms_schedule_sequence(parts, count, n, out);
  }
  free(n);
  return st;
}

void ms_schedule_free(ms_schedule *s) {
  if (s == NULL) return;
  if (s->free_ctx) s->free_ctx(s->ctx);
  free(s->milestones);
  free(s->parts);
  free(s);
}

ms_status ms_schedule_new(ms_schedule_fn fn, void *ctx, ms_free_fn free_ctx,
                          ms_schedule **out) {
  MS_NEED(out);
  ms_status st = need(fn != NULL, "schedule function is NULL");
  if (st == MS_OK) st = make(CALLBACK, 0, out);
  if (st != MS_OK) return st;
  (*out)->fn = fn;
  (*out)->ctx = ctx;
  (*out)->free_ctx = free_ctx;
  return MS_OK;
}

ms_status ms_schedule_constant(double value, ms_schedule **out) {
  MS_NEED(out);
  return make(CONSTANT, value, out);
}

ms_status ms_schedule_step(double base, int64_t step_size, double gamma,
                           ms_schedule **out) {
  MS_NEED(out);
  ms_status st = need(step_size >= 1, "step_size must be >= 1");
  if (st == MS_OK) st = need(isfinite(gamma), "gamma must be finite");
  if (st == MS_OK) st = make(STEP, base, out);
  if (st != MS_OK) return st;
  (*out)->steps = step_size;
  (*out)->gamma = gamma;
  return MS_OK;
}

static ms_status check_milestones(const int64_t *m, size_t count) {
  for (size_t i = 0; i < count; i++)
    if (m[i] < 1 || (i > 0 && m[i] <= m[i - 1]))
      return ms_fail(MS_EINVAL,
                     "milestones must be increasing integers >= 1 "
                     "(milestone %zu is %lld)", i + 1, (long long)m[i]);
  return MS_OK;
}

/* count items of size bytes: refused before any is read when no array of
 * them could exist (count * size would wrap). */
static ms_status check_count(size_t count, size_t size, const char *what) {
  size_t bytes;
  if (ms_size_mul(count, size, &bytes)) return MS_OK;
  return ms_fail(MS_ERANGE, "%zu %s are too many", count, what);
}

static ms_status copy_milestones(ms_schedule *s, const int64_t *m,
                                 size_t count) {
  s->count = count;
  s->milestones = ms_calloc(count, sizeof *m);
  if (s->milestones == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  for (size_t i = 0; i < count; i++) s->milestones[i] = m[i];
  return MS_OK;
}

ms_status ms_schedule_multistep(double base, const int64_t *milestones,
                                size_t count, double gamma,
                                ms_schedule **out) {
  MS_NEED(out);
  *out = NULL;
  if (count > 0) MS_NEED(milestones);
  ms_status st = check_count(count, sizeof *milestones, "milestones");
  if (st == MS_OK) st = check_milestones(milestones, count);
  if (st == MS_OK) st = need(isfinite(gamma), "gamma must be finite");
  if (st == MS_OK) st = make(MULTISTEP, base, out);
  if (st != MS_OK) return st;
  (*out)->gamma = gamma;
  if ((st = copy_milestones(*out, milestones, count)) != MS_OK) {
    ms_schedule_free(*out);
    *out = NULL;
  }
  return st;
}

ms_status ms_schedule_exponential(double base, double gamma,
                                  ms_schedule **out) {
  MS_NEED(out);
  ms_status st = need(isfinite(gamma) && gamma > 0, "gamma must be > 0");
  if (st == MS_OK) st = make(EXPONENTIAL, base, out);
  if (st != MS_OK) return st;
  (*out)->gamma = gamma;
  return MS_OK;
}

ms_status ms_schedule_cosine(double base, int64_t period, double min,
                             int restarts, int64_t mult, ms_schedule **out) {
  MS_NEED(out);
  ms_status st = need(period >= 1, "steps (the period) must be >= 1");
  if (st == MS_OK) st = need(isfinite(min), "min must be finite");
  if (st == MS_OK) st = need(mult >= 1, "mult must be an integer >= 1");
  if (st == MS_OK) st = make(COSINE, base, out);
  if (st != MS_OK) return st;
  (*out)->steps = period;
  (*out)->min = min;
  (*out)->restarts = restarts != 0;
  (*out)->mult = mult;
  return MS_OK;
}

ms_status ms_schedule_linear(double base, double start, double end,
                             int64_t steps, ms_schedule **out) {
  MS_NEED(out);
  ms_status st = need(steps >= 1, "steps must be >= 1");
  if (st == MS_OK) st = need(isfinite(start) && isfinite(end),
                             "start and end factors must be finite");
  if (st == MS_OK) st = make(LINEAR, base, out);
  if (st != MS_OK) return st;
  (*out)->start = start;
  (*out)->end = end;
  (*out)->steps = steps;
  return MS_OK;
}

ms_status ms_schedule_polynomial(double base, int64_t steps, double power,
                                 double min, ms_schedule **out) {
  MS_NEED(out);
  ms_status st = need(steps >= 1, "steps must be >= 1");
  if (st == MS_OK) st = need(isfinite(power) && power >= 0, "power must be >= 0");
  if (st == MS_OK) st = need(isfinite(min), "min must be finite");
  if (st == MS_OK) st = make(POLYNOMIAL, base, out);
  if (st != MS_OK) return st;
  (*out)->steps = steps;
  (*out)->power = power;
  (*out)->min = min;
  return MS_OK;
}

ms_status ms_schedule_inverse_sqrt(double base, int64_t warmup,
                                   ms_schedule **out) {
  MS_NEED(out);
  ms_status st = need(warmup >= 0, "warmup must be >= 0");
  if (st == MS_OK) st = make(INVERSE_SQRT, base, out);
  if (st != MS_OK) return st;
  (*out)->steps = warmup;
  return MS_OK;
}

ms_status ms_schedule_sequence(ms_schedule *const *parts, size_t count,
                               const int64_t *milestones, ms_schedule **out) {
  MS_NEED(out);
  *out = NULL;
  ms_status st = need(count >= 1, "a sequence needs at least one schedule");
  if (st == MS_OK) st = need(parts != NULL, "the schedules of the sequence are NULL");
  if (st == MS_OK && count > 1)
    st = need(milestones != NULL, "the milestones of the sequence are NULL");
  if (st == MS_OK) st = check_count(count, sizeof *parts, "schedules");
  for (size_t i = 0; st == MS_OK && i < count; i++)
    st = need(parts[i] != NULL, "a schedule of the sequence is NULL");
  if (st == MS_OK) st = check_milestones(milestones, count - 1);
  if (st == MS_OK) st = make(SEQUENCE, 0, out);
  if (st != MS_OK) return st;
  ms_schedule *s = *out;
  s->parts = ms_calloc(count, sizeof *parts);
  if (s->parts == NULL || copy_milestones(s, milestones, count - 1) != MS_OK) {
    ms_schedule_free(s);
    *out = NULL;
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  for (size_t i = 0; i < count; i++) s->parts[i] = parts[i];
  return MS_OK;
}

/* SGDR: position within the current period and that period's length. */
static void restart_position(const ms_schedule *s, int64_t k, int64_t *cur,
                             int64_t *period) {
  *period = s->steps;
  if (s->mult == 1) {
    *cur = k % s->steps;
    return;
  }
  *cur = k;
  while (*cur >= *period && *period <= INT64_MAX / s->mult) {
    *cur -= *period;
    *period *= s->mult;
  }
}

static double cosine_value(const ms_schedule *s, int64_t k) {
  int64_t cur = k, period = s->steps;
  if (s->restarts)
    restart_position(s, k, &cur, &period);
  else if (k >= period)
    return s->min;
  return s->min + (s->base - s->min) *
                      (1 + cos(pi * (double)cur / (double)period)) / 2;
}

ms_status ms_schedule_value(const ms_schedule *s, int64_t t, double *value) {
  MS_NEED(s);
  MS_NEED(value);
  if (t < 1) return ms_fail(MS_EINVAL, "steps count from 1, got %lld", (long long)t);
  int64_t k = t - 1;
  size_t i = 0;
  switch (s->kind) {
    case CALLBACK:
      if (t == s->supplied_t) {
        *value = s->supplied;
        return MS_OK;
      }
      return s->fn(s->ctx, t, value);
    case CONSTANT:
      *value = s->base;
      break;
    case STEP:
      *value = s->base * pow(s->gamma, (double)(k / s->steps));
      break;
    case MULTISTEP:
      while (i < s->count && s->milestones[i] <= k) i++;
      *value = s->base * pow(s->gamma, (double)i);
      break;
    case EXPONENTIAL:
      *value = s->base * pow(s->gamma, (double)k);
      break;
    case COSINE:
      *value = cosine_value(s, k);
      break;
    case LINEAR:
      *value = s->base * (s->start + (s->end - s->start) *
                                         (double)(k < s->steps ? k : s->steps) /
                                         (double)s->steps);
      break;
    case POLYNOMIAL:
      *value = s->min + (s->base - s->min) *
                            pow(1.0 - (double)(k < s->steps ? k : s->steps) /
                                          (double)s->steps,
                                s->power);
      break;
    case INVERSE_SQRT:
      *value = t <= s->steps
                   ? s->base * (double)t / (double)s->steps
                   : s->base * sqrt((double)(s->steps > 1 ? s->steps : 1)) /
                         sqrt((double)t);
      break;
    case SEQUENCE:
      while (i < s->count && s->milestones[i] <= k) i++;
      return ms_schedule_value(s->parts[i], i ? t - s->milestones[i - 1] : t,
                               value);
  }
  return MS_OK;
}

ms_status ms_schedule_supply(ms_schedule *s, int64_t t, double value) {
  MS_NEED(s);
  if (s->kind != CALLBACK)
    return ms_fail(MS_EINVAL, "only callback schedules take supplied values");
  s->supplied_t = t;
  s->supplied = value;
  return MS_OK;
}

int ms_schedule_is_pure(const ms_schedule *s) {
  if (s == NULL) return 0;
  if (s->kind == CALLBACK) return 0;
  for (size_t i = 0; s->kind == SEQUENCE && i <= s->count; i++)
    if (!ms_schedule_is_pure(s->parts[i])) return 0;
  return 1;
}
