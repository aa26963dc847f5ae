/*
 * momsandbox.h -- the public C API of the momsandbox engine.
 *
 * Plain C declarations only: the text between the include guard and its
 * #endif, with the '#' lines removed, must be accepted by LuaJIT's ffi.cdef
 * (spec/header_spec.lua proves it).  Hence: no #define constants (enums
 * instead), no extern "C" block, (void) for empty parameter lists, opaque
 * handles for every object.
 *
 * Conventions
 *   - Functions that can fail return an ms_status; MS_OK is 0.  A failing
 *     call leaves a one-line explanation in ms_last_error() (per thread).
 *   - Every object has a create/free pair; free functions accept NULL.
 *   - Vectors are plain (double *, size_t n) pairs; the caller owns them.
 *   - Steps are counted from 1: step t turns x_{t-1} into x_t.
 */
#ifndef MOMSANDBOX_H
#define MOMSANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- status */

enum { MS_ABI_VERSION = 1 };

typedef enum ms_status {
  MS_OK = 0,
  MS_ENOMEM,    /* out of memory */
  MS_EINVAL,    /* an argument has an invalid value */
  MS_ESIZE,     /* vector or matrix sizes do not match */
  MS_ERANGE,    /* a request too large to honour (steps, memory) */
  MS_ECALLBACK, /* a user callback failed; the caller holds the details */
  MS_EIO,       /* a file could not be read or written */
  MS_EPARSE,    /* a data file is malformed */
  MS_ENONFINITE, /* a computation produced NaN or Inf */
  MS_EINTR      /* interrupted by ms_interrupt() */
} ms_status;

int ms_abi_version(void);                 /* MS_ABI_VERSION of the library */
const char *ms_version(void);             /* "major.minor.patch" */
const char *ms_strerror(ms_status status);
const char *ms_last_error(void);          /* detail of the last failure */

/* Ask running loops to stop with MS_EINTR at their next check (safe to
 * call from a signal handler); the flag clears when a loop starts. */
void ms_interrupt(void);

/* ------------------------------------------------------------- vectors
 * BLAS-1 style operations on caller-owned arrays, destination first.     */

void ms_vec_fill(double *y, double a, size_t n);
void ms_vec_copy(double *y, const double *x, size_t n);
void ms_vec_scale(double *y, double a, size_t n);                  /* y = a y */
void ms_vec_axpy(double *y, double a, const double *x, size_t n);  /* y += a x */
void ms_vec_axpby(double *y, double a, const double *x, double b, size_t n);
                                                           /* y = a x + b y */
void ms_vec_add(double *y, const double *x, size_t n);             /* y += x */
void ms_vec_sub(double *y, const double *x, size_t n);             /* y -= x */
void ms_vec_mul(double *y, const double *x, size_t n);             /* y *= x */
void ms_vec_div(double *y, const double *x, size_t n);             /* y /= x */
void ms_vec_addcmul(double *y, double a, const double *u, const double *v,
                    size_t n);                               /* y += a u v */
void ms_vec_addcdiv(double *y, double a, const double *u, const double *v,
                    size_t n);                               /* y += a u / v */
void ms_vec_sqrt(double *y, size_t n);
void ms_vec_abs(double *y, size_t n);
void ms_vec_sign(double *y, size_t n);                       /* -1, 0 or 1 */
void ms_vec_clamp(double *y, double lo, double hi, size_t n);
double ms_vec_dot(const double *x, const double *y, size_t n);
double ms_vec_norm(const double *x, size_t n);               /* Euclidean */
double ms_vec_sum(const double *x, size_t n);
double ms_vec_max(const double *x, size_t n);                /* -inf if n = 0 */
double ms_vec_min(const double *x, size_t n);                /* +inf if n = 0 */
int ms_vec_isfinite(const double *x, size_t n);              /* 1 if all are */
/* The shortest decimal form of x that reads back as x (at most 17 digits). */
void ms_format_double(char *buf, size_t size, double x);

/* Write size bytes to path whole or not at all: into a temporary file
 * beside it, renamed over path only once everything is written. */
ms_status ms_write_file(const char *path, const void *data, size_t size);

