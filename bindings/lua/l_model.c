/*
 * l_model.c -- the model primitives for Lua 5.4 (model_new, model_call and
 * the kind "model": lua/momsandbox/primitives.lua).  Twin for LuaJIT:
 * bindings/ffi/momsandbox/ffi_model.lua.  User: lua/momsandbox/model.lua
 * (ms.model).
 */
#include <string.h>

#include "ms_lua.h"

typedef struct l_model {
  ms_lua_use use;   /* first: the runs using it (ms_lua_hold) */
  ms_model *model;
  int closed;       /* by native.close: refused, freed with the box */
} l_model;

/* The model at arg of fname, or NULL when it has been closed. */
static ms_model *tomodel(lua_State *L, int arg, const char *fname) {
  l_model *b = ms_lua_checkkind(L, arg, MS_LUA_MODEL, fname);
  return b->closed || b->use.closed ? NULL : b->model;
}

ms_model *ms_lua_checkmodel(lua_State *L, int arg) {
  ms_model *m = tomodel(L, arg, "model");
  if (m == NULL) {
    lua_pushliteral(L, "model has been closed");   /* no position: as LuaJIT's */
    lua_error(L);
  }
  return m;
}

/* model_new(kind, features, loss, weight_std, bias_init) */
static int l_model_new(lua_State *L) {
  const char *kind = lua_tostring(L, 1);
  ms_model_opts o;
  ms_model_opts_init(&o);
  lua_Integer d = ms_lua_checkint(L, 2, 2, "model_new");
  o.loss = (ms_loss)ms_lua_checkint(L, 3, 3, "model_new");
  o.weight_std = ms_lua_checknum(L, 4, 4, "model_new");
  o.bias_init = (ms_bias_init)ms_lua_checkint(L, 5, 5, "model_new");
  int linreg = kind != NULL && strcmp(kind, "linreg") == 0;
  if (d < 1 || (unsigned)o.loss > MS_LOSS_LOGISTIC || (unsigned)o.bias_init > MS_BIAS_UNIFORM ||
      (!linreg && (kind == NULL || strcmp(kind, "logreg") != 0)))
    return ms_lua_argerror(L, 1, "model_new", "bad kind, features, loss or bias_init");
  l_model *b = lua_newuserdatauv(L, sizeof *b, 0);   /* before the engine object */
  memset(b, 0, sizeof *b);
  ms_lua_setclass(L, MS_LUA_MODEL);
  ms_status st = (linreg ? ms_model_linreg : ms_model_logreg)((size_t)d, &o, &b->model);
  return st == MS_OK ? 1 : ms_lua_failure(L, st);
}

/* A vec of n numbers at arg (params, x), checked. */
static ms_lua_vec *checkvec(lua_State *L, int arg, size_t n) {
  ms_lua_vec *v = ms_lua_checkvec(L, arg);
  if (v->n != n) ms_lua_argerror(L, arg, "model_call", "vector of the wrong size");
  return v;
}

/* The 0-based rows of the table at arg (1-based indices), or NULL. */
static size_t *checkrows(lua_State *L, int arg, size_t *count) {
  if (lua_isnoneornil(L, arg)) return NULL;
  if (!lua_istable(L, arg)) ms_lua_argtypeerror(L, arg, arg, "model_call", "table");
  *count = ms_lua_rawlen(L, arg, arg, "rows");
  size_t *rows = lua_newuserdatauv(L, *count * sizeof *rows + 1, 0);   /* < 2^33 bytes */
  for (size_t k = 0; k < *count; k++) {
    lua_rawgeti(L, arg, (lua_Integer)k + 1);
    lua_Integer i = ms_lua_checkint(L, -1, arg, "model_call");
    if (i < 1) ms_lua_argerror(L, arg, "model_call", "rows are 1-based");
    rows[k] = (size_t)i - 1;   /* the engine checks the upper end */
    lua_pop(L, 1);
  }
  return rows;
}

/* model_call(m, op, ...): see primitives.lua */
static int l_model_call(lua_State *L) {
  static const char *const ops[] = {"info", "loss", "evaluate", "predict", "optimum",
                                    "init", NULL};
  ms_model *m = tomodel(L, 1, "model_call");
  const char *op = lua_tostring(L, 2);
  int k = 0;
  while (ops[k] != NULL && (op == NULL || strcmp(op, ops[k]) != 0)) k++;
  if (ops[k] == NULL) return ms_lua_argerror(L, 2, "model_call", "no such operation");
  if (m == NULL) return ms_lua_closed(L, "model");
  size_t np = ms_model_nparams(m), count = 0;
  ms_model_opts o;
  ms_status st = MS_OK;
  double loss;
  ms_data *data = k == 1 || k == 2 || k == 4 ? ms_lua_checkdata(L, 3) : NULL;
  switch (k) {
    case 0:
      ms_model_options(m, &o);
      lua_pushstring(L, ms_model_name(m));
      lua_pushinteger(L, (lua_Integer)ms_model_features(m));
      lua_pushinteger(L, (lua_Integer)np);
      lua_pushinteger(L, o.loss);
      lua_pushnumber(L, o.weight_std);
      lua_pushinteger(L, o.bias_init);
      return 6;
    case 1: {
      const double *p = checkvec(L, 4, np)->x;
      size_t *rows = checkrows(L, 5, &count);
      st = ms_model_loss(m, data, p, rows, count, &loss, ms_lua_newvec(L, np)->x);
      break;
    }
    case 2:
      st = ms_model_evaluate(m, data, checkvec(L, 4, np)->x, &loss);
      break;
    case 3: {
      const double *p = checkvec(L, 3, np)->x;
      lua_pushnumber(L, ms_model_predict(m, p, checkvec(L, 4, np - 1)->x));
      return 1;
    }
    case 4:
      st = ms_model_optimum(m, data, ms_lua_newvec(L, np)->x, &loss);
      break;
    default: {   /* init */
      ms_rng rng;
      ms_rng_seed(&rng, (uint64_t)ms_lua_checkint(L, 3, 3, "model_call"));
      ms_model_init(m, &rng, ms_lua_newvec(L, np)->x);
      return 1;
    }
  }
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_pushnumber(L, loss);
  if (k == 2) return 1;
  if (k == 1) lua_insert(L, -2);   /* loss, grad (optimum: params, loss) */
  return 2;
}

static int l_gc(lua_State *L) {
  l_model *b = ms_lua_checkudata(L, 1, MS_LUA_MODEL);
  if (ms_lua_defer_close(&b->use)) return 0;   /* freed after the run */
  ms_model_free(b->model);
  b->model = NULL;
  return 0;
}

static int l_close(lua_State *L) {
  ((l_model *)ms_lua_checkudata(L, 1, MS_LUA_MODEL))->closed = 1;
  return 0;
}

void ms_lua_open_model(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {
      {"__gc", l_gc}, {"__close", l_close}, {"__closehandle", l_close}, {NULL, NULL}};
  static const luaL_Reg fns[] = {{"model_new", l_model_new}, {"model_call", l_model_call},
                                 {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_MODEL, none, metamethods);
  lua_pushnil(L);
  lua_setfield(L, -2, "__index");   /* the shared Lua's */
  lua_pop(L, 1);
  luaL_setfuncs(L, fns, 0);
}
