/*
 * l_objective.c -- objectives as the native kind "objective" for Lua 5.4:
 * the primitives objective_builtin, objective_new, objective_compile,
 * objective_call and objective_info.  Twin for LuaJIT: bindings/ffi/momsandbox/ffi_objective.lua;
 * user: lua/momsandbox/objective.lua (ms.objective, ms.gradcheck: options,
 * labels, fields).  Traces and sweeps take them by ms_lua_checkobjective.
 */
#include <stdint.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

/* The userdata.  For a Lua-defined objective it is also the callback
 * context of the core object: it never moves, and it outlives the core
 * object, which __gc frees.  Its user value holds what the core object
 * points into (a model objective's model and data), each held. */
typedef struct l_objective {
  ms_lua_use use;    /* first: see ms_lua_hold */
  ms_objective *obj;
  int fref, gref;    /* registry references to f and grad, or LUA_NOREF */
  int xref, oref;    /* registry references to the x and out views */
} l_objective;

static l_objective *checkbox(lua_State *L, int arg) {
  l_objective *o = ms_lua_checkudata(L, arg, MS_LUA_OBJECTIVE);
  if (o->obj == NULL || o->use.closed) luaL_argerror(L, arg, "objective has been closed");
  return o;
}

ms_objective *ms_lua_checkobjective(lua_State *L, int arg) {
  return checkbox(L, arg)->obj;
}

ms_objective *ms_lua_toobjective(lua_State *L, int arg) {
  l_objective *o = ms_lua_testudata(L, arg, MS_LUA_OBJECTIVE);
  return o != NULL && !o->use.closed ? o->obj : NULL;
}

static l_objective *newbox(lua_State *L) {
  l_objective *o = lua_newuserdatauv(L, sizeof *o, 1);
  memset(o, 0, sizeof *o);
  o->fref = o->gref = o->xref = o->oref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_OBJECTIVE);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  return o;
}

static size_t checkdim(lua_State *L, int arg, const char *fname) {
  lua_Integer n = ms_lua_checkint(L, arg, arg, fname);
  if (n < 1 || n > MS_LUA_MAXLEN) ms_lua_argerror(L, arg, fname, "dim must be in [1, 2^30]");
  return (size_t)n;
}

/* Hold the box at idx as a part of the objective at box (released by its
 * __gc). */
static void keep(lua_State *L, int box, int idx, lua_Integer i) {
  lua_getiuservalue(L, box, 1);
  lua_pushvalue(L, idx);
  ms_lua_hold(L, -1);
  lua_rawseti(L, -2, i);
  lua_pop(L, 1);
}

/* native.objective_builtin(name, args vec | model, data) */
static int l_objective_builtin(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING)
    ms_lua_argtypeerror(L, 1, 1, "objective_builtin", "string");
  lua_settop(L, 3);
  l_objective *o = newbox(L);
  ms_status st;
  if (strcmp(lua_tostring(L, 1), "model") == 0) {
    ms_model *m = ms_lua_checkmodel(L, 2);   /* before the data, as LuaJIT's does */
    st = ms_model_objective(m, ms_lua_checkdata(L, 3), &o->obj);
    if (st == MS_OK) {
      keep(L, 4, 2, 1);
      keep(L, 4, 3, 2);
    }
  } else {
    ms_lua_vec *args = ms_lua_checkvec(L, 2);
    ms_sigint_begin(0);   /* rotated_quadratic of dim = 4096 takes a minute */
    st = ms_objective_builtin(lua_tostring(L, 1), args->x, args->n, &o->obj);
    ms_sigint_end();
  }
  lua_settop(L, 4);   /* the new objective */
  return st == MS_OK ? 1 : ms_lua_failure(L, st);
}

/* ------------------------------------------------------ Lua-defined */

/* Bit pattern written into grad before calling the Lua grad function: any
 * entry still holding it afterwards was not set (compared as bits: it is a
 * NaN). */
static const union {
  uint64_t bits;
  double d;
} unset = {0x7ff80000deadbeefULL};

/* Push the view stored at ref pointing at x, saving what it pointed at:
 * a nested call (grad calling f) reuses the view and restores it after,
 * so nothing is allocated outside a protected call. */
static ms_lua_vec *pushview(lua_State *L, int ref, const double *x, size_t n,
                            ms_lua_vec *saved) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, ref);
  ms_lua_vec *v = lua_touserdata(L, -1);
  *saved = *v;
  ms_lua_setview(v, (double *)x, n);
  return v;
}

