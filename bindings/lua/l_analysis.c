/*
 * l_analysis.c -- the primitive analysis(op, ...) for Lua 5.4: the
 * chapter's theory (d2l 11.6.3) in the engine, as numbers and vectors.
 * Twin for LuaJIT: bindings/ffi/momsandbox/ffi_analysis.lua; user:
 * lua/momsandbox/analysis.lua (ms.analysis), which reads matrices, checks
 * and words the messages.
 */
#include <math.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

static double num(lua_State *L, int idx) {
  return ms_lua_checknum(L, idx, idx, "analysis");
}

/* The vector at idx of n entries (NULL for nil when optional). */
static double *vecarg(lua_State *L, int idx, size_t n, int optional) {
  if (optional && lua_isnil(L, idx)) return NULL;
  ms_lua_vec *v = ms_lua_testudata(L, idx, MS_LUA_VEC);
  if (v == NULL || v->dead || v->n != n)
    ms_lua_argerror(L, idx, "analysis", "vector of the matrix's size expected");
  return v->x;
}

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* eigen(Q, n, vectors) and minimize(Q, n, c, b): the O(n^3) linear
 * algebra, with Ctrl-C reaching it.  A Ctrl-C that came just before is
 * the interpreter's pending hook, which would raise only after it: raise
 * it now (a call runs the hook). */
static int linalg(lua_State *L, int minimize) {
  lua_Integer n = ms_lua_checkint(L, 3, 3, "analysis");
  if (n < 1 || n > 32768) return ms_lua_argerror(L, 3, "analysis", "n must be in [1, 32768]");
  const double *Q = vecarg(L, 2, (size_t)(n * n), 0);
  const double *c = minimize ? vecarg(L, 4, (size_t)n, 1) : NULL;
  double b = minimize ? num(L, 5) : 0, min;
  if (lua_gethook(L) != NULL && lua_gethookcount(L) == 1 &&
      (lua_gethookmask(L) & LUA_MASKCOUNT)) {
    lua_pushcfunction(L, noop);
    lua_call(L, 0, 0);
  }
  double *out = ms_lua_newvec(L, (size_t)n)->x;
  double *vectors = !minimize && lua_toboolean(L, 4) ? ms_lua_newvec(L, (size_t)(n * n))->x : NULL;
  ms_sigint_begin(0);
  ms_status st = minimize ? ms_quadratic_minimize(Q, c, b, (size_t)n, out, &min)
                          : ms_eigen_symmetric(Q, (size_t)n, out, vectors);
  ms_sigint_end();
  if (st != MS_OK) return ms_lua_failure(L, st);
  if (minimize) lua_pushnumber(L, min);
  return minimize || vectors ? 2 : 1;
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

/* The theory of a rule (ms_rule_matrix and friends), which steps it and
 * so may call back into Lua: "rule_matrix", r, lambda, t -> M (a vec of
 * m x m), m; "rule_spectrum", r, lambda, t -> re, im (vecs of m), the
 * count x sees (the first ones); "rule_radius",
 * r, lambdas (vec), t -> radius; "rule_region", r, lambdas, t, xname, x
 * (vec), yname, y (vec) -> radii (a vec of #x #y, y slowest). */
static int rule_theory(lua_State *L, const char *op) {
  const char *F = "analysis";
  if (strcmp(op, "rule_matrix") != 0 && strcmp(op, "rule_spectrum") != 0 &&
      strcmp(op, "rule_radius") != 0 && strcmp(op, "rule_region") != 0)
    return ms_lua_argerror(L, 1, F, "unknown operation");
  ms_rule *rule = ms_lua_checkrule(L, 2);
  size_t m = 1 + (size_t)ms_rule_class_of(rule)->nstate;
  int region = strcmp(op, "rule_region") == 0, radius = strcmp(op, "rule_radius") == 0;
  lua_Integer t = ms_lua_checkint(L, 4, 4, F);
  double lambda = 0, rho = 0;
  ms_lua_vec *lams = NULL, *x = NULL, *y = NULL, *out = NULL, *im = NULL;
  const char *xname = NULL, *yname = NULL;
  if (region || radius) lams = ms_lua_checkvec(L, 3);
  else lambda = ms_lua_checknum(L, 3, 3, F);
  if (region) {
    if (lua_type(L, 5) != LUA_TSTRING) return ms_lua_argtypeerror(L, 5, 5, F, "string");
    if (lua_type(L, 7) != LUA_TSTRING) return ms_lua_argtypeerror(L, 7, 7, F, "string");
    xname = lua_tostring(L, 5), yname = lua_tostring(L, 7);
    x = ms_lua_checkvec(L, 6), y = ms_lua_checkvec(L, 8);
    lua_settop(L, 8);
    out = ms_lua_newvec(L, ms_lua_checkproduct(L, 6, x->n, y->n, "points"));
  } else if (!radius) {
    lua_settop(L, 4);
    out = ms_lua_newvec(L, strcmp(op, "rule_matrix") == 0 ? m * m : m);
    if (strcmp(op, "rule_spectrum") == 0) im = ms_lua_newvec(L, m);
  }
  size_t count = 0;
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 2);   /* closed during the call: freed after it */
  ms_sigint_begin(0);
  ms_status st;
  if (region)
    st = ms_rule_region(rule, lams->x, lams->n, t, xname, x->x, x->n, yname, y->x, y->n, out->x);
  else if (radius)
    st = ms_rule_radius(rule, lams->x, lams->n, t, &rho);
  else if (im != NULL)
    st = ms_rule_spectrum(rule, lambda, t, out->x, im->x, &count);
  else
    st = ms_rule_matrix(rule, lambda, t, out->x);
  ms_sigint_end();
  ms_lua_release(L, 2);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_failure(L, st);
  if (radius) return lua_pushnumber(L, rho), 1;
  if (im != NULL) return lua_pushinteger(L, (lua_Integer)count), 3;
  if (region) return 1;
  return lua_pushinteger(L, (lua_Integer)m), 2;
}

/* native.analysis(op, ...): see lua/momsandbox/primitives.lua; the scalar
 * formulas by ms_theory (a missing input is NaN, which it refuses). */
static int l_analysis(lua_State *L) {
  const char *op = lua_tostring(L, 1);
  if (op != NULL && strcmp(op, "parts") == 0) return parts(L);
  if (op != NULL && strncmp(op, "rule_", 5) == 0) return rule_theory(L, op);
  if (op != NULL && (strcmp(op, "eigen") == 0 || strcmp(op, "minimize") == 0))
    return linalg(L, op[0] == 'm');
  double in[3], r[4];
  int nres = 0;
  for (int i = 0; i < 3; i++) in[i] = lua_isnoneornil(L, i + 2) ? NAN : num(L, i + 2);
  ms_status st = ms_theory(op, in, r, &nres);
  if (st != MS_OK) return ms_lua_failure(L, st);
  for (int i = 0; i < nres; i++) lua_pushnumber(L, r[i]);
  return nres;
}

void ms_lua_open_analysis(lua_State *L) {
  lua_pushcfunction(L, l_analysis);
  lua_setfield(L, -2, "analysis");
}
