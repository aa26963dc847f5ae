/*
 * internal.h -- helpers shared by the engine's sources; not installed.
 */
#ifndef MS_INTERNAL_H
#define MS_INTERNAL_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "momsandbox.h"
#include "momsandbox_host.h"
#include "momsandbox_pull.h"

/* Record a detail message for ms_last_error() and return status. */
ms_status ms_fail(ms_status status, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* A NULL argument where the function needs an object or an array:
 * MS_EINVAL with "fn: arg is NULL".  Cold, so that the checks at the entry
 * of hot functions cost one predicted branch. */
ms_status ms_null(const char *fn, const char *arg)
#if defined(__GNUC__)
    __attribute__((cold))
#endif
    ;
#define MS_NEED(p)                                                       \
  do {                                                                   \
    if ((p) == NULL) return ms_null(__func__, #p);                       \
  } while (0)

/* The number of elements of array a (an array, not a pointer): tables are
 * counted from their contents, never by a literal kept in step by hand. */
#define MS_COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* a * b into *out, or 0 when the product does not fit in a size_t (sizes
 * of buffers: a wrapped product would allocate too little). */
static inline int ms_size_mul(size_t a, size_t b, size_t *out) {
  if (b != 0 && a > SIZE_MAX / b) return 0;
  *out = a * b;
  return 1;
}

/* x as an int64_t into *out, or 0 when x is no integer in range (for
 * the *_builtin functions, whose callers' numbers are doubles). */
static inline int ms_to_int64(double x, int64_t *out) {
  if (!(x >= -0x1p63 && x < 0x1p63) || (double)(int64_t)x != x) return 0;
  *out = (int64_t)x;
  return 1;
}

/* Called by ms_interrupted: inside ms_sigint_begin/end, put the SIGINT
 * handler in front of the host's if it is not there yet. */
void ms_sigint_arm(void);

/* torch.lerp(a, b, w) on one scalar, as ATen computes it (Adam, RMSprop). */
static inline double ms_lerp(double a, double b, double w) {
  return (w < 0 ? -w : w) < 0.5 ? a + w * (b - a) : b - (b - a) * (1 - w);
}

/* Overflow-checked allocation of count * size bytes, zero-filled, never
 * NULL for a size of 0 (mem.c). */
void *ms_calloc(size_t count, size_t size);

/* The engine's one clock (clock.c): seconds on a monotonic clock, for
 * every time the engine measures. */
double ms_now(void);
/* A condition variable whose timed waits run on that clock, and a wait on
 * it of at most `seconds` (pthread's errors, ETIMEDOUT included). */
int ms_cond_init(pthread_cond_t *cond);
int ms_cond_wait_for(pthread_cond_t *cond, pthread_mutex_t *lock,
                     double seconds);

/* Name a built-in objective and record what is known of it: a plotting
 * window (4 numbers) and a global minimiser (dim numbers); either may be
 * NULL. */
void ms_objective_describe(ms_objective *obj, const char *name,
                           const double *window, const double *minimizer);

/* The context of obj if its function is fn, else NULL: how an engine
 * file recognises the objectives it made (expr.c). */
void *ms_objective_context(const ms_objective *obj, ms_objective_fn fn);
/* ms_objective_quadratic_parts of an objective compiled from an
 * expression (expr.c): 1 when f is a polynomial of degree <= 2. */
int ms_expr_quadratic_parts(const ms_objective *obj, double *Q, double *c,
                            double *b);
/* How obj, compiled from an expression, evaluates (for the tests):
 * MS_EXPR_AUTO, its own choice (batched, unless its batches average under
 * two operations); MS_EXPR_BATCHED (expr_batch.c); MS_EXPR_REFERENCE, the
 * reference passes (one operation at a time, in the caller's order), what
 * the tests compare the batched evaluation with; MS_EXPR_MAGNITUDE, those
 * with a gradient that is the sum of the magnitudes of the terms each
 * entry sums, which bounds what their order changes. */
enum { MS_EXPR_AUTO, MS_EXPR_BATCHED, MS_EXPR_REFERENCE, MS_EXPR_MAGNITUDE,
       MS_EXPR_NATIVE };
void ms_expr_reference(ms_objective *obj, int how);
/* How obj evaluates now: MS_EXPR_BATCHED, _REFERENCE or _MAGNITUDE, or
 * MS_EXPR_NATIVE, machine code (expr_native.c) (-1: not compiled from an
 * expression). */
int ms_expr_evaluation(const ms_objective *obj);
/* Machine code for an objective compiled from an expression
 * (expr_native.c), the same bits as the reference passes.
 * ms_objective_plan (momsandbox_pull.h) is called by the thread that
 * starts a run (a trace, a sweep before its threads start) with the
 * evaluations it will make; it compiles when the program's runs make it
 * pay (any failure but a bad MOMSANDBOX_NATIVE leaves the program
 * interpreted).  compile: now, whatever the runs, the knob or how the
 * program evaluates otherwise (for the tests); MS_EIO when cc is missing
 * or fails.  Once per program: a failure is remembered.  Any other
 * objective: nothing to do (compile: MS_EINVAL). */
ms_status ms_expr_native_compile(const ms_objective *obj);
/* An objective compiled from an expression, for a loop that calls its
 * evaluation directly (the fused trace loop): its program, or NULL for
 * any other objective; the calling thread's scratch for it (NULL: out of
 * memory), to get before the loop; f and the gradient at x (either may
 * be NULL), the very numbers ms_objective_eval gives. */
typedef struct ms_expr_program ms_expr_program;
const ms_expr_program *ms_expr_program_of(const ms_objective *obj);
double *ms_expr_scratch(const ms_expr_program *p);
void ms_expr_eval(const ms_expr_program *p, double *scratch, const double *x,
                  double *f, double *grad);
/* The formula of a built-in objective, for loops that inline it (the
 * fused trace loop, trace_fused.c), which must compute it operation for
 * operation as the objective's function does.  set_formula records it with
 * its data (the diagonal's lambda, owned by the objective) and numbers
 * (Rosenbrock's a and b); ms_objective_formula reads them back. */
typedef enum ms_formula {
  MS_FORMULA_NONE = 0,   /* any other objective: called, not inlined */
  MS_FORMULA_DIAGONAL,   /* 1/2 sum lambda_i x_i^2 (objective.c) */
  MS_FORMULA_ROSENBROCK, /* the rest: testfunctions.c */
  MS_FORMULA_BEALE,
  MS_FORMULA_BOOTH,
  MS_FORMULA_HIMMELBLAU,
  MS_FORMULA_EXPR,       /* compiled from an expression: ms_expr_eval */
  MS_FORMULA_COUNT
} ms_formula;
void ms_objective_set_formula(ms_objective *obj, ms_formula formula,
                             const double *data, double a, double b);
ms_formula ms_objective_formula(const ms_objective *obj, const double **data,
                              double params[2]);

/* Q (n x n, row-major) is a symmetric matrix of finite numbers, neither
 * empty nor too large to index; else an error saying what is wrong. */
ms_status ms_check_symmetric(const double *Q, size_t n);

/* x0 (n numbers) is a finite starting point for the objective. */
ms_status ms_check_start(const ms_objective *obj, const double *x0, size_t n);

/* Large zero-filled buffers, backed by huge pages where possible (mem.c);
 * free with the same size. */
void *ms_big_alloc(size_t bytes);
void ms_big_free(void *p, size_t bytes);
/* The same, of undefined contents, reusing the last large buffer given
 * back when it spans as many huge pages (trajectories, which are written
 * before they are read); give back with the same size. */
void *ms_big_take(size_t bytes);
void ms_big_give(void *p, size_t bytes);

/* A file written as the user meant it (file.c): ms_file_begin, then write
 * to fp, then ms_file_end, which says whether everything was written and,
 * for a regular file, renames the temporary file over the target or
 * removes it when anything failed. */
typedef struct ms_file {
  FILE *fp;
  const char *path;   /* as the caller named it, for messages */
  char *target;       /* path with its symbolic links followed */
  char *tmp;          /* the temporary file beside target; NULL in place */
  int fd;             /* the descriptor behind fp */
  int err;            /* errno of the first write that failed, or 0 */
  void *old_mask;     /* while a FIFO is written with SIGPIPE blocked:
                         the signal mask before (a sigset_t) */
} ms_file;

/* On failure nothing is left open or created; ms_file_end need not be
 * called (it may be: it does nothing then). */
ms_status ms_file_begin(const char *path, ms_file *file);
ms_status ms_file_end(ms_file *file, ms_status st);
/* A CSV cell: x in the shortest form that reads back exactly, after a
 * comma unless it is the first of its line. */
void ms_file_put_number(FILE *fp, double x, int first);

/* A data set (data.c), read directly by the models and the training
 * loop. */
struct ms_data {
  size_t n, d;
  double *x;          /* n * d features, row-major */
  double *y;          /* n labels */
  double *scale;      /* when standardised: d + 1 means, then d + 1 stds */
  char **names;       /* d + 1 header names (the label last), or NULL */
};

/* ms_model_loss without the argument checks, for the training loop:
 * count >= 1, rows valid, data of the model's feature count. */
ms_status ms_model_batch(const ms_model *model, const ms_data *data,
                         const double *params, const size_t *rows,
                         size_t count, double *loss, double *grad);
/* Can the model learn from data?  (Logistic regression needs labels in
 * [0, 1].) */
ms_status ms_model_accepts(const ms_model *model, const ms_data *data);

/* Step t of the full-batch loop, shared by traces and sweeps (inline: it
 * runs at every step of both): the gradient -- at x, or, when lookahead
 * (the rule's class has one), at the look-ahead point, with y as room for
 * it -- unless have_g says g holds it already, then the rule's update of
 * x.  *bad points at g or x when that is not finite (the run diverged),
 * else it is NULL. */
static inline ms_status ms_loop_step(ms_objective *obj, ms_rule *rule,
                                     int lookahead, double *x, double *g,
                                     double *y, size_t n, int have_g,
                                     const double **bad) {
  ms_status st = MS_OK;
  *bad = NULL;
  if (lookahead) {
    if ((st = ms_rule_lookahead(rule, x, y, n)) == MS_OK)
      st = ms_objective_eval(obj, y, NULL, g);
  } else if (!have_g) {
    st = ms_objective_eval(obj, x, NULL, g);
  }
  if (st != MS_OK) return st;
  if (!ms_vec_isfinite(g, n)) {
    *bad = g;
    return MS_OK;
  }
  if ((st = ms_rule_step(rule, x, g, n)) != MS_OK) return st;
  if (!ms_vec_isfinite(x, n)) *bad = x;
  return MS_OK;
}

/* Adam's step (rules/adam.c) from x' = decay x, both in one pass: AdamW
 * (rules/adamw.c) is this with decay = 1 - lr weight_decay. */
ms_status ms_rule_adam_step(const double *h, double decay, double *x,
                            const double *g, double *const *state, size_t n,
                            int64_t t);

/* The built-in update rules (rules/builtin.c). */
extern const ms_rule_class *const ms_rule_builtin[];
extern const size_t ms_rule_builtin_count;
/* 1 if cls is one of them (rule.c): its functions are the engine's, which
 * any thread may call, and it has every field of this header's class. */
int ms_rule_class_is_builtin(const ms_rule_class *cls);
/* Set the steps a rule has taken (state kept), for a loop that stepped its
 * state without ms_rule_step (the fused trace loop), or to probe step
 * t + 1 in isolation (the theory). */
void ms_rule_set_steps(ms_rule *rule, int64_t t);

#endif
