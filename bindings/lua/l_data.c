/*
 * l_data.c -- ms.data: data sets from text files (ms.data.load), from Lua
 * tables (ms.data.from), d2l's synthetic linear-regression data
 * (ms.data.synthetic) and the chapter's airfoil set (ms.data.airfoil).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "ms_lua.h"

static const char airfoil_file[] = "airfoil_self_noise.dat";

typedef struct l_data {
  ms_lua_use use;   /* first: the training runs using it */
  ms_data *data;
} l_data;

ms_data *ms_lua_checkdata(lua_State *L, int arg) {
  l_data *b = ms_lua_checkudata(L, arg, MS_LUA_DATA);
  if (b->data == NULL || b->use.closed)
    luaL_argerror(L, arg, "data set has been closed");
  return b->data;
}

/* A new, empty data userdata; its user value holds the file it came from
 * (field "path") when there is one. */
static l_data *newbox(lua_State *L) {
  l_data *b = lua_newuserdatauv(L, sizeof *b, 1);
  memset(b, 0, sizeof *b);
  ms_lua_setclass(L, MS_LUA_DATA);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  return b;
}

/* Raise the failure of a core constructor: a bad option is the fault of
 * argument arg, anything else (a missing or malformed file) is not. */
static int fail(lua_State *L, ms_status st, int arg) {
  if (st == MS_EINVAL) return luaL_argerror(L, arg, ms_last_error());
  return ms_lua_fail(L, st);
}

/* The options of ms.data.load (and airfoil) from the table at arg. */
static void checkloadopts(lua_State *L, int arg, ms_data_opts *o) {
  o->header = ms_lua_optboolfield(L, arg, "header", o->header);
  o->standardize = ms_lua_optboolfield(L, arg, "standardize", o->standardize);
  o->rows = ms_lua_optintfield(L, arg, "rows", o->rows);
  o->max_bytes = ms_lua_optintfield(L, arg, "max_bytes", o->max_bytes);
  int t = lua_getfield(L, arg, "label");
  if (t == LUA_TSTRING) {
    o->label_name = lua_tostring(L, -1);   /* the options table keeps it */
  } else if (t != LUA_TNIL) {
    int isint;
    o->label = lua_tointegerx(L, -1, &isint);
    if (!isint)
      luaL_argerror(L, arg, "label must be a column number (negative: from "
                            "the end) or, with a header, a column name");
  }
  lua_pop(L, 1);
}

static int load(lua_State *L, const char *path, int optarg,
                const ms_data_opts *o) {
  l_data *b = newbox(L);
  ms_status st = ms_data_load(path, o, &b->data);
  if (st != MS_OK) return fail(L, st, optarg);
  lua_getiuservalue(L, -1, 1);
  lua_pushstring(L, path);
  lua_setfield(L, -2, "path");
  lua_pop(L, 1);
  return 1;
}

/* The file name at idx, for argument arg: a string without zero bytes. */
static const char *checkpath(lua_State *L, int idx, int arg) {
  size_t len;
  if (lua_type(L, idx) != LUA_TSTRING)
    luaL_argerror(L, arg, lua_pushfstring(L, "the path must be a string, got %s",
                                          luaL_typename(L, idx)));
  const char *path = lua_tolstring(L, idx, &len);
  luaL_argcheck(L, strlen(path) == len, arg, "the path contains a zero byte");
  return path;
}

/* ms.data.load(path [, {header, label, standardize, rows, max_bytes}]) */
static int l_load(lua_State *L) {
  static const char *const known[] = {"header", "label", "standardize",
                                      "rows", "max_bytes", NULL};
  const char *path = checkpath(L, 1, 1);
  ms_data_opts o;
  ms_data_opts_init(&o);
  if (!lua_isnoneornil(L, 2)) {
    ms_lua_checkoptions(L, 2, known);
    checkloadopts(L, 2, &o);
  }
  return load(L, path, 2, &o);
}

static int isfile(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && !S_ISDIR(st.st_mode);
}

