--- momsandbox.ffi_sweep: the sweep primitives of lua/momsandbox/primitives.lua
-- for LuaJIT (sweep_new, sweep_grid, sweep_run, sweep_data, the kind
-- "sweep" and its CSV writer).  Twin of bindings/lua/l_sweep.c; the user
-- of both is lua/momsandbox/sweep.lua (ms.sweep), which checks the options
-- and presents the result.  The engine runs the sweep: on every core when
-- nothing is written in Lua, else on the calling thread, calling back.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"
local objective = require "momsandbox.ffi_objective"
local rule = require "momsandbox.ffi_rule"

local C = core.C
local Sweep = core.handle_type("sweep", "ms_sweep", C.ms_sweep_free)

-- What a sweep uses as long as it lives: the objective, and the schedules
-- its copy of the rule points at.  Weak keys: the values never reference
-- their key.
local keep = setmetatable({}, {__mode = "k"})

local function close(sw)
  keep[sw] = nil
  if sw.ptr ~= nil then
    Sweep.release(sw)
  end
end

--- The sweep at 1 of fname, or nil once closed; with live, an error then.
local function tosweep(sw, fname, live)
  if not Sweep.is(sw) then core.typeerror(1, fname, "momsandbox.sweep", sw) end
  if sw.ptr == nil and live then core.argerror(1, fname, "sweep has been closed") end
  return sw.ptr ~= nil and sw.ptr or nil
end

local M = {}
local outbox = ffi.new("ms_sweep *[1]")

--- native.sweep_new(obj, rule, x0, xstar|nil, fstar|nil): see l_sweep.c.
function M.sweep_new(obj, r, x0, xstar, fstar)
  local od, rd = objective.check(obj, 1, "sweep_new"), rule.check(r, 2, "sweep_new")
  x0 = vec.checkvec(x0, 3, "sweep_new")
  xstar = xstar ~= nil and vec.checkvec(xstar, 4, "sweep_new") or nil
  if xstar and xstar.n ~= x0.n then core.argerror(4, "sweep_new", "xstar must be of x0's size") end
  if fstar ~= nil and type(fstar) ~= "number" then core.typeerror(5, "sweep_new", "number", fstar) end
  local st = C.ms_sweep_new(od.ptr, rd.ptr, x0.x, x0.n, outbox)
  if st ~= 0 then return core.failed(st) end
  local sw = Sweep.own(outbox[0])
  keep[sw] = {obj, rule.schedules(rd)}
  st = C.ms_sweep_target(sw.ptr, xstar and xstar.x, fstar and ffi.new("double[1]", fstar))
  if st ~= 0 then return core.failed(st) end
  return sw
end

--- native.range_values(name, from, to, n, log): see l_sweep.c.
function M.range_values(name, from, to, n, log)
  if type(name) ~= "string" then core.typeerror(1, "range_values", "string", name) end
  if type(from) ~= "number" then core.typeerror(2, "range_values", "number", from) end
  if type(to) ~= "number" then core.typeerror(3, "range_values", "number", to) end
  n = core.checkinteger(n, 4, "range_values")
  if n > 1e6 then core.argerror(4, "range_values", "n must be at most 1e6") end
  log = log and 1 or 0
  local st = C.ms_range_check(name, from, to, n, log)
  if st ~= 0 then return core.failed(st) end
  local values = {}
  for k = 0, n - 1 do values[k + 1] = C.ms_range_value(from, to, n, log, k) end
  return values
end

--- native.sweep_grid(sw, name, values) / (sw, name, from, to, n, log) /
-- (sw, names, values, count): see l_sweep.c.
function M.sweep_grid(sw, name, a, b, n, log)
  local s, st = tosweep(sw, "sweep_grid", true), nil
  if type(name) == "table" then
    local values = vec.checkvec(a, 3, "sweep_grid")
    if type(b) ~= "number" or not core.is_integer(b) or b < 1 or b > 2 ^ 30 or values.n ~= b * #name then
      core.argerror(3, "sweep_grid", "values must hold count x #names numbers")
    end
    for _, v in ipairs(name) do
      if type(v) ~= "string" then core.argerror(2, "sweep_grid", "names must be strings") end
    end
    st = C.ms_sweep_points(s, ffi.new("const char *[?]", #name + 1, name), #name, values.x, b)
  elseif type(name) ~= "string" then
    core.typeerror(2, "sweep_grid", "string", name)
  elseif type(a) == "number" then
    if type(b) ~= "number" then core.typeerror(4, "sweep_grid", "number", b) end
    st = C.ms_sweep_range(s, name, a, b, core.checkinteger(n, 5, "sweep_grid"), log and 1 or 0)
  else
    local values = vec.checkvec(a, 3, "sweep_grid")
    st = C.ms_sweep_axis(s, name, values.x, values.n)
  end
  return core.status(st)
end

-- One callback serves every sweep: it calls the progress function of the
-- running one.
local reporting
local progress = ffi.cast("ms_progress_fn", function(_, done, total, seconds)
  return core.callback_status(reporting, tonumber(done), tonumber(total), seconds)
end)

--- native.sweep_run(sw, steps|nil, measures, tol|nil, threads, shard,
-- shards, fast, progress|nil): see l_sweep.c.
function M.sweep_run(sw, steps, measures, tol, threads, shard, shards, fast, report)
  local F = "sweep_run"
  local s = tosweep(sw, F, true)
  objective.check(keep[sw][1], 1, F)
  local o = ffi.new("ms_sweep_opts")
  C.ms_sweep_opts_init(o)
  if steps ~= nil then o.steps = core.checkinteger(steps, 2, F) end
  o.measures = core.checkinteger(measures, 3, F)
  if type(tol) == "number" then o.tol = tol
  elseif tol ~= nil then core.typeerror(4, F, "number", tol) end
  o.threads = core.checkinteger(threads, 5, F)
  o.shard, o.shards = core.checkinteger(shard, 6, F), core.checkinteger(shards, 7, F)
  o.fast = fast and 1 or 0
  if report ~= nil and type(report) ~= "function" then core.typeerror(9, F, "function", report) end
  if report ~= nil then o.progress = progress end
  local outer = reporting
  reporting = report
  local ok, st = pcall(core.call_long, C.ms_sweep_run, s, o)
  reporting = outer
  if not ok then error(st, 0) end
  return core.status(st)
end

--- native.sweep_data(sw [, c]): see l_sweep.c.
function M.sweep_data(sw, c)
  local s = tosweep(sw, "sweep_data")
  if s == nil then return end
  local n = tonumber(C.ms_sweep_count(s))
  if c == nil then
    return tonumber(C.ms_sweep_total(s)), tonumber(C.ms_sweep_first(s)) + 1, n,
           C.ms_sweep_was_fast(s) ~= 0, C.ms_sweep_threads(s), C.ms_sweep_seconds(s)
  end
  c = core.checkinteger(c, 2, "sweep_data")
  local v = vec.alloc(n)
  if c >= 1 and C.ms_sweep_column(s, c - 1, v.x) == 0 then return v end
end

core.kind("sweep", Sweep.ctype, nil, close)
core.kinds.sweep.csv = function(sw, path, header)
  local s = tosweep(sw, "write_csv", true)
  -- call_long: millions of rows take seconds
  return core.status(core.call_long(C.ms_sweep_write_csv, s, path, header and 1 or 0))
end

return M