/* ------------------------------------------------------------ randomness
 * One seeded generator, xoshiro256** seeded by splitmix64: a seed gives
 * the same stream -- and the same runs -- on every machine.              */

typedef struct ms_rng {
  uint64_t s[4];
  double spare;      /* the second normal of the last pair */
  int has_spare;
} ms_rng;

void ms_rng_seed(ms_rng *rng, uint64_t seed);
uint64_t ms_rng_next(ms_rng *rng);
double ms_rng_uniform(ms_rng *rng);                 /* [0, 1) */
uint64_t ms_rng_below(ms_rng *rng, uint64_t n);     /* [0, n), unbiased */
double ms_rng_normal(ms_rng *rng);                  /* mean 0, std 1 */
void ms_rng_shuffle(ms_rng *rng, size_t *items, size_t n);

/* ----------------------------------------------------------- objectives
 * An objective is a function f: R^dim -> R with its gradient.  The
 * callback computes f(x) into *f when f is not NULL and the gradient into
 * grad when grad is not NULL.  Without an analytic gradient (has_grad = 0)
 * the engine uses central finite differences.                             */

typedef struct ms_objective ms_objective;

typedef ms_status (*ms_objective_fn)(void *ctx, const double *x, size_t n,
                                     double *f, double *grad);
typedef void (*ms_free_fn)(void *ctx);

ms_status ms_objective_new(size_t dim, ms_objective_fn fn, int has_grad,
                           void *ctx, ms_free_fn free_ctx,
                           ms_objective **out);
/* f(x) = 1/2 sum_i lambda_i x_i^2 */
ms_status ms_objective_quadratic(const double *lambda, size_t n,
                                 ms_objective **out);
/* h(x) = 1/2 x'Qx + c'x + b, Q symmetric, row-major n x n; c may be NULL */
ms_status ms_objective_quadratic_form(const double *Q, const double *c,
                                      double b, size_t n, ms_objective **out);
void ms_objective_free(ms_objective *obj);

size_t ms_objective_dim(const ms_objective *obj);
const char *ms_objective_name(const ms_objective *obj);
int ms_objective_has_grad(const ms_objective *obj);
/* f and grad may each be NULL; a non-finite result is not an error here. */
ms_status ms_objective_eval(ms_objective *obj, const double *x, double *f,
                            double *grad);
/* Fourth-order central finite-difference gradient. */
ms_status ms_objective_numgrad(ms_objective *obj, const double *x,
                               double *grad);
/* Largest error |a_i - n_i| / max(|a_i|, |n_i|, 1) between the gradient
 * the objective computes and the numeric one (relative for entries above
 * 1, absolute below), and its index. */
ms_status ms_objective_gradcheck(ms_objective *obj, const double *x,
                                 double *max_error, size_t *index);
/* A plotting window {x1min, x1max, x2min, x2max} for a 2-D objective:
 * returns 1 and fills window if the objective suggests one. */
int ms_objective_window(const ms_objective *obj, double window[4]);
/* A known global minimiser: returns 1 and fills x (dim numbers). */
int ms_objective_minimizer(const ms_objective *obj, double *x);

/* Classic test functions (Rosenbrock, Beale, Booth: Jamil and Yang 2013). */
/* sum_i b (x_{i+1} - x_i^2)^2 + (a - x_i)^2, dim >= 2 */
ms_status ms_objective_rosenbrock(double a, double b, size_t dim,
                                  ms_objective **out);
/* (1.5 - x + xy)^2 + (2.25 - x + xy^2)^2 + (2.625 - x + xy^3)^2 */
ms_status ms_objective_beale(ms_objective **out);
/* (x + 2y - 7)^2 + (2x + y - 5)^2 */
ms_status ms_objective_booth(ms_objective **out);
/* (x^2 + y - 11)^2 + (x + y^2 - 7)^2, four minima */
ms_status ms_objective_himmelblau(ms_objective **out);
/* 1/2 x'Qx with Q = R diag(lambda) R', eigenvalues from 1 to kappa
 * (geometric), R a rotation: by `angle` in 2-D, a random orthogonal matrix
 * from `seed` otherwise. */
ms_status ms_objective_rotated_quadratic(double kappa, size_t dim,
                                         double angle, uint64_t seed,
                                         ms_objective **out);