static int isdir(const char *path) {
  struct stat st;
  return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* The folders where the project's copy of the data set is: the source
 * tree's data/ and, installed, share/momsandbox/data (CMakeLists.txt). */
static const char *const data_dirs[] = {MS_SOURCE_DATA_DIR, MS_INSTALLED_DATA_DIR};

/* Push where the airfoil file is and return 1, or push the list of the
 * places looked at and return 0.  The places: $MOMSANDBOX_DATA (the file,
 * or a folder holding it) when it is set, else the project's own copy. */
static int findairfoil(lua_State *L) {
  lua_newtable(L);
  int places = lua_gettop(L), n = 0;
  const char *env = getenv("MOMSANDBOX_DATA");
  if (env != NULL && *env != '\0') {
    if (isdir(env)) lua_pushfstring(L, "%s/%s", env, airfoil_file);
    else lua_pushstring(L, env);
    lua_rawseti(L, places, ++n);
  } else {
    for (size_t i = 0; i < sizeof data_dirs / sizeof data_dirs[0]; i++) {
      lua_pushfstring(L, "%s/%s", data_dirs[i], airfoil_file);
      lua_rawseti(L, places, ++n);
    }
  }
  for (int i = 1; i <= n; i++) {
    lua_rawgeti(L, places, i);
    if (isfile(lua_tostring(L, -1))) return 1;
    lua_pop(L, 1);
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 1; i <= n; i++) {
    if (i > 1) luaL_addstring(&b, ", ");
    lua_rawgeti(L, places, i);
    luaL_addvalue(&b);
  }
  luaL_pushresult(&b);
  return 0;
}

/* ms.data.airfoil{path = nil, rows = 1500, standardize = true}: d2l's
 * get_data_ch11 -- all 1503 rows standardised, the first 1500 kept. */
static int l_airfoil(lua_State *L) {
  static const char *const known[] = {"path", "rows", "standardize", NULL};
  lua_settop(L, 1);
  if (lua_isnil(L, 1)) {
    lua_newtable(L);
    lua_replace(L, 1);
  }
  ms_lua_checkoptions(L, 1, known);
  ms_data_opts o;
  ms_data_opts_init(&o);
  o.standardize = ms_lua_optboolfield(L, 1, "standardize", 1);
  o.rows = ms_lua_optintfield(L, 1, "rows", 1500);
  if (lua_getfield(L, 1, "path") != LUA_TNIL)
    return load(L, checkpath(L, -1, 1), 1, &o);
  lua_pop(L, 1);
  if (!findairfoil(L))
    return luaL_error(L, "%s not found (looked for %s); it is the "
                         "\"Airfoil Self-Noise\" data set of the UCI Machine "
                         "Learning Repository "
                         "(https://archive.ics.uci.edu/dataset/291/"
                         "airfoil+self+noise): download %s and pass its path, "
                         "or set MOMSANDBOX_DATA to it or to its folder",
                      airfoil_file, lua_tostring(L, -1), airfoil_file);
  return load(L, lua_tostring(L, -1), 1, &o);
}

ms_lua_vec *ms_lua_checkvectorfield(lua_State *L, int arg, const char *key) {
  int t = lua_getfield(L, arg, key);
  ms_lua_vec *v = ms_lua_testudata(L, -1, MS_LUA_VEC);
  if (v != NULL) return ms_lua_checkvector(L, -1);   /* live? */
  if (t != LUA_TTABLE)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a ms.vec or a table "
                                             "of numbers, got %s", key,
                                          luaL_typename(L, -1)));
  int tab = lua_gettop(L);
  size_t n = ms_lua_rawlen(L, arg, tab, key);
  v = ms_lua_newvec(L, n);
  for (size_t i = 0; i < n; i++) {
    int isnum;
    lua_geti(L, tab, (lua_Integer)i + 1);
    v->x[i] = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
      luaL_argerror(L, arg, lua_pushfstring(L, "%s[%I] is a %s, not a number",
                                            key, (lua_Integer)i + 1,
                                            luaL_typename(L, -1)));
    lua_pop(L, 1);
  }
  lua_replace(L, tab);
  return v;
}

/* Row i of the table X at arg: a ms.vec or a table of d numbers (d is
 * set by the first row); copied into x. */
static void checkrow(lua_State *L, int arg, lua_Integer i, size_t d,
                     double *x) {
  int row = lua_gettop(L);
  ms_lua_vec *v = ms_lua_testudata(L, row, MS_LUA_VEC);
  if (v == NULL && !lua_istable(L, row))
    luaL_argerror(L, arg, lua_pushfstring(L, "X[%I] must be a table of "
                                             "numbers or a ms.vec, got %s",
                                          i, luaL_typename(L, row)));
  size_t len = v != NULL ? v->n : (size_t)lua_rawlen(L, row);
  if (len != d)
    luaL_argerror(L, arg, lua_pushfstring(L, "X[%I] has %I numbers, expected "
                                             "%I as X[1]", i, (lua_Integer)len,
                                          (lua_Integer)d));
  for (size_t j = 0; j < len; j++) {
    if (v != NULL) {
      x[j] = v->x[j];
      continue;
    }
    int isnum;
    lua_geti(L, row, (lua_Integer)j + 1);
    x[j] = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
      luaL_argerror(L, arg, lua_pushfstring(L, "X[%I][%I] is a %s, not a "
                                               "number", i, (lua_Integer)j + 1,
                                            luaL_typename(L, -1)));
    lua_pop(L, 1);
  }
}

