/*
 * l_schedule.c -- schedules as the native kind "schedule" for Lua 5.4: the
 * primitives schedule_builtin, schedule_fn and schedule_values.  Twin for
 * LuaJIT: bindings/ffi/momsandbox/ffi_schedule.lua; user:
 * lua/momsandbox/schedule.lua (ms.schedule: options, labels, s(t)).
 * Rules and sweeps hold schedules through ms_lua_toschedule/hold/release.
 */
#include <stdint.h>
#include <string.h>

#include "ms_lua.h"

typedef struct l_schedule {
  ms_lua_use use;   /* first: rules, schedules and calls using it */
  ms_schedule *s;
  int fref;   /* the Lua function of a callback schedule, or LUA_NOREF */
} l_schedule;

static const char BUILTIN[] = "schedule_builtin";

/* A new schedule userdata; its user value is a table holding what it must
 * keep alive (the parts of a sequence). */
static l_schedule *newbox(lua_State *L) {
  l_schedule *b = lua_newuserdatauv(L, sizeof *b, 1);
  memset(b, 0, sizeof *b);
  b->fref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_SCHEDULE);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  return b;
}

static ms_status call_schedule(void *ctx, int64_t t, double *value) {
  l_schedule *b = ctx;
  lua_State *L = ms_lua_current();
  if (L == NULL) return MS_ECALLBACK;
  if (!lua_checkstack(L, 4)) return ms_lua_pending(L, "stack overflow in a schedule");
  int h = ms_lua_pushhandler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->fref);
  lua_pushinteger(L, (lua_Integer)t);
  ms_status st = ms_lua_pcall(L, 1, 1, h);
  if (st != MS_OK) return st;
  int isnum;
  *value = lua_tonumberx(L, -1, &isnum);
  if (!isnum)
    st = ms_lua_pending(L, "schedule function returned %s at step %I, expected a number",
                        luaL_typename(L, -1), (lua_Integer)t);
  lua_settop(L, h - 1);
  return st;
}

/* native.schedule_fn(f): a callback schedule calling f. */
static int l_schedule_fn(lua_State *L) {
  if (lua_type(L, 1) != LUA_TFUNCTION) ms_lua_argtypeerror(L, 1, 1, "schedule_fn", "function");
  l_schedule *b = newbox(L);
  lua_pushvalue(L, 1);
  b->fref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (ms_schedule_new(call_schedule, b, NULL, &b->s) != MS_OK) ms_lua_fail(L, MS_ENOMEM);
  return 1;
}

ms_schedule *ms_lua_toschedule(lua_State *L, int idx) {
  l_schedule *b = ms_lua_testudata(L, idx, MS_LUA_SCHEDULE);
  if (b != NULL && (b->s == NULL || b->use.closed)) luaL_error(L, "schedule has been closed");
  return b != NULL ? b->s : NULL;
}

/* native.schedule_builtin(name, args vec [, parts]): the parts are held
 * (released by its __gc) in its user value. */
static int l_schedule_builtin(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING) ms_lua_argtypeerror(L, 1, 1, BUILTIN, "string");
  ms_lua_vec *args = ms_lua_checkvec(L, 2);
  if (!lua_isnoneornil(L, 3) && !lua_istable(L, 3)) ms_lua_argtypeerror(L, 3, 3, BUILTIN, "table");
  lua_settop(L, 3);
  size_t count = lua_istable(L, 3) ? ms_lua_rawlen(L, 3, 3, "parts") : 0;
  ms_schedule **parts = lua_newuserdatauv(L, (count + 1) * sizeof *parts, 0);
  l_schedule *b = newbox(L);
  lua_getiuservalue(L, -1, 1);
  for (size_t i = 0; i < count; i++) {
    lua_rawgeti(L, 3, (lua_Integer)i + 1);
    l_schedule *p = ms_lua_testudata(L, -1, MS_LUA_SCHEDULE);
    if (p == NULL || p->s == NULL || p->use.closed)
      ms_lua_argerror(L, 3, BUILTIN, "parts must be live schedules");
    parts[i] = p->s;
    ms_lua_hold(L, -1);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  lua_pop(L, 1);
  ms_status st = ms_schedule_builtin(lua_tostring(L, 1), args->x, args->n, parts, count, &b->s);
  return st == MS_OK ? 1 : ms_lua_failure(L, st);
}

/* native.schedule_values(s, t) */
static int l_schedule_values(lua_State *L) {
  l_schedule *b = ms_lua_checkkind(L, 1, MS_LUA_SCHEDULE, "schedule_values");
  lua_Integer t = ms_lua_checkint(L, 2, 2, "schedule_values");
  if (t < 1) ms_lua_argerror(L, 2, "schedule_values", "steps count from 1");
  if (b->s == NULL || b->use.closed) return ms_lua_closed(L, "schedule");
  lua_settop(L, 1);
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* a callback may close it: freed after the call */
  double v = 0;
  ms_status st = ms_schedule_value(b->s, (int64_t)t, &v);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_pushnumber(L, v);
  return 1;
}

/* Free the schedule unless something still uses it (then its last user
 * does), and let go of the parts it was made of. */
static int l_gc(lua_State *L) {
  l_schedule *b = ms_lua_checkudata(L, 1, MS_LUA_SCHEDULE);
  if (ms_lua_defer_close(&b->use)) return 0;
  ms_schedule_free(b->s);
  b->s = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, b->fref);
  b->fref = LUA_NOREF;
  /* the parts, also those of a sequence whose making failed; each once */
  lua_getiuservalue(L, 1, 1);
  for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
    if (lua_type(L, -1) == LUA_TUSERDATA) ms_lua_release(L, -1);
    lua_pop(L, 1);
    lua_pushboolean(L, 0);   /* released: not a schedule any more */
    lua_rawseti(L, -2, i);
  }
  return 0;
}

void ms_lua_open_schedule(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"schedule_builtin", l_schedule_builtin},
                                 {"schedule_fn", l_schedule_fn},
                                 {"schedule_values", l_schedule_values},
                                 {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_SCHEDULE, none, metamethods);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
