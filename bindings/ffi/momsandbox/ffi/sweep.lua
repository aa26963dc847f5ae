--- momsandbox.ffi.sweep: the sweep primitives of lua/momsandbox/primitives.lua
-- for LuaJIT (sweep_names, sweep_run, sweep_data, the kind "sweep" and its
-- CSV writer).  Twin of bindings/lua/l_sweep.c; the user of both is
-- lua/momsandbox/sweep.lua (ms.sweep), which checks the options and
-- presents the result.  The engine runs the sweep: on every core when
-- nothing is written in Lua, else on the calling thread, calling back.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local objective = require "momsandbox.ffi.objective"
local rule = require "momsandbox.ffi.rule"

local C = core.C
local FNAME = "sweep_run"

local Sweep = core.handle_type("ms_ffi_sweep", "ms_sweep", "momsandbox.sweep", C.ms_sweep_free, "sweep")

-- What a sweep uses as long as it lives (the objective, the schedules its
-- copy of the rule points at), and its columns once made.  Weak keys: the
-- values never reference their key.
local keep = setmetatable({}, {__mode = "k"})
local columns_of = setmetatable({}, {__mode = "k"})

local function close(sw)
  keep[sw], columns_of[sw] = nil, nil
  if sw.ptr ~= nil then
    Sweep.release(sw)
    sw.ptr = nil
  end
end

local function checksweep(sw, fname)
  if not Sweep.is(sw) then core.typeerror(1, fname, "momsandbox.sweep", sw) end
  return sw.ptr ~= nil and sw.ptr or nil
end

local M = {}

