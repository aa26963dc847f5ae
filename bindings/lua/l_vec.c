/*
 * l_vec.c -- vectors for Lua 5.4: the native kind "vec" (a userdata that
 * holds its doubles, or a view on the engine's memory) with its hot methods
 * and metamethods, and the primitives vec_new and vec_from.  Twin for
 * LuaJIT: bindings/ffi/momsandbox/ffi_vec.lua.  User: lua/momsandbox/vec.lua
 * (ms.vec, linspace, tostring).
 *
 * Messages, the same texts in the twin (spec/vec_messages_spec.lua):
 *   calling 'F' on bad self (momsandbox.vec expected, got T)
 *   calling 'F' on bad self (vector is read-only)
 *   calling 'F' on bad self (vector is no longer valid (...))
 *   bad argument #N to 'F' (momsandbox.vec expected, got T)
 *   bad argument #N to 'F' (number expected, got T)
 *   bad argument #N to 'F' (size mismatch: vector of N, expected M)
 *   bad argument #N to 'F' (vector is no longer valid (...))
 *   bad argument #2 to 'clamp' (upper bound below lower bound)
 *   vector index must be an integer, got X
 *   vector index I out of range (vector of N)
 *   cannot set field 'K' of a vector / vector is read-only
 *   vector entries must be numbers, got T
 * Methods count their arguments after self; metamethods (F = index,
 * newindex, len, eq, add, sub, mul, div, unm) count all of them.  A missing
 * argument reads "nil": LuaJIT cannot tell it from nil.
 */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "ms_lua.h"

#define DEAD \
  "vector is no longer valid (a view kept after the callback that received it returned)"

/* ------------------------------------------------------------ helpers */

ms_lua_vec *ms_lua_newvec(lua_State *L, size_t n) {
  if (n > MS_LUA_MAXLEN) luaL_error(L, "vector of %I entries is too large", (lua_Integer)n);
  ms_lua_vec *v = lua_newuserdatauv(L, sizeof *v + n * sizeof(double), 0);
  *v = (ms_lua_vec){.x = (double *)(v + 1), .n = n};
  memset(v->x, 0, n * sizeof(double));
  ms_lua_setclass(L, MS_LUA_VEC);
  return v;
}

ms_lua_vec *ms_lua_newview(lua_State *L, int readonly) {
  ms_lua_vec *v = lua_newuserdatauv(L, sizeof *v, 0);
  *v = (ms_lua_vec){.view = 1, .dead = 1, .readonly = readonly};
  ms_lua_setclass(L, MS_LUA_VEC);
  return v;
}

void ms_lua_setview(ms_lua_vec *v, double *x, size_t n) {
  v->x = x;
  v->n = n;
  v->dead = 0;
}

ms_lua_vec *ms_lua_pushcopy(lua_State *L, const double *x, size_t n) {
  ms_lua_vec *v = ms_lua_newvec(L, n);
  if (n > 0) ms_vec_copy(v->x, x, n);
  return v;
}

ms_lua_vec *ms_lua_checkvec(lua_State *L, int arg) {
  ms_lua_vec *v = ms_lua_checkudata(L, arg, MS_LUA_VEC);
  if (v->dead) luaL_argerror(L, arg, DEAD);
  return v;
}

/* The table at idx as a new vector pushed on the stack, or a message (why
 * not) pushed and returned.  Its raw length counts (a __len may say
 * anything), and an integer key past it, wherever the table keeps it, is
 * a missing entry: interpreters differ on the length of {1, nil, 3}, and
 * neither may drop the 3. */
