/*
 * l_schedule.c -- ms.schedule.*: hyper-parameter schedules, built in C or
 * given as any Lua function of the step t (t = 1, 2, ...).
 */
#include <math.h>
#include <string.h>

#include "ms_lua.h"

typedef struct l_schedule {
  ms_lua_use use;   /* first: rules, schedules and calls using it */
  ms_schedule *s;
  int fref;   /* the Lua function of a callback schedule, or LUA_NOREF */
} l_schedule;

static l_schedule *checkbox(lua_State *L, int arg) {
  l_schedule *b = ms_lua_checkudata(L, arg, MS_LUA_SCHEDULE);
  if (b->s == NULL || b->use.closed)
    luaL_argerror(L, arg, "schedule has been closed");
  return b;
}

/* A new schedule userdata; its user value is a table holding its label
 * and whatever it must keep alive (the parts of a sequence). */
static l_schedule *newbox(lua_State *L) {
  l_schedule *b = lua_newuserdatauv(L, sizeof *b, 1);
  memset(b, 0, sizeof *b);
  b->fref = LUA_NOREF;
  ms_lua_setclass(L, MS_LUA_SCHEDULE);
  lua_newtable(L);
  lua_setiuservalue(L, -2, 1);
  return b;
}

static void setlabel(lua_State *L, int box, const char *label) {
  lua_getiuservalue(L, box, 1);
  lua_pushstring(L, label);
  lua_setfield(L, -2, "label");
  lua_pop(L, 1);
}

/* ------------------------------------------------- Lua functions of t */

static ms_status call_schedule(void *ctx, int64_t t, double *value) {
  l_schedule *b = ctx;
  lua_State *L = ms_lua_current();
  if (L == NULL) return MS_ECALLBACK;
  if (!lua_checkstack(L, 4))
    return ms_lua_pending(L, "stack overflow in a schedule");
  int h = ms_lua_pushhandler(L);
  lua_rawgeti(L, LUA_REGISTRYINDEX, b->fref);
  lua_pushinteger(L, (lua_Integer)t);
  ms_status st = ms_lua_pcall(L, 1, 1, h);
  if (st != MS_OK) return st;
  int isnum;
  *value = lua_tonumberx(L, -1, &isnum);
  if (!isnum)
    st = ms_lua_pending(L, "schedule function returned %s at step %I, "
                           "expected a number",
                        luaL_typename(L, -1), (lua_Integer)t);
  lua_settop(L, h - 1);
  return st;
}

/* The schedule at idx: a ms.schedule object as it is, or a Lua function
 * wrapped into one (replacing it on the stack). */
ms_schedule *ms_lua_toschedule(lua_State *L, int idx) {
  idx = lua_absindex(L, idx);
  if (lua_isfunction(L, idx)) {
    l_schedule *b = newbox(L);
    lua_pushvalue(L, idx);
    b->fref = luaL_ref(L, LUA_REGISTRYINDEX);
    if (ms_schedule_new(call_schedule, b, NULL, &b->s) != MS_OK)
      ms_lua_fail(L, MS_ENOMEM);
    setlabel(L, lua_gettop(L), "function");
    lua_replace(L, idx);
    return b->s;
  }
  l_schedule *b = ms_lua_testudata(L, idx, MS_LUA_SCHEDULE);
  if (b != NULL && (b->s == NULL || b->use.closed))
    luaL_error(L, "schedule has been closed");
  return b != NULL ? b->s : NULL;
}

/* ------------------------------------------------------- constructors */

/* The base value: option `base`, or `lr` as in PyTorch's schedulers. */
static double checkbase(lua_State *L) {
  int tb = lua_getfield(L, 1, "base"), tl = lua_getfield(L, 1, "lr");
  luaL_argcheck(L, (tb == LUA_TNIL) != (tl == LUA_TNIL), 1,
                "give the base value as `base` (or `lr`), once");
  int idx = tb != LUA_TNIL ? -2 : -1;
  luaL_argcheck(L, lua_type(L, idx) == LUA_TNUMBER, 1, "base must be a number");
  double base = lua_tonumber(L, idx);
  lua_pop(L, 2);
  return base;
}