/* ------------------------------------------------------------ schedules
 * A schedule gives a hyper-parameter's value at step t (t = 1, 2, ...).
 * The built-ins follow PyTorch's lr_scheduler, with k = t - 1 steps
 * already taken playing the role of PyTorch's "epoch": step 1 uses the
 * base value.  Schedules are immutable; composites keep pointers to their
 * parts, which must outlive them.                                         */

typedef struct ms_schedule ms_schedule;
typedef ms_status (*ms_schedule_fn)(void *ctx, int64_t t, double *value);

ms_status ms_schedule_new(ms_schedule_fn fn, void *ctx, ms_free_fn free_ctx,
                          ms_schedule **out);
ms_status ms_schedule_constant(double value, ms_schedule **out);
/* base gamma^floor(k / step_size) */
ms_status ms_schedule_step(double base, int64_t step_size, double gamma,
                           ms_schedule **out);
/* base gamma^(number of milestones <= k); milestones increasing */
ms_status ms_schedule_multistep(double base, const int64_t *milestones,
                                size_t count, double gamma,
                                ms_schedule **out);
/* base gamma^k */
ms_status ms_schedule_exponential(double base, double gamma,
                                  ms_schedule **out);
/* min + (base - min)(1 + cos(pi k / period)) / 2 for k <= period, then min;
 * with restarts (SGDR) k runs modulo the period, which grows by a factor
 * mult (an integer >= 1) after each restart. */
ms_status ms_schedule_cosine(double base, int64_t period, double min,
                             int restarts, int64_t mult, ms_schedule **out);
/* base (start + (end - start) min(k, steps) / steps): linear warm-up
 * (start < end) or decay, as PyTorch's LinearLR */
ms_status ms_schedule_linear(double base, double start, double end,
                             int64_t steps, ms_schedule **out);
/* min + (base - min)(1 - min(k, steps) / steps)^power */
ms_status ms_schedule_polynomial(double base, int64_t steps, double power,
                                 double min, ms_schedule **out);
/* base t / warmup for t <= warmup, then base sqrt(max(warmup, 1) / t) */
ms_status ms_schedule_inverse_sqrt(double base, int64_t warmup,
                                   ms_schedule **out);
/* parts[0] until milestones[0], then parts[1] restarted at step 1, ...
 * (PyTorch's SequentialLR): count parts, count - 1 increasing milestones */
ms_status ms_schedule_sequence(ms_schedule *const *parts, size_t count,
                               const int64_t *milestones, ms_schedule **out);
void ms_schedule_free(ms_schedule *s);
ms_status ms_schedule_value(const ms_schedule *s, int64_t t, double *value);
/* 1 if the value can be computed from any thread (no callback inside) */
int ms_schedule_is_pure(const ms_schedule *s);

/* ---------------------------------------------------------- update rules
 * A rule is a const method table (ms_rule_class) plus an instance
 * (ms_rule) holding hyper-parameter values and the state vectors, each
 * shaped like the parameters.  A rule defined in a scripting language is
 * just one more class whose step calls back into the script.             */

typedef enum ms_hyper_kind {
  MS_HYPER_REAL = 0, /* a real number in [lo, hi] (bounds per lo/hi_open) */
  MS_HYPER_FLAG      /* 0 or 1 */
} ms_hyper_kind;

typedef struct ms_hyper_info {
  const char *name;
  double def;         /* default value; NaN: the user must give one */
  double lo, hi;      /* allowed range */
  int lo_open, hi_open; /* 1: the bound itself is excluded */
  ms_hyper_kind kind;
} ms_hyper_info;

typedef struct ms_rule_class {
  const char *name;
  int nhyper;
  const ms_hyper_info *hyper;
  int nstate;                      /* number of state vectors */
  const char *const *state_names;  /* nstate names, for inspection */
  /* Constraints between hyper-parameters (may be NULL). */
  ms_status (*check)(const double *h);
  /* Optional: where to evaluate the gradient for step t (look-ahead rules
   * such as Nesterov's original form).  NULL means at x itself. */
  ms_status (*lookahead)(void *ctx, const double *h, const double *x,
                         double *const *state, double *y, size_t n,
                         int64_t t);
  /* Step t: update x in place from the gradient g and the state. */
  ms_status (*step)(void *ctx, const double *h, double *x, const double *g,
                    double *const *state, size_t n, int64_t t);
} ms_rule_class;

