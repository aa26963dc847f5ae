/*
 * l_train.c -- ms.train{model = ..., data = ..., rule = ...}: the minibatch
 * loop of d2l's train_ch11, a progress bar for long runs, and the result
 * with its loss curve.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

typedef struct l_result {
  ms_train_result *res;
} l_result;

static ms_train_result *checkresult(lua_State *L, int arg) {
  l_result *r = ms_lua_checkudata(L, arg, MS_LUA_TRAIN);
  if (r->res == NULL) luaL_argerror(L, arg, "result has been closed");
  return r->res;
}

/* ------------------------------------------------------- progress bar */

enum { BAR = 30 };

typedef struct progress {
  int always;   /* draw from the first report, terminal or not */
  int width;    /* of the line drawn, 0 if none */
} progress;

/* "\r 42% [############------------------] step 1234/3000, 1.3 s, 1.8 s left" */
static ms_status draw(void *ctx, int64_t step, int64_t steps, double seconds) {
  progress *p = ctx;
  if (!p->always && seconds < 1) return MS_OK;
  double frac = steps > 0 ? (double)step / (double)steps : 1;
  char bar[BAR + 1];
  int filled = (int)(frac * BAR);
  memset(bar, '#', (size_t)filled);
  memset(bar + filled, '-', (size_t)(BAR - filled));
  bar[BAR] = '\0';
  int w = fprintf(stderr, "\r%3d%% [%s] step %lld/%lld, %.1f s, %.1f s left ",
                  (int)(100 * frac), bar, (long long)step, (long long)steps,
                  seconds, frac > 0 ? seconds * (1 - frac) / frac : 0.0);
  fflush(stderr);
  if (w > p->width) p->width = w;
  return MS_OK;
}

static void erase(progress *p) {
  if (p->width == 0) return;
  fprintf(stderr, "\r%*s\r", p->width - 1, "");
  fflush(stderr);
}

/* ------------------------------------------------------------ ms.train */

/* The object in field key of the options at arg, of class tname. */
static int checkfield(lua_State *L, int arg, const char *key,
                      const char *tname, const char *example) {
  lua_getfield(L, arg, key);
  if (ms_lua_testudata(L, -1, tname) == NULL)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a %s (%s), got %s",
                                          key, tname, example,
                                          luaL_typename(L, -1)));
  return lua_gettop(L);
}

/* ms.train{model, data, rule, batch = 10, epochs = 2, seed = 1,
 *          eval_every = 200, shuffle = true, drop_last = false,
 *          init = nil, progress = nil} */
