/*
 * momsandbox.h -- the public C API of the momsandbox engine.
 *
 * Two more public headers build on this one: momsandbox_host.h, the
 * services of the system that hosts of the engine use (processes, files,
 * folders, a clock, Ctrl-C), and momsandbox_pull.h, the functions a
 * binding needs to run the engine's loops in its own language.  A C
 * program that only computes needs this header alone.
 *
 * Plain C declarations only: the text between the include guard and its
 * #endif, with the '#' lines removed, must be accepted by LuaJIT's ffi.cdef
 * (spec/ffi/header_spec.lua proves it for each header, this one first).
 * Hence: no #define constants (enums instead), no extern "C" block, (void)
 * for empty parameter lists, opaque handles for every object.
 *
 * Conventions
 *   - Functions that can fail return an ms_status; MS_OK is 0.  A failing
 *     call leaves a one-line explanation in ms_last_error() (per thread).
 *   - Nothing aborts, NULL arguments included.  A NULL object or array
 *     where a function needs one is MS_EINVAL ("ms_rule_step: g is NULL");
 *     an options struct (opts) may be NULL for the defaults, and other
 *     arguments where the function says so.  Functions returning a value
 *     read a NULL object as an empty one: NULL for pointers and strings,
 *     0 for counts, sizes, steps and flags, -1 where -1 means "none"
 *     (indices, steps of points), NaN for numbers.  Void functions given
 *     NULL do nothing.
 *   - A size whose buffer cannot exist (a product such as n * n or
 *     n * sizeof(double) that overflows) is MS_ERANGE, naming the size.
 *   - Every object has a create/free pair; free functions accept NULL.
 *   - Vectors are plain (double *, size_t n) pairs; the caller owns them.
 *     With n = 0 the pointer may be NULL.  Given NULL with n > 0, the
 *     ms_vec_ operations do nothing, the reductions return NaN and
 *     ms_vec_isfinite 0.
 *   - Steps are counted from 1: step t turns x_{t-1} into x_t.
 */
#ifndef MOMSANDBOX_H
#define MOMSANDBOX_H

#include <stddef.h>
#include <stdint.h>

/* ---------------------------------------------------------------- status */

/* Raised with every change to a declaration of these headers: the LuaJIT
 * binding refuses a library whose version is not its header's. */
enum { MS_ABI_VERSION = 5 };

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
 * call from a signal handler).  The request stands until
 * ms_interrupt_clear (momsandbox_pull.h), which ms_sigint_end calls
 * (hosts: ms_sigint_begin in momsandbox_host.h calls it on Ctrl-C). */
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
/* The shortest decimal form of x that reads back as x (at most 17 digits;
 * 25 bytes always suffice), or "" when it does not fit in size bytes:
 * never a part of the number, which would read back as another one. */
void ms_format_double(char *buf, size_t size, double x);

/* ------------------------------------------------------------ randomness
 * One seeded generator, xoshiro256** seeded by splitmix64: a seed gives
 * the same stream -- and the same runs -- on every machine.  A zero-filled
 * ms_rng never seeded (xoshiro's all-zero state yields 0 forever) is
 * seeded with 0 at its first draw.  A NULL generator draws nothing: 0, or
 * NaN from uniform and normal.                                           */

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
/* Fourth-order central finite-difference gradient: 4 dim evaluations of
 * f, which poll ms_interrupted (MS_EINTR), as does gradcheck. */
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
 * from `seed` otherwise (Householder, O(dim^3): about a minute for the
 * largest, dim = 4096; it polls ms_interrupted, MS_EINTR). */
ms_status ms_objective_rotated_quadratic(double kappa, size_t dim,
                                         double angle, uint64_t seed,
                                         ms_objective **out);
/* The built-in `name` for a binding whose numbers are doubles: args are
 * the parameters of its function above, in order, integers as doubles
 * holding them (the seed as int64_t, taken as uint64_t), sizes left out
 * but quadratic_form's n, which comes first: "quadratic": lambda;
 * "quadratic_form": n, Q, c (n numbers, or none), b; "rosenbrock": a, b,
 * dim; "beale", "booth", "himmelblau": none; "rotated_quadratic": kappa,
 * dim, angle, seed. */
ms_status ms_objective_builtin(const char *name, const double *args,
                               size_t nargs, ms_objective **out);