static lua_Integer needint(lua_State *L, const char *key) {
  if (lua_getfield(L, 1, key) == LUA_TNIL)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' is required", key));
  lua_pop(L, 1);
  return ms_lua_optintfield(L, 1, key, 0);
}

static void pushdesc_depth(lua_State *L, int idx, int depth);

/* Add to b a short description of the value at idx: 0.6, {10, 20}, or a
 * schedule's label.  Each piece is pushed and added with luaL_addvalue, so
 * a table of any length uses the same few stack slots; tables inside
 * tables are described down to a few levels (a table may contain itself). */
static void adddesc(lua_State *L, luaL_Buffer *b, int idx, int depth) {
  idx = lua_absindex(L, idx);
  if (lua_type(L, idx) == LUA_TNUMBER) {
    char num[32];
    ms_format_double(num, sizeof num, lua_tonumber(L, idx));
    luaL_addstring(b, num);
  } else if (lua_type(L, idx) == LUA_TTABLE && depth < 4) {
    luaL_addchar(b, '{');
    lua_Unsigned n = lua_rawlen(L, idx);
    for (lua_Unsigned i = 1; i <= n; i++) {
      if (i > 1) luaL_addstring(b, ", ");
      lua_rawgeti(L, idx, (lua_Integer)i);
      pushdesc_depth(L, -1, depth + 1);
      lua_remove(L, -2);
      luaL_addvalue(b);
    }
    luaL_addchar(b, '}');
  } else if (lua_type(L, idx) == LUA_TTABLE) {
    luaL_addstring(b, "{...}");
  } else {
    luaL_tolstring(L, idx, NULL);
    luaL_addvalue(b);
  }
}

static void pushdesc_depth(lua_State *L, int idx, int depth) {
  idx = lua_absindex(L, idx);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  adddesc(L, &b, idx, depth);
  luaL_pushresult(&b);
}

/* Push a short description of the value at idx (see adddesc). */
static void pushdesc(lua_State *L, int idx) { pushdesc_depth(L, idx, 0); }

/* Finish a constructor: raise the core's complaint as an argument error,
 * or label the new schedule on top by the options it was made with, in
 * the order of `known` -- "cosine{base=0.6, steps=100}". */
static int finish(lua_State *L, ms_status st, const char *name,
                  const char *const known[]) {
  if (st != MS_OK) luaL_argerror(L, 1, ms_last_error());
  int box = lua_gettop(L), first = 1;
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  luaL_addstring(&b, name);
  luaL_addchar(&b, '{');
  for (int i = 0; known[i] != NULL; i++) {
    if (lua_getfield(L, 1, known[i]) == LUA_TNIL) {
      lua_pop(L, 1);
      continue;
    }
    pushdesc(L, -1);
    lua_remove(L, -2);
    lua_pushfstring(L, "%s%s=", first ? "" : ", ", known[i]);
    lua_insert(L, -2);
    lua_concat(L, 2);    /* one value on top, as luaL_addvalue wants */
    luaL_addvalue(&b);
    first = 0;
  }
  luaL_addchar(&b, '}');
  luaL_pushresult(&b);
  setlabel(L, box, lua_tostring(L, -1));
  lua_settop(L, box);
  return 1;
}

static int l_constant(lua_State *L) {
  static const char *const known[] = {"base", "lr", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_constant(base, &b->s), "constant", known);
}

static int l_step(lua_State *L) {
  static const char *const known[] = {"base", "lr", "step_size", "gamma", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  lua_Integer size = needint(L, "step_size");
  double gamma = ms_lua_optnumfield(L, 1, "gamma", 0.1);
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_step(base, size, gamma, &b->s), "step", known);
}

/* Option `milestones` of the table at 1, as step numbers in a userdata
 * left on the stack. */
