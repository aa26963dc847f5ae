/*
 * l_util.c -- ms.util: the few system services the pure-Lua parts need and
 * Lua's standard library lacks.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "ms_lua.h"

/* ms.util.mkdir(path): create a folder and its parents (mkdir -p). */
static int l_mkdir(lua_State *L) {
  size_t len;
  const char *path = luaL_checklstring(L, 1, &len);
  luaL_Buffer b;
  char *p = luaL_buffinitsize(L, &b, len + 1);
  memcpy(p, path, len + 1);
  for (size_t i = 1; i <= len; i++) {
    if (p[i] != '/' && p[i] != '\0') continue;
    char c = p[i];
    p[i] = '\0';
    if (mkdir(p, 0777) != 0 && errno != EEXIST)
      return luaL_error(L, "cannot create folder %s: %s", p, strerror(errno));
    p[i] = c;
  }
  struct stat st;
  if (stat(path, &st) != 0 || !S_ISDIR(st.st_mode))
    return luaL_error(L, "cannot create folder %s: not a folder", path);
  lua_pushstring(L, path);
  return 1;
}

/* ms.util.clock(): seconds on a monotonic clock, for timing. */
static int l_clock(lua_State *L) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  lua_pushnumber(L, (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec);
  return 1;
}

static const luaL_Reg util[] = {
    {"mkdir", l_mkdir}, {"clock", l_clock}, {NULL, NULL}};

void ms_lua_open_util(lua_State *L) {
  luaL_newlib(L, util);
  lua_setfield(L, -2, "util");
}
