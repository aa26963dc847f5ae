--- momsandbox.ffi.sweep: ms.sweep{objective =, rule =, x0 =, grid = {...},
-- ...} under LuaJIT -- a rule run at every point of a grid of
-- hyper-parameters by the engine, and the result: points, columns, the
-- best point, CSV, heat maps.  Nothing in Lua: the runs use every core;
-- a rule, objective or schedule written in Lua makes them all run on the
-- calling thread, calling back.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local objective = require "momsandbox.ffi.objective"
local rule = require "momsandbox.ffi.rule"

local C = core.C
local M = {}

local Sweep = core.handle_type("ms_ffi_sweep", "ms_sweep", "momsandbox.sweep", C.ms_sweep_free, "sweep")

-- What a result remembers besides the engine's: objective, rule (which
-- owns the schedules the sweep uses), measures, label.
local about = setmetatable({}, {__mode = "k"})

M.is = Sweep.is

local MEASURES = {"loss", "rate", "steps"}
local BITS = {loss = C.MS_MEASURE_LOSS, rate = C.MS_MEASURE_RATE, steps = C.MS_MEASURE_STEPS}

------------------------------------------------------------ progress bar

-- Bars by callback context: one callback serves every sweep.
local bars, last_id = setmetatable({}, {__mode = "v"}), 0

-- "sweep  42% [############                ] 1050/2500 points, 0:03 left",
-- redrawn in place; only for sweeps that last more than half a second.
local function draw(b, done, total, seconds)
  if not b.show or (seconds < 0.5 and not b.drawn) or total == 0 then return end
  local WIDTH = 30
  local filled = math.floor(WIDTH * done / total)
  local line = ("\rsweep %3d%% [%s%s] %d/%d points"):format(math.floor(100 * done / total),
    ("#"):rep(filled), (" "):rep(WIDTH - filled), done, total)
  if done == total then
    line = line .. (" in %.1f s\n"):format(seconds)
  elseif done > 0 then
    local left = math.floor(seconds * (total - done) / done + 0.5)
    line = line .. (", %d:%02d left "):format(math.floor(left / 60), left % 60)
  end
  io.stderr:write(line)
  io.stderr:flush()
  b.drawn = true
end

local progress = ffi.cast("ms_progress_fn", function(ctx, done, total, seconds)
  return core.callback_status(draw, bars[tonumber(ffi.cast("intptr_t", ctx))],
                              tonumber(done), tonumber(total), seconds)
end)

----------------------------------------------------------------- options

local fname = "sweep"

local function required(opts, key, what)
  local v = opts[key]
  if v == nil then core.argerror(1, fname, ("option '%s' (%s) is required"):format(key, what)) end
  return v
end

local function grid_error()
  core.argerror(1, fname, "grid: " .. core.last_error())
end

local function numfield(t, key, axis)
  if type(t[key]) ~= "number" then
    core.argerror(1, fname, ("grid.%s: '%s' must be a number, got %s"):format(axis, key, type(t[key])))
  end
  return t[key]
end

--- Axis name from v: a number, a list of numbers, or a range {from =,
-- to =, n =, log = false}.
local function add_axis(s, name, v)
  local st
  if type(v) == "number" then
    st = C.ms_sweep_axis(s, name, ffi.new("double[1]", v), 1)
  elseif type(v) == "table" and v.from ~= nil then
    local from, to = numfield(v, "from", name), numfield(v, "to", name)
    if type(v.n) ~= "number" or not core.is_integer(v.n) then
      core.argerror(1, fname, ("grid.%s: 'n' (the number of values) must be an integer"):format(name))
    end
    for key in pairs(v) do
      if key ~= "from" and key ~= "to" and key ~= "n" and key ~= "log" then
        core.argerror(1, fname, ("grid.%s: a range takes from, to, n and log"):format(name))
      end
    end
    st = C.ms_sweep_range(s, name, from, to, v.n, v.log and 1 or 0)
  elseif type(v) == "table" or vec.is(v) then
    local values = vec.tovec(v, 1, fname)
    st = C.ms_sweep_axis(s, name, values.x, values.n)
  else
    core.argerror(1, fname, ("grid.%s must be a number, a list of numbers or {from =, to =, n =}, got %s"):format(
                  name, type(v)))
  end
  if st ~= 0 then grid_error() end