static int64_t *checkmilestones(lua_State *L, size_t *n) {
  luaL_argcheck(L, lua_getfield(L, 1, "milestones") == LUA_TTABLE, 1,
                "milestones must be a table of step numbers");
  *n = ms_lua_rawlen(L, 1, -1, "milestones");
  int64_t *m = lua_newuserdatauv(L, (*n ? *n : 1) * sizeof *m, 0);
  for (size_t i = 0; i < *n; i++) {
    int isint;
    lua_geti(L, -2, (lua_Integer)i + 1);
    m[i] = (int64_t)lua_tointegerx(L, -1, &isint);
    if (!isint)
      luaL_argerror(L, 1, lua_pushfstring(L, "milestone %I is not an integer",
                                          (lua_Integer)i + 1));
    lua_pop(L, 1);
  }
  return m;
}

static int l_multistep(lua_State *L) {
  static const char *const known[] = {"base", "lr", "milestones", "gamma", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  double gamma = ms_lua_optnumfield(L, 1, "gamma", 0.1);
  size_t n;
  int64_t *m = checkmilestones(L, &n);
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_multistep(base, m, n, gamma, &b->s),
                "multistep", known);
}

static int l_exponential(lua_State *L) {
  static const char *const known[] = {"base", "lr", "gamma", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  double gamma = ms_lua_optnumfield(L, 1, "gamma", NAN);
  luaL_argcheck(L, !isnan(gamma), 1, "option 'gamma' is required");
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_exponential(base, gamma, &b->s), "exponential",
                known);
}

static int l_cosine(lua_State *L) {
  static const char *const known[] = {"base", "lr", "steps", "min",
                                      "restarts", "mult", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  lua_Integer steps = needint(L, "steps");
  double min = ms_lua_optnumfield(L, 1, "min", 0);
  lua_getfield(L, 1, "restarts");
  luaL_argcheck(L, lua_isnil(L, -1) || lua_isboolean(L, -1), 1,
                "restarts must be a boolean");
  int restarts = lua_toboolean(L, -1);
  lua_Integer mult = ms_lua_optintfield(L, 1, "mult", 1);
  luaL_argcheck(L, mult == 1 || restarts, 1, "mult needs restarts = true");
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_cosine(base, steps, min, restarts, mult, &b->s),
                "cosine", known);
}

static int l_linear(lua_State *L) {
  static const char *const known[] = {"base", "lr", "start", "end", "steps", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  double start = ms_lua_optnumfield(L, 1, "start", 1.0 / 3);
  double end = ms_lua_optnumfield(L, 1, "end", 1.0);
  lua_Integer steps = ms_lua_optintfield(L, 1, "steps", 5);
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_linear(base, start, end, steps, &b->s),
                "linear", known);
}

static int l_polynomial(lua_State *L) {
  static const char *const known[] = {"base", "lr", "steps", "power", "min", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  lua_Integer steps = needint(L, "steps");
  double power = ms_lua_optnumfield(L, 1, "power", 1);
  double min = ms_lua_optnumfield(L, 1, "min", 0);
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_polynomial(base, steps, power, min, &b->s),
                "polynomial", known);
}

static int l_inverse_sqrt(lua_State *L) {
  static const char *const known[] = {"base", "lr", "warmup", NULL};
  ms_lua_checkoptions(L, 1, known);
  double base = checkbase(L);
  lua_Integer warmup = ms_lua_optintfield(L, 1, "warmup", 0);
  l_schedule *b = newbox(L);
  return finish(L, ms_schedule_inverse_sqrt(base, warmup, &b->s),
                "inverse_sqrt", known);
}

/* Schedules given in the array part of the table at arg (functions are
 * wrapped), kept alive in the user value of the box at top. */
