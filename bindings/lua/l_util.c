/*
 * l_util.c -- the primitive sys(op, ...) for Lua 5.4: the system services
 * of core/src/system.c (clock, isatty, mkdir, which, write, run).  Twin for
 * LuaJIT: bindings/ffi/momsandbox/ffi_util.lua; users: lua/momsandbox/util.lua
 * (ms.util), explore.lua (start: the browser).  No string reaches a shell:
 * run and start take an argv.
 */
#include <limits.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

#define PROCESS_TNAME "momsandbox.process"

/* The string at idx (argument n of sys), without zero bytes. */
static const char *cstring(lua_State *L, int idx, int n) {
  size_t len;
  const char *s = lua_type(L, idx) == LUA_TSTRING ? lua_tolstring(L, idx, &len) : NULL;
  if (s == NULL || strlen(s) != len)
    ms_lua_argerror(L, n, "sys", "string without zero bytes expected");
  return s;
}

/* The strings of the table at idx (raw entries 1 .. raw length) as a
 * NULL-terminated array in a userdata pushed on the stack; the table keeps
 * the strings alive. */
static const char **checkargv(lua_State *L, int idx) {
  if (!lua_istable(L, idx)) ms_lua_argtypeerror(L, idx, 2, "sys", "table");
  size_t n = lua_rawlen(L, idx);
  if (n < 1 || n >= 65536) ms_lua_argerror(L, 2, "sys", "argv must hold 1 to 65535 strings");
  const char **argv = lua_newuserdatauv(L, (n + 1) * sizeof *argv, 0);
  for (size_t i = 0; i < n; i++) {
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    argv[i] = cstring(L, -1, 2);
    lua_pop(L, 1);
  }
  argv[n] = NULL;
  return argv;
}

/* sys "run": ok, status, out, err, or nil and why.  The ms_process is a
 * to-be-closed userdata: what the program wrote is freed however this
 * ends (a memory error while pushing it). */
static int run(lua_State *L) {
  const char **argv = checkargv(L, 2);
  if (lua_type(L, 3) != LUA_TSTRING) ms_lua_argtypeerror(L, 3, 3, "sys", "string");
  size_t inlen;
  const char *in = lua_tolstring(L, 3, &inlen);
  ms_process *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, PROCESS_TNAME);
  lua_toclose(L, -1);
  ms_status st = ms_run(argv, in, inlen, p);
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_pushboolean(L, p->ok);
  lua_pushinteger(L, p->status);
  lua_pushlstring(L, p->out != NULL ? p->out : "", p->out_len);
  lua_pushlstring(L, p->err != NULL ? p->err : "", p->err_len);
  return 4;
}

static int process_close(lua_State *L) {
  ms_process *p = luaL_testudata(L, 1, PROCESS_TNAME);
  if (p != NULL) ms_process_free(p);
  return 0;
}

/* native.sys(op, ...) */
static int l_sys(lua_State *L) {
  const char *op = cstring(L, 1, 1);
  ms_status st = MS_OK;
  if (strcmp(op, "clock") == 0) {
    lua_pushnumber(L, ms_clock());
    return 1;
  } else if (strcmp(op, "isatty") == 0) {
    lua_Integer fd = ms_lua_checkint(L, 2, 2, "sys");
    if (fd < 0 || fd > INT_MAX) ms_lua_argerror(L, 2, "sys", "not a file descriptor");
    lua_pushboolean(L, ms_isatty((int)fd));
    return 1;
  } else if (strcmp(op, "which") == 0) {
    char path[4096];
    if (ms_which(cstring(L, 2, 2), path, sizeof path)) lua_pushstring(L, path);
    else lua_pushnil(L);
    return 1;
  } else if (strcmp(op, "run") == 0) {
    return run(L);
  } else if (strcmp(op, "start") == 0) {
    st = ms_start(checkargv(L, 2));
  } else if (strcmp(op, "mkdir") == 0) {
    st = ms_mkdir(cstring(L, 2, 2));
  } else if (strcmp(op, "write") == 0) {
    const char *path = cstring(L, 2, 2);
    if (lua_type(L, 3) != LUA_TSTRING) ms_lua_argtypeerror(L, 3, 3, "sys", "string");
    st = ms_write_file(path, lua_tostring(L, 3), lua_rawlen(L, 3));
  } else {
    return ms_lua_argerror(L, 1, "sys", "unknown operation");
  }
  return ms_lua_status(L, st);
}

void ms_lua_open_util(lua_State *L) {
  static const luaL_Reg process_meta[] = {
      {"__close", process_close}, {"__gc", process_close}, {NULL, NULL}};
  luaL_newmetatable(L, PROCESS_TNAME);
  luaL_setfuncs(L, process_meta, 0);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_sys);
  lua_setfield(L, -2, "sys");
}