/* Objectives compiled from an expression graph (expr.c): a flat array of
 * nodes in topological order, each an operation on earlier nodes (a and b
 * index nodes before it) or a leaf, the last node being f.  The engine
 * evaluates f and its reverse-mode gradient in one pass, the exact
 * Hessian by forward-over-reverse passes, and runs no user code: the
 * objective is built-in as far as threads are concerned.  Operations on
 * equal values follow Lua: min and max keep a on ties and when b is NaN;
 * the derivative of |a| at 0, of min and max at ties, is that of the
 * branch taken. */
typedef enum ms_expr_op {
  MS_EXPR_CONST,                  /* c */
  MS_EXPR_VAR,                    /* x[a], 0-based */
  MS_EXPR_ADD, MS_EXPR_SUB, MS_EXPR_MUL, MS_EXPR_DIV,   /* a op b */
  MS_EXPR_POW,                    /* a^b */
  MS_EXPR_NEG,                    /* -a */
  MS_EXPR_SQR,                    /* a*a */
  MS_EXPR_POWC,                   /* a^c, c a constant */
  MS_EXPR_SIN, MS_EXPR_COS, MS_EXPR_TAN, MS_EXPR_EXP, MS_EXPR_LOG,
  MS_EXPR_SQRT, MS_EXPR_ABS, MS_EXPR_TANH, MS_EXPR_ATAN,  /* of a */
  MS_EXPR_ATAN2,                  /* atan2(a, b) */
  MS_EXPR_MIN, MS_EXPR_MAX,       /* of a and b */
  MS_EXPR_NOPS
} ms_expr_op;

typedef struct ms_expr_node {
  int op;            /* an ms_expr_op */
  uint32_t a, b;     /* operands (earlier nodes), or VAR's index */
  double c;          /* CONST's value, POWC's exponent */
} ms_expr_node;

/* The most nodes a graph may have. */
enum { MS_EXPR_NODES_MAX = 1000000 };

/* The objective f of dim variables the n nodes compute (copied). */
ms_status ms_objective_expr(size_t dim, const ms_expr_node *nodes, size_t n,
                            ms_objective **out);
/* The exact Hessian of f at x into H (dim x dim, row-major), for an
 * objective compiled from an expression or a quadratic built-in; other
 * objectives are MS_EINVAL.  It takes dim passes over the graph, which
 * poll ms_interrupted (MS_EINTR). */
ms_status ms_objective_hessian(ms_objective *obj, const double *x, double *H);

/* ------------------------------------------------------------ schedules
 * A schedule gives a hyper-parameter's value at step t (t = 1, 2, ...).
 * The built-ins follow PyTorch's lr_scheduler, with k = t - 1 steps
 * already taken playing the role of PyTorch's "epoch": step 1 uses the
 * base value.  Schedules are immutable (but for the values supplied to
 * callback schedules, below); composites keep pointers to their
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
/* The built-in `name` for a binding whose numbers are doubles: args are
 * the parameters of its function above, in order, integers (and cosine's
 * restarts, 0 or 1) as doubles holding them; "multistep": base, gamma,
 * then the milestones; "sequence": the count - 1 milestones of the count
 * parts (NULL and 0 for the others). */
ms_status ms_schedule_builtin(const char *name, const double *args,
                              size_t nargs, ms_schedule *const *parts,
                              size_t count, ms_schedule **out);
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

/* Step t: update x in place from the gradient g and the state. */
typedef ms_status (*ms_rule_step_fn)(void *ctx, const double *h, double *x,
                                     const double *g, double *const *state,
                                     size_t n, int64_t t);
/* Where to evaluate the gradient for step t: into y. */
typedef ms_status (*ms_rule_lookahead_fn)(void *ctx, const double *h,
                                          const double *x,
                                          double *const *state, double *y,
                                          size_t n, int64_t t);

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
  ms_rule_lookahead_fn lookahead;
  ms_rule_step_fn step;
  /* Optional, for the vectorised loop of sweeps: 1 when step, with the
   * hyper-parameters h and from a zeroed state, is operation for
   * operation v <- beta v + g (v_0 = 0), then
   *   x <- x + (-lr) v             heavy ball (*nesterov = 0), or
   *   x <- x + (-lr) (g + beta v)  Nesterov momentum (*nesterov = 1),
   * filling lr, beta and nesterov; 0 when h makes it another update.
   * NULL: never.  The engine reads it of its built-in classes only (a
   * class made with an older header has no such field). */
  int (*heavy_ball)(const double *h, double *lr, double *beta,
                    int *nesterov);
} ms_rule_class;

typedef struct ms_rule ms_rule;

