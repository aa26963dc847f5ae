--- ms.data: data sets from text files (load), from Lua tables (from),
-- d2l's synthetic linear-regression data (synthetic) and the chapter's
-- airfoil set (airfoil).  A data set is a native handle of kind "data"
-- (primitives data_new, data_get, data_info: bindings/lua/l_data.c,
-- bindings/ffi/momsandbox/ffi_data.lua); everything a user reads is here.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local M = {}
local paths = setmetatable({}, {__mode = "k"})   -- data set -> the file it came from
local AIRFOIL = "airfoil_self_noise.dat"

--- The data set d, the self of method fname, live: its examples and
-- features.
local function info(d, fname)
  local n, nf = nil, "momsandbox.data expected, got " .. check.typename(d)
  if native.kind(d) == "data" then n, nf = native.data_info(d) end
  if n == nil then check.fail(("calling '%s' on bad self (%s)"):format(fname, nf)) end
  return n, nf
end

--- The result of data_new: the data set, or the failure -- an argument
-- error of argument n when the engine refused an option (EINVAL).
local function made(fname, n, d, msg, code)
  if d ~= nil then return d end
  if code == "EINVAL" then check.argerror(n, fname, msg) end
  check.fail(msg)
end

local function load(fname, n, path, opts)
  local d = made(fname, n, native.data_new("load", path, opts.header, opts.label,
                                           opts.standardize, opts.rows, opts.max_bytes))
  paths[d] = path
  return d
end

local function loadopts(opts, n, fname)
  local o = {header = check.optbool(opts, n, fname, "header"),   -- nil: the engine's default
             standardize = check.optbool(opts, n, fname, "standardize"),
             rows = check.optint(opts, n, fname, "rows"),
             max_bytes = check.optint(opts, n, fname, "max_bytes"),
             label = opts.label}
  if type(o.label) ~= "string" and o.label ~= nil and not check.is_integer(o.label) then
    check.argerror(n, fname, "label must be a column number (negative: from the end) " ..
                             "or, with a header, a column name")
  end
  return o
end

--- ms.data.load(path [, {header, label, standardize, rows, max_bytes}])
M.load = check.protect(function(path, opts)
  path = check.path(path, 1, "load")
  if opts == nil then opts = {} end
  check.options(opts, 2, "load", {"header", "label", "standardize", "rows", "max_bytes"})
  return load("load", 2, path, loadopts(opts, 2, "load"))
end)

local function opens(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function isdir(path) return opens(path .. "/.") end

--- Where the airfoil file is, or nil and the places looked at:
-- $MOMSANDBOX_DATA (the file, or a folder holding it) when it is set, else
-- the project's own copy (the source tree's data/, or installed).
local function find_airfoil()
  local env, places = os.getenv("MOMSANDBOX_DATA"), {}
  if env and env ~= "" then
    places[1] = isdir(env) and env .. "/" .. AIRFOIL or env
  else
    for i, dir in ipairs(native.data_dirs) do places[i] = dir .. "/" .. AIRFOIL end
  end
  for _, path in ipairs(places) do
    if opens(path) and not isdir(path) then return path end
  end
  return nil, table.concat(places, ", ")
end

--- ms.data.airfoil{path = nil, rows = 1500, standardize = true}: d2l's
-- get_data_ch11 -- all 1503 rows standardised, the first 1500 kept.
M.airfoil = check.protect(function(opts)
  if opts == nil then opts = {} end
  check.options(opts, 1, "airfoil", {"path", "rows", "standardize"})
  local o = {standardize = check.optbool(opts, 1, "airfoil", "standardize", true),
             rows = check.optint(opts, 1, "airfoil", "rows", 1500)}
  if opts.path ~= nil then return load("airfoil", 1, check.path(opts.path, 1, "airfoil"), o) end
  local path, looked = find_airfoil()
  if path == nil then
    check.fail(("%s not found (looked for %s); it is the \"Airfoil Self-Noise\" data set of " ..
                "the UCI Machine Learning Repository " ..
                "(https://archive.ics.uci.edu/dataset/291/airfoil+self+noise): download %s " ..
                "and pass its path, or set MOMSANDBOX_DATA to it or to its folder"):format(
                AIRFOIL, looked, AIRFOIL))
  end
  return load("airfoil", 1, path, o)
end)

local function vec(t) return require("momsandbox.api").vec(t) end

--- The numbers of v -- a ms.vec, or a table of numbers read raw -- stored
-- into out from out[at + 1]; what names v in messages.  Returns how many.
local function numbers(v, what, out, at, fname)
  if type(v) ~= "table" then   -- a live vec knows its numbers
    local ok, t = false, nil
    if native.kind(v) == "vec" then ok, t = pcall(v.totable, v) end
    if not ok then
      check.argerror(1, fname, ("%s must be a ms.vec or a table of numbers, got %s"):format(
                     what, check.typename(v)))
    end
    v = t
  end
  local n = check.rawlen(v)
  for i = 1, n do
    local x = rawget(v, i)
    local num = (type(x) == "number" or type(x) == "string") and tonumber(x) or nil
    if num == nil then
      check.argerror(1, fname, ("%s[%d] is a %s, not a number"):format(what, i, type(x)))
    end
    out[at + i] = num
  end
  return n
