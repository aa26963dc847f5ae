/*
 * l_sweep.c -- ms.sweep{objective =, rule =, x0 =, grid = {...}, ...}: a
 * rule run at every point of a grid of hyper-parameters, and the result:
 * points, columns, the best point, CSV, heat maps.
 *
 * The runs use every core when nothing in them is written in Lua; a
 * Lua-defined rule, objective or schedule makes them all run here, on the
 * calling thread, where an error raised in it stops the sweep and is
 * raised again unchanged.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "momsandbox_host.h"
#include "ms_lua.h"

static const char *const measure_names[] = {"loss", "rate", "steps", NULL};
static const int measure_bits[] = {MS_MEASURE_LOSS, MS_MEASURE_RATE,
                                   MS_MEASURE_STEPS};

typedef struct l_sweep {
  ms_sweep *s;
} l_sweep;

static ms_sweep *checksweep(lua_State *L, int arg) {
  l_sweep *b = ms_lua_checkudata(L, arg, MS_LUA_SWEEP);
  if (b->s == NULL) luaL_argerror(L, arg, "sweep has been closed");
  return b->s;
}

/* ------------------------------------------------------ progress bar */

typedef struct bar {
  int show;    /* draw at all (stderr is a terminal, or asked for) */
  int drawn;
} bar;

/* "sweep  42% [############                ] 1050/2500 points, 0:03 left",
 * redrawn in place; only for sweeps that last more than half a second. */
static ms_status draw(void *ctx, int64_t done, int64_t total,
                      double seconds) {
  bar *b = ctx;
  if (!b->show || (seconds < 0.5 && !b->drawn) || total == 0) return MS_OK;
  enum { WIDTH = 30 };
  char fill[WIDTH + 1];
  int filled = (int)(WIDTH * done / total);
  for (int i = 0; i < WIDTH; i++) fill[i] = i < filled ? '#' : ' ';
  fill[WIDTH] = '\0';
  fprintf(stderr, "\rsweep %3d%% [%s] %lld/%lld points", (int)(100 * done / total),
          fill, (long long)done, (long long)total);
  if (done == total) {
    fprintf(stderr, " in %.1f s\n", seconds);
  } else if (done > 0) {
    long left = (long)(seconds * (double)(total - done) / (double)done + 0.5);
    fprintf(stderr, ", %ld:%02ld left ", left / 60, left % 60);
  }
  fflush(stderr);
  b->drawn = 1;
  return MS_OK;
}

/* ----------------------------------------------------------- options */

/* A required field of the options at 1, pushed. */
static int required(lua_State *L, const char *key, const char *what) {
  if (lua_getfield(L, 1, key) == LUA_TNIL)
    luaL_argerror(L, 1, lua_pushfstring(L, "option '%s' (%s) is required",
                                        key, what));
  return lua_gettop(L);
}

/* The core's messages name the axis. */
static int grid_error(lua_State *L) {
  return luaL_argerror(L, 1, lua_pushfstring(L, "grid: %s", ms_last_error()));
}

static double numfield(lua_State *L, int t, const char *key, const char *axis) {
  if (lua_getfield(L, t, key) != LUA_TNUMBER)
    luaL_argerror(L, 1, lua_pushfstring(L, "grid.%s: '%s' must be a number, got %s",
                                        axis, key, luaL_typename(L, -1)));
  double v = lua_tonumber(L, -1);
  lua_pop(L, 1);
  return v;
}

/* Axis name from the value at idx: a number, a list of numbers, or a
 * range {from =, to =, n =, log = false}. */
