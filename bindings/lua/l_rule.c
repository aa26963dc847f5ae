/*
 * l_rule.c -- update rules: one constructor per built-in class
 * (ms.gd{lr = 0.4}, ms.momentum{lr = 0.6, beta = 0.5}, ...), rules defined
 * in Lua with ms.rule{...}, and the methods every rule shares.
 *
 * Any hyper-parameter may be a number, a ms.schedule, or a Lua function of
 * the step; the rule's user value keeps the schedules alive.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "ms_lua.h"

/* A rule class defined in Lua: the core's method table plus what the
 * trampolines need.  Lives in a userdata whose user value holds the
 * strings the class points to. */
typedef struct l_class {
  ms_rule_class cls;
  ms_hyper_info *hyper;
  const char **state_names;
  int step_ref, look_ref;    /* the Lua functions */
} l_class;

typedef struct l_rule {
  ms_lua_use use;            /* first: the calls running on it */
  ms_rule *rule;
  const l_class *lc;         /* NULL for built-in rules */
  /* For Lua rules, what the step function receives: views on the engine's
   * x and g, a table of views on the state, a table of hyper-parameters. */
  int pref, gref, yref, sref, href, hvref;   /* h: a proxy of table hv */
  ms_lua_vec *p, *g, *y;
  double *hcache;            /* values last put in the h table */
  int nstate;
  ms_lua_vec *s[];           /* the state views, nstate of them */
} l_rule;

static l_rule *checkbox(lua_State *L, int arg) {
  l_rule *r = ms_lua_checkudata(L, arg, MS_LUA_RULE);
  if (r->rule == NULL || r->use.closed)
    luaL_argerror(L, arg, "rule has been closed");
  return r;
}

/* The rule at arg, for a call that steps it: its state belongs to one
 * running call at a time (a step calling its own rule:step with another
 * dimension would free the state the outer step is using). */
static l_rule *checkidle(lua_State *L, int arg) {
  l_rule *r = checkbox(L, arg);
  if (r->use.users > 0) luaL_error(L, "rule is in use by a running step");
  return r;
}

ms_rule *ms_lua_checkidlerule(lua_State *L, int arg) {
  return checkidle(L, arg)->rule;
}

ms_rule *ms_lua_checkrule(lua_State *L, int arg) {
  return checkbox(L, arg)->rule;
}

/* A new rule userdata around the core rule made for cls; its user value is
 * {sched = {name = schedule}, class = class userdata or nil}. */
static l_rule *newbox(lua_State *L, const ms_rule_class *cls, const l_class *lc) {
  int nstate = lc != NULL ? cls->nstate : 0;
  l_rule *r = lua_newuserdatauv(L, sizeof *r + (size_t)nstate * sizeof r->s[0], 1);
  memset(r, 0, sizeof *r);
  r->lc = lc;
  r->nstate = nstate;
  r->pref = r->gref = r->yref = r->sref = r->href = r->hvref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_RULE);
  lua_newtable(L);
  lua_newtable(L);
  lua_setfield(L, -2, "sched");
  lua_newtable(L);
  lua_setfield(L, -2, "retired");
  lua_setiuservalue(L, -2, 1);
  if (ms_rule_new(cls, &r->rule) != MS_OK) ms_lua_fail(L, MS_ENOMEM);
  return r;
}

/* "lr, beta" */
static const char *pushnames(lua_State *L, const ms_rule_class *cls) {
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; i < cls->nhyper; i++) {
    if (i > 0) luaL_addstring(&b, ", ");
    luaL_addstring(&b, cls->hyper[i].name);
  }
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

/* Remember (or forget, with nil at idx) the schedule of hyper-parameter
 * key in the user value of the rule at box; the rule is one of the
 * schedule's users.  The schedule it replaces is let go of at once, or --
 * when a call running on the rule may be evaluating it -- when the last
 * such call ends (ms_lua_rule_idle). */
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

