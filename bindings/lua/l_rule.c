/*
 * l_rule.c -- update rules: one constructor per built-in class
 * (ms.gd{lr = 0.4}, ms.momentum{lr = 0.6, beta = 0.5}, ...) and the methods
 * every rule shares.
 */
#include <math.h>
#include <string.h>

#include "ms_lua.h"

typedef struct l_rule {
  ms_rule *rule;
} l_rule;

static l_rule *checkbox(lua_State *L, int arg) {
  l_rule *r = luaL_checkudata(L, arg, MS_LUA_RULE);
  if (r->rule == NULL) luaL_argerror(L, arg, "rule has been closed");
  return r;
}

ms_rule *ms_lua_checkrule(lua_State *L, int arg) {
  return checkbox(L, arg)->rule;
}

static l_rule *newbox(lua_State *L) {
  l_rule *r = lua_newuserdatauv(L, sizeof *r, 1);
  r->rule = NULL;
  luaL_setmetatable(L, MS_LUA_RULE);
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

/* Set hyper-parameter `key` of rule from the Lua value at idx; raise an
 * argument error for arg when the name or the value is wrong. */
static void sethyper(lua_State *L, int arg, ms_rule *rule, const char *key,
                     int idx) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  int i = ms_rule_hyper_index(rule, key);
  if (i < 0)
    luaL_argerror(L, arg, lua_pushfstring(L, "%s has no hyper-parameter '%s' "
                                             "(it takes: %s)",
                                          cls->name, key, pushnames(L, cls)));
  double value = 0;
  if (lua_type(L, idx) == LUA_TBOOLEAN && cls->hyper[i].kind == MS_HYPER_FLAG)
    value = lua_toboolean(L, idx);
  else if (lua_type(L, idx) == LUA_TNUMBER)
    value = lua_tonumber(L, idx);
  else
    luaL_argerror(L, arg, lua_pushfstring(L, "%s must be a %s, got %s", key,
                                          cls->hyper[i].kind == MS_HYPER_FLAG
                                              ? "boolean" : "number",
                                          luaL_typename(L, idx)));
  if (ms_rule_set(rule, key, value) != MS_OK)
    luaL_argerror(L, arg, ms_last_error());
}

/* ms.<class>{name = value, ...} */
static int l_rule_new(lua_State *L) {
  const ms_rule_class *cls = lua_touserdata(L, lua_upvalueindex(1));
  if (lua_isnoneornil(L, 1)) {
    lua_settop(L, 0);
    lua_newtable(L);
  }
  luaL_checktype(L, 1, LUA_TTABLE);
  l_rule *r = newbox(L);
  if (ms_rule_new(cls, &r->rule) != MS_OK) return ms_lua_fail(L, MS_ENOMEM);
  lua_pushnil(L);
  while (lua_next(L, 1) != 0) {
    if (lua_type(L, -2) != LUA_TSTRING)
      luaL_argerror(L, 1, lua_pushfstring(L, "hyper-parameter names must be "
                                             "strings, got %s",
                                          luaL_typename(L, -2)));
    sethyper(L, 1, r->rule, lua_tostring(L, -2), lua_gettop(L));
    lua_pop(L, 1);
  }
  if (ms_rule_check(r->rule) != MS_OK) luaL_argerror(L, 1, ms_last_error());
  return 1;
}

/* ------------------------------------------------------------ labels */

static int shown(const ms_hyper_info *h, double v) {
  return isnan(h->def) || v != h->def ||
         (h->kind == MS_HYPER_REAL && h->def != 0);
}

void ms_lua_pushrulelabel(lua_State *L, const ms_rule *rule) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, cls->name);
  luaL_addchar(&b, '{');
  int first = 1;
  for (int i = 0; i < cls->nhyper; i++) {
    const ms_hyper_info *h = &cls->hyper[i];
    double v = ms_rule_get(rule, i);
    if (!shown(h, v)) continue;
    char num[32];
    if (h->kind == MS_HYPER_FLAG)
      strcpy(num, v != 0 ? "true" : "false");
    else
      ms_format_double(num, sizeof num, v);
    if (!first) luaL_addstring(&b, ", ");
    luaL_addstring(&b, h->name);
    luaL_addchar(&b, '=');
    luaL_addstring(&b, num);
    first = 0;
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
}

/* ----------------------------------------------------------- methods */

/* rule:step(x, g): one update of the vector x in place; returns x. */
static int l_step(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
  ms_lua_vec *x = ms_lua_checkvec(L, 2);
  luaL_argcheck(L, !x->readonly, 2, "vector is read-only");
  ms_lua_vec *g = ms_lua_checkvector(L, 3);
  if (g->n != x->n)
    luaL_argerror(L, 3, lua_pushfstring(L, "size mismatch: g has %I entries, "
                                           "x has %I",
                                        (lua_Integer)g->n, (lua_Integer)x->n));
  luaL_argcheck(L, x->n > 0, 2, "vector must not be empty");
  lua_State *prev = ms_lua_enter(L);
  ms_status st = ms_rule_step(rule, x->x, g->x, x->n);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_settop(L, 2);
  return 1;
}

static int l_reset(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
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

static void pushhyper(lua_State *L, const ms_rule *rule, int i) {
  const ms_hyper_info *h = &ms_rule_class_of(rule)->hyper[i];
  double v = ms_rule_get(rule, i);
  if (h->kind == MS_HYPER_FLAG)
    lua_pushboolean(L, v != 0);
  else
    lua_pushnumber(L, v);
}

static int l_hyper(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
  const ms_rule_class *cls = ms_rule_class_of(rule);
  lua_createtable(L, 0, cls->nhyper);
  for (int i = 0; i < cls->nhyper; i++) {
    pushhyper(L, rule, i);
    lua_setfield(L, -2, cls->hyper[i].name);
  }
  return 1;
}

static int l_clone(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
  l_rule *r = newbox(L);
  ms_status st = ms_rule_clone(rule, &r->rule);
  return st == MS_OK ? 1 : ms_lua_fail(L, st);
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
    ms_lua_pushrulelabel(L, rule);
  } else {
    int i = ms_rule_hyper_index(rule, key);
    if (i < 0) return 1;   /* nil */
    pushhyper(L, rule, i);
  }
  return 1;
}

/* rule.lr = 0.1: checked like the constructor's arguments. */
static int l_newindex(lua_State *L) {
  ms_rule *rule = ms_lua_checkrule(L, 1);
  const char *key = luaL_checkstring(L, 2);
  sethyper(L, 3, rule, key, 3);
  return 0;
}

static int l_tostring(lua_State *L) {
  ms_lua_pushrulelabel(L, ms_lua_checkrule(L, 1));
  return 1;
}

static int l_gc(lua_State *L) {
  l_rule *r = luaL_checkudata(L, 1, MS_LUA_RULE);
  ms_rule_free(r->rule);
  r->rule = NULL;
  return 0;
}

static const luaL_Reg methods[] = {
    {"step", l_step},   {"reset", l_reset}, {"state", l_state},
    {"hyper", l_hyper}, {"clone", l_clone}, {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__newindex", l_newindex}, {"__tostring", l_tostring},
    {"__gc", l_gc},             {"__close", l_gc},
    {NULL, NULL}};

void ms_lua_open_rule(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_RULE, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);

  for (int i = 0; i < ms_rule_class_count(); i++) {
    const ms_rule_class *cls = ms_rule_class_at(i);
    lua_pushlightuserdata(L, (void *)cls);
    lua_pushcclosure(L, l_rule_new, 1);
    lua_setfield(L, -2, cls->name);
  }
}
