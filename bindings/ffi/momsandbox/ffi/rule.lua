--- momsandbox.ffi.rule: update rules under LuaJIT -- one constructor per
-- built-in class of the engine's registry (ms.gd{lr = 0.4}, ...), rules
-- defined in Lua with ms.rule{...}, and the methods every rule shares.
--
-- Every rule is an engine rule: the engine keeps its hyper-parameters,
-- checks them (its messages are the errors here), evaluates schedules and
-- holds the state.  A class defined in Lua is one more engine class whose
-- hyper-parameter descriptors live in FFI memory.  Its step runs in Lua,
-- called directly (M.stepper): the engine's ms_rule_begin_step does the
-- book-keeping around it, and LuaJIT compiles the step into the caller's
-- loop.  The class's C function pointers call back into Lua only when the
-- engine drives the loop itself.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local schedule = require "momsandbox.ffi.schedule"

local C = core.C
local M = {}

local P = {}   -- key of a rule's record
local Rule = {__name = "momsandbox.rule"}
local RuleClass = {__name = "momsandbox.ruleclass"}

--- The record of r if it is a rule, else nil.
function M.record(r)
  return type(r) == "table" and getmetatable(r) == Rule and r[P] or nil
end

--- The record of the rule at argument arg of fname.
function M.check(r, arg, fname, present)
  return M.record(r) or core.typeerror(arg, fname, "momsandbox.rule", r, present)
end

------------------------------------------------------------------ classes

--- What the binding needs to know of an engine class (cptr), read once.
local function describe_class(cptr)
  local c = {cptr = cptr, name = ffi.string(cptr.name), hyper = {}, state_names = {},
             lookahead = cptr.lookahead ~= nil}
  for i = 0, cptr.nhyper - 1 do
    local h = cptr.hyper[i]
    c.hyper[i + 1] = {name = ffi.string(h.name), def = h.def, flag = h.kind == C.MS_HYPER_FLAG}
  end
  for i = 0, cptr.nstate - 1 do c.state_names[i + 1] = ffi.string(cptr.state_names[i]) end
  return c
end

local outbox = ffi.new("ms_rule *[1]")
local last_id = 0
local by_id = setmetatable({}, {__mode = "v"})   -- Lua rules by context

--- A Lua rule's views and tables for one nesting level of its calls (a
-- step that steps the same rule again leaves the outer views alone): p, g
-- and y on the engine's vectors, s with the state views, h with the
-- hyper-parameter values.
local function new_level(c)
  local l = {p = vec.newview(false), g = vec.newview(true), y = vec.newview(false),
             sv = {}, hv = {}, version = -1}
  -- h reads the values in hv and refuses writes: the values are the
  -- rule's, set (and checked) as rule.lr = ...; written into h they would
  -- outlive the step unchecked.  A userdata rather than a table: rawset
  -- cannot write into it either.
  l.h = newproxy(true)
  local hmt = getmetatable(l.h)
  hmt.__index, hmt.__metatable = l.hv, "read-only"
  hmt.__newindex = function(_, k)
    error(("rule '%s' cannot assign h.%s: h is read-only (set the rule's hyper-parameter " ..
           "instead: rule.%s = ...)"):format(c.name, tostring(k), tostring(k)), 2)
  end
  local byname = {}
  for i, name in ipairs(c.state_names) do
    l.sv[i] = vec.newview(false)
    byname[name] = l.sv[i]
  end
  -- s reads the views and refuses writes: the state belongs to the engine,
  -- which would never see a replacement vector
  l.s = newproxy(true)   -- a userdata, which rawset cannot write into
  local smt = getmetatable(l.s)
  smt.__index = byname
  smt.__newindex = function(_, k)
    error(("rule '%s' cannot replace state vector s.%s; update it in place (s.%s:copy(...))"):format(
          c.name, tostring(k), tostring(k)), 2)
  end
  return l
end