/* Set hyper-parameter `key` of the rule at box from the Lua value at idx;
 * raise an argument error for arg when the name or the value is wrong. */
static void sethyper(lua_State *L, int arg, int box, const char *key, int idx) {
  ms_rule *rule = ((l_rule *)lua_touserdata(L, box))->rule;
  const ms_rule_class *cls = ms_rule_class_of(rule);
  int i = ms_rule_hyper_index(rule, key);
  if (i < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s has no hyper-parameter '%s' "
                                             "(it takes: %s)",
                                          cls->name, key, pushnames(L, cls)));
  int flag = cls->hyper[i].kind == MS_HYPER_FLAG;
  ms_status st;
  if (lua_type(L, idx) == LUA_TBOOLEAN && flag) {
    st = ms_rule_set(rule, key, lua_toboolean(L, idx));
  } else if (lua_type(L, idx) == LUA_TNUMBER) {
    st = ms_rule_set(rule, key, lua_tonumber(L, idx));
  } else if (!flag && (lua_isfunction(L, idx) ||
                       ms_lua_testudata(L, idx, MS_LUA_SCHEDULE))) {
    lua_pushvalue(L, idx);
    ms_schedule *s = ms_lua_toschedule(L, -1);
    st = ms_rule_set_schedule(rule, key, s);
    if (st == MS_OK) keepschedule(L, box, key, lua_gettop(L));
    lua_pop(L, 1);
    if (st != MS_OK) luaL_argerror(L, arg, ms_last_error());
    return;
  } else {
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a %s, got %s", key,
                                          flag ? "boolean"
                                               : "number, schedule or function",
                                          ms_lua_typename(L, idx)));
    return;
  }
  if (st != MS_OK) luaL_argerror(L, arg, ms_last_error());
  lua_pushnil(L);
  keepschedule(L, box, key, lua_gettop(L));
  lua_pop(L, 1);
}

/* Set every hyper-parameter named in the table at arg, then check them. */
static void sethypers(lua_State *L, int arg, int box) {
  if (!lua_isnil(L, arg)) {
    lua_pushnil(L);
    while (lua_next(L, arg) != 0) {
      if (lua_type(L, -2) != LUA_TSTRING)
        luaL_argerror(L, arg, lua_pushfstring(L, "hyper-parameter names must "
                                                 "be strings, got %s",
                                              luaL_typename(L, -2)));
      sethyper(L, arg, box, lua_tostring(L, -2), lua_gettop(L));
      lua_pop(L, 1);
    }
  }
  if (ms_rule_check(((l_rule *)lua_touserdata(L, box))->rule) != MS_OK)
    luaL_argerror(L, arg, ms_last_error());
}

/* ms.<class>{name = value, ...} */
static int l_rule_new(lua_State *L) {
  const ms_rule_class *cls = lua_touserdata(L, lua_upvalueindex(1));
  if (!lua_isnoneornil(L, 1)) luaL_checktype(L, 1, LUA_TTABLE);
  lua_settop(L, 1);
  newbox(L, cls, NULL);
  sethypers(L, 1, lua_gettop(L));
  return 1;
}

/* ------------------------------------------------------------ labels */

static int shown(const ms_hyper_info *h, double v) {
  return isnan(h->def) || v != h->def ||
         (h->kind == MS_HYPER_REAL && h->def != 0);
}

/* The label is built in a luaL_Buffer, each piece pushed and added with
 * luaL_addvalue: a rule may have any number of hyper-parameters, the
 * stack only a few free slots. */