static int l_train_run(lua_State *L) {
  static const char *const known[] = {
      "model", "data", "rule", "batch", "epochs", "seed", "eval_every",
      "shuffle", "drop_last", "init", "progress", NULL};
  ms_lua_checkoptions(L, 1, known);
  lua_settop(L, 1);
  int mi = checkfield(L, 1, "model", MS_LUA_MODEL, "ms.model.linreg(d)");
  int di = checkfield(L, 1, "data", MS_LUA_DATA, "from ms.data.load");
  int ri = checkfield(L, 1, "rule", MS_LUA_RULE, "ms.momentum{...}");
  ms_model *model = ms_lua_checkmodel(L, mi);
  ms_data *data = ms_lua_checkdata(L, di);
  ms_rule *rule = ms_lua_checkidlerule(L, ri);
  ms_train_opts o;
  ms_train_opts_init(&o);
  o.batch = ms_lua_optintfield(L, 1, "batch", o.batch);
  o.epochs = ms_lua_optintfield(L, 1, "epochs", o.epochs);
  o.seed = (uint64_t)ms_lua_optintfield(L, 1, "seed", (lua_Integer)o.seed);
  o.eval_every = ms_lua_optintfield(L, 1, "eval_every", o.eval_every);
  o.shuffle = ms_lua_optboolfield(L, 1, "shuffle", o.shuffle);
  o.drop_last = ms_lua_optboolfield(L, 1, "drop_last", o.drop_last);
  lua_getfield(L, 1, "init");
  if (!lua_isnil(L, -1)) {
    ms_lua_vec *init = ms_lua_checkvectorfield(L, 1, "init");
    size_t np = ms_model_nparams(model);
    if (init->n != np)
      luaL_argerror(L, 1, lua_pushfstring(L, "init has %I entries, expected "
                                             "%I (weights, then the bias)",
                                          (lua_Integer)init->n, (lua_Integer)np));
    o.init = init->x;   /* kept alive on the stack */
  }
  progress bar = {0, 0};
  int pt = lua_getfield(L, 1, "progress");
  luaL_argcheck(L, pt == LUA_TNIL || pt == LUA_TBOOLEAN, 1,
                "progress must be a boolean (default: on a terminal, for runs "
                "longer than a second)");
  if (pt == LUA_TNIL ? isatty(STDERR_FILENO) == 1 : lua_toboolean(L, -1)) {
    bar.always = pt != LUA_TNIL;
    o.progress = draw;
    o.progress_ctx = &bar;
  }

  l_result *r = lua_newuserdatauv(L, sizeof *r, 1);
  r->res = NULL;
  ms_lua_setclass(L, MS_LUA_TRAIN);
  if (ms_train_check(model, data, &o) != MS_OK)
    luaL_argerror(L, 1, ms_last_error());
  ms_lua_pushrulelabel(L, ri);   /* before the run, which may close it */
  int label = lua_gettop(L);
  lua_State *prev = ms_lua_enter(L);
  int used[] = {mi, di, ri};   /* closed during the run: freed after it */
  for (int i = 0; i < 3; i++) ms_lua_hold(L, used[i]);
  ms_sigint_begin(0);   /* Ctrl-C reaches the C loop too */
  ms_status st = ms_train_run(model, data, rule, &o, &r->res);
  ms_sigint_end();
  for (int i = 0; i < 3; i++) ms_lua_release(L, used[i]);
  ms_lua_leave(prev);
  erase(&bar);
  if (st != MS_OK) return ms_lua_fail(L, st);

  lua_createtable(L, 0, 5);   /* what labels and plots need */
  lua_pushvalue(L, label);
  lua_setfield(L, -2, "rule");
  lua_pushvalue(L, mi);
  lua_setfield(L, -2, "model");
  lua_pushvalue(L, di);
  lua_setfield(L, -2, "data");
  lua_pushinteger(L, (lua_Integer)o.batch);
  lua_setfield(L, -2, "batch");
  lua_pushinteger(L, (lua_Integer)o.seed);
  lua_setfield(L, -2, "seed");
  lua_setiuservalue(L, label - 1, 1);
  lua_settop(L, label - 1);   /* the result */
  return 1;
}

/* ------------------------------------------------------------ methods */