static const char *fromtable(lua_State *L, int idx) {
  lua_Unsigned n = lua_rawlen(L, idx);
  if (n > MS_LUA_MAXLEN) return lua_pushstring(L, "table has too many entries");
  ms_lua_vec *v = ms_lua_newvec(L, (size_t)n);
  for (lua_Unsigned i = 0; i < n; i++) {
    int isnum;
    lua_rawgeti(L, idx, (lua_Integer)i + 1);
    v->x[i] = lua_tonumberx(L, -1, &isnum);
    if (!isnum)
      return lua_pushfstring(L, "entry %I is a %s, not a number", (lua_Integer)i + 1,
                             luaL_typename(L, -1));
    lua_pop(L, 1);
  }
  lua_pushnil(L);
  while (lua_next(L, idx)) {
    lua_pop(L, 1);
    if (lua_isinteger(L, -1) && lua_tointeger(L, -1) > (lua_Integer)n)
      return lua_pushfstring(L, "entry %I is a nil, not a number", (lua_Integer)n + 1);
  }
  return NULL;
}

ms_lua_vec *ms_lua_checkvector(lua_State *L, int arg) {
  ms_lua_vec *v = ms_lua_testudata(L, arg, MS_LUA_VEC);
  if (v != NULL) return v->dead ? (luaL_argerror(L, arg, DEAD), v) : v;
  if (!lua_istable(L, arg)) luaL_typeerror(L, arg, "ms.vec or table of numbers");
  arg = lua_absindex(L, arg);
  const char *msg = fromtable(L, arg);
  if (msg != NULL) luaL_argerror(L, arg, msg);
  lua_replace(L, arg);
  return lua_touserdata(L, arg);
}

/* The functions below have the vector metatable as upvalue 1: recognising
 * a vector costs a pointer comparison rather than a registry lookup --
 * methods run millions of times in rules written in Lua. */
static ms_lua_vec *testvec_up(lua_State *L, int idx, int up) {
  ms_lua_vec *v = lua_touserdata(L, idx);
  if (v == NULL || !lua_getmetatable(L, idx)) return NULL;
  int same = lua_rawequal(L, -1, lua_upvalueindex(up));
  lua_pop(L, 1);
  return same ? v : NULL;
}
#define testvec(L, idx) testvec_up(L, idx, 1)

static const char *tname(lua_State *L, int idx) {
  return lua_isnone(L, idx) ? "nil" : ms_lua_typename(L, idx);
}

/* An error about argument n of fname; n = 0 is self. */
static int bad(lua_State *L, int n, const char *fname, const char *msg) {
  if (n > 0) return ms_lua_argerror(L, n, fname, msg);
  luaL_where(L, 1);
  lua_pushfstring(L, "calling '%s' on bad self (%s)", fname, msg);
  lua_concat(L, 2);
  return lua_error(L);
}

/* The live vector at idx, argument n of fname; the metatable is upvalue up. */
static ms_lua_vec *getvec_up(lua_State *L, int idx, int n, const char *fname, int up) {
  ms_lua_vec *v = testvec_up(L, idx, up);
  if (v == NULL)
    bad(L, n, fname, lua_pushfstring(L, "momsandbox.vec expected, got %s", tname(L, idx)));
  if (v->dead) bad(L, n, fname, DEAD);
  return v;
}
#define getvec(L, idx, n, fname) getvec_up(L, idx, n, fname, 1)

static ms_lua_vec *writable(lua_State *L, const char *fname) {
  ms_lua_vec *y = getvec(L, 1, 0, fname);
  if (y->readonly) bad(L, 0, fname, "vector is read-only");
  return y;
}

/* The vector at idx, argument n of fname, of y's length. */
static ms_lua_vec *sized(lua_State *L, int idx, int n, const ms_lua_vec *y, const char *fname) {
  ms_lua_vec *x = getvec(L, idx, n, fname);
  if (x->n != y->n)
    bad(L, n, fname, lua_pushfstring(L, "size mismatch: vector of %I, expected %I",
                                     (lua_Integer)x->n, (lua_Integer)y->n));
  return x;
}

/* A number, or a string that converts to one. */
static double number(lua_State *L, int idx, int n, const char *fname) {
  int isnum;
  double x = lua_tonumberx(L, idx, &isnum);
  if (!isnum) bad(L, n, fname, lua_pushfstring(L, "number expected, got %s", tname(L, idx)));
  return x;
}

static double optnumber(lua_State *L, int idx, int n, const char *fname, double def) {
  return lua_isnoneornil(L, idx) ? def : number(L, idx, n, fname);
}