void ms_lua_pushrulelabel(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  ms_rule *rule = ms_lua_checkrule(L, idx);
  const ms_rule_class *cls = ms_rule_class_of(rule);
  int first = 1;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, cls->name);
  luaL_addchar(&b, '{');
  for (int i = 0; i < cls->nhyper; i++) {
    const ms_hyper_info *h = &cls->hyper[i];
    double v = ms_rule_get(rule, i);
    if (ms_rule_get_schedule(rule, i) == NULL && !shown(h, v)) continue;
    if (!first) luaL_addstring(&b, ", ");
    first = 0;
    luaL_addstring(&b, h->name);
    luaL_addchar(&b, '=');
    if (ms_rule_get_schedule(rule, i) != NULL) {
      lua_getiuservalue(L, idx, 1);
      lua_getfield(L, -1, "sched");
      lua_getfield(L, -1, h->name);
      luaL_tolstring(L, -1, NULL);
      lua_replace(L, -4);
      lua_pop(L, 2);
      luaL_addvalue(&b);
    } else {
      char num[32];
      if (h->kind == MS_HYPER_FLAG)
        strcpy(num, v != 0 ? "true" : "false");
      else
        ms_format_double(num, sizeof num, v);
      luaL_addstring(&b, num);
    }
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
}

/* ------------------------------------------------- rules defined in Lua */

/* Point view v at x for a call, saving what it pointed at before (a
 * nested call may be using it). */
static void aim(ms_lua_vec *v, const double *x, size_t n, ms_lua_vec *saved) {
  *saved = *v;
  ms_lua_setview(v, (double *)x, n);
}

/* Bring the h table up to date with the values in effect: only the
 * changed ones are stored (most hyper-parameters never change). */
static void update_h(lua_State *L, l_rule *r, const double *h) {
  const ms_rule_class *cls = &r->lc->cls;
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
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->href);   /* the read-only proxy */
}

/* After the step: the result must be nothing or p itself (the state
 * table guards itself, see l_state_newindex). */
static ms_status check_step(lua_State *L, l_rule *r, int result) {
  if (lua_isnil(L, result) || lua_touserdata(L, result) == (void *)r->p)
    return MS_OK;
  return ms_lua_pending(L, "step of rule '%s' must update p in place (e.g. "
                           "p:axpy(-h.lr, g)); it returned %s",
                        r->lc->cls.name,
                        ms_lua_testudata(L, result, MS_LUA_VEC)
                            ? "a new vector"
                            : luaL_typename(L, result));
}

/* Call the class's function fn(a, b, s, h, t) in Lua: a and b are the
 * rule's views (registry references aref and bref) aimed at ax and bx for
 * the call, s the state table, h the hyper-parameters in effect.  With
 * check_result, the function must return nothing or a itself (a step
 * updates p in place).  Every view is restored afterwards. */
static ms_status call_lua(l_rule *r, int fn, int aref, ms_lua_vec *a,
                          const double *ax, int bref, ms_lua_vec *b,
                          const double *bx, double *const *state, size_t n,
                          const double *h, int64_t t, int check_result) {
  lua_State *L = ms_lua_current();
  if (L == NULL) return MS_ECALLBACK;
  if (!lua_checkstack(L, 12) || r->nstate > 64)
    return ms_lua_pending(L, "stack overflow in rule '%s'", r->lc->cls.name);
  ms_lua_vec asaved, bsaved, ssaved[64];
  int base = ms_lua_pushhandler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, fn);
  aim(a, ax, n, &asaved);
  lua_rawgeti(L, LUA_REGISTRYINDEX, aref);
  aim(b, bx, n, &bsaved);
  lua_rawgeti(L, LUA_REGISTRYINDEX, bref);
  for (int i = 0; i < r->nstate; i++) aim(r->s[i], state[i], n, &ssaved[i]);
  lua_rawgeti(L, LUA_REGISTRYINDEX, r->sref);
  update_h(L, r, h);
  lua_pushinteger(L, (lua_Integer)t);
  ms_status st = ms_lua_pcall(L, 5, 1, base);
  if (st == MS_OK && check_result) st = check_step(L, r, base + 1);
  *a = asaved;
  *b = bsaved;
  for (int i = 0; i < r->nstate; i++) *r->s[i] = ssaved[i];
  lua_settop(L, base - 1);
  return st;
}

