/*
 * l_server.c -- the HTTP server of ms.explore for Lua 5.4: the kind
 * "server" and the primitives server_new, server_next, server_reply over
 * core/src/server.c.  Twin for LuaJIT: bindings/ffi/momsandbox/ffi_server.lua;
 * user: lua/momsandbox/explore.lua.  Lua pulls the requests: the server
 * runs only inside server_next, on the calling thread.
 */
#include <limits.h>
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

typedef struct l_server {
  ms_server *s;
} l_server;

/* The server at 1 of fname, or NULL once closed. */
static ms_server *toserver(lua_State *L, const char *fname) {
  return ((l_server *)ms_lua_checkkind(L, 1, MS_LUA_SERVER, fname))->s;
}

/* native.server_new(max_body) -> server, port, token */
static int l_server_new(lua_State *L) {
  lua_Integer max = ms_lua_checkint(L, 1, 1, "server_new");
  if (max < 0 || max > MS_LUA_MAXLEN)
    return ms_lua_argerror(L, 1, "server_new", "max_body must be in [0, 2^30]");
  l_server *b = lua_newuserdatauv(L, sizeof *b, 0);
  b->s = NULL;
  ms_lua_setclass(L, MS_LUA_SERVER);
  ms_status st = ms_server_new((size_t)max, &b->s);
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_pushinteger(L, ms_server_port(b->s));
  lua_pushstring(L, ms_server_token(b->s));
  return 3;
}

/* native.server_next(srv, timeout_ms) -> id, method, path, body; false
 * when the time is up; nil, msg, code when closed.  Ctrl-C raises. */
static int l_server_next(lua_State *L) {
  ms_server *s = toserver(L, "server_next");
  lua_Integer ms = ms_lua_checkint(L, 2, 2, "server_next");
  if (ms < -1 || ms > INT_MAX)
    return ms_lua_argerror(L, 2, "server_next", "timeout must be in [-1, 2^31 - 1]");
  if (s == NULL) return ms_lua_closed(L, "server");
  ms_request req;
  ms_sigint_begin(0);   /* Ctrl-C ends the wait */
  ms_status st = ms_server_next(s, (int)ms, &req);
  ms_sigint_end();
  if (st != MS_OK) return ms_lua_failure(L, st);
  if (req.id == 0) {
    lua_pushboolean(L, 0);
    return 1;
  }
  lua_pushinteger(L, req.id);
  lua_pushstring(L, req.method);
  lua_pushstring(L, req.path);
  lua_pushlstring(L, req.body, req.body_len);
  return 4;
}

/* native.server_reply(srv, id, status, content_type, body) -> true, or
 * nil, msg, code */
static int l_server_reply(lua_State *L) {
  const char *F = "server_reply";
  ms_server *s = toserver(L, F);
  lua_Integer id = ms_lua_checkint(L, 2, 2, F);
  lua_Integer status = ms_lua_checkint(L, 3, 3, F);
  size_t tlen, blen;
  const char *type = lua_type(L, 4) == LUA_TSTRING ? lua_tolstring(L, 4, &tlen) : NULL;
  if (type == NULL || strlen(type) != tlen)
    return ms_lua_argerror(L, 4, F, "string without zero bytes expected");
  if (lua_type(L, 5) != LUA_TSTRING) return ms_lua_argtypeerror(L, 5, 5, F, "string");
  const char *body = lua_tolstring(L, 5, &blen);
  if (s == NULL) return ms_lua_closed(L, "server");
  if (id < 0 || id > UINT_MAX) id = 0;   /* no such request */
  if (status < 0 || status > INT_MAX) status = 0;   /* no such status */
  return ms_lua_status(L, ms_server_reply(s, (unsigned)id, (int)status, type, body, blen));
}

static int l_gc(lua_State *L) {
  l_server *b = ms_lua_checkudata(L, 1, MS_LUA_SERVER);
  ms_server_free(b->s);
  b->s = NULL;
  return 0;
}

void ms_lua_open_server(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {"__close", l_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"server_new", l_server_new},
                                 {"server_next", l_server_next},
                                 {"server_reply", l_server_reply},
                                 {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_SERVER, none, metamethods);
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
