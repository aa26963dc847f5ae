/*
 * l_model.c -- ms.model: the models ms.train fits (linear and logistic
 * regression), their loss, gradient, predictions and -- for linear
 * regression -- the exact least-squares optimum.
 */
#include <string.h>

#include "ms_lua.h"

typedef struct l_model {
  ms_lua_use use;   /* first: the training runs using it */
  ms_model *model;
} l_model;

ms_model *ms_lua_checkmodel(lua_State *L, int arg) {
  l_model *b = ms_lua_checkudata(L, arg, MS_LUA_MODEL);
  if (b->model == NULL || b->use.closed)
    luaL_argerror(L, arg, "model has been closed");
  return b->model;
}

static const char *const loss_names[] = {"squared", "mse", "logistic", NULL};
static const char *const bias_names[] = {"zero", "uniform", NULL};

/* An option naming one of names (a string field of the table at arg). */
static int checkchoice(lua_State *L, int arg, const char *key,
                       const char *const names[], int def) {
  if (lua_getfield(L, arg, key) == LUA_TNIL) {
    lua_pop(L, 1);
    return def;
  }
  const char *s = lua_tostring(L, -1);
  for (int i = 0; s != NULL && lua_type(L, -1) == LUA_TSTRING && names[i]; i++)
    if (strcmp(s, names[i]) == 0) {
      lua_pop(L, 1);
      return i;
    }
  const char *got = luaL_tolstring(L, -1, NULL);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; names[i] != NULL; i++) {
    if (i > 0) luaL_addstring(&b, ", ");
    luaL_addchar(&b, '"');
    luaL_addstring(&b, names[i]);
    luaL_addchar(&b, '"');
  }
  luaL_pushresult(&b);
  return luaL_argerror(L, arg, lua_pushfstring(L, "%s must be one of %s, got %s",
                                               key, lua_tostring(L, -1), got));
}

typedef ms_status (*constructor)(size_t, const ms_model_opts *, ms_model **);

/* ms.model.<name>(features) or ms.model.<name>{features = d, ...} */
static int newmodel(lua_State *L, constructor make, int has_loss) {
  static const char *const known[] = {"features", "loss", "weight_std",
                                      "bias_init", NULL};
  static const char *const known_nl[] = {"features", "weight_std",
                                         "bias_init", NULL};
  ms_model_opts o;
  ms_model_opts_init(&o);
  lua_Integer d;
  if (lua_type(L, 1) == LUA_TNUMBER) {
    d = luaL_checkinteger(L, 1);
  } else {
    ms_lua_checkoptions(L, 1, has_loss ? known : known_nl);
    d = ms_lua_optintfield(L, 1, "features", 0);
    if (has_loss) o.loss = (ms_loss)checkchoice(L, 1, "loss", loss_names, 0);
    o.weight_std = ms_lua_optnumfield(L, 1, "weight_std", o.weight_std);
    o.bias_init = (ms_bias_init)checkchoice(L, 1, "bias_init", bias_names, 0);
  }
  luaL_argcheck(L, d >= 1, 1, "features must be an integer >= 1");
  if (has_loss && o.loss == MS_LOSS_LOGISTIC)
    luaL_argerror(L, 1, "linreg's loss is \"squared\" or \"mse\" (for the "
                        "logistic loss, use ms.model.logreg)");
  l_model *b = lua_newuserdatauv(L, sizeof *b, 0);
  memset(b, 0, sizeof *b);
  ms_lua_setclass(L, MS_LUA_MODEL);
  if (make((size_t)d, &o, &b->model) != MS_OK)
    luaL_argerror(L, 1, ms_last_error());
  return 1;
}

static int l_linreg(lua_State *L) { return newmodel(L, ms_model_linreg, 1); }
static int l_logreg(lua_State *L) { return newmodel(L, ms_model_logreg, 0); }

/* ------------------------------------------------------------ methods */

/* The parameter vector at arg, of the model's size. */
static ms_lua_vec *checkparams(lua_State *L, ms_model *m, int arg) {
  ms_lua_vec *p = ms_lua_checkvector(L, arg);
  size_t np = ms_model_nparams(m);
  if (p->n != np)
    luaL_argerror(L, arg, lua_pushfstring(L, "params has %I entries, expected "
                                             "%I (weights, then the bias)",
                                          (lua_Integer)p->n, (lua_Integer)np));
  return p;
}

/* model:loss(data, params [, rows]): the mean training loss over the
 * examples rows (1-based indices; all when absent) and its gradient. */
static int l_loss(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  ms_data *data = ms_lua_checkdata(L, 2);
  ms_lua_vec *p = checkparams(L, m, 3);
  size_t *rows = NULL, count = 0;
  if (!lua_isnoneornil(L, 4)) {
    luaL_checktype(L, 4, LUA_TTABLE);
    count = ms_lua_rawlen(L, 4, 4, "rows");
    luaL_argcheck(L, count > 0, 4, "rows must not be empty");
    rows = lua_newuserdatauv(L, count * sizeof *rows, 0);   /* < 2^33 bytes */
    for (size_t k = 0; k < count; k++) {
      int isint;
      lua_geti(L, 4, (lua_Integer)k + 1);
      lua_Integer i = lua_tointegerx(L, -1, &isint);
      if (!isint || i < 1 || (size_t)i > ms_data_len(data))
        luaL_argerror(L, 4, lua_pushfstring(L, "rows[%I] is not an example "
                                               "(1 .. %I)", (lua_Integer)k + 1,
                                            (lua_Integer)ms_data_len(data)));
      rows[k] = (size_t)i - 1;
      lua_pop(L, 1);
    }
  }
  ms_lua_vec *g = ms_lua_newvec(L, p->n);
  double loss;
  ms_status st = ms_model_loss(m, data, p->x, rows, count, &loss, g->x);
  if (st != MS_OK) luaL_argerror(L, 2, ms_last_error());
  lua_pushnumber(L, loss);
  lua_insert(L, -2);
  return 2;
}