static void add_axis(lua_State *L, ms_sweep *s, const char *name, int idx) {
  ms_status st;
  if (lua_type(L, idx) == LUA_TNUMBER) {
    double v = lua_tonumber(L, idx);
    st = ms_sweep_axis(s, name, &v, 1);
  } else if (lua_istable(L, idx) && lua_getfield(L, idx, "from") != LUA_TNIL) {
    lua_pop(L, 1);
    static const char *const known[] = {"from", "to", "n", "log", NULL};
    double from = numfield(L, idx, "from", name), to = numfield(L, idx, "to", name);
    int isint;
    lua_getfield(L, idx, "n");
    lua_Integer n = lua_tointegerx(L, -1, &isint);
    if (!isint)
      luaL_argerror(L, 1, lua_pushfstring(L, "grid.%s: 'n' (the number of values) "
                                             "must be an integer", name));
    lua_getfield(L, idx, "log");
    int log = lua_toboolean(L, -1);
    lua_pop(L, 2);
    for (lua_pushnil(L); lua_next(L, idx); lua_pop(L, 1)) {
      int ok = 0;
      for (int i = 0; known[i] && !ok; i++)
        ok = lua_type(L, -2) == LUA_TSTRING &&
             strcmp(lua_tostring(L, -2), known[i]) == 0;
      if (!ok)
        luaL_argerror(L, 1, lua_pushfstring(L, "grid.%s: a range takes from, to, "
                                               "n and log", name));
    }
    st = ms_sweep_range(s, name, from, to, n, log);
  } else if (lua_istable(L, idx) || ms_lua_testudata(L, idx, MS_LUA_VEC)) {
    if (lua_istable(L, idx)) lua_pop(L, 1);   /* the "from" field */
    ms_lua_vec *v = ms_lua_checkvector(L, idx);
    st = ms_sweep_axis(s, name, v->x, v->n);
  } else {
    luaL_argerror(L, 1, lua_pushfstring(L, "grid.%s must be a number, a list of "
                                           "numbers or {from =, to =, n =}, got %s",
                                        name, luaL_typename(L, idx)));
    return;
  }
  if (st != MS_OK) grid_error(L);
}

/* "lr, beta; or scale" */
static const char *pushnames(lua_State *L, const ms_rule *rule) {
  const ms_rule_class *cls = ms_rule_class_of(rule);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  for (int i = 0; i < cls->nhyper; i++) {
    luaL_addstring(&b, cls->hyper[i].name);
    luaL_addstring(&b, ", ");
  }
  luaL_addstring(&b, "or scale");
  luaL_pushresult(&b);
  return lua_tostring(L, -1);
}

static void checkname(lua_State *L, const ms_rule *rule, int key,
                      const char *where) {
  key = lua_absindex(L, key);
  const char *name = lua_type(L, key) == LUA_TSTRING ? lua_tostring(L, key) : NULL;
  if (name != NULL && (ms_rule_hyper_index(rule, name) >= 0 ||
                       strcmp(name, "scale") == 0))
    return;
  luaL_argerror(L, 1, lua_pushfstring(L, "%s: %s has no hyper-parameter '%s' "
                                         "(it takes %s)",
                                      where, ms_rule_class_of(rule)->name,
                                      luaL_tolstring(L, key, NULL),
                                      pushnames(L, rule)));
}

/* The axes in the rule's order of its hyper-parameters, then scale. */
static void add_grid(lua_State *L, ms_sweep *s, const ms_rule *rule, int grid) {
  luaL_argcheck(L, lua_istable(L, grid), 1, "grid must be a table {name = values}");
  for (lua_pushnil(L); lua_next(L, grid); lua_pop(L, 1))
    checkname(L, rule, -2, "grid");
  const ms_rule_class *cls = ms_rule_class_of(rule);
  for (int i = 0; i <= cls->nhyper; i++) {
    const char *name = i < cls->nhyper ? cls->hyper[i].name : "scale";
    int top = lua_gettop(L);
    if (lua_getfield(L, grid, name) != LUA_TNIL) add_axis(L, s, name, top + 1);
    lua_settop(L, top);
  }
}

/* points = {{lr = .., beta = ..}, ...}: every point names the same
 * parameters. */