/* The number of entries of a row at idx (ms.vec or table), 0 otherwise. */
static size_t rowlen(lua_State *L, int idx) {
  ms_lua_vec *v = ms_lua_testudata(L, idx, MS_LUA_VEC);
  if (v != NULL) return v->n;
  return lua_istable(L, idx) ? (size_t)lua_rawlen(L, idx) : 0;
}

/* ms.data.from{X = {{...}, ...}, y = {...}}: rows of features and their
 * labels. */
static int l_from(lua_State *L) {
  static const char *const known[] = {"X", "y", NULL};
  ms_lua_checkoptions(L, 1, known);
  lua_settop(L, 1);
  if (lua_getfield(L, 1, "y") == LUA_TNIL)
    luaL_argerror(L, 1, "y (the labels) is required");
  lua_pop(L, 1);
  ms_lua_vec *y = ms_lua_checkvectorfield(L, 1, "y");
  if (lua_getfield(L, 1, "X") != LUA_TTABLE)
    luaL_argerror(L, 1, lua_pushfstring(L, "X must be a table of rows, got %s",
                                        luaL_typename(L, 3)));
  size_t n = ms_lua_rawlen(L, 1, 3, "X");
  if (n != y->n)
    luaL_argerror(L, 1, lua_pushfstring(L, "X has %I rows but y has %I labels",
                                        (lua_Integer)n, (lua_Integer)y->n));
  if (n == 0) luaL_argerror(L, 1, "a data set needs at least one example");
  lua_geti(L, 3, 1);
  size_t d = rowlen(L, 4);
  lua_pop(L, 1);
  if (d == 0) luaL_argerror(L, 1, "X[1] must be a non-empty row of numbers");
  ms_lua_vec *X = ms_lua_newvec(L, ms_lua_checkproduct(L, 1, n, d, "X"));   /* scratch, at 4 */
  for (size_t i = 0; i < n; i++) {
    lua_geti(L, 3, (lua_Integer)i + 1);
    checkrow(L, 1, (lua_Integer)i + 1, d, X->x + i * d);
    lua_pop(L, 1);
  }
  l_data *b = newbox(L);
  ms_status st = ms_data_new(X->x, y->x, n, d, &b->data);
  return st == MS_OK ? 1 : fail(L, st, 1);
}

/* ms.data.synthetic{w = {...}, b = 0, n = 1000, noise = 0.01, seed = 1}:
 * d2l's synthetic_data, y = Xw + b + noise. */
static int l_synthetic(lua_State *L) {
  static const char *const known[] = {"w", "b", "n", "noise", "seed", NULL};
  ms_lua_checkoptions(L, 1, known);
  lua_settop(L, 1);
  if (lua_getfield(L, 1, "w") == LUA_TNIL)
    luaL_argerror(L, 1, "w (the true weights) is required");
  lua_pop(L, 1);
  ms_lua_vec *w = ms_lua_checkvectorfield(L, 1, "w");
  luaL_argcheck(L, w->n > 0, 1, "w must hold at least one weight");
  double bias = ms_lua_optnumfield(L, 1, "b", 0);
  lua_Integer n = ms_lua_optintfield(L, 1, "n", 1000);
  luaL_argcheck(L, n >= 1, 1, "n must be >= 1");
  double noise = ms_lua_optnumfield(L, 1, "noise", 0.01);
  lua_Integer seed = ms_lua_optintfield(L, 1, "seed", 1);
  l_data *b = newbox(L);
  ms_status st = ms_data_synthetic(w->x, w->n, bias, noise, (size_t)n,
                                   (uint64_t)seed, &b->data);
  return st == MS_OK ? 1 : fail(L, st, 1);
}

/* ------------------------------------------------------------ methods */

/* 1-based example index at arg, negative from the end. */
static size_t checkexample(lua_State *L, const ms_data *data, int arg) {
  lua_Integer i = luaL_checkinteger(L, arg);
  lua_Integer n = (lua_Integer)ms_data_len(data);
  if (i < 0) i += n + 1;
  if (i < 1 || i > n)
    luaL_argerror(L, arg, lua_pushfstring(L, "example %I out of range (%I "
                                             "examples)", i, n));
  return (size_t)i - 1;
}

/* data:x(i): the features of example i, as a new vector */
static int l_x(lua_State *L) {
  ms_data *data = ms_lua_checkdata(L, 1);
  ms_lua_pushcopy(L, ms_data_row(data, checkexample(L, data, 2)),
                  ms_data_features(data));
  return 1;
}

static int l_y(lua_State *L) {
  ms_data *data = ms_lua_checkdata(L, 1);
  lua_pushnumber(L, ms_data_label(data, checkexample(L, data, 2)));
  return 1;
}

