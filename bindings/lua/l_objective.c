/*
 * l_objective.c -- ms.objective: built-in objectives and objectives whose
 * value and gradient are Lua functions.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

/* The userdata.  For a Lua-defined objective it is also the callback
 * context of the core object: it never moves, and it outlives the core
 * object, which __gc frees. */
typedef struct l_objective {
  ms_lua_use use;    /* first: see ms_lua_hold */
  ms_objective *obj;
  int fref, gref;    /* registry references to f and grad, or LUA_NOREF */
  int xref, oref;    /* registry references to the x and out views */
} l_objective;

static l_objective *checkbox(lua_State *L, int arg) {
  l_objective *o = ms_lua_checkudata(L, arg, MS_LUA_OBJECTIVE);
  if (o->obj == NULL || o->use.closed)
    luaL_argerror(L, arg, "objective has been closed");
  return o;
}

ms_objective *ms_lua_checkobjective(lua_State *L, int arg) {
  return checkbox(L, arg)->obj;
}

/* A new, empty objective userdata with a table of fields (name, label,
 * window) as its user value. */
static l_objective *newbox(lua_State *L, const char *name) {
  l_objective *o = lua_newuserdatauv(L, sizeof *o, 1);
  memset(o, 0, sizeof *o);
  o->fref = o->gref = o->xref = o->oref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_OBJECTIVE);
  lua_newtable(L);
  lua_pushstring(L, name);
  lua_setfield(L, -2, "name");
  lua_setiuservalue(L, -2, 1);
  return o;
}

/* Set field key of the objective's user value to the value on top. */
static void setinfo(lua_State *L, int obj, const char *key) {
  lua_getiuservalue(L, obj, 1);
  lua_insert(L, -2);
  lua_setfield(L, -2, key);
  lua_pop(L, 1);
}

/* "name{a, b, c}" from the numbers x[0..n) */
static void pushlabel(lua_State *L, const char *name, const double *x,
                      size_t n) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, name);
  luaL_addchar(&b, '{');
  for (size_t i = 0; i < n; i++) {
    char num[32];
    ms_format_double(num, sizeof num, x[i]);
    if (i > 0) luaL_addstring(&b, ", ");
    luaL_addstring(&b, num);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
}


/* --------------------------------------------------------- built-ins */

/* ms.objective.quadratic{l1, l2, ...}: f(x) = 1/2 sum l_i x_i^2 */
static int l_quadratic(lua_State *L) {
  ms_lua_vec *lambda = ms_lua_checkvector(L, 1);
  luaL_argcheck(L, lambda->n > 0, 1, "need at least one eigenvalue");
  l_objective *o = newbox(L, "quadratic");
  ms_status st = ms_objective_quadratic(lambda->x, lambda->n, &o->obj);
  if (st != MS_OK) luaL_argerror(L, 1, ms_last_error());
  pushlabel(L, "quadratic", lambda->x, lambda->n);
  setinfo(L, -2, "label");
  return 1;
}

/* Q as a table of n rows of n numbers, into a new vec of n*n (row-major). */
static ms_lua_vec *checkmatrix(lua_State *L, int arg, size_t *n) {
  if (lua_type(L, -1) != LUA_TTABLE)
    luaL_argerror(L, arg, lua_pushfstring(L, "Q must be a table of rows, got %s",
                                          luaL_typename(L, -1)));
  int q = lua_gettop(L);
  *n = ms_lua_rawlen(L, arg, q, "Q");
  if (*n == 0) luaL_argerror(L, arg, "Q must not be empty");
  ms_lua_vec *m = ms_lua_newvec(L, ms_lua_checkproduct(L, arg, *n, *n, "Q"));
  for (size_t i = 0; i < *n; i++) {
    lua_geti(L, q, (lua_Integer)i + 1);
    if (!lua_istable(L, -1) || (size_t)lua_rawlen(L, -1) != *n)
      luaL_argerror(L, arg,
                    lua_pushfstring(L, "Q must be square: row %I is not a "
                                       "table of %I numbers",
                                    (lua_Integer)i + 1, (lua_Integer)*n));
    for (size_t j = 0; j < *n; j++) {
      int isnum;
      lua_geti(L, -1, (lua_Integer)j + 1);
      m->x[i * *n + j] = lua_tonumberx(L, -1, &isnum);
      if (!isnum)
        luaL_argerror(L, arg, lua_pushfstring(L, "Q[%I][%I] is not a number",
                                              (lua_Integer)i + 1,
                                              (lua_Integer)j + 1));
      lua_pop(L, 1);
    }
    lua_pop(L, 1);
  }
  lua_replace(L, q);
  return m;
}