static ms_status call_f(lua_State *L, l_objective *o, const double *x, size_t n, double *f) {
  ms_lua_vec saved;
  int h = ms_lua_pushhandler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, o->fref);
  ms_lua_vec *xv = pushview(L, o->xref, x, n, &saved);
  ms_status st = ms_lua_pcall(L, 1, 1, h);
  *xv = saved;
  if (st != MS_OK) return st;
  int isnum;
  *f = lua_tonumberx(L, -1, &isnum);
  if (!isnum)
    st = ms_lua_pending(L, "objective function f returned %s, expected a number",
                        luaL_typename(L, -1));
  lua_settop(L, h - 1);
  return st;
}

static ms_status call_grad(lua_State *L, l_objective *o, const double *x, size_t n,
                           double *grad) {
  ms_lua_vec xsaved, gsaved;
  ms_vec_fill(grad, unset.d, n);
  int h = ms_lua_pushhandler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, o->gref);
  ms_lua_vec *xv = pushview(L, o->xref, x, n, &xsaved);
  ms_lua_vec *gv = pushview(L, o->oref, grad, n, &gsaved);
  ms_status st = ms_lua_pcall(L, 2, 0, h);
  lua_settop(L, h - 1);
  *xv = xsaved;
  *gv = gsaved;
  for (size_t i = 0; st == MS_OK && i < n; i++)
    if (memcmp(&grad[i], &unset.d, sizeof unset.d) == 0)
      st = ms_lua_pending(L, "gradient function grad did not set out[%I]", (lua_Integer)i + 1);
  return st;
}

static ms_status lua_objective_fn(void *ctx, const double *x, size_t n, double *f,
                                  double *grad) {
  l_objective *o = ctx;
  lua_State *L = ms_lua_current();
  if (L == NULL) return MS_ECALLBACK;   /* called from outside the binding */
  if (!lua_checkstack(L, 8)) return ms_lua_pending(L, "stack overflow in objective callback");
  ms_status st = MS_OK;
  if (f != NULL) st = call_f(L, o, x, n, f);
  if (st == MS_OK && grad != NULL) st = call_grad(L, o, x, n, grad);
  return st;
}

