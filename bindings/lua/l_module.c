/*
 * l_module.c -- luaopen_momsandbox and the helpers every part of the
 * Lua 5.4 native layer shares: classes, argument errors, and the path of
 * an error raised inside a Lua callback back to the caller.  Twin for
 * LuaJIT: bindings/ffi/momsandbox/ffi_core.lua and native.lua; user:
 * lua/momsandbox/api.lua.
 */
#include <stdarg.h>
#include <stdint.h>
#include <string.h>

#include "ms_lua.h"

/* Registry key of the error raised by the last failed callback. */
static const char *const pending_key = "momsandbox.pending_error";

static _Thread_local lua_State *current;

/* Registry key of the table metatable -> kind name ("vec", ...). */
static const char kinds_key[] = "momsandbox.kinds";
/* Registry key of the table kind name -> CSV writer (ms_lua_csvwriter). */
static const char csv_key[] = "momsandbox.csv";

lua_State *ms_lua_enter(lua_State *L) {
  lua_State *prev = current;
  current = L;
  return prev;
}

void ms_lua_leave(lua_State *prev) { current = prev; }

lua_State *ms_lua_current(void) { return current; }

#define DEFINE_KIND(K, name) const char MS_LUA_##K[] = "momsandbox." name;
MS_LUA_KINDS(DEFINE_KIND)

void *ms_lua_testudata(lua_State *L, int idx, const char *tname) {
  void *p = lua_touserdata(L, idx);
  if (p == NULL || !lua_getmetatable(L, idx)) return NULL;
  lua_rawgetp(L, LUA_REGISTRYINDEX, tname);
  int same = lua_rawequal(L, -1, -2);
  lua_pop(L, 2);
  return same ? p : NULL;
}

void *ms_lua_checkudata(lua_State *L, int idx, const char *tname) {
  void *p = ms_lua_testudata(L, idx, tname);
  if (p == NULL) luaL_typeerror(L, idx, tname);
  return p;
}

void *ms_lua_checkkind(lua_State *L, int arg, const char *tname, const char *fname) {
  void *p = ms_lua_testudata(L, arg, tname);
  if (p == NULL) ms_lua_argtypeerror(L, arg, arg, fname, tname);
  return p;
}

int ms_lua_closed(lua_State *L, const char *what) {
  lua_pushnil(L);
  lua_pushfstring(L, "%s has been closed", what);
  lua_pushliteral(L, "EINVAL");
  return 3;
}

const char *ms_lua_typename(lua_State *L, int idx) {
  const char *name = NULL;
  if (luaL_getmetafield(L, idx, "__name") != LUA_TNIL) {
    name = lua_tostring(L, -1);   /* kept alive by the metatable */
    lua_pop(L, 1);
  }
  return name != NULL ? name : luaL_typename(L, idx);
}