end

--- The names a sweep of the rule takes: its hyper-parameters, then scale.
local function axis_names(r)
  local cls, names = C.ms_rule_class_of(r), {}
  for i = 0, cls.nhyper - 1 do names[#names + 1] = ffi.string(cls.hyper[i].name) end
  names[#names + 1] = "scale"
  return names, cls
end

local function checkname(r, key, where)
  local names, cls = axis_names(r)
  for _, name in ipairs(names) do
    if key == name then return end
  end
  names[#names] = "or scale"
  core.argerror(1, fname, ("%s: %s has no hyper-parameter '%s' (it takes %s)"):format(
                where, ffi.string(cls.name), tostring(key), table.concat(names, ", ")))
end

--- The axes in the rule's order of its hyper-parameters, then scale.
local function add_grid(s, r, grid)
  if type(grid) ~= "table" then core.argerror(1, fname, "grid must be a table {name = values}") end
  for key in pairs(grid) do checkname(r, key, "grid") end
  for _, name in ipairs((axis_names(r))) do
    if grid[name] ~= nil then add_axis(s, name, grid[name]) end
  end
end

--- points = {{lr = .., beta = ..}, ...}: every point names the same
-- parameters.
local function add_points(s, r, points)
  if type(points) ~= "table" then core.argerror(1, fname, "points must be a list of tables") end
  if #points == 0 then core.argerror(1, fname, "points must not be empty") end
  if type(points[1]) ~= "table" then core.argerror(1, fname, "points[1] must be a table") end
  for key in pairs(points[1]) do checkname(r, key, "points[1]") end
  local names = {}
  for _, name in ipairs((axis_names(r))) do
    if points[1][name] ~= nil then names[#names + 1] = name end
  end
  local values = vec.alloc(#points * #names)
  for k, p in ipairs(points) do
    if type(p) ~= "table" then core.argerror(1, fname, ("points[%d] must be a table"):format(k)) end
    local keys = 0
    for _ in pairs(p) do keys = keys + 1 end
    for a, name in ipairs(names) do
      local v = tonumber(p[name])
      if v == nil then
        core.argerror(1, fname, ("points[%d].%s must be a number, got %s (every point names the same " ..
                                 "parameters)"):format(k, name, type(p[name])))
      end
      values.x[(k - 1) * #names + a - 1] = v
    end
    if keys ~= #names then
      core.argerror(1, fname, ("points[%d] names other parameters than points[1]"):format(k))
    end
  end
  local cnames = ffi.new("const char *[?]", #names, names)
  if C.ms_sweep_points(s, cnames, #names, values.x, #points) ~= 0 then
    core.argerror(1, fname, "points: " .. core.last_error())
  end
end

--- measure = "rate" or {"loss", "rate", ...}: the bits, and the list of
-- names (the first is the one heat maps show).
local function measures(opts)
  local m = opts.measure == nil and "loss" or opts.measure
  if type(m) == "string" then m = {m} end
  if type(m) ~= "table" or #m == 0 then
    core.argerror(1, fname, "measure must be 'loss', 'rate' or 'steps', or a list of them")
  end
  local bits, list = 0, {}
  for i, name in ipairs(m) do
    if BITS[name] == nil then
      core.argerror(1, fname, ("measure must be 'loss', 'rate' or 'steps', got '%s'"):format(tostring(name)))
    end
    bits, list[i] = bit.bor(bits, BITS[name]), name
  end
  return bits, list
end

local function shard(opts, o)
  local sh = opts.shard
  if sh == nil then return end
  local i, n = type(sh) == "table" and sh[1], type(sh) == "table" and sh[2]
  if not (type(i) == "number" and type(n) == "number" and core.is_integer(i) and core.is_integer(n) and
          n >= 1 and i >= 1 and i <= n) then
    core.argerror(1, fname, "shard must be {i, n}: part i of n, 1 <= i <= n")
  end
  o.shard, o.shards = i - 1, n
end

local outbox = ffi.new("ms_sweep *[1]")

--- ms.sweep{objective =, rule =, x0 =, grid = {...} or points = {...},
--           steps = 100, measure = "loss", tol = 1e-6, xstar =, fstar =,
--           threads = 0, shard = {i, n}, progress =, fast = true}
local function sweep(opts)
  core.checkoptions(opts, 1, fname, {"objective", "rule", "x0", "grid", "points", "steps", "measure",
                                     "tol", "xstar", "fstar", "threads", "shard", "progress", "fast"})
  local obj = objective.check(required(opts, "objective", "an ms.objective"), 1, fname)
  local r = required(opts, "rule", "a rule, or the name of a built-in one")
  local x0 = vec.tovec(required(opts, "x0", "the starting point"), 1, fname)
  local st
  if type(r) == "string" then   -- rule = "momentum": the class's defaults
    local cls = C.ms_rule_class_find(r)
    if cls == nil then core.argerror(1, fname, ("no built-in rule '%s'"):format(r)) end
    local defaults = ffi.new("ms_rule *[1]")
    core.check(C.ms_rule_new(cls, defaults))
    st = C.ms_sweep_new(obj.ptr, defaults[0], x0.x, x0.n, outbox)
    C.ms_rule_free(defaults[0])
  else
    st = C.ms_sweep_new(obj.ptr, rule.check(r, 1, fname).ptr, x0.x, x0.n, outbox)
  end
  if st ~= 0 then core.argerror(1, fname, core.last_error()) end
  local res = Sweep.own(outbox[0])
  local s, defaults = res.ptr, C.ms_sweep_rule(res.ptr)

  if (opts.grid ~= nil) == (opts.points ~= nil) then
    core.argerror(1, fname, opts.grid ~= nil and "give grid or points, not both"
                                              or "option 'grid' (or 'points') is required")
  end
  if opts.grid ~= nil then add_grid(s, defaults, opts.grid) else add_points(s, defaults, opts.points) end

  local o = ffi.new("ms_sweep_opts")
  C.ms_sweep_opts_init(o)
  o.steps = core.optint(opts, 1, fname, "steps", tonumber(o.steps))
  local list
  o.measures, list = measures(opts)
  o.tol = core.optnum(opts, 1, fname, "tol", o.tol)
  o.threads = core.optint(opts, 1, fname, "threads", 0)
  if o.threads < 0 or o.threads > 1024 then core.argerror(1, fname, "threads must be in [0, 1024]") end
  o.fast = core.optbool(opts, 1, fname, "fast", true)
  shard(opts, o)
  last_id = last_id + 1
  local bar = {show = core.optbool(opts, 1, fname, "progress", C.ms_isatty(2) ~= 0), drawn = false}
  bars[last_id] = bar
  o.progress, o.progress_ctx = progress, ffi.cast("void *", last_id)
  local fstar = core.optnum(opts, 1, fname, "fstar", 0 / 0)
  local xstar
  if opts.xstar ~= nil then
    xstar = vec.tovec(opts.xstar, 1, fname)
    if xstar.n ~= x0.n then core.argerror(1, fname, "xstar must have as many entries as x0") end
  end
  if C.ms_sweep_target(s, xstar and xstar.x or nil, fstar == fstar and ffi.new("double[1]", fstar) or nil) ~= 0 then
    core.argerror(1, fname, core.last_error())
  end
  about[res] = {objective = opts.objective, rule = opts.rule, measures = list,
                schedules = type(r) ~= "string" and rule.schedules(rule.check(r, 1, fname)) or nil,
                label = type(r) == "string" and r or rule.label(rule.check(r, 1, fname))}

  st = core.call_long(C.ms_sweep_run, s, o)
  if bar.drawn and st ~= 0 then io.stderr:write("\n") end
  if st ~= 0 then Sweep.release(res) end
  core.check(st)
  return res
end
-- Never compiled: the engine reads x0 through the sweep during the run,
-- and only an interpreted frame keeps the vector alive that long.
jit.off(sweep)
M.run = core.protect(sweep)

----------------------------------------------------------------- results

local function count(res)
  return tonumber(C.ms_sweep_count(res.ptr))
end

local function measured(r, m)
  return m == "loss" and r.loss or m == "rate" and r.rate or r.steps
end

--- The measure named by m (default: the first measured); an error when
-- the sweep did not measure it.
local function checkmeasure(res, m, arg, name)
  if m == nil then m = about[res].measures[1] end
  if BITS[m] == nil then
    core.argerror(arg, name, ("invalid option '%s'"):format(tostring(m)))
  end
  if bit.band(C.ms_sweep_measures(res.ptr), BITS[m]) == 0 then
    core.argerror(arg, name, "the sweep did not measure " .. m)
  end
  return m
end

--- Point k (0-based in this result): {lr =, beta =, loss =, ..., diverged = step or false}
local function point(res, k)
  local s = res.ptr
  local r = C.ms_sweep_results(s)[k]
  local p = {}
  for a = 0, tonumber(C.ms_sweep_naxes(s)) - 1 do
    p[ffi.string(C.ms_sweep_axis_name(s, a))] = C.ms_sweep_value(s, C.ms_sweep_first(s) + k, a)
  end
  for _, m in ipairs(MEASURES) do
    if bit.band(C.ms_sweep_measures(s), BITS[m]) ~= 0 then p[m] = measured(r, m) end
  end
  local diverged = tonumber(r.diverged)
  p.diverged = diverged ~= 0 and diverged
  return p
end

local function axis_index(s, name)
  for a = 0, tonumber(C.ms_sweep_naxes(s)) - 1 do
    if ffi.string(C.ms_sweep_axis_name(s, a)) == name then return a end
  end
end

local methods = {}

--- res:column(name): an axis, a measure or "diverged" (0: it did not) over
-- the points, as a table.
function methods.column(res, name)
  if type(name) ~= "string" then core.typeerror(2, "column", "string", name) end
  local s, t = res.ptr, {}
  local a = axis_index(s, name)
  local m = a == nil and name ~= "diverged" and checkmeasure(res, name, 2, "column")
  local results = C.ms_sweep_results(s)
  for k = 0, count(res) - 1 do
    if a then t[k + 1] = C.ms_sweep_value(s, C.ms_sweep_first(s) + k, a)
    elseif m then t[k + 1] = measured(results[k], m)
    else t[k + 1] = tonumber(results[k].diverged) end
  end
  return t
end

--- The values of axis a for a figure: log10 of them for a log range.
local function axis_values(s, a)
  local log, t = C.ms_sweep_axis_log(s, a) ~= 0, {}
  for k = 0, tonumber(C.ms_sweep_axis_len(s, a)) - 1 do
    local v = C.ms_sweep_axis_value(s, a, k)
    t[k + 1] = log and math.log10(v) or v
  end
  return t
end

--- res:matrix(measure): x (axis 1), y (axis 2) and z with z[i][j] the
-- measure at (x[j], y[i]) -- ms.plot.heatmap's shape.  Needs the whole of
-- a grid of two axes; a log range gives log10 of its values.
function methods.matrix(res, m)
  local s = res.ptr
  m = checkmeasure(res, m, 2, "matrix")
  if C.ms_sweep_naxes(s) ~= 2 or C.ms_sweep_axis_len(s, 0) == 0 then
    core.failure("a matrix needs a grid of two axes")
  end
  if C.ms_sweep_count(s) ~= C.ms_sweep_total(s) then core.failure("a matrix needs the whole grid, not a shard") end
  local nx, ny = tonumber(C.ms_sweep_axis_len(s, 0)), tonumber(C.ms_sweep_axis_len(s, 1))
  local results, z = C.ms_sweep_results(s), {}
  for i = 0, ny - 1 do
    z[i + 1] = {}
    for j = 0, nx - 1 do z[i + 1][j + 1] = measured(results[i * nx + j], m) end
  end
  return axis_values(s, 0), axis_values(s, 1), z
end

--- res:heatmap{measure =, log = false, file =, ...}: ms.plot.heatmap of a
-- measure over the two axes (log = true: log10 of it); the other options
-- go to ms.plot.heatmap.
function methods.heatmap(res, opts)
  opts = opts == nil and {} or core.checktable(opts, 2, "heatmap")
  local m = checkmeasure(res, opts.measure, 3, "heatmap")
  local plot_opts = {}
  for k, v in pairs(opts) do
    if k ~= "measure" and k ~= "log" then plot_opts[k] = v end
  end
  local x, y, z = methods.matrix(res, m)
  if opts.log then
    for _, row in ipairs(z) do
      for j = 1, #row do row[j] = math.log10(row[j]) end
    end
  end
  plot_opts.x, plot_opts.y, plot_opts.z = x, y, z
  local s = res.ptr
  for a, label in ipairs{"xlabel", "ylabel"} do
    if plot_opts[label] == nil then
      local name = ffi.string(C.ms_sweep_axis_name(s, a - 1))
      plot_opts[label] = C.ms_sweep_axis_log(s, a - 1) ~= 0 and "log10 " .. name or name
    end
  end
  if plot_opts.cblabel == nil then plot_opts.cblabel = opts.log and "log10 " .. m or m end
  return require("momsandbox.plot").heatmap(plot_opts)
end

--- res:best(measure): the point with the smallest measure among those
-- that did not diverge, and its index; nothing when there is none.
function methods.best(res, m)
  m = checkmeasure(res, m, 2, "best")
  local results, best = C.ms_sweep_results(res.ptr), nil
  for k = 0, count(res) - 1 do
    local v = measured(results[k], m)
    if results[k].diverged == 0 and v == v and (best == nil or v < measured(results[best], m)) then
      best = k
    end
  end
  if best == nil then return end
  return point(res, best), best + 1
end

--- res:csv(path, {header = (first shard only)}): the parts of a sharded
-- sweep concatenate into the whole sweep's file.
function methods.csv(res, path, opts)
  path = core.checkpath(path, 2, "csv")
  local header = C.ms_sweep_first(res.ptr) == 0
  if opts ~= nil then
    core.checkoptions(opts, 3, "csv", {"header"})
    header = core.optbool(opts, 3, "csv", "header", header)
  end
  -- call_long: millions of rows take seconds
  local st = core.call_long(C.ms_sweep_write_csv, res.ptr, path, header and 1 or 0)
  if st ~= 0 then core.failure(core.last_error()) end
  return res
end

for name, fn in pairs(methods) do methods[name] = core.protect(fn) end

local function diverged(res)
  local results, n = C.ms_sweep_results(res.ptr), 0
  for k = 0, count(res) - 1 do
    if results[k].diverged ~= 0 then n = n + 1 end
  end
  return n
end

local fields = {
  axes = function(res)
    local t = {}
    for a = 0, tonumber(C.ms_sweep_naxes(res.ptr)) - 1 do t[a + 1] = ffi.string(C.ms_sweep_axis_name(res.ptr, a)) end
    return t
  end,
  total = function(res) return tonumber(C.ms_sweep_total(res.ptr)) end,
  first = function(res) return tonumber(C.ms_sweep_first(res.ptr)) + 1 end,
  fast = function(res) return C.ms_sweep_was_fast(res.ptr) ~= 0 end,
  threads = function(res) return C.ms_sweep_threads(res.ptr) end,
  seconds = function(res) return C.ms_sweep_seconds(res.ptr) end,
  diverged = diverged,
}

Sweep.check_methods(methods)

ffi.metatype(Sweep.ctype, {
  __index = function(res, key)
    if type(key) == "number" then
      if not core.is_integer(key) then
        error(core.argmsg(2, "index", "number has no integer representation"), 2)
      end
      local n = count(res)
      local i = key < 0 and key + n + 1 or key
      if i < 1 or i > n then
        error(core.argmsg(2, "index", ("point %d out of range (sweep of %d)"):format(i, n)), 2)
      end
      return point(res, i - 1)
    end
    if methods[key] then return methods[key] end
    if fields[key] then return fields[key](res) end
    local info = about[res]
    return info and info[key]
  end,
  __len = count,
  __tostring = function(res)
    local s, axes = res.ptr, {}
    for a = 0, tonumber(C.ms_sweep_naxes(s)) - 1 do
      local len = tonumber(C.ms_sweep_axis_len(s, a))
      axes[a + 1] = ffi.string(C.ms_sweep_axis_name(s, a)) .. (len > 0 and (" (%d)"):format(len) or "")
    end
    local threads = C.ms_sweep_threads(s)
    return ("sweep of %s over %s: %d of %d points, %s loop, %d thread%s, %.3g s; %d diverged"):format(
      about[res].label, table.concat(axes, " x "), count(res), tonumber(C.ms_sweep_total(s)),
      C.ms_sweep_was_fast(s) ~= 0 and "vectorised" or "general", threads, threads == 1 and "" or "s",
      C.ms_sweep_seconds(s), diverged(res))
  end,
})

return M
