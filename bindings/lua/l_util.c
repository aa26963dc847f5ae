/*
 * l_util.c -- ms.util: the few system services the pure-Lua parts need and
 * Lua's standard library lacks (core/src/system.c, shared with the LuaJIT
 * binding), with Lua's argument checks.
 */
#include <string.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

#define PROCESS_TNAME "momsandbox.util.process"

/* ms.util.mkdir(path): create a folder and its parents (mkdir -p). */
static int l_mkdir(lua_State *L) {
  const char *path = ms_lua_checkpath(L, 1);
  if (ms_mkdir(path) != MS_OK) return luaL_error(L, "%s", ms_last_error());
  lua_pushstring(L, path);
  return 1;
}

/* ms.util.clock(): seconds on a monotonic clock, for timing. */
static int l_clock(lua_State *L) {
  lua_pushnumber(L, ms_clock());
  return 1;
}

/* ms.util.isatty(fileno): is the descriptor a terminal? (0 stdin, 1 stdout) */
static int l_isatty(lua_State *L) {
  lua_Integer fd = luaL_checkinteger(L, 1);
  luaL_argcheck(L, fd >= 0 && fd <= 0x7fffffff, 1, "not a file descriptor");
  lua_pushboolean(L, ms_isatty((int)fd));
  return 1;
}

/* ms.util.which(name): the full path of the program name, or nil. */
static int l_which(lua_State *L) {
  const char *name = ms_lua_checkpath(L, 1);
  luaL_argcheck(L, name[0] != '\0', 1, "empty program name");
  char path[4096];
  if (ms_which(name, path, sizeof path)) lua_pushstring(L, path);
  else lua_pushnil(L);
  return 1;
}

/* The strings of the table argv as a NULL-terminated array; the strings
 * stay on the stack while the array is in use. */
static const char **checkargv(lua_State *L, int arg) {
  luaL_checktype(L, arg, LUA_TTABLE);
  lua_Integer n = luaL_len(L, arg);
  luaL_argcheck(L, n >= 1, arg, "argv must hold at least the program name");
  luaL_argcheck(L, n < 65536, arg, "too many arguments");
  luaL_checkstack(L, (int)n + 4, "too many arguments");
  const char **argv = lua_newuserdatauv(L, ((size_t)n + 1) * sizeof *argv, 0);
  for (lua_Integer i = 1; i <= n; i++) {
    size_t len;
    const char *s = lua_rawgeti(L, arg, i) == LUA_TSTRING
                        ? lua_tolstring(L, -1, &len) : NULL;
    if (s == NULL || strlen(s) != len)
      luaL_argerror(L, arg, lua_pushfstring(L, "argv[%I] must be a string "
                                           "without zero bytes", i));
    argv[i - 1] = s;
  }
  argv[n] = NULL;
  return argv;
}

/* ms.util.run(argv [, input]): run the program argv[1] (looked up in PATH)
 * with the arguments argv[2..], directly, without a shell; write input to
 * its stdin; wait for it.  Returns ok, status, stdout, stderr: ok is true
 * when it exited with status 0; status is its exit status, or minus the
 * number of the signal that killed it.  When it cannot be run at all:
 * nil and a message ("gnuplot: not found"). */
static int l_run(lua_State *L) {
  size_t inlen;
  const char *in = luaL_optlstring(L, 2, "", &inlen);
  lua_settop(L, 2);
  const char **argv = checkargv(L, 1);
  /* to be closed: what the program wrote is freed however l_run ends */
  ms_process *p = lua_newuserdatauv(L, sizeof *p, 0);
  memset(p, 0, sizeof *p);
  luaL_setmetatable(L, PROCESS_TNAME);
  lua_toclose(L, -1);
  if (ms_run(argv, in, inlen, p) != MS_OK) {
    lua_pushnil(L);
    lua_pushstring(L, ms_last_error());
    return 2;
  }
  lua_pushboolean(L, p->ok);
  lua_pushinteger(L, p->status);
  lua_pushlstring(L, p->out != NULL ? p->out : "", p->out_len);
  lua_pushlstring(L, p->err != NULL ? p->err : "", p->err_len);
  return 4;
}

static int process_close(lua_State *L) {
  ms_process_free(luaL_checkudata(L, 1, PROCESS_TNAME));
  return 0;
}

/* ms.util.write(path, text): a file written as ms_write_file writes it
 * (whole or not at all, through symbolic links; devices in place). */
static int l_write(lua_State *L) {
  const char *path = ms_lua_checkpath(L, 1);
  size_t size;
  const char *text = luaL_checklstring(L, 2, &size);
  if (ms_write_file(path, text, size) != MS_OK)
    return luaL_error(L, "%s", ms_last_error());
  return 0;
}

/* ms.util.format(x): the shortest decimal that reads back as x exactly,
 * for CSV files that are both exact and readable. */
static int l_format(lua_State *L) {
  char buf[32];
  ms_format_double(buf, sizeof buf, luaL_checknumber(L, 1));
  lua_pushstring(L, buf);
  return 1;
}

static const luaL_Reg util[] = {
    {"mkdir", l_mkdir},   {"clock", l_clock},     {"isatty", l_isatty},
    {"which", l_which},   {"run", l_run},         {"write", l_write},
    {"format", l_format}, {NULL, NULL}};

static const luaL_Reg process_meta[] = {
    {"__close", process_close}, {"__gc", process_close}, {NULL, NULL}};

void ms_lua_open_util(lua_State *L) {
  luaL_newmetatable(L, PROCESS_TNAME);
  luaL_setfuncs(L, process_meta, 0);
  lua_pop(L, 1);
  luaL_newlib(L, util);
  lua_setfield(L, -2, "util");
}