/* Built-in classes. */
int ms_rule_class_count(void);
const ms_rule_class *ms_rule_class_at(int i);
const ms_rule_class *ms_rule_class_find(const char *name);
/* The update equations of built-in rule `name`: the first comment of its
 * core/src/rules/<name>.c (static text), or NULL for no such rule. */
const char *ms_rule_doc(const char *name);
/* A class made at run time, such as a rule written in a scripting
 * language: names holds the nhyper hyper-parameters' names, then the
 * nstate state vectors' (nhyper <= 255, nstate <= 64); desc six numbers
 * per hyper-parameter: def, lo, hi, lo_open, hi_open and flag (the last
 * three 0 or 1; flag 1 for MS_HYPER_FLAG).  The class copies them and is
 * the caller's: ms_rule_class_free frees it after its last rule (a
 * built-in class it leaves alone). */
ms_status ms_rule_class_new(const char *name, size_t nhyper, size_t nstate,
                            const char *const *names, const double *desc,
                            ms_rule_step_fn step,
                            ms_rule_lookahead_fn lookahead,
                            ms_rule_class **out);
void ms_rule_class_free(const ms_rule_class *cls);

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
 * state's dimension.  x and g are the same array or disjoint ones (the
 * built-in steps work on blocks of elements at once). */
ms_status ms_rule_step(ms_rule *rule, double *x, const double *g, size_t n);

/* ----------------------------------------------------------------- traces
 * The full-batch loop of d2l's train_2d: x_0 = x0, then steps updates,
 * recording x_t and f(x_t).  A run whose parameters, value or gradient
 * become NaN or Inf stops there (f is checked at every step, recorded or
 * not, as in sweeps): the trace keeps the finite points and records the
 * step at which it diverged.                                             */

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
/* The same run with the trace in the caller's memory: mem, of `bytes`
 * aligned for a double, at least ms_trace_size(n, opts) of them (0: the
 * options are wrong, as ms_trace_check says).  The caller owns mem and
 * keeps it while the trace is used; ms_trace_free of that trace frees
 * nothing.  mem NULL: as ms_trace_run.  (For short runs, whose
 * allocation costs as much as their steps.) */
size_t ms_trace_size(size_t n, const ms_trace_opts *opts);
ms_status ms_trace_run_in(ms_objective *obj, ms_rule *rule, const double *x0,
                          size_t n, const ms_trace_opts *opts, void *mem,
                          size_t bytes, ms_trace **out);
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

/* ------------------------------------------------------------------- data
 * A data set: n examples, each d features and a label, in double precision.
 * Text files hold one example per line: numbers separated by tabs or
 * spaces, or by commas (when the first line has a comma); '#' starts a
 * comment; blank lines are skipped; LF, CRLF and CR line ends all work.
 * A malformed file is an MS_EPARSE error naming file:line:column.        */

typedef struct ms_data ms_data;

/* ms_data_load reads regular files only: a directory, device, FIFO or
 * socket is an MS_EIO error before anything is read (a FIFO without a
 * writer does not block), as is a file that shrinks or grows while it is
 * read.  A file over max_bytes is refused (MS_ERANGE) before it is read:
 * a cell of two bytes ("1,") becomes a double of eight, so loading takes
 * several times the file's size in memory; the default (1 GiB, far more
 * than any table of the chapter) keeps a wrong path from exhausting
 * memory. */
enum { MS_DATA_MAX_BYTES = 1073741824 };

typedef struct ms_data_opts {
  int header;             /* 1: the first line names the columns; default 0 */
  int64_t label;          /* label column, 1-based, or negative from the
                             end; default -1 (the last) */
  const char *label_name; /* with a header, the label column by name
                             (overrides label); default NULL */
  int standardize;        /* 1: every column, label included, becomes
                             (x - mean) / std with the mean and population
                             std over all rows read; a constant column is
                             then an error; default 0 */
  int64_t rows;           /* keep only the first rows examples (after
                             standardising); 0: all; default 0 */
  int64_t max_bytes;      /* ms_data_load refuses a larger file (MS_ERANGE)
                             before reading it; >= 1; default
                             MS_DATA_MAX_BYTES (1 GiB) */
} ms_data_opts;

void ms_data_opts_init(ms_data_opts *opts);
ms_status ms_data_load(const char *path, const ms_data_opts *opts,
                       ms_data **out);
/* The same from size bytes of text (NULL if size is 0); name stands for
 * the file in messages (NULL: "data"). */
ms_status ms_data_parse(const char *text, size_t size, const char *name,
                        const ms_data_opts *opts, ms_data **out);
/* n examples from X (row-major n x d) and y, both copied; all finite. */
ms_status ms_data_new(const double *X, const double *y, size_t n, size_t d,
                      ms_data **out);