/* ms.objective.quadratic_form{Q = {{..}, ..}, c = {..}, b = 0}:
 * h(x) = 1/2 x'Qx + c'x + b */
static int l_quadratic_form(lua_State *L) {
  static const char *const known[] = {"Q", "c", "b", NULL};
  ms_lua_checkoptions(L, 1, known);
  size_t n;
  lua_getfield(L, 1, "Q");
  ms_lua_vec *Q = checkmatrix(L, 1, &n);
  double *c = NULL;
  if (lua_getfield(L, 1, "c") != LUA_TNIL) {
    ms_lua_vec *cv = ms_lua_checkvector(L, -1);
    if (cv->n != n)
      luaL_argerror(L, 1, lua_pushfstring(L, "c has %I entries, Q is %Ix%I",
                                          (lua_Integer)cv->n, (lua_Integer)n,
                                          (lua_Integer)n));
    c = cv->x;
  }
  lua_getfield(L, 1, "b");
  luaL_argcheck(L, lua_isnoneornil(L, -1) || lua_type(L, -1) == LUA_TNUMBER, 1,
                "b must be a number");
  double b = lua_tonumber(L, -1);
  l_objective *o = newbox(L, "quadratic_form");
  ms_status st = ms_objective_quadratic_form(Q->x, c, b, n, &o->obj);
  if (st != MS_OK) luaL_argerror(L, 1, ms_last_error());
  lua_pushfstring(L, "quadratic_form(%I-dimensional)", (lua_Integer)n);
  setinfo(L, -2, "label");
  return 1;
}


/* Finish a built-in made by a core constructor: an argument error for a
 * failure, else label the objective on top. */
static int finish(lua_State *L, ms_status st, const char *label) {
  if (st != MS_OK) luaL_argerror(L, 1, ms_last_error());
  lua_pushstring(L, label);
  setinfo(L, -2, "label");
  return 1;
}

/* ms.objective.rosenbrock{a = 1, b = 100, dim = 2} */
static int l_rosenbrock(lua_State *L) {
  static const char *const known[] = {"a", "b", "dim", NULL};
  lua_settop(L, 1);
  if (lua_isnil(L, 1)) {   /* ms.objective.rosenbrock(): the defaults */
    lua_newtable(L);
    lua_replace(L, 1);
  }
  ms_lua_checkoptions(L, 1, known);
  double a = ms_lua_optnumfield(L, 1, "a", 1), b = ms_lua_optnumfield(L, 1, "b", 100);
  lua_Integer dim = ms_lua_optintfield(L, 1, "dim", 2);
  luaL_argcheck(L, dim >= 2, 1, "dim must be an integer >= 2");
  l_objective *o = newbox(L, "rosenbrock");
  ms_status st = ms_objective_rosenbrock(a, b, (size_t)dim, &o->obj);
  char label[96];
  if (dim == 2)
    snprintf(label, sizeof label, "rosenbrock{a=%g, b=%g}", a, b);
  else
    snprintf(label, sizeof label, "rosenbrock{a=%g, b=%g, dim=%lld}", a, b,
             (long long)dim);
  return finish(L, st, label);
}

static int l_beale(lua_State *L) {
  l_objective *o = newbox(L, "beale");
  return finish(L, ms_objective_beale(&o->obj), "beale");
}

static int l_booth(lua_State *L) {
  l_objective *o = newbox(L, "booth");
  return finish(L, ms_objective_booth(&o->obj), "booth");
}