/* One of the curve's columns as a table: 0 examples, 1 epoch, 2 loss. */
static void pushcolumn(lua_State *L, const ms_train_result *res, int which) {
  size_t len = ms_train_len(res);
  lua_createtable(L, (int)len, 0);
  for (size_t i = 0; i < len; i++) {
    if (which == 0) lua_pushinteger(L, (lua_Integer)ms_train_examples(res, i));
    else lua_pushnumber(L, which == 1 ? ms_train_epoch(res, i)
                                      : ms_train_loss(res, i));
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
}

/* res.curve: {examples = {...}, epoch = {...}, loss = {...}} */
static void pushcurve(lua_State *L, const ms_train_result *res) {
  static const char *const names[] = {"examples", "epoch", "loss"};
  lua_createtable(L, 0, 3);
  for (int k = 0; k < 3; k++) {
    pushcolumn(L, res, k);
    lua_setfield(L, -2, names[k]);
  }
}

/* res[i]: {examples = ..., epoch = ..., loss = ...} for point i */
static int l_point(lua_State *L) {
  ms_train_result *res = checkresult(L, 1);
  lua_Integer i = luaL_checkinteger(L, 2), len = (lua_Integer)ms_train_len(res);
  if (i < 0) i += len + 1;
  if (i < 1 || i > len)
    luaL_argerror(L, 2, lua_pushfstring(L, "point %I out of range (curve of %I)",
                                        i, len));
  size_t k = (size_t)i - 1;
  lua_createtable(L, 0, 3);
  lua_pushinteger(L, (lua_Integer)ms_train_examples(res, k));
  lua_setfield(L, -2, "examples");
  lua_pushnumber(L, ms_train_epoch(res, k));
  lua_setfield(L, -2, "epoch");
  lua_pushnumber(L, ms_train_loss(res, k));
  lua_setfield(L, -2, "loss");
  return 1;
}

static int l_csv(lua_State *L) {
  ms_train_result *res = checkresult(L, 1);
  const char *path = ms_lua_checkpath(L, 2);
  if (ms_train_write_csv(res, path) != MS_OK)
    return luaL_error(L, "%s", ms_last_error());
  lua_settop(L, 1);
  return 1;
}

/* A number field of the result: the index in this list picks the getter. */
static const char *const numbers[] = {
    "loss", "initial_loss", "seconds", "wall", "sec_per_epoch", "epochs", NULL};

static double getnumber(const ms_train_result *res, int k) {
  switch (k) {
    case 0: return ms_train_final_loss(res);
    case 1: return ms_train_initial_loss(res);
    case 2: return ms_train_seconds(res);
    case 3: return ms_train_wall(res);
    case 4: return ms_train_sec_per_epoch(res);
    default: return ms_train_epochs_done(res);
  }
}

static int l_index(lua_State *L) {
  ms_train_result *res = checkresult(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) return l_point(L);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *key = lua_tostring(L, 2);
  if (key == NULL) return 1;
  size_t np = ms_train_nparams(res);
  for (int k = 0; numbers[k] != NULL; k++)
    if (strcmp(key, numbers[k]) == 0) {
      lua_pushnumber(L, getnumber(res, k));
      return 1;
    }
  if (strcmp(key, "steps") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_train_steps(res));
  } else if (strcmp(key, "params") == 0) {
    ms_lua_pushcopy(L, ms_train_params(res), np);
  } else if (strcmp(key, "init") == 0) {
    ms_lua_pushcopy(L, ms_train_init(res), np);
  } else if (strcmp(key, "w") == 0) {
    ms_lua_pushcopy(L, ms_train_params(res), np - 1);
  } else if (strcmp(key, "b") == 0) {
    lua_pushnumber(L, ms_train_params(res)[np - 1]);
  } else if (strcmp(key, "curve") == 0) {
    pushcurve(L, res);
  } else if (strcmp(key, "diverged") == 0) {
    if (ms_train_diverged(res)) lua_pushinteger(L, (lua_Integer)ms_train_diverged(res));
    else lua_pushboolean(L, 0);
  } else if (strcmp(key, "reason") == 0) {
    if (ms_train_diverged(res)) lua_pushstring(L, ms_train_reason(res));
    else lua_pushnil(L);
  } else {
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, key);
  }
  return 1;
}

/* d2l's line: "loss: 0.243, 0.000031 sec/epoch", and why a run stopped
 * early. */
static int l_tostring(lua_State *L) {
  ms_train_result *res = checkresult(L, 1);
  double loss = ms_train_final_loss(res);
  double sec = ms_train_sec_per_epoch(res);
  char buf[96];
  /* d2l's %.3f, unless the number would print as a wall of digits (as
   * a trace's coordinates) */
  snprintf(buf, sizeof buf,
           fabs(loss) < 1e12 || isnan(loss) ? "loss: %.3f, " : "loss: %.6e, ",
           isnan(loss) ? NAN : loss);
  snprintf(buf + strlen(buf), sizeof buf - strlen(buf),
           fabs(sec) < 1e12 ? "%.6f sec/epoch" : "%.6e sec/epoch", sec);
  if (!ms_train_diverged(res)) {
    lua_pushstring(L, buf);
    return 1;
  }
  lua_pushfstring(L, "%s (diverged at step %I: %s)", buf,
                  (lua_Integer)ms_train_diverged(res), ms_train_reason(res));
  return 1;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)ms_train_len(checkresult(L, 1)));
  return 1;
}

static int l_gc(lua_State *L) {
  l_result *r = ms_lua_checkudata(L, 1, MS_LUA_TRAIN);
  ms_train_free(r->res);
  r->res = NULL;
  return 0;
}

static const luaL_Reg methods[] = {{"csv", l_csv}, {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__len", l_len}, {"__tostring", l_tostring}, {"__gc", l_gc},
    {"__close", l_gc}, {NULL, NULL}};

void ms_lua_open_train(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_TRAIN, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_train_run);
  lua_setfield(L, -2, "train");
}
