/*
 * l_analysis.c -- the primitive analysis(op, ...) for Lua 5.4: the
 * chapter's theory (d2l 11.6.3) in the engine, as numbers and vectors.
 * Twin for LuaJIT: bindings/ffi/momsandbox/ffi/analysis.lua; user:
 * lua/momsandbox/analysis.lua (ms.analysis), which reads matrices, checks
 * and words the messages.
 */
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

static const char *const status_names[] = {"OK",        "ENOMEM", "EINVAL", "ESIZE",
                                           "ERANGE",    "ECALLBACK", "EIO", "EPARSE",
                                           "ENONFINITE", "EINTR"};

/* The result of an engine call: nothing pushed when it went well, else
 * nil, message, code (Ctrl-C raised where it stands). */
static int failed(lua_State *L, ms_status st) {
  if (st == MS_OK) return 0;
  if (st == MS_EINTR) ms_lua_fail(L, st);
  lua_pushnil(L);
  lua_pushstring(L, ms_last_error());
  lua_pushstring(L, status_names[st]);
  return 3;
}

static double num(lua_State *L, int idx) {
  int isnum;
  double x = lua_tonumberx(L, idx, &isnum);
  if (!isnum) ms_lua_argtypeerror(L, idx, idx, "analysis", "number");
  return x;
}

/* The vector at idx of n entries (NULL for nil when optional). */
static double *vecarg(lua_State *L, int idx, size_t n, int optional) {
  if (optional && lua_isnil(L, idx)) return NULL;
  ms_lua_vec *v = ms_lua_testudata(L, idx, MS_LUA_VEC);
  if (v == NULL || v->dead || v->n != n)
    ms_lua_argerror(L, idx, "analysis", "vector of the matrix's size expected");
  return v->x;
}

/* Q (a vec of n x n) at 2 and n at 3: n, checked. */
static size_t matrix(lua_State *L) {
  lua_Integer n = ms_lua_checkint(L, 3, 3, "analysis");
  if (n < 1 || n > 32768) ms_lua_argerror(L, 3, "analysis", "n must be in [1, 32768]");
  vecarg(L, 2, (size_t)(n * n), 0);
  return (size_t)n;
}

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* The O(n^3) linear algebra, with Ctrl-C reaching it.  A Ctrl-C that came
 * just before is the interpreter's pending hook, which would raise only
 * after it: raise it now (a call runs the hook). */
static ms_status linalg(lua_State *L, int minimize, size_t n, double *out, double *vectors,
                        double *hmin) {
  if (lua_gethook(L) != NULL && lua_gethookcount(L) == 1 &&
      (lua_gethookmask(L) & LUA_MASKCOUNT)) {
    lua_pushcfunction(L, noop);
    lua_call(L, 0, 0);
  }
  const double *Q = vecarg(L, 2, n * n, 0);
  ms_sigint_begin(0);
  ms_status st = minimize ? ms_quadratic_minimize(Q, vecarg(L, 4, n, 1), num(L, 5), n, out, hmin)
                          : ms_eigen_symmetric(Q, n, out, vectors);
  ms_sigint_end();
  return st;
}

/* "parts", obj [, want_c]: false for anything but an objective; else Q
 * (a vec of n x n), n, c (a vec, when asked) and b, or nil and why. */
static int parts(lua_State *L) {
  if (!ms_lua_testudata(L, 2, MS_LUA_OBJECTIVE)) return lua_pushboolean(L, 0), 1;
  ms_objective *obj = ms_lua_checkobjective(L, 2);
  size_t n = ms_objective_dim(obj);
  if (n > 32768) return lua_pushnil(L), lua_pushliteral(L, "Q is too large"), 2;
  ms_lua_vec *Q = ms_lua_newvec(L, n * n);
  lua_pushinteger(L, (lua_Integer)n);
  ms_lua_vec *c = lua_toboolean(L, 3) ? ms_lua_newvec(L, n) : (lua_pushnil(L), NULL);
  double b = 0;
  if (!ms_objective_quadratic_parts(obj, Q->x, c ? c->x : NULL, &b))
    return lua_pushnil(L), lua_pushfstring(L, "%s is not a quadratic", ms_objective_name(obj)), 2;
  lua_pushnumber(L, b);
  return 4;
}