/* The class's step: step(p, g, s, h, t) in Lua. */
static ms_status lua_step(void *ctx, const double *h, double *x,
                          const double *g, double *const *state, size_t n,
                          int64_t t) {
  l_rule *r = ctx;
  return call_lua(r, r->lc->step_ref, r->pref, r->p, x, r->gref, r->g, g,
                  state, n, h, t, 1);
}

/* The class's lookahead: lookahead(p, y, s, h, t) writes into y the point
 * at which the gradient of step t is taken; p is read-only there (the
 * read-only view g serves). */
static ms_status lua_lookahead(void *ctx, const double *h, const double *x,
                               double *const *state, double *y, size_t n,
                               int64_t t) {
  l_rule *r = ctx;
  ms_vec_copy(y, x, n);   /* a lookahead that writes nothing: at x */
  return call_lua(r, r->lc->look_ref, r->gref, r->g, x, r->yref, r->y, y,
                  state, n, h, t, 0);
}

/* s.name = value in a step: the state belongs to the engine, which would
 * never see a replacement vector. */
static int l_state_newindex(lua_State *L) {
  const char *name = luaL_tolstring(L, 2, NULL);
  return luaL_error(L, "rule '%s' cannot replace state vector s.%s; update "
                       "it in place (s.%s:copy(...))",
                    lua_tostring(L, lua_upvalueindex(1)), name, name);
}

/* h.name = value in a step: the values are the rule's, set on the rule
 * (rule.lr = ...) where they are checked, not in the step's h, where
 * they would outlive the step unchecked. */
static int l_hyper_newindex(lua_State *L) {
  const char *name = luaL_tolstring(L, 2, NULL);
  return luaL_error(L, "rule '%s' cannot assign h.%s: h is read-only (set "
                       "the rule's hyper-parameter instead: rule.%s = ...)",
                    lua_tostring(L, lua_upvalueindex(1)), name, name);
}

/* for k, v in pairs(h): the values behind the proxy */
static int l_hyper_pairs(lua_State *L) {
  lua_getglobal(L, "next");
  lua_pushvalue(L, lua_upvalueindex(1));
  lua_pushnil(L);
  return 3;
}

/* Push h, a proxy of the table of values hv (at the top, popped) that
 * refuses assignments; hv stays reachable through it.  A userdata rather
 * than a table: rawset cannot write into it either. */
static void pushproxy(lua_State *L, const char *name) {
  lua_newuserdatauv(L, 0, 0);
  lua_createtable(L, 0, 4);
  lua_pushvalue(L, -3);
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, name);
  lua_pushcclosure(L, l_hyper_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_pushvalue(L, -3);
  lua_pushcclosure(L, l_hyper_pairs, 1);
  lua_setfield(L, -2, "__pairs");
  lua_pushliteral(L, "read-only");
  lua_setfield(L, -2, "__metatable");
  lua_setmetatable(L, -2);
  lua_remove(L, -2);
}

