/*
 * l_sweep.c -- the sweep primitives of lua/momsandbox/primitives.lua for
 * Lua 5.4: sweep_names, sweep_run, sweep_data and the kind "sweep" with its
 * CSV writer.  Twin for LuaJIT: bindings/ffi/momsandbox/ffi/sweep.lua; the
 * user of both is lua/momsandbox/sweep.lua (ms.sweep), which checks the
 * options and presents the result.
 *
 * The runs use every core when nothing in them is written in Lua; a
 * Lua-defined rule, objective or schedule makes them all run here, on the
 * calling thread, where an error raised in it stops the sweep and is
 * raised again unchanged.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

static const char FNAME[] = "sweep_run";

typedef struct l_sweep {
  ms_sweep *s;
} l_sweep;

static l_sweep *checkbox(lua_State *L, const char *fname) {
  l_sweep *b = ms_lua_testudata(L, 1, MS_LUA_SWEEP);
  if (b == NULL) ms_lua_argtypeerror(L, 1, 1, fname, MS_LUA_SWEEP);
  return b;
}

/* native.sweep_names(rule): for a rule (or the name of a built-in class),
 * its class name and the axes a sweep of it takes: the hyper-parameters in
 * class order, then "scale"; nil for anything else. */
static int l_sweep_names(lua_State *L) {
  const ms_rule_class *cls = NULL;
  if (lua_type(L, 1) == LUA_TSTRING) cls = ms_rule_class_find(lua_tostring(L, 1));
  else if (ms_lua_testudata(L, 1, MS_LUA_RULE)) cls = ms_rule_class_of(ms_lua_checkrule(L, 1));
  if (cls == NULL) return 0;
  lua_pushstring(L, cls->name);
  lua_createtable(L, cls->nhyper + 1, 0);
  for (int i = 0; i <= cls->nhyper; i++) {
    lua_pushstring(L, i < cls->nhyper ? cls->hyper[i].name : "scale");
    lua_rawseti(L, -2, i + 1);
  }
  return 2;
}

int ms_lua_setup_failed(lua_State *L, ms_status st, const char *prefix) {
  int top = lua_gettop(L);
  ms_lua_failure(L, st);
  lua_settop(L, top + 3);
  lua_pushfstring(L, "%s%s", prefix, lua_tostring(L, top + 2));
  lua_replace(L, top + 2);
  lua_pushboolean(L, 1);
  return 4;
}

static const char *namefield(lua_State *L, int t) {
  if (lua_getfield(L, t, "name") != LUA_TSTRING)
    ms_lua_argerror(L, 4, FNAME, "an axis needs a name");
  return lua_tostring(L, -1);   /* kept alive by the axis table */
}

static double numfield(lua_State *L, int t, const char *key) {
  if (lua_getfield(L, t, key) != LUA_TNUMBER)
    ms_lua_argerror(L, 4, FNAME, lua_pushfstring(L, "'%s' must be a number", key));
  return lua_tonumber(L, -1);
}

/* grid.axes: {name =, values = vec or table} or {name =, from =, to =,
 * n =, log =}, in order. */
static ms_status add_axes(lua_State *L, ms_sweep *s, int axes) {
  if (!lua_istable(L, axes)) ms_lua_argerror(L, 4, FNAME, "axes must be a table");
  for (lua_Unsigned i = 1; i <= lua_rawlen(L, axes); i++) {
    int top = lua_gettop(L), a = top + 1, isint;
    if (lua_rawgeti(L, axes, (lua_Integer)i) != LUA_TTABLE)
      ms_lua_argerror(L, 4, FNAME, "an axis must be a table");
    const char *name = namefield(L, a);
    ms_status st;
    if (lua_getfield(L, a, "values") != LUA_TNIL) {
      ms_lua_vec *v = ms_lua_checkvector(L, -1);
      st = ms_sweep_axis(s, name, v->x, v->n);
    } else {
      double from = numfield(L, a, "from"), to = numfield(L, a, "to");
      lua_getfield(L, a, "n");
      lua_Integer n = lua_tointegerx(L, -1, &isint);
      if (!isint) ms_lua_argerror(L, 4, FNAME, "'n' must be an integer");
      lua_getfield(L, a, "log");
      st = ms_sweep_range(s, name, from, to, (int64_t)n, lua_toboolean(L, -1));
    }
    lua_settop(L, top);
    if (st != MS_OK) return st;
  }
  return MS_OK;
}

/* grid = {names = {...}, values = vec or table, count = n}: values holds
 * count rows of one value per name. */