/* data[i]: {x = features, y = label} */
static int l_example(lua_State *L) {
  ms_data *data = ms_lua_checkdata(L, 1);
  size_t i = checkexample(L, data, 2);
  lua_createtable(L, 0, 2);
  ms_lua_pushcopy(L, ms_data_row(data, i), ms_data_features(data));
  lua_setfield(L, -2, "x");
  lua_pushnumber(L, ms_data_label(data, i));
  lua_setfield(L, -2, "y");
  return 1;
}

/* data:column(j): feature j (1 .. d) or, for j = d + 1, the labels, as a
 * table. */
static int l_column(lua_State *L) {
  ms_data *data = ms_lua_checkdata(L, 1);
  size_t n = ms_data_len(data), d = ms_data_features(data);
  lua_Integer j = luaL_checkinteger(L, 2);
  luaL_argcheck(L, j >= 1 && (size_t)j <= d + 1, 2,
                lua_pushfstring(L, "column out of range (1 .. %I; %I is the "
                                   "label)", (lua_Integer)d + 1,
                                (lua_Integer)d + 1));
  lua_createtable(L, (int)n, 0);
  for (size_t i = 0; i < n; i++) {
    lua_pushnumber(L, (size_t)j <= d ? ms_data_row(data, i)[j - 1]
                                     : ms_data_label(data, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_labels(lua_State *L) {
  ms_data *data = ms_lua_checkdata(L, 1);
  lua_settop(L, 1);
  lua_pushinteger(L, (lua_Integer)ms_data_features(data) + 1);
  return l_column(L);
}

/* A table of the d + 1 scaling numbers (which = 0: means, 1: stds), or
 * nil when the data set was not standardised. */
static void pushscaling(lua_State *L, const ms_data *data, int which) {
  size_t d = ms_data_features(data);
  double m, s;
  if (!ms_data_scaling(data, 0, &m, &s)) {
    lua_pushnil(L);
    return;
  }
  lua_createtable(L, (int)d + 1, 0);
  for (size_t j = 0; j <= d; j++) {
    ms_data_scaling(data, j, &m, &s);
    lua_pushnumber(L, which ? s : m);
    lua_rawseti(L, -2, (lua_Integer)j + 1);
  }
}

static int l_index(lua_State *L) {
  ms_data *data = ms_lua_checkdata(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) return l_example(L);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *key = lua_tostring(L, 2);
  size_t d = ms_data_features(data);
  if (key == NULL) {
    lua_pushnil(L);
  } else if (strcmp(key, "n") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_data_len(data));
  } else if (strcmp(key, "features") == 0) {
    lua_pushinteger(L, (lua_Integer)d);
  } else if (strcmp(key, "mean") == 0 || strcmp(key, "std") == 0) {
    pushscaling(L, data, key[0] == 's');
  } else if (strcmp(key, "names") == 0) {
    if (ms_data_name(data, 0) == NULL) {
      lua_pushnil(L);
    } else {
      lua_createtable(L, (int)d + 1, 0);
      for (size_t j = 0; j <= d; j++) {
        lua_pushstring(L, ms_data_name(data, j));
        lua_rawseti(L, -2, (lua_Integer)j + 1);
      }
    }
  } else {
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, key);
  }
  return 1;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)ms_data_len(ms_lua_checkdata(L, 1)));
  return 1;
}

/* data{1500 examples, 5 features, standardized, from airfoil_self_noise.dat} */
static int l_tostring(lua_State *L) {
  ms_data *data = ms_lua_checkdata(L, 1);
  double m, s;
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "path");
  const char *path = lua_tostring(L, -1);
  lua_pushfstring(L, "data{%I examples, %I features%s%s%s}",
                  (lua_Integer)ms_data_len(data),
                  (lua_Integer)ms_data_features(data),
                  ms_data_scaling(data, 0, &m, &s) ? ", standardized" : "",
                  path != NULL ? ", from " : "", path != NULL ? path : "");
  return 1;
}

static int l_gc(lua_State *L) {
  l_data *b = ms_lua_checkudata(L, 1, MS_LUA_DATA);
  if (ms_lua_defer_close(&b->use)) return 0;   /* freed after the run */
  ms_data_free(b->data);
  b->data = NULL;
  return 0;
}

static const luaL_Reg methods[] = {
    {"x", l_x}, {"y", l_y}, {"column", l_column}, {"labels", l_labels},
    {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__len", l_len}, {"__tostring", l_tostring}, {"__gc", l_gc},
    {"__close", l_gc}, {NULL, NULL}};

static const luaL_Reg functions[] = {
    {"load", l_load},           {"from", l_from},
    {"synthetic", l_synthetic}, {"airfoil", l_airfoil},
    {NULL, NULL}};

void ms_lua_open_data(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_DATA, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  lua_setfield(L, -2, "data");
}
