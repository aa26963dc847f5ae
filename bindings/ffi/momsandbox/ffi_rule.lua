--- momsandbox.ffi_rule: the native part of update rules under LuaJIT --
-- the kinds "rule" and "ruleclass" and the primitives ruleclass_new,
-- rule_new, rule_set and rule_op (primitives.lua; rule_classes is help.lua's).  Twin of
-- bindings/lua/l_rule.c; used by lua/momsandbox/rule.lua (the API) and by
-- the loops of trace.lua, train.lua and sweep.lua (M.record, M.stepper...).
--
-- A class defined in Lua is one more engine class whose descriptors live
-- in FFI memory.  Its step runs in Lua, called directly (M.stepper): the
-- engine's ms_rule_begin_step does the book-keeping around it, and LuaJIT
-- compiles the step into the caller's loop.  The class's C function
-- pointers call back into Lua only when the engine drives the loop.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"
local schedule = require "momsandbox.ffi_schedule"

local C = core.C
local M = {}

local Rule = core.handle_type("rule", "ms_rule", C.ms_rule_free)
local Class = core.handle_type("ruleclass", "ms_rule_class", C.ms_rule_class_free)
-- Records by handle, and back (both weak: a record never holds its handle).
local records = setmetatable({}, {__mode = "k"})
local handles = setmetatable({}, {__mode = "kv"})
local classes = setmetatable({}, {__mode = "k"})   -- ruleclass handle -> class

--- The record of r if it is a rule, else nil.
function M.record(r)
  return ffi.istype(Rule.ctype, r) and records[r] or nil
end

local function live(d)
  if d.ptr == nil then error("rule has been closed", 0) end
  return d
end

--- The record of the rule at argument arg of fname, open.
function M.check(r, arg, fname, present)
  return live(M.record(r) or core.typeerror(arg, fname, "momsandbox.rule", r, present))
end

------------------------------------------------------------------ classes

--- What the loops need to know of an engine class (cptr).
local function describe(cptr)
  local c = {cptr = cptr, name = ffi.string(cptr.name), hyper = {}, state_names = {},
             lookahead = cptr.lookahead ~= nil}
  for i = 0, cptr.nhyper - 1 do
    local h = cptr.hyper[i]
    c.hyper[i + 1] = {name = ffi.string(h.name), def = h.def, flag = h.kind == C.MS_HYPER_FLAG}
  end
  for i = 0, cptr.nstate - 1 do c.state_names[i + 1] = ffi.string(cptr.state_names[i]) end
  return c
end

local builtins = {}   -- by name
for i = 0, C.ms_rule_class_count() - 1 do
  local c = describe(C.ms_rule_class_at(i))
  builtins[c.name] = c
end

local P = {}   -- the primitives

local outbox = ffi.new("ms_rule *[1]")
local last_id = 0
local by_id = setmetatable({}, {__mode = "v"})   -- Lua rules by context

--- A proxy that rawset cannot write into, with the fields of mt.
local function proxy(mt)
  local p = newproxy(true)
  local pmt = getmetatable(p)
  for k, v in pairs(mt) do pmt[k] = v end
  return p
end

--- A new rule handle of class c (handle ch for a Lua class: the rule
-- keeps it); a Lua class's rule gets its views and the proxies of ctx.
local function new_rule(c, ch, ctx, info)
  core.check(C.ms_rule_new(c.cptr, outbox))
  local r = Rule.own(outbox[0])
  local d = {ptr = r.ptr, class = c, sched = {}, pulled = {}, calls_back = false,
             scheduled = false, version = 0, info = info, classh = ch}
  records[r], handles[d] = d, r
  if c.lua then
    last_id = last_id + 1
    d.id, d.depth, d.hversion, d.sv, d.hv = last_id, 0, -1, {}, ctx.hv
    d.p, d.g, d.y = vec.newview(false), vec.newview(true), vec.newview(false)
    for i, name in ipairs(c.state_names) do
      d.sv[i] = vec.newview(false)
      ctx.sv[name] = d.sv[i]
    end
    d.hp, d.sp = proxy(ctx.h), proxy(ctx.s)
    by_id[d.id] = d
    C.ms_rule_set_context(d.ptr, ffi.cast("void *", d.id))
  end
  return r, d
end

----------------------------------------------------------- hyper-parameters

--- Which schedules the rule's steps supply (functions: pull-style), and
-- whether any other needs the engine to call back (a composition with a
-- function inside).
local function sort_schedules(d)
  d.pulled, d.calls_back, d.step, d.lookahead = {}, false, nil, nil
  d.scheduled = next(d.sched) ~= nil
  d.version = d.version + 1   -- the values changed: Lua steps update h
  for _, s in pairs(d.sched) do
    local sd = schedule.record(s)
    if sd.fn then
      d.pulled[#d.pulled + 1] = sd
    elseif not sd.pure then
      d.calls_back = true
    end
  end
end

--- Let go of the schedule of hyper-parameter key of the rule d: at once,
-- or -- while a call running on the rule may be evaluating it -- when that
-- call ends (M.run_busy).
local function retire(d, key)
  local old = d.sched[key]
  if old ~= nil and d.busy then
    d.retired = d.retired or {}
    d.retired[#d.retired + 1] = old
  end
  d.sched[key] = nil
end

function P.rule_set(r, key, value)
  local d = M.check(r, 1, "rule_set")
  if type(key) ~= "string" then core.argerror(2, "rule_set", "string expected") end
  local t, sd = type(value), schedule.record(value)
  local st
  if t == "number" or t == "boolean" then
    st = C.ms_rule_set(d.ptr, key, t == "number" and value or (value and 1 or 0))
  elseif sd then
    st = C.ms_rule_set_schedule(d.ptr, key, sd.ptr)
  else
    core.typeerror(3, "rule_set", "number, boolean or schedule", value)
  end
  if st ~= 0 then return core.failed(st) end
  retire(d, key)
  d.sched[key] = sd and value   -- the engine does not own it: the rule keeps it alive
  sort_schedules(d)
  return true
end

------------------------------------------------------------------ stepping

local tbox, hbox = ffi.new("int64_t[1]"), ffi.new("const double *[1]")

--- Give the engine the values of the rule's function schedules for its
-- next step (a rule of another dimension restarts at 1), so that it does
-- not call back for them.
local function supply(d, n)
  if #d.pulled == 0 then return end
  local t = C.ms_rule_dim(d.ptr) ~= n and 1 or tonumber(C.ms_rule_steps(d.ptr)) + 1
  for _, sd in ipairs(d.pulled) do schedule.supply(sd, t) end
end

--- Bring hv up to date with the values at h: at every step for a
-- scheduled rule, else when a value was set since -- or always, when the
-- engine calls (its copies of the rule in a sweep have values of their own).
local function update_h(d, h, always)
  if not (always or d.scheduled) and d.hversion == d.version then return end
  d.hversion = d.version
  for i, info in ipairs(d.class.hyper) do
    local v = h[i - 1]
    if info.flag then d.hv[info.name] = v ~= 0 else d.hv[info.name] = v end
  end
end

--- What the views of d point at, for a nested call of the same rule
-- (its step calling the rule again) to give back when it ends.
local function save_views(d)
  local saved = {}
  for _, v in ipairs{d.p, d.g, d.y, unpack(d.sv)} do
    saved[#saved + 1] = {v, v.x, v.n, v.dead}
  end
  return saved
end

local function restore_views(saved)
  for _, s in ipairs(saved) do
    if s[4] ~= 0 then vec.kill(s[1]) else vec.aim(s[1], s[2], s[3]) end
  end
end

--- Run fn(a, b, s, h, t) of the Lua rule d, a and b aimed at ax and bx,
-- the state at state (nil: the rule's); with check_result fn must return
-- nothing or a itself.  The un-nested call allocates nothing: it runs at
-- every step of a trace, compiled into its loop.
local function call_lua(d, fn, a, ax, b, bx, n, t, h, state, check_result)
  local sv, outer = d.sv, d.depth > 0 and save_views(d)
  d.depth = d.depth + 1
  vec.aim(a, ax, n)
  vec.aim(b, bx, n)
  for i = 1, #sv do vec.aim(sv[i], state and state[i - 1] or C.ms_rule_state(d.ptr, i - 1), n) end
  update_h(d, h, state ~= nil)
  local ok, r = xpcall(fn, core.traceback, a, b, d.sp, d.hp, t)
  d.depth = d.depth - 1
  if outer then
    restore_views(outer)
  else
    vec.kill(a)
    vec.kill(b)
    for i = 1, #sv do vec.kill(sv[i]) end
  end
  if not ok then error(r, 0) end
  if check_result and r ~= nil and not rawequal(r, a) then
    error(("step of rule '%s' must update p in place (e.g. p:axpy(-h.lr, g)); " ..
           "it returned %s"):format(d.class.name, vec.is(r) and "a new vector" or type(r)), 0)
  end
end

local function lua_step(d, x, g, n, t, h, state)
  call_lua(d, d.class.lua.step, d.p, x, d.g, g, n, t, h, state, true)
end

--- The lookahead writes into y the point where the gradient of step t is
-- taken (x itself unless it writes y); the read-only view serves as p.
local function lua_lookahead(d, x, y, n, t, h, state)
  C.ms_vec_copy(y, x, n)
  call_lua(d, d.class.lua.lookahead, d.g, x, d.y, y, n, t, h, state, false)
end

--- How to call the engine for rule d: through core.call_back when it may
-- call back (a schedule with a Lua function inside), else directly.  Read
-- at every step: a step may give the running rule such a schedule, and an
-- engine call compiled inline must never call back into Lua.
local function calls(d)
  return d.calls_back and core.call_back or core.call_direct
end

--- step(x, g, n): one step of rule d on the n doubles at x, in place;
-- the engine's status, as a number (the enum's cdata would be boxed).
-- Lua classes run their Lua step after ms_rule_begin_step.
local function make_stepper(d)
  local ptr = d.ptr
  if not d.class.lua then
    return function(x, g, n)
      supply(d, n)
      return tonumber(calls(d)(C.ms_rule_step, ptr, x, g, n))
    end
  end
  return function(x, g, n)
    supply(d, n)
    local st = tonumber(calls(d)(C.ms_rule_begin_step, ptr, n, tbox, hbox))
    if st == 0 then lua_step(d, x, g, n, tonumber(tbox[0]), hbox[0], nil) end
    return st
  end
end

--- lookahead(x, y, n): the point y where the gradient of the next step is
-- taken, and the status; nil for classes without a lookahead.
local function make_lookahead(d)
  if not d.class.lookahead then return nil end
  local ptr = d.ptr
  if not d.class.lua then
    return function(x, y, n)
      supply(d, n)
      return tonumber(calls(d)(C.ms_rule_lookahead, ptr, x, y, n))
    end
  end
  return function(x, y, n)
    supply(d, n)
    local st = tonumber(calls(d)(C.ms_rule_begin_lookahead, ptr, n, tbox, hbox))
    if st == 0 then lua_lookahead(d, x, y, n, tonumber(tbox[0]), hbox[0], nil) end
    return st
  end
end

--- Does rule d step in the engine alone, calling back into no Lua?
function M.is_pure(d)
  return not d.class.lua and #d.pulled == 0 and not d.calls_back
end

--- The rule's step and lookahead functions (made once per schedule
-- setting: whether the engine may call back depends on it).
function M.stepper(d)
  if not d.step then d.step, d.lookahead = make_stepper(d), make_lookahead(d) end
  return d.step, d.lookahead
end

-- The class functions of Lua classes, for when the engine drives the loop.
local function by_ctx(ctx)
  return by_id[tonumber(ffi.cast("intptr_t", ctx))]
end

local step_callback = ffi.cast(
  "ms_status (*)(void *, const double *, double *, const double *, double *const *, size_t, int64_t)",
  function(ctx, h, x, g, state, n, t)
    return core.callback_status(lua_step, by_ctx(ctx), x, g, tonumber(n), tonumber(t), h, state)
  end)
local lookahead_callback = ffi.cast(
  "ms_status (*)(void *, const double *, const double *, double *const *, double *, size_t, int64_t)",
  function(ctx, h, x, state, y, n, t)
    return core.callback_status(lua_lookahead, by_ctx(ctx), x, y, tonumber(n), tonumber(t), h, state)
  end)

------------------------------------------------------------- in use

--- The record d, checked not to be in use: its state belongs to one
-- running call at a time.
function M.idle(d)
  if d.busy then error("rule is in use by a running step", 0) end
  return d
end

function M.check_idle(r, arg, fname)
  return M.idle(M.check(r, arg, fname))
end

--- Free the rule now, or once the call running on it ends.
local function close(r)
  local d = records[r]
  if d == nil or d.ptr == nil then return end
  if d.busy then
    d.closed = true
  else
    Rule.release(r)
    d.ptr = nil
  end
end

local function done(d, ...)
  d.busy, d.retired = nil, nil
  if d.closed and handles[d] then close(handles[d]) end
  return ...
end

--- fn(...) with the rule d marked in use (fn must not raise: it returns a
-- status, as engine calls and run_unyielding do).
function M.run_busy(d, fn, ...)
  M.idle(d).busy = true
  return done(d, fn(...))
end

--- A copy of the rule's table of schedules, kept alive with a copy of
-- the rule made by the engine (a sweep's).
function M.schedules(d)
  local copy = {}
  for k, s in pairs(d.sched) do copy[k] = s end
  return copy
end

---------------------------------------------------------------- rule_op

--- One step on x (a writable vec) with gradient g (a vec of its size:
-- the shared Lua checked them, but x's writability).
local function step(d, x, g)
  vec.checkvec(x, 3, "rule_op")
  vec.checkvec(g, 4, "rule_op")
  if x.readonly ~= 0 then return nil, core.argmsg(1, "step", "vector is read-only") end
  if g.n ~= x.n or x.n == 0 then core.argerror(4, "rule_op", "vectors of one size expected") end
  d.busy = true   -- a Lua step may raise errors: released whatever happens
  local ok, st = pcall(M.stepper(d), x.x, g.x, x.n)
  done(d)
  if not ok then error(st, 0) end
  if st ~= 0 then return core.failed(st) end
  return x
end

local ops = {}

function ops.info(d) return d.info end

function ops.steps(d) return tonumber(C.ms_rule_steps(d.ptr)) end

function ops.check(d) return core.status(C.ms_rule_check(d.ptr)) end

function ops.state(d)
  local t, n = {}, tonumber(C.ms_rule_dim(d.ptr))
  for i, name in ipairs(d.class.state_names) do
    local p = C.ms_rule_state(d.ptr, i - 1)
    if p == nil then break end
    t[name] = vec.copy_of(p, n)
  end
  return t
end

function ops.step(d, x, g)
  if d.busy then return nil, "rule is in use by a running step" end
  return step(d, x, g)
end

function ops.reset(d)
  if d.busy then return nil, "rule is in use by a running step" end
  local n = C.ms_rule_dim(d.ptr)
  return n == 0 or core.status(C.ms_rule_reset(d.ptr, n))
end

function P.rule_op(r, op, a, b)
  local d = M.check(r, 1, "rule_op")
  local fn = ops[op] or core.argerror(2, "rule_op", "no such operation")
  return fn(d, a, b)
end

function P.rule_new(class, ctx, info)
  local c = type(class) == "string" and builtins[class] or classes[class]
  if c == nil then core.argerror(1, "rule_new", "no such rule class") end
  if c.lua and (type(ctx) ~= "table" or type(ctx.sv) ~= "table" or type(ctx.hv) ~= "table" or
                type(ctx.h) ~= "table" or type(ctx.s) ~= "table") then
    core.argerror(2, "rule_new", "context tables expected")
  end
  return (new_rule(c, c.lua and class, ctx, info))
end

---------------------------------------------------------- rules in Lua

local classbox = ffi.new("ms_rule_class *[1]")

--- native.ruleclass_new(name, names, desc, step, lookahead): an engine
-- class (ms_rule_class_new), kept by the rules made of it.
function P.ruleclass_new(name, names, desc, step_fn, look)
  local bad = type(name) ~= "string" or type(names) ~= "table" or not vec.is(desc) or
              desc.dead ~= 0 or type(step_fn) ~= "function" or
              (look ~= nil and type(look) ~= "function")
  local nhyper, count = bad and 0 or desc.n / 6, bad and 0 or #names
  if bad or nhyper % 1 ~= 0 or count < nhyper or count > 255 + 64 then
    core.argerror(1, "ruleclass_new", "name, names, descriptors and functions expected")
  end
  local cnames = ffi.new("const char *[?]", count + 1)
  for i = 1, count do
    local s = rawget(names, i)
    if type(s) ~= "string" then core.argerror(2, "ruleclass_new", "names must be strings") end
    cnames[i - 1] = s   -- (the table keeps the strings for the call)
  end
  local st = C.ms_rule_class_new(name, nhyper, count - nhyper, cnames, desc.x, step_callback,
                                 look and lookahead_callback or nil, classbox)
  if st ~= 0 then return core.failed(st) end
  local h = Class.own(classbox[0])
  local c = describe(h.ptr)
  c.lua = {step = step_fn, lookahead = look}
  classes[h] = c
  return h
end

core.kind("rule", Rule.ctype, nil, close)
core.kind("ruleclass", Class.ctype)

return setmetatable(P, {__index = M})
