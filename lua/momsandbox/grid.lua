--- momsandbox.grid: results over a grid of hyper-parameters as plain data
-- -- points, columns, the matrix of a measure over two axes, its heat map,
-- the best point -- shared by ms.sweep's results and ms.analysis.region's.
-- Each gives its data as (d, info): d.count and d.total points, d.axes[a]
-- the values of axis a at each point, d[measure] a measure at each point,
-- d.diverged (0: it did not); info.axes ({name, n (0: explicit points),
-- log}), info.measures (the first is the default), info.known ({names,
-- text}: what such results may hold) and info.kind ("sweep", "region").
local check = require "momsandbox.check"

local M = {}

local tointeger = math.tointeger or function(x) return x end
-- C's log10 in both (LuaJIT's math.log(x, 10) is log2(x) / log2(10)): the
-- same heat map, bit for bit.
local log10 = math.log10 or function(x) return math.log(x, 10) end

local function known(info, m)
  for _, name in ipairs(info.known.names) do
    if name == m then return true end
  end
  return false
end

--- The range {from =, to =, n =, log =} that v is, as axis name of fname
-- (argument 1): {from, to, n, log}, or nil when v is no range (not a table
-- with the key from).  Checked here: its keys, from and to numbers, n an
-- integer; the rest by its user (the engine for a sweep's, region.lua for
-- the values it computes).
function M.range(v, name, fname)
  if type(v) ~= "table" or rawget(v, "from") == nil then return nil end
  local function bad(fmt, ...)
    check.argerror(1, fname, ("grid.%s: " .. fmt):format(name, ...))
  end
  if check.unknown(v, {"from", "to", "n", "log"}) ~= nil then bad("a range takes from, to, n and log") end
  local r = {from = rawget(v, "from"), to = rawget(v, "to"), n = rawget(v, "n"),
             log = rawget(v, "log") and true or false}
  for _, key in ipairs{"from", "to"} do
    if type(r[key]) ~= "number" then bad("'%s' must be a number, got %s", key, check.typename(r[key])) end
  end
  if not check.is_integer(r.n) then bad("'n' (the number of values) must be an integer") end
  r.n = tointeger(r.n)
  return r
end

--- The measure m (default: the first measured), for argument n of fname.
local function measure(info, m, n, fname)
  m = m == nil and info.measures[1] or m
  if not known(info, m) then
    check.argerror(n, fname, ("measure must be %s, got '%s'"):format(info.known.text, check.keyname(m)))
  end
  for _, name in ipairs(info.measures) do
    if name == m then return m end
  end
  check.argerror(n, fname, ("the %s did not measure %s"):format(info.kind or "sweep", m))
end

--- Point k of this result: {lr =, beta =, loss =, ..., diverged = step or false}.
function M.point(d, info, k)
  local p = {diverged = d.diverged[k] ~= 0 and d.diverged[k]}
  for a, ax in ipairs(info.axes) do p[ax.name] = d.axes[a][k] end
  for _, name in ipairs(info.known.names) do p[name] = d[name] and d[name][k] end
  if d.steps then p.steps = tointeger(p.steps) or p.steps end
  return p
end

--- result[key] for a number key: point key (negative from the end).
function M.index(d, info, key)
  if not check.is_integer(key) then check.argerror(1, "__index", "number has no integer representation") end
  local i = tointeger(key < 0 and key + d.count + 1 or key)
  if i < 1 or i > d.count then
    check.argerror(1, "__index", ("point %d out of range (%s of %d)"):format(i, info.kind or "sweep", d.count))
  end
  return M.point(d, info, i)
end

--- x (axis 1), y (axis 2) and z with z[i][j] the measure at (x[j], y[i]):
-- ms.plot.heatmap's shape; a log range gives log10 of its values.
local function matrix(d, info, m, fname)
  m = measure(info, m, 1, fname)
  local ax = info.axes
  if #ax ~= 2 or ax[1].n == 0 then check.fail("a matrix needs a grid of two axes") end
  if d.count ~= d.total then check.fail("a matrix needs the whole grid, not a shard") end
  local x, y, z, nx = {}, {}, {}, ax[1].n
  for j = 1, nx do x[j] = ax[1].log and log10(d.axes[1][j]) or d.axes[1][j] end
  for i = 1, ax[2].n do
    local row, v = {}, d.axes[2][(i - 1) * nx + 1]
    y[i] = ax[2].log and log10(v) or v
    for j = 1, nx do row[j] = d[m][(i - 1) * nx + j] end
    z[i] = row
  end
  return x, y, z, ax, m
end

--- The methods of results whose data(self, fname, columns) gives (d, info).
function M.methods(data)
  local methods = {}

  --- sw:column(name): an axis, a measure or "diverged" (0: it did not) over
  -- the points, as a new table.
  function methods.column(sw, name)
    local d, info = data(sw, "column", true)
    if type(name) ~= "string" then check.typeerror(1, "column", "string", name) end
    local src = name == "diverged" and d.diverged
    for a = #info.axes, 1, -1 do
      if info.axes[a].name == name then src = d.axes[a] end
    end
    if not src and not known(info, name) then
      check.argerror(1, "column", ("no axis or measure '%s'"):format(name))
    end
    src = src or d[measure(info, name, 1, "column")]
    local t = {}
    for k = 1, d.count do t[k] = src[k] end
    return t
  end

  function methods.matrix(sw, m)
    local d, info = data(sw, "matrix", true)
    local x, y, z = matrix(d, info, m, "matrix")
    return x, y, z
  end

  --- sw:heatmap{measure =, log = false, file =, ...}: ms.plot.heatmap of a
  -- measure over the two axes (log = true: log10 of it); the other options
  -- go to ms.plot.heatmap.
  function methods.heatmap(sw, opts)
    local d, info = data(sw, "heatmap", true)   -- self first
    opts = opts == nil and {} or check.table(opts, 1, "heatmap")
    local plot, log = {}, rawget(opts, "log")
    for k, v in next, opts do
      if k ~= "measure" and k ~= "log" then plot[k] = v end
    end
    local ax, m
    plot.x, plot.y, plot.z, ax, m = matrix(d, info, rawget(opts, "measure"), "heatmap")
    for _, row in ipairs(log and plot.z or {}) do
      for j = 1, #row do row[j] = log10(row[j]) end
    end
    plot.xlabel = plot.xlabel or (ax[1].log and "log10 " or "") .. ax[1].name
    plot.ylabel = plot.ylabel or (ax[2].log and "log10 " or "") .. ax[2].name
    plot.cblabel = plot.cblabel or (log and "log10 " or "") .. m
    return require("momsandbox.plot").heatmap(plot)
  end

  --- sw:best(measure): the point with the smallest measure among those
  -- that did not diverge, and its index; nothing when there is none.
  function methods.best(sw, m)
    local d, info = data(sw, "best", true)
    local col, best = d[measure(info, m, 1, "best")], nil
    for k = 1, d.count do
      if d.diverged[k] == 0 and col[k] == col[k] and (best == nil or col[k] < col[best]) then best = k end
    end
    if best then return M.point(d, info, best), best end
  end

  return methods
end

return M