static void add_points(lua_State *L, ms_sweep *s, const ms_rule *rule, int pts) {
  luaL_argcheck(L, lua_istable(L, pts), 1, "points must be a list of tables");
  size_t count = ms_lua_rawlen(L, 1, pts, "points");
  luaL_argcheck(L, count > 0, 1, "points must not be empty");
  lua_geti(L, pts, 1);
  luaL_argcheck(L, lua_istable(L, -1), 1, "points[1] must be a table");
  const ms_rule_class *cls = ms_rule_class_of(rule);
  const char *names[65];
  size_t nnames = 0;
  for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1))
    checkname(L, rule, -2, "points[1]");
  for (int i = 0; i <= cls->nhyper && nnames < 64; i++) {
    const char *name = i < cls->nhyper ? cls->hyper[i].name : "scale";
    if (lua_getfield(L, -1, name) != LUA_TNIL) names[nnames++] = name;
    lua_pop(L, 1);
  }
  lua_pop(L, 1);
  ms_lua_vec *v = ms_lua_newvec(L, ms_lua_checkproduct(L, 1, count, nnames,
                                                     "points"));
  for (size_t k = 0; k < count; k++) {
    lua_geti(L, pts, (lua_Integer)k + 1);
    if (!lua_istable(L, -1))
      luaL_argerror(L, 1, lua_pushfstring(L, "points[%I] must be a table",
                                          (lua_Integer)k + 1));
    size_t keys = 0;
    for (lua_pushnil(L); lua_next(L, -2); lua_pop(L, 1)) keys++;
    for (size_t a = 0; a < nnames; a++) {
      int isnum;
      lua_getfield(L, -1, names[a]);
      v->x[k * nnames + a] = lua_tonumberx(L, -1, &isnum);
      if (!isnum)
        luaL_argerror(L, 1, lua_pushfstring(L, "points[%I].%s must be a number, "
                                               "got %s (every point names the "
                                               "same parameters)",
                                            (lua_Integer)k + 1, names[a],
                                            luaL_typename(L, -1)));
      lua_pop(L, 1);
    }
    if (keys != nnames)
      luaL_argerror(L, 1, lua_pushfstring(L, "points[%I] names other parameters "
                                             "than points[1]",
                                          (lua_Integer)k + 1));
    lua_pop(L, 1);
  }
  if (ms_sweep_points(s, names, nnames, v->x, count) != MS_OK)
    luaL_argerror(L, 1, lua_pushfstring(L, "points: %s", ms_last_error()));
}

/* measure = "rate" or {"loss", "rate", ...}: the bits, and a new list of
 * the names (the first is the one heat maps show) left on the stack. */
static int checkmeasures(lua_State *L) {
  int bits = 0;
  lua_newtable(L);
  int list = lua_gettop(L);
  if (lua_getfield(L, 1, "measure") == LUA_TNIL) {
    lua_pop(L, 1);
    lua_pushliteral(L, "loss");
  }
  if (lua_type(L, -1) == LUA_TSTRING) {
    lua_createtable(L, 1, 0);
    lua_insert(L, -2);
    lua_rawseti(L, -2, 1);
  }
  luaL_argcheck(L, lua_istable(L, -1) && lua_rawlen(L, -1) > 0, 1,
                "measure must be 'loss', 'rate' or 'steps', or a list of them");
  for (lua_Integer i = 1; i <= (lua_Integer)lua_rawlen(L, -1); i++) {
    lua_geti(L, -1, i);
    const char *m = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "";
    int k = 0;
    while (measure_names[k] && strcmp(m, measure_names[k]) != 0) k++;
    if (measure_names[k] == NULL)
      luaL_argerror(L, 1, lua_pushfstring(L, "measure must be 'loss', 'rate' "
                                             "or 'steps', got '%s'",
                                          luaL_tolstring(L, -1, NULL)));
    bits |= measure_bits[k];
    lua_rawseti(L, list, i);
  }
  lua_settop(L, list);
  return bits;
}

static void checkshard(lua_State *L, ms_sweep_opts *o) {
  if (lua_getfield(L, 1, "shard") == LUA_TNIL) {
    lua_pop(L, 1);
    return;
  }
  lua_Integer i = 0, n = 0;
  int ok = lua_istable(L, -1);
  if (ok) {
    int a, b;
    lua_geti(L, -1, 1);
    lua_geti(L, -2, 2);
    i = lua_tointegerx(L, -2, &a);
    n = lua_tointegerx(L, -1, &b);
    ok = a && b && n >= 1 && i >= 1 && i <= n;
    lua_pop(L, 2);
  }
  if (!ok) luaL_argerror(L, 1, "shard must be {i, n}: part i of n, 1 <= i <= n");
  o->shard = i - 1;
  o->shards = n;
  lua_pop(L, 1);
}

