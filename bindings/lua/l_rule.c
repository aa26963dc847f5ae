/*
 * l_rule.c -- the native part of update rules under Lua 5.4: the kinds
 * "rule" and "ruleclass" and the primitives ruleclass_new, rule_new,
 * rule_set and rule_op (lua/momsandbox/primitives.lua; rule_classes is
 * l_help.c's).  Twin of
 * bindings/ffi/momsandbox/ffi_rule.lua; used by lua/momsandbox/rule.lua,
 * which has the API: checks, messages, labels, fields.
 *
 * A rule's user value keeps the schedules its hyper-parameters follow
 * alive (and those replaced while a call runs on it, until it ends).
 */
#include <math.h>
#include <string.h>

#include "ms_lua.h"

/* A rule class defined in Lua: the engine's class (ms_rule_class_new)
 * and the Lua functions its trampolines call. */
typedef struct l_class {
  ms_lua_use use;   /* first: its rules are its users */
  ms_rule_class *cls;
  int step_ref, look_ref;
} l_class;

typedef struct l_rule {
  ms_lua_use use;            /* first: the calls running on it */
  ms_rule *rule;
  const l_class *lc;         /* NULL for built-in rules */
  /* For Lua rules, what the step function receives: views on the engine's
   * x and g, the proxies s and h (h reads the table hv). */
  int pref, gref, yref, sref, href, hvref;
  ms_lua_vec *p, *g, *y;
  double *hcache;            /* values last put in hv */
  int nstate;
  ms_lua_vec *s[];           /* the state views, nstate of them */
} l_rule;

/* The rule at arg; a closed one is an error of its own. */
static l_rule *checkbox(lua_State *L, int arg, const char *fname) {
  l_rule *r = ms_lua_checkkind(L, arg, MS_LUA_RULE, fname);
  if (r->rule == NULL || r->use.closed) {
    lua_pushliteral(L, "rule has been closed");   /* no position: as LuaJIT's */
    lua_error(L);
  }
  return r;
}

/* Its state belongs to one running call at a time (a step calling its
 * own rule:step with another dimension would free the state in use). */
ms_rule *ms_lua_checkidlerule(lua_State *L, int arg) {
  l_rule *r = checkbox(L, arg, "rule");
  if (r->use.users > 0) luaL_error(L, "rule is in use by a running step");
  return r->rule;
}

ms_rule *ms_lua_checkrule(lua_State *L, int arg) {
  return checkbox(L, arg, "rule")->rule;
}

ms_rule *ms_lua_torule(lua_State *L, int arg) {
  l_rule *r = ms_lua_testudata(L, arg, MS_LUA_RULE);
  return r != NULL && !r->use.closed ? r->rule : NULL;
}

void ms_lua_pushlabel(lua_State *L, int arg) {
  lua_getiuservalue(L, arg, 1);
  if (lua_getfield(L, -1, "info") == LUA_TTABLE) {
    lua_pushliteral(L, "label");
    lua_rawget(L, -2);
  } else {
    lua_pushnil(L);
  }
  lua_replace(L, -3);
  lua_pop(L, 1);
}

/* ---------------------------------------------------------- schedules */

/* Remember (or forget, with nil at idx) the schedule of hyper-parameter
 * key in the user value of the rule at box, which is one of its users.
 * The one it replaces is let go of at once or, when a call running on
 * the rule may be evaluating it, when the last such call ends. */
static void keepschedule(lua_State *L, int box, const char *key, int idx) {
  idx = lua_absindex(L, idx);
  l_rule *r = lua_touserdata(L, box);
  lua_getiuservalue(L, box, 1);
  lua_getfield(L, -1, "sched");
  if (lua_getfield(L, -1, key) != LUA_TNIL) {
    if (r->use.users > 0) {
      lua_getfield(L, -3, "retired");
      lua_insert(L, -2);
      lua_rawseti(L, -2, (lua_Integer)lua_rawlen(L, -2) + 1);
      r->use.retired = 1;
    } else {
      ms_lua_release(L, -1);
    }
  }
  lua_pop(L, 1);
  if (!lua_isnil(L, idx)) ms_lua_hold(L, idx);
  lua_pushvalue(L, idx);
  lua_setfield(L, -2, key);
  lua_pop(L, 2);
}