int ms_lua_argerror(lua_State *L, int n, const char *fname, const char *msg) {
  luaL_where(L, 1);
  lua_pushfstring(L, "bad argument #%d to '%s' (%s)", n, fname, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

static const char *got(lua_State *L, int arg) {
  return lua_isnone(L, arg) ? "no value" : ms_lua_typename(L, arg);
}

int ms_lua_argtypeerror(lua_State *L, int arg, int n, const char *fname,
                        const char *expected) {
  return ms_lua_argerror(L, n, fname,
                         lua_pushfstring(L, "%s expected, got %s", expected, got(L, arg)));
}

lua_Integer ms_lua_checkint(lua_State *L, int arg, int n, const char *fname) {
  int isint;
  lua_Integer v = lua_tointegerx(L, arg, &isint);
  if (isint) return v;
  if (lua_type(L, arg) == LUA_TNUMBER || (lua_type(L, arg) == LUA_TSTRING &&
                                          lua_stringtonumber(L, lua_tostring(L, arg))))
    ms_lua_argerror(L, n, fname, "number has no integer representation");
  return ms_lua_argtypeerror(L, arg, n, fname, "number");
}

lua_Number ms_lua_checknum(lua_State *L, int arg, int n, const char *fname) {
  if (lua_type(L, arg) != LUA_TNUMBER) ms_lua_argtypeerror(L, arg, n, fname, "number");
  return lua_tonumber(L, arg);
}

int ms_lua_failure(lua_State *L, ms_status st) {
  static const char *const codes[] = {"OK",        "ENOMEM", "EINVAL", "ESIZE",
                                      "ERANGE",    "ECALLBACK", "EIO", "EPARSE",
                                      "ENONFINITE", "EINTR"};
  if (st == MS_ECALLBACK || st == MS_EINTR) return ms_lua_fail(L, st);
  const char *detail = ms_last_error();
  lua_pushnil(L);
  lua_pushstring(L, *detail ? detail : ms_strerror(st));
  lua_pushstring(L, (unsigned)st < sizeof codes / sizeof *codes ? codes[st] : "EINVAL");
  return 3;
}

int ms_lua_status(lua_State *L, ms_status st) {
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_pushboolean(L, 1);
  return 1;
}

const char *ms_lua_checkpath(lua_State *L, int arg) {
  size_t len;
  const char *s = luaL_checklstring(L, arg, &len);
  luaL_argcheck(L, strlen(s) == len, arg, "contains a zero byte");
  return s;
}

void ms_lua_setclass(lua_State *L, const char *tname) {
  lua_rawgetp(L, LUA_REGISTRYINDEX, tname);
  lua_setmetatable(L, -2);
}

void ms_lua_newclass(lua_State *L, const char *tname, const luaL_Reg *methods,
                     const luaL_Reg *metamethods) {
  luaL_newmetatable(L, tname);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, tname);
  lua_rawgetp(L, LUA_REGISTRYINDEX, kinds_key);
  lua_pushvalue(L, -2);
  lua_pushstring(L, tname + strlen("momsandbox."));
  lua_rawset(L, -3);
  lua_pop(L, 1);
  luaL_setfuncs(L, metamethods, 0);
  lua_newtable(L);
  luaL_setfuncs(L, methods, 0);
  lua_setfield(L, -2, "__index");
}

/* Message handler for callbacks: keep error objects other than strings
 * (nil, numbers, tables) exactly as they are; add a traceback to messages,
 * so the error points into the user's code even after the engine has
 * unwound. */
static int msghandler(lua_State *L) {
  if (lua_type(L, 1) != LUA_TSTRING) return 1;
  luaL_traceback(L, L, lua_tostring(L, 1), 1);
  return 1;
}

int ms_lua_pushhandler(lua_State *L) {
  lua_pushcfunction(L, msghandler);
  return lua_gettop(L);
}

/* The pending error is kept boxed in a table, {error}: error(nil) and
 * error() leave nil, which must still count as an error of its own rather
 * than let an older message of the engine stand in for it. */
static void setpending(lua_State *L) {
  lua_createtable(L, 1, 0);
  lua_insert(L, -2);
  lua_rawseti(L, -2, 1);
  lua_setfield(L, LUA_REGISTRYINDEX, pending_key);
}

ms_status ms_lua_pcall(lua_State *L, int nargs, int nresults, int handler) {
  if (lua_pcall(L, nargs, nresults, handler) == LUA_OK) return MS_OK;
  setpending(L);
  lua_settop(L, handler - 1);
  return MS_ECALLBACK;
}

ms_status ms_lua_progress(void *ctx, int64_t done, int64_t total, double seconds) {
  lua_State *L = ms_lua_current();
  int h = ms_lua_pushhandler(L);
  lua_pushvalue(L, (int)(intptr_t)ctx);
  lua_pushinteger(L, (lua_Integer)done);
  lua_pushinteger(L, (lua_Integer)total);
  lua_pushnumber(L, seconds);
  ms_status st = ms_lua_pcall(L, 3, 0, h);
  if (st == MS_OK) lua_settop(L, h - 1);
  return st;
}

ms_status ms_lua_pending(lua_State *L, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  lua_pushvfstring(L, fmt, ap);
  va_end(ap);
  setpending(L);
  return MS_ECALLBACK;
}

/* ------------------------------------------------------------- Ctrl-C
 * lua.c and the momsandbox CLI stop Lua code on SIGINT with a hook that
 * raises "interrupted!" at the next call, return, line or instruction
 * (mask CALL|RET|LINE|COUNT, count 1), set on their main thread.  When
 * the engine returns MS_EINTR that hook is still pending: raised by the
 * engine's own error, it would fire again after the script's pcall had
 * caught it, and end the script.  So an interrupted engine call raises
 * the host's error itself, where it stands: in the caller's pcall, as an
 * interrupted Lua loop does. */

enum { INTERRUPT_HOOK = LUA_MASKCALL | LUA_MASKRET | LUA_MASKLINE | LUA_MASKCOUNT };

static int is_interrupt_hook(lua_State *T) {
  return lua_gethook(T) != NULL && lua_gethookmask(T) == INTERRUPT_HOOK &&
         lua_gethookcount(T) == 1;
}

static int noop(lua_State *L) {
  (void)L;
  return 0;
}

/* Run a pending interrupt hook on L now (taking it from the main thread
 * when L is a coroutine: the host set it there); it raises its error. */
static void raise_pending_interrupt(lua_State *L) {
  lua_rawgeti(L, LUA_REGISTRYINDEX, LUA_RIDX_MAINTHREAD);
  lua_State *main = lua_tothread(L, -1);
  lua_pop(L, 1);
  if (main != L && main != NULL && is_interrupt_hook(main)) {
    lua_sethook(L, lua_gethook(main), INTERRUPT_HOOK, 1);
    lua_sethook(main, NULL, 0, 0);
  }
  if (!is_interrupt_hook(L)) return;
  lua_pushcfunction(L, noop);
  lua_call(L, 0, 0);   /* the hook's call event raises */
}

int ms_lua_fail(lua_State *L, ms_status st) {
  if (st == MS_EINTR) raise_pending_interrupt(L);
  if (st == MS_ECALLBACK) {
    if (lua_getfield(L, LUA_REGISTRYINDEX, pending_key) == LUA_TTABLE) {
      lua_rawgeti(L, -1, 1);
      lua_pushnil(L);
      lua_setfield(L, LUA_REGISTRYINDEX, pending_key);
      return lua_error(L);
    }
    lua_pop(L, 1);
  }
  const char *detail = ms_last_error();
  return luaL_error(L, "%s", *detail ? detail : ms_strerror(st));
}

/* ------------------------------------------------------ table lengths */

size_t ms_lua_rawlen(lua_State *L, int arg, int idx, const char *what) {
  lua_Unsigned n = lua_rawlen(L, idx);
  if (n > MS_LUA_MAXLEN)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s has too many entries", what));
  return (size_t)n;
}

size_t ms_lua_checkproduct(lua_State *L, int arg, size_t a, size_t b,
                           const char *what) {
  if (a != 0 && b > MS_LUA_MAXLEN / a)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s is too large (%I x %I entries)",
                                          what, (lua_Integer)a, (lua_Integer)b));
  return a * b;
}