static int newview_ref(lua_State *L, int readonly, ms_lua_vec **v) {
  *v = ms_lua_newview(L, readonly);
  return luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Give the Lua rule at box its views and tables, and make it the context
 * of its core rule. */
static void setup_lua_rule(lua_State *L, int box) {
  l_rule *r = lua_touserdata(L, box);
  const ms_rule_class *cls = &r->lc->cls;
  r->pref = newview_ref(L, 0, &r->p);
  r->gref = newview_ref(L, 1, &r->g);
  r->yref = newview_ref(L, 0, &r->y);
  lua_newuserdatauv(L, 0, 0);          /* s: a proxy (rawset-proof) ... */
  lua_createtable(L, 0, 2);            /* ... whose metatable */
  lua_createtable(L, 0, cls->nstate);  /* reads the views */
  for (int i = 0; i < cls->nstate; i++) {
    r->s[i] = ms_lua_newview(L, 0);
    lua_setfield(L, -2, cls->state_names[i]);
  }
  lua_setfield(L, -2, "__index");
  lua_pushstring(L, cls->name);        /* and refuses writes */
  lua_pushcclosure(L, l_state_newindex, 1);
  lua_setfield(L, -2, "__newindex");
  lua_setmetatable(L, -2);
  r->sref = luaL_ref(L, LUA_REGISTRYINDEX);
  lua_createtable(L, 0, cls->nhyper);
  lua_pushvalue(L, -1);
  r->hvref = luaL_ref(L, LUA_REGISTRYINDEX);
  pushproxy(L, cls->name);
  r->href = luaL_ref(L, LUA_REGISTRYINDEX);
  /* NaN bits no value can have, so that the first update stores all */
  r->hcache = lua_newuserdatauv(L, (size_t)(cls->nhyper ? cls->nhyper : 1) *
                                       sizeof(double), 0);
  memset(r->hcache, 0xff, (size_t)cls->nhyper * sizeof(double));
  lua_getiuservalue(L, box, 1);
  lua_insert(L, -2);
  lua_setfield(L, -2, "hcache");   /* kept alive with the rule */
  lua_pop(L, 1);
  ms_rule_set_context(r->rule, r);
}

/* class{name = value, ...}: a rule of a class defined in Lua */
static int l_class_call(lua_State *L) {
  l_class *lc = ms_lua_checkudata(L, 1, MS_LUA_RULECLASS);
  if (!lua_isnoneornil(L, 2)) luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  newbox(L, &lc->cls, lc);
  int box = lua_gettop(L);
  lua_getiuservalue(L, box, 1);
  lua_pushvalue(L, 1);
  lua_setfield(L, -2, "class");     /* the class outlives its rules */
  lua_pop(L, 1);
  setup_lua_rule(L, box);
  sethypers(L, 2, box);
  lua_settop(L, box);
  return 1;
}

/* Hyper-parameter spec: a default number, a boolean (a flag), or
 * {default = x, min = a, max = b} (no default: required). */
static void checkhyper(lua_State *L, int idx, const char *name, ms_hyper_info *h) {
  h->name = name;
  h->lo = -HUGE_VAL;
  h->hi = HUGE_VAL;
  h->lo_open = h->hi_open = 1;
  h->kind = MS_HYPER_REAL;
  switch (lua_type(L, idx)) {
    case LUA_TNUMBER:
      h->def = lua_tonumber(L, idx);
      break;
    case LUA_TBOOLEAN:
      h->kind = MS_HYPER_FLAG;
      h->def = lua_toboolean(L, idx);
      break;
    case LUA_TTABLE:
      lua_getfield(L, idx, "default");
      lua_getfield(L, idx, "min");
      lua_getfield(L, idx, "max");
      h->def = luaL_optnumber(L, -3, NAN);
      if (!lua_isnil(L, -2)) h->lo = luaL_checknumber(L, -2), h->lo_open = 0;
      if (!lua_isnil(L, -1)) h->hi = luaL_checknumber(L, -1), h->hi_open = 0;
      lua_pop(L, 3);
      break;
    default:
      luaL_argerror(L, 1, lua_pushfstring(L, "hyper.%s must be a number, a "
                                             "boolean or {default=, min=, max=}",
                                          name));
  }
}

static int lr_first(const void *a, const void *b) {
  const char *x = *(const char *const *)a, *y = *(const char *const *)b;
  int xl = strcmp(x, "lr") == 0, yl = strcmp(y, "lr") == 0;
  return xl || yl ? yl - xl : strcmp(x, y);
}

/* The keys of the table at idx, sorted with "lr" first, as a new array
 * table on the stack (which keeps the strings alive). */
static void sortednames(lua_State *L, int idx) {
  lua_newtable(L);
  int n = 0;
  lua_pushnil(L);
  while (lua_next(L, idx) != 0) {
    lua_pop(L, 1);
    luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 1,
                  "hyper-parameter names must be strings");
    lua_pushvalue(L, -1);
    lua_rawseti(L, -3, ++n);
  }
  const char **names = lua_newuserdatauv(L, (size_t)(n ? n : 1) * sizeof *names, 0);
  for (int i = 0; i < n; i++) {
    lua_rawgeti(L, -2, i + 1);
    names[i] = lua_tostring(L, -1);
    lua_pop(L, 1);
  }
  qsort(names, (size_t)n, sizeof *names, lr_first);
  for (int i = 0; i < n; i++) {
    lua_pushstring(L, names[i]);
    lua_rawseti(L, -3, i + 1);
  }
  lua_pop(L, 1);
}

