/*
 * expr_native.c -- a compiled expression as machine code: the program
 * written out as C, compiled by the system's C compiler into a shared
 * object, loaded with dlopen.
 *
 * Why: the reference passes (expr.c) run a small program one switch per
 * operation through memory, each step waiting for the last one's store:
 * some 38 ns an evaluation of Rosenbrock at d = 2, five times the
 * built-in's step.  Straight-line code keeps every value in a register.
 *
 * The code is the reference passes unrolled, with the same bits:
 *   - the forward pass in the program's order, every operation the
 *     formula of ms_expr_apply (the table below mirrors it, partials
 *     included);
 *   - the reverse pass from the last operation to the first, each adjoint
 *     starting at 0 (f's at 1) and summing a's term, then b's, as expr.c's
 *     reverse() does;
 *   - the gradient summed from 0 over the variables' slots in their order,
 *     as gather_grad.
 * It is compiled with -ffp-contract=off and without -ffast-math: IEEE
 * semantics, so the compiler may drop x * 1 but not 0 + y.  The
 * constants, POWC's exponents included, are data (k), never literals: no
 * printing of numbers, and no folding of pow(a, 2) into a * a.  Only
 * programs that evaluate by the reference passes are compiled (small or
 * irregular ones); a program evaluated batch by batch (a loop over x) may
 * sum its gradient in another order, and its vector loops are fast
 * already.
 *
 * The source holds only slot numbers and the templates, never a user's
 * string.  It is written to a private folder (mkdtemp under $TMPDIR or
 * /tmp), `cc` (found on PATH by ms_which) runs without a shell (ms_run),
 * and the folder is removed right after dlopen, whatever happened.
 *
 * When (ms_objective_plan): a compile costs 0.15 s and more (below), a
 * run saves some 4 ns per operation an evaluation.  A program is compiled at
 * the start of the run that brings the evaluations planned for it, over
 * all its runs, to about what a compile costs (a ski rental: no worse
 * than twice the best choice made in hindsight), once; a failure is
 * remembered too.  MOMSANDBOX_NATIVE=off never compiles.  Without `cc`,
 * or when anything fails, the program stays interpreted: the same bits,
 * only slower.
 */
#define _GNU_SOURCE   /* mkdtemp */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "expr.h"

typedef ms_expr_program program;

/* Programs up to this many operations are compiled.  gcc -O2 takes time
 * quadratic in the length of straight-line code (register allocation
 * over values that live long): measured on random programs, 0.16 s at 10
 * operations (starting the compiler, assembler and linker), 0.2 s at
 * 100, 0.6 s at 500, 1.7 s at 1,000, 4.6-7.3 s at 2,000, 25 s at 4,000. */
enum { MAX_OPS = 1000 };

/* A compile costs about 0.15 s + 1.5e-6 s n^2 (n operations) and saves
 * about 4 ns an operation evaluated (evaluations x operations): it is
 * worth WORTH_BASE + WORTH_SQUARE n^2 operations evaluated. */
#define WORTH_BASE 3.75e7
#define WORTH_SQUARE 375.0

/* ------------------------------------------------------------- the text */

typedef struct {
  char *s;
  size_t len, cap;
  int oom;
} text;

static void put(text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

static void put(text *t, const char *fmt, ...) {
  if (t->oom) return;
  for (;;) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->s + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (n < 0) {
      t->oom = 1;
      return;
    }
    if ((size_t)n < t->cap - t->len) {
      t->len += (size_t)n;
      return;
    }
    size_t cap = t->cap * 2 + (size_t)n + 4096;
    char *s = realloc(t->s, cap);
    if (s == NULL) {
      t->oom = 1;
      return;
    }
    t->s = s;
    t->cap = cap;
  }
}

/* Each operation's value and partials (NULL: 0, a unary's b), as C
 * expressions of $a, $b (the operands), $c (the constant) and $v (the
 * value): ms_expr_apply's formulas, character for character. */
typedef struct {
  const char *v, *da, *db;
} formula;

