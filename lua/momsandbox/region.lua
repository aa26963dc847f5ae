--- momsandbox.region: ms.analysis.region{rule =, x =, y =, grid =, lambda =
-- or f =}: the spectral radius of a linear rule over a grid of two of its
-- hyper-parameters -- Distill's region map for any rule -- computed by the
-- engine (ms_rule_region), and the result as sweep-like data: points,
-- columns, matrix, heatmap, best (grid.lua, shared with ms.sweep), csv.
local native = require "momsandbox.native"
local check = require "momsandbox.check"
local grid = require "momsandbox.grid"
local theory = require "momsandbox.theory"

local FNAME = "region"
local KNOWN = {"f", "grid", "lambda", "rule", "t", "x", "y"}
local MEASURES = {names = {"radius"}, text = "'radius'"}

local function bad(fmt, ...)
  check.argerror(1, FNAME, fmt:format(...))
end

--- The values of axis name: a list of numbers or {from =, to =, n =, log =}.
local function axis(name, v)
  if type(v) ~= "table" and native.kind(v) ~= "vec" then
    bad("grid.%s must be a list of numbers or {from =, to =, n =, log =}, got %s", name, check.typename(v))
  end
  local r = grid.range(v, name, FNAME)
  if r then   -- a sweep's checks and values
    if r.n < 1 or r.n > 1e6 then bad("grid.%s: 'n' (the number of values) must be an integer in [1, 1e6]", name) end
    local values, msg = native.range_values("grid." .. name, r.from, r.to, r.n, r.log)
    if values == nil then bad("%s", msg) end
    return values, r.log
  end
  local values = check.vector(v, 1, FNAME, "grid." .. name)
  values = native.kind(values) == "vec" and values:totable() or values
  if #values == 0 then bad("grid.%s must not be empty", name) end
  return values, false
end

--- The data of a region for method fname (a self error for another value).
local about = setmetatable({}, {__mode = "k"})
local function data(reg, fname)
  local d = about[reg]
  if d == nil then check.selferror(fname, "momsandbox.region", reg) end
  return d.d, d.info
end

local methods = grid.methods(data)

--- reg:csv(path): x, y, radius, one row a point.
function methods.csv(reg, path)
  local d, info = data(reg, "csv")
  path = check.path(path, 1, "csv")
  local rows = {{info.axes[1].name, info.axes[2].name, "radius"}}
  for k = 1, d.count do rows[k + 1] = {d.axes[1][k], d.axes[2][k], d.radius[k]} end
  require("momsandbox.util").csv(path, rows)
  return reg
end

for name, fn in pairs(methods) do methods[name] = check.protect(fn) end

local mt = {
  methods = methods,
  __index = check.protect(function(reg, key)
    if methods[key] then return methods[key] end
    local d, info = data(reg, "__index")
    if type(key) ~= "number" then return info.fields[key] end
    return grid.index(d, info, key)
  end),
  __len = check.protect(function(reg) return (data(reg, "__len").count) end),
  __tostring = check.protect(function(reg)
    local _, info = data(reg, "__tostring")
    return ("region of %s over %s (%d) x %s (%d): radius %s to %s"):format(info.fields.label,
      info.axes[1].name, info.axes[1].n, info.axes[2].name, info.axes[2].n,
      native.format(info.fields.min), native.format(info.fields.max))
  end),
}

--- ms.analysis.region{...}; hessian(f, n, fname) gives the eigenvalues of
-- a quadratic's Hessian (analysis.lua's one way to ask an objective).
return function(opts, hessian)
  check.options(opts, 1, FNAME, KNOWN)
  local r = rawget(opts, "rule")
  if r == nil then bad("option 'rule' (a linear rule) is required") end
  if not theory.is_rule(r) then bad("rule must be a momsandbox.rule, got %s", check.typename(r)) end
  local xname, yname = rawget(opts, "x"), rawget(opts, "y")
  for _, kv in ipairs{{"x", xname}, {"y", yname}} do
    if type(kv[2]) ~= "string" then
      bad("option '%s' must be the name of a hyper-parameter, got %s", kv[1], check.typename(kv[2]))
    end
  end
  if xname == yname then bad("x and y are both %s", xname) end
  local g = rawget(opts, "grid")
  if type(g) ~= "table" then bad("option 'grid' must be a table {%s = values, %s = values}", xname, yname) end
  local other = check.unknown(g, {xname, yname})
  if other ~= nil then bad("grid.%s: not x (%s) nor y (%s)", check.keyname(other), xname, yname) end
  for _, name in ipairs{xname, yname} do
    if rawget(g, name) == nil then bad("grid.%s (the values of %s) is required", name, name) end
  end
  local xs, xlog = axis(xname, rawget(g, xname))
  local ys, ylog = axis(yname, rawget(g, yname))
  local lambda, f = rawget(opts, "lambda"), rawget(opts, "f")
  if (lambda == nil) == (f == nil) then bad("give lambda (a number or a list) or f (a quadratic), one of them") end
  local lambdas
  if f ~= nil then
    lambdas = hessian(f, 1, FNAME)
  else
    lambdas = type(lambda) == "number" and {lambda} or check.vector(lambda, 1, FNAME, "lambda")
    lambdas = native.kind(lambdas) == "vec" and lambdas:totable() or lambdas
    if #lambdas == 0 then bad("lambda must not be empty") end
    for i, l in ipairs(lambdas) do
      if l ~= l or l == math.huge or l == -math.huge then
        bad("lambda%s must be a finite number, got %s", type(lambda) == "number" and "" or ("[%d]"):format(i),
            native.format(l))
      end
    end
  end
  local t = theory.step({t = rawget(opts, "t")}, 1, FNAME)
  local radius, msg = native.analysis("rule_region", r, check.vec(lambdas, 1, FNAME), t, xname,
                                      check.vec(xs, 1, FNAME), yname, check.vec(ys, 1, FNAME))
  if radius == nil then check.argerror(1, FNAME, msg) end
  radius = radius:totable()
  local nx, ny = #xs, #ys
  local d = {count = nx * ny, total = nx * ny, axes = {{}, {}}, radius = radius, diverged = {}}
  local lo, hi = math.huge, -math.huge
  for i = 1, ny do
    for j = 1, nx do
      local k = (i - 1) * nx + j
      d.axes[1][k], d.axes[2][k], d.diverged[k] = xs[j], ys[i], 0
      lo, hi = math.min(lo, radius[k]), math.max(hi, radius[k])
    end
  end
  local info = {axes = {{name = xname, n = nx, log = xlog}, {name = yname, n = ny, log = ylog}},
                measures = {"radius"}, known = MEASURES, kind = "region", cols = d,
                fields = {rule = r, label = tostring(r), lambda = lambdas, x = xname, y = yname,
                          min = lo, max = hi, t = t}}
  -- a table under Lua 5.4; LuaJIT's tables ignore __len: a proxy there
  local reg
  if newproxy then
    reg = newproxy(true)
    for k, v in pairs(mt) do getmetatable(reg)[k] = v end
  else
    reg = setmetatable({}, mt)
  end
  about[reg] = {d = d, info = info}
  return reg
end
