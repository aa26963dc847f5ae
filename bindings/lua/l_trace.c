/*
 * l_trace.c -- the native part of ms.trace under Lua 5.4: the kind
 * "trace", the primitives trace_run, trace_get and trace_info, and the
 * writer of write_csv for traces.  Twin of bindings/ffi/momsandbox/ffi_trace.lua;
 * used by lua/momsandbox/trace.lua, which has the API and the messages.
 */
#include "momsandbox_host.h"
#include "ms_lua.h"

typedef struct l_trace {
  ms_trace *tr;
} l_trace;

static ms_trace *checktrace(lua_State *L, const char *fname) {
  l_trace *t = ms_lua_checkkind(L, 1, MS_LUA_TRACE, fname);
  if (t->tr == NULL) {
    lua_pushliteral(L, "trace has been closed");   /* no position: as LuaJIT's */
    lua_error(L);
  }
  return t->tr;
}

/* nil, msg, n: argument n of ms.trace is wrong (0: no argument). */
static int bad(lua_State *L, int n, const char *msg) {
  lua_pushnil(L);
  lua_pushstring(L, msg);
  lua_pushinteger(L, n);
  return 3;
}

/* Option key of the table at idx, into *v when an integer (nil: *v as it
 * is); 0 for anything else.  Counts it in *found when given. */
static int optint(lua_State *L, int idx, const char *key, int64_t *v, int *found) {
  int type = lua_getfield(L, idx, key), isint = 1;
  if (type != LUA_TNIL) {
    lua_Integer i = lua_tointegerx(L, -1, &isint);
    isint = isint && type == LUA_TNUMBER;
    *v = (int64_t)i;
    ++*found;
  }
  lua_pop(L, 1);
  return isint;
}

/* ms.trace's options at idx into *o, with x0 pushed, when that table
 * has no metatable and no key but x0 (required), steps and every
 * (integers or nil: the engine's defaults); else 0. */
static int plain_opts(lua_State *L, int idx, ms_trace_opts *o) {
  if (!lua_istable(L, idx) || lua_getmetatable(L, idx)) return 0;
  int keys = 0, found = 1;
  for (lua_pushnil(L); keys <= 3 && lua_next(L, idx); keys++) lua_pop(L, 1);
  ms_trace_opts_init(o);
  return optint(L, idx, "steps", &o->steps, &found) &&
         optint(L, idx, "every", &o->every, &found) &&
         lua_getfield(L, idx, "x0") != LUA_TNIL && keys == found;
}

/* x0 of at most 16 plain numbers and nothing else, read from a table into
 * room (no vector made, which would cost a tenth of a short run), or NULL. */
enum { SMALL_X0 = 16 };
static const double *small_x0(lua_State *L, int idx, double *room, size_t *n) {
  if (lua_type(L, idx) != LUA_TTABLE) return NULL;
  lua_Unsigned len = lua_rawlen(L, idx);
  if (len == 0 || len > SMALL_X0) return NULL;
  int plain = 1, top = lua_gettop(L);
  for (lua_Unsigned i = 0; i < len && plain; i++) {
    plain = lua_rawgeti(L, idx, (lua_Integer)i + 1) == LUA_TNUMBER;
    room[i] = lua_tonumber(L, -1);
    lua_pop(L, 1);
  }
  lua_pushinteger(L, (lua_Integer)len);   /* a key after the last entry */
  if (plain && lua_next(L, idx)) plain = 0;
  lua_settop(L, top);
  if (!plain) return NULL;
  *n = (size_t)len;
  return room;
}

