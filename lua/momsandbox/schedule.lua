--- ms.schedule: hyper-parameter schedules, the same under Lua 5.4 and
-- LuaJIT: the engine's built-ins (PyTorch's lr_scheduler, k = t - 1), any
-- Lua function of the step t (t = 1, 2, ...), and their compositions.
-- Options, messages and labels are here; the schedules are native handles
-- (primitives schedule_builtin, schedule_fn, schedule_values).
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local fmt, argerror = native.format, check.argerror
local M = {}

-- A schedule's label, by handle: what tostring shows and rules repeat.
-- A function made into a schedule (by a rule, a sequence) has none.
local labels = setmetatable({}, {__mode = "k"})

local function is_schedule(v) return native.kind(v) == "schedule" end

local function label(s) return labels[s] or "function" end

--- A short description of an option for labels: 0.6, {10, 20}, a label.
-- Tables are read raw (a __len or __index may lie), nested ones a few
-- levels deep (a table may hold itself).
local function describe(v, depth)
  if type(v) == "number" then return fmt(v) end
  if is_schedule(v) then return label(v) end
  if type(v) == "function" then return "function" end
  if type(v) ~= "table" then return tostring(v) end
  if depth >= 4 then return "{...}" end
  local parts = {}
  for i = 1, check.rawlen(v) do parts[i] = describe(rawget(v, i), depth + 1) end
  return "{" .. table.concat(parts, ", ") .. "}"
end