static int newref_view(lua_State *L, int readonly) {
  ms_lua_newview(L, readonly);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* native.objective_new(dim, f, grad) */
static int l_objective_new(lua_State *L) {
  static const char fname[] = "objective_new";
  size_t dim = checkdim(L, 1, fname);
  if (lua_type(L, 2) != LUA_TFUNCTION) ms_lua_argtypeerror(L, 2, 2, fname, "function");
  int has_grad = !lua_isnoneornil(L, 3);
  if (has_grad && lua_type(L, 3) != LUA_TFUNCTION)
    ms_lua_argtypeerror(L, 3, 3, fname, "function");
  lua_settop(L, 3);
  l_objective *o = newbox(L);
  lua_pushvalue(L, 2);
  o->fref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (has_grad) {
    lua_pushvalue(L, 3);
    o->gref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  o->xref = newref_view(L, 1);
  o->oref = newref_view(L, 0);
  ms_status st = ms_objective_new(dim, lua_objective_fn, has_grad, o, NULL, &o->obj);
  return st == MS_OK ? 1 : ms_lua_failure(L, st);
}

/* ------------------------------------------------------------ compiled */

/* A node's field from the code vector: an integer in [0, max]. */
static int code_int(double v, double max, uint32_t *out) {
  if (!(v >= 0 && v <= max) || v != (double)(uint32_t)v) return 0;
  *out = (uint32_t)v;
  return 1;
}

/* native.objective_compile(dim, code vec) */
static int l_objective_compile(lua_State *L) {
  static const char fname[] = "objective_compile";
  size_t dim = checkdim(L, 1, fname);
  ms_lua_vec *code = ms_lua_checkvec(L, 2);
  if (code->n % 4 != 0) ms_lua_argerror(L, 2, fname, "code must hold 4 numbers a node");
  size_t n = code->n / 4;
  if (n > MS_EXPR_NODES_MAX) ms_lua_argerror(L, 2, fname, "too many nodes");
  lua_settop(L, 2);
  ms_expr_node *nodes = lua_newuserdatauv(L, (n ? n : 1) * sizeof *nodes, 0);
  for (size_t i = 0; i < n; i++) {
    const double *c = code->x + 4 * i;
    uint32_t op;
    if (!code_int(c[0], MS_EXPR_NOPS, &op) || !code_int(c[1], 4294967295.0, &nodes[i].a) ||
        !code_int(c[2], 4294967295.0, &nodes[i].b))
      ms_lua_argerror(L, 2, fname, "a node's op, a and b must be integers in range");
    nodes[i].op = (int)op;
    nodes[i].c = c[3];
  }
  l_objective *o = newbox(L);
  ms_status st = ms_objective_expr(dim, nodes, n, &o->obj);
  return st == MS_OK ? 1 : ms_lua_failure(L, st);
}

/* ------------------------------------------------------------ calls */

/* native.objective_call(obj, op, x) */
static int l_objective_call(lua_State *L) {
  static const char fname[] = "objective_call";
  static const char *const ops[] = {"value", "grad",      "numgrad",
                                    "eval",  "gradcheck", "hessian", NULL};
  const char *name = lua_type(L, 2) == LUA_TSTRING ? lua_tostring(L, 2) : "";
  int op = 0;
  while (ops[op] != NULL && strcmp(ops[op], name) != 0) op++;
  if (ops[op] == NULL) ms_lua_argerror(L, 2, fname, "no such operation");
  l_objective *o = ms_lua_checkkind(L, 1, MS_LUA_OBJECTIVE, fname);
  if (o->obj == NULL || o->use.closed) return ms_lua_closed(L, "objective");
  ms_lua_vec *x = ms_lua_checkvec(L, 3);
  if (x->n != ms_objective_dim(o->obj)) ms_lua_argerror(L, 3, fname, "vector of the wrong size");
  lua_settop(L, 3);
  double *g = NULL;
  if (op == 5) {
    if (x->n > MS_LUA_MAXLEN / x->n)
      ms_lua_argerror(L, 3, fname, "dimension too large for a Hessian");
    g = ms_lua_newvec(L, x->n * x->n)->x;
  } else if (op != 0 && op != 4) {
    g = ms_lua_newvec(L, x->n)->x;
  }
  double f, err;
  size_t index;
  ms_status st;
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* a callback may close it: freed after the call */
  int lengthy = op == 2 || op == 4 || op == 5;   /* 4d evaluations of f, d passes */
  if (lengthy) ms_sigint_begin(0);
  if (op == 2) st = ms_objective_numgrad(o->obj, x->x, g);
  else if (op == 5) st = ms_objective_hessian(o->obj, x->x, g);
  else if (op == 4) st = ms_objective_gradcheck(o->obj, x->x, &err, &index);
  else st = ms_objective_eval(o->obj, x->x, op == 1 ? NULL : &f, g);
  if (lengthy) ms_sigint_end();
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_failure(L, st);
  if (op == 1 || op == 2 || op == 5) return 1;
  lua_pushnumber(L, op == 4 ? err : f);
  if (op == 0) return 1;
  if (op == 3) {
    lua_insert(L, -2);
    return 2;
  }
  lua_pushinteger(L, (lua_Integer)index + 1);
  return 2;
}

/* native.objective_info(obj) -> dim, name, window vec|nil, minimizer vec|nil */
static int l_objective_info(lua_State *L) {
  l_objective *o = ms_lua_checkkind(L, 1, MS_LUA_OBJECTIVE, "objective_info");
  if (o->obj == NULL || o->use.closed) return ms_lua_closed(L, "objective");
  size_t dim = ms_objective_dim(o->obj);
  lua_pushinteger(L, (lua_Integer)dim);
  lua_pushstring(L, ms_objective_name(o->obj));
  int window = ms_objective_window(o->obj, ms_lua_newvec(L, 4)->x);
  int minimizer = ms_objective_minimizer(o->obj, ms_lua_newvec(L, dim)->x);
  lua_pushnil(L);   /* in place of the vec the engine has none for */
  if (!window) lua_copy(L, -1, -3);
  if (!minimizer) lua_copy(L, -1, -2);
  lua_pop(L, 1);
  return 4;
}

static int l_gc(lua_State *L) {
  l_objective *o = ms_lua_checkudata(L, 1, MS_LUA_OBJECTIVE);
  if (ms_lua_defer_close(&o->use)) return 0;   /* freed after the run */
  ms_objective_free(o->obj);
  o->obj = NULL;
  int *refs[] = {&o->fref, &o->gref, &o->xref, &o->oref};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    luaL_unref(L, LUA_REGISTRYINDEX, *refs[i]);
    *refs[i] = LUA_NOREF;
  }
  lua_getiuservalue(L, 1, 1);   /* a model objective's model and data, once */
  for (lua_Integer i = 1; lua_rawgeti(L, -1, i) == LUA_TUSERDATA; i++) {
    ms_lua_release(L, -1);
    lua_pop(L, 1);
    lua_pushboolean(L, 0);
    lua_rawseti(L, -2, i);
  }
  return 0;
}

void ms_lua_open_objective(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"objective_builtin", l_objective_builtin},
                                 {"objective_new", l_objective_new},
                                 {"objective_compile", l_objective_compile},
                                 {"objective_call", l_objective_call},
                                 {"objective_info", l_objective_info},
                                 {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_OBJECTIVE, none, metamethods);
  lua_pushnil(L);   /* __index is the shared Lua's function */
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