typedef struct ms_rule ms_rule;

/* Built-in classes. */
int ms_rule_class_count(void);
const ms_rule_class *ms_rule_class_at(int i);
const ms_rule_class *ms_rule_class_find(const char *name);

/* A new instance with the class defaults (required ones still unset). */
ms_status ms_rule_new(const ms_rule_class *cls, ms_rule **out);
void ms_rule_free(ms_rule *rule);
ms_status ms_rule_clone(const ms_rule *rule, ms_rule **out);
const ms_rule_class *ms_rule_class_of(const ms_rule *rule);
void ms_rule_set_context(ms_rule *rule, void *ctx);

int ms_rule_hyper_index(const ms_rule *rule, const char *name); /* -1: none */
ms_status ms_rule_set(ms_rule *rule, const char *name, double value);
/* Let hyper-parameter `name` follow a schedule (NULL: back to its value).
 * The rule does not own the schedule, which must outlive it. */
ms_status ms_rule_set_schedule(ms_rule *rule, const char *name,
                               const ms_schedule *schedule);
const ms_schedule *ms_rule_get_schedule(const ms_rule *rule, int i);
double ms_rule_get(const ms_rule *rule, int i);
/* MS_OK when every required hyper-parameter is set and all constraints
 * hold. */
ms_status ms_rule_check(const ms_rule *rule);

/* Zero the state for parameters of dimension n and restart at step 1. */
ms_status ms_rule_reset(ms_rule *rule, size_t n);
size_t ms_rule_dim(const ms_rule *rule);        /* 0 before the first reset */
int64_t ms_rule_steps(const ms_rule *rule);     /* steps taken since reset */
double *ms_rule_state(ms_rule *rule, int i);    /* NULL before reset */
/* Point at which to take the gradient for the next step (y = x unless the
 * class has a lookahead). */
ms_status ms_rule_lookahead(ms_rule *rule, const double *x, double *y,
                            size_t n);
/* Take one step: x <- rule(x, g).  Resets first if n differs from the
 * state's dimension. */
ms_status ms_rule_step(ms_rule *rule, double *x, const double *g, size_t n);

/* ----------------------------------------------------------------- traces
 * The full-batch loop of d2l's train_2d: x_0 = x0, then steps updates,
 * recording x_t and f(x_t).  A run whose parameters, value or gradient
 * become NaN or Inf stops there: the trace keeps the finite points and
 * records the step at which it diverged.                                 */

typedef struct ms_trace ms_trace;

typedef struct ms_trace_opts {
  int64_t steps;   /* number of updates; default 20 */
  int64_t every;   /* record every k-th step (and the last); default 1 */
} ms_trace_opts;

void ms_trace_opts_init(ms_trace_opts *opts);
/* The argument checks of ms_trace_run alone: MS_OK when it would start. */
ms_status ms_trace_check(const ms_objective *obj, const double *x0, size_t n,
                         const ms_trace_opts *opts);
ms_status ms_trace_run(ms_objective *obj, ms_rule *rule, const double *x0,
                       size_t n, const ms_trace_opts *opts, ms_trace **out);
void ms_trace_free(ms_trace *tr);

size_t ms_trace_dim(const ms_trace *tr);
size_t ms_trace_len(const ms_trace *tr);          /* recorded points */
int64_t ms_trace_step(const ms_trace *tr, size_t i);   /* step of point i */
const double *ms_trace_point(const ms_trace *tr, size_t i);
double ms_trace_value(const ms_trace *tr, size_t i);   /* f at point i */
int64_t ms_trace_diverged(const ms_trace *tr);  /* step, or 0 if it did not */
const char *ms_trace_reason(const ms_trace *tr);  /* why it stopped early */
/* CSV with a header line step,x1,...,xn,f; written to a temporary file
 * and renamed, so a failure leaves no partial file behind. */
ms_status ms_trace_write_csv(const ms_trace *tr, const char *path);

#endif
