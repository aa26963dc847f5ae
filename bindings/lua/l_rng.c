/*
 * l_rng.c -- the engine's random number generator as a native kind "rng"
 * with its methods, for lua/momsandbox/rng.lua (ms.rng, rng:shuffle).
 * Twin for LuaJIT: bindings/ffi/momsandbox/ffi_rng.lua.  It draws the very
 * numbers the engine draws (xoshiro256** seeded by splitmix64), so that a
 * Lua loop can replay a C run exactly.
 */
#include "ms_lua.h"

static ms_rng *checkrng(lua_State *L, const char *fname) {
  ms_rng *rng = ms_lua_testudata(L, 1, MS_LUA_RNG);
  if (rng == NULL)
    luaL_error(L, "calling '%s' on bad self (momsandbox.rng expected, got %s)", fname,
               lua_isnone(L, 1) ? "no value" : ms_lua_typename(L, 1));
  return rng;
}

/* native.rng_new(seed): a negative seed is its 64-bit two's complement
 * (-1 is 2^64 - 1), as under LuaJIT. */
static int l_rng_new(lua_State *L) {
  uint64_t seed = (uint64_t)ms_lua_checkint(L, 1, 1, "rng");
  ms_rng *rng = lua_newuserdatauv(L, sizeof *rng, 0);
  ms_lua_setclass(L, MS_LUA_RNG);
  ms_rng_seed(rng, seed);
  return 1;
}

static int l_seed(lua_State *L) {
  ms_rng *rng = checkrng(L, "seed");
  ms_rng_seed(rng, (uint64_t)ms_lua_checkint(L, 2, 1, "seed"));
  lua_settop(L, 1);
  return 1;
}

/* rng:next(): the next 64 raw bits, as a (possibly negative) integer */
static int l_next(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)ms_rng_next(checkrng(L, "next")));
  return 1;
}

static int l_uniform(lua_State *L) {
  lua_pushnumber(L, ms_rng_uniform(checkrng(L, "uniform")));
  return 1;
}

static int l_normal(lua_State *L) {
  lua_pushnumber(L, ms_rng_normal(checkrng(L, "normal")));
  return 1;
}

/* rng:below(n): an integer in [0, n), unbiased */
static int l_below(lua_State *L) {
  ms_rng *rng = checkrng(L, "below");
  lua_Integer n = ms_lua_checkint(L, 2, 1, "below");
  if (n < 1) ms_lua_argerror(L, 1, "below", "n must be >= 1");
  lua_pushinteger(L, (lua_Integer)ms_rng_below(rng, (uint64_t)n));
  return 1;
}

void ms_lua_open_rng(lua_State *L) {
  static const luaL_Reg methods[] = {
      {"seed", l_seed},     {"next", l_next},   {"uniform", l_uniform},
      {"normal", l_normal}, {"below", l_below}, {NULL, NULL}};
  static const luaL_Reg none[] = {{NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_RNG, methods, none);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_rng_new);
  lua_setfield(L, -2, "rng_new");
}
