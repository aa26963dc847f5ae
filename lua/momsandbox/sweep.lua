--- ms.sweep{objective =, rule =, x0 =, grid = {...} or points = {...}, ...}:
-- a rule run at every point of a grid of hyper-parameters, and the result
-- as plain data: points, columns, the best point, CSV, heat maps.  The
-- runs are the engine's (native.sweep_run: every core when nothing calls
-- back into Lua); the options, messages and presentation are here, the
-- same under Lua 5.4 and LuaJIT.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local FNAME = "sweep"
local MEASURES = {loss = 1, rate = 2, steps = 4}   -- the engine's MS_MEASURE_* bits
local KNOWN = {"objective", "rule", "x0", "grid", "points", "steps", "measure", "tol", "xstar",
               "fstar", "threads", "shard", "progress", "fast"}

-- What a result remembers besides the engine's: objective, rule,
-- measures, label.  Weak keys: the values never reference their key.
local about = setmetatable({}, {__mode = "k"})

local tointeger = math.tointeger or function(x) return x end
-- C's log10 in both (LuaJIT's math.log(x, 10) is log2(x) / log2(10)): the
-- same heat map, bit for bit.
local log10 = math.log10 or function(x) return math.log(x, 10) end

local function bad(fmt, ...)
  check.argerror(1, FNAME, fmt:format(...))
end

local function keyname(k)
  return type(k) == "number" and native.format(k) or tostring(k)
end

----------------------------------------------------------------- options

local function vector(v, what)
  return check.vector(v, 1, FNAME, what)
end