static const formula formulas[MS_EXPR_NOPS] = {
    [MS_EXPR_ADD] = {"$a + $b", "1", "1"},
    [MS_EXPR_SUB] = {"$a - $b", "1", "-1"},
    [MS_EXPR_MUL] = {"$a * $b", "$b", "$a"},
    [MS_EXPR_DIV] = {"$a / $b", "1 / $b", "-$v / $b"},
    [MS_EXPR_POW] = {"pow($a, $b)", "$b * pow($a, $b - 1)",
                     "$a == 0 ? 0 : $v * log($a)"},
    [MS_EXPR_NEG] = {"-$a", "-1", NULL},
    [MS_EXPR_SQR] = {"$a * $a", "2 * $a", NULL},
    [MS_EXPR_POWC] = {"pow($a, $c)", "$c * pow($a, $c - 1)", NULL},
    [MS_EXPR_SIN] = {"sin($a)", "cos($a)", NULL},
    [MS_EXPR_COS] = {"cos($a)", "-sin($a)", NULL},
    [MS_EXPR_TAN] = {"tan($a)", "1 + $v * $v", NULL},
    [MS_EXPR_EXP] = {"exp($a)", "$v", NULL},
    [MS_EXPR_LOG] = {"log($a)", "1 / $a", NULL},
    [MS_EXPR_SQRT] = {"sqrt($a)", "0.5 / $v", NULL},
    [MS_EXPR_ABS] = {"fabs($a)", "$a > 0 ? 1 : $a < 0 ? -1 : 0", NULL},
    [MS_EXPR_TANH] = {"tanh($a)", "1 - $v * $v", NULL},
    [MS_EXPR_ATAN] = {"atan($a)", "1 / (1 + $a * $a)", NULL},
    /* r = a a + b b, computed twice the same way (the compiler shares it) */
    [MS_EXPR_ATAN2] = {"atan2($a, $b)", "$b / ($a * $a + $b * $b)",
                       "-$a / ($a * $a + $b * $b)"},
    /* a unless b is strictly better, as Lua's math.min and math.max */
    [MS_EXPR_MIN] = {"$b < $a ? $b : $a", "$b < $a ? 0 : 1", "$b < $a ? 1 : 0"},
    [MS_EXPR_MAX] = {"$a < $b ? $b : $a", "$a < $b ? 0 : 1", "$a < $b ? 1 : 0"},
};

/* Operation k of p as locals: v<slot> its value, a<slot> its adjoint,
 * p<slot> and q<slot> its partials. */
static void put_template(text *t, const program *p, size_t k, const char *tpl) {
  const ms_expr_instr *e = &p->code[k];
  size_t base = p->nvars + p->nconsts;
  for (const char *s = tpl; *s; s++) {
    if (*s != '$') {
      if (t->len + 1 < t->cap) t->s[t->len++] = *s, t->s[t->len] = '\0';
      else put(t, "%c", *s);
      continue;
    }
    switch (*++s) {
    case 'a': put(t, "v%u", e->a); break;
    case 'b': put(t, "v%u", e->b); break;
    case 'v': put(t, "v%zu", base + k); break;
    default: put(t, "c%zu", k); break;   /* 'c' */
    }
  }
}

/* An adjoint is wanted for the variables and the operations, not for the
 * constants (nor the sink). */
static int wanted(const program *p, size_t slot) {
  return slot < p->nvars || (slot >= p->nvars + p->nconsts && slot < p->nslots);
}

/* The locals of x and k: every variable and constant read once. */
static void put_inputs(text *t, const program *p) {
  for (size_t s = 0; s < p->nvars; s++)
    put(t, "  const double v%zu = x[%u];\n", s, p->var_index[s]);
  for (size_t j = 0; j < p->nconsts; j++)
    put(t, "  const double v%zu = k[%zu];\n", p->nvars + j, j);
  for (size_t k = 0, j = p->nconsts; k < p->nops; k++)
    if (p->ops[k] == MS_EXPR_POWC) put(t, "  const double c%zu = k[%zu];\n", k, j++);
}

/* The forward pass; with partials, those the reverse pass reads. */
static void put_forward(text *t, const program *p, int partials) {
  size_t base = p->nvars + p->nconsts;
  for (size_t k = 0; k < p->nops; k++) {
    const formula *fm = &formulas[p->ops[k]];
    put(t, "  const double v%zu = ", base + k);
    put_template(t, p, k, fm->v);
    put(t, ";\n");
    if (!partials) continue;
    if (wanted(p, p->code[k].a)) {
      put(t, "  const double p%zu = ", base + k);
      put_template(t, p, k, fm->da);
      put(t, ";\n");
    }
    if (fm->db != NULL && wanted(p, p->code[k].b)) {
      put(t, "  const double q%zu = ", base + k);
      put_template(t, p, k, fm->db);
      put(t, ";\n");
    }
  }
  put(t, "  *f = v%zu;\n", p->out);
}