/* native.analysis(op, ...): see lua/momsandbox/primitives.lua */
static int l_analysis(lua_State *L) {
  const char *op = lua_tostring(L, 1);
  if (op == NULL) return ms_lua_argtypeerror(L, 1, 1, "analysis", "string");
  double r[4], beta, eta, lambda;
  int yes;
  if (strcmp(op, "parts") == 0) return parts(L);
  if (strcmp(op, "eigen") == 0) {
    size_t n = matrix(L);
    int want = lua_toboolean(L, 4);
    double *values = ms_lua_newvec(L, n)->x;
    double *vectors = want ? ms_lua_newvec(L, n * n)->x : NULL;
    if (failed(L, linalg(L, 0, n, values, vectors, NULL))) return 3;
    if (!want) return 1;
    lua_createtable(L, (int)n, 0);
    for (size_t k = 0; k < n; k++) {
      ms_lua_pushcopy(L, vectors + k * n, n);
      lua_rawseti(L, -2, (lua_Integer)k + 1);
    }
    lua_remove(L, -2);
    return 2;
  }
  if (strcmp(op, "minimize") == 0) {
    size_t n = matrix(L);
    double *x = ms_lua_newvec(L, n)->x;
    if (failed(L, linalg(L, 1, n, x, NULL, &r[0]))) return 3;
    lua_pushnumber(L, r[0]);
    return 2;
  }
  if (strcmp(op, "gd_rate") == 0) {
    if (failed(L, ms_gd_rate(num(L, 2), num(L, 3), &r[0]))) return 3;
    return lua_pushnumber(L, r[0]), 1;
  }
  if (strcmp(op, "gd_optimal") == 0) {
    if (failed(L, ms_gd_optimal(num(L, 2), num(L, 3), &r[0], &r[1]))) return 3;
    return lua_pushnumber(L, r[0]), lua_pushnumber(L, r[1]), 2;
  }
  if (strcmp(op, "momentum_optimal") == 0) {
    if (failed(L, ms_momentum_optimal(num(L, 2), num(L, 3), &r[0], &r[1], &r[2]))) return 3;
    return lua_pushnumber(L, r[0]), lua_pushnumber(L, r[1]), lua_pushnumber(L, r[2]), 3;
  }
  beta = num(L, 2), eta = num(L, 3), lambda = num(L, 4);
  int nres = 1;
  ms_status st;
  if (strcmp(op, "R") == 0) st = ms_momentum_matrix(beta, eta, lambda, r), nres = 4;
  else if (strcmp(op, "eigenvalues") == 0)
    st = ms_momentum_eigenvalues(beta, eta, lambda, r, r + 2), nres = 4;
  else if (strcmp(op, "radius") == 0) st = ms_momentum_radius(beta, eta, lambda, r);
  else if (strcmp(op, "converges") == 0) st = ms_momentum_converges(beta, eta, lambda, &yes);
  else return ms_lua_argerror(L, 1, "analysis", "unknown operation");
  if (failed(L, st)) return 3;
  if (strcmp(op, "converges") == 0) return lua_pushboolean(L, yes), 1;
  if (strcmp(op, "eigenvalues") == 0) {   /* re1, im1, re2, im2 */
    double re[2] = {r[0], r[1]}, im[2] = {r[2], r[3]};
    r[0] = re[0], r[1] = im[0], r[2] = re[1], r[3] = im[1];
  }
  for (int i = 0; i < nres; i++) lua_pushnumber(L, r[i]);
  return nres;
}

void ms_lua_open_analysis(lua_State *L) {
  lua_pushcfunction(L, l_analysis);
  lua_setfield(L, -2, "analysis");
}
