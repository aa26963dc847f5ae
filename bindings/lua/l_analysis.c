/*
 * l_analysis.c -- ms.analysis: the chapter's theory (d2l 11.6.3) as
 * functions.  The scalar ones take (beta, eta, lambda) in the order of
 * R(beta, eta, lambda); matrices are tables of rows, or a quadratic
 * objective, whose Q (and c, b) they stand for.
 */
#include <math.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

/* A failed check of (beta, eta, lambda) at arguments first.. as an
 * argument error: the message names the parameter. */
static int scalar_error(lua_State *L, int first, const char *const names[]) {
  const char *msg = ms_last_error();
  int arg = first;
  for (int i = 0; names[i] != NULL; i++)
    if (strncmp(msg, names[i], strlen(names[i])) == 0 &&
        msg[strlen(names[i])] == ' ')
      arg = first + i;
  return luaL_argerror(L, arg, msg);
}

static const char *const bel[] = {"beta", "eta", "lambda", NULL};

static void checkbel(lua_State *L, double *beta, double *eta, double *lambda) {
  *beta = luaL_checknumber(L, 1);
  *eta = luaL_checknumber(L, 2);
  *lambda = luaL_checknumber(L, 3);
}

static void pushrows(lua_State *L, const double *A, size_t rows, size_t cols) {
  lua_createtable(L, (int)rows, 0);
  for (size_t i = 0; i < rows; i++) {
    lua_createtable(L, (int)cols, 0);
    for (size_t j = 0; j < cols; j++) {
      lua_pushnumber(L, A[i * cols + j]);
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* ms.analysis.R(beta, eta, lambda): {{beta, lambda}, {-eta beta, 1 - eta lambda}} */
static int l_R(lua_State *L) {
  double beta, eta, lambda, R[4];
  checkbel(L, &beta, &eta, &lambda);
  if (ms_momentum_matrix(beta, eta, lambda, R) != MS_OK)
    return scalar_error(L, 1, bel);
  pushrows(L, R, 2, 2);
  return 1;
}

/* ms.analysis.eigenvalues(beta, eta, lambda): the two eigenvalues of R,
 * each {re =, im =, abs =}, the larger modulus first. */
static int l_eigenvalues(lua_State *L) {
  double beta, eta, lambda, re[2], im[2];
  checkbel(L, &beta, &eta, &lambda);
  if (ms_momentum_eigenvalues(beta, eta, lambda, re, im) != MS_OK)
    return scalar_error(L, 1, bel);
  for (int k = 0; k < 2; k++) {
    lua_createtable(L, 0, 3);
    lua_pushnumber(L, re[k]);
    lua_setfield(L, -2, "re");
    lua_pushnumber(L, im[k]);
    lua_setfield(L, -2, "im");
    lua_pushnumber(L, im[k] != 0 ? sqrt(beta) : fabs(re[k]));
    lua_setfield(L, -2, "abs");
  }
  return 2;
}

/* ms.analysis.radius(beta, eta, lambda): the spectral radius of R */
static int l_radius(lua_State *L) {
  double beta, eta, lambda, rho;
  checkbel(L, &beta, &eta, &lambda);
  if (ms_momentum_radius(beta, eta, lambda, &rho) != MS_OK)
    return scalar_error(L, 1, bel);
  lua_pushnumber(L, rho);
  return 1;
}

/* ms.analysis.converges(beta, eta, lambda): 0 < eta lambda < 2 + 2 beta */
static int l_converges(lua_State *L) {
  double beta, eta, lambda;
  int yes;
  checkbel(L, &beta, &eta, &lambda);
  if (ms_momentum_converges(beta, eta, lambda, &yes) != MS_OK)
    return scalar_error(L, 1, bel);
  lua_pushboolean(L, yes);
  return 1;
}

/* ms.analysis.gd_rate(eta, lambda): |1 - eta lambda| */
static int l_gd_rate(lua_State *L) {
  static const char *const el[] = {"eta", "lambda", NULL};
  double rate;
  if (ms_gd_rate(luaL_checknumber(L, 1), luaL_checknumber(L, 2), &rate) != MS_OK)
    return scalar_error(L, 1, el);
  lua_pushnumber(L, rate);
  return 1;
}

/* Q at arg as a new vec (row-major) on the stack top: from a table of n
 * rows of n numbers, a table {Q = rows, c = ..., b = ...}, or a quadratic
 * objective.  With c and b not NULL, c (a vec or NULL, kept on the stack)
 * and b too. */
static ms_lua_vec *checkquadratic(lua_State *L, int arg, size_t *n,
                                  ms_lua_vec **c, double *b) {
  if (c != NULL) *c = NULL;
  if (b != NULL) *b = 0;
  if (ms_lua_testudata(L, arg, MS_LUA_OBJECTIVE)) {
    ms_objective *obj = ms_lua_checkobjective(L, arg);
    *n = ms_objective_dim(obj);
    ms_lua_vec *Q = ms_lua_newvec(L, ms_lua_checkproduct(L, arg, *n, *n, "Q"));
    ms_lua_vec *cv = c != NULL ? ms_lua_newvec(L, *n) : NULL;
    if (!ms_objective_quadratic_parts(obj, Q->x, cv ? cv->x : NULL, b))
      luaL_argerror(L, arg, lua_pushfstring(L, "%s is not a quadratic",
                                            ms_objective_name(obj)));
    if (c != NULL) {
      *c = cv;
      lua_insert(L, -2);   /* Q on top, c below */
    }
    return Q;
  }
  luaL_checktype(L, arg, LUA_TTABLE);
  int rows = arg;
  if (lua_getfield(L, arg, "Q") != LUA_TNIL) {
    rows = lua_gettop(L);
    if (c != NULL && lua_getfield(L, arg, "c") != LUA_TNIL)
      *c = ms_lua_checkvector(L, -1);
    if (b != NULL && lua_getfield(L, arg, "b") != LUA_TNIL) {
      if (lua_type(L, -1) != LUA_TNUMBER)
        luaL_argerror(L, arg, "b must be a number");
      *b = lua_tonumber(L, -1);
    }
  } else if (c != NULL) {
    luaL_argerror(L, arg, "expected a quadratic objective or "
                          "{Q = ..., c = ..., b = ...}");
  }
  if (!lua_istable(L, rows)) luaL_argerror(L, arg, "Q must be a table of rows");
  *n = ms_lua_rawlen(L, arg, rows, "Q");
  if (*n == 0) luaL_argerror(L, arg, "Q must not be empty");
  ms_lua_vec *Q = ms_lua_newvec(L, ms_lua_checkproduct(L, arg, *n, *n, "Q"));
  for (size_t i = 0; i < *n; i++) {
    lua_geti(L, rows, (lua_Integer)i + 1);
    if (!lua_istable(L, -1) || (size_t)lua_rawlen(L, -1) != *n)
      luaL_argerror(L, arg, lua_pushfstring(L, "Q must be square: row %I is "
                                               "not a table of %I numbers",
                                            (lua_Integer)i + 1, (lua_Integer)*n));
    for (size_t j = 0; j < *n; j++) {
      int isnum;
      lua_geti(L, -1, (lua_Integer)j + 1);
      Q->x[i * *n + j] = lua_tonumberx(L, -1, &isnum);
      if (!isnum)
        luaL_argerror(L, arg, lua_pushfstring(L, "Q[%I][%I] is not a number",
                                              (lua_Integer)i + 1, (lua_Integer)j + 1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  if (c != NULL && *c != NULL && (*c)->n != *n)
    luaL_argerror(L, arg, lua_pushfstring(L, "c has %I entries, Q is %Ix%I",
                                          (lua_Integer)(*c)->n, (lua_Integer)*n,
                                          (lua_Integer)*n));
  return Q;
}

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* A Ctrl-C that came while Q was read (n^2 numbers) is the interpreter's
 * pending hook, which would raise only after minutes of O(n^3) work:
 * raise it now (a call runs the hook). */
static void raise_pending(lua_State *L) {
  if (lua_gethook(L) != NULL && lua_gethookcount(L) == 1 &&
      (lua_gethookmask(L) & LUA_MASKCOUNT)) {
    lua_pushcfunction(L, noop);
    lua_call(L, 0, 0);
  }
}

/* The eigen-decomposition, O(n^3), with Ctrl-C reaching it; a failure
 * other than an interrupt or memory is Q's (argument 1). */
static void eigen(lua_State *L, const double *Q, size_t n, double *values,
                  double *vectors) {
  raise_pending(L);
  ms_sigint_begin(0);
  ms_status st = ms_eigen_symmetric(Q, n, values, vectors);
  ms_sigint_end();
  if (st == MS_EINTR || st == MS_ENOMEM) ms_lua_fail(L, st);
  if (st != MS_OK) luaL_argerror(L, 1, ms_last_error());
}

/* ms.analysis.eigen(Q or f): the eigenvalues (ascending, a vec) and a
 * table of the unit eigenvectors (vecs), vectors[k] for values[k]. */
static int l_eigen(lua_State *L) {
  size_t n;
  ms_lua_vec *Q = checkquadratic(L, 1, &n, NULL, NULL);
  ms_lua_vec *values = ms_lua_newvec(L, n);
  ms_lua_vec *vectors = ms_lua_newvec(L, n * n);
  eigen(L, Q->x, n, values->x, vectors->x);
  lua_pushvalue(L, -2);
  lua_createtable(L, (int)n, 0);
  for (size_t k = 0; k < n; k++) {
    ms_lua_pushcopy(L, vectors->x + k * n, n);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  return 2;
}

/* ms.analysis.optimal(mu, L), or optimal(Q or f) for the extreme
 * eigenvalues of Q: {mu, L, kappa, gd = {lr}, gd_rate, momentum = {lr,
 * beta}, momentum_rate}, so that ms.momentum(opt.momentum) is the best
 * heavy ball. */
static int l_optimal(lua_State *L) {
  double mu, L_;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    mu = luaL_checknumber(L, 1);
    L_ = luaL_checknumber(L, 2);
  } else {
    size_t n;
    ms_lua_vec *Q = checkquadratic(L, 1, &n, NULL, NULL);
    ms_lua_vec *values = ms_lua_newvec(L, n);
    eigen(L, Q->x, n, values->x, NULL);
    mu = values->x[0];
    L_ = values->x[n - 1];
    if (!(mu > 0))
      return luaL_argerror(L, 1, lua_pushfstring(L, "Q is not positive definite "
                                                    "(its smallest eigenvalue is %f): "
                                                    "the rates need mu > 0", mu));
  }
  double gd_eta, gd_rate, eta, beta, rate;
  if (ms_gd_optimal(mu, L_, &gd_eta, &gd_rate) != MS_OK ||
      ms_momentum_optimal(mu, L_, &eta, &beta, &rate) != MS_OK)
    return luaL_argerror(L, 1, ms_last_error());
  lua_createtable(L, 0, 7);
  lua_pushnumber(L, mu);
  lua_setfield(L, -2, "mu");
  lua_pushnumber(L, L_);
  lua_setfield(L, -2, "L");
  lua_pushnumber(L, L_ / mu);
  lua_setfield(L, -2, "kappa");
  lua_createtable(L, 0, 1);
  lua_pushnumber(L, gd_eta);
  lua_setfield(L, -2, "lr");
  lua_setfield(L, -2, "gd");
  lua_pushnumber(L, gd_rate);
  lua_setfield(L, -2, "gd_rate");
  lua_createtable(L, 0, 2);
  lua_pushnumber(L, eta);
  lua_setfield(L, -2, "lr");
  lua_pushnumber(L, beta);
  lua_setfield(L, -2, "beta");
  lua_setfield(L, -2, "momentum");
  lua_pushnumber(L, rate);
  lua_setfield(L, -2, "momentum_rate");
  return 1;
}

/* ms.analysis.minimize(h or {Q =, c =, b =}): the minimiser x* = -Q^-1 c
 * (a vec) and the minimum h(x*) = b + c'x* / 2. */
static int l_minimize(lua_State *L) {
  size_t n;
  ms_lua_vec *c;
  double b, hmin;
  ms_lua_vec *Q = checkquadratic(L, 1, &n, &c, &b);
  ms_lua_vec *x = ms_lua_newvec(L, n);
  raise_pending(L);
  ms_sigint_begin(0);   /* Cholesky, O(n^3) */
  ms_status st = ms_quadratic_minimize(Q->x, c ? c->x : NULL, b, n, x->x, &hmin);
  ms_sigint_end();
  if (st == MS_EINTR || st == MS_ENOMEM) return ms_lua_fail(L, st);
  if (st != MS_OK) return luaL_argerror(L, 1, ms_last_error());
  lua_pushnumber(L, hmin);
  return 2;
}

static const luaL_Reg functions[] = {
    {"R", l_R},
    {"eigenvalues", l_eigenvalues},
    {"radius", l_radius},
    {"converges", l_converges},
    {"gd_rate", l_gd_rate},
    {"optimal", l_optimal},
    {"eigen", l_eigen},
    {"minimize", l_minimize},
    {NULL, NULL}};

void ms_lua_open_analysis(lua_State *L) {
  luaL_newlib(L, functions);
  lua_setfield(L, -2, "analysis");
}
