--- momsandbox.ffi.data: ms.data under LuaJIT -- data sets from text files
-- (ms.data.load), from Lua tables (ms.data.from), d2l's synthetic
-- linear-regression data (ms.data.synthetic) and the chapter's airfoil set
-- (ms.data.airfoil).
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"

local C = core.C
local M = {}

local Data = core.handle_type("ms_ffi_data", "ms_data", "momsandbox.data", C.ms_data_free, "data")

local AIRFOIL = "airfoil_self_noise.dat"

-- The file each data set came from (a cdata cannot hold Lua values).
local paths = setmetatable({}, {__mode = "k"})

--- The engine data set of the data set at argument arg of fname.
function M.check(d, arg, fname, present)
  if not Data.is(d) then core.typeerror(arg, fname, "momsandbox.data", d, present) end
  return d.ptr
end

M.is = Data.is

local outbox = ffi.new("ms_data *[1]")

--- The data set made by the core constructor call make(out); a bad option
-- (MS_EINVAL) is the fault of argument arg, anything else (a missing or
-- malformed file) is not.
local function new(make, arg, fname, path)
  local st = make(outbox)
  if st == C.MS_EINVAL then core.argerror(arg, fname, core.last_error()) end
  core.check(st)
  local d = Data.own(outbox[0])
  paths[d] = path
  return d
end

--- The file name at argument arg: a string without zero bytes.
local function checkpath(path, arg, fname, present)
  if type(path) ~= "string" then
    core.argerror(arg, fname, ("the path must be a string, got %s"):format(
                  present == false and "no value" or type(path)))
  end
  if path:find("\0", 1, true) then core.argerror(arg, fname, "the path contains a zero byte") end
  return path
end

--- The options of ms.data.load (and airfoil) from the table opts at arg.
local function loadopts(opts, arg, fname, o)
  o.header = core.optbool(opts, arg, fname, "header", o.header ~= 0)
  o.standardize = core.optbool(opts, arg, fname, "standardize", o.standardize ~= 0)
  o.rows = core.optint(opts, arg, fname, "rows", tonumber(o.rows))
  o.max_bytes = core.optint(opts, arg, fname, "max_bytes", o.max_bytes)
  local label = opts.label
  if type(label) == "string" then
    o.label_name = label   -- the options table keeps the string alive
  elseif label ~= nil then
    if type(label) ~= "number" or not core.is_integer(label) then
      core.argerror(arg, fname, "label must be a column number (negative: from the end) " ..
                                "or, with a header, a column name")
    end
    o.label = label
  end
end

local function load(path, arg, fname, o)
  return new(function(out) return C.ms_data_load(path, o, out) end, arg, fname, path)
end

--- ms.data.load(path [, {header, label, standardize, rows, max_bytes}])
M.load = core.protect(function(...)
  local path, opts = ...
  checkpath(path, 1, "load", select("#", ...) >= 1)
  local o = ffi.new("ms_data_opts")
  C.ms_data_opts_init(o)
  if opts ~= nil then
    core.checkoptions(opts, 2, "load", {"header", "label", "standardize", "rows", "max_bytes"})
    loadopts(opts, 2, "load", o)
  end
  return load(path, 2, "load", o)
end)

local function isdir(path)
  local f = io.open(path .. "/.", "rb")
  if f then f:close() end
  return f ~= nil
end

local function isfile(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil and not isdir(path)
end

--- Where the airfoil file is, or nil and the list of the places looked
-- at: $MOMSANDBOX_DATA (the file, or a folder holding it) when it is set,
-- else the project's own copy (the source tree's data/, or installed).
local function find_airfoil()
  local places = {}
  local env = os.getenv("MOMSANDBOX_DATA")
  if env and env ~= "" then
    places[1] = isdir(env) and env .. "/" .. AIRFOIL or env
  else
    for i, dir in ipairs(core.data_dirs) do places[i] = dir .. "/" .. AIRFOIL end
  end
  for _, path in ipairs(places) do
    if isfile(path) then return path end
  end
  return nil, table.concat(places, ", ")
end

