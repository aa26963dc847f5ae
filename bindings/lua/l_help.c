/* l_help.c -- the primitive that lua/momsandbox/help.lua reads the engine's
 * registry of rules with, for Lua 5.4.  Its twin for LuaJIT is
 * bindings/ffi/momsandbox/ffi_help.lua. */
#include "ms_lua.h"

static void setnumber(lua_State *L, const char *key, double v) {
  lua_pushnumber(L, v);
  lua_setfield(L, -2, key);
}

static void setboolean(lua_State *L, const char *key, int v) {
  lua_pushboolean(L, v);
  lua_setfield(L, -2, key);
}

/* native.rule_classes(): a descriptor of each built-in class, in registry
 * order (contract in lua/momsandbox/primitives.lua). */
static int l_rule_classes(lua_State *L) {
  int n = ms_rule_class_count();
  lua_createtable(L, n, 0);
  for (int i = 0; i < n; i++) {
    const ms_rule_class *c = ms_rule_class_at(i);
    lua_createtable(L, 0, 5);
    lua_pushstring(L, c->name);
    lua_setfield(L, -2, "name");
    lua_pushstring(L, ms_rule_doc(c->name));   /* NULL: nil */
    lua_setfield(L, -2, "doc");
    setboolean(L, "lookahead", c->lookahead != NULL);
    lua_createtable(L, c->nhyper, 0);
    for (int j = 0; j < c->nhyper; j++) {
      const ms_hyper_info *h = &c->hyper[j];
      lua_createtable(L, 0, 7);
      lua_pushstring(L, h->name);
      lua_setfield(L, -2, "name");
      setnumber(L, "def", h->def);
      setnumber(L, "lo", h->lo);
      setnumber(L, "hi", h->hi);
      setboolean(L, "lo_open", h->lo_open);
      setboolean(L, "hi_open", h->hi_open);
      setboolean(L, "flag", h->kind == MS_HYPER_FLAG);
      lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "hyper");
    lua_createtable(L, c->nstate, 0);
    for (int j = 0; j < c->nstate; j++) {
      lua_pushstring(L, c->state_names[j]);
      lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "state");
    lua_rawseti(L, -2, i + 1);
  }
  return 1;
}

void ms_lua_open_help(lua_State *L) {
  lua_pushcfunction(L, l_rule_classes);
  lua_setfield(L, -2, "rule_classes");
}