/* ms.rule{name = "qhm", hyper = {lr = 0.1, ...}, state = {"buf"},
 *         step = function(p, g, s, h, t) ... end,
 *         lookahead = function(p, y, s, h, t) ... end}: a rule class, which
 * makes rules when called: qhm{lr = 0.01}. */
static int l_rule_define(lua_State *L) {
  static const char *const known[] = {"name", "hyper", "state", "step",
                                      "lookahead", NULL};
  ms_lua_checkoptions(L, 1, known);
  lua_getfield(L, 1, "name");
  const char *name = luaL_optstring(L, -1, "rule");
  luaL_argcheck(L, lua_getfield(L, 1, "step") == LUA_TFUNCTION, 1,
                "step must be a function(p, g, s, h, t)");
  int lt = lua_getfield(L, 1, "lookahead");
  luaL_argcheck(L, lt == LUA_TNIL || lt == LUA_TFUNCTION, 1,
                "lookahead must be a function(p, y, s, h, t)");
  if (lua_getfield(L, 1, "hyper") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  luaL_argcheck(L, lua_istable(L, -1), 1, "hyper must be a table");
  int hyper = lua_gettop(L);
  if (lua_getfield(L, 1, "state") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_newtable(L);
  }
  luaL_argcheck(L, lua_istable(L, -1), 1, "state must be a table of names");
  int state = lua_gettop(L);
  sortednames(L, hyper);
  int names = lua_gettop(L);
  lua_Unsigned nstates = lua_rawlen(L, state);   /* a __len may say anything */
  luaL_argcheck(L, nstates <= 64, 1, "at most 64 state vectors");
  int nhyper = (int)lua_rawlen(L, names), nstate = (int)nstates;

  l_class *lc = lua_newuserdatauv(L, sizeof *lc, 1);
  memset(lc, 0, sizeof *lc);
  lc->step_ref = lc->look_ref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_RULECLASS);
  int box = lua_gettop(L);
  lua_newtable(L);   /* user value: the strings and arrays the class uses */
  lua_pushvalue(L, names);
  lua_setfield(L, -2, "names");
  lua_pushvalue(L, state);
  lua_setfield(L, -2, "state");
  lc->hyper = lua_newuserdatauv(L, (size_t)(nhyper ? nhyper : 1) * sizeof *lc->hyper, 0);
  lua_setfield(L, -2, "hyper");
  lc->state_names =
      lua_newuserdatauv(L, (size_t)(nstate ? nstate : 1) * sizeof(char *), 0);
  lua_setfield(L, -2, "state_names");
  lua_pushstring(L, name);
  lc->cls.name = lua_tostring(L, -1);
  lua_setfield(L, -2, "name");
  lua_setiuservalue(L, box, 1);

  for (int i = 0; i < nhyper; i++) {
    lua_geti(L, names, i + 1);
    const char *hname = lua_tostring(L, -1);   /* kept alive by `names` */
    lua_pop(L, 1);
    lua_getfield(L, hyper, hname);
    checkhyper(L, lua_gettop(L), hname, &lc->hyper[i]);
    lua_pop(L, 1);
  }
  for (int i = 0; i < nstate; i++) {
    lua_geti(L, state, i + 1);
    luaL_argcheck(L, lua_type(L, -1) == LUA_TSTRING, 1,
                  "state must be a list of names");
    lc->state_names[i] = lua_tostring(L, -1);  /* kept alive by `state` */
    lua_pop(L, 1);
  }
  lc->cls.nhyper = nhyper;
  lc->cls.hyper = lc->hyper;
  lc->cls.nstate = nstate;
  lc->cls.state_names = lc->state_names;
  lc->cls.step = lua_step;
  lc->cls.lookahead = lt == LUA_TFUNCTION ? lua_lookahead : NULL;
  lua_getfield(L, 1, "step");
  lc->step_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  if (lt == LUA_TFUNCTION) {
    lua_getfield(L, 1, "lookahead");
    lc->look_ref = luaL_ref(L, LUA_REGISTRYINDEX);
  }
  lua_settop(L, box);
  return 1;
}

