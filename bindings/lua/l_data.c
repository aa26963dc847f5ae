/*
 * l_data.c -- the data-set primitives for Lua 5.4 (data_new, data_get,
 * data_info, data_dirs and the kind "data": lua/momsandbox/primitives.lua).
 * Twin for LuaJIT: bindings/ffi/momsandbox/ffi_data.lua.  User:
 * lua/momsandbox/data.lua (ms.data).
 */
#include <string.h>

#include "ms_lua.h"

typedef struct l_data {
  ms_lua_use use;   /* first: the runs using it (ms_lua_hold) */
  ms_data *data;
  int closed;       /* by native.close: refused, freed with the box, which
                       objectives made of it keep alive */
} l_data;

/* The data set at arg of fname, or NULL when it has been closed. */
static ms_data *todata(lua_State *L, int arg, const char *fname) {
  l_data *b = ms_lua_checkkind(L, arg, MS_LUA_DATA, fname);
  return b->closed || b->use.closed ? NULL : b->data;
}

ms_data *ms_lua_checkdata(lua_State *L, int arg) {
  ms_data *data = todata(L, arg, "data");
  if (data == NULL) {
    lua_pushliteral(L, "data set has been closed");   /* no position: as LuaJIT's */
    lua_error(L);
  }
  return data;
}

/* data_new("load", path, header, label, standardize, rows, max_bytes),
 * ("from", X, y, n, d), ("synthetic", w, b, noise, n, seed) */
static int l_data_new(lua_State *L) {
  const char *fname = "data_new", *how = lua_tostring(L, 1);
  l_data *b = lua_newuserdatauv(L, sizeof *b, 0);   /* before the engine object */
  memset(b, 0, sizeof *b);
  ms_lua_setclass(L, MS_LUA_DATA);
  ms_status st;
  if (how != NULL && strcmp(how, "load") == 0) {
    ms_data_opts o;
    ms_data_opts_init(&o);
    const char *path = ms_lua_checkpath(L, 2);
    if (!lua_isnoneornil(L, 3)) o.header = lua_toboolean(L, 3);
    if (lua_type(L, 4) == LUA_TSTRING) o.label_name = lua_tostring(L, 4);
    else if (!lua_isnoneornil(L, 4)) o.label = ms_lua_checkint(L, 4, 4, fname);
    if (!lua_isnoneornil(L, 5)) o.standardize = lua_toboolean(L, 5);
    if (!lua_isnoneornil(L, 6)) o.rows = ms_lua_checkint(L, 6, 6, fname);
    if (!lua_isnoneornil(L, 7)) o.max_bytes = ms_lua_checkint(L, 7, 7, fname);
    st = ms_data_load(path, &o, &b->data);
  } else if (how != NULL && strcmp(how, "from") == 0) {
    ms_lua_vec *X = ms_lua_checkvec(L, 2), *y = ms_lua_checkvec(L, 3);
    lua_Integer n = ms_lua_checkint(L, 4, 4, fname), d = ms_lua_checkint(L, 5, 5, fname);
    if (n < 1 || d < 1 || (size_t)n != y->n || (size_t)d > X->n / (size_t)n ||
        (size_t)n * (size_t)d != X->n)
      return ms_lua_argerror(L, 2, fname, "X and y must hold n x d features and n labels");
    st = ms_data_new(X->x, y->x, (size_t)n, (size_t)d, &b->data);
  } else if (how != NULL && strcmp(how, "synthetic") == 0) {
    ms_lua_vec *w = ms_lua_checkvec(L, 2);
    double bias = ms_lua_checknum(L, 3, 3, fname), noise = ms_lua_checknum(L, 4, 4, fname);
    lua_Integer n = ms_lua_checkint(L, 5, 5, fname), seed = ms_lua_checkint(L, 6, 6, fname);
    if (n < 1 || w->n == 0)
      return ms_lua_argerror(L, 2, fname, "w, b, noise, n >= 1 and seed expected");
    st = ms_data_synthetic(w->x, w->n, bias, noise, (size_t)n, (uint64_t)seed, &b->data);
  } else {
    return ms_lua_argerror(L, 1, fname, "\"load\", \"from\" or \"synthetic\" expected");
  }
  return st == MS_OK ? 1 : ms_lua_failure(L, st);
}

