/*
 * ms_lua.h -- declarations shared by the sources of the Lua 5.4 native
 * layer (twin for LuaJIT: bindings/ffi/momsandbox/ffi_core.lua).
 *
 * Prefixes: l_ for the Lua-callable functions (static in each file),
 * ms_lua_ for helpers shared between files.
 */
#ifndef MS_LUA_H
#define MS_LUA_H

#include <stddef.h>

#include "lauxlib.h"
#include "lua.h"
#include "momsandbox.h"

/* Metatable names: MS_LUA_VEC is "momsandbox.vec", and so on for each
 * kind.  Each array's address is also the registry key of its metatable
 * (lua_rawgetp), a faster check than luaL_checkudata's string lookup --
 * vector methods are called millions of times. */
#define MS_LUA_KINDS(X)                                                      \
  X(VEC, "vec") X(OBJECTIVE, "objective") X(RULE, "rule")                    \
  X(RULECLASS, "ruleclass") X(TRACE, "trace") X(SCHEDULE, "schedule")        \
  X(DATA, "data") X(MODEL, "model") X(TRAIN, "train") X(RNG, "rng")          \
  X(SWEEP, "sweep") X(SERVER, "server")
#define MS_LUA_DECLARE_KIND(K, name) extern const char MS_LUA_##K[];
MS_LUA_KINDS(MS_LUA_DECLARE_KIND)

/* luaL_testudata, luaL_checkudata and luaL_setmetatable for the classes
 * made by ms_lua_newclass. */
void *ms_lua_testudata(lua_State *L, int idx, const char *tname);
void *ms_lua_checkudata(lua_State *L, int idx, const char *tname);
void ms_lua_setclass(lua_State *L, const char *tname);
/* The box of kind tname (MS_LUA_*) at arg, argument arg of fname, else the
 * argument error "momsandbox.K expected, got T": the one check of a handle's
 * kind for every primitive (its liveness is the kind's business). */
void *ms_lua_checkkind(lua_State *L, int arg, const char *tname, const char *fname);
/* A primitive's answer for a closed handle: pushes nil, "<what> has been
 * closed", "EINVAL" and returns 3. */
int ms_lua_closed(lua_State *L, const char *what);
/* The type of the value at idx for messages: its __name if it has one. */
const char *ms_lua_typename(lua_State *L, int idx);
/* Argument errors with a fixed function name and number, whatever the
 * call site calls the function (luaL_argerror takes both from debug
 * information): n counts the arguments after self for methods.  Their
 * texts are the LuaJIT layer's too (momsandbox/ffi_core.lua). */
int ms_lua_argerror(lua_State *L, int n, const char *fname, const char *msg);
/* "T expected, got U" for the value at arg ("no value" when absent). */
int ms_lua_argtypeerror(lua_State *L, int arg, int n, const char *fname,
                        const char *expected);
/* An integer (or a string that converts to one) at arg. */
lua_Integer ms_lua_checkint(lua_State *L, int arg, int n, const char *fname);
/* A number (not a string) at arg, for primitives: the shared Lua checked. */
lua_Number ms_lua_checknum(lua_State *L, int arg, int n, const char *fname);
/* A primitive's engine failure st: pushes nil, message, code ("EINVAL",
 * ...) and returns 3; the error of a callback and Ctrl-C are raised. */
int ms_lua_failure(lua_State *L, ms_status st);
/* A primitive's answer for status st: true, or ms_lua_failure's. */
int ms_lua_status(lua_State *L, ms_status st);
/* Argument arg as a file name for C: a string (or number) without zero
 * bytes, which C would silently cut the name at. */
const char *ms_lua_checkpath(lua_State *L, int arg);

/* ------------------------------------------------------------- vectors
 * A vector owns its doubles (stored inside the userdata) or is a view on
 * memory owned by the engine, handed to a Lua callback.  A view dies when
 * the memory may go away; using it afterwards is an error, not a crash. */
typedef struct ms_lua_vec {
  double *x;
  size_t n;
  int view;     /* 1: x is borrowed */
  int dead;     /* 1: a view whose memory is gone */
  int readonly; /* 1: a view of data the callee must not change */
} ms_lua_vec;

ms_lua_vec *ms_lua_newvec(lua_State *L, size_t n);   /* zero-filled */
ms_lua_vec *ms_lua_newview(lua_State *L, int readonly); /* dead until set */
void ms_lua_setview(ms_lua_vec *v, double *x, size_t n);
ms_lua_vec *ms_lua_checkvec(lua_State *L, int arg);  /* a live ms.vec */
/* A ms.vec or a table of numbers at arg, converted in place to a vec. */
ms_lua_vec *ms_lua_checkvector(lua_State *L, int arg);
ms_lua_vec *ms_lua_pushcopy(lua_State *L, const double *x, size_t n);

/* --------------------------------------------------- objects and errors */
ms_objective *ms_lua_checkobjective(lua_State *L, int arg);
ms_rule *ms_lua_checkrule(lua_State *L, int arg);
/* The same for a call that steps the rule: an error when a running call
 * steps it already ("rule is in use by a running step"). */
ms_rule *ms_lua_checkidlerule(lua_State *L, int arg);
/* An objective or rule, NULL where the checks above raise (a value of
 * another kind, or closed). */