void ms_lua_release_all(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    ms_lua_release(L, -1);
    lua_pop(L, 1);
    lua_pushvalue(L, -1);
    lua_pushnil(L);
    lua_rawset(L, idx);   /* clearing a field during lua_next is allowed */
  }
}

void ms_lua_pushschedules(lua_State *L, int idx) {
  lua_newtable(L);
  lua_getiuservalue(L, idx, 1);
  lua_getfield(L, -1, "sched");
  for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) {
    ms_lua_hold(L, -1);
    lua_pushvalue(L, -2);   /* copy[key] = value */
    lua_pushvalue(L, -2);
    lua_rawset(L, -7);
  }
  lua_pop(L, 2);
}

void ms_lua_rule_idle(lua_State *L, int idx) {
  lua_getiuservalue(L, idx, 1);
  lua_getfield(L, -1, "retired");
  ms_lua_release_all(L, -1);
  lua_pop(L, 2);
}

/* ------------------------------------------------- rules defined in Lua */

/* Bring hv up to date with the values in effect: only the changed ones
 * are stored (most never change); push the proxy h. */
static void update_h(lua_State *L, l_rule *r, const double *h) {
  const ms_rule_class *cls = r->lc->cls;
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->hvref);
  for (int i = 0; i < cls->nhyper; i++) {
    if (memcmp(&r->hcache[i], &h[i], sizeof h[i]) == 0) continue;
    r->hcache[i] = h[i];
    if (cls->hyper[i].kind == MS_HYPER_FLAG)
      lua_pushboolean(L, h[i] != 0);
    else
      lua_pushnumber(L, h[i]);
    lua_setfield(L, -2, cls->hyper[i].name);
  }
  lua_pop(L, 1);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->href);
}

/* Call fn(a, b, s, h, t): a and b are the rule's views (references aref
 * and bref) aimed at ax and bx for the call.  With check_result, fn must
 * return nothing or a itself (a step updates p in place).  Every view is
 * restored afterwards: a nested call may be using it. */
static ms_status call_lua(l_rule *r, int fn, int aref, ms_lua_vec *a,
                          const double *ax, int bref, ms_lua_vec *b,
                          const double *bx, double *const *state, size_t n,
                          const double *h, int64_t t, int check_result) {
  lua_State *L = ms_lua_current();
  if (L == NULL) return MS_ECALLBACK;
  if (!lua_checkstack(L, 12))
    return ms_lua_pending(L, "stack overflow in rule '%s'", r->lc->cls->name);
  ms_lua_vec asaved = *a, bsaved = *b, ssaved[64];
  int base = ms_lua_pushhandler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
  ms_lua_setview(a, (double *)ax, n);
  lua_rawgeti(L, LUA_REGISTRYINDEX, aref);
  ms_lua_setview(b, (double *)bx, n);
  lua_rawgeti(L, LUA_REGISTRYINDEX, bref);
  for (int i = 0; i < r->nstate; i++) {
    ssaved[i] = *r->s[i];
    ms_lua_setview(r->s[i], state[i], n);
  }
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->sref);
  update_h(L, r, h);
  lua_pushinteger(L, (lua_Integer)t);
  ms_status st = ms_lua_pcall(L, 5, 1, base);
  if (st == MS_OK && check_result && !lua_isnil(L, base + 1) &&
      lua_touserdata(L, base + 1) != (void *)r->p)
    st = ms_lua_pending(L, "step of rule '%s' must update p in place (e.g. "
                           "p:axpy(-h.lr, g)); it returned %s", r->lc->cls->name,
                        ms_lua_testudata(L, base + 1, MS_LUA_VEC) ? "a new vector"
                                                                  : luaL_typename(L, base + 1));
  *a = asaved;
  *b = bsaved;
  for (int i = 0; i < r->nstate; i++) *r->s[i] = ssaved[i];
  lua_settop(L, base - 1);
  return st;
}

static ms_status lua_step(void *ctx, const double *h, double *x,
                          const double *g, double *const *state, size_t n,
                          int64_t t) {
  l_rule *r = ctx;
  return call_lua(r, r->lc->step_ref, r->pref, r->p, x, r->gref, r->g, g,
                  state, n, h, t, 1);
}