/* ------------------------------------------------------ objects in use */

void ms_lua_hold(lua_State *L, int idx) {
  ms_lua_use *u = lua_touserdata(L, idx);
  u->users++;
}

void ms_lua_release(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  ms_lua_use *u = lua_touserdata(L, idx);
  if (--u->users > 0) return;
  if (u->retired) {
    u->retired = 0;
    ms_lua_rule_idle(L, idx);
  }
  if (u->closed && luaL_callmeta(L, idx, "__gc")) lua_pop(L, 1);
}

int ms_lua_defer_close(ms_lua_use *u) {
  if (u->users == 0) return 0;
  u->closed = 1;
  return 1;
}

/* ------------------------------------------------- embedded Lua parts */

static int l_load_part(lua_State *L) {
  const ms_lua_part *part = lua_touserdata(L, lua_upvalueindex(1));
  if (luaL_loadbuffer(L, part->source, part->size, part->chunkname) != LUA_OK)
    return lua_error(L);
  lua_pushvalue(L, 1);   /* module name, as require passes it */
  lua_call(L, 1, 1);
  return 1;
}

static void register_parts(lua_State *L) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
  for (const ms_lua_part *p = ms_lua_parts; p->module != NULL; p++) {
    lua_pushlightuserdata(L, (void *)p);
    lua_pushcclosure(L, l_load_part, 1);
    lua_setfield(L, -2, p->module);
  }
  lua_pop(L, 1);
}

/* ------------------------------------------------ the native primitives
 * The user-level API is Lua (lua/momsandbox/api.lua and its parts); this
 * module gives it the primitives listed in lua/momsandbox/primitives.lua,
 * as require "momsandbox.native".  Its twin for LuaJIT is
 * bindings/ffi/momsandbox/ffi_native.lua. */

static int l_version(lua_State *L) {
  lua_pushstring(L, ms_version());
  return 1;
}

static int l_format(lua_State *L) {
  char buf[32];
  ms_format_double(buf, sizeof buf, luaL_checknumber(L, 1));
  lua_pushstring(L, buf);
  return 1;
}

/* The kind of a value made by this module ("vec", "objective", ...), from
 * its metatable, or nil. */
static int l_kind(lua_State *L) {
  if (lua_type(L, 1) != LUA_TUSERDATA || !lua_getmetatable(L, 1)) return 0;
  lua_rawgetp(L, LUA_REGISTRYINDEX, kinds_key);
  lua_pushvalue(L, -2);
  lua_rawget(L, -2);
  return 1;
}

static void checkkind(lua_State *L, int arg, const char *fname) {
  if (l_kind(L) == 0 || lua_isnil(L, -1))
    luaL_error(L, "bad argument #%d to '%s' (momsandbox object expected, got %s)", arg,
               fname, ms_lua_typename(L, arg));
}

/* native.close(h): free the engine object now (or once the calls using it
 * have ended); twice is harmless. */
