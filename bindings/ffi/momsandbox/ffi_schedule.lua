--- momsandbox.ffi_schedule: schedules as the native kind "schedule" for
-- LuaJIT: the primitives schedule_builtin, schedule_fn and schedule_values.
-- Twin of bindings/lua/l_schedule.c; user: lua/momsandbox/schedule.lua.
--
-- A handle is a cdata `{ms_schedule *ptr}`; its record (engine pointer,
-- purity, the Lua function of a function schedule, a sequence's parts)
-- sits in a weak-keyed table, for ffi_rule.lua and ffi_trace.lua
-- (M.record), whose loops evaluate a function schedule
-- pull-style (M.supply) so that LuaJIT compiles it into the loop.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"

local C = core.C
local M = {}

local H = core.handle_type("schedule", "ms_schedule", C.ms_schedule_free)
local records = setmetatable({}, {__mode = "k"})   -- handle -> record

--- The record of s if it is a schedule (closed or not), else nil.
function M.record(s)
  return records[s]
end

--- The value of the Lua function of a schedule at step t.
local function call(fn, t)
  local ok, v = xpcall(fn, core.traceback, t)
  if not ok then error(v, 0) end
  if type(v) ~= "number" then
    v = type(v) == "string" and tonumber(v) or
        error(("schedule function returned %s at step %d, expected a number"):format(type(v), t), 0)
  end
  return v
end

--- Hand the engine the value at step t of the function schedule d.
function M.supply(d, t)
  C.ms_schedule_supply(d.ptr, t, call(d.fn, t))
end

-- Function schedules by callback context, for the engine's calls.
local by_id = setmetatable({}, {__mode = "v"})
local last_id = 0

local callback = ffi.cast("ms_schedule_fn", function(ctx, t, out)
  return core.callback_status(function(d)
    out[0] = call(d.fn, tonumber(t))
  end, by_id[tonumber(ffi.cast("intptr_t", ctx))])
end)

local outbox = ffi.new("ms_schedule *[1]")

--- The handle of the schedule a constructor left in outbox (status st),
-- with its record d; or nil, message, code.
local function own(st, d)
  if st ~= 0 then return core.failed(st) end
  local h = H.own(outbox[0])
  d.ptr, d.pure = h.ptr, C.ms_schedule_is_pure(h.ptr) ~= 0
  records[h] = d
  return h
end

local function schedule_fn(f)
  if type(f) ~= "function" then core.typeerror(1, "schedule_fn", "function", f) end
  last_id = last_id + 1
  local d = {fn = f, id = last_id}
  by_id[d.id] = d
  return own(C.ms_schedule_new(callback, ffi.cast("void *", d.id), nil, outbox), d)
end

------------------------------------------------------------ primitives

local BUILTIN = "schedule_builtin"

local function schedule_builtin(name, args, parts)
  if type(name) ~= "string" or not vec.is(args) or args.dead ~= 0 or
     (parts ~= nil and type(parts) ~= "table") then
    core.argerror(1, BUILTIN, "name, vec and table of parts expected")
  end
  local count = parts and #parts or 0
  local ptrs, kept = ffi.new("ms_schedule *[?]", count + 1), {}
  for k = 1, count do
    local d = records[rawget(parts, k)]
    if d == nil or d.closed then core.argerror(3, BUILTIN, "parts must be live schedules") end
    ptrs[k - 1], kept[k] = d.ptr, rawget(parts, k)
  end
  return own(C.ms_schedule_builtin(name, args.x, args.n, ptrs, count, outbox), {parts = kept})
end

local valuebox = ffi.new("double[1]")

--- The value at step t: the function's, or the engine's -- calling back
-- into Lua for compositions with functions inside, which may nest and so
-- get a box of their own.
local function value(d, t)
  if d.fn then return call(d.fn, t) end
  local box = d.pure and valuebox or ffi.new("double[1]")
  local st = d.pure and C.ms_schedule_value(d.ptr, t, box) or
             core.call_back(C.ms_schedule_value, d.ptr, t, box)
  if st ~= 0 then return core.failed(st) end
  return box[0]
end

local function schedule_values(s, t)
  local d = records[core.checkkind(s, "schedule", 1, "schedule_values")]
  if type(t) ~= "number" or not core.is_integer(t) or t < 1 then
    core.argerror(2, "schedule_values", "steps count from 1")
  end
  if d.closed then return core.closed("schedule") end
  return value(d, t)
end

-- native.close: marks the schedule closed; the engine object goes with
-- the collector, as a rule or sequence holding it may still step it.
core.kind("schedule", H.ctype, nil, function(h) records[h].closed = true end)

-- The primitives for native.lua (pairs sees them alone); the other FFI
-- parts reach M's functions through the same table.
return setmetatable({schedule_builtin = schedule_builtin, schedule_fn = schedule_fn,
                     schedule_values = schedule_values}, {__index = M})