--- "cosine{lr=0.6, steps=100}": the options given, in the order of known.
local function label_of(name, opts, known)
  local parts = {}
  for _, key in ipairs(known) do
    if opts[key] ~= nil then parts[#parts + 1] = key .. "=" .. describe(opts[key], 0) end
  end
  return name .. "{" .. table.concat(parts, ", ") .. "}"
end

--- The built-in `name` made of the numbers args (ms_schedule_builtin's) and
-- parts, labelled text; the engine's complaint is an argument error of fname.
local function make(fname, text, name, args, parts)
  local s, msg = native.schedule_builtin(name, check.vec(args, 1, fname), parts)
  if s == nil then argerror(1, fname, msg) end
  labels[s] = text
  return s
end

--- The schedule for v: a schedule as it is, a function made into one.
local function toschedule(v)
  if type(v) == "function" then return native.schedule_fn(v) end
  if is_schedule(v) then return v end
end

------------------------------------------------------------ options

--- The base value: option `base`, or `lr` as in PyTorch's schedulers.
local function base(opts, fname)
  local b = opts.base
  if (b == nil) == (opts.lr == nil) then
    argerror(1, fname, "give the base value as `base` (or `lr`), once")
  end
  if b == nil then b = opts.lr end
  if type(b) ~= "number" then argerror(1, fname, "base must be a number") end
  return b
end

local function required(opts, fname, key)
  if opts[key] == nil then argerror(1, fname, ("option '%s' is required"):format(key)) end
  return check.optint(opts, 1, fname, key)
end

--- Option milestones as a plain array of integers.
local function milestones(opts, fname)
  local m = opts.milestones
  if type(m) ~= "table" then argerror(1, fname, "milestones must be a table of step numbers") end
  local list = {}
  for i = 1, check.rawlen(m) do
    local x = tonumber(rawget(m, i))
    if not check.is_integer(x) then argerror(1, fname, ("milestone %d is not an integer"):format(i)) end
    list[i] = x
  end
  return list
end

local function num(opts, fname, key, def) return check.optnum(opts, 1, fname, key, def) end

-- The built-ins: their options, and the numbers of schedule_builtin read
-- from them (checked in the order the messages should come).
local builtins = {
  constant = {{"base", "lr"}, function(o, f) return {base(o, f)} end},
  step = {{"base", "lr", "step_size", "gamma"}, function(o, f)
    return {base(o, f), required(o, f, "step_size"), num(o, f, "gamma", 0.1)}
  end},
  multistep = {{"base", "lr", "milestones", "gamma"}, function(o, f)
    local b, gamma = base(o, f), num(o, f, "gamma", 0.1)
    local args = milestones(o, f)
    table.insert(args, 1, gamma)
    table.insert(args, 1, b)
    return args
  end},
  exponential = {{"base", "lr", "gamma"}, function(o, f)
    local b = base(o, f)
    if o.gamma == nil then argerror(1, f, "option 'gamma' is required") end
    return {b, num(o, f, "gamma")}
  end},
  cosine = {{"base", "lr", "steps", "min", "restarts", "mult"}, function(o, f)
    local b, steps, min = base(o, f), required(o, f, "steps"), num(o, f, "min", 0)
    if o.restarts ~= nil and type(o.restarts) ~= "boolean" then
      argerror(1, f, "restarts must be a boolean")
    end
    local mult = check.optint(o, 1, f, "mult", 1)
    if mult ~= 1 and not o.restarts then argerror(1, f, "mult needs restarts = true") end
    return {b, steps, min, o.restarts and 1 or 0, mult}
  end},
  linear = {{"base", "lr", "start", "end", "steps"}, function(o, f)
    return {base(o, f), num(o, f, "start", 1 / 3), num(o, f, "end", 1),
            check.optint(o, 1, f, "steps", 5)}
  end},
  polynomial = {{"base", "lr", "steps", "power", "min"}, function(o, f)
    return {base(o, f), required(o, f, "steps"), num(o, f, "power", 1), num(o, f, "min", 0)}
  end},
  inverse_sqrt = {{"base", "lr", "warmup"}, function(o, f)
    return {base(o, f), check.optint(o, 1, f, "warmup", 0)}
  end},
}

for name, b in pairs(builtins) do
  local known, args = b[1], b[2]
  M[name] = check.protect(function(opts)
    check.options(opts, 1, name, known)
    return make(name, label_of(name, opts, known), name, args(opts, name))
  end)
end

--- ms.schedule.sequence{s1, s2, ..., milestones = {m1, ...}}: s1 until step
-- m1, then s2 restarted at its step 1, ...
M.sequence = check.protect(function(opts)
  check.table(opts, 1, "sequence")
  local m = milestones(opts, "sequence")
  local parts, texts = {}, {}
  for i = 1, check.rawlen(opts) do
    local v = rawget(opts, i)
    parts[i] = toschedule(v) or
               argerror(1, "sequence", ("entry %d is a %s, not a schedule"):format(i, type(v)))
    texts[i] = label(parts[i])
  end
  if #parts ~= #m + 1 then argerror(1, "sequence", "need one milestone fewer than schedules") end
  texts[#texts + 1] = "milestones=" .. describe(opts.milestones, 0)
  return make("sequence", "sequence{" .. table.concat(texts, ", ") .. "}", "sequence", m, parts)
end)

--- ms.schedule.warmup{steps = 10, start = 0, after = schedule or number}:
-- a linear ramp from start * after(1) to after(1), then `after`.
M.warmup = check.protect(function(opts)
  local known = {"steps", "start", "after"}
  check.options(opts, 1, "warmup", known)
  local steps = required(opts, "warmup", "steps")
  local start = num(opts, "warmup", "start", 0)
  local after = opts.after
  if type(after) == "number" then
    after = make("warmup", fmt(after), "constant", {after})
  else
    after = toschedule(after) or argerror(1, "warmup", "after must be a schedule, function or number")
  end
  local first = check.ok(native.schedule_values(after, 1))
  local ramp = make("warmup", "ramp", "linear", {first, start, 1, steps})
  return make("warmup", label_of("warmup", opts, known), "sequence", {steps}, {ramp, after})
end)

------------------------------------------------------------ the object

-- Values s:values makes at most: a table of 10^7 numbers takes 160 MB.
local MAX_VALUES = 10000000

local methods = {}

--- s:values(n): {s(1), ..., s(n)}, for plots
methods.values = check.protect(function(s, n)
  if not is_schedule(s) then check.selferror("values", "momsandbox.schedule", s) end
  n = check.integer(n, 1, "values")
  if n < 0 then argerror(1, "values", "count must be >= 0") end
  if n > MAX_VALUES then
    argerror(1, "values", "count must be <= 10000000 (call the schedule for the steps beyond)")
  end
  local list = {}
  for t = 1, n do list[t] = check.ok(native.schedule_values(s, t)) end
  return list
end)

native.class("schedule", {
  __index = methods,
  --- s(t): the value at step t (t = 1, 2, ...)
  __call = check.protect(function(s, t)
    if not is_schedule(s) then check.selferror("schedule", "momsandbox.schedule", s) end
    t = check.integer(t, 1, "schedule")
    if t < 1 then argerror(1, "schedule", "steps count from 1") end
    return (check.ok(native.schedule_values(s, t)))
  end),
  __tostring = check.protect(function(s)
    if not is_schedule(s) then check.selferror("__tostring", "momsandbox.schedule", s) end
    return label(s)
  end),
  __close = function(s) native.close(s) end,
})

return M