/* model:evaluate(data, params): the loss a run reports, over all of data */
static int l_evaluate(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  ms_data *data = ms_lua_checkdata(L, 2);
  ms_lua_vec *p = checkparams(L, m, 3);
  double loss;
  if (ms_model_evaluate(m, data, p->x, &loss) != MS_OK)
    luaL_argerror(L, 2, ms_last_error());
  lua_pushnumber(L, loss);
  return 1;
}

/* model:predict(params, x) */
static int l_predict(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  ms_lua_vec *p = checkparams(L, m, 2);
  ms_lua_vec *x = ms_lua_checkvector(L, 3);
  if (x->n != ms_model_features(m))
    luaL_argerror(L, 3, lua_pushfstring(L, "x has %I features, expected %I",
                                        (lua_Integer)x->n,
                                        (lua_Integer)ms_model_features(m)));
  lua_pushnumber(L, ms_model_predict(m, p->x, x->x));
  return 1;
}

/* model:optimum(data): the exact minimiser and its reported loss */
static int l_optimum(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  ms_data *data = ms_lua_checkdata(L, 2);
  ms_lua_vec *p = ms_lua_newvec(L, ms_model_nparams(m));
  double loss;
  if (ms_model_optimum(m, data, p->x, &loss) != MS_OK)
    return luaL_error(L, "%s", ms_last_error());
  lua_pushnumber(L, loss);
  return 2;
}

/* model:init(seed): the initial parameters ms.train draws with that seed */
static int l_init(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  lua_Integer seed = luaL_optinteger(L, 2, 1);
  ms_rng rng;
  ms_rng_seed(&rng, (uint64_t)seed);
  ms_lua_vec *p = ms_lua_newvec(L, ms_model_nparams(m));
  ms_model_init(m, &rng, p->x);
  return 1;
}

/* model:objective(data): the training loss over all of data as an
 * objective of the parameters (for ms.trace, ms.gradcheck): the engine's,
 * made by native.objective_builtin (upvalue 1), holding model and data. */
static int l_objective(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  ms_data *data = ms_lua_checkdata(L, 2);
  if (ms_data_features(data) != ms_model_features(m))
    luaL_argerror(L, 2, lua_pushfstring(L, "the model takes %I features but "
                                           "the data has %I",
                                        (lua_Integer)ms_model_features(m),
                                        (lua_Integer)ms_data_features(data)));
  lua_settop(L, 2);
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushliteral(L, "model");
  lua_pushvalue(L, 1);
  lua_pushvalue(L, 2);
  lua_call(L, 3, 2);
  if (lua_isnil(L, -2)) return luaL_error(L, "%s", lua_tostring(L, -1));
  lua_pop(L, 1);
  return 1;
}

static int l_index(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *key = lua_tostring(L, 2);
  if (key != NULL && strcmp(key, "features") == 0)
    lua_pushinteger(L, (lua_Integer)ms_model_features(m));
  else if (key != NULL && strcmp(key, "nparams") == 0)
    lua_pushinteger(L, (lua_Integer)ms_model_nparams(m));
  else if (key != NULL && strcmp(key, "name") == 0)
    lua_pushstring(L, ms_model_name(m));
  else
    lua_pushnil(L);
  return 1;
}

/* linreg{features=5}, with the options that differ from the defaults:
 * linreg{features=5, loss=mse, bias_init=uniform} */
static int l_tostring(lua_State *L) {
  ms_model *m = ms_lua_checkmodel(L, 1);
  ms_model_opts o, def;
  ms_model_options(m, &o);
  ms_model_opts_init(&def);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_pushfstring(L, "%s{features=%I", ms_model_name(m),
                  (lua_Integer)ms_model_features(m));
  luaL_addvalue(&b);
  if (o.loss == MS_LOSS_MSE) luaL_addstring(&b, ", loss=mse");
  if (o.weight_std != def.weight_std) {
    char num[32];
    ms_format_double(num, sizeof num, o.weight_std);
    luaL_addstring(&b, ", weight_std=");
    luaL_addstring(&b, num);
  }
  if (o.bias_init == MS_BIAS_UNIFORM) luaL_addstring(&b, ", bias_init=uniform");
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

static int l_gc(lua_State *L) {
  l_model *b = ms_lua_checkudata(L, 1, MS_LUA_MODEL);
  if (ms_lua_defer_close(&b->use)) return 0;   /* freed after the run */
  ms_model_free(b->model);
  b->model = NULL;
  return 0;
}

static const luaL_Reg methods[] = {
    {"loss", l_loss},       {"evaluate", l_evaluate}, {"predict", l_predict},
    {"optimum", l_optimum}, {"init", l_init},         {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__tostring", l_tostring}, {"__gc", l_gc}, {"__close", l_gc},
    {NULL, NULL}};

static const luaL_Reg functions[] = {
    {"linreg", l_linreg}, {"logreg", l_logreg}, {NULL, NULL}};

void ms_lua_open_model(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_MODEL, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_getfield(L, -4, "objective_builtin");   /* in the native table */
  lua_pushcclosure(L, l_objective, 1);
  lua_setfield(L, -2, "objective");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  luaL_newlib(L, functions);
  lua_setfield(L, -2, "model");
}