/* lookahead(p, y, s, h, t) writes into y the point where the gradient of
 * step t is taken; p is read-only there (the read-only view g serves). */
static ms_status lua_lookahead(void *ctx, const double *h, const double *x,
                               double *const *state, double *y, size_t n,
                               int64_t t) {
  l_rule *r = ctx;
  ms_vec_copy(y, x, n);   /* a lookahead that writes nothing: at x */
  return call_lua(r, r->lc->look_ref, r->gref, r->g, x, r->yref, r->y, y,
                  state, n, h, t, 0);
}

/* A userdata (rawset cannot write into it) with the metatable field key
 * of the context table at ctx, as a registry reference. */
static int proxy_ref(lua_State *L, int ctx, const char *key) {
  lua_newuserdatauv(L, 0, 0);
  if (lua_getfield(L, ctx, key) != LUA_TTABLE)
    ms_lua_argerror(L, 2, "rule_new", "context tables expected");
  lua_setmetatable(L, -2);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

static int view_ref(lua_State *L, int readonly, ms_lua_vec **v) {
  *v = ms_lua_newview(L, readonly);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Give the Lua rule at box its views and proxies from the context table
 * at ctx = {h = metatable, hv = table, s = metatable, sv = table}: sv gets
 * the state views by name, h reads hv. */
static void setup_lua_rule(lua_State *L, int box, int ctx) {
  l_rule *r = lua_touserdata(L, box);
  const ms_rule_class *cls = r->lc->cls;
  luaL_checktype(L, ctx, LUA_TTABLE);
  if (lua_getfield(L, ctx, "sv") != LUA_TTABLE || lua_getfield(L, ctx, "hv") != LUA_TTABLE)
    ms_lua_argerror(L, 2, "rule_new", "context tables expected");
  r->hvref = luaL_ref(L, LUA_REGISTRYINDEX);
  for (int i = 0; i < cls->nstate; i++) {
    r->s[i] = ms_lua_newview(L, 0);
    lua_setfield(L, -2, cls->state_names[i]);
  }
  lua_pop(L, 1);
  r->pref = view_ref(L, 0, &r->p);
  r->gref = view_ref(L, 1, &r->g);
  r->yref = view_ref(L, 0, &r->y);
  r->sref = proxy_ref(L, ctx, "s");
  r->href = proxy_ref(L, ctx, "h");
  /* NaN bits no value can have, so that the first update stores all */
  r->hcache = lua_newuserdatauv(L, (size_t)(cls->nhyper + 1) * sizeof(double), 0);
  memset(r->hcache, 0xff, (size_t)cls->nhyper * sizeof(double));
  lua_getiuservalue(L, box, 1);
  lua_insert(L, -2);
  lua_setfield(L, -2, "hcache");   /* kept alive with the rule */
  lua_pop(L, 1);
  ms_rule_set_context(r->rule, r);
}

/* native.rule_new(class, ctx, info): class a built-in's name or a
 * ruleclass; info, any value, is rule_op(r, "info")'s. */
static int l_rule_new(lua_State *L) {
  l_class *lc = ms_lua_testudata(L, 1, MS_LUA_RULECLASS);
  const ms_rule_class *cls = lc ? lc->cls : ms_rule_class_find(luaL_checkstring(L, 1));
  if (cls == NULL) return ms_lua_argerror(L, 1, "rule_new", "no such rule class");
  lua_settop(L, 3);
  int nstate = lc != NULL ? cls->nstate : 0;
  l_rule *r = lua_newuserdatauv(L, sizeof *r + (size_t)nstate * sizeof r->s[0], 1);
  memset(r, 0, sizeof *r);
  r->lc = lc;
  r->nstate = nstate;
  r->pref = r->gref = r->yref = r->sref = r->href = r->hvref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_RULE);
  lua_createtable(L, 0, 3);
  lua_newtable(L);
  lua_setfield(L, -2, "sched");
  lua_newtable(L);
  lua_setfield(L, -2, "retired");
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "class");
  lua_pushvalue(L, 3);
  lua_setfield(L, -2, "info");
  lua_setiuservalue(L, -2, 1);
  ms_status st = ms_rule_new(cls, &r->rule);
  if (st != MS_OK) ms_lua_fail(L, st);
  if (lc != NULL) {
    ms_lua_hold(L, 1);   /* the class: released by the rule's __gc */
    setup_lua_rule(L, 4, 2);
  }
  return 1;
}