static int l_himmelblau(lua_State *L) {
  l_objective *o = newbox(L, "himmelblau");
  return finish(L, ms_objective_himmelblau(&o->obj), "himmelblau");
}

/* ms.objective.rotated_quadratic{kappa = 100, dim = 2, angle = pi/6, seed = 1} */
static int l_rotated_quadratic(lua_State *L) {
  static const char *const known[] = {"kappa", "dim", "angle", "seed", NULL};
  ms_lua_checkoptions(L, 1, known);
  double kappa = ms_lua_optnumfield(L, 1, "kappa", NAN);
  luaL_argcheck(L, !isnan(kappa), 1, "option 'kappa' (the condition number) is required");
  lua_Integer dim = ms_lua_optintfield(L, 1, "dim", 2);
  luaL_argcheck(L, dim >= 2, 1, "dim must be an integer >= 2");
  double angle = ms_lua_optnumfield(L, 1, "angle", 3.14159265358979323846 / 6);
  lua_Integer seed = ms_lua_optintfield(L, 1, "seed", 1);
  l_objective *o = newbox(L, "rotated_quadratic");
  ms_sigint_begin(0);   /* dim = 4096 takes a minute */
  ms_status st = ms_objective_rotated_quadratic(kappa, (size_t)dim, angle,
                                                (uint64_t)seed, &o->obj);
  ms_sigint_end();
  if (st == MS_EINTR || st == MS_ENOMEM) return ms_lua_fail(L, st);
  char label[96];
  snprintf(label, sizeof label, "rotated_quadratic{kappa=%g, dim=%lld}", kappa,
           (long long)dim);
  return finish(L, st, label);
}

/* ms.gradcheck(f, x): the largest relative difference between f's gradient
 * and finite differences at x, and the coordinate where it occurs. */
static int l_gradcheck(lua_State *L) {
  ms_objective *obj = ms_lua_checkobjective(L, 1);
  ms_lua_vec *x = ms_lua_checkvector(L, 2);
  if (x->n != ms_objective_dim(obj))
    luaL_argerror(L, 2, lua_pushfstring(L, "x has %I entries, expected %I",
                                        (lua_Integer)x->n,
                                        (lua_Integer)ms_objective_dim(obj)));
  double err;
  size_t index;
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);
  ms_sigint_begin(0);   /* 4d evaluations of f: Ctrl-C reaches them too */
  ms_status st = ms_objective_gradcheck(obj, x->x, &err, &index);
  ms_sigint_end();
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_pushnumber(L, err);
  lua_pushinteger(L, (lua_Integer)index + 1);
  return 2;
}

/* ------------------------------------------------------ Lua-defined */

/* Bit pattern written into grad before calling the Lua grad function: any
 * entry still holding it afterwards was not set. */
static const uint64_t unset_bits = 0x7ff80000deadbeefULL;

static double unset_value(void) {
  double d;
  memcpy(&d, &unset_bits, sizeof d);
  return d;
}

static int is_unset(double d) {
  uint64_t bits;
  memcpy(&bits, &d, sizeof bits);
  return bits == unset_bits;
}

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

static ms_status call_f(lua_State *L, l_objective *o, const double *x,
                        size_t n, double *f) {
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

static ms_status call_grad(lua_State *L, l_objective *o, const double *x,
                           size_t n, double *grad) {
  ms_lua_vec xsaved, gsaved;
  ms_vec_fill(grad, unset_value(), n);
  int h = ms_lua_pushhandler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, o->gref);
  ms_lua_vec *xv = pushview(L, o->xref, x, n, &xsaved);
  ms_lua_vec *gv = pushview(L, o->oref, grad, n, &gsaved);
  ms_status st = ms_lua_pcall(L, 2, 0, h);
  lua_settop(L, h - 1);
  *xv = xsaved;
  *gv = gsaved;
  for (size_t i = 0; st == MS_OK && i < n; i++)
    if (is_unset(grad[i]))
      st = ms_lua_pending(L, "gradient function grad did not set out[%I]",
                          (lua_Integer)i + 1);
  return st;
}