/* The reverse pass and the gradient. */
static void put_reverse(text *t, const program *p) {
  size_t base = p->nvars + p->nconsts;
  for (size_t s = 0; s < p->nslots; s++)
    if (wanted(p, s)) put(t, "  double a%zu = %d;\n", s, s == p->out);
  for (size_t k = p->nops; k-- > 0;) {
    const ms_expr_instr *e = &p->code[k];
    if (wanted(p, e->a)) put(t, "  a%u += p%zu * a%zu;\n", e->a, base + k, base + k);
    if (formulas[p->ops[k]].db != NULL && wanted(p, e->b))
      put(t, "  a%u += q%zu * a%zu;\n", e->b, base + k, base + k);
  }
  put(t, "  for (unsigned long j = 0; j < %zuUL; j++) g[j] = 0;\n", p->dim);
  for (size_t s = 0; s < p->nvars; s++)
    put(t, "  g[%u] += a%zu;\n", p->var_index[s], s);
}

/* The whole source: ms_fg (value and gradient), ms_f (the value). */
static char *source(const program *p) {
  text t = {0};
  put(&t, "#include <math.h>\n"
          "void ms_fg(const double *x, const double *k, double *f, double *g) {\n");
  put_inputs(&t, p);
  put_forward(&t, p, 1);
  put_reverse(&t, p);
  put(&t, "}\nvoid ms_f(const double *x, const double *k, double *f) {\n");
  put_inputs(&t, p);
  put_forward(&t, p, 0);
  put(&t, "}\n");
  if (t.oom) {
    free(t.s);
    return NULL;
  }
  return t.s;
}

/* ------------------------------------------------------------- compiling */

/* A private folder and the two files' names in it. */
typedef struct {
  char dir[4096], src[4200], lib[4200];
} place;

static ms_status make_place(place *pl) {
  const char *tmp = getenv("TMPDIR");
  if (tmp == NULL || *tmp == '\0') tmp = "/tmp";
  int n = snprintf(pl->dir, sizeof pl->dir, "%s/momsandbox-XXXXXX", tmp);
  if (n < 0 || (size_t)n >= sizeof pl->dir)
    return ms_fail(MS_EIO, "native code: the temporary folder's name is too long");
  if (mkdtemp(pl->dir) == NULL)
    return ms_fail(MS_EIO, "native code: cannot create a folder in %s: %s", tmp,
                   strerror(errno));
  snprintf(pl->src, sizeof pl->src, "%s/f.c", pl->dir);
  snprintf(pl->lib, sizeof pl->lib, "%s/f.so", pl->dir);
  return MS_OK;
}

static void remove_place(const place *pl) {
  unlink(pl->src);
  unlink(pl->lib);
  rmdir(pl->dir);
}

static ms_status write_source(const char *path, const char *text) {
  int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0)
    return ms_fail(MS_EIO, "native code: cannot write %s: %s", path, strerror(errno));
  size_t len = strlen(text), done = 0;
  while (done < len) {
    ssize_t n = write(fd, text + done, len - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += (size_t)n;
  }
  int ok = done == len;
  if (close(fd) != 0) ok = 0;
  return ok ? MS_OK : ms_fail(MS_EIO, "native code: cannot write %s", path);
}

/* cc, run on src into lib; its messages are discarded. */
static ms_status run_cc(const place *pl) {
  char cc[4096];
  if (!ms_which("cc", cc, sizeof cc))
    return ms_fail(MS_EIO, "native code: cc: not found");
  const char *argv[] = {cc, "-O2", "-pipe", "-fPIC", "-shared", "-ffp-contract=off",
                        "-o", pl->lib, pl->src, "-lm", NULL};
  ms_process proc;
  ms_status st = ms_run(argv, NULL, 0, &proc);
  if (st != MS_OK) return st;
  int ok = proc.ok;
  int status = proc.status;
  ms_process_free(&proc);
  return ok ? MS_OK
            : ms_fail(MS_EIO, "native code: cc failed (exit status %d)", status);
}