static ms_status add_points(lua_State *L, ms_sweep *s, int grid) {
  int isint;
  lua_getfield(L, grid, "names");
  int names = lua_gettop(L);
  if (!lua_istable(L, names)) ms_lua_argerror(L, 4, FNAME, "names must be a table");
  size_t nn = ms_lua_rawlen(L, 4, names, "names");
  const char **cnames = lua_newuserdatauv(L, (nn + 1) * sizeof *cnames, 0);
  for (size_t a = 0; a < nn; a++) {
    if (lua_rawgeti(L, names, (lua_Integer)a + 1) != LUA_TSTRING)
      ms_lua_argerror(L, 4, FNAME, "names must be strings");
    cnames[a] = lua_tostring(L, -1);   /* kept alive by the table */
    lua_pop(L, 1);
  }
  lua_getfield(L, grid, "count");
  lua_Integer count = lua_tointegerx(L, -1, &isint);
  if (!isint || count < 1 || count > MS_LUA_MAXLEN)
    ms_lua_argerror(L, 4, FNAME, "count must be an integer in [1, 2^30]");
  lua_getfield(L, grid, "values");
  ms_lua_vec *v = ms_lua_checkvector(L, -1);
  if (ms_lua_checkproduct(L, 4, (size_t)count, nn, "points") != v->n)
    ms_lua_argerror(L, 4, FNAME, "values must hold count x #names numbers");
  return ms_sweep_points(s, cnames, nn, v->x, (size_t)count);
}

/* The options at 5: {steps, measures (bits), tol, threads, shard, shards,
 * fast, fstar} (xstar apart); absent ones keep the engine's defaults. */
static void checkopts(lua_State *L, ms_sweep_opts *o) {
  if (!lua_istable(L, 5)) ms_lua_argtypeerror(L, 5, 5, FNAME, "table");
  o->steps = ms_lua_optintfield(L, 5, "steps", o->steps);
  o->measures = (int)ms_lua_optintfield(L, 5, "measures", o->measures);
  o->tol = ms_lua_optnumfield(L, 5, "tol", o->tol);
  lua_Integer threads = ms_lua_optintfield(L, 5, "threads", 0);
  o->shard = ms_lua_optintfield(L, 5, "shard", 0);
  o->shards = ms_lua_optintfield(L, 5, "shards", 1);
  o->fast = ms_lua_optboolfield(L, 5, "fast", 1);
  if (o->measures < 1 || o->measures > 7 || threads < 0 || threads > 1024)
    ms_lua_argerror(L, 5, FNAME, "measures or threads out of range");
  o->threads = (int)threads;
}

/* native.sweep_run(obj, rule, x0, grid, opts [, progress]) -> sweep, or
 * nil, message, code, setup (true: the options were wrong, nothing ran). */
static int l_sweep_run(lua_State *L) {
  lua_settop(L, 6);
  ms_objective *obj = ms_lua_checkobjective(L, 1);
  int named = lua_type(L, 2) == LUA_TSTRING;
  ms_rule *rule = named ? NULL : ms_lua_checkrule(L, 2);
  ms_lua_vec *x0 = ms_lua_checkvector(L, 3);
  if (!lua_istable(L, 4)) ms_lua_argtypeerror(L, 4, 4, FNAME, "table");
  ms_sweep_opts o;
  ms_sweep_opts_init(&o);
  checkopts(L, &o);
  if (!lua_isnil(L, 6) && !lua_isfunction(L, 6))
    ms_lua_argtypeerror(L, 6, 6, FNAME, "function");
  l_sweep *box = lua_newuserdatauv(L, sizeof *box, 1);   /* 7 */
  box->s = NULL;
  ms_lua_setclass(L, MS_LUA_SWEEP);
  ms_status st;
  if (named) {   /* rule = "momentum": the class's defaults */
    const ms_rule_class *cls = ms_rule_class_find(lua_tostring(L, 2));
    if (cls == NULL) return ms_lua_argerror(L, 2, FNAME, "no such built-in rule");
    if ((st = ms_rule_new(cls, &rule)) == MS_OK)
      st = ms_sweep_new(obj, rule, x0->x, x0->n, &box->s);
    ms_rule_free(rule);
  } else {
    st = ms_sweep_new(obj, rule, x0->x, x0->n, &box->s);
  }
  if (st != MS_OK) return ms_lua_setup_failed(L, st, "");
  /* what the sweep uses as long as it lives: the objective, and the
   * schedules its copy of the rule points at */
  lua_createtable(L, 0, 2);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "objective");
  if (named) lua_newtable(L);
  else ms_lua_pushschedules(L, 2);
  lua_setfield(L, -2, "schedules");
  lua_setiuservalue(L, 7, 1);

  int points = lua_getfield(L, 4, "names") != LUA_TNIL;
  lua_getfield(L, 4, "axes");
  st = points ? add_points(L, box->s, 4) : add_axes(L, box->s, 9);
  if (st != MS_OK) return ms_lua_setup_failed(L, st, points ? "points: " : "grid: ");
  lua_settop(L, 7);
  const double *xstar = NULL, fstar = ms_lua_optnumfield(L, 5, "fstar", NAN);
  if (lua_getfield(L, 5, "xstar") != LUA_TNIL) {   /* 8, kept for the run */
    ms_lua_vec *v = ms_lua_checkvector(L, 8);
    if (v->n != x0->n) {
      lua_pushnil(L);
      lua_pushliteral(L, "xstar must have as many entries as x0");
      lua_pushliteral(L, "EINVAL");
      lua_pushboolean(L, 1);
      return 4;
    }
    xstar = v->x;
  }
  if ((st = ms_sweep_target(box->s, xstar, isnan(fstar) ? NULL : &fstar)) != MS_OK)
    return ms_lua_setup_failed(L, st, "");

  if (!lua_isnil(L, 6)) {
    o.progress = ms_lua_progress;
    o.progress_ctx = (void *)(intptr_t)6;
  }
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* closed during the run: freed after it */
  if (!named) ms_lua_hold(L, 2);
  ms_sigint_begin(0);   /* Ctrl-C reaches the C loop too */
  st = ms_sweep_run(box->s, &o);
  ms_sigint_end();
  if (!named) ms_lua_release(L, 2);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_settop(L, 7);
  return 1;
}

