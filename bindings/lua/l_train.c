/*
 * l_train.c -- the training primitives of lua/momsandbox/primitives.lua for
 * Lua 5.4: train_run, train_data and the kind "train" with its CSV writer.
 * Twin for LuaJIT: bindings/ffi/momsandbox/ffi_train.lua; the user of both
 * is lua/momsandbox/train.lua (ms.train), which checks the options, draws
 * the progress bar and presents the result.
 */
#include <stdint.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

static const char FNAME[] = "train_run";

typedef struct l_result {
  ms_train_result *res;
} l_result;

static ms_train_result *checkresult(lua_State *L, const char *fname) {
  l_result *r = ms_lua_testudata(L, 1, MS_LUA_TRAIN);
  if (r == NULL) ms_lua_argtypeerror(L, 1, 1, fname, MS_LUA_TRAIN);
  return r->res;
}

/* native.train_run(model, data, rule, batch, epochs, seed, eval_every,
 * shuffle, drop_last, init|nil, progress|nil) -> result, or nil, message,
 * code, setup (true: the arguments were wrong, nothing ran). */
static int l_train_run(lua_State *L) {
  lua_settop(L, 11);
  ms_model *model = ms_lua_checkmodel(L, 1);
  ms_data *data = ms_lua_checkdata(L, 2);
  ms_rule *rule = ms_lua_checkidlerule(L, 3);
  ms_train_opts o;
  ms_train_opts_init(&o);
  o.batch = ms_lua_checkint(L, 4, 4, FNAME);
  o.epochs = ms_lua_checkint(L, 5, 5, FNAME);
  o.seed = (uint64_t)ms_lua_checkint(L, 6, 6, FNAME);
  o.eval_every = ms_lua_checkint(L, 7, 7, FNAME);
  o.shuffle = lua_toboolean(L, 8);
  o.drop_last = lua_toboolean(L, 9);
  if (!lua_isnil(L, 10)) {
    ms_lua_vec *init = ms_lua_checkvec(L, 10);
    if (init->n != ms_model_nparams(model))
      return ms_lua_argerror(L, 10, FNAME, "init must hold the model's parameters");
    o.init = init->x;
  }
  if (!lua_isnil(L, 11)) {
    if (!lua_isfunction(L, 11)) return ms_lua_argtypeerror(L, 11, 11, FNAME, "function");
    o.progress = ms_lua_progress;
    o.progress_ctx = (void *)(intptr_t)11;
  }
  l_result *r = lua_newuserdatauv(L, sizeof *r, 0);   /* 12 */
  r->res = NULL;
  ms_lua_setclass(L, MS_LUA_TRAIN);
  ms_status st = ms_train_check(model, data, &o);
  if (st != MS_OK) {   /* nothing ran: nil, message, code, true */
    ms_lua_failure(L, st);
    lua_pushboolean(L, 1);
    return 4;
  }
  lua_State *prev = ms_lua_enter(L);
  for (int i = 1; i <= 3; i++) ms_lua_hold(L, i);   /* closed during the run: freed after it */
  ms_sigint_begin(0);   /* Ctrl-C reaches the C loop too */
  st = ms_train_run(model, data, rule, &o, &r->res);
  ms_sigint_end();
  for (int i = 1; i <= 3; i++) ms_lua_release(L, i);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_settop(L, 12);
  return 1;
}

/* native.train_data(res) -> loss, initial_loss, seconds, wall,
 * sec_per_epoch, epochs, steps, diverged (step or 0), reason, params and
 * init (new vecs), curve (a new vec: examples, epoch and loss of each
 * point in turn); nothing once closed. */
static int l_train_data(lua_State *L) {
  const ms_train_result *r = checkresult(L, "train_data");
  if (r == NULL) return 0;
  const double figures[] = {ms_train_final_loss(r), ms_train_initial_loss(r), ms_train_seconds(r),
                            ms_train_wall(r),       ms_train_sec_per_epoch(r),
                            ms_train_epochs_done(r), (double)ms_train_steps(r),
                            (double)ms_train_diverged(r)};
  for (int i = 0; i < 8; i++) lua_pushnumber(L, figures[i]);
  lua_pushstring(L, ms_train_reason(r));
  ms_lua_pushcopy(L, ms_train_params(r), ms_train_nparams(r));
  ms_lua_pushcopy(L, ms_train_init(r), ms_train_nparams(r));
  size_t len = ms_train_len(r);
  double *curve = ms_lua_newvec(L, 3 * len)->x;
  for (size_t i = 0; i < len; i++) {
    curve[3 * i] = (double)ms_train_examples(r, i);
    curve[3 * i + 1] = ms_train_epoch(r, i);
    curve[3 * i + 2] = ms_train_loss(r, i);
  }
  return 12;
}

/* native.write_csv for a result: (res, path) */
static int train_csv(lua_State *L) {
  const ms_train_result *res = checkresult(L, "write_csv");
  if (res == NULL) return ms_lua_argerror(L, 1, "write_csv", "result has been closed");
  return ms_lua_status(L, ms_train_write_csv(res, lua_tostring(L, 2)));
}

static int l_gc(lua_State *L) {
  l_result *r = ms_lua_testudata(L, 1, MS_LUA_TRAIN);
  if (r == NULL) return 0;
  ms_train_free(r->res);
  r->res = NULL;
  return 0;
}

void ms_lua_open_train(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {"__close", l_gc}, {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_TRAIN, none, metamethods);
  lua_pushnil(L);   /* the shared Lua's __index serves it all */
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  ms_lua_csvwriter(L, "train", train_csv);
  static const luaL_Reg fns[] = {{"train_run", l_train_run}, {"train_data", l_train_data},
                                 {NULL, NULL}};
  luaL_setfuncs(L, fns, 0);
}