static int l_class_tostring(lua_State *L) {
  l_class *lc = ms_lua_checkudata(L, 1, MS_LUA_RULECLASS);
  lua_pushfstring(L, "rule class %s", lc->cls.name);
  return 1;
}

static int l_class_gc(lua_State *L) {
  l_class *lc = ms_lua_checkudata(L, 1, MS_LUA_RULECLASS);
  luaL_unref(L, LUA_REGISTRYINDEX, lc->step_ref);
  luaL_unref(L, LUA_REGISTRYINDEX, lc->look_ref);
  lc->step_ref = lc->look_ref = LUA_NOREF;
  return 0;
}

/* ----------------------------------------------------------- methods */

/* rule:step(x, g): one update of the vector x in place; returns x. */
static int l_step(lua_State *L) {
  ms_rule *rule = ms_lua_checkidlerule(L, 1);
  ms_lua_vec *x = ms_lua_checkvec(L, 2);
  luaL_argcheck(L, !x->readonly, 2, "vector is read-only");
  ms_lua_vec *g = ms_lua_checkvector(L, 3);
  if (g->n != x->n)
    luaL_argerror(L, 3, lua_pushfstring(L, "size mismatch: g has %I entries, "
                                           "x has %I",
                                        (lua_Integer)g->n, (lua_Integer)x->n));
  luaL_argcheck(L, x->n > 0, 2, "vector must not be empty");
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);
  ms_status st = ms_rule_step(rule, x->x, g->x, x->n);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_settop(L, 2);
  return 1;
}

static int l_reset(lua_State *L) {
  ms_rule *rule = ms_lua_checkidlerule(L, 1);
  if (ms_rule_dim(rule) > 0) {
    ms_status st = ms_rule_reset(rule, ms_rule_dim(rule));
    if (st != MS_OK) return ms_lua_fail(L, st);
  }
  lua_settop(L, 1);
  return 1;
}

/* rule:state(): {name = copy of the state vector, ...}; empty before the
 * first step. */
static int l_state(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
  const ms_rule_class *cls = ms_rule_class_of(rule);
  lua_newtable(L);
  for (int i = 0; i < cls->nstate; i++) {
    const double *s = ms_rule_state(rule, i);
    if (s == NULL) break;
    ms_lua_pushcopy(L, s, ms_rule_dim(rule));
    lua_setfield(L, -2, cls->state_names[i]);
  }
  return 1;
}

/* Push hyper-parameter i of the rule at box: its value or its schedule. */
static void pushhyper(lua_State *L, int box, int i) {
  ms_rule *rule = ((l_rule *)lua_touserdata(L, box))->rule;
  const ms_hyper_info *h = &ms_rule_class_of(rule)->hyper[i];
  double v = ms_rule_get(rule, i);
  if (ms_rule_get_schedule(rule, i) != NULL) {
    lua_getiuservalue(L, box, 1);
    lua_getfield(L, -1, "sched");
    lua_getfield(L, -1, h->name);
    lua_replace(L, -3);
    lua_pop(L, 1);
  } else if (h->kind == MS_HYPER_FLAG) {
    lua_pushboolean(L, v != 0);
  } else {
    lua_pushnumber(L, v);
  }
}

