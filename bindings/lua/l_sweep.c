/*
 * l_sweep.c -- the sweep primitives of lua/momsandbox/primitives.lua for
 * Lua 5.4: sweep_new, sweep_grid, sweep_run, sweep_data and the kind
 * "sweep" with its CSV writer.  Twin for LuaJIT:
 * bindings/ffi/momsandbox/ffi_sweep.lua; the user of both is
 * lua/momsandbox/sweep.lua (ms.sweep), which checks the options and
 * presents the result.
 *
 * The runs use every core when nothing in them is written in Lua; a
 * Lua-defined rule, objective or schedule makes them all run here, on the
 * calling thread, where an error raised in it stops the sweep and is
 * raised again unchanged.
 */
#include <stdint.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

typedef struct l_sweep {
  ms_sweep *s;
} l_sweep;

/* The sweep at 1 of fname, or NULL once closed. */
static ms_sweep *tosweep(lua_State *L, const char *fname) {
  l_sweep *b = ms_lua_testudata(L, 1, MS_LUA_SWEEP);
  if (b == NULL) ms_lua_argtypeerror(L, 1, 1, fname, MS_LUA_SWEEP);
  return b->s;
}

/* sweep_new(obj, rule, x0, xstar|nil, fstar|nil) */
static int l_sweep_new(lua_State *L) {
  lua_settop(L, 5);
  ms_objective *obj = ms_lua_checkobjective(L, 1);
  ms_rule *rule = ms_lua_checkrule(L, 2);
  ms_lua_vec *x0 = ms_lua_checkvec(L, 3);
  ms_lua_vec *xstar = lua_isnil(L, 4) ? NULL : ms_lua_checkvec(L, 4);
  double fstar = lua_isnil(L, 5) ? 0 : ms_lua_checknum(L, 5, 5, "sweep_new");
  if (xstar != NULL && xstar->n != x0->n)
    return ms_lua_argerror(L, 4, "sweep_new", "xstar must be of x0's size");
  l_sweep *box = lua_newuserdatauv(L, sizeof *box, 1);   /* 6 */
  box->s = NULL;
  ms_lua_setclass(L, MS_LUA_SWEEP);
  /* what the sweep uses as long as it lives: the objective, and the
   * schedules its copy of the rule points at; the rule for the runs */
  lua_createtable(L, 3, 0);
  lua_pushvalue(L, 1);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, 2);
  lua_rawseti(L, -2, 2);
  ms_lua_pushschedules(L, 2);
  lua_rawseti(L, -2, 3);
  lua_setiuservalue(L, 6, 1);
  ms_status st = ms_sweep_new(obj, rule, x0->x, x0->n, &box->s);
  if (st == MS_OK)
    st = ms_sweep_target(box->s, xstar ? xstar->x : NULL, lua_isnil(L, 5) ? NULL : &fstar);
  return st == MS_OK ? 1 : ms_lua_failure(L, st);
}

/* range_values(name, from, to, n, log) -> the n values of a sweep's range
 * (ms_range_check, ms_range_value), or nil, message, code; n <= 1e6 */
static int l_range_values(lua_State *L) {
  const char *F = "range_values";
  if (lua_type(L, 1) != LUA_TSTRING) return ms_lua_argtypeerror(L, 1, 1, F, "string");
  double from = ms_lua_checknum(L, 2, 2, F), to = ms_lua_checknum(L, 3, 3, F);
  lua_Integer n = ms_lua_checkint(L, 4, 4, F);
  int log = lua_toboolean(L, 5);
  if (n > 1000000) return ms_lua_argerror(L, 4, F, "n must be at most 1e6");
  ms_status st = ms_range_check(lua_tostring(L, 1), from, to, n, log);
  if (st != MS_OK) return ms_lua_status(L, st);
  lua_createtable(L, (int)n, 0);
  for (lua_Integer k = 0; k < n; k++) {
    lua_pushnumber(L, ms_range_value(from, to, n, log, k));
    lua_rawseti(L, -2, k + 1);
  }
  return 1;
}

/* sweep_grid(sw, name, values vec), (sw, name, from, to, n, log) or
 * (sw, names, values vec, count) -> true, or nil, message, code */
static int l_sweep_grid(lua_State *L) {
  const char *F = "sweep_grid";
  ms_sweep *s = tosweep(L, F);
  if (s == NULL) return ms_lua_argerror(L, 1, F, "sweep has been closed");
  ms_status st;
  if (lua_istable(L, 2)) {
    size_t nn = ms_lua_rawlen(L, 2, 2, "names");
    ms_lua_vec *v = ms_lua_checkvec(L, 3);
    lua_Integer count = ms_lua_checkint(L, 4, 4, F);
    if (count < 1 || count > MS_LUA_MAXLEN ||
        ms_lua_checkproduct(L, 3, (size_t)count, nn, "points") != v->n)
      return ms_lua_argerror(L, 3, F, "values must hold count x #names numbers");
    const char **names = lua_newuserdatauv(L, (nn + 1) * sizeof *names, 0);
    for (size_t a = 0; a < nn; a++) {
      if (lua_rawgeti(L, 2, (lua_Integer)a + 1) != LUA_TSTRING)
        return ms_lua_argerror(L, 2, F, "names must be strings");
      names[a] = lua_tostring(L, -1);   /* kept alive by the table */
      lua_pop(L, 1);
    }
    st = ms_sweep_points(s, names, nn, v->x, (size_t)count);
  } else if (lua_type(L, 2) != LUA_TSTRING) {
    return ms_lua_argtypeerror(L, 2, 2, F, "string");
  } else if (lua_type(L, 3) == LUA_TNUMBER) {
    st = ms_sweep_range(s, lua_tostring(L, 2), lua_tonumber(L, 3), ms_lua_checknum(L, 4, 4, F),
                        ms_lua_checkint(L, 5, 5, F), lua_toboolean(L, 6));
  } else {
    ms_lua_vec *v = ms_lua_checkvec(L, 3);
    st = ms_sweep_axis(s, lua_tostring(L, 2), v->x, v->n);
  }
  return ms_lua_status(L, st);
}