--- ms.data.airfoil{path = nil, rows = 1500, standardize = true}: d2l's
-- get_data_ch11 -- all 1503 rows standardised, the first 1500 kept.
M.airfoil = core.protect(function(opts)
  local fname = "airfoil"
  opts = opts == nil and {} or opts
  core.checkoptions(opts, 1, fname, {"path", "rows", "standardize"})
  local o = ffi.new("ms_data_opts")
  C.ms_data_opts_init(o)
  o.standardize = core.optbool(opts, 1, fname, "standardize", true)
  o.rows = core.optint(opts, 1, fname, "rows", 1500)
  if opts.path ~= nil then return load(checkpath(opts.path, 1, fname), 1, fname, o) end
  local path, looked = find_airfoil()
  if not path then
    core.failure(("%s not found (looked for %s); it is the \"Airfoil Self-Noise\" data set of " ..
                  "the UCI Machine Learning Repository " ..
                  "(https://archive.ics.uci.edu/dataset/291/airfoil+self+noise): download %s " ..
                  "and pass its path, or set MOMSANDBOX_DATA to it or to its folder"):format(
                  AIRFOIL, looked, AIRFOIL))
  end
  return load(path, 1, fname, o)
end)

--- Field key of the options opts at arg as a vector (a ms.vec, or a table
-- of numbers converted to one); errors name key.
function M.vectorfield(opts, arg, fname, key)
  local v = opts[key]
  if vec.is(v) then return vec.tovec(v, arg, fname) end
  if type(v) ~= "table" then
    core.argerror(arg, fname, ("%s must be a ms.vec or a table of numbers, got %s"):format(key, type(v)))
  end
  local out = vec.alloc(#v)
  for i = 1, #v do
    local x = tonumber(v[i])
    if x == nil then
      core.argerror(arg, fname, ("%s[%d] is a %s, not a number"):format(key, i, type(v[i])))
    end
    out.x[i - 1] = x
  end
  return out
end

--- Row i of X copied into the d doubles at x.
local function row(r, i, d, x, fname)
  if not vec.is(r) and type(r) ~= "table" then
    core.argerror(1, fname, ("X[%d] must be a table of numbers or a ms.vec, got %s"):format(i, type(r)))
  end
  local len = vec.is(r) and r.n or #r
  if len ~= d then
    core.argerror(1, fname, ("X[%d] has %d numbers, expected %d as X[1]"):format(i, len, d))
  end
  for j = 1, d do
    local v = r[j]
    local num = tonumber(v)
    if num == nil then
      core.argerror(1, fname, ("X[%d][%d] is a %s, not a number"):format(i, j, type(v)))
    end
    x[j - 1] = num
  end
end

--- ms.data.from{X = {{...}, ...}, y = {...}}: rows of features and their
-- labels.
M.from = core.protect(function(opts)
  local fname = "from"
  core.checkoptions(opts, 1, fname, {"X", "y"})
  if opts.y == nil then core.argerror(1, fname, "y (the labels) is required") end
  local y = M.vectorfield(opts, 1, fname, "y")
  local X = opts.X
  if type(X) ~= "table" then core.argerror(1, fname, "X must be a table of rows, got " .. type(X)) end
  local n = #X
  if n ~= y.n then core.argerror(1, fname, ("X has %d rows but y has %d labels"):format(n, y.n)) end
  if n == 0 then core.argerror(1, fname, "a data set needs at least one example") end
  local first = X[1]
  local d = vec.is(first) and first.n or type(first) == "table" and #first or 0
  if d == 0 then core.argerror(1, fname, "X[1] must be a non-empty row of numbers") end
  local rows = vec.alloc(n * d)
  for i = 1, n do row(X[i], i, d, rows.x + (i - 1) * d, fname) end
  return new(function(out) return C.ms_data_new(rows.x, y.x, n, d, out) end, 1, fname)
end)

--- ms.data.synthetic{w = {...}, b = 0, n = 1000, noise = 0.01, seed = 1}:
-- d2l's synthetic_data, y = Xw + b + noise.
M.synthetic = core.protect(function(opts)
  local fname = "synthetic"
  core.checkoptions(opts, 1, fname, {"w", "b", "n", "noise", "seed"})
  if opts.w == nil then core.argerror(1, fname, "w (the true weights) is required") end
  local w = M.vectorfield(opts, 1, fname, "w")
  if w.n == 0 then core.argerror(1, fname, "w must hold at least one weight") end
  local b = core.optnum(opts, 1, fname, "b", 0)
  local n = core.optint(opts, 1, fname, "n", 1000)
  if n < 1 then core.argerror(1, fname, "n must be >= 1") end
  local noise = core.optnum(opts, 1, fname, "noise", 0.01)
  local seed = core.optint(opts, 1, fname, "seed", 1)
  return new(function(out) return C.ms_data_synthetic(w.x, w.n, b, noise, n, core.seed(seed), out) end, 1, fname)
end)

---------------------------------------------------------------- methods

--- The 0-based index of example i (1-based; negative from the end), or an
-- error at the level of the method's caller.
local function example_index(d, i, fname)
  if type(i) ~= "number" or not core.is_integer(i) then
    error(core.argmsg(2, fname, "number has no integer representation"), 3)
  end
  local n = tonumber(C.ms_data_len(d.ptr))
  if i < 0 then i = i + n + 1 end
  if i < 1 or i > n then
    error(core.argmsg(2, fname, ("example %d out of range (%d examples)"):format(i, n)), 3)
  end
  return i - 1
end

local function features(d)
  return tonumber(C.ms_data_features(d.ptr))
end

local methods = {}

--- data:x(i): the features of example i, as a new vector
function methods.x(d, i)
  return vec.copy_of(C.ms_data_row(d.ptr, example_index(d, i, "x")), features(d))
end

function methods.y(d, i)
  return C.ms_data_label(d.ptr, example_index(d, i, "y"))
end

--- data:column(j): feature j (1 .. d) or, for j = d + 1, the labels, as a
-- table.
function methods.column(d, j)
  local nf = features(d)
  if type(j) ~= "number" or not core.is_integer(j) or j < 1 or j > nf + 1 then
    error(core.argmsg(2, "column", ("column out of range (1 .. %d; %d is the label)"):format(nf + 1, nf + 1)), 2)
  end
  local t = {}
  for i = 0, tonumber(C.ms_data_len(d.ptr)) - 1 do
    t[i + 1] = j <= nf and C.ms_data_row(d.ptr, i)[j - 1] or C.ms_data_label(d.ptr, i)
  end
  return t
end

function methods.labels(d)
  return methods.column(d, features(d) + 1)
end

local mean, std = ffi.new("double[1]"), ffi.new("double[1]")

local function standardized(d)
  return C.ms_data_scaling(d.ptr, 0, mean, std) ~= 0
end

--- The d + 1 means (which = "mean") or stds of the columns, or nil when
-- the data set was not standardised.
local function scaling(d, which)
  if not standardized(d) then return nil end
  local t = {}
  for j = 0, features(d) do
    C.ms_data_scaling(d.ptr, j, mean, std)
    t[j + 1] = which == "mean" and mean[0] or std[0]
  end
  return t
end

local function names(d)
  if C.ms_data_name(d.ptr, 0) == nil then return nil end
  local t = {}
  for j = 0, features(d) do t[j + 1] = ffi.string(C.ms_data_name(d.ptr, j)) end
  return t
end

Data.check_methods(methods)

ffi.metatype(Data.ctype, {
  __index = function(d, key)
    if type(key) == "number" then   -- data[i]: {x = features, y = label}
      local i = example_index(d, key, "index")
      return {x = vec.copy_of(C.ms_data_row(d.ptr, i), features(d)), y = C.ms_data_label(d.ptr, i)}
    end
    if methods[key] then return methods[key] end
    if key == "n" then return tonumber(C.ms_data_len(d.ptr)) end
    if key == "features" then return features(d) end
    if key == "mean" or key == "std" then return scaling(d, key) end
    if key == "names" then return names(d) end
    if key == "path" then return paths[d] end
    return nil
  end,
  __len = function(d) return tonumber(C.ms_data_len(d.ptr)) end,
  -- data{1500 examples, 5 features, standardized, from airfoil_self_noise.dat}
  __tostring = function(d)
    return ("data{%d examples, %d features%s%s}"):format(tonumber(C.ms_data_len(d.ptr)), features(d),
      standardized(d) and ", standardized" or "", paths[d] and ", from " .. paths[d] or "")
  end,
})

M.module = {load = M.load, from = M.from, synthetic = M.synthetic, airfoil = M.airfoil}

return M