/* native.trace_run(obj, rule, opts) */
static int l_trace_run(lua_State *L) {
  ms_objective *obj = ms_lua_toobjective(L, 1);
  if (obj == NULL) return bad(L, 1, "objective has been closed");
  ms_rule *rule = ms_lua_torule(L, 2);
  if (rule == NULL) return bad(L, 2, "rule has been closed");
  ms_trace_opts opts;
  if (!plain_opts(L, 3, &opts)) return bad(L, 3, "options to check");
  int x0 = lua_gettop(L);
  double x0room[SMALL_X0];
  size_t n = 0;
  const double *x = small_x0(L, x0, x0room, &n);
  if (x == NULL) {
    ms_lua_vec *v = ms_lua_testudata(L, x0, MS_LUA_VEC);
    if (v == NULL || v->dead) return bad(L, 3, "x0 to check");
    x = v->x;
    n = v->n;
  }
  if (((ms_lua_use *)lua_touserdata(L, 2))->users > 0)
    return bad(L, 0, "rule is in use by a running step");
  if (ms_trace_check(obj, x, n, &opts) != MS_OK) return bad(L, 3, ms_last_error());
  l_trace *t = lua_newuserdatauv(L, sizeof *t, 2);
  t->tr = NULL;
  ms_lua_setclass(L, MS_LUA_TRACE);
  ms_lua_pushlabel(L, 2);
  lua_setiuservalue(L, -2, 1);
  lua_pushvalue(L, 1);
  lua_setiuservalue(L, -2, 2);
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* closed during the run: freed after it */
  ms_lua_hold(L, 2);
  ms_sigint_begin(0);   /* Ctrl-C reaches the C loop too */
  ms_status st = ms_trace_run(obj, rule, x, n, &opts, &t->tr);
  ms_sigint_end();
  ms_lua_release(L, 2);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_failure(L, st);
  /* The collector sees a small box, not the trajectory the engine holds:
   * pay for that memory as if Lua had allocated it, or thousands of
   * dead traces pile up between cycles (a 1000-step trace ran 2x slower
   * from fresh pages alone). */
  size_t kb = ms_trace_len(t->tr) * (ms_trace_dim(t->tr) + 2) * sizeof(double) / 1024;
  if (kb > 0) lua_gc(L, LUA_GCSTEP, (int)(kb < 1 << 20 ? kb : 1 << 20));
  return 1;
}

/* native.trace_get(tr, i [, j]): step, f and point i (negative: from the
 * end), nothing out of range; j = 0: no point, j >= 1: its coordinate j. */
static int l_trace_get(lua_State *L) {
  ms_trace *tr = checktrace(L, "trace_get");
  lua_Integer i = ms_lua_checkint(L, 2, 2, "trace_get");
  lua_Integer j = lua_isnoneornil(L, 3) ? -1 : ms_lua_checkint(L, 3, 3, "trace_get");
  lua_Integer len = (lua_Integer)ms_trace_len(tr), n = (lua_Integer)ms_trace_dim(tr);
  if (i < 0) i += len + 1;
  if (i < 1 || i > len || j > n) return 0;
  lua_pushinteger(L, (lua_Integer)ms_trace_step(tr, (size_t)i - 1));
  lua_pushnumber(L, ms_trace_value(tr, (size_t)i - 1));
  const double *x = ms_trace_point(tr, (size_t)i - 1);
  if (j == 0) return 2;
  if (j > 0)
    lua_pushnumber(L, x[j - 1]);
  else
    ms_lua_pushcopy(L, x, (size_t)n);
  return 3;
}

/* native.trace_info(tr): len, dim, diverged step (0: none), reason|nil,
 * and the label and objective given to trace_run. */
static int l_trace_info(lua_State *L) {
  ms_trace *tr = checktrace(L, "trace_info");
  lua_pushinteger(L, (lua_Integer)ms_trace_len(tr));
  lua_pushinteger(L, (lua_Integer)ms_trace_dim(tr));
  lua_pushinteger(L, (lua_Integer)ms_trace_diverged(tr));
  if (ms_trace_diverged(tr)) lua_pushstring(L, ms_trace_reason(tr));
  else lua_pushnil(L);
  lua_getiuservalue(L, 1, 1);
  lua_getiuservalue(L, 1, 2);
  return 6;
}

/* The writer of native.write_csv for traces (path checked there). */
static int trace_csv(lua_State *L) {
  return ms_lua_status(L, ms_trace_write_csv(checktrace(L, "write_csv"), lua_tostring(L, 2)));
}

static int l_gc(lua_State *L) {
  l_trace *t = ms_lua_checkudata(L, 1, MS_LUA_TRACE);
  ms_trace_free(t->tr);
  t->tr = NULL;
  return 0;
}

void ms_lua_open_trace(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {"__close", l_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"trace_run", l_trace_run},   {"trace_get", l_trace_get},
                                 {"trace_info", l_trace_info}, {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_TRACE, none, metamethods);
  lua_pushnil(L);   /* fields are the shared Lua's __index */
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
  ms_lua_csvwriter(L, "trace", trace_csv);
}
