/*
 * l_rng.c -- ms.rng(seed): the engine's random number generator in Lua,
 * drawing the very numbers the engine draws (xoshiro256** seeded by
 * splitmix64), so that a Lua loop can replay a C run exactly.
 */
#include "ms_lua.h"

static ms_rng *checkrng(lua_State *L, int arg) {
  return ms_lua_checkudata(L, arg, MS_LUA_RNG);
}

/* ms.rng(seed): any integer; the same seed, the same stream.  A negative
 * seed is its 64-bit two's complement (-1 is 2^64 - 1), as under LuaJIT. */
static int l_rng_new(lua_State *L) {
  lua_Integer seed = luaL_checkinteger(L, 1);
  ms_rng *rng = lua_newuserdatauv(L, sizeof *rng, 0);
  ms_lua_setclass(L, MS_LUA_RNG);
  ms_rng_seed(rng, (uint64_t)seed);
  return 1;
}

static int l_seed(lua_State *L) {
  ms_rng_seed(checkrng(L, 1), (uint64_t)luaL_checkinteger(L, 2));
  lua_settop(L, 1);
  return 1;
}

/* rng:next(): the next 64 raw bits, as a (possibly negative) integer */
static int l_next(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)ms_rng_next(checkrng(L, 1)));
  return 1;
}

static int l_uniform(lua_State *L) {
  lua_pushnumber(L, ms_rng_uniform(checkrng(L, 1)));
  return 1;
}

static int l_normal(lua_State *L) {
  lua_pushnumber(L, ms_rng_normal(checkrng(L, 1)));
  return 1;
}

/* rng:below(n): an integer in [0, n), unbiased */
static int l_below(lua_State *L) {
  ms_rng *rng = checkrng(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 1, 2, "n must be >= 1");
  lua_pushinteger(L, (lua_Integer)ms_rng_below(rng, (uint64_t)n));
  return 1;
}

/* rng:shuffle(t): permute t[1 .. #t] in place with the swaps that
 * ms_rng_shuffle makes on an array of the same length; returns t. */
static int l_shuffle(lua_State *L) {
  ms_rng *rng = checkrng(L, 1);
  luaL_checktype(L, 2, LUA_TTABLE);
  for (lua_Integer i = (lua_Integer)lua_rawlen(L, 2); i > 1; i--) {
    lua_Integer j = (lua_Integer)ms_rng_below(rng, (uint64_t)i) + 1;
    lua_geti(L, 2, i);
    lua_geti(L, 2, j);
    lua_seti(L, 2, i);
    lua_seti(L, 2, j);
  }
  lua_settop(L, 2);
  return 1;
}

static int l_tostring(lua_State *L) {
  checkrng(L, 1);
  lua_pushfstring(L, "rng (%p)", lua_topointer(L, 1));
  return 1;
}

static const luaL_Reg methods[] = {
    {"seed", l_seed},     {"next", l_next},   {"uniform", l_uniform},
    {"normal", l_normal}, {"below", l_below}, {"shuffle", l_shuffle},
    {NULL, NULL}};

static const luaL_Reg metamethods[] = {{"__tostring", l_tostring},
                                       {NULL, NULL}};

void ms_lua_open_rng(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_RNG, methods, metamethods);
  lua_pop(L, 1);
  lua_pushcfunction(L, l_rng_new);
  lua_setfield(L, -2, "rng");
}