/* d2l's synthetic_data: x ~ N(0, I), y = w'x + b + noise N(0, noise^2),
 * drawn example by example (x then the noise) from ms_rng seeded with seed. */
ms_status ms_data_synthetic(const double *w, size_t d, double b, double noise,
                            size_t n, uint64_t seed, ms_data **out);
void ms_data_free(ms_data *data);

size_t ms_data_len(const ms_data *data);           /* examples */
size_t ms_data_features(const ms_data *data);
const double *ms_data_row(const ms_data *data, size_t i);  /* d features */
double ms_data_label(const ms_data *data, size_t i);
/* Column j (0 .. d-1: features, d: label) was standardised with mean and
 * std: returns 1 and fills them (either may be NULL), or returns 0. */
int ms_data_scaling(const ms_data *data, size_t j, double *mean, double *std);
/* The header's name of column j (same numbering), or NULL. */
const char *ms_data_name(const ms_data *data, size_t j);

/* ----------------------------------------------------------------- models
 * A model maps d features to a prediction through nparams = d + 1
 * parameters: the weights w_1..w_d, then the bias b.  Its training loss is
 * the mean over a minibatch of a per-example loss; the loss it reports
 * (ms_model_evaluate) is a mean over a whole data set.                   */

typedef struct ms_model ms_model;

typedef enum ms_loss {
  MS_LOSS_SQUARED = 0, /* 1/2 (yhat - y)^2, d2l's squared_loss (linreg) */
  MS_LOSS_MSE,         /* (yhat - y)^2, PyTorch's MSELoss (linreg) */
  MS_LOSS_LOGISTIC     /* -y log p - (1 - y) log(1 - p), p = sigmoid(w'x + b),
                          labels in [0, 1] (logreg) */
} ms_loss;

typedef enum ms_bias_init {
  MS_BIAS_ZERO = 0,    /* b = 0, as d2l's train_ch11 */
  MS_BIAS_UNIFORM      /* b ~ U(-1/sqrt(d), 1/sqrt(d)), nn.Linear's default */
} ms_bias_init;

typedef struct ms_model_opts {
  ms_loss loss;           /* linreg: SQUARED (default) or MSE */
  double weight_std;      /* w_j ~ N(0, weight_std^2); default 0.01 */
  ms_bias_init bias_init; /* default MS_BIAS_ZERO */
} ms_model_opts;

void ms_model_opts_init(ms_model_opts *opts);
/* Linear regression yhat = w'x + b. */
ms_status ms_model_linreg(size_t features, const ms_model_opts *opts,
                          ms_model **out);
/* Logistic regression p = sigmoid(w'x + b) with the logistic loss. */
ms_status ms_model_logreg(size_t features, const ms_model_opts *opts,
                          ms_model **out);
void ms_model_free(ms_model *model);

const char *ms_model_name(const ms_model *model);     /* "linreg" */
void ms_model_options(const ms_model *model, ms_model_opts *opts);
size_t ms_model_features(const ms_model *model);
size_t ms_model_nparams(const ms_model *model);
/* The mean training loss over the examples rows[0 .. count) of data (all
 * of them when rows is NULL) at params, and its gradient; loss and grad
 * may each be NULL. */
ms_status ms_model_loss(const ms_model *model, const ms_data *data,
                        const double *params, const size_t *rows,
                        size_t count, double *loss, double *grad);
/* The loss a run reports, over all of data: the training loss, except
 * that linear regression always reports 1/2 the mean squared error (d2l
 * halves MSELoss in train_concise_ch11, so both losses compare). */
ms_status ms_model_evaluate(const ms_model *model, const ms_data *data,
                            const double *params, double *loss);
/* The prediction for features x: w'x + b, or its sigmoid for logreg. */
double ms_model_predict(const ms_model *model, const double *params,
                        const double *x);
/* Initial parameters: w_1..w_d = weight_std * normal() in order, then b
 * (one uniform draw u, b = (2u - 1)/sqrt(d), when MS_BIAS_UNIFORM). */
void ms_model_init(const ms_model *model, ms_rng *rng, double *params);
/* The exact minimiser of the training loss over data and its reported
 * loss: linear regression solves the normal equations (centred, by
 * Cholesky); other models have no closed form (MS_EINVAL). */
ms_status ms_model_optimum(const ms_model *model, const ms_data *data,
                           double *params, double *loss);
/* The training loss over all of data as an objective of the parameters,
 * for ms_trace and gradient checks; model and data must outlive it. */