end

--- ms.data.from{X = {{...}, ...}, y = {...}}: rows of features (tables
-- or ms.vecs) and their labels.
M.from = check.protect(function(opts)
  local fname = "from"
  check.options(opts, 1, fname, {"X", "y"})
  if opts.y == nil then check.argerror(1, fname, "y (the labels) is required") end
  local y = {}
  local n = numbers(opts.y, "y", y, 0, fname)
  local X = opts.X
  if type(X) ~= "table" then
    check.argerror(1, fname, "X must be a table of rows, got " .. check.typename(X))
  end
  if check.rawlen(X) ~= n then
    check.argerror(1, fname, ("X has %d rows but y has %d labels"):format(check.rawlen(X), n))
  end
  if n == 0 then check.argerror(1, fname, "a data set needs at least one example") end
  local flat = {}
  local d = numbers(rawget(X, 1), "X[1]", flat, 0, fname)
  if d == 0 then check.argerror(1, fname, "X[1] must be a non-empty row of numbers") end
  if d > 2^30 / n then
    check.argerror(1, fname, ("X is too large (%d x %d entries)"):format(n, d))
  end
  for i = 2, n do
    local len = numbers(rawget(X, i), ("X[%d]"):format(i), flat, (i - 1) * d, fname)
    if len ~= d then
      check.argerror(1, fname, ("X[%d] has %d numbers, expected %d as X[1]"):format(i, len, d))
    end
  end
  return made(fname, 1, native.data_new("from", vec(flat), vec(y), n, d))
end)

--- ms.data.synthetic{w = {...}, b = 0, n = 1000, noise = 0.01, seed = 1}:
-- d2l's synthetic_data, y = Xw + b + noise.
M.synthetic = check.protect(function(opts)
  local fname = "synthetic"
  check.options(opts, 1, fname, {"w", "b", "n", "noise", "seed"})
  if opts.w == nil then check.argerror(1, fname, "w (the true weights) is required") end
  local w = {}
  if numbers(opts.w, "w", w, 0, fname) == 0 then
    check.argerror(1, fname, "w must hold at least one weight")
  end
  local b = check.optnum(opts, 1, fname, "b", 0)
  local n = check.optint(opts, 1, fname, "n", 1000)
  if n < 1 then check.argerror(1, fname, "n must be >= 1") end
  local noise = check.optnum(opts, 1, fname, "noise", 0.01)
  local seed = check.optint(opts, 1, fname, "seed", 1)
  return made(fname, 1, native.data_new("synthetic", vec(w), b, noise, n, seed))
end)

---------------------------------------------------------------- methods

--- Example i (1-based, negative from the end) of d, checked.
local function example(d, i, fname)
  local n = info(d, fname)
  i = check.integer(i, 1, fname)
  if i < 0 then i = i + n + 1 end
  if i < 1 or i > n then
    check.argerror(1, fname, ("example %d out of range (%d examples)"):format(i, n))
  end
  return i
end

local methods = {}

--- data:x(i): the features of example i, as a new vector
function methods.x(d, i)
  return (native.data_get(d, example(d, i, "x")))
end

function methods.y(d, i)
  return select(2, native.data_get(d, example(d, i, "y")))
end

--- data:column(j): feature j (1 .. d) or, for j = d + 1, the labels, as
-- a table.
function methods.column(d, j)
  local n, nf = info(d, "column")
  j = check.integer(j, 1, "column")
  if j < 1 or j > nf + 1 then
    check.argerror(1, "column", ("column out of range (1 .. %d; %d is the label)"):format(
                   nf + 1, nf + 1))
  end
  local t = {}
  for i = 1, n do t[i] = native.data_get(d, i, j) end
  return t
end

function methods.labels(d)
  return methods.column(d, select(2, info(d, "labels")) + 1)
end

for name, fn in pairs(methods) do methods[name] = check.protect(fn) end

local fields = {
  n = function(d) return (info(d, "__index")) end,
  features = function(d) return select(2, info(d, "__index")) end,
  mean = function(d) info(d, "__index") return native.data_info(d, "mean") end,
  std = function(d) info(d, "__index") return native.data_info(d, "std") end,
  names = function(d) info(d, "__index") return native.data_info(d, "names") end,
  path = function(d) info(d, "__index") return paths[d] end,
}

native.class("data", {
  methods = methods,   -- what the REPL completes after obj:
  __index = check.protect(function(d, key)
    if type(key) == "number" then   -- data[i]: {x = features, y = label}
      local x, y = native.data_get(d, example(d, key, "__index"))
      return {x = x, y = y}
    end
    if methods[key] then return methods[key] end
    return fields[key] and fields[key](d)
  end),
  __len = check.protect(function(d) return (info(d, "__len")) end),
  -- data{1500 examples, 5 features, standardized, from airfoil_self_noise.dat}
  __tostring = check.protect(function(d)
    local n, nf = info(d, "__tostring")
    return ("data{%d examples, %d features%s%s}"):format(n, nf,
      native.data_info(d, "mean") and ", standardized" or "",
      paths[d] and ", from " .. paths[d] or "")
  end),
})

return M