/* ---------------------------------------------------- ruleclass_new */

/* native.ruleclass_new(name, names, desc, step, lookahead) */
static int l_ruleclass_new(lua_State *L) {
  static const char fname[] = "ruleclass_new";
  if (lua_type(L, 1) != LUA_TSTRING) ms_lua_argtypeerror(L, 1, 1, fname, "string");
  if (!lua_istable(L, 2)) ms_lua_argtypeerror(L, 2, 2, fname, "table");
  ms_lua_vec *desc = ms_lua_checkvec(L, 3);
  if (lua_type(L, 4) != LUA_TFUNCTION) ms_lua_argtypeerror(L, 4, 4, fname, "function");
  if (!lua_isnoneornil(L, 5) && lua_type(L, 5) != LUA_TFUNCTION)
    ms_lua_argtypeerror(L, 5, 5, fname, "function");
  lua_settop(L, 5);
  size_t nhyper = desc->n / 6, count = lua_rawlen(L, 2);
  if (desc->n % 6 != 0 || count < nhyper || count > 255 + 64)
    return ms_lua_argerror(L, 2, fname, "a name for each descriptor and state vector");
  const char **names = lua_newuserdatauv(L, (count + 1) * sizeof *names, 0);
  for (size_t i = 0; i < count; i++) {   /* the strings stay in the table */
    if (lua_rawgeti(L, 2, (lua_Integer)i + 1) != LUA_TSTRING)
      return ms_lua_argerror(L, 2, fname, "names must be strings");
    names[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  l_class *lc = lua_newuserdatauv(L, sizeof *lc, 0);
  memset(lc, 0, sizeof *lc);
  lc->step_ref = lc->look_ref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_RULECLASS);
  ms_status st = ms_rule_class_new(lua_tostring(L, 1), nhyper, count - nhyper, names, desc->x,
                                   lua_step, lua_isnil(L, 5) ? NULL : lua_lookahead, &lc->cls);
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_pushvalue(L, 4);
  lc->step_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_pushvalue(L, 5);
  lc->look_ref = luaL_ref(L, LUA_REGISTRYINDEX);   /* LUA_REFNIL for nil */
  return 1;
}

/* A class outlives its rules, which are its users. */
static int l_class_gc(lua_State *L) {
  l_class *lc = ms_lua_checkudata(L, 1, MS_LUA_RULECLASS);
  if (ms_lua_defer_close(&lc->use)) return 0;
  luaL_unref(L, LUA_REGISTRYINDEX, lc->step_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, lc->look_ref);
  lc->step_ref = lc->look_ref = LUA_NOREF;
  ms_rule_class_free(lc->cls);
  lc->cls = NULL;
  return 0;
}

/* ----------------------------------------------------- rule_set, rule_op */

/* native.rule_set(rule, name, value): value a number, a boolean (a
 * flag's) or a schedule -> true, or nil, message when the engine refuses
 * it. */
static int l_rule_set(lua_State *L) {
  l_rule *r = checkbox(L, 1, "rule_set");
  const char *key = luaL_checkstring(L, 2);
  int t = lua_type(L, 3);
  lua_settop(L, 3);
  ms_status st;
  if (t == LUA_TNUMBER || t == LUA_TBOOLEAN) {
    st = ms_rule_set(r->rule, key, t == LUA_TNUMBER ? lua_tonumber(L, 3) : lua_toboolean(L, 3));
    lua_pushnil(L);
  } else {
    ms_schedule *s = ms_lua_toschedule(L, 3);
    if (s == NULL) return ms_lua_argtypeerror(L, 3, 3, "rule_set", "number, boolean or schedule");
    st = ms_rule_set_schedule(r->rule, key, s);
    lua_pushvalue(L, 3);
  }
  if (st != MS_OK) return ms_lua_failure(L, st);
  keepschedule(L, 1, key, -1);
  lua_pushboolean(L, 1);
  return 1;
}

/* rule_op(r, "step", x, g): one update of the vector x in place (the
 * shared Lua checked the arguments, but x's writability). */
static int step(lua_State *L, l_rule *r) {
  ms_lua_vec *x = ms_lua_checkvec(L, 3), *g = ms_lua_checkvec(L, 4);
  if (x->readonly) {
    lua_pushnil(L);
    lua_pushliteral(L, "bad argument #1 to 'step' (vector is read-only)");
    return 2;
  }
  if (g->n != x->n || x->n == 0)
    return ms_lua_argerror(L, 4, "rule_op", "vectors of one size expected");
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);
  ms_status st = ms_rule_step(r->rule, x->x, g->x, x->n);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_failure(L, st);
  lua_settop(L, 3);
  return 1;
}