ms_status ms_model_objective(const ms_model *model, const ms_data *data,
                             ms_objective **out);

/* --------------------------------------------------------------- training
 * The minibatch loop of d2l's train_ch11: per epoch a fresh random order
 * (Fisher-Yates on ms_rng), consecutive minibatches of it (a smaller last
 * one kept unless drop_last), one rule step per minibatch; the reported
 * loss over all of data every eval_every examples and at the end.  Time
 * is measured on CLOCK_MONOTONIC around the training only (d2l's timer).
 * A run whose gradient, parameters or loss become NaN or Inf stops there
 * and records the step at which it diverged.                             */

typedef struct ms_train_result ms_train_result;

/* Called about every 0.1 s of a run with the steps done and due and the
 * seconds since the start; a status other than MS_OK stops the run. */
typedef ms_status (*ms_progress_fn)(void *ctx, int64_t step, int64_t steps,
                                    double seconds);

typedef struct ms_train_opts {
  int64_t batch;        /* examples per minibatch; default 10 */
  int64_t epochs;       /* default 2 */
  uint64_t seed;        /* initial parameters, then the orders; default 1 */
  int64_t eval_every;   /* examples between evaluations (0: only at the
                           end); default 200 */
  int shuffle;          /* 0: the data's order every epoch; default 1 */
  int drop_last;        /* 1: drop a last minibatch smaller than batch */
  const double *init;   /* initial parameters (nparams) or NULL: drawn; the
                           draw is made either way, so the orders depend
                           on the seed alone */
  ms_progress_fn progress;  /* may be NULL */
  void *progress_ctx;
} ms_train_opts;

void ms_train_opts_init(ms_train_opts *opts);
/* The argument checks of ms_train_run alone: MS_OK when it would start. */
ms_status ms_train_check(const ms_model *model, const ms_data *data,
                         const ms_train_opts *opts);
/* Resets the rule, then trains from the initial parameters. */
ms_status ms_train_run(const ms_model *model, const ms_data *data,
                       ms_rule *rule, const ms_train_opts *opts,
                       ms_train_result **out);
void ms_train_free(ms_train_result *res);

size_t ms_train_len(const ms_train_result *res);   /* points of the curve */
int64_t ms_train_examples(const ms_train_result *res, size_t i);
double ms_train_epoch(const ms_train_result *res, size_t i); /* examples/n */
double ms_train_loss(const ms_train_result *res, size_t i);
double ms_train_initial_loss(const ms_train_result *res);
/* The last evaluation, at the end; for a diverged run the non-finite loss
 * (of the data or of a minibatch) that stopped it, or NaN when the
 * gradient or the parameters did. */
double ms_train_final_loss(const ms_train_result *res);
int64_t ms_train_steps(const ms_train_result *res);
double ms_train_epochs_done(const ms_train_result *res);
double ms_train_seconds(const ms_train_result *res);   /* training only */
double ms_train_wall(const ms_train_result *res);      /* the whole run */
/* Training seconds per epoch done (d2l's timer.sum() / num_epochs). */
double ms_train_sec_per_epoch(const ms_train_result *res);
size_t ms_train_nparams(const ms_train_result *res);
const double *ms_train_params(const ms_train_result *res); /* last finite */
const double *ms_train_init(const ms_train_result *res);
int64_t ms_train_diverged(const ms_train_result *res);  /* step, or 0 */
const char *ms_train_reason(const ms_train_result *res);
/* CSV examples,epoch,loss, one line per point; whole or not at all. */
ms_status ms_train_write_csv(const ms_train_result *res, const char *path);

/* --------------------------------------------------------------- analysis
 * The chapter's theory (d2l 11.6.3) as computations.  On a convex
 * quadratic, gradient descent and momentum decouple along the eigenvectors
 * of Q; on f(x) = lambda x^2 / 2 momentum (v <- beta v + g, x <- x - eta v)
 * is the linear map [v; x] <- R [v; x] with
 *   R(beta, eta, lambda) = [[beta, lambda], [-eta beta, 1 - eta lambda]],
 * whose eigenvalues solve z^2 - (1 + beta - eta lambda) z + beta = 0; it
 * converges iff 0 < eta lambda < 2 + 2 beta.  The scalar functions need
 * lambda > 0, eta > 0 and 0 <= beta < 1 (MS_EINVAL otherwise).          */

/* R row-major: {beta, lambda, -eta beta, 1 - eta lambda}. */
ms_status ms_momentum_matrix(double beta, double eta, double lambda,
                             double R[4]);
