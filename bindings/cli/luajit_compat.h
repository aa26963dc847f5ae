/*
 * luajit_compat.h -- what cli.c uses of the Lua 5.4 C API, over LuaJIT's
 * Lua 5.1 API, so that one source is both the `momsandbox` command (Lua
 * 5.4, the C module linked in) and `momsandbox-jit` (LuaJIT, the FFI
 * module loaded by require).  Included by cli.c only, for MS_CLI_LUAJIT.
 */
#ifndef MS_LUAJIT_COMPAT_H
#define MS_LUAJIT_COMPAT_H

#include "luajit.h"

#define MS_CLI_INTERPRETER "LuaJIT"
#define MS_CLI_COPYRIGHT LUAJIT_VERSION " -- " LUAJIT_COPYRIGHT
#define LUA_VERSUFFIX ""   /* LuaJIT reads LUA_INIT only */

#define lua_rawlen(L, i) lua_objlen(L, (i))
#define lua_pushglobaltable(L) lua_pushvalue(L, LUA_GLOBALSINDEX)
#define luaL_checkversion(L) ((void)(L))

/* luaL_tolstring of 5.2+: the global tostring's result. */
static const char *luaL_tolstring(lua_State *L, int idx, size_t *len) {
  lua_pushvalue(L, idx);
  lua_getglobal(L, "tostring");
  lua_insert(L, -2);
  lua_call(L, 1, 1);
  return lua_tolstring(L, -1, len);
}

#endif