/* The result of every in-place method: the vector itself, for chaining
 * (v:scale(b):add(g)), whatever else the call was given. */
static int self(lua_State *L) {
  lua_settop(L, 1);
  return 1;
}

/* ---------------------------------------------------------- primitives */

/* native.vec_new(n [, fill]): the shared Lua checked n and fill. */
static int l_vec_new(lua_State *L) {
  int isint;
  lua_Integer n = lua_tointegerx(L, 1, &isint);
  if (!isint || n < 0 || n > MS_LUA_MAXLEN)
    ms_lua_argerror(L, 1, "vec_new", "size in [0, 2^30] expected");
  int fill = !lua_isnoneornil(L, 2);
  double value = fill ? ms_lua_checknum(L, 2, 2, "vec_new") : 0;
  ms_lua_vec *v = ms_lua_newvec(L, (size_t)n);
  if (fill) ms_vec_fill(v->x, value, v->n);
  return 1;
}

/* native.vec_from(t): t itself when a live vector, a new one from a
 * table, else nil and why not (the shared Lua makes the message). */
static int l_vec_from(lua_State *L) {
  ms_lua_vec *v = testvec(L, 1);
  const char *msg;
  lua_settop(L, 1);
  if (v != NULL) {
    if (!v->dead) return 1;
    msg = DEAD;
  } else if (lua_istable(L, 1)) {
    msg = fromtable(L, 1);
    if (msg == NULL) return 1;
  } else {
    msg = lua_pushfstring(L, "ms.vec or table of numbers expected, got %s", tname(L, 1));
  }
  lua_pushnil(L);
  lua_pushstring(L, msg);
  return 2;
}

/* ------------------------------------------------------------- methods */

#define INPLACE(name, ...)                         \
  static int l_##name(lua_State *L) {              \
    const char *f = #name;                         \
    ms_lua_vec *y = writable(L, f);                \
    __VA_ARGS__;                                   \
    return self(L);                                \
  }

#define REDUCE(name, ...)                          \
  static int l_##name(lua_State *L) {              \
    const char *f = #name;                         \
    ms_lua_vec *y = getvec(L, 1, 0, f);            \
    lua_pushnumber(L, __VA_ARGS__);                \
    return 1;                                      \
  }

INPLACE(fill, ms_vec_fill(y->x, number(L, 2, 1, f), y->n))
INPLACE(copy, ms_vec_copy(y->x, sized(L, 2, 1, y, f)->x, y->n))
INPLACE(scale, ms_vec_scale(y->x, number(L, 2, 1, f), y->n))
/* y:axpy(a, x): y += a x */
INPLACE(axpy, double a = number(L, 2, 1, f); ms_vec_axpy(y->x, a, sized(L, 3, 2, y, f)->x, y->n))
/* y:axpby(a, x, b): y = a x + b y */
INPLACE(axpby, double a = number(L, 2, 1, f); const double *x = sized(L, 3, 2, y, f)->x;
        ms_vec_axpby(y->x, a, x, number(L, 4, 3, f), y->n))
/* y:addcmul(u, v [, a]): y += a u v, and addcdiv y += a u / v, as torch's */
INPLACE(addcmul, const double *u = sized(L, 2, 1, y, f)->x, *v = sized(L, 3, 2, y, f)->x;
        ms_vec_addcmul(y->x, optnumber(L, 4, 3, f, 1.0), u, v, y->n))
INPLACE(addcdiv, const double *u = sized(L, 2, 1, y, f)->x, *v = sized(L, 3, 2, y, f)->x;
        ms_vec_addcdiv(y->x, optnumber(L, 4, 3, f, 1.0), u, v, y->n))
INPLACE(sqrt, ms_vec_sqrt(y->x, y->n))
INPLACE(abs, ms_vec_abs(y->x, y->n))
INPLACE(sign, ms_vec_sign(y->x, y->n))
INPLACE(neg, ms_vec_scale(y->x, -1.0, y->n))
INPLACE(clamp, double lo = optnumber(L, 2, 1, f, -HUGE_VAL), hi = optnumber(L, 3, 2, f, HUGE_VAL);
        if (lo > hi) bad(L, 2, f, "upper bound below lower bound");
        ms_vec_clamp(y->x, lo, hi, y->n))

