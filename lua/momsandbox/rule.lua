--- momsandbox.rule: update rules -- one constructor per built-in class of
-- the engine's registry (ms.gd{lr = 0.4}, ms.momentum{...}), made from
-- native.rule_classes(); classes written in Lua (ms.rule{...}); the
-- methods and fields every rule shares, its label and its messages.  The
-- engine rules, the schedules they follow and the trampolines of Lua steps
-- are native (rule_* in primitives.lua).
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local fmt = native.format
local M = {}

-- What this side knows of a rule is its info (rule_op "info"): {class,
-- native = its class for rule_new, values = {name = number, boolean or
-- schedule}, label = of those values}.
-- Every value is set through sethyper, so values mirrors the engine's.
-- (Kept by the native handle: a weak table costs more than the run.)
local function about(r)
  return native.kind(r) == "rule" and native.rule_op(r, "info") or nil
end
local classes = setmetatable({}, {__mode = "k"})   -- ruleclass handle -> class

--- A class {name, hyper = descriptors in class order, state = names,
-- lua = true for ms.rule's} with its index of names.
local function describe(c)
  local names = {}
  c.index = {}
  for i, h in ipairs(c.hyper) do
    c.index[h.name], names[i] = i, h.name
  end
  c.names = table.concat(names, ", ")
  return c
end

--- The info of rule r (rule_op refuses a closed rule: "rule has been
-- closed"), else the self error of the method fname.
local function record(r, fname)
  return about(r) or check.selferror(fname, "momsandbox.rule", r)
end

--- momentum{lr=0.6, beta=0.5}: the values that differ from the defaults,
-- and every real one with a non-zero default; made whenever a value
-- changes, for trace_run reads it from the info (primitives.lua).
local function relabel(d)
  local parts = {}
  for _, h in ipairs(d.class.hyper) do
    local v, def = d.values[h.name], h.def
    local shown = def ~= def or type(v) ~= "number" and type(v) ~= "boolean"
    if type(v) == "boolean" then
      shown = shown or (v and 1 or 0) ~= def
    elseif type(v) == "number" then
      shown = shown or v ~= def or def ~= 0
      v = fmt(v)
    end
    if shown then parts[#parts + 1] = h.name .. "=" .. tostring(v) end
  end
  d.label = d.class.name .. "{" .. table.concat(parts, ", ") .. "}"
end

function M.is(r)
  return native.kind(r) == "rule"
end

--- The label of rule r, for the loops that record it (train, sweep).
function M.label(r)
  return native.rule_op(r, "info").label
end

--- Set hyper-parameter key of rule r (record d) to value: a number, a
-- boolean for a flag, a schedule or a function.
local function sethyper(r, d, key, value, n, fname)
  local c = d.class
  local i = c.index[key]
  if i == nil then
    check.argerror(n, fname, ("%s has no hyper-parameter '%s' (it takes: %s)"):format(
                   c.name, key, c.names))
  end
  local flag, t = c.hyper[i].flag, type(value)
  if not (t == "number" or (t == "boolean" and flag) or
          (not flag and (t == "function" or check.typename(value) == "momsandbox.schedule"))) then
    check.argerror(n, fname, ("%s must be a %s, got %s"):format(key,
                   flag and "boolean" or "number, schedule or function", check.typename(value)))
  end
  if t == "function" then value = native.schedule_fn(value) end
  local ok, msg = native.rule_set(r, key, value)
  if not ok then check.argerror(n, fname, msg) end
  if t ~= "number" and t ~= "boolean" then
    d.values[key] = value            -- the schedule
  elseif flag then
    d.values[key] = value ~= false and value ~= 0
  else
    d.values[key] = value + 0.0      -- a float, as the engine holds it
  end
  relabel(d)
end

--- The context of a Lua rule's step (see rule_new in primitives.lua):
-- the read-only h over the values hv, s over the state views sv.
local function context(name)
  local hv, sv = {}, {}
  local function refuse(text)
    return function(_, k)
      k = tostring(k)
      error(text:format(name, k, k), 2)
    end
  end
  return {hv = hv, sv = sv,
    h = {__index = hv, __metatable = "read-only", __pairs = function() return next, hv, nil end,
         __newindex = refuse("rule '%s' cannot assign h.%s: h is read-only (set the rule's " ..
                             "hyper-parameter instead: rule.%s = ...)")},
    s = {__index = sv, __newindex = refuse("rule '%s' cannot replace state vector s.%s; " ..
                                           "update it in place (s.%s:copy(...))")}}
end

--- A new rule of class c (native: its name or ruleclass handle) with the
-- hyper-parameters of opts, set in class order.
local function make(c, native_class, opts, fname)
  if opts ~= nil then check.table(opts, 1, fname) end
  local d = {class = c, native = native_class, values = {}}
  local r = native.rule_new(native_class, c.lua and context(c.name), d)
  for _, h in ipairs(c.hyper) do
    if h.flag then d.values[h.name] = h.def ~= 0 else d.values[h.name] = h.def end
  end
  relabel(d)
  if opts ~= nil then
    local badtype, unknown
    for key in next, opts do
      if type(key) ~= "string" then
        if badtype == nil or type(key) < badtype then badtype = type(key) end
      elseif c.index[key] == nil and (unknown == nil or key < unknown) then
        unknown = key
      end
    end
    if badtype then
      check.argerror(1, fname, "hyper-parameter names must be strings, got " .. badtype)
    end
    if unknown then sethyper(r, d, unknown, nil, 1, fname) end
    for _, h in ipairs(c.hyper) do
      local v = rawget(opts, h.name)
      if v ~= nil then sethyper(r, d, h.name, v, 1, fname) end
    end
  end
  local ok, msg = native.rule_op(r, "check")
  if not ok then check.argerror(1, fname, msg) end
  return r
end

------------------------------------------------------------------ methods

local methods = {}

--- rule:step(x, g): one update of the vector x in place; returns x.
function methods.step(r, x, g)
  record(r, "step")
  if native.kind(x) ~= "vec" then check.typeerror(1, "step", "momsandbox.vec", x) end
  if native.kind(g) ~= "vec" and type(g) ~= "table" then
    check.typeerror(2, "step", "momsandbox.vec or table", g)
  end
  x, g = check.vec(x, 1, "step"), check.vec(g, 2, "step")
  if #g ~= #x then
    check.argerror(2, "step", ("size mismatch: g has %d entries, x has %d"):format(#g, #x))
  end
  if #x == 0 then check.argerror(1, "step", "vector must not be empty") end
  return check.ok(native.rule_op(r, "step", x, g))
end

function methods.reset(r)
  record(r, "reset")
  check.ok(native.rule_op(r, "reset"))
  return r
end

--- rule:state(): {name = copy of the state vector, ...}; empty before the
-- first step.
function methods.state(r)
  record(r, "state")
  return native.rule_op(r, "state")
end

function methods.hyper(r)
  local d = record(r, "hyper")
  local t = {}
  for k, v in pairs(d.values) do t[k] = v end
  return t
end

--- rule:clone(): the same class and hyper-parameters, a fresh state.
function methods.clone(r)
  local d = record(r, "clone")
  return make(d.class, d.native, d.values, "clone")
end

for name, fn in pairs(methods) do methods[name] = check.protect(fn) end

native.class("rule", {
  methods = methods,   -- what the REPL completes after obj:
  __index = check.protect(function(r, key)
    local d = record(r, "__index")
    if methods[key] then return methods[key] end
    if key == "name" then return d.class.name end
    if key == "label" then return d.label end
    if key == "steps" then return native.rule_op(r, "steps") end
    if d.class.index[key] then return d.values[key] end
    return nil
  end),

  --- rule.lr = 0.1: checked like the constructor's arguments.
  __newindex = check.protect(function(r, key, value)
    local d = record(r, "__newindex")
    if type(key) == "number" then key = fmt(key) end
    if type(key) ~= "string" then check.typeerror(2, "newindex", "string", key) end
    sethyper(r, d, key, value, 3, "newindex")
  end),

  __tostring = check.protect(function(r)
    return record(r, "__tostring").label
  end),
})

------------------------------------------------------------- built-ins

--- ms.<class>{name = value, ...} for each class in the engine's registry.
M.builtins = {}
for _, c in ipairs(native.rule_classes()) do
  describe(c)
  M.builtins[c.name] = check.protect(function(opts) return make(c, c.name, opts, c.name) end)
end

---------------------------------------------------------- rules in Lua

--- A descriptor for hyper-parameter name from its spec: a default number,
-- a boolean (a flag), or {default = x, min = a, max = b} (no default:
-- required).
local function descriptor(name, spec)
  local h = {name = name, lo = -math.huge, hi = math.huge, lo_open = true, hi_open = true}
  if type(spec) == "number" then
    h.def = spec
  elseif type(spec) == "boolean" then
    h.flag, h.def = true, spec and 1 or 0
  elseif type(spec) == "table" then
    local function num(key)
      local v = rawget(spec, key)
      if v ~= nil and type(v) ~= "number" then
        check.argerror(1, "rule", ("hyper.%s.%s must be a number, got %s"):format(
                       name, key, check.typename(v)))
      end
      return v
    end
    h.def = num("default") or 0 / 0
    if num("min") then h.lo, h.lo_open = spec.min, false end
    if num("max") then h.hi, h.hi_open = spec.max, false end
  else
    check.argerror(1, "rule", ("hyper.%s must be a number, a boolean or {default=, min=, max=}"):format(name))
  end
  return h
end

--- The descriptors of hyper, sorted by name with "lr" first.
local function descriptors(hyper)
  local names, list = {}, {}
  for k in next, hyper do
    if type(k) ~= "string" then check.argerror(1, "rule", "hyper-parameter names must be strings") end
    names[#names + 1] = k
  end
  table.sort(names, function(a, b)
    if a == "lr" or b == "lr" then return a == "lr" and b ~= "lr" end
    return a < b
  end)
  for i, name in ipairs(names) do list[i] = descriptor(name, rawget(hyper, name)) end
  return list
end

--- ms.rule{name = "qhm", hyper = {lr = 0.1, ...}, state = {"buf"},
--         step = function(p, g, s, h, t) ... end,
--         lookahead = function(p, y, s, h, t) ... end}: a rule class,
-- which makes rules when called: qhm{lr = 0.01}.
M.define = check.protect(function(opts)
  check.options(opts, 1, "rule", {"name", "hyper", "state", "step", "lookahead"})
  local name, step, look = rawget(opts, "name"), rawget(opts, "step"), rawget(opts, "lookahead")
  if name == nil then name = "rule" end
  if type(name) == "number" then name = fmt(name) end
  if type(name) ~= "string" then check.typeerror(1, "rule", "string", name) end
  if type(step) ~= "function" then check.argerror(1, "rule", "step must be a function(p, g, s, h, t)") end
  if look ~= nil and type(look) ~= "function" then
    check.argerror(1, "rule", "lookahead must be a function(p, y, s, h, t)")
  end
  local hyper, state = rawget(opts, "hyper") or {}, rawget(opts, "state") or {}
  if type(hyper) ~= "table" then check.argerror(1, "rule", "hyper must be a table") end
  if type(state) ~= "table" then check.argerror(1, "rule", "state must be a table of names") end
  local n, names = check.rawlen(state), {}
  if n > 64 then check.argerror(1, "rule", "at most 64 state vectors") end
  for i = 1, n do
    names[i] = rawget(state, i)
    if type(names[i]) ~= "string" then check.argerror(1, "rule", "state must be a list of names") end
  end
  local list = descriptors(hyper)
  if #list > 255 then check.argerror(1, "rule", "at most 255 hyper-parameters") end
  -- the engine's descriptors: the names, hyper-parameters' first, and six
  -- numbers per hyper-parameter (ms_rule_class_new)
  local all, desc = {}, {}
  for i, h in ipairs(list) do
    all[i] = h.name
    for _, v in ipairs{h.def, h.lo, h.hi, h.lo_open, h.hi_open, h.flag or false} do
      desc[#desc + 1] = v == true and 1 or v == false and 0 or v
    end
  end
  for i, s in ipairs(names) do all[#list + i] = s end
  local cls = native.ruleclass_new(name, all, check.vec(desc, 1, "rule"), step, look)
  classes[cls] = describe{name = name, hyper = list, state = names, lua = true}
  return cls
end)

local function class_of(cls, fname)
  return classes[cls] or check.selferror(fname, "momsandbox.ruleclass", cls)
end

native.class("ruleclass", {
  --- class{name = value, ...}: a rule of a class defined in Lua
  __call = check.protect(function(cls, opts)
    local c = class_of(cls, "__call")
    return make(c, cls, opts, c.name)
  end),
  __tostring = check.protect(function(cls)
    return "rule class " .. class_of(cls, "__tostring").name
  end),
})

return M