/* The loaded code, its constants from p. */
static ms_status load(const program *p, const char *path, ms_expr_native **out) {
  ms_expr_native *nv = ms_expr_calloc(1, sizeof *nv);
  size_t nk = p->nconsts;
  for (size_t k = 0; k < p->nops; k++) nk += p->ops[k] == MS_EXPR_POWC;
  if (nv == NULL || (nv->k = ms_expr_calloc(nk, sizeof *nv->k)) == NULL) {
    free(nv);
    return ms_fail(MS_ENOMEM, "out of memory");
  }
  memcpy(nv->k, p->consts, p->nconsts * sizeof *nv->k);
  for (size_t k = 0, j = p->nconsts; k < p->nops; k++)
    if (p->ops[k] == MS_EXPR_POWC) nv->k[j++] = p->cs[k];
  nv->lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (nv->lib != NULL) {
    *(void **)&nv->fg = dlsym(nv->lib, "ms_fg");
    *(void **)&nv->f = dlsym(nv->lib, "ms_f");
  }
  if (nv->fg == NULL || nv->f == NULL) {
    ms_expr_native_free(nv);
    return ms_fail(MS_EIO, "native code: cannot load the compiled code");
  }
  *out = nv;
  return MS_OK;
}

void ms_expr_native_free(ms_expr_native *nv) {
  if (nv == NULL) return;
  if (nv->lib != NULL) dlclose(nv->lib);
  free(nv->k);
  free(nv);
}

/* p as machine code into *out. */
static ms_status build(const program *p, ms_expr_native **out) {
  char *src = source(p);
  if (src == NULL) return ms_fail(MS_ENOMEM, "out of memory");
  place pl;
  ms_status st = make_place(&pl);
  if (st == MS_OK) {
    if ((st = write_source(pl.src, src)) == MS_OK && (st = run_cc(&pl)) == MS_OK)
      st = load(p, pl.lib, out);
    remove_place(&pl);
  }
  free(src);
  return st;
}

/* ---------------------------------------------------------------- policy */

/* One compile at a time, and each program's state read and written under
 * it: two host threads starting runs of one program compile it once. */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

enum { UNTRIED, DONE, FAILED };

/* The runs' programs have native code when they evaluate by the
 * reference passes (evaluation() in expr.c), whose order it keeps. */
static int eligible(const program *p) {
  return p->nops <= MAX_OPS && p->reference == MS_EXPR_AUTO && ms_expr_small(p);
}

/* Compile p unless tried before (under the lock): the status of the try. */
static ms_status compile_locked(program *p) {
  if (p->native_state == DONE) return MS_OK;
  if (p->native_state == FAILED)
    return ms_fail(MS_EIO, "native code: failed before");
  ms_status st = MS_OK;
  if (p->nops > MAX_OPS)
    st = ms_fail(MS_ERANGE, "native code: %zu operations, over %d", p->nops,
                 (int)MAX_OPS);
  ms_expr_native *nv = NULL;
  if (st == MS_OK) st = build(p, &nv);
  p->native_state = st == MS_OK ? DONE : FAILED;
  if (st == MS_OK) atomic_store_explicit(&p->native, nv, memory_order_release);
  return st;
}

static program *program_of(const ms_objective *obj) {
  /* the native fields are the program's cache, written under the lock */
  return (program *)ms_expr_program_of(obj);
}

ms_status ms_expr_native_compile(const ms_objective *obj) {
  program *p = program_of(obj);
  if (p == NULL) return ms_fail(MS_EINVAL, "native code: not a compiled expression");
  pthread_mutex_lock(&lock);
  ms_status st = compile_locked(p);
  pthread_mutex_unlock(&lock);
  return st;
}

/* MOMSANDBOX_NATIVE: 1 on (the default), 0 off, -1 neither. */
static int knob(void) {
  const char *v = getenv("MOMSANDBOX_NATIVE");
  if (v == NULL || *v == '\0' || strcmp(v, "on") == 0) return 1;
  return strcmp(v, "off") == 0 ? 0 : -1;
}

ms_status ms_objective_plan(const ms_objective *obj, double evaluations) {
  MS_NEED(obj);
  program *p = program_of(obj);
  if (p == NULL) return MS_OK;
  int on = knob();
  if (on < 0)
    return ms_fail(MS_EINVAL, "MOMSANDBOX_NATIVE must be 'on' or 'off', got '%s'",
                   getenv("MOMSANDBOX_NATIVE"));
  if (!on || !eligible(p) || !(evaluations > 0)) return MS_OK;
  pthread_mutex_lock(&lock);
  if (p->native_state == UNTRIED) {
    p->native_work += evaluations * (double)(p->nops + 1);
    double n = (double)p->nops;
    if (p->native_work >= WORTH_BASE + WORTH_SQUARE * n * n)
      (void)compile_locked(p);   /* a failure: interpreted, as before */
  }
  pthread_mutex_unlock(&lock);
  return MS_OK;
}