/* {name = copy of the state vector}; empty before the first step. */
static int state(lua_State *L, ms_rule *rule) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  lua_newtable(L);
  for (int i = 0; i < cls->nstate && ms_rule_state(rule, i) != NULL; i++) {
    ms_lua_pushcopy(L, ms_rule_state(rule, i), ms_rule_dim(rule));
    lua_setfield(L, -2, cls->state_names[i]);
  }
  return 1;
}

/* native.rule_op(rule, op, ...): info, check, reset, steps, state,
 * step(x, g).  Engine failures (and a busy rule) -> nil, message. */
static int l_rule_op(lua_State *L) {
  l_rule *r = checkbox(L, 1, "rule_op");
  const char *op = luaL_checkstring(L, 2);
  int busy = r->use.users > 0;
  ms_status st = MS_OK;
  if (strcmp(op, "info") == 0) {
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "info");
    return 1;
  }
  if (strcmp(op, "steps") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_rule_steps(r->rule));
    return 1;
  }
  if (strcmp(op, "state") == 0) return state(L, r->rule);
  if (strcmp(op, "check") == 0) {
    st = ms_rule_check(r->rule);
  } else if (strcmp(op, "step") == 0 || strcmp(op, "reset") == 0) {
    if (busy) {
      lua_pushnil(L);
      lua_pushliteral(L, "rule is in use by a running step");
      return 2;
    }
    if (op[1] == 't') return step(L, r);
    if (ms_rule_dim(r->rule) > 0) st = ms_rule_reset(r->rule, ms_rule_dim(r->rule));
  } else {
    return ms_lua_argerror(L, 2, "rule_op", "no such operation");
  }
  return ms_lua_status(L, st);
}

static int l_gc(lua_State *L) {
  l_rule *r = ms_lua_checkudata(L, 1, MS_LUA_RULE);
  if (r->rule == NULL || ms_lua_defer_close(&r->use)) return 0;
  ms_rule_free(r->rule);
  r->rule = NULL;
  lua_getiuservalue(L, 1, 1);   /* let go of the schedules */
  lua_getfield(L, -1, "sched");
  ms_lua_release_all(L, -1);
  lua_getfield(L, -2, "retired");
  ms_lua_release_all(L, -1);
  if (r->lc != NULL && lua_getfield(L, -3, "class") == LUA_TUSERDATA) ms_lua_release(L, -1);
  lua_pop(L, 4);
  int *refs[] = {&r->pref, &r->gref, &r->yref, &r->sref, &r->href, &r->hvref};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    luaL_unref(L, LUA_REGISTRYINDEX, *refs[i]);
    *refs[i] = LUA_NOREF;
  }
  return 0;
}

void ms_lua_open_rule(lua_State *L) {
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg metamethods[] = {{"__gc", l_gc}, {"__close", l_gc}, {NULL, NULL}};
  static const luaL_Reg class_metamethods[] = {{"__gc", l_class_gc}, {NULL, NULL}};
  static const luaL_Reg fns[] = {
      {"ruleclass_new", l_ruleclass_new}, {"rule_new", l_rule_new},
      {"rule_set", l_rule_set},           {"rule_op", l_rule_op},
      {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_RULE, none, metamethods);
  lua_pushnil(L);   /* fields are the shared Lua's __index */
  lua_setfield(L, -2, "__index");
  ms_lua_newclass(L, MS_LUA_RULECLASS, none, class_metamethods);
  lua_pushnil(L);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 2);
  luaL_setfuncs(L, fns, 0);
}
