/*
 * l_trace.c -- ms.trace(f, rule, {x0 = ..., steps = 20}): the full-batch
 * loop of d2l's train_2d, and the trajectory it returns.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

typedef struct l_trace {
  ms_trace *tr;
} l_trace;

static ms_trace *checktrace(lua_State *L, int arg) {
  l_trace *t = ms_lua_checkudata(L, arg, MS_LUA_TRACE);
  if (t->tr == NULL) luaL_argerror(L, arg, "trace has been closed");
  return t->tr;
}

/* ms.trace(f, rule, opts) */
static int l_trace_run(lua_State *L) {
  static const char *const known[] = {"x0", "steps", "every", NULL};
  ms_objective *obj = ms_lua_checkobjective(L, 1);
  ms_rule *rule = ms_lua_checkidlerule(L, 2);
  ms_lua_checkoptions(L, 3, known);
  ms_trace_opts opts;
  ms_trace_opts_init(&opts);
  opts.steps = ms_lua_optintfield(L, 3, "steps", opts.steps);
  opts.every = ms_lua_optintfield(L, 3, "every", opts.every);
  if (lua_getfield(L, 3, "x0") == LUA_TNIL)
    luaL_argerror(L, 3, "option 'x0' (the starting point) is required");
  ms_lua_vec *x0 = ms_lua_checkvector(L, lua_gettop(L));

  l_trace *t = lua_newuserdatauv(L, sizeof *t, 1);
  t->tr = NULL;
  ms_lua_setclass(L, MS_LUA_TRACE);
  if (ms_trace_check(obj, x0->x, x0->n, &opts) != MS_OK)
    luaL_argerror(L, 3, ms_last_error());
  lua_createtable(L, 0, 2);   /* what plots and labels need, before the */
  lua_pushvalue(L, 1);        /* run, which may close the rule */
  lua_setfield(L, -2, "objective");
  ms_lua_pushrulelabel(L, 2);
  lua_setfield(L, -2, "rule");
  lua_setiuservalue(L, -2, 1);
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* closed during the run: freed after it */
  ms_lua_hold(L, 2);
  ms_sigint_begin(0);   /* Ctrl-C reaches the C loop too */
  ms_status st = ms_trace_run(obj, rule, x0->x, x0->n, &opts, &t->tr);
  ms_sigint_end();
  ms_lua_release(L, 2);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  return 1;
}

/* ------------------------------------------------------------ methods */

/* 1-based point index at arg, in range. */
static size_t checkpoint(lua_State *L, ms_trace *tr, int arg) {
  lua_Integer i = luaL_checkinteger(L, arg);
  lua_Integer len = (lua_Integer)ms_trace_len(tr);
  if (i < 0) i += len + 1;   /* -1 is the last point */
  if (i < 1 || i > len)
    luaL_argerror(L, arg, lua_pushfstring(L, "point %I out of range (trace of %I)",
                                          i, len));
  return (size_t)i - 1;
}

static int l_point(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  ms_lua_pushcopy(L, ms_trace_point(tr, checkpoint(L, tr, 2)), ms_trace_dim(tr));
  return 1;
}

static int l_value(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  lua_pushnumber(L, ms_trace_value(tr, checkpoint(L, tr, 2)));
  return 1;
}

static int l_step(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  lua_pushinteger(L, (lua_Integer)ms_trace_step(tr, checkpoint(L, tr, 2)));
  return 1;
}

/* tr:values(): {f(x_0), f(x_1), ...} */
static int l_values(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  size_t len = ms_trace_len(tr);
  lua_createtable(L, (int)len, 0);
  for (size_t i = 0; i < len; i++) {
    lua_pushnumber(L, ms_trace_value(tr, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* tr:column(j): coordinate j along the trajectory, as a table. */
static int l_column(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  lua_Integer j = luaL_checkinteger(L, 2);
  size_t n = ms_trace_dim(tr), len = ms_trace_len(tr);
  luaL_argcheck(L, j >= 1 && (size_t)j <= n, 2, "coordinate out of range");
  lua_createtable(L, (int)len, 0);
  for (size_t i = 0; i < len; i++) {
    lua_pushnumber(L, ms_trace_point(tr, i)[j - 1]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_csv(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  const char *path = ms_lua_checkpath(L, 2);
  if (ms_trace_write_csv(tr, path) != MS_OK)
    return luaL_error(L, "%s", ms_last_error());
  lua_settop(L, 1);
  return 1;
}

/* d2l's line: "epoch 20, x1: -0.943467, x2: -0.000073" for the last point,
 * and why the run stopped if it diverged. */
static int l_tostring(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  size_t last = ms_trace_len(tr) - 1, n = ms_trace_dim(tr);
  const double *x = ms_trace_point(tr, last);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  char buf[64];
  snprintf(buf, sizeof buf, "epoch %lld", (long long)ms_trace_step(tr, last));
  luaL_addstring(&b, buf);
  for (size_t j = 0; j < n && j < 6; j++) {
    /* d2l's %f, unless the number would print as a wall of digits */
    snprintf(buf, sizeof buf, fabs(x[j]) < 1e12 ? ", x%zu: %f" : ", x%zu: %.6e",
             j + 1, x[j]);
    luaL_addstring(&b, buf);
  }
  if (n > 6) {
    snprintf(buf, sizeof buf, ", ... (%zu coordinates)", n);
    luaL_addstring(&b, buf);
  }
  if (ms_trace_diverged(tr)) {
    snprintf(buf, sizeof buf, " (diverged at step %lld: ",
             (long long)ms_trace_diverged(tr));
    luaL_addstring(&b, buf);
    luaL_addstring(&b, ms_trace_reason(tr));
    luaL_addchar(&b, ')');
  }
  luaL_pushresult(&b);
  return 1;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)ms_trace_len(checktrace(L, 1)));
  return 1;
}

static int l_index(lua_State *L) {
  ms_trace *tr = checktrace(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) return l_point(L);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *key = lua_tostring(L, 2);
  if (key == NULL) return 1;
  if (strcmp(key, "steps") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_trace_step(tr, ms_trace_len(tr) - 1));
  } else if (strcmp(key, "dim") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_trace_dim(tr));
  } else if (strcmp(key, "diverged") == 0) {
    if (ms_trace_diverged(tr))
      lua_pushinteger(L, (lua_Integer)ms_trace_diverged(tr));
    else
      lua_pushboolean(L, 0);
  } else if (strcmp(key, "reason") == 0) {
    if (ms_trace_diverged(tr)) lua_pushstring(L, ms_trace_reason(tr));
    else lua_pushnil(L);
  } else {
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, key);
  }
  return 1;
}

static int l_gc(lua_State *L) {
  l_trace *t = ms_lua_checkudata(L, 1, MS_LUA_TRACE);
  ms_trace_free(t->tr);
  t->tr = NULL;
  return 0;
}

static const luaL_Reg methods[] = {
    {"point", l_point},   {"value", l_value}, {"step", l_step},
    {"values", l_values}, {"column", l_column}, {"csv", l_csv},
    {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__len", l_len}, {"__tostring", l_tostring}, {"__gc", l_gc},
    {"__close", l_gc}, {NULL, NULL}};

void ms_lua_open_trace(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_TRACE, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_trace_run);
  lua_setfield(L, -2, "trace");
}
