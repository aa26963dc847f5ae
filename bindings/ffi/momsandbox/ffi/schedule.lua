--- momsandbox.ffi.schedule: ms.schedule under LuaJIT -- the engine's
-- built-in schedules, and any Lua function of the step t (t = 1, 2, ...).
--
-- A Lua function becomes an engine callback schedule, so that it composes
-- (sequence, warmup) and follows a hyper-parameter wherever the engine
-- asks for it.  Loops of the binding's own evaluate it pull-style instead:
-- they call the function and hand the value to the engine before each step
-- (M.supply), so that LuaJIT compiles it into the loop.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"

local C = core.C
local M = {}

local P = {}   -- key of a schedule's record: engine object, label, function
local Schedule = {__name = "momsandbox.schedule"}

--- The record of s if it is a schedule, else nil.
function M.record(s)
  return type(s) == "table" and getmetatable(s) == Schedule and s[P] or nil
end

--- The value of the Lua function of a schedule at step t.
local function call(fn, t)
  local ok, v = xpcall(fn, core.traceback, t)
  if not ok then error(v, 0) end
  if type(v) ~= "number" then
    v = type(v) == "string" and tonumber(v) or
        core.failure(("schedule function returned %s at step %d, expected a number"):format(type(v), t))
  end
  return v
end

--- Hand the engine the value at step t of the function schedule d.
function M.supply(d, t)
  C.ms_schedule_supply(d.ptr, t, call(d.fn, t))
end

local valuebox = ffi.new("double[1]")

--- The value at step t: the function's, or the engine's -- calling back
-- into Lua for compositions with functions inside, which may nest and so
-- get a box of their own.
local function value(d, t)
  if d.fn then return call(d.fn, t) end
  if d.pure then
    core.check(C.ms_schedule_value(d.ptr, t, valuebox))
    return valuebox[0]
  end
  local box = ffi.new("double[1]")
  core.check(core.call_back(C.ms_schedule_value, d.ptr, t, box))
  return box[0]
end
M.value = value

-- Function schedules by callback context, for the engine's calls.
local by_id = setmetatable({}, {__mode = "v"})

local function fill(d, t, out)
  out[0] = call(d.fn, tonumber(t))
end

local callback = ffi.cast("ms_schedule_fn", function(ctx, t, out)
  return core.callback_status(fill, by_id[tonumber(ffi.cast("intptr_t", ctx))], t, out)
end)
local last_id = 0

local outbox = ffi.new("ms_schedule *[1]")

--- The schedule that the core constructor call make(out) creates, whose
-- complaint is an argument error of fname; d: the record, if it has more.
local function new(fname, label, make, d)
  if make(outbox) ~= 0 then core.argerror(1, fname, core.last_error()) end
  d = d or {}
  d.ptr = core.own(outbox[0], C.ms_schedule_free, "schedule")
  d.pure = C.ms_schedule_is_pure(d.ptr) ~= 0
  d.label = label
  return setmetatable({[P] = d}, Schedule)
end

--- The schedule for value v: a schedule as it is, a Lua function wrapped
-- into one; nil for anything else.
function M.toschedule(v)
  if type(v) == "function" then
    last_id = last_id + 1
    local d = {fn = v, id = last_id}
    by_id[d.id] = d
    return new("schedule", "function", function(out)
      return C.ms_schedule_new(callback, ffi.cast("void *", d.id), nil, out)
    end, d)
  end
  return M.record(v) and v or nil
end

------------------------------------------------------------ constructors

--- The base value: option `base`, or `lr` as in PyTorch's schedulers.
local function checkbase(opts, fname)
  if (opts.base == nil) == (opts.lr == nil) then
    core.argerror(1, fname, "give the base value as `base` (or `lr`), once")
  end
  local base = opts.base
  if base == nil then base = opts.lr end
  if type(base) ~= "number" then core.argerror(1, fname, "base must be a number") end
  return base
end

local function needint(opts, fname, key)
  if opts[key] == nil then core.argerror(1, fname, ("option '%s' is required"):format(key)) end
  return core.optint(opts, 1, fname, key, 0)
end

