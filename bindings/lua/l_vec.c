/*
 * l_vec.c -- ms.vec: dense double vectors for Lua, 1-based, with in-place
 * chainable operations that run in C (core/src/vec.c).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "ms_lua.h"

/* ------------------------------------------------------------ helpers */

ms_lua_vec *ms_lua_newvec(lua_State *L, size_t n) {
  if (n > (((size_t)-1) >> 1) / sizeof(double) - sizeof(ms_lua_vec))
    luaL_error(L, "vector of %I entries is too large", (lua_Integer)n);
  ms_lua_vec *v = lua_newuserdatauv(L, sizeof *v + n * sizeof(double), 0);
  v->x = (double *)(v + 1);
  v->n = n;
  v->view = 0;
  v->dead = 0;
  v->readonly = 0;
  memset(v->x, 0, n * sizeof(double));
  ms_lua_setclass(L, MS_LUA_VEC);
  return v;
}

ms_lua_vec *ms_lua_newview(lua_State *L, int readonly) {
  ms_lua_vec *v = lua_newuserdatauv(L, sizeof *v, 0);
  v->x = NULL;
  v->n = 0;
  v->view = 1;
  v->dead = 1;
  v->readonly = readonly;
  ms_lua_setclass(L, MS_LUA_VEC);
  return v;
}

void ms_lua_setview(ms_lua_vec *v, double *x, size_t n) {
  v->x = x;
  v->n = n;
  v->dead = 0;
}

void ms_lua_killview(ms_lua_vec *v) {
  v->x = NULL;
  v->n = 0;
  v->dead = 1;
}

ms_lua_vec *ms_lua_pushcopy(lua_State *L, const double *x, size_t n) {
  ms_lua_vec *v = ms_lua_newvec(L, n);
  if (n > 0) ms_vec_copy(v->x, x, n);
  return v;
}

static ms_lua_vec *checklive(lua_State *L, int arg, ms_lua_vec *v) {
  if (v->dead)
    luaL_argerror(L, arg,
                  "vector is no longer valid (a view kept after the callback "
                  "that received it returned)");
  return v;
}

ms_lua_vec *ms_lua_checkvec(lua_State *L, int arg) {
  return checklive(L, arg, ms_lua_checkudata(L, arg, MS_LUA_VEC));
}

/* The vector at arg, in the functions of this file: each has the vector
 * metatable as upvalue 1, so recognising a vector costs a pointer
 * comparison rather than a registry lookup -- methods run millions of
 * times in rules written in Lua. */
static ms_lua_vec *checkvec(lua_State *L, int arg) {
  ms_lua_vec *v = lua_touserdata(L, arg);
  if (v != NULL && lua_getmetatable(L, arg)) {
    int same = lua_rawequal(L, -1, lua_upvalueindex(1));
    lua_pop(L, 1);
    if (same) return checklive(L, arg, v);
  }
  return ms_lua_checkvec(L, arg);   /* raises the usual error */
}

static ms_lua_vec *checkwritable(lua_State *L, int arg) {
  ms_lua_vec *v = checkvec(L, arg);
  if (v->readonly) luaL_argerror(L, arg, "vector is read-only");
  return v;
}

ms_lua_vec *ms_lua_checkvector(lua_State *L, int arg) {
  ms_lua_vec *v = ms_lua_testudata(L, arg, MS_LUA_VEC);
  if (v != NULL) return checklive(L, arg, v);
  if (!lua_istable(L, arg))
    luaL_typeerror(L, arg, "ms.vec or table of numbers");
  arg = lua_absindex(L, arg);
  size_t n = ms_lua_rawlen(L, arg, arg, "table");
  v = ms_lua_newvec(L, n);
  for (size_t i = 0; i < n; i++) {
    int isnum;
    lua_geti(L, arg, (lua_Integer)i + 1);
    v->x[i] = lua_tonumberx(L, -1, &isnum);
    if (!isnum) {
      const char *msg = lua_pushfstring(L, "entry %I is a %s, not a number",
                                        (lua_Integer)i + 1, luaL_typename(L, -1));
      luaL_argerror(L, arg, msg);
    }
    lua_pop(L, 1);
  }
  lua_replace(L, arg);
  return v;
}

/* Same length as y, or an argument error naming arg. */
static ms_lua_vec *checksize(lua_State *L, int arg, const ms_lua_vec *y) {
  ms_lua_vec *x = checkvec(L, arg);
  if (x->n != y->n) {
    const char *msg = lua_pushfstring(L, "size mismatch: vector of %I, expected %I",
                                      (lua_Integer)x->n, (lua_Integer)y->n);
    luaL_argerror(L, arg, msg);
  }
  return x;
}