/* The eigenvalues re[k] + i im[k] of R, the larger modulus first; a
 * complex pair has im[0] > 0. */
ms_status ms_momentum_eigenvalues(double beta, double eta, double lambda,
                                  double re[2], double im[2]);
/* The spectral radius of R: the factor by which momentum's error shrinks
 * per step in the long run. */
ms_status ms_momentum_radius(double beta, double eta, double lambda,
                             double *rho);
/* 1 when 0 < eta lambda < 2 + 2 beta. */
ms_status ms_momentum_converges(double beta, double eta, double lambda,
                                int *converges);
/* Gradient descent's factor |1 - eta lambda|. */
ms_status ms_gd_rate(double eta, double lambda, double *rate);
/* The constant parameters with the smallest worst-case factor over
 * eigenvalues in [mu, L] (0 < mu <= L), and that factor, kappa = L / mu.
 * Gradient descent: eta = 2 / (mu + L), rate (kappa - 1) / (kappa + 1).
 * Heavy ball: eta = 4 / (sqrt L + sqrt mu)^2,
 * beta = ((sqrt L - sqrt mu) / (sqrt L + sqrt mu))^2,
 * rate (sqrt kappa - 1) / (sqrt kappa + 1). */
ms_status ms_gd_optimal(double mu, double L, double *eta, double *rate);
ms_status ms_momentum_optimal(double mu, double L, double *eta, double *beta,
                              double *rate);
/* The formulas above by name, for bindings and tools: "R", "eigenvalues"
 * (re[0], re[1], im[0], im[1]), "radius", "converges" (1 or 0) of in[0..2]
 * = beta, eta, lambda; "gd_rate" of eta, lambda; "gd_optimal" (eta, rate)
 * and "momentum_optimal" (eta, beta, rate) of mu, L (in[2] unread).  *nout
 * results into out; MS_EINVAL for another name. */
ms_status ms_theory(const char *name, const double in[3], double out[4],
                    int *nout);
/* Eigenvalues (ascending) and, when vectors is not NULL, unit eigenvectors
 * of a symmetric n x n Q (row-major) by cyclic Jacobi rotations: row k of
 * vectors (n x n) belongs to values[k], its largest entry positive.
 * O(n^3) a sweep: both poll ms_interrupted (MS_EINTR). */
ms_status ms_eigen_symmetric(const double *Q, size_t n, double *values,
                             double *vectors);
/* The minimiser x = -Q^-1 c and minimum b + c'x / 2 (hmin may be NULL) of
 * h(x) = 1/2 x'Qx + c'x + b, Q symmetric positive definite (Cholesky, with
 * iterative refinement); c may be NULL (zero). */
ms_status ms_quadratic_minimize(const double *Q, const double *c, double b,
                                size_t n, double *x, double *hmin);

/* ------------------------------------------ the theory of any linear rule
 * On f(x) = lambda x^2 / 2 a rule whose step is linear in x, the gradient
 * and its state is a linear map z_t = M z_{t-1} of z = (x, s_1, ..., s_m),
 * x and its state vectors in the class's order.  The engine finds M from
 * the rule's own step (a one-dimensional clone stepped from the unit
 * vectors: works for rules written in a scripting language), and checks
 * that the step is linear -- a zero input stays zero, three more inputs
 * (a combination, scaled by 1000 and by 1/1000) give M's prediction to
 * 1e-10 -- else MS_EINVAL with why (Adam, RMSProp, Adagrad).  Step t >= 1
 * is step t of a run: scheduled values at t, t handed to the step, from
 * the state the probe sets (the steps before are not replayed; sgd's and
 * nesterov's first step, whose buffer starts as the gradient, has a
 * matrix of its own).  Its spectral radius is the factor by which the
 * error shrinks per step in the long run, on each eigenvalue lambda of a
 * quadratic's Hessian.                                                   */

/* M ((1 + nstate)^2 numbers, row-major) of step t; lambda finite. */
ms_status ms_rule_matrix(const ms_rule *rule, double lambda, int64_t t,
                         double *M);
/* The eigenvalues re[k] + i im[k] of a real n x n matrix (row-major, 1 <=
 * n <= 1024, finite), by balancing, Hessenberg reduction and shifted QR;
 * the larger modulus first, a complex pair's positive part first. */
ms_status ms_matrix_eigenvalues(const double *M, size_t n, double *re,
                                double *im);
/* The eigenvalues of M that x sees (1 + nstate room in re and im, their
 * count into *count), the larger modulus first: the entries of z that x
 * reaches and that reach x back (an entry that a step never writes, or
 * that never feeds back into x, adds eigenvalues a run never shows). */