--- The views of depth's level (made on first use; kept apart from
-- new_level, which LuaJIT cannot compile, as it makes a closure).
local function level(d, depth)
  local l = d.levels[depth]
  if l == nil then
    l = new_level(d.class)
    d.levels[depth] = l
  end
  return l
end

--- A new rule record of class c around a new (or cloned: src) engine rule.
local function new_record(c, src)
  core.check(src and C.ms_rule_clone(src.ptr, outbox) or C.ms_rule_new(c.cptr, outbox))
  local d = {ptr = core.own(outbox[0], C.ms_rule_free, "rule"), class = c, sched = {},
             pulled = {}, calls_back = false, scheduled = false, version = 0}
  if c.lua then
    last_id = last_id + 1
    d.id, d.levels, d.depth = last_id, {}, 0
    by_id[d.id] = d
    C.ms_rule_set_context(d.ptr, ffi.cast("void *", d.id))
  end
  return d
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

local function names_of(c)
  local names = {}
  for i, h in ipairs(c.hyper) do names[i] = h.name end
  return table.concat(names, ", ")
end

--- Let go of the schedule of hyper-parameter key of the rule d: at once,
-- or -- while a call running on the rule may be evaluating it (a schedule
-- function assigning rule.lr) -- when that call ends (M.run_busy).
local function retire(d, key)
  local old = d.sched[key]
  if old ~= nil and d.busy then
    d.retired = d.retired or {}
    d.retired[#d.retired + 1] = old
  end
  d.sched[key] = nil
end

--- Set hyper-parameter key of the rule d to value (a number, a boolean
-- for a flag, a schedule or a function); errors are argument errors.
local function sethyper(d, key, value, arg, fname)
  local c = d.class
  local i = C.ms_rule_hyper_index(d.ptr, key)
  if i < 0 then
    core.argerror(arg, fname, ("%s has no hyper-parameter '%s' (it takes: %s)"):format(
                  c.name, key, names_of(c)))
  end
  local flag = c.hyper[i + 1].flag
  local st
  if type(value) == "boolean" and flag then
    st = C.ms_rule_set(d.ptr, key, value and 1 or 0)
  elseif type(value) == "number" then
    st = C.ms_rule_set(d.ptr, key, value)
  elseif not flag and (type(value) == "function" or schedule.record(value)) then
    local s = schedule.toschedule(value)
    st = C.ms_rule_set_schedule(d.ptr, key, schedule.record(s).ptr)
    if st ~= 0 then core.argerror(arg, fname, core.last_error()) end
    retire(d, key)
    d.sched[key] = s   -- the engine does not own it: the rule keeps it alive
    sort_schedules(d)
    return
  else
    core.argerror(arg, fname, ("%s must be a %s, got %s"):format(key,
                  flag and "boolean" or "number, schedule or function", core.typename(value)))
  end
  if st ~= 0 then core.argerror(arg, fname, core.last_error()) end
  retire(d, key)
  sort_schedules(d)
end

--- Set every hyper-parameter named in opts (nil: none), then check them.
local function sethypers(d, opts, arg, fname)
  if opts ~= nil then
    for key, value in pairs(opts) do
      if type(key) ~= "string" then
        core.argerror(arg, fname, ("hyper-parameter names must be strings, got %s"):format(type(key)))
      end
      sethyper(d, key, value, arg, fname)
    end
  end
  if C.ms_rule_check(d.ptr) ~= 0 then core.argerror(arg, fname, core.last_error()) end
end

--- Hyper-parameter i (1-based) of the rule: its schedule, or its value.
local function hyper_value(d, i)
  local h = d.class.hyper[i]
  local s = d.sched[h.name]
  if s then return s end
  local v = C.ms_rule_get(d.ptr, i - 1)
  if h.flag then return v ~= 0 end
  return v
end

--- A short label: momentum{lr=0.6, beta=0.5} -- the values that differ
-- from the defaults, and every real one with a non-zero default.  Kept
-- until a value changes: every trace labels its rule.
local function label(d)
  if d.label_version == d.version then return d.label end
  local parts = {}
  for i, h in ipairs(d.class.hyper) do
    local v = hyper_value(d, i)
    if schedule.record(v) then
      parts[#parts + 1] = h.name .. "=" .. tostring(v)
    elseif h.flag then
      if h.def ~= h.def or (v and 1 or 0) ~= h.def then parts[#parts + 1] = h.name .. "=" .. tostring(v) end
    elseif h.def ~= h.def or v ~= h.def or h.def ~= 0 then
      parts[#parts + 1] = h.name .. "=" .. core.format(v)
    end
  end
  d.label = d.class.name .. "{" .. table.concat(parts, ", ") .. "}"
  d.label_version = d.version
  return d.label
end
M.label = label

------------------------------------------------------------------ stepping

local tbox, hbox = ffi.new("int64_t[1]"), ffi.new("const double *[1]")

--- The number the rule's next step will have for parameters of dimension
-- n (a rule of another dimension restarts).
local function next_step(d, n)
  if C.ms_rule_dim(d.ptr) ~= n then return 1 end
  return tonumber(C.ms_rule_steps(d.ptr)) + 1
end

--- Give the engine the values of the rule's function schedules for its
-- next step, so that it does not call back for them.
local function supply(d, n)
  if #d.pulled == 0 then return end
  local t = next_step(d, n)
  for _, sd in ipairs(d.pulled) do schedule.supply(sd, t) end
end

--- Bring the h table of level l up to date with the values at h: at every
-- step for a scheduled rule, else when a value was set since -- or always,
-- when the engine calls (its copies of the rule in a sweep have values of
-- their own).
local function update_h(d, l, h, always)
  if not (always or d.scheduled) and l.version == d.version then return end
  l.version = d.version
  for i, info in ipairs(d.class.hyper) do
    local v = h[i - 1]
    if info.flag then l.hv[info.name] = v ~= 0 else l.hv[info.name] = v end
  end
end

--- Aim the views of level l at x (as p or, read-only, as g), the second
-- vector v and the state; kill them with unaim.
local function aim(d, l, pview, x, vview, v, state, n)
  vec.aim(pview, x, n)
  vec.aim(vview, v, n)
  for i = 1, #l.sv do
    vec.aim(l.sv[i], state and state[i - 1] or C.ms_rule_state(d.ptr, i - 1), n)
  end
end

local function unaim(l, pview, vview)
  vec.kill(pview)
  vec.kill(vview)
  for i = 1, #l.sv do vec.kill(l.sv[i]) end
end

--- Run the Lua step of rule d on x with gradient g (n numbers), the
-- hyper-parameters at h and the state (nil: the rule's), as step t; state
-- is given when the engine calls.
local function lua_step(d, x, g, n, t, h, state)
  local c = d.class
  d.depth = d.depth + 1
  local l = level(d, d.depth)
  aim(d, l, l.p, x, l.g, g, state, n)
  update_h(d, l, h, state ~= nil)
  local ok, r = xpcall(c.lua.step, core.traceback, l.p, l.g, l.s, l.h, t)
  unaim(l, l.p, l.g)
  d.depth = d.depth - 1
  if not ok then error(r, 0) end
  if type(r) ~= "nil" and not rawequal(r, l.p) then
    core.failure(("step of rule '%s' must update p in place (e.g. p:axpy(-h.lr, g)); it returned %s"):format(
                 c.name, vec.is(r) and "a new vector" or type(r)))
  end
end

--- Run the Lua lookahead: write into y the point where the gradient of
-- step t is taken (x itself unless the function writes y).
local function lua_lookahead(d, x, y, n, t, h, state)
  local c = d.class
  C.ms_vec_copy(y, x, n)
  d.depth = d.depth + 1
  local l = level(d, d.depth)
  aim(d, l, l.g, x, l.y, y, state, n)   -- the read-only view serves as p
  update_h(d, l, h, state ~= nil)
  local ok, err = xpcall(c.lua.lookahead, core.traceback, l.g, l.y, l.s, l.h, t)
  unaim(l, l.g, l.y)
  d.depth = d.depth - 1
  if not ok then error(err, 0) end
end

--- How to call the engine for rule d: through core.call_back when it may
-- call back (a schedule with a Lua function inside), else directly.  Read
-- at every step, not when the stepper is made: a step or objective may
-- give the running rule such a schedule, and an engine call compiled
-- inline must never call back into Lua.
local function calls(d)
  return d.calls_back and core.call_back or core.call_direct
end

--- step(x, g, n): one step of rule d on the n doubles at x, in place.
-- Built-in classes step in the engine; Lua classes run their Lua step
-- after the engine's book-keeping (ms_rule_begin_step).  Engine calls that
-- may call back into Lua go through core.call_back.
local function make_stepper(d)
  local ptr = d.ptr
  if not d.class.lua then
    return function(x, g, n)
      supply(d, n)
      core.check(calls(d)(C.ms_rule_step, ptr, x, g, n))
    end
  end
  return function(x, g, n)
    supply(d, n)
    core.check(calls(d)(C.ms_rule_begin_step, ptr, n, tbox, hbox))
    lua_step(d, x, g, n, tonumber(tbox[0]), hbox[0], nil)
  end
end

--- lookahead(x, y, n): the point y where the gradient of the next step is
-- taken; nil for classes without a lookahead.
local function make_lookahead(d)
  if not d.class.lookahead then return nil end
  local ptr = d.ptr
  if not d.class.lua then
    return function(x, y, n)
      supply(d, n)
      core.check(calls(d)(C.ms_rule_lookahead, ptr, x, y, n))
    end
  end
  return function(x, y, n)
    supply(d, n)
    core.check(calls(d)(C.ms_rule_begin_lookahead, ptr, n, tbox, hbox))
    lua_lookahead(d, x, y, n, tonumber(tbox[0]), hbox[0], nil)
  end
end

--- Does rule d step in the engine alone, calling back into no Lua (a
-- built-in class, and no schedule written in Lua)?
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
local step_callback, lookahead_callback

local function callbacks()
  step_callback = step_callback or ffi.cast(
    "ms_status (*)(void *, const double *, double *, const double *, double *const *, size_t, int64_t)",
    function(ctx, h, x, g, state, n, t)
      local d = by_id[tonumber(ffi.cast("intptr_t", ctx))]
      return core.callback_status(lua_step, d, x, g, tonumber(n), tonumber(t), h, state)
    end)
  lookahead_callback = lookahead_callback or ffi.cast(
    "ms_status (*)(void *, const double *, const double *, double *const *, double *, size_t, int64_t)",
    function(ctx, h, x, state, y, n, t)
      local d = by_id[tonumber(ffi.cast("intptr_t", ctx))]
      return core.callback_status(lua_lookahead, d, x, y, tonumber(n), tonumber(t), h, state)
    end)
end

------------------------------------------------------------- in use

--- The record of the rule at argument arg of fname, for a call that steps
-- it: its state belongs to one running call at a time (a step calling its
-- own rule:step with another dimension would free the state the outer
-- step is using).
function M.check_idle(r, arg, fname)
  return M.idle(M.check(r, arg, fname))
end

--- The record d, checked not to be in use.
function M.idle(d)
  if d.busy then core.failure("rule is in use by a running step") end
  return d
end

--- fn(...) with the rule d marked in use (fn must not raise: it returns a
-- status, as engine calls and run_unyielding do).
function M.run_busy(d, fn, ...)
  M.idle(d).busy = true
  return (function(...) d.busy, d.retired = nil, nil; return ... end)(fn(...))
end

--- A copy of the rule's table of schedules: what a copy of the rule made
-- by the engine (a sweep's) points at, kept alive with that copy.
function M.schedules(d)
  local copy = {}
  for k, s in pairs(d.sched) do copy[k] = s end
  return copy
end

------------------------------------------------------------------ methods

local methods = {}

--- rule:step(x, g): one update of the vector x in place; returns x.
function methods.step(r, x, g)
  local d = M.check_idle(r, 1, "step")
  x = vec.checkvec(x, 2, "step")
  if x.readonly ~= 0 then core.argerror(2, "step", "vector is read-only") end
  g = vec.tovec(g, 3, "step")
  if g.n ~= x.n then
    core.argerror(3, "step", ("size mismatch: g has %d entries, x has %d"):format(g.n, x.n))
  end
  if x.n == 0 then core.argerror(2, "step", "vector must not be empty") end
  local step = M.stepper(d)
  d.busy = true   -- step raises errors: released whatever happens
  local ok, err = pcall(step, x.x, g.x, x.n)
  d.busy, d.retired = nil, nil
  if not ok then error(err, 0) end
  return x
end

function methods.reset(r)
  local d = M.check_idle(r, 1, "reset")
  local n = C.ms_rule_dim(d.ptr)
  if n > 0 then core.check(C.ms_rule_reset(d.ptr, n)) end
  return r
end

--- rule:state(): {name = copy of the state vector, ...}; empty before the
-- first step.
function methods.state(r)
  local d = M.check(r, 1, "state")
  local t, n = {}, tonumber(C.ms_rule_dim(d.ptr))
  for i, name in ipairs(d.class.state_names) do
    local p = C.ms_rule_state(d.ptr, i - 1)
    if p == nil then break end
    t[name] = vec.copy_of(p, n)
  end
  return t
end

function methods.hyper(r)
  local d = M.check(r, 1, "hyper")
  local t = {}
  for i, h in ipairs(d.class.hyper) do t[h.name] = hyper_value(d, i) end
  return t
end

--- rule:clone(): the same class and hyper-parameters, a fresh state.
function methods.clone(r)
  local src = M.check(r, 1, "clone")
  local d = new_record(src.class, src)
  for k, s in pairs(src.sched) do d.sched[k] = s end
  sort_schedules(d)
  return setmetatable({[P] = d}, Rule)
end

for name, fn in pairs(methods) do methods[name] = core.protect(fn) end

function Rule.__index(r, key)
  local method = methods[key]
  if method then return method end
  local d = r[P]
  if type(key) ~= "string" then return nil end
  if key == "name" then return d.class.name end
  if key == "steps" then return tonumber(C.ms_rule_steps(d.ptr)) end
  if key == "label" then return label(d) end
  local i = C.ms_rule_hyper_index(d.ptr, key)
  if i >= 0 then return hyper_value(d, i + 1) end
  return nil
end

--- rule.lr = 0.1: checked like the constructor's arguments.
Rule.__newindex = core.protect(function(r, key, value)
  local d = M.check(r, 1, "newindex")
  if type(key) ~= "string" and type(key) ~= "number" then
    core.typeerror(2, "newindex", "string", key)
  end
  sethyper(d, tostring(key), value, 3, "newindex")
end)

function Rule.__tostring(r)
  return label(r[P])
end

--- A new rule of class c with the hyper-parameters in opts.
local function make(c, opts, fname)
  if opts ~= nil then core.checktable(opts, 1, fname) end
  local d = new_record(c)
  sethypers(d, opts, 1, fname)
  return setmetatable({[P] = d}, Rule)
end

------------------------------------------------------------- built-ins

--- ms.<class>{name = value, ...} for each class in the engine's registry.
M.builtins = {}
for i = 0, C.ms_rule_class_count() - 1 do
  local c = describe_class(C.ms_rule_class_at(i))
  M.builtins[c.name] = core.protect(function(opts) return make(c, opts, c.name) end)
end

---------------------------------------------------------- rules in Lua

--- Hyper-parameter spec: a default number, a boolean (a flag), or
-- {default = x, min = a, max = b} (no default: required).
local function hyper_info(info, name, spec, fname)
  info.name = name
  info.lo, info.hi, info.lo_open, info.hi_open = -math.huge, math.huge, 1, 1
  info.kind = C.MS_HYPER_REAL
  if type(spec) == "number" then
    info.def = spec
  elseif type(spec) == "boolean" then
    info.kind, info.def = C.MS_HYPER_FLAG, spec and 1 or 0
  elseif type(spec) == "table" then
    info.def = spec.default == nil and 0 / 0 or core.checknumber(spec.default, 1, fname)
    if spec.min ~= nil then info.lo, info.lo_open = core.checknumber(spec.min, 1, fname), 0 end
    if spec.max ~= nil then info.hi, info.hi_open = core.checknumber(spec.max, 1, fname), 0 end
  else
    core.argerror(1, fname, ("hyper.%s must be a number, a boolean or {default=, min=, max=}"):format(name))
  end
end

--- The keys of hyper, sorted with "lr" first.
local function sorted_names(hyper, fname)
  local names = {}
  for k in pairs(hyper) do
    if type(k) ~= "string" then core.argerror(1, fname, "hyper-parameter names must be strings") end
    names[#names + 1] = k
  end
  table.sort(names, function(a, b)
    if a == "lr" or b == "lr" then return a == "lr" and b ~= "lr" end
    return a < b
  end)
  return names
end

--- ms.rule{name = "qhm", hyper = {lr = 0.1, ...}, state = {"buf"},
--         step = function(p, g, s, h, t) ... end,
--         lookahead = function(p, y, s, h, t) ... end}: a rule class,
-- which makes rules when called: qhm{lr = 0.01}.
M.define = core.protect(function(opts)
  local fname = "rule"
  core.checkoptions(opts, 1, fname, {"name", "hyper", "state", "step", "lookahead"})
  local name = opts.name == nil and "rule" or opts.name
  if type(name) ~= "string" and type(name) ~= "number" then core.typeerror(1, fname, "string", name) end
  name = tostring(name)
  if type(opts.step) ~= "function" then core.argerror(1, fname, "step must be a function(p, g, s, h, t)") end
  if opts.lookahead ~= nil and type(opts.lookahead) ~= "function" then
    core.argerror(1, fname, "lookahead must be a function(p, y, s, h, t)")
  end
  local hyper, state = opts.hyper or {}, opts.state or {}
  if type(hyper) ~= "table" then core.argerror(1, fname, "hyper must be a table") end
  if type(state) ~= "table" then core.argerror(1, fname, "state must be a table of names") end
  local names = sorted_names(hyper, fname)
  if #state > 64 then core.argerror(1, fname, "at most 64 state vectors") end

  -- the engine's class, in FFI memory that the class record keeps alive
  -- together with the Lua strings it points to
  callbacks()
  local keep = {name, names, {}}   -- (the user may change their tables)
  local cptr = ffi.new("ms_rule_class")
  local infos = ffi.new("ms_hyper_info[?]", math.max(#names, 1))
  local snames = ffi.new("const char *[?]", math.max(#state, 1))
  for i, hname in ipairs(names) do hyper_info(infos[i - 1], hname, hyper[hname], fname) end
  for i = 1, #state do
    if type(state[i]) ~= "string" then core.argerror(1, fname, "state must be a list of names") end
    keep[3][i] = state[i]
    snames[i - 1] = state[i]
  end
  cptr.name, cptr.nhyper, cptr.hyper = name, #names, infos
  cptr.nstate, cptr.state_names = #state, snames
  cptr.step = step_callback
  cptr.lookahead = opts.lookahead and lookahead_callback or nil
  local c = describe_class(cptr)
  c.lua = {step = opts.step, lookahead = opts.lookahead, memory = {cptr, infos, snames, keep}}
  return setmetatable({class = c}, RuleClass)
end)

--- class{name = value, ...}: a rule of a class defined in Lua
RuleClass.__call = core.protect(function(cls, opts)
  return make(cls.class, opts, cls.class.name)
end)

function RuleClass.__tostring(cls)
  return "rule class " .. cls.class.name
end

return M