/* ms.sweep{objective =, rule =, x0 =, grid = {...} or points = {...},
 *          steps = 100, measure = "loss", tol = 1e-6, xstar =, fstar =,
 *          threads = 0, shard = {i, n}, progress =, fast = true} */
static int l_sweep_run(lua_State *L) {
  static const char *const known[] = {
      "objective", "rule", "x0", "grid", "points", "steps", "measure", "tol",
      "xstar", "fstar", "threads", "shard", "progress", "fast", NULL};
  ms_lua_checkoptions(L, 1, known);
  lua_settop(L, 1);
  int objidx = required(L, "objective", "an ms.objective");
  ms_objective *obj = ms_lua_checkobjective(L, objidx);
  int ruleidx = required(L, "rule", "a rule, or the name of a built-in one");
  ms_lua_vec *x0 = ms_lua_checkvector(L, required(L, "x0", "the starting point"));
  l_sweep *box = lua_newuserdatauv(L, sizeof *box, 1);
  box->s = NULL;
  ms_lua_setclass(L, MS_LUA_SWEEP);
  int result = lua_gettop(L);
  ms_rule *rule =
      lua_type(L, ruleidx) == LUA_TSTRING ? NULL : ms_lua_checkrule(L, ruleidx);
  ms_status st;
  if (rule != NULL) {
    st = ms_sweep_new(obj, rule, x0->x, x0->n, &box->s);
  } else {   /* rule = "momentum": the class's defaults */
    const ms_rule_class *cls = ms_rule_class_find(lua_tostring(L, ruleidx));
    if (cls == NULL)
      luaL_argerror(L, 1, lua_pushfstring(L, "no built-in rule '%s'",
                                          lua_tostring(L, ruleidx)));
    if ((st = ms_rule_new(cls, &rule)) == MS_OK)
      st = ms_sweep_new(obj, rule, x0->x, x0->n, &box->s);
    ms_rule_free(rule);
    rule = NULL;
  }
  if (st != MS_OK) luaL_argerror(L, 1, ms_last_error());
  /* the sweep's copy of the rule points at the rule's schedules: it uses
   * them (and keeps them) until it is freed, whatever the rule becomes */
  lua_createtable(L, 0, 5);
  if (lua_type(L, ruleidx) != LUA_TSTRING) ms_lua_pushschedules(L, ruleidx);
  else lua_newtable(L);
  lua_setfield(L, -2, "schedules");
  lua_setiuservalue(L, result, 1);
  const ms_rule *defaults = ms_sweep_rule(box->s);

  int grid = lua_getfield(L, 1, "grid") != LUA_TNIL;
  int points = lua_getfield(L, 1, "points") != LUA_TNIL;
  luaL_argcheck(L, grid != points, 1,
                grid ? "give grid or points, not both"
                     : "option 'grid' (or 'points') is required");
  if (grid) add_grid(L, box->s, defaults, result + 1);
  else add_points(L, box->s, defaults, result + 2);
  lua_settop(L, result);

  ms_sweep_opts o;
  ms_sweep_opts_init(&o);
  o.steps = ms_lua_optintfield(L, 1, "steps", o.steps);
  o.measures = checkmeasures(L);
  int measures = lua_gettop(L);
  o.tol = ms_lua_optnumfield(L, 1, "tol", o.tol);
  o.threads = (int)ms_lua_optintfield(L, 1, "threads", 0);
  luaL_argcheck(L, o.threads >= 0 && o.threads <= 1024, 1,
                "threads must be in [0, 1024]");
  o.fast = ms_lua_optboolfield(L, 1, "fast", 1);
  checkshard(L, &o);
  bar b = {ms_lua_optboolfield(L, 1, "progress", isatty(2)), 0};
  o.progress = draw;
  o.progress_ctx = &b;
  const double *xstar = NULL, fstar = ms_lua_optnumfield(L, 1, "fstar", NAN);
  if (lua_getfield(L, 1, "xstar") != LUA_TNIL) {
    ms_lua_vec *v = ms_lua_checkvector(L, -1);
    luaL_argcheck(L, v->n == x0->n, 1, "xstar must have as many entries as x0");
    xstar = v->x;
  }
  if (ms_sweep_target(box->s, xstar, isnan(fstar) ? NULL : &fstar) != MS_OK)
    luaL_argerror(L, 1, ms_last_error());

  lua_getiuservalue(L, result, 1);   /* the result's user value */
  lua_getfield(L, 1, "objective");
  lua_setfield(L, -2, "objective");
  lua_getfield(L, 1, "rule");   /* it owns the schedules the sweep uses */
  lua_setfield(L, -2, "rule");
  lua_pushvalue(L, measures);
  lua_setfield(L, -2, "measures");
  if (lua_type(L, ruleidx) == LUA_TSTRING) lua_pushvalue(L, ruleidx);
  else ms_lua_pushrulelabel(L, ruleidx);
  lua_setfield(L, -2, "label");
  lua_pop(L, 1);

  lua_State *prev = ms_lua_enter(L);
  ms_lua_hold(L, objidx);   /* closed during the run: freed after it */
  if (lua_type(L, ruleidx) != LUA_TSTRING) ms_lua_hold(L, ruleidx);
  ms_sigint_begin(0);   /* Ctrl-C reaches the C loop too */
  st = ms_sweep_run(box->s, &o);
  ms_sigint_end();
  if (lua_type(L, ruleidx) != LUA_TSTRING) ms_lua_release(L, ruleidx);
  ms_lua_release(L, objidx);
  ms_lua_leave(prev);
  if (b.drawn && st != MS_OK) fputc('\n', stderr);
  if (st != MS_OK) return ms_lua_fail(L, st);
  lua_settop(L, result);
  return 1;
}