ms_objective *ms_lua_toobjective(lua_State *L, int arg);
ms_rule *ms_lua_torule(lua_State *L, int arg);
/* Push the label the shared Lua keeps in the info of the rule at arg
 * (rule_new's info.label; nil without one). */
void ms_lua_pushlabel(lua_State *L, int arg);
/* The schedule at idx (live), or NULL for other values. */
ms_schedule *ms_lua_toschedule(lua_State *L, int idx);

/* Raise the error for a failed core call: the pending Lua error of a
 * callback when st is MS_ECALLBACK, the host's "interrupted!" when st is
 * MS_EINTR and a Ctrl-C left its hook pending, else ms_last_error(). */
int ms_lua_fail(lua_State *L, ms_status st);
/* An ms_progress_fn calling the Lua function at stack index ctx (cast to
 * intptr_t) of the current state with (done, total, seconds). */
ms_status ms_lua_progress(void *ctx, int64_t done, int64_t total, double seconds);
/* Register the native.write_csv of a kind: writer(h, path, header) ->
 * true, or nil, message, code. */
void ms_lua_csvwriter(lua_State *L, const char *kind, lua_CFunction writer);
/* Record a message (format as lua_pushfstring) as the error of a failed
 * callback, for ms_lua_fail; returns MS_ECALLBACK. */
ms_status ms_lua_pending(lua_State *L, const char *fmt, ...);
/* The state on which engine callbacks run Lua code.  Each entry point that
 * may call back sets it and restores the previous one afterwards, so that
 * coroutines and nested runs each call back on their own state. */
lua_State *ms_lua_enter(lua_State *L);   /* returns the previous state */
void ms_lua_leave(lua_State *prev);
lua_State *ms_lua_current(void);
/* Calling back into Lua from the engine: push the message handler (it adds
 * a traceback) and remember its index h, push the function and its nargs
 * arguments, then ms_lua_pcall(L, nargs, nresults, h).  On failure the
 * error is kept for ms_lua_fail, the stack is back below h, and the result
 * is MS_ECALLBACK; on success the caller reads the results and pops them
 * with the handler (lua_settop(L, h - 1)). */
int ms_lua_pushhandler(lua_State *L);
ms_status ms_lua_pcall(lua_State *L, int nargs, int nresults, int handler);

/* Tables are read up to their raw length (a __len may say anything);
 * more than MS_LUA_MAXLEN entries, or a product of sizes above it (n x n
 * matrices, points x names), is an argument error for arg naming what. */
enum { MS_LUA_MAXLEN = 1 << 30 };
size_t ms_lua_rawlen(lua_State *L, int arg, int idx, const char *what);
size_t ms_lua_checkproduct(lua_State *L, int arg, size_t a, size_t b,
                           const char *what);

/* Objects in use.  The boxes of objects a running call uses (objectives,
 * rules, schedules, data sets, models) begin with this count of users: the
 * calls running on them, and for schedules the rules and schedules made
 * of them.  __gc and __close of a box in use only mark it closed
 * (ms_lua_defer_close returns 1); the last user's ms_lua_release frees
 * it.  A closed box is refused as an argument, as a freed one is. */
typedef struct ms_lua_use {
  int users;
  int closed;
  int retired;   /* a rule's replaced schedules wait for the last user */
} ms_lua_use;
void ms_lua_hold(lua_State *L, int idx);     /* the box at idx, checked */
void ms_lua_release(lua_State *L, int idx);
int ms_lua_defer_close(ms_lua_use *u);
/* Push a new table of the schedules of the rule at idx, each held (the
 * copy of a rule uses them); ms_lua_release_all lets go of those in the
 * table at idx, emptying it. */
void ms_lua_pushschedules(lua_State *L, int idx);
void ms_lua_release_all(lua_State *L, int idx);
/* The rule at idx has no users left and schedules retired (called by
 * ms_lua_release). */
void ms_lua_rule_idle(lua_State *L, int idx);

/* Create the metatable named tname with methods (for __index) and
 * metamethods, leaving it on the stack. */
void ms_lua_newclass(lua_State *L, const char *tname, const luaL_Reg *methods,
                     const luaL_Reg *metamethods);

/* ------------------------------------------------------ module parts */
/* ms_lua_open_vec and the others, in the order luaopen_momsandbox calls
 * them: each sets fields of the module table on the top. */
#define MS_LUA_PARTS(X)                                                      \
  X(vec) X(rng) X(schedule) X(help) X(sweep) X(train) X(objective) X(rule)  \
  X(trace) X(util) X(analysis) X(data) X(model) X(server)
#define MS_LUA_DECLARE_OPEN(part) void ms_lua_open_##part(lua_State *L);
MS_LUA_PARTS(MS_LUA_DECLARE_OPEN)

/* The data set and model at arg (l_data.c, l_model.c): live, else an
 * argument error. */
ms_data *ms_lua_checkdata(lua_State *L, int arg);
ms_model *ms_lua_checkmodel(lua_State *L, int arg);

/* The pure-Lua parts, embedded at build time (cmake/embed_lua.cmake). */
typedef struct ms_lua_part {
  const char *module, *chunkname, *source;
  size_t size;
} ms_lua_part;
extern const ms_lua_part ms_lua_parts[];

int luaopen_momsandbox(lua_State *L);

#endif