--- A table whose keys must be axes of the rule: the smallest other key is
-- the error (pairs' order differs between interpreters).
local function checknames(t, class, names, where)
  local known, wrong = {}, nil
  for _, name in ipairs(names) do known[name] = true end
  for key in next, t do
    if not known[key] and (wrong == nil or keyname(key) < keyname(wrong)) then wrong = key end
  end
  if wrong ~= nil then
    local list = {}
    for i = 1, #names - 1 do list[i] = names[i] .. ", " end
    bad("%s: %s has no hyper-parameter '%s' (it takes %sor scale)", where, class, keyname(wrong),
        table.concat(list))
  end
end

--- An axis: a number, a list of numbers, or a range {from =, to =, n =, log =}.
local function axis(name, v)
  if type(v) == "number" then return {name = name, values = {v}} end
  if type(v) == "table" and rawget(v, "from") ~= nil then
    for key in next, v do
      if key ~= "from" and key ~= "to" and key ~= "n" and key ~= "log" then
        bad("grid.%s: a range takes from, to, n and log", name)
      end
    end
    for _, key in ipairs{"from", "to"} do
      if type(v[key]) ~= "number" then
        bad("grid.%s: '%s' must be a number, got %s", name, key, check.typename(v[key]))
      end
    end
    if not check.is_integer(v.n) then
      bad("grid.%s: 'n' (the number of values) must be an integer", name)
    end
    return {name = name, from = v.from, to = v.to, n = tointeger(v.n), log = v.log and true or false}
  end
  if type(v) ~= "table" and type(v) ~= "userdata" and type(v) ~= "cdata" then
    bad("grid.%s must be a number, a list of numbers or {from =, to =, n =}, got %s", name,
        check.typename(v))
  end
  return {name = name, values = vector(v, "grid." .. name)}
end

--- The axes in the rule's order of its hyper-parameters, then scale.
local function grid_of(g, class, names)
  if type(g) ~= "table" then bad("grid must be a table {name = values}") end
  checknames(g, class, names, "grid")
  local axes = {}
  for _, name in ipairs(names) do
    if rawget(g, name) ~= nil then axes[#axes + 1] = axis(name, rawget(g, name)) end
  end
  return {axes = axes}
end

--- points = {{lr = .., beta = ..}, ...}: every point names the same
-- parameters; their values in one row-major list.
local function points_of(pts, class, names)
  if type(pts) ~= "table" then bad("points must be a list of tables") end
  local count = check.rawlen(pts)
  if count == 0 then bad("points must not be empty") end
  local first = rawget(pts, 1)
  if type(first) ~= "table" then bad("points[1] must be a table") end
  checknames(first, class, names, "points[1]")
  local used, values = {}, {}
  for _, name in ipairs(names) do
    if rawget(first, name) ~= nil then used[#used + 1] = name end
  end
  for k = 1, count do
    local p = rawget(pts, k)
    if type(p) ~= "table" then bad("points[%d] must be a table", k) end
    for _, name in ipairs(used) do
      local v = rawget(p, name)
      if type(v) ~= "number" then
        bad("points[%d].%s must be a number, got %s (every point names the same parameters)",
            k, name, check.typename(v))
      end
      values[#values + 1] = v
    end
    local keys = 0
    for _ in next, p do keys = keys + 1 end
    if keys ~= #used then bad("points[%d] names other parameters than points[1]", k) end
  end
  return {names = used, values = values, count = count}
end

--- measure = "rate" or {"loss", "rate", ...}: the list (the first is the
-- one heat maps show) and its bits.
local function measures_of(m)
  if m == nil then m = "loss" end
  if type(m) == "string" then m = {m} end
  if type(m) ~= "table" or check.rawlen(m) == 0 then
    bad("measure must be 'loss', 'rate' or 'steps', or a list of them")
  end
  local list, bits, seen = {}, 0, {}
  for i = 1, check.rawlen(m) do
    local name = rawget(m, i)
    if MEASURES[name] == nil then
      bad("measure must be 'loss', 'rate' or 'steps', got '%s'", keyname(name))
    end
    if not seen[name] then bits = bits + MEASURES[name] end
    list[i], seen[name] = name, true
  end
  return list, bits
end

local function shard_of(sh)
  if sh == nil then return 0, 1 end
  local i, n = type(sh) == "table" and rawget(sh, 1), type(sh) == "table" and rawget(sh, 2)
  if not (check.is_integer(i) and check.is_integer(n) and n >= 1 and i >= 1 and i <= n) then
    bad("shard must be {i, n}: part i of n, 1 <= i <= n")
  end
  return tointeger(i - 1), tointeger(n)
end

------------------------------------------------------------ progress bar

-- "sweep  42% [############                  ] 1050/2500 points, 0:03 left",
-- redrawn in place; only for sweeps that last more than half a second.
local function draw(bar, done, total, seconds)
  if (seconds < 0.5 and not bar.drawn) or total == 0 then return end
  local filled = math.floor(30 * done / total)
  local line = ("\rsweep %3d%% [%s%s] %d/%d points"):format(math.floor(100 * done / total),
    ("#"):rep(filled), (" "):rep(30 - filled), done, total)
  if done == total then
    line = line .. (" in %.1f s\n"):format(seconds)
  elseif done > 0 then
    local left = math.floor(seconds * (total - done) / done + 0.5)
    line = line .. (", %d:%02d left "):format(math.floor(left / 60), left % 60)
  end
  io.stderr:write(line)
  io.stderr:flush()
  bar.drawn = true
end

----------------------------------------------------------------- ms.sweep

local function required(opts, key, what)
  local v = opts[key]
  if v == nil then bad("option '%s' (%s) is required", key, what) end
  return v
end

local function run(opts)
  check.options(opts, 1, FNAME, KNOWN)
  local obj = required(opts, "objective", "an ms.objective")
  if check.typename(obj) ~= "momsandbox.objective" then
    bad("objective must be a momsandbox.objective, got %s", check.typename(obj))
  end
  local rule = required(opts, "rule", "a rule, or the name of a built-in one")
  local class, names = native.sweep_names(rule)
  if class == nil then
    if type(rule) == "string" then bad("no built-in rule '%s'", rule) end
    bad("rule must be a momsandbox.rule or the name of a built-in one, got %s",
        check.typename(rule))
  end
  local x0 = vector(required(opts, "x0", "the starting point"), "x0")
  if (opts.grid ~= nil) == (opts.points ~= nil) then
    bad(opts.grid ~= nil and "give grid or points, not both" or "option 'grid' (or 'points') is required")
  end
  local grid = opts.grid ~= nil and grid_of(opts.grid, class, names) or
               points_of(opts.points, class, names)
  local list, bits = measures_of(opts.measure)
  local o = {steps = check.optint(opts, 1, FNAME, "steps", nil), measures = bits,
             tol = check.optnum(opts, 1, FNAME, "tol", nil),
             threads = check.optint(opts, 1, FNAME, "threads", 0),
             fast = check.optbool(opts, 1, FNAME, "fast", true),
             fstar = check.optnum(opts, 1, FNAME, "fstar", nil),
             xstar = opts.xstar ~= nil and vector(opts.xstar, "xstar") or nil}
  if o.threads < 0 or o.threads > 1024 then bad("threads must be in [0, 1024]") end
  o.shard, o.shards = shard_of(opts.shard)
  local show = check.optbool(opts, 1, FNAME, "progress", nil)
  if show == nil then show = require("momsandbox.api").util.isatty(2) end
  local bar = {drawn = false}
  local label = type(rule) == "string" and rule or tostring(rule)   -- before the run changes it
  local ok, sw, msg, _, setup = pcall(native.sweep_run, obj, rule, x0, grid, o,
    show and function(done, total, seconds) draw(bar, done, total, seconds) end or nil)
  if bar.drawn and not (ok and sw) then io.stderr:write("\n") end
  if not ok then error(sw, 0) end   -- a callback's error, or Ctrl-C
  if sw == nil and setup then bad("%s", msg) end
  check.ok(sw, msg)
  about[sw] = {objective = obj, rule = rule, measures = list, label = label}
  return sw
end

----------------------------------------------------------------- results

--- The data of the sweep sw for method fname (with the per-point
-- columns when asked): the native layer keeps them once made.
local function data(sw, fname, columns)
  if native.kind(sw) ~= "sweep" then check.selferror(fname, "momsandbox.sweep", sw) end
  local d = native.sweep_data(sw, columns)
  if d == nil then check.fail(("calling '%s' on bad self (sweep has been closed)"):format(fname)) end
  return d
end

local function measured(sw)
  return (about[sw] or {}).measures or {"loss"}
end

--- The measure m (default: the first measured), for argument n of fname.
local function measure(sw, m, n, fname)
  if m == nil then m = measured(sw)[1] end
  if MEASURES[m] == nil then
    check.argerror(n, fname, ("measure must be 'loss', 'rate' or 'steps', got '%s'"):format(keyname(m)))
  end
  for _, name in ipairs(measured(sw)) do
    if name == m then return m end
  end
  check.argerror(n, fname, "the sweep did not measure " .. m)
end

--- Point k of this result: {lr =, beta =, loss =, ..., diverged = step or false}.
local function point(d, k)
  local p = {}
  for _, a in ipairs(d.axes) do p[a.name] = a.column[k] end
  for name in pairs(MEASURES) do p[name] = d[name] and d[name][k] end
  if d.steps then p.steps = tointeger(p.steps) or p.steps end
  local diverged = d.diverged[k]
  p.diverged = diverged ~= 0 and diverged
  return p
end

--- The values of an axis for a figure: log10 of them for a log range.
local function figure_values(a)
  local t = {}
  for k, v in ipairs(a.values) do t[k] = a.log and log10(v) or v end
  return t
end

local function matrix(sw, m, fname)
  local d = data(sw, fname, true)
  m = measure(sw, m, 1, fname)
  if #d.axes ~= 2 or #d.axes[1].values == 0 then check.fail("a matrix needs a grid of two axes") end
  if d.count ~= d.total then check.fail("a matrix needs the whole grid, not a shard") end
  local x, y, z, col = figure_values(d.axes[1]), figure_values(d.axes[2]), {}, d[m]
  for i = 1, #y do
    local row, base = {}, (i - 1) * #x
    for j = 1, #x do row[j] = col[base + j] end
    z[i] = row
  end
  return x, y, z, d
end

local methods = {}

--- sw:column(name): an axis, a measure or "diverged" (0: it did not) over
-- the points, as a new table.
function methods.column(sw, name)
  local d = data(sw, "column", true)
  if type(name) ~= "string" then check.typeerror(1, "column", "string", name) end
  local src
  for _, a in ipairs(d.axes) do
    if a.name == name and not src then src = a.column end
  end
  if not src and name == "diverged" then src = d.diverged end
  if not src then
    if MEASURES[name] == nil then
      check.argerror(1, "column", ("no axis or measure '%s'"):format(name))
    end
    src = d[measure(sw, name, 1, "column")]
  end
  local t = {}
  for k = 1, d.count do t[k] = src[k] end
  return t
end

--- sw:matrix(measure): x (axis 1), y (axis 2) and z with z[i][j] the
-- measure at (x[j], y[i]) -- ms.plot.heatmap's shape.  Needs the whole of
-- a grid of two axes; a log range gives log10 of its values.
function methods.matrix(sw, m)
  local x, y, z = matrix(sw, m, "matrix")
  return x, y, z
end

--- sw:heatmap{measure =, log = false, file =, ...}: ms.plot.heatmap of a
-- measure over the two axes (log = true: log10 of it); the other options
-- go to ms.plot.heatmap.
function methods.heatmap(sw, opts)
  data(sw, "heatmap")   -- self first
  opts = opts == nil and {} or check.table(opts, 1, "heatmap")
  local m = rawget(opts, "measure")
  local x, y, z, d = matrix(sw, m, "heatmap")
  m = measure(sw, m, 1, "heatmap")
  local log = rawget(opts, "log")
  local plot = {}
  for k, v in next, opts do
    if k ~= "measure" and k ~= "log" then plot[k] = v end
  end
  if log then
    for _, row in ipairs(z) do
      for j = 1, #row do row[j] = log10(row[j]) end
    end
  end
  plot.x, plot.y, plot.z = x, y, z
  for a, key in ipairs{"xlabel", "ylabel"} do
    local axis_ = d.axes[a]
    if plot[key] == nil then plot[key] = (axis_.log and "log10 " or "") .. axis_.name end
  end
  if plot.cblabel == nil then plot.cblabel = (log and "log10 " or "") .. m end
  return require("momsandbox.plot").heatmap(plot)
end

--- sw:best(measure): the point with the smallest measure among those
-- that did not diverge, and its index; nothing when there is none.
function methods.best(sw, m)
  local d = data(sw, "best", true)
  local col, best = d[measure(sw, m, 1, "best")], nil
  for k = 1, d.count do
    local v = col[k]
    if d.diverged[k] == 0 and v == v and (best == nil or v < col[best]) then best = k end
  end
  if best then return point(d, best), best end
end

--- sw:csv(path, {header = (first shard only)}): the parts of a sharded
-- sweep concatenate into the whole sweep's file.
function methods.csv(sw, path, opts)
  local d = data(sw, "csv")
  path = check.path(path, 1, "csv")
  local header = d.first == 1
  if opts ~= nil then
    check.options(opts, 2, "csv", {"header"})
    header = check.optbool(opts, 2, "csv", "header", header)
  end
  check.ok(native.write_csv(sw, path, header))
  return sw
end

for name, fn in pairs(methods) do methods[name] = check.protect(fn) end

local function diverged(d)
  local n = 0
  for k = 1, d.count do
    if d.diverged[k] ~= 0 then n = n + 1 end
  end
  return n
end

local function copy(t)
  local c = {}
  for i, v in ipairs(t) do c[i] = v end
  return c
end

local fields = {
  axes = function(sw)
    local t = {}
    for i, a in ipairs(data(sw, "__index").axes) do t[i] = a.name end
    return t
  end,
  diverged = function(sw) return diverged(data(sw, "__index", true)) end,
  measures = function(sw) return copy(measured(sw)) end,
}
for _, key in ipairs{"total", "first", "fast", "threads", "seconds"} do
  fields[key] = function(sw) return data(sw, "__index")[key] end
end

native.class("sweep", {
  __index = check.protect(function(sw, key)
    if type(key) == "number" then
      local d = data(sw, "__index", true)
      if not check.is_integer(key) then
        check.argerror(1, "__index", "number has no integer representation")
      end
      local i = tointeger(key < 0 and key + d.count + 1 or key)
      if i < 1 or i > d.count then
        check.argerror(1, "__index", ("point %d out of range (sweep of %d)"):format(i, d.count))
      end
      return point(d, i)
    end
    if methods[key] then return methods[key] end
    if fields[key] then return fields[key](sw) end
    data(sw, "__index")
    return (about[sw] or {})[key]
  end),
  __len = check.protect(function(sw) return data(sw, "__len").count end),
  __tostring = check.protect(function(sw)
    local d, axes = data(sw, "__tostring", true), {}
    for i, a in ipairs(d.axes) do
      axes[i] = a.name .. (#a.values > 0 and (" (%d)"):format(#a.values) or "")
    end
    return ("sweep of %s over %s: %d of %d points, %s loop, %d thread%s, %.3g s; %d diverged")
      :format((about[sw] or {}).label or "?", table.concat(axes, " x "), d.count, d.total,
              d.fast and "vectorised" or "general", d.threads, d.threads == 1 and "" or "s",
              d.seconds, diverged(d))
  end),
})

return check.protect(run)