static int l_hyper(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
  const ms_rule_class *cls = ms_rule_class_of(rule);
  lua_createtable(L, 0, cls->nhyper);
  for (int i = 0; i < cls->nhyper; i++) {
    pushhyper(L, 1, i);
    lua_setfield(L, -2, cls->hyper[i].name);
  }
  return 1;
}

/* rule:clone(): the same class and hyper-parameters, a fresh state. */
static int l_clone(lua_State *L) {
  l_rule *src = checkbox(L, 1);
  const ms_rule_class *cls = ms_rule_class_of(src->rule);
  l_rule *r = newbox(L, cls, src->lc);
  int box = lua_gettop(L);
  ms_rule_free(r->rule);
  r->rule = NULL;
  ms_status st = ms_rule_clone(src->rule, &r->rule);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_getiuservalue(L, 1, 1);       /* share the schedules and the class */
  lua_getiuservalue(L, box, 1);
  lua_getfield(L, -2, "class");
  lua_setfield(L, -2, "class");
  lua_getfield(L, -2, "sched");
  lua_newtable(L);
  lua_pushnil(L);
  while (lua_next(L, -3) != 0) {
    ms_lua_hold(L, -1);   /* the clone uses them too */
    lua_pushvalue(L, -2);
    lua_insert(L, -2);
    lua_settable(L, -4);
  }
  lua_setfield(L, -3, "sched");
  lua_pop(L, 3);
  if (src->lc != NULL) setup_lua_rule(L, box);
  lua_settop(L, box);
  return 1;
}

static int l_index(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *key = lua_tostring(L, 2);
  if (key == NULL) return 1;
  if (strcmp(key, "name") == 0) {
    lua_pushstring(L, ms_rule_class_of(rule)->name);
  } else if (strcmp(key, "steps") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_rule_steps(rule));
  } else if (strcmp(key, "label") == 0) {
    ms_lua_pushrulelabel(L, 1);
  } else {
    int i = ms_rule_hyper_index(rule, key);
    if (i < 0) return 1;   /* nil */
    pushhyper(L, 1, i);
  }
  return 1;
}

/* rule.lr = 0.1: checked like the constructor's arguments. */
static int l_newindex(lua_State *L) {
  checkbox(L, 1);
  const char *key = luaL_checkstring(L, 2);
  sethyper(L, 3, 1, key, 3);
  return 0;
}

static int l_tostring(lua_State *L) {
  ms_lua_pushrulelabel(L, 1);
  return 1;
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
  lua_pop(L, 3);
  int *refs[] = {&r->pref, &r->gref, &r->yref, &r->sref, &r->href, &r->hvref};
  for (size_t i = 0; i < sizeof refs / sizeof refs[0]; i++) {
    luaL_unref(L, LUA_REGISTRYINDEX, *refs[i]);
    *refs[i] = LUA_NOREF;
  }
  return 0;
}

static const luaL_Reg methods[] = {
    {"step", l_step},   {"reset", l_reset}, {"state", l_state},
    {"hyper", l_hyper}, {"clone", l_clone}, {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__newindex", l_newindex}, {"__tostring", l_tostring},
    {"__gc", l_gc},             {"__close", l_gc},
    {NULL, NULL}};

static const luaL_Reg class_metamethods[] = {
    {"__call", l_class_call}, {"__tostring", l_class_tostring},
    {"__gc", l_class_gc},     {NULL, NULL}};

static const luaL_Reg no_methods[] = {{NULL, NULL}};

void ms_lua_open_rule(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_RULE, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  ms_lua_newclass(L, MS_LUA_RULECLASS, no_methods, class_metamethods);
  lua_pop(L, 1);

  for (int i = 0; i < ms_rule_class_count(); i++) {
    const ms_rule_class *cls = ms_rule_class_at(i);
    lua_pushlightuserdata(L, (void *)cls);
    lua_pushcclosure(L, l_rule_new, 1);
    lua_setfield(L, -2, cls->name);
  }
  lua_pushcfunction(L, l_rule_define);
  lua_setfield(L, -2, "rule");
}