REDUCE(dot, ms_vec_dot(y->x, sized(L, 2, 1, y, f)->x, y->n))
REDUCE(norm, ms_vec_norm(y->x, y->n))
REDUCE(sum, ms_vec_sum(y->x, y->n))
REDUCE(mean, y->n ? ms_vec_sum(y->x, y->n) / (double)y->n : NAN)
REDUCE(max, ms_vec_max(y->x, y->n))
REDUCE(min, ms_vec_min(y->x, y->n))

typedef enum { ADD, SUB, MUL, DIV } arith_op;

/* y:add(x [, alpha]) (y += alpha x), sub, mul, div: x a vector or a number. */
static int elementwise(lua_State *L, const char *f, arith_op op) {
  ms_lua_vec *y = writable(L, f);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    double a = op == SUB ? -lua_tonumber(L, 2) : lua_tonumber(L, 2);
    if (op == MUL) ms_vec_scale(y->x, a, y->n);
    else if (op == DIV) for (size_t i = 0; i < y->n; i++) y->x[i] /= a;
    else for (size_t i = 0; i < y->n; i++) y->x[i] += a;
    return self(L);
  }
  const double *x = sized(L, 2, 1, y, f)->x;
  if (op == ADD && !lua_isnoneornil(L, 3)) ms_vec_axpy(y->x, number(L, 3, 2, f), x, y->n);
  else if (op == ADD) ms_vec_add(y->x, x, y->n);
  else if (op == SUB) ms_vec_sub(y->x, x, y->n);
  else if (op == MUL) ms_vec_mul(y->x, x, y->n);
  else ms_vec_div(y->x, x, y->n);
  return self(L);
}

static int l_add(lua_State *L) { return elementwise(L, "add", ADD); }
static int l_sub(lua_State *L) { return elementwise(L, "sub", SUB); }
static int l_mul(lua_State *L) { return elementwise(L, "mul", MUL); }
static int l_div(lua_State *L) { return elementwise(L, "div", DIV); }

static int l_clone(lua_State *L) {
  ms_lua_vec *y = getvec(L, 1, 0, "clone");
  ms_lua_pushcopy(L, y->x, y->n);
  return 1;
}

static int l_totable(lua_State *L) {
  ms_lua_vec *y = getvec(L, 1, 0, "totable");
  lua_createtable(L, y->n > INT_MAX ? 0 : (int)y->n, 0);
  for (size_t i = 0; i < y->n; i++) {
    lua_pushnumber(L, y->x[i]);
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 1;
}

/* --------------------------------------------------------- metamethods */

static size_t checkindex(lua_State *L, const ms_lua_vec *v) {
  int isint;
  lua_Integer i = lua_tointegerx(L, 2, &isint);
  if (!isint) {
    char num[32];
    ms_format_double(num, sizeof num, lua_tonumber(L, 2));
    luaL_error(L, "vector index must be an integer, got %s", num);
  }
  if (i < 1 || (lua_Unsigned)i > v->n)
    luaL_error(L, "vector index %I out of range (vector of %I)", i, (lua_Integer)v->n);
  return (size_t)i - 1;
}

/* v[i], or a method: upvalue 1 is the table of methods (where the CLI's
 * completion looks), 2 the metatable. */
static int l_index(lua_State *L) {
  if (lua_type(L, 2) != LUA_TNUMBER) {
    lua_settop(L, 2);
    lua_rawget(L, lua_upvalueindex(1));
    return 1;
  }
  ms_lua_vec *v = getvec_up(L, 1, 1, "index", 2);
  lua_pushnumber(L, v->x[checkindex(L, v)]);
  return 1;
}

static int l_newindex(lua_State *L) {
  if (lua_type(L, 2) != LUA_TNUMBER)
    return luaL_error(L, "cannot set field '%s' of a vector", luaL_tolstring(L, 2, NULL));
  ms_lua_vec *v = getvec(L, 1, 1, "newindex");
  if (v->readonly) return luaL_error(L, "vector is read-only");
  size_t i = checkindex(L, v);
  int isnum;
  double x = lua_tonumberx(L, 3, &isnum);
  if (!isnum) return luaL_error(L, "vector entries must be numbers, got %s", tname(L, 3));
  v->x[i] = x;
  return 0;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)getvec(L, 1, 1, "len")->n);
  return 1;
}