static size_t checkindex(lua_State *L, const ms_lua_vec *v, int arg) {
  int isint;
  lua_Integer i = lua_tointegerx(L, arg, &isint);
  if (!isint)
    luaL_error(L, "vector index must be an integer, got %s",
               lua_type(L, arg) == LUA_TNUMBER ? lua_tostring(L, arg)
                                               : luaL_typename(L, arg));
  if (i < 1 || (size_t)i > v->n)
    luaL_error(L, "vector index %I out of range (vector of %I)", i,
               (lua_Integer)v->n);
  return (size_t)i - 1;
}

/* The result of every in-place method: the vector itself, for chaining
 * (v:scale(b):add(g)), whatever else the call was given. */
static int self(lua_State *L) {
  lua_settop(L, 1);
  return 1;
}

/* ------------------------------------------------------ constructors */

/* ms.vec(n [, value]) or ms.vec{x1, x2, ...} or ms.vec(other): a new vector */
static int l_vec_new(lua_State *L) {
  if (lua_type(L, 1) == LUA_TNUMBER) {
    lua_Integer n = luaL_checkinteger(L, 1);
    luaL_argcheck(L, n >= 0, 1, "size must be >= 0");
    double value = luaL_optnumber(L, 2, 0.0);
    ms_lua_vec *v = ms_lua_newvec(L, (size_t)n);
    ms_vec_fill(v->x, value, v->n);
    return 1;
  }
  int copy = !lua_istable(L, 1);
  ms_lua_vec *v = ms_lua_checkvector(L, 1);
  if (copy)
    ms_lua_pushcopy(L, v->x, v->n);
  else
    lua_settop(L, 1);
  return 1;
}

/* The module's ms.vec is a table callable as a constructor. */
static int l_vec_call(lua_State *L) {
  lua_remove(L, 1);
  return l_vec_new(L);
}

/* ms.vec.linspace(a, b, n): n equally spaced points from a to b. */
static int l_vec_linspace(lua_State *L) {
  double a = luaL_checknumber(L, 1), b = luaL_checknumber(L, 2);
  lua_Integer n = luaL_checkinteger(L, 3);
  luaL_argcheck(L, n >= 2, 3, "need at least 2 points");
  ms_lua_vec *v = ms_lua_newvec(L, (size_t)n);
  for (lua_Integer i = 0; i < n; i++)
    v->x[i] = i == n - 1 ? b : a + (b - a) * (double)i / (double)(n - 1);
  return 1;
}

/* --------------------------------------------- in-place, return self */

static int l_fill(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_vec_fill(y->x, luaL_checknumber(L, 2), y->n);
  return self(L);
}

static int l_copy(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_vec_copy(y->x, checksize(L, 2, y)->x, y->n);
  return self(L);
}

static int l_scale(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_vec_scale(y->x, luaL_checknumber(L, 2), y->n);
  return self(L);
}

/* y:axpy(a, x): y += a x */
static int l_axpy(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  double a = luaL_checknumber(L, 2);
  ms_vec_axpy(y->x, a, checksize(L, 3, y)->x, y->n);
  return self(L);
}

/* y:axpby(a, x, b): y = a x + b y */
static int l_axpby(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  double a = luaL_checknumber(L, 2);
  ms_lua_vec *x = checksize(L, 3, y);
  ms_vec_axpby(y->x, a, x->x, luaL_checknumber(L, 4), y->n);
  return self(L);
}

/* y:add(x [, alpha]): y += alpha x for a vector x, y += x for a number. */
static int l_add(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    double a = lua_tonumber(L, 2);
    for (size_t i = 0; i < y->n; i++) y->x[i] += a;
  } else if (lua_isnoneornil(L, 3)) {
    ms_vec_add(y->x, checksize(L, 2, y)->x, y->n);
  } else {
    ms_vec_axpy(y->x, luaL_checknumber(L, 3), checksize(L, 2, y)->x, y->n);
  }
  return self(L);
}

static int l_sub(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    double a = lua_tonumber(L, 2);
    for (size_t i = 0; i < y->n; i++) y->x[i] -= a;
  } else {
    ms_vec_sub(y->x, checksize(L, 2, y)->x, y->n);
  }
  return self(L);
}

static int l_mul(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER)
    ms_vec_scale(y->x, lua_tonumber(L, 2), y->n);
  else
    ms_vec_mul(y->x, checksize(L, 2, y)->x, y->n);
  return self(L);
}