/* ----------------------------------------------------------- results */

/* The measure named by the string at arg (default: the first measured),
 * as its index in measure_names; an error when it was not measured. */
static int checkmeasure(lua_State *L, int arg, ms_sweep *s) {
  if (lua_isnoneornil(L, arg)) {
    if (lua_gettop(L) < arg) lua_settop(L, arg);
    lua_getiuservalue(L, 1, 1);
    lua_getfield(L, -1, "measures");
    lua_geti(L, -1, 1);
    lua_replace(L, arg);
    lua_pop(L, 2);
  }
  int k = luaL_checkoption(L, arg, NULL, measure_names);
  if (!(ms_sweep_measures(s) & measure_bits[k]))
    luaL_argerror(L, arg, lua_pushfstring(L, "the sweep did not measure %s",
                                          measure_names[k]));
  return k;
}

static double measured(const ms_sweep_result *r, int k) {
  return k == 0 ? r->loss : k == 1 ? r->rate : r->steps;
}

static void pushnumber_or_int(lua_State *L, double v) {
  lua_Integer i;
  if (lua_numbertointeger(v, &i) && (double)i == v && !(v == 0 && signbit(v)))
    lua_pushinteger(L, i);
  else
    lua_pushnumber(L, v);
}

/* Point k (0-based in this result) as a table {lr =, beta =, loss =, ...,
 * diverged = step or false}. */
static void pushpoint(lua_State *L, ms_sweep *s, int64_t k) {
  const ms_sweep_result *r = ms_sweep_results(s) + k;
  size_t naxes = ms_sweep_naxes(s);
  lua_createtable(L, 0, (int)naxes + 4);
  for (size_t a = 0; a < naxes; a++) {
    lua_pushnumber(L, ms_sweep_value(s, ms_sweep_first(s) + k, a));
    lua_setfield(L, -2, ms_sweep_axis_name(s, a));
  }
  for (int m = 0; measure_names[m]; m++) {
    if (!(ms_sweep_measures(s) & measure_bits[m])) continue;
    if (m == 2) pushnumber_or_int(L, r->steps);
    else lua_pushnumber(L, measured(r, m));
    lua_setfield(L, -2, measure_names[m]);
  }
  if (r->diverged) lua_pushinteger(L, (lua_Integer)r->diverged);
  else lua_pushboolean(L, 0);
  lua_setfield(L, -2, "diverged");
}

/* res:column(name): an axis, a measure or "diverged" (0: it did not) over
 * the points, as a table. */