--- A short description of a value for labels: 0.6, {10, 20}, a label.
local function describe(v)
  if type(v) == "number" then return core.format(v) end
  if type(v) == "table" and not M.record(v) then
    local parts = {}
    for i = 1, #v do parts[i] = describe(v[i]) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  return tostring(v)
end

--- The label of a schedule made from opts, by the options in the order of
-- known: "cosine{lr=0.6, steps=100}".
local function label(name, opts, known)
  local parts = {}
  for _, key in ipairs(known) do
    if opts[key] ~= nil then parts[#parts + 1] = key .. "=" .. describe(opts[key]) end
  end
  return name .. "{" .. table.concat(parts, ", ") .. "}"
end

--- A built-in: check the options against known, make it with
-- make(opts, out), and complain as an argument error.
local function builtin(name, known, make)
  return core.protect(function(opts)
    core.checkoptions(opts, 1, name, known)
    return new(name, label(name, opts, known), function(out) return make(opts, out) end)
  end)
end

local constant = builtin("constant", {"base", "lr"}, function(opts, out)
  return C.ms_schedule_constant(checkbase(opts, "constant"), out)
end)

local step = builtin("step", {"base", "lr", "step_size", "gamma"}, function(opts, out)
  local base, size = checkbase(opts, "step"), needint(opts, "step", "step_size")
  return C.ms_schedule_step(base, size, core.optnum(opts, 1, "step", "gamma", 0.1), out)
end)

--- Option milestones as step numbers.
local function milestones(opts, fname)
  local m = opts.milestones
  if type(m) ~= "table" then core.argerror(1, fname, "milestones must be a table of step numbers") end
  local arr = ffi.new("int64_t[?]", math.max(#m, 1))
  for i = 1, #m do
    local x = tonumber(m[i])
    if x == nil or not core.is_integer(x) then
      core.argerror(1, fname, ("milestone %d is not an integer"):format(i))
    end
    arr[i - 1] = x
  end
  return arr, #m
end

local multistep = builtin("multistep", {"base", "lr", "milestones", "gamma"}, function(opts, out)
  local base = checkbase(opts, "multistep")
  local gamma = core.optnum(opts, 1, "multistep", "gamma", 0.1)
  local m, n = milestones(opts, "multistep")
  return C.ms_schedule_multistep(base, m, n, gamma, out)
end)

local exponential = builtin("exponential", {"base", "lr", "gamma"}, function(opts, out)
  local base = checkbase(opts, "exponential")
  local gamma = core.optnum(opts, 1, "exponential", "gamma", 0 / 0)
  if gamma ~= gamma then core.argerror(1, "exponential", "option 'gamma' is required") end
  return C.ms_schedule_exponential(base, gamma, out)
end)

local cosine = builtin("cosine", {"base", "lr", "steps", "min", "restarts", "mult"}, function(opts, out)
  local fname = "cosine"
  local base, steps = checkbase(opts, fname), needint(opts, fname, "steps")
  local min = core.optnum(opts, 1, fname, "min", 0)
  if opts.restarts ~= nil and type(opts.restarts) ~= "boolean" then
    core.argerror(1, fname, "restarts must be a boolean")
  end
  local mult = core.optint(opts, 1, fname, "mult", 1)
  if mult ~= 1 and not opts.restarts then core.argerror(1, fname, "mult needs restarts = true") end
  return C.ms_schedule_cosine(base, steps, min, opts.restarts and 1 or 0, mult, out)
end)

local linear = builtin("linear", {"base", "lr", "start", "end", "steps"}, function(opts, out)
  local fname = "linear"
  local base = checkbase(opts, fname)
  local start = core.optnum(opts, 1, fname, "start", 1 / 3)
  local finish = core.optnum(opts, 1, fname, "end", 1)
  return C.ms_schedule_linear(base, start, finish, core.optint(opts, 1, fname, "steps", 5), out)
end)

local polynomial = builtin("polynomial", {"base", "lr", "steps", "power", "min"}, function(opts, out)
  local fname = "polynomial"
  local base, steps = checkbase(opts, fname), needint(opts, fname, "steps")
  return C.ms_schedule_polynomial(base, steps, core.optnum(opts, 1, fname, "power", 1),
                                  core.optnum(opts, 1, fname, "min", 0), out)
end)

local inverse_sqrt = builtin("inverse_sqrt", {"base", "lr", "warmup"}, function(opts, out)
  local base = checkbase(opts, "inverse_sqrt")
  return C.ms_schedule_inverse_sqrt(base, core.optint(opts, 1, "inverse_sqrt", "warmup", 0), out)
end)

--- A sequence of the schedule records parts (kept alive by it).
local function sequence_of(parts, m, fname, describe_as)
  local ptrs = ffi.new("ms_schedule *[?]", #parts)
  for i, d in ipairs(parts) do ptrs[i - 1] = d.ptr end
  return new(fname, describe_as, function(out)
    return C.ms_schedule_sequence(ptrs, #parts, m, out)
  end, {parts = parts})
end

--- ms.schedule.sequence{s1, s2, ..., milestones = {m1, ...}}: s1 until step
-- m1, then s2 restarted at its step 1, ...
local sequence = core.protect(function(opts)
  local fname = "sequence"
  core.checktable(opts, 1, fname)
  local m, nm = milestones(opts, fname)
  local parts, descriptions = {}, {}
  for i = 1, #opts do
    local s = M.toschedule(opts[i])
    if s == nil then
      core.argerror(1, fname, ("entry %d is a %s, not a schedule"):format(i, type(opts[i])))
    end
    parts[i], descriptions[i] = s[P], tostring(s)
  end
  if #parts ~= nm + 1 then core.argerror(1, fname, "need one milestone fewer than schedules") end
  descriptions[#descriptions + 1] = "milestones=" .. describe(opts.milestones)
  return sequence_of(parts, m, fname, "sequence{" .. table.concat(descriptions, ", ") .. "}")
end)

--- ms.schedule.warmup{steps = 10, start = 0, after = schedule or number}:
-- a linear ramp from start * after(1) to after(1), then `after`.
local warmup = core.protect(function(opts)
  local fname = "warmup"
  local known = {"steps", "start", "after"}
  core.checkoptions(opts, 1, fname, known)
  local steps = needint(opts, fname, "steps")
  local start = core.optnum(opts, 1, fname, "start", 0)
  local after = opts.after
  if type(after) == "number" then   -- a constant after the ramp
    local number = after
    after = new(fname, tostring(number), function(out)
      return C.ms_schedule_constant(number, out)
    end)
  else
    after = M.toschedule(after)
  end
  if after == nil then core.argerror(1, fname, "after must be a schedule, function or number") end
  local first = value(after[P], 1)
  local ramp = new(fname, "ramp", function(out)
    return C.ms_schedule_linear(first, start, 1, steps, out)
  end)
  local m = ffi.new("int64_t[1]", steps)
  return sequence_of({ramp[P], after[P]}, m, fname, label(fname, opts, known))
end)

---------------------------------------------------------------- methods

--- sched(t): the value at step t (t = 1, 2, ...)
Schedule.__call = core.protect(function(s, t)
  local d = M.record(s) or core.typeerror(1, "schedule", "momsandbox.schedule", s)
  t = core.checkinteger(t, 2, "schedule")
  if t < 1 then core.argerror(2, "schedule", "steps count from 1") end
  return value(d, t)
end)

local methods = {}

-- Values sched:values makes at most: a table of 10^7 numbers takes 160 MB
-- (l_schedule.c has the same limit).
local MAX_VALUES = 10000000

--- sched:values(n): {sched(1), ..., sched(n)}, for plots
methods.values = core.protect(function(s, n)
  local d = M.record(s) or core.typeerror(1, "values", "momsandbox.schedule", s)
  n = core.checkinteger(n, 2, "values")
  if n < 0 then core.argerror(2, "values", "count must be >= 0") end
  if n > MAX_VALUES then
    core.argerror(2, "values", "count must be <= 10000000 (call the schedule for the steps beyond)")
  end
  local list = {}
  for t = 1, n do list[t] = value(d, t) end
  return list
end)

Schedule.__index = methods

function Schedule.__tostring(s)
  return s[P].label
end

M.module = {
  constant = constant, step = step, multistep = multistep, exponential = exponential,
  cosine = cosine, linear = linear, polynomial = polynomial, inverse_sqrt = inverse_sqrt,
  sequence = sequence, warmup = warmup,
}

return M