static ms_schedule **checkparts(lua_State *L, int arg, size_t *count) {
  *count = ms_lua_rawlen(L, arg, arg, "the list of schedules");
  int box = lua_gettop(L);
  ms_schedule **parts = lua_newuserdatauv(L, (*count ? *count : 1) * sizeof *parts, 0);
  lua_getiuservalue(L, box, 1);
  for (size_t i = 0; i < *count; i++) {
    lua_geti(L, arg, (lua_Integer)i + 1);
    if ((parts[i] = ms_lua_toschedule(L, -1)) == NULL)
      luaL_argerror(L, arg, lua_pushfstring(L, "entry %I is a %s, not a schedule",
                                            (lua_Integer)i + 1, luaL_typename(L, -1)));
    ms_lua_hold(L, -1);   /* released by the sequence's __gc */
    lua_rawseti(L, -2, (lua_Integer)i + 1);   /* keep it alive */
  }
  lua_pop(L, 1);
  return parts;
}

/* ms.schedule.sequence{s1, s2, ..., milestones = {m1, ...}}: s1 until step
 * m1, then s2 restarted at its step 1, ... */
static int l_sequence(lua_State *L) {
  luaL_checktype(L, 1, LUA_TTABLE);
  size_t nm;
  int64_t *m = checkmilestones(L, &nm);
  l_schedule *b = newbox(L);
  int box = lua_gettop(L);
  size_t count;
  ms_schedule **parts = checkparts(L, 1, &count);
  luaL_argcheck(L, count == nm + 1, 1,
                "need one milestone fewer than schedules");
  if (ms_schedule_sequence(parts, count, m, &b->s) != MS_OK)
    luaL_argerror(L, 1, ms_last_error());
  luaL_Buffer lb;   /* sequence{part1, part2, milestones={...}} */
  luaL_buffinit(L, &lb);
  luaL_addstring(&lb, "sequence{");
  for (size_t i = 1; i <= count; i++) {
    lua_getiuservalue(L, box, 1);     /* the parts, functions wrapped */
    lua_rawgeti(L, -1, (lua_Integer)i);
    pushdesc(L, -1);
    lua_replace(L, -3);
    lua_pop(L, 1);
    luaL_addvalue(&lb);
    luaL_addstring(&lb, ", ");
  }
  lua_getfield(L, 1, "milestones");
  pushdesc(L, -1);
  lua_remove(L, -2);
  luaL_addstring(&lb, "milestones=");
  luaL_addvalue(&lb);
  luaL_addchar(&lb, '}');
  luaL_pushresult(&lb);
  setlabel(L, box, lua_tostring(L, -1));
  lua_settop(L, box);
  return 1;
}

/* ms.schedule.warmup{steps = 10, start = 0, after = schedule or number}:
 * a linear ramp from start * after(1) to after(1), then `after`. */
static int l_warmup(lua_State *L) {
  static const char *const known[] = {"steps", "start", "after", NULL};
  ms_lua_checkoptions(L, 1, known);
  lua_Integer steps = needint(L, "steps");
  double start = ms_lua_optnumfield(L, 1, "start", 0);
  lua_getfield(L, 1, "after");
  if (lua_type(L, -1) == LUA_TNUMBER) {   /* a constant after the ramp */
    l_schedule *c = newbox(L);
    if (ms_schedule_constant(lua_tonumber(L, -2), &c->s) != MS_OK)
      luaL_argerror(L, 1, ms_last_error());
    setlabel(L, lua_gettop(L), lua_tostring(L, -2));
    lua_replace(L, -2);
  }
  ms_schedule *after = ms_lua_toschedule(L, -1);
  luaL_argcheck(L, after != NULL, 1, "after must be a schedule, function or number");
  int iafter = lua_gettop(L);
  double first;
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, iafter);
  ms_status st = ms_schedule_value(after, 1, &first);
  ms_lua_release(L, iafter);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  l_schedule *ramp = newbox(L);
  if (ms_schedule_linear(first, start, 1, steps, &ramp->s) != MS_OK)
    luaL_argerror(L, 1, ms_last_error());
  l_schedule *b = newbox(L);
  lua_getiuservalue(L, -1, 1);      /* keep both parts alive */
  lua_pushvalue(L, iafter);
  ms_lua_hold(L, -1);
  lua_rawseti(L, -2, 1);
  lua_pushvalue(L, -3);
  ms_lua_hold(L, -1);
  lua_rawseti(L, -2, 2);
  lua_pop(L, 1);
  ms_schedule *parts[2] = {ramp->s, after};
  int64_t milestone = (int64_t)steps;
  return finish(L, ms_schedule_sequence(parts, 2, &milestone, &b->s),
                "warmup", known);
}