static int l_column(lua_State *L) {
  ms_sweep *s = checksweep(L, 1);
  const char *name = luaL_checkstring(L, 2);
  int64_t count = ms_sweep_count(s);
  const ms_sweep_result *r = ms_sweep_results(s);
  int axis = -1, m = -1;
  for (size_t a = 0; a < ms_sweep_naxes(s); a++)
    if (strcmp(ms_sweep_axis_name(s, a), name) == 0) axis = (int)a;
  for (int k = 0; measure_names[k]; k++)
    if (strcmp(measure_names[k], name) == 0) m = k;
  if (axis < 0 && strcmp(name, "diverged") != 0) m = checkmeasure(L, 2, s);
  lua_createtable(L, (int)count, 0);
  for (int64_t k = 0; k < count; k++) {
    if (axis >= 0)
      lua_pushnumber(L, ms_sweep_value(s, ms_sweep_first(s) + k, (size_t)axis));
    else if (m >= 0) lua_pushnumber(L, measured(&r[k], m));
    else lua_pushinteger(L, (lua_Integer)r[k].diverged);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
  return 1;
}

/* The values of axis a for a figure: log10 of them for a log range. */
static void pushaxis(lua_State *L, ms_sweep *s, size_t a) {
  int64_t len = ms_sweep_axis_len(s, a);
  int log = ms_sweep_axis_log(s, a);
  lua_createtable(L, (int)len, 0);
  for (int64_t k = 0; k < len; k++) {
    double v = ms_sweep_axis_value(s, a, k);
    lua_pushnumber(L, log ? log10(v) : v);
    lua_rawseti(L, -2, (lua_Integer)k + 1);
  }
}

/* res:matrix(measure): x (axis 1), y (axis 2) and z with z[i][j] the
 * measure at (x[j], y[i]) -- ms.plot.heatmap's shape.  Needs the whole of
 * a grid of two axes; a log range gives log10 of its values. */
static int l_matrix(lua_State *L) {
  ms_sweep *s = checksweep(L, 1);
  int m = checkmeasure(L, 2, s);
  if (ms_sweep_naxes(s) != 2 || ms_sweep_axis_len(s, 0) == 0)
    return luaL_error(L, "a matrix needs a grid of two axes");
  if (ms_sweep_count(s) != ms_sweep_total(s))
    return luaL_error(L, "a matrix needs the whole grid, not a shard");
  int64_t nx = ms_sweep_axis_len(s, 0), ny = ms_sweep_axis_len(s, 1);
  const ms_sweep_result *r = ms_sweep_results(s);
  pushaxis(L, s, 0);
  pushaxis(L, s, 1);
  lua_createtable(L, (int)ny, 0);
  for (int64_t i = 0; i < ny; i++) {
    lua_createtable(L, (int)nx, 0);
    for (int64_t j = 0; j < nx; j++) {
      lua_pushnumber(L, measured(&r[i * nx + j], m));
      lua_rawseti(L, -2, (lua_Integer)j + 1);
    }
    lua_rawseti(L, -2, (lua_Integer)i + 1);
  }
  return 3;
}

/* res:heatmap{measure =, log = false, file =, ...}: ms.plot.heatmap of a
 * measure over the two axes (log = true: log10 of it); the other options
 * go to ms.plot.heatmap. */
static int l_heatmap(lua_State *L) {
  ms_sweep *s = checksweep(L, 1);
  if (lua_isnoneornil(L, 2)) lua_newtable(L), lua_replace(L, 2);
  luaL_checktype(L, 2, LUA_TTABLE);
  lua_settop(L, 2);
  lua_getfield(L, 2, "measure");
  int m = checkmeasure(L, 3, s);
  lua_getfield(L, 2, "log");
  int log = lua_toboolean(L, -1);
  lua_settop(L, 2);
  lua_getglobal(L, "require");
  lua_pushliteral(L, "momsandbox.plot");
  lua_call(L, 1, 1);
  lua_getfield(L, -1, "heatmap");
  lua_newtable(L);   /* the options of ms.plot.heatmap */
  int opts = lua_gettop(L);
  for (lua_pushnil(L); lua_next(L, 2); lua_pop(L, 1)) {
    const char *key = lua_tostring(L, -2);
    if (lua_type(L, -2) == LUA_TSTRING && (strcmp(key, "measure") == 0 ||
                                            strcmp(key, "log") == 0))
      continue;
    lua_pushvalue(L, -2);
    lua_pushvalue(L, -2);
    lua_settable(L, opts);
  }
  lua_pushcfunction(L, l_matrix);
  lua_pushvalue(L, 1);
  lua_pushstring(L, measure_names[m]);
  lua_call(L, 2, 3);
  if (log) {
    int64_t ny = (int64_t)luaL_len(L, -1), nx = (int64_t)luaL_len(L, -2);
    for (int64_t i = 1; i <= ny; i++) {
      lua_geti(L, -1, i);
      for (int64_t j = 1; j <= nx; j++) {
        lua_geti(L, -1, j);
        lua_pushnumber(L, log10(lua_tonumber(L, -1)));
        lua_seti(L, -3, j);
        lua_pop(L, 1);
      }
      lua_pop(L, 1);
    }
  }
  lua_setfield(L, opts, "z");
  lua_setfield(L, opts, "y");
  lua_setfield(L, opts, "x");
  static const char *const labels[] = {"xlabel", "ylabel"};
  for (size_t a = 0; a < 2; a++) {
    if (lua_getfield(L, opts, labels[a]) == LUA_TNIL) {
      lua_pushfstring(L, ms_sweep_axis_log(s, a) ? "log10 %s" : "%s",
                      ms_sweep_axis_name(s, a));
      lua_setfield(L, opts, labels[a]);
    }
    lua_pop(L, 1);
  }
  if (lua_getfield(L, opts, "cblabel") == LUA_TNIL) {
    lua_pushfstring(L, log ? "log10 %s" : "%s", measure_names[m]);
    lua_setfield(L, opts, "cblabel");
  }
  lua_pop(L, 1);
  lua_call(L, 1, 1);
  return 1;
}

/* res:best(measure): the point with the smallest measure among those
 * that did not diverge, and its index; nil when there is none. */
static int l_best(lua_State *L) {
  ms_sweep *s = checksweep(L, 1);
  int m = checkmeasure(L, 2, s);
  const ms_sweep_result *r = ms_sweep_results(s);
  int64_t best = -1;
  for (int64_t k = 0; k < ms_sweep_count(s); k++) {
    double v = measured(&r[k], m);
    if (!r[k].diverged && !isnan(v) && (best < 0 || v < measured(&r[best], m)))
      best = k;
  }
  if (best < 0) return 0;
  pushpoint(L, s, best);
  lua_pushinteger(L, (lua_Integer)best + 1);
  return 2;
}

/* res:csv(path, {header = (first shard only)}): the parts of a sharded
 * sweep concatenate into the whole sweep's file. */
static int l_csv(lua_State *L) {
  ms_sweep *s = checksweep(L, 1);
  const char *path = ms_lua_checkpath(L, 2);
  int header = ms_sweep_first(s) == 0;
  if (!lua_isnoneornil(L, 3)) {
    static const char *const known[] = {"header", NULL};
    ms_lua_checkoptions(L, 3, known);
    header = ms_lua_optboolfield(L, 3, "header", header);
  }
  ms_sigint_begin(0);   /* millions of rows take seconds */
  ms_status st = ms_sweep_write_csv(s, path, header);
  ms_sigint_end();
  if (st != MS_OK) return luaL_error(L, "%s", ms_last_error());
  lua_settop(L, 1);
  return 1;
}

static int l_len(lua_State *L) {
  lua_pushinteger(L, (lua_Integer)ms_sweep_count(checksweep(L, 1)));
  return 1;
}

static int l_tostring(lua_State *L) {
  ms_sweep *s = checksweep(L, 1);
  luaL_Buffer b;
  luaL_buffinit(L, &b);
  lua_getiuservalue(L, 1, 1);
  lua_getfield(L, -1, "label");
  lua_pushfstring(L, "sweep of %s over ", lua_tostring(L, -1));
  luaL_addvalue(&b);
  lua_pop(L, 2);
  size_t naxes = ms_sweep_naxes(s);
  for (size_t a = 0; a < naxes; a++) {
    if (a > 0) luaL_addstring(&b, " x ");
    luaL_addstring(&b, ms_sweep_axis_name(s, a));
    if (ms_sweep_axis_len(s, a) > 0) {
      lua_pushfstring(L, " (%I)", (lua_Integer)ms_sweep_axis_len(s, a));
      luaL_addvalue(&b);
    }
  }
  int64_t diverged = 0;
  for (int64_t k = 0; k < ms_sweep_count(s); k++)
    diverged += ms_sweep_results(s)[k].diverged != 0;
  char buf[200];
  snprintf(buf, sizeof buf, ": %lld of %lld points, %s loop, %d thread%s, "
           "%.3g s; %lld diverged",
           (long long)ms_sweep_count(s), (long long)ms_sweep_total(s),
           ms_sweep_was_fast(s) ? "vectorised" : "general",
           ms_sweep_threads(s), ms_sweep_threads(s) == 1 ? "" : "s",
           ms_sweep_seconds(s), (long long)diverged);
  luaL_addstring(&b, buf);
  luaL_pushresult(&b);
  return 1;
}

static int l_index(lua_State *L) {
  ms_sweep *s = checksweep(L, 1);
  if (lua_type(L, 2) == LUA_TNUMBER) {
    lua_Integer i = luaL_checkinteger(L, 2), n = (lua_Integer)ms_sweep_count(s);
    if (i < 0) i += n + 1;
    if (i < 1 || i > n)
      return luaL_argerror(L, 2, lua_pushfstring(L, "point %I out of range "
                                                    "(sweep of %I)", i, n));
    pushpoint(L, s, i - 1);
    return 1;
  }
  lua_pushvalue(L, 2);
  if (lua_rawget(L, lua_upvalueindex(1)) != LUA_TNIL) return 1;
  const char *key = lua_tostring(L, 2);
  if (key == NULL) return 1;
  if (strcmp(key, "axes") == 0) {
    lua_createtable(L, (int)ms_sweep_naxes(s), 0);
    for (size_t a = 0; a < ms_sweep_naxes(s); a++) {
      lua_pushstring(L, ms_sweep_axis_name(s, a));
      lua_rawseti(L, -2, (lua_Integer)a + 1);
    }
  } else if (strcmp(key, "total") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_sweep_total(s));
  } else if (strcmp(key, "first") == 0) {
    lua_pushinteger(L, (lua_Integer)ms_sweep_first(s) + 1);
  } else if (strcmp(key, "fast") == 0) {
    lua_pushboolean(L, ms_sweep_was_fast(s));
  } else if (strcmp(key, "threads") == 0) {
    lua_pushinteger(L, ms_sweep_threads(s));
  } else if (strcmp(key, "seconds") == 0) {
    lua_pushnumber(L, ms_sweep_seconds(s));
  } else if (strcmp(key, "diverged") == 0) {
    lua_Integer n = 0;
    for (int64_t k = 0; k < ms_sweep_count(s); k++)
      n += ms_sweep_results(s)[k].diverged != 0;
    lua_pushinteger(L, n);
  } else {
    lua_getiuservalue(L, 1, 1);   /* objective, rule, measures, label */
    lua_getfield(L, -1, key);
  }
  return 1;
}

static int l_gc(lua_State *L) {
  l_sweep *b = ms_lua_checkudata(L, 1, MS_LUA_SWEEP);
  ms_sweep_free(b->s);
  b->s = NULL;
  if (lua_getiuservalue(L, 1, 1) == LUA_TTABLE &&
      lua_getfield(L, -1, "schedules") == LUA_TTABLE)
    ms_lua_release_all(L, -1);
  return 0;
}

static const luaL_Reg methods[] = {
    {"column", l_column}, {"matrix", l_matrix}, {"heatmap", l_heatmap},
    {"best", l_best},     {"csv", l_csv},       {NULL, NULL}};

static const luaL_Reg metamethods[] = {
    {"__len", l_len}, {"__tostring", l_tostring}, {"__gc", l_gc},
    {"__close", l_gc}, {NULL, NULL}};

void ms_lua_open_sweep(lua_State *L) {
  ms_lua_newclass(L, MS_LUA_SWEEP, methods, metamethods);
  lua_getfield(L, -1, "__index");
  lua_pushcclosure(L, l_index, 1);
  lua_setfield(L, -2, "__index");
  lua_pop(L, 1);
  lua_pushcfunction(L, l_sweep_run);
  lua_setfield(L, -2, "sweep");
}