static int l_div(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    double a = lua_tonumber(L, 2);
    for (size_t i = 0; i < y->n; i++) y->x[i] /= a;
  } else {
    ms_vec_div(y->x, checksize(L, 2, y)->x, y->n);
  }
  return self(L);
}

/* y:addcmul(u, v [, a]): y += a u v, as torch's addcmul_ */
static int l_addcmul(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_lua_vec *u = checksize(L, 2, y), *v = checksize(L, 3, y);
  ms_vec_addcmul(y->x, luaL_optnumber(L, 4, 1.0), u->x, v->x, y->n);
  return self(L);
}

/* y:addcdiv(u, v [, a]): y += a u / v, as torch's addcdiv_ */
static int l_addcdiv(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_lua_vec *u = checksize(L, 2, y), *v = checksize(L, 3, y);
  ms_vec_addcdiv(y->x, luaL_optnumber(L, 4, 1.0), u->x, v->x, y->n);
  return self(L);
}

static int l_sqrt(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_vec_sqrt(y->x, y->n);
  return self(L);
}

static int l_abs(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_vec_abs(y->x, y->n);
  return self(L);
}

static int l_sign(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_vec_sign(y->x, y->n);
  return self(L);
}

static int l_neg(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  ms_vec_scale(y->x, -1.0, y->n);
  return self(L);
}

static int l_clamp(lua_State *L) {
  ms_lua_vec *y = checkwritable(L, 1);
  double lo = luaL_optnumber(L, 2, -HUGE_VAL), hi = luaL_optnumber(L, 3, HUGE_VAL);
  luaL_argcheck(L, !(lo > hi), 3, "upper bound below lower bound");
  ms_vec_clamp(y->x, lo, hi, y->n);
  return self(L);
}

/* ------------------------------------------------------- reductions */

static int l_dot(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  lua_pushnumber(L, ms_vec_dot(y->x, checksize(L, 2, y)->x, y->n));
  return 1;
}

static int l_norm(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  lua_pushnumber(L, ms_vec_norm(y->x, y->n));
  return 1;
}

static int l_sum(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  lua_pushnumber(L, ms_vec_sum(y->x, y->n));
  return 1;
}

static int l_mean(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  lua_pushnumber(L, y->n ? ms_vec_sum(y->x, y->n) / (double)y->n : NAN);
  return 1;
}

static int l_max(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  lua_pushnumber(L, ms_vec_max(y->x, y->n));
  return 1;
}

static int l_min(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  lua_pushnumber(L, ms_vec_min(y->x, y->n));
  return 1;
}

/* --------------------------------------------------------- conversion */

static int l_clone(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  ms_lua_pushcopy(L, y->x, y->n);
  return 1;
}