/* ------------------------------------------------------------ methods */

/* sched(t): the value at step t (t = 1, 2, ...) */
static int l_call(lua_State *L) {
  l_schedule *b = checkbox(L, 1);
  lua_Integer t = luaL_checkinteger(L, 2);
  luaL_argcheck(L, t >= 1, 2, "steps count from 1");
  double v;
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);   /* a callback may close it: freed after the call */
  ms_status st = ms_schedule_value(b->s, (int64_t)t, &v);
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_pushnumber(L, v);
  return 1;
}

/* Values sched:values makes at most: a table of 10^7 numbers takes 160 MB
 * (momsandbox/ffi/schedule.lua has the same limit). */
#define MAX_VALUES 10000000

/* sched:values(n): {sched(1), ..., sched(n)}, for plots */
static int l_values(lua_State *L) {
  l_schedule *b = checkbox(L, 1);
  lua_Integer n = luaL_checkinteger(L, 2);
  luaL_argcheck(L, n >= 0, 2, "count must be >= 0");
  luaL_argcheck(L, n <= MAX_VALUES, 2,
                "count must be <= 10000000 (call the schedule for the steps "
                "beyond)");
  lua_createtable(L, (int)n, 0);
  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, 1);
  ms_status st = MS_OK;
  for (lua_Integer t = 1; t <= n && st == MS_OK; t++) {
    double v;
    if ((st = ms_schedule_value(b->s, (int64_t)t, &v)) == MS_OK) {
      lua_pushnumber(L, v);
      lua_rawseti(L, -2, t);
    }
  }
  ms_lua_release(L, 1);
  ms_lua_leave(prev);
  return st == MS_OK ? 1 : ms_lua_fail(L, st);
}

static int l_tostring(lua_State *L) {
  ms_lua_checkudata(L, 1, MS_LUA_SCHEDULE);
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "label");
  return 1;
}

/* Free the schedule unless something still uses it (then its last user
 * does), and let go of the parts it was made of. */
static int l_gc(lua_State *L) {
  l_schedule *b = ms_lua_checkudata(L, 1, MS_LUA_SCHEDULE);
  if (ms_lua_defer_close(&b->use)) return 0;
  ms_schedule_free(b->s);
  b->s = NULL;
  luaL_unref(L, LUA_REGISTRYINDEX, b->fref);
  b->fref = LUA_NOREF;
  /* the parts, also those of a sequence whose making failed; each once */
  lua_getiuservalue(L, 1, 1);
  for (lua_Integer i = 1; lua_rawgeti(L, -1, i) != LUA_TNIL; i++) {
    if (lua_type(L, -1) == LUA_TUSERDATA) ms_lua_release(L, -1);
    lua_pop(L, 1);
    lua_pushboolean(L, 0);   /* released: not a schedule any more */
    lua_rawseti(L, -2, i);
  }
  return 0;
}

static const luaL_Reg methods[] = {{"values", l_values}, {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__call", l_call}, {"__tostring", l_tostring}, {"__gc", l_gc},
    {NULL, NULL}};

static const luaL_Reg builtins[] = {
    {"constant", l_constant},       {"step", l_step},
    {"multistep", l_multistep},     {"exponential", l_exponential},
    {"cosine", l_cosine},           {"linear", l_linear},
    {"polynomial", l_polynomial},   {"inverse_sqrt", l_inverse_sqrt},
    {"sequence", l_sequence},       {"warmup", l_warmup},
    {NULL, NULL}};

void ms_lua_open_schedule(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_SCHEDULE, methods, metamethods);
  lua_pop(L, 1);
  luaL_newlib(L, builtins);
  lua_setfield(L, -2, "schedule");
}