ms_status ms_rule_spectrum(const ms_rule *rule, double lambda, int64_t t,
                           double *re, double *im, size_t *count);
/* The largest spectral radius of those over count values lambda. */
ms_status ms_rule_radius(const ms_rule *rule, const double *lambda,
                         size_t count, int64_t t, double *radius);
/* ms_rule_radius at every point of a grid of two hyper-parameters (the
 * rule's other values unchanged): radius[i nx + j] at xname = x[j],
 * yname = y[i].  Polls ms_interrupted. */
ms_status ms_rule_region(const ms_rule *rule, const double *lambda,
                         size_t count, int64_t t, const char *xname,
                         const double *x, size_t nx, const char *yname,
                         const double *y, size_t ny, double *radius);

/* What the analysis and sweeps need to know of an objective. */
/* 1 if obj is f(x) = 1/2 sum_i lambda_i x_i^2 (a quadratic, or a
 * quadratic form with diagonal Q, c = 0 and b = 0); fills lambda (dim
 * numbers) when it is not NULL. */
int ms_objective_diagonal(const ms_objective *obj, double *lambda);
/* 1 if obj is one of the quadratic built-ins, or compiled from an
 * expression that is a polynomial of degree <= 2: 1/2 x'Qx + c'x + b;
 * fills Q (dim x dim, row-major), c (dim) and b, each when not NULL. */
int ms_objective_quadratic_parts(const ms_objective *obj, double *Q,
                                 double *c, double *b);
/* 1 if evaluating obj runs no user callback, so any thread may: true of
 * the engine's built-ins, false of objectives made by ms_objective_new. */
int ms_objective_is_pure(const ms_objective *obj);

/* ----------------------------------------------------------------- sweeps
 * A rule run from x0 for the same number of steps at every point of a grid
 * of hyper-parameter values, measuring each run.  The grid is the product
 * of its axes, the first varying fastest, or an explicit list of points.
 * An axis is a hyper-parameter of the rule, or "scale", a factor on the
 * objective (with f = lambda x^2 / 2 and lambda = 1 it is lambda).
 * Runs stop early when the gradient, the iterate or f becomes NaN or Inf
 * (they diverged, at the step a trace of the run gives) or, when the minimiser x* is known, once
 * |x_t - x*|^2 + |x_{t-1} - x*|^2 < 1e-280 at a step t divisible by 16:
 * then x_T = x* (the rest would be rounding noise).
 *
 * Built-in rules whose update is heavy ball or Nesterov momentum (as
 * their class's heavy_ball says: gd, momentum, nesterov, sgd without
 * dampening, weight decay or maximize), without schedules, on a diagonal
 * quadratic whose known x* is 0 run in a vectorised loop with
 * bit-identical results.  Runs are spread over
 * threads when the objective, the rule's class and its schedules are all
 * built-in; anything that calls back into user code runs on the calling
 * thread.  Every run depends on its parameters alone: results are the
 * same whatever the threads and shards.                                  */

typedef struct ms_sweep ms_sweep;

typedef enum ms_measure {
  MS_MEASURE_LOSS = 1,  /* f(x_T); Inf for a diverged run; always measured */
  MS_MEASURE_RATE = 2,  /* the empirical rate: the geometric mean of the
                           per-step contraction |z_t| / |z_{t-1}| of
                           z_t = (x_t - x*, x_{t-1} - x*), weighted as the
                           least-squares slope of log |z_t| over the last
                           half to three quarters of the run (steps
                           2^(k-1) .. t_end with 2^k <= t_end < 2^(k+1)),
                           which averages out momentum's oscillation */
  MS_MEASURE_STEPS = 4  /* the first t with f(x_t) - f* <= tol */
} ms_measure;

typedef struct ms_sweep_opts {
  int64_t steps;        /* steps per run; default 100 */
  int measures;         /* MS_MEASURE_* bits; default MS_MEASURE_LOSS */
  double tol;           /* for MS_MEASURE_STEPS; default 1e-6 */
  int threads;          /* 0: one per online CPU (default); at most 4 per
                           online CPU, and no more than the work units */
  int64_t shard;        /* run only part shard (0-based) of shards: */
  int64_t shards;       /* contiguous parts of the grid; default 0 of 1 */
  int fast;             /* 0: never the vectorised loop; default 1 */
  ms_progress_fn progress;  /* on the calling thread, about every 0.1 s
                               and at the end, with points done and due;
                               not MS_OK stops the sweep; may be NULL */
  void *progress_ctx;
} ms_sweep_opts;