static ms_status lua_objective_fn(void *ctx, const double *x, size_t n,
                                  double *f, double *grad) {
  l_objective *o = ctx;
  lua_State *L = ms_lua_current();
  if (L == NULL) return MS_ECALLBACK;   /* called from outside the binding */
  if (!lua_checkstack(L, 8))
    return ms_lua_pending(L, "stack overflow in objective callback");
  ms_status st = MS_OK;
  if (f != NULL) st = call_f(L, o, x, n, f);
  if (st == MS_OK && grad != NULL) st = call_grad(L, o, x, n, grad);
  return st;
}

static int newref_view(lua_State *L, int readonly) {
  ms_lua_newview(L, readonly);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* ms.objective{dim = n, f = function(x) ... end,
 *              grad = function(x, out) ... end, name = "..."} */
static int l_objective_new(lua_State *L) {
  static const char *const known[] = {"dim", "f", "grad", "name", "window", NULL};
  lua_settop(L, 2);
  lua_remove(L, 1);   /* the ms.objective table, called */
  ms_lua_checkoptions(L, 1, known);
  lua_Integer dim = ms_lua_optintfield(L, 1, "dim", 0);
  luaL_argcheck(L, dim >= 1, 1, "dim must be an integer >= 1");
  luaL_argcheck(L, lua_getfield(L, 1, "f") == LUA_TFUNCTION, 1,
                "f must be a function");
  int gtype = lua_getfield(L, 1, "grad");
  luaL_argcheck(L, gtype == LUA_TNIL || gtype == LUA_TFUNCTION, 1,
                "grad must be a function");
  lua_getfield(L, 1, "name");
  luaL_argcheck(L, lua_isnoneornil(L, -1) || lua_type(L, -1) == LUA_TSTRING, 1,
                "name must be a string");
  const char *name = luaL_optstring(L, -1, "objective");
  l_objective *o = newbox(L, name);
  int box = lua_gettop(L);
  lua_pushvalue(L, box - 3);
  o->fref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (gtype == LUA_TFUNCTION) {
    lua_pushvalue(L, box - 2);
    o->gref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  o->xref = newref_view(L, 1);
  o->oref = newref_view(L, 0);
  ms_status st = ms_objective_new((size_t)dim, lua_objective_fn,
                                  gtype == LUA_TFUNCTION, o, NULL, &o->obj);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_pushfstring(L, "%s(%I-dimensional)", name, dim);
  setinfo(L, box, "label");
  if (lua_getfield(L, 1, "window") != LUA_TNIL) setinfo(L, box, "window");
  else lua_pop(L, 1);
  lua_settop(L, box);
  return 1;
}

/* ------------------------------------------------------------ methods */

static int l_value(lua_State *L) {
  l_objective *o = checkbox(L, 1);
  ms_lua_vec *x = ms_lua_checkvector(L, 2);
  size_t dim = ms_objective_dim(o->obj);
  if (x->n != dim)
    luaL_argerror(L, 2, lua_pushfstring(L, "x has %I entries, expected %I",
                                        (lua_Integer)x->n, (lua_Integer)dim));
  double f;
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* a callback may close it: freed after the call */
  ms_status st = ms_objective_eval(o->obj, x->x, &f, NULL);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_pushnumber(L, f);
  return 1;
}

/* Shared by grad, numgrad and eval: check x, push a gradient vector. */
static ms_lua_vec *prepare(lua_State *L, l_objective **o) {
  *o = checkbox(L, 1);
  ms_lua_vec *x = ms_lua_checkvector(L, 2);
  size_t dim = ms_objective_dim((*o)->obj);
  if (x->n != dim)
    luaL_argerror(L, 2, lua_pushfstring(L, "x has %I entries, expected %I",
                                        (lua_Integer)x->n, (lua_Integer)dim));
  return x;
}

static int l_grad(lua_State *L) {
  l_objective *o;
  ms_lua_vec *x = prepare(L, &o);
  ms_lua_vec *g = ms_lua_newvec(L, x->n);
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* a callback may close it: freed after the call */
  ms_status st = ms_objective_eval(o->obj, x->x, NULL, g->x);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  return st == MS_OK ? 1 : ms_lua_fail(L, st);
}

static int l_numgrad(lua_State *L) {
  l_objective *o;
  ms_lua_vec *x = prepare(L, &o);
  ms_lua_vec *g = ms_lua_newvec(L, x->n);
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* a callback may close it: freed after the call */
  ms_sigint_begin(0);   /* 4d evaluations of f: Ctrl-C reaches them too */
  ms_status st = ms_objective_numgrad(o->obj, x->x, g->x);
  ms_sigint_end();
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  return st == MS_OK ? 1 : ms_lua_fail(L, st);
}

static int l_eval(lua_State *L) {
  l_objective *o;
  ms_lua_vec *x = prepare(L, &o);
  ms_lua_vec *g = ms_lua_newvec(L, x->n);
  double f;
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* a callback may close it: freed after the call */
  ms_status st = ms_objective_eval(o->obj, x->x, &f, g->x);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_pushnumber(L, f);
  lua_insert(L, -2);
  return 2;
}

static int l_call(lua_State *L) {
  if (lua_gettop(L) > 2) {   /* f(x1, x2, ...) */
    int n = lua_gettop(L) - 1;
    lua_createtable(L, n, 0);
    for (int i = 1; i <= n; i++) {
      lua_pushvalue(L, i + 1);
      lua_rawseti(L, -2, i);
    }
    lua_replace(L, 2);
    lua_settop(L, 2);
  }
  return l_value(L);
}

static int l_index(lua_State *L) {
  l_objective *o = ms_lua_checkudata(L, 1, MS_LUA_OBJECTIVE);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *key = lua_tostring(L, 2);
  lua_getiuservalue(L, 1, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, -2) != LUA_TNIL || key == NULL || o->obj == NULL ||
      o->use.closed)
    return 1;
  size_t dim = ms_objective_dim(o->obj);
  double window[4];
  if (strcmp(key, "dim") == 0) {
    lua_pushinteger(L, (lua_Integer)dim);
  } else if (strcmp(key, "window") == 0 && ms_objective_window(o->obj, window)) {
    lua_createtable(L, 4, 0);
    for (int i = 0; i < 4; i++) {
      lua_pushnumber(L, window[i]);
      lua_rawseti(L, -2, i + 1);
    }
  } else if (strcmp(key, "minimizer") == 0) {
    ms_lua_vec *x = ms_lua_newvec(L, dim);
    if (!ms_objective_minimizer(o->obj, x->x)) lua_pushnil(L);
  } else {
    lua_pushnil(L);
  }
  return 1;
}

static int l_tostring(lua_State *L) {
  ms_lua_checkudata(L, 1, MS_LUA_OBJECTIVE);
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "label");
  return 1;
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
  return 0;
}

static const luaL_Reg methods[] = {
    {"value", l_value}, {"grad", l_grad}, {"numgrad", l_numgrad},
    {"eval", l_eval},   {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__call", l_call}, {"__tostring", l_tostring}, {"__gc", l_gc},
    {"__close", l_gc},  {NULL, NULL}};

static const luaL_Reg builtins[] = {
    {"quadratic", l_quadratic},
    {"quadratic_form", l_quadratic_form},
    {"rosenbrock", l_rosenbrock},
    {"beale", l_beale},
    {"booth", l_booth},
    {"himmelblau", l_himmelblau},
    {"rotated_quadratic", l_rotated_quadratic},
    {NULL, NULL}};

void ms_lua_open_objective(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_OBJECTIVE, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);

  luaL_newlib(L, builtins);
  lua_newtable(L);
  lua_pushcfunction(L, l_objective_new);
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "objective");
  lua_pushcfunction(L, l_gradcheck);
  lua_setfield(L, -2, "gradcheck");
}