static int l_close(lua_State *L) {
  checkkind(L, 1, "close");
  /* __closehandle where a kind closes otherwise than it is collected (data
   * sets, models: objectives made of them keep them) */
  if (luaL_callmeta(L, 1, "__closehandle") || luaL_callmeta(L, 1, "__gc")) lua_pop(L, 1);
  return 0;
}

/* native.class(kind, mt): add the shared Lua's fields of mt (methods in
 * mt.__index, metamethods) to the metatable of the kind.  A field this
 * module set already stays and is an error to give again: a native method
 * and a shared one of the same name would be two truths. */
static void merge(lua_State *L, int to, int from, const char *kind) {
  lua_pushnil(L);
  while (lua_next(L, from) != 0) {
    lua_pushvalue(L, -2);
    if (lua_rawget(L, to) != LUA_TNIL)
      luaL_error(L, "class '%s': field '%s' is native", kind, lua_tostring(L, -3));
    lua_pop(L, 1);
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_rawset(L, to);
  }
}

static int l_class(lua_State *L) {
  const char *kind = luaL_checkstring(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  if (luaL_getmetatable(L, lua_pushfstring(L, "momsandbox.%s", kind)) != LUA_TTABLE)
    return luaL_argerror(L, 1, "no such kind");
  int mt = lua_gettop(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, "momsandbox.classes");
  if (lua_getfield(L, -1, kind) != LUA_TNIL)
    return luaL_error(L, "class '%s' is set already", kind);
  lua_pushboolean(L, 1);
  lua_setfield(L, -3, kind);
  lua_settop(L, mt);
  lua_getfield(L, 2, "__index");
  lua_getfield(L, mt, "__index");
  if (lua_istable(L, -1) && lua_istable(L, -2)) {
    merge(L, lua_gettop(L), lua_gettop(L) - 1, kind);
    lua_pushnil(L);
    lua_setfield(L, 2, "__index");
  }
  lua_settop(L, mt);
  merge(L, mt, 2, kind);
  return 1;
}

void ms_lua_csvwriter(lua_State *L, const char *kind, lua_CFunction writer) {
  luaL_getsubtable(L, LUA_REGISTRYINDEX, csv_key);
  lua_pushcfunction(L, writer);
  lua_setfield(L, -2, kind);
  lua_pop(L, 1);
}

/* native.write_csv(h, path [, header]): the CSV writer of h's kind. */
static int l_write_csv(lua_State *L) {
  lua_settop(L, 3);
  size_t len;
  const char *path = lua_type(L, 2) == LUA_TSTRING ? lua_tolstring(L, 2, &len) : NULL;
  luaL_getsubtable(L, LUA_REGISTRYINDEX, csv_key);
  int base = lua_gettop(L);
  if (l_kind(L) == 0 || lua_rawget(L, base) != LUA_TFUNCTION)
    return ms_lua_argerror(L, 1, "write_csv", "no CSV for this value");
  if (path == NULL || strlen(path) != len)
    return ms_lua_argerror(L, 2, "write_csv", "path must be a string without zero bytes");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_pushvalue(L, 3);
  lua_call(L, 3, LUA_MULTRET);
  return lua_gettop(L) - base - 2;
}

static void open_native(lua_State *L) {
  static const luaL_Reg fns[] = {{"version", l_version}, {"format", l_format},
                                 {"kind", l_kind},       {"close", l_close},
                                 {"class", l_class},     {"write_csv", l_write_csv},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
  lua_pushinteger(L, ms_abi_version());
  lua_setfield(L, -2, "abi");
  lua_pushliteral(L, "lua54");
  lua_setfield(L, -2, "layer");
}

/* What only this interpreter's users get (native.extras): nothing under
 * Lua 5.4; LuaJIT's layer gives ms.ffi. */
static void open_extras(lua_State *L) {
  lua_newtable(L);
  lua_setfield(L, -2, "extras");
}

/* require "momsandbox": the primitives become "momsandbox.native", and
 * the module is the shared Lua's "momsandbox.api" built on them. */
int luaopen_momsandbox(lua_State *L) {
  luaL_checkversion(L);
  register_parts(L);
  lua_newtable(L);
  lua_newtable(L);
  lua_rawsetp(L, LUA_REGISTRYINDEX, kinds_key);
  open_native(L);
#define OPEN(part) ms_lua_open_##part(L);
  MS_LUA_PARTS(OPEN)
  open_extras(L);
  luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_LOADED_TABLE);
  lua_pushvalue(L, -2);
  lua_setfield(L, -2, "momsandbox.native");
  lua_getglobal(L, "require");
  lua_pushliteral(L, "momsandbox.api");
  lua_call(L, 1, 1);
  return 1;
}