static int l_totable(lua_State *L) {
  ms_lua_vec *y = checkvec(L, 1);
  lua_createtable(L, (int)y->n, 0);
  for (size_t i = 0; i < y->n; i++) {
    lua_pushnumber(L, y->x[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

static int l_tostring(lua_State *L) {
  ms_lua_vec *y = ms_lua_checkudata(L, 1, MS_LUA_VEC);
  if (y->dead) {
    lua_pushstring(L, "vec(dead view)");
    return 1;
  }
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, "vec{");
  for (size_t i = 0; i < y->n; i++) {
    char num[32];
    ms_format_double(num, sizeof num, y->x[i]);
    if (i > 0) luaL_addstring(&b, ", ");
    luaL_addstring(&b, num);
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  return 1;
}

/* ----------------------------------------------------- metamethods */

/* Both check their self (checkvec, a pointer comparison): called
 * directly, as getmetatable(v).__index(nil, 1), they get any value. */
static int l_index(lua_State *L) {
  if (lua_type(L, 2) == LUA_TNUMBER) {
    ms_lua_vec *v = checkvec(L, 1);
    lua_pushnumber(L, v->x[checkindex(L, v, 2)]);
    return 1;
  }
  lua_pushvalue(L, 2);
  lua_rawget(L, lua_upvalueindex(1));
  return 1;
}

static int l_newindex(lua_State *L) {
  if (lua_type(L, 2) != LUA_TNUMBER)
    return luaL_error(L, "cannot set field '%s' of a vector",
                      luaL_tolstring(L, 2, NULL));
  ms_lua_vec *v = checkvec(L, 1);
  if (v->readonly) return luaL_error(L, "vector is read-only");
  size_t i = checkindex(L, v, 2);
  int isnum;
  double x = lua_tonumberx(L, 3, &isnum);
  if (!isnum)
    return luaL_error(L, "vector entries must be numbers, got %s",
                      luaL_typename(L, 3));
  v->x[i] = x;
  return 0;
}

static int l_len(lua_State *L) {
  ms_lua_vec *v = checkvec(L, 1);
  lua_pushinteger(L, (lua_Integer)v->n);
  return 1;
}

static int l_eq(lua_State *L) {
  ms_lua_vec *a = checkvec(L, 1), *b = checkvec(L, 2);
  int eq = a->n == b->n;
  for (size_t i = 0; eq && i < a->n; i++) eq = a->x[i] == b->x[i];
  lua_pushboolean(L, eq);
  return 1;
}

/* Arithmetic returns a new vector: vec op vec, vec op number, number op vec.
 */
typedef enum { ADD, SUB, MUL, DIV } arith_op;

static double apply(arith_op op, double a, double b) {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
  }
  return NAN;
}

static int arith(lua_State *L, arith_op op) {
  ms_lua_vec *a = ms_lua_testudata(L, 1, MS_LUA_VEC);
  ms_lua_vec *b = ms_lua_testudata(L, 2, MS_LUA_VEC);
  if (a != NULL) checklive(L, 1, a);
  if (b != NULL) checklive(L, 2, b);
  if (a != NULL && b != NULL) {
    checksize(L, 2, a);
    ms_lua_vec *r = ms_lua_newvec(L, a->n);
    for (size_t i = 0; i < a->n; i++) r->x[i] = apply(op, a->x[i], b->x[i]);
  } else if (a != NULL) {
    double s = luaL_checknumber(L, 2);
    ms_lua_vec *r = ms_lua_newvec(L, a->n);
    for (size_t i = 0; i < a->n; i++) r->x[i] = apply(op, a->x[i], s);
  } else {
    double s = luaL_checknumber(L, 1);
    if (b == NULL) b = checkvec(L, 2);   /* called directly: __add(5) */
    ms_lua_vec *r = ms_lua_newvec(L, b->n);
    for (size_t i = 0; i < b->n; i++) r->x[i] = apply(op, s, b->x[i]);
  }
  return 1;
}

static int l_arith_add(lua_State *L) { return arith(L, ADD); }
static int l_arith_sub(lua_State *L) { return arith(L, SUB); }
static int l_arith_mul(lua_State *L) { return arith(L, MUL); }
static int l_arith_div(lua_State *L) { return arith(L, DIV); }

static int l_unm(lua_State *L) {
  ms_lua_vec *a = checkvec(L, 1);
  ms_lua_vec *r = ms_lua_pushcopy(L, a->x, a->n);
  ms_vec_scale(r->x, -1.0, r->n);
  return 1;
}

static const luaL_Reg methods[] = {
    {"fill", l_fill},       {"copy", l_copy},       {"scale", l_scale},
    {"axpy", l_axpy},       {"axpby", l_axpby},     {"add", l_add},
    {"sub", l_sub},         {"mul", l_mul},         {"div", l_div},
    {"addcmul", l_addcmul}, {"addcdiv", l_addcdiv}, {"sqrt", l_sqrt},
    {"abs", l_abs},         {"sign", l_sign},       {"neg", l_neg},
    {"clamp", l_clamp},     {"dot", l_dot},         {"norm", l_norm},
    {"sum", l_sum},         {"mean", l_mean},       {"max", l_max},
    {"min", l_min},         {"clone", l_clone},     {"totable", l_totable},
    {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__newindex", l_newindex}, {"__len", l_len},
    {"__tostring", l_tostring}, {"__eq", l_eq},
    {"__add", l_arith_add},     {"__sub", l_arith_sub},
    {"__mul", l_arith_mul},     {"__div", l_arith_div},
    {"__unm", l_unm},           {NULL, NULL}};

void ms_lua_open_vec(lua_State *L) {
  /* the class by hand: every function gets the metatable as upvalue 1 */
  luaL_newmetatable(L, MS_LUA_VEC);
  lua_pushvalue(L, -1);
  lua_rawsetp(L, LUA_REGISTRYINDEX, MS_LUA_VEC);
  lua_pushvalue(L, -1);
  luaL_setfuncs(L, metamethods, 1);
  lua_newtable(L);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, methods, 1);
  lua_pushcclosure(L, l_index, 1);    /* looks methods up in that table */
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);

  /* ms.vec: constructor table with the static helpers */
  lua_newtable(L);
  lua_pushcfunction(L, l_vec_linspace);
  lua_setfield(L, -2, "linspace");
  lua_newtable(L);
  lua_pushcfunction(L, l_vec_call);
  lua_setfield(L, -2, "__call");
  lua_setmetatable(L, -2);
  lua_setfield(L, -2, "vec");
}