--- native.sweep_names(rule): class name and axes (hyper-parameters in
-- class order, then "scale") of a rule or a built-in class's name, or nil.
function M.sweep_names(r)
  local cls
  if type(r) == "string" then
    cls = C.ms_rule_class_find(r)
    if cls == nil then return nil end
  elseif rule.record(r) then
    cls = C.ms_rule_class_of(rule.check(r, 1, "sweep_names").ptr)
  else
    return nil
  end
  local names = {}
  for i = 0, cls.nhyper - 1 do names[i + 1] = ffi.string(cls.hyper[i].name) end
  names[#names + 1] = "scale"
  return ffi.string(cls.name), names
end

local function setup_failed(st, prefix)
  local _, msg, code = core.failed(st)
  return nil, prefix .. msg, code, true
end

local function add_axes(s, axes)
  core.checktable(axes, 4, FNAME)
  for _, a in ipairs(axes) do
    core.checktable(a, 4, FNAME)
    if type(a.name) ~= "string" then core.argerror(4, FNAME, "an axis needs a name") end
    local st
    if a.values ~= nil then
      local v = vec.tovec(a.values, 4, FNAME)
      st = C.ms_sweep_axis(s, a.name, v.x, v.n)
    else
      if type(a.from) ~= "number" or type(a.to) ~= "number" or not core.is_integer(a.n) then
        core.argerror(4, FNAME, "a range needs numbers from, to and an integer n")
      end
      st = C.ms_sweep_range(s, a.name, a.from, a.to, a.n, a.log and 1 or 0)
    end
    if st ~= 0 then return st end
  end
  return 0
end

local function add_points(s, grid)
  local names = core.checktable(grid.names, 4, FNAME)
  for _, name in ipairs(names) do
    if type(name) ~= "string" then core.argerror(4, FNAME, "names must be strings") end
  end
  local count = grid.count
  if not core.is_integer(count) or count < 1 or count > 2 ^ 30 then
    core.argerror(4, FNAME, "count must be an integer in [1, 2^30]")
  end
  local values = vec.tovec(grid.values, 4, FNAME)
  if values.n ~= count * #names then
    core.argerror(4, FNAME, "values must hold count x #names numbers")
  end
  return C.ms_sweep_points(s, ffi.new("const char *[?]", #names + 1, names), #names,
                           values.x, count)
end

local function checkopts(opts, o)
  core.checktable(opts, 5, FNAME)
  C.ms_sweep_opts_init(o)
  o.steps = core.optint(opts, 5, FNAME, "steps", tonumber(o.steps))
  o.measures = core.optint(opts, 5, FNAME, "measures", o.measures)
  o.tol = core.optnum(opts, 5, FNAME, "tol", o.tol)
  o.shard = core.optint(opts, 5, FNAME, "shard", 0)
  o.shards = core.optint(opts, 5, FNAME, "shards", 1)
  o.fast = core.optbool(opts, 5, FNAME, "fast", true)
  local threads = core.optint(opts, 5, FNAME, "threads", 0)
  if o.measures < 1 or o.measures > 7 or threads < 0 or threads > 1024 then
    core.argerror(5, FNAME, "measures or threads out of range")
  end
  o.threads = threads
end

-- One callback serves every sweep: it calls the progress function of the
-- running one.
local reporting
local progress = ffi.cast("ms_progress_fn", function(_, done, total, seconds)
  return core.callback_status(reporting, tonumber(done), tonumber(total), seconds)
end)

local outbox = ffi.new("ms_sweep *[1]")

--- native.sweep_run(obj, rule, x0, grid, opts [, progress]) -> sweep, or
-- nil, message, code, setup (true: the options were wrong, nothing ran).
local function sweep_run(obj, r, x0, grid, opts, report)
  local od = objective.check(obj, 1, FNAME)
  local rd = type(r) ~= "string" and rule.check(r, 2, FNAME)
  local x = vec.tovec(x0, 3, FNAME)
  core.checktable(grid, 4, FNAME)
  local o = ffi.new("ms_sweep_opts")
  checkopts(opts, o)
  if report ~= nil and type(report) ~= "function" then core.typeerror(6, FNAME, "function", report) end
  local st
  if rd then
    st = C.ms_sweep_new(od.ptr, rd.ptr, x.x, x.n, outbox)
  else   -- rule = "momentum": the class's defaults
    local cls = C.ms_rule_class_find(r)
    if cls == nil then core.argerror(2, FNAME, "no such built-in rule") end
    local defaults = ffi.new("ms_rule *[1]")
    st = C.ms_rule_new(cls, defaults)
    if st == 0 then st = C.ms_sweep_new(od.ptr, defaults[0], x.x, x.n, outbox) end
    C.ms_rule_free(defaults[0])
  end
  if st ~= 0 then return setup_failed(st, "") end
  local sw = Sweep.own(outbox[0])
  keep[sw] = {od, rd and rule.schedules(rd)}
  local points = grid.names ~= nil
  st = points and add_points(sw.ptr, grid) or add_axes(sw.ptr, grid.axes)
  if st ~= 0 then return setup_failed(st, points and "points: " or "grid: ") end
  local fstar, xstar = core.optnum(opts, 5, FNAME, "fstar", nil), nil
  if opts.xstar ~= nil then
    xstar = vec.tovec(opts.xstar, 5, FNAME)
    if xstar.n ~= x.n then return nil, "xstar must have as many entries as x0", "EINVAL", true end
  end
  st = C.ms_sweep_target(sw.ptr, xstar and xstar.x or nil, fstar and ffi.new("double[1]", fstar) or nil)
  if st ~= 0 then return setup_failed(st, "") end

  if report ~= nil then o.progress = progress end
  local outer = reporting
  reporting = report
  local ok, res = pcall(core.call_long, C.ms_sweep_run, sw.ptr, o)
  reporting = outer
  if not ok then error(res, 0) end
  if res ~= 0 then return core.failed(res) end
  return sw
end
-- Never compiled: the engine reads x0 through the sweep during the run,
-- and only an interpreted frame keeps the vector alive that long.
jit.off(sweep_run)
M.sweep_run = core.protect(sweep_run)

local function column(n, get)
  local t = {}
  for k = 0, n - 1 do t[k + 1] = get(k) end
  return t
end

--- native.sweep_data(sw [, columns]): see l_sweep.c.
M.sweep_data = core.protect(function(sw, columns)
  local s = checksweep(sw, "sweep_data")
  if s == nil or columns_of[sw] then return columns_of[sw] end
  local n = tonumber(C.ms_sweep_count(s))
  local d = {total = tonumber(C.ms_sweep_total(s)), first = tonumber(C.ms_sweep_first(s)) + 1,
             count = n, fast = C.ms_sweep_was_fast(s) ~= 0, threads = C.ms_sweep_threads(s),
             seconds = C.ms_sweep_seconds(s), axes = {}}
  if not columns then return d end
  local first = C.ms_sweep_first(s)
  for a = 0, tonumber(C.ms_sweep_naxes(s)) - 1 do
    d.axes[a + 1] = column(n, function(k) return C.ms_sweep_value(s, first + k, a) end)
  end
  local r = C.ms_sweep_results(s)
  d.loss = column(n, function(k) return r[k].loss end)
  d.diverged = column(n, function(k) return tonumber(r[k].diverged) end)
  local measures = C.ms_sweep_measures(s)
  if bit.band(measures, C.MS_MEASURE_RATE) ~= 0 then d.rate = column(n, function(k) return r[k].rate end) end
  if bit.band(measures, C.MS_MEASURE_STEPS) ~= 0 then d.steps = column(n, function(k) return r[k].steps end) end
  columns_of[sw] = d
  return d
end)

core.kind("sweep", Sweep.ctype, nil, close)
core.kinds.sweep.csv = function(sw, path, header)
  local s = checksweep(sw, "write_csv")
  if s == nil then core.argerror(1, "write_csv", "sweep has been closed") end
  -- call_long: millions of rows take seconds
  local st = core.call_long(C.ms_sweep_write_csv, s, path, header and 1 or 0)
  if st ~= 0 then return core.failed(st) end
  return true
end

return M