/* sweep_run(sw, steps|nil, measures, tol|nil, threads, shard, shards,
 * fast, progress|nil) -> true, or nil, message, code */
static int l_sweep_run(lua_State *L) {
  const char *F = "sweep_run";
  lua_settop(L, 9);
  ms_sweep *s = tosweep(L, F);
  if (s == NULL) return ms_lua_argerror(L, 1, F, "sweep has been closed");
  ms_sweep_opts o;
  ms_sweep_opts_init(&o);
  if (!lua_isnil(L, 2)) o.steps = ms_lua_checkint(L, 2, 2, F);
  o.measures = (int)ms_lua_checkint(L, 3, 3, F);
  if (!lua_isnil(L, 4)) o.tol = ms_lua_checknum(L, 4, 4, F);
  o.threads = (int)ms_lua_checkint(L, 5, 5, F);
  o.shard = ms_lua_checkint(L, 6, 6, F);
  o.shards = ms_lua_checkint(L, 7, 7, F);
  o.fast = lua_toboolean(L, 8);
  if (!lua_isnil(L, 9)) {
    if (!lua_isfunction(L, 9)) return ms_lua_argtypeerror(L, 9, 9, F, "function");
    o.progress = ms_lua_progress;
    o.progress_ctx = (void *)(intptr_t)9;
  }
  lua_getiuservalue(L, 1, 1);
  lua_rawgeti(L, 10, 1);   /* 11: the objective, 12: the rule, still live */
  lua_rawgeti(L, 10, 2);
  ms_lua_checkobjective(L, 11);
  ms_lua_checkrule(L, 12);
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 11);   /* closed during the run: freed after it */
  ms_lua_hold(L, 12);
  ms_sigint_begin(0);   /* Ctrl-C reaches the C loop too */
  ms_status st = ms_sweep_run(s, &o);
  ms_sigint_end();
  ms_lua_release(L, 12);
  ms_lua_release(L, 11);
  ms_lua_leave(prev);
  return ms_lua_status(L, st);
}

/* sweep_data(sw) -> total, first (1-based), count, fast, threads,
 * seconds; sweep_data(sw, c) -> column c (ms_sweep_column's c + 1), a
 * new vec; nothing once closed. */
static int l_sweep_data(lua_State *L) {
  ms_sweep *s = tosweep(L, "sweep_data");
  if (s == NULL) return 0;
  if (lua_isnoneornil(L, 2)) {
    lua_pushinteger(L, ms_sweep_total(s));
    lua_pushinteger(L, ms_sweep_first(s) + 1);
    lua_pushinteger(L, ms_sweep_count(s));
    lua_pushboolean(L, ms_sweep_was_fast(s));
    lua_pushinteger(L, ms_sweep_threads(s));
    lua_pushnumber(L, ms_sweep_seconds(s));
    return 6;
  }
  lua_Integer c = ms_lua_checkint(L, 2, 2, "sweep_data");
  ms_lua_vec *v = ms_lua_newvec(L, (size_t)ms_sweep_count(s));
  return c >= 1 && ms_sweep_column(s, (size_t)c - 1, v->x) == MS_OK ? 1 : 0;
}

/* native.write_csv for a sweep: (sw, path, header) */
static int sweep_csv(lua_State *L) {
  ms_sweep *s = tosweep(L, "write_csv");
  if (s == NULL) return ms_lua_argerror(L, 1, "write_csv", "sweep has been closed");
  ms_sigint_begin(0);   /* millions of rows take seconds */
  ms_status st = ms_sweep_write_csv(s, lua_tostring(L, 2), lua_toboolean(L, 3));
  ms_sigint_end();
  return ms_lua_status(L, st);
}

static int l_gc(lua_State *L) {
  l_sweep *b = ms_lua_testudata(L, 1, MS_LUA_SWEEP);
  if (b == NULL) return 0;
  ms_sweep_free(b->s);
  b->s = NULL;
  if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE) {
    lua_rawgeti(L, -1, 3);
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
  static const luaL_Reg fns[] = {{"range_values", l_range_values},
                                 {"sweep_new", l_sweep_new}, {"sweep_grid", l_sweep_grid},
                                 {"sweep_run", l_sweep_run}, {"sweep_data", l_sweep_data},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