/* ------------------------------------------------------------ results */

static void pushcolumn(lua_State *L, ms_sweep *s, int what, size_t axis) {
  int64_t n = ms_sweep_count(s), first = ms_sweep_first(s);
  const ms_sweep_result *r = ms_sweep_results(s);
  lua_createtable(L, n < INT32_MAX ? (int)n : 0, 0);
  for (int64_t k = 0; k < n; k++) {
    switch (what) {
      case 0: lua_pushnumber(L, ms_sweep_value(s, first + k, axis)); break;
      case 1: lua_pushnumber(L, r[k].loss); break;
      case 2: lua_pushnumber(L, r[k].rate); break;
      case 3: lua_pushnumber(L, r[k].steps); break;
      default: lua_pushinteger(L, (lua_Integer)r[k].diverged);
    }
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
}

static void setfield(lua_State *L, const char *key, double v, int integer) {
  if (integer) lua_pushinteger(L, (lua_Integer)v);
  else lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

/* native.sweep_data(sw [, columns]) -> {total, first (1-based), count,
 * fast, threads, seconds}, with columns the values at each point too
 * (axes = {values of axis 1, ...}, loss, rate and steps when measured,
 * diverged: step or 0), made once; nil once closed. */
static int l_sweep_data(lua_State *L) {
  ms_sweep *s = checkbox(L, "sweep_data")->s;
  int columns = lua_toboolean(L, 2);
  if (s == NULL) return 0;
  lua_settop(L, 1);
  lua_getiuservalue(L, 1, 1);
  if (lua_getfield(L, 2, "data") == LUA_TTABLE) return 1;
  lua_createtable(L, 0, 11);
  setfield(L, "total", (double)ms_sweep_total(s), 1);
  setfield(L, "first", (double)ms_sweep_first(s) + 1, 1);
  setfield(L, "count", (double)ms_sweep_count(s), 1);
  setfield(L, "threads", ms_sweep_threads(s), 1);
  setfield(L, "seconds", ms_sweep_seconds(s), 0);
  lua_pushboolean(L, ms_sweep_was_fast(s));
  lua_setfield(L, -2, "fast");
  if (!columns) return 1;
  size_t naxes = ms_sweep_naxes(s);
  lua_createtable(L, (int)naxes, 0);
  for (size_t a = 0; a < naxes; a++) {
    pushcolumn(L, s, 0, a);
    lua_rawseti(L, -2, (lua_Integer)a + 1);
  }
  lua_setfield(L, -2, "axes");
  static const char *const names[] = {"loss", "rate", "steps", "diverged"};
  static const int bits[] = {MS_MEASURE_LOSS, MS_MEASURE_RATE, MS_MEASURE_STEPS, 0};
  for (int m = 0; m < 4; m++) {
    if (bits[m] && !(ms_sweep_measures(s) & bits[m])) continue;
    pushcolumn(L, s, m + 1, 0);
    lua_setfield(L, -2, names[m]);
  }
  lua_pushvalue(L, -1);
  lua_setfield(L, 2, "data");
  return 1;
}

/* native.write_csv for a sweep: (sw, path, header) */
static int sweep_csv(lua_State *L) {
  ms_sweep *s = checkbox(L, "write_csv")->s;
  if (s == NULL) return ms_lua_argerror(L, 1, "write_csv", "sweep has been closed");
  ms_sigint_begin(0);   /* millions of rows take seconds */
  ms_status st = ms_sweep_write_csv(s, lua_tostring(L, 2), lua_toboolean(L, 3));
  ms_sigint_end();
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_pushboolean(L, 1);
  return 1;
}

static int l_gc(lua_State *L) {
  l_sweep *b = ms_lua_testudata(L, 1, MS_LUA_SWEEP);
  if (b == NULL) return 0;
  ms_sweep_free(b->s);
  b->s = NULL;
  if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
    lua_getfield(L, -1, "schedules");
    ms_lua_release_all(L, -1);
    lua_pushnil(L);   /* and the rest goes */
    lua_setiuservalue(L, 1, 1);
  }
  return 0;
}

void ms_lua_open_sweep(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {"__close", l_gc}, {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_SWEEP, none, metamethods);
  lua_pushnil(L);   /* the shared Lua's __index serves it all */
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  ms_lua_csvwriter(L, "sweep", sweep_csv);
  static const luaL_Reg fns[] = {{"sweep_names", l_sweep_names},
                                 {"sweep_run", l_sweep_run},
                                 {"sweep_data", l_sweep_data},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