typedef struct ms_sweep_result {
  double loss;       /* f(x_T), Inf if the run diverged */
  double rate;       /* NaN when not measured or the run was too short */
  double steps;      /* NaN when not measured or never reached */
  int64_t diverged;  /* step at which the gradient, x or f became NaN or
                        Inf; 0 if they did not */
} ms_sweep_result;

void ms_sweep_opts_init(ms_sweep_opts *opts);
/* A sweep of copies of rule (its hyper-parameters are the defaults of
 * every point; the schedules it uses must outlive the sweep) on obj, which
 * must outlive it too. */
ms_status ms_sweep_new(ms_objective *obj, const ms_rule *rule,
                       const double *x0, size_t n, ms_sweep **out);
void ms_sweep_free(ms_sweep *s);
/* Add an axis of count values. */
ms_status ms_sweep_axis(ms_sweep *s, const char *name, const double *values,
                        size_t count);
/* Add an axis of count values from `from` to `to` inclusive, evenly
 * spaced, or geometrically when log is 1: ms_range_value's, after
 * ms_range_check. */
ms_status ms_sweep_range(ms_sweep *s, const char *name, double from,
                         double to, int64_t count, int log);
/* Whether count values from `from` to `to` make a range (the message
 * names it `name`): finite ends in order, count >= 1, from = to exactly
 * when count = 1, from > 0 when log_spaced. */
ms_status ms_range_check(const char *name, double from, double to,
                         int64_t count, int log_spaced);
/* Value k (0 .. count - 1) of a checked range, both ends exact; NaN for
 * another k. */
double ms_range_value(double from, double to, int64_t count, int log_spaced,
                      int64_t k);
/* Instead of axes: count points, row k holding the values of the names
 * (count x nnames, row-major; with nnames = 0 both may be NULL). */
ms_status ms_sweep_points(ms_sweep *s, const char *const *names,
                          size_t nnames, const double *values, size_t count);
/* The minimiser and minimum the measures refer to; by default the
 * objective's known minimiser and f there.  Either may be NULL. */
ms_status ms_sweep_target(ms_sweep *s, const double *xstar,
                          const double *fstar);
/* Run it (again): MS_ERANGE, before anything runs, when the results would
 * not fit in half of the machine's memory. */
ms_status ms_sweep_run(ms_sweep *s, const ms_sweep_opts *opts);

const ms_rule *ms_sweep_rule(const ms_sweep *s);   /* its copy of rule */
int64_t ms_sweep_total(const ms_sweep *s);     /* points of the whole grid */
int64_t ms_sweep_first(const ms_sweep *s);     /* this shard's first point */
int64_t ms_sweep_count(const ms_sweep *s);     /* and how many it ran */
size_t ms_sweep_naxes(const ms_sweep *s);
const char *ms_sweep_axis_name(const ms_sweep *s, size_t axis);
/* Values of a grid axis: count, and value k (NaN out of range). */
int64_t ms_sweep_axis_len(const ms_sweep *s, size_t axis);
double ms_sweep_axis_value(const ms_sweep *s, size_t axis, int64_t k);
int ms_sweep_axis_log(const ms_sweep *s, size_t axis);  /* a log range */
/* The value of an axis at point i of the whole grid. */
double ms_sweep_value(const ms_sweep *s, int64_t i, size_t axis);
/* Results of the last run, ms_sweep_count() of them (NULL before). */
const ms_sweep_result *ms_sweep_results(const ms_sweep *s);
/* Column c of the last run's results, ms_sweep_count() numbers into out:
 * for c < ms_sweep_naxes() the values of axis c at the points, then the
 * loss, rate, steps and diverged (as doubles) columns; MS_EINVAL for
 * another c or before the sweep has run. */
ms_status ms_sweep_column(const ms_sweep *s, size_t c, double *out);
int ms_sweep_measures(const ms_sweep *s);      /* of the last run */
int ms_sweep_was_fast(const ms_sweep *s);      /* 1: the vectorised loop */
int ms_sweep_threads(const ms_sweep *s);       /* threads it used */
double ms_sweep_seconds(const ms_sweep *s);    /* wall time of the run */
/* CSV: the axes, loss, rate and steps when measured, diverged; one line
 * per point of this shard in order, so that the parts of a sharded sweep
 * concatenate (header only in the first part) into the whole sweep's
 * file.  Whole or not at all. */
ms_status ms_sweep_write_csv(const ms_sweep *s, const char *path,
                             int header);

#endif