/* data_get(d, i [, j]): example i's features (a new vec) and label, or
 * its column j; nothing out of range. */
static int l_data_get(lua_State *L) {
  ms_data *data = todata(L, 1, "data_get");
  if (data == NULL) return ms_lua_closed(L, "data set");
  lua_Integer i = ms_lua_checkint(L, 2, 2, "data_get");
  size_t d = ms_data_features(data);
  if (i < 1 || (size_t)i > ms_data_len(data)) return 0;
  const double *row = ms_data_row(data, (size_t)i - 1);
  double y = ms_data_label(data, (size_t)i - 1);
  if (lua_isnoneornil(L, 3)) {
    ms_lua_pushcopy(L, row, d);
    lua_pushnumber(L, y);
    return 2;
  }
  lua_Integer j = ms_lua_checkint(L, 3, 3, "data_get");
  if (j < 1 || (size_t)j > d + 1) return 0;
  lua_pushnumber(L, (size_t)j <= d ? row[j - 1] : y);
  return 1;
}

/* data_info(d) -> n, features; data_info(d, "mean" | "std" | "names") ->
 * the d + 1 columns' values, or nothing */
static int l_data_info(lua_State *L) {
  ms_data *data = todata(L, 1, "data_info");
  if (data == NULL) return ms_lua_closed(L, "data set");
  size_t d = ms_data_features(data);
  const char *what = lua_tostring(L, 2);
  double m, s;
  if (lua_isnoneornil(L, 2)) {
    lua_pushinteger(L, (lua_Integer)ms_data_len(data));
    lua_pushinteger(L, (lua_Integer)d);
    return 2;
  }
  int names = what != NULL && strcmp(what, "names") == 0;
  if (!names && (what == NULL || (strcmp(what, "mean") != 0 && strcmp(what, "std") != 0)))
    return ms_lua_argerror(L, 2, "data_info", "\"mean\", \"std\" or \"names\" expected");
  if (names ? ms_data_name(data, 0) == NULL : !ms_data_scaling(data, 0, &m, &s)) return 0;
  lua_createtable(L, (int)d + 1, 0);
  for (size_t j = 0; j <= d; j++) {
    if (names) lua_pushstring(L, ms_data_name(data, j));
    else if (ms_data_scaling(data, j, &m, &s)) lua_pushnumber(L, what[0] == 's' ? s : m);
    lua_rawseti(L, -2, (lua_Integer)j + 1);
  }
  return 1;
}

static int l_gc(lua_State *L) {
  l_data *b = ms_lua_checkudata(L, 1, MS_LUA_DATA);
  if (ms_lua_defer_close(&b->use)) return 0;   /* freed after the run */
  ms_data_free(b->data);
  b->data = NULL;
  return 0;
}

static int l_close(lua_State *L) {
  ((l_data *)ms_lua_checkudata(L, 1, MS_LUA_DATA))->closed = 1;
  return 0;
}

void ms_lua_open_data(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {
      {"__gc", l_gc}, {"__close", l_close}, {"__closehandle", l_close}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"data_new", l_data_new}, {"data_get", l_data_get},
                                 {"data_info", l_data_info}, {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_DATA, none, metamethods);
  lua_pushnil(L);
  lua_setfield(L, -2, "__index");   /* the shared Lua's */
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
  lua_createtable(L, 2, 0);   /* the source tree's data/, installed: CMakeLists.txt */
  lua_pushliteral(L, MS_SOURCE_DATA_DIR);
  lua_rawseti(L, -2, 1);
  lua_pushliteral(L, MS_INSTALLED_DATA_DIR);
  lua_rawseti(L, -2, 2);
  lua_setfield(L, -2, "data_dirs");
}