/* Vectors equal entry by entry; a vector and anything else are not equal. */
static int l_eq(lua_State *L) {
  int eq = testvec(L, 1) != NULL && testvec(L, 2) != NULL;
  if (eq) {
    ms_lua_vec *a = getvec(L, 1, 1, "eq"), *b = getvec(L, 2, 2, "eq");
    eq = a->n == b->n;
    for (size_t i = 0; eq && i < a->n; i++) eq = a->x[i] == b->x[i];
  }
  lua_pushboolean(L, eq);
  return 1;
}

static double apply(arith_op op, double a, double b) {
  switch (op) {
    case ADD: return a + b;
    case SUB: return a - b;
    case MUL: return a * b;
    case DIV: return a / b;
  }
  return NAN;
}

/* A new vector: vec op vec, vec op number, number op vec. */
static int arith(lua_State *L, const char *f, arith_op op) {
  ms_lua_vec *a = testvec(L, 1), *b = testvec(L, 2), *r;
  if (a != NULL) {
    getvec(L, 1, 1, f);
    if (b != NULL) {
      sized(L, 2, 2, a, f);
      r = ms_lua_newvec(L, a->n);
      for (size_t i = 0; i < a->n; i++) r->x[i] = apply(op, a->x[i], b->x[i]);
    } else {
      double s = number(L, 2, 2, f);
      r = ms_lua_newvec(L, a->n);
      for (size_t i = 0; i < a->n; i++) r->x[i] = apply(op, a->x[i], s);
    }
  } else {
    double s = number(L, 1, 1, f);
    b = getvec(L, 2, 2, f);
    r = ms_lua_newvec(L, b->n);
    for (size_t i = 0; i < b->n; i++) r->x[i] = apply(op, s, b->x[i]);
  }
  return 1;
}

static int l_arith_add(lua_State *L) { return arith(L, "add", ADD); }
static int l_arith_sub(lua_State *L) { return arith(L, "sub", SUB); }
static int l_arith_mul(lua_State *L) { return arith(L, "mul", MUL); }
static int l_arith_div(lua_State *L) { return arith(L, "div", DIV); }

static int l_unm(lua_State *L) {
  ms_lua_vec *a = getvec(L, 1, 1, "unm");
  ms_vec_scale(ms_lua_pushcopy(L, a->x, a->n)->x, -1.0, a->n);
  return 1;
}

/* The kind "vec" with its methods and metamethods (every function with
 * the metatable as upvalue 1), and the primitives into the table on top. */
void ms_lua_open_vec(lua_State *L) {
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
      {"__newindex", l_newindex}, {"__len", l_len},       {"__eq", l_eq},
      {"__add", l_arith_add},     {"__sub", l_arith_sub}, {"__mul", l_arith_mul},
      {"__div", l_arith_div},     {"__unm", l_unm},       {NULL, NULL}};
  static const luaL_Reg none[] = {{NULL, NULL}};
  static const luaL_Reg primitives[] = {
      {"vec_new", l_vec_new}, {"vec_from", l_vec_from}, {NULL, NULL}};
  ms_lua_newclass(L, MS_LUA_VEC, none, none);
  lua_pushvalue(L, -1);
  luaL_setfuncs(L, metamethods, 1);
  lua_newtable(L);
  lua_pushvalue(L, -2);
  luaL_setfuncs(L, methods, 1);
  lua_pushvalue(L, -2);
  lua_pushcclosure(L, l_index, 2);
  lua_setfield(L, -2, "__index");
  luaL_setfuncs(L, primitives, 1);   /* into the table below, the metatable */
}
