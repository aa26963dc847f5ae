--- ms.sweep{objective =, rule =, x0 =, grid = {...} or points = {...}, ...}:
-- a rule run at every point of a grid of hyper-parameters, and the result
-- as plain data: points, columns, the best point, CSV, heat maps.  The
-- runs are the engine's (native.sweep_run: every core when nothing calls
-- back into Lua); the options, messages and presentation are here.
local native = require "momsandbox.native"
local check = require "momsandbox.check"
local grid = require "momsandbox.grid"

local FNAME = "sweep"
local MEASURES = {loss = 1, rate = 2, steps = 4}   -- the engine's MS_MEASURE_* bits
-- What results may hold (grid.lua's methods read it), in messages' words.
local MEASURES_TEXT = {names = {"loss", "rate", "steps"}, text = "'loss', 'rate' or 'steps'"}
local KNOWN = {"objective", "rule", "x0", "grid", "points", "steps", "measure", "tol", "xstar",
               "fstar", "threads", "shard", "progress", "fast"}

-- What a result remembers besides the engine's: objective, rule, label,
-- measures, axes ({name, n (0 for points), log}).  Weak keys: the values
-- never reference their key.
local about = setmetatable({}, {__mode = "k"})

local tointeger = math.tointeger or function(x) return x end

local function bad(fmt, ...)
  check.argerror(1, FNAME, fmt:format(...))
end

----------------------------------------------------------------- options

--- The keys of t must be axes of the rule: the smallest other key is the
-- error.
local function checknames(t, class, names, where)
  local wrong = check.unknown(t, names)
  if wrong ~= nil then
    bad("%s: %s has no hyper-parameter '%s' (it takes %sor scale)", where, class, check.keyname(wrong),
        table.concat(names, ", ", 1, #names - 1) .. (#names > 1 and ", " or ""))
  end
end

--- An axis: a number, a list of numbers, or a range {from =, to =, n =, log =}.
local function axis(name, v)
  local range = grid.range(v, name, FNAME)   -- the engine checks the rest
  if range then
    range.name = name
    return range
  end
  local t = type(v)
  if t ~= "number" and t ~= "table" and t ~= "userdata" and t ~= "cdata" then
    bad("grid.%s must be a number, a list of numbers or {from =, to =, n =}, got %s", name,
        check.typename(v))
  end
  local values = check.vec(t == "number" and {v} or check.vector(v, 1, FNAME, "grid." .. name), 1,
                           FNAME)
  return {name = name, values = values, n = #values, log = false}
end

--- The axes in the rule's order of its hyper-parameters, then scale.
local function grid_of(g, class, names)
  if type(g) ~= "table" then bad("grid must be a table {name = values}") end
  checknames(g, class, names, "grid")
  local axes = {}
  for _, name in ipairs(names) do
    if rawget(g, name) ~= nil then axes[#axes + 1] = axis(name, rawget(g, name)) end
  end
  return axes
end

--- points = {{lr = .., beta = ..}, ...}: every point names the same
-- parameters; their values in one row-major list.
local function points_of(pts, class, names)
  if type(pts) ~= "table" then bad("points must be a list of tables") end
  local count, first = check.rawlen(pts), rawget(pts, 1)
  if count == 0 then bad("points must not be empty") end
  if type(first) ~= "table" then bad("points[1] must be a table") end
  checknames(first, class, names, "points[1]")
  local used, axes, values = {}, {}, {}
  for _, name in ipairs(names) do
    if rawget(first, name) ~= nil then
      used[#used + 1], axes[#axes + 1] = name, {name = name, n = 0}
    end
  end
  for k = 1, count do
    local p, keys = rawget(pts, k), 0
    if type(p) ~= "table" then bad("points[%d] must be a table", k) end
    for _, name in ipairs(used) do
      local v = rawget(p, name)
      if type(v) ~= "number" then
        bad("points[%d].%s must be a number, got %s (every point names the same parameters)",
            k, name, check.typename(v))
      end
      values[#values + 1] = v
    end
    for _ in next, p do keys = keys + 1 end
    if keys ~= #used then bad("points[%d] names other parameters than points[1]", k) end
  end
  return axes, used, check.vec(values, 1, FNAME), count
end

--- measure = "rate" or {"loss", "rate", ...}: the list (the first is the
-- one heat maps show) and its bits.
local function measures_of(m)
  if type(m) == "string" then m = {m} end
  if type(m) ~= "table" or check.rawlen(m) == 0 then
    bad("measure must be 'loss', 'rate' or 'steps', or a list of them")
  end
  local list, bits, seen = {}, 0, {}
  for i = 1, check.rawlen(m) do
    local name = rawget(m, i)
    if MEASURES[name] == nil then bad("measure must be 'loss', 'rate' or 'steps', got '%s'", check.keyname(name)) end
    if not seen[name] then bits = bits + MEASURES[name] end
    list[i], seen[name] = name, true
  end
  return list, bits
end

local function shard_of(sh)
  local i, n = type(sh) == "table" and rawget(sh, 1), type(sh) == "table" and rawget(sh, 2)
  if sh == nil then return 0, 1 end
  if not (check.is_integer(i) and check.is_integer(n) and n >= 1 and i >= 1 and i <= n) then
    bad("shard must be {i, n}: part i of n, 1 <= i <= n")
  end
  return tointeger(i - 1), tointeger(n)
end

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

--- The class name and the axes a sweep of rule takes (its
-- hyper-parameters in class order, then "scale"), or nil when rule is no
-- rule nor the name of a built-in class.
local builtins
local function class_of(rule)
  local c
  if type(rule) == "string" then
    if builtins == nil then
      builtins = {}
      for _, b in ipairs(native.rule_classes()) do builtins[b.name] = b end
    end
    c = builtins[rule]
  elseif native.kind(rule) == "rule" then
    c = native.rule_op(rule, "info").class
  end
  if c == nil then return nil end
  local names = {}
  for i, h in ipairs(c.hyper) do names[i] = h.name end
  names[#names + 1] = "scale"
  return c.name, names
end

--- The sweep of the engine for these options, its grid set, or the
-- engine's complaint as an argument error; prefix says where.
local function setup(prefix, sw, msg)
  if sw then return sw end
  bad("%s%s", prefix, msg)
end

local function required(opts, key, what)
  if opts[key] == nil then bad("option '%s' (%s) is required", key, what) end
  return opts[key]
end

local function run(opts)
  check.options(opts, 1, FNAME, KNOWN)
  local obj = required(opts, "objective", "an ms.objective")
  if check.typename(obj) ~= "momsandbox.objective" then
    bad("objective must be a momsandbox.objective, got %s", check.typename(obj))
  end
  local rule = required(opts, "rule", "a rule, or the name of a built-in one")
  local class, names = class_of(rule)
  if class == nil and type(rule) == "string" then bad("no built-in rule '%s'", rule) end
  if class == nil then
    bad("rule must be a momsandbox.rule or the name of a built-in one, got %s", check.typename(rule))
  end
  local x0 = check.vec(check.vector(required(opts, "x0", "the starting point"), 1, FNAME, "x0"), 1,
                       FNAME)
  if (opts.grid ~= nil) == (opts.points ~= nil) then
    bad(opts.grid ~= nil and "give grid or points, not both" or "option 'grid' (or 'points') is required")
  end
  local axes, used, values, count
  if opts.grid ~= nil then axes = grid_of(opts.grid, class, names)
  else axes, used, values, count = points_of(opts.points, class, names) end
  local list, bits = measures_of(opts.measure or "loss")
  local steps, tol = check.optint(opts, 1, FNAME, "steps"), check.optnum(opts, 1, FNAME, "tol")
  local threads = check.optint(opts, 1, FNAME, "threads", 0)
  local fast, fstar = check.optbool(opts, 1, FNAME, "fast", true), check.optnum(opts, 1, FNAME, "fstar")
  local xstar = opts.xstar ~= nil and check.vec(check.vector(opts.xstar, 1, FNAME, "xstar"), 1, FNAME)
  if threads < 0 or threads > 1024 then bad("threads must be in [0, 1024]") end
  if xstar and #xstar ~= #x0 then bad("xstar must have as many entries as x0") end
  local shard, shards = shard_of(opts.shard)
  local show, bar = check.optbool(opts, 1, FNAME, "progress"), {drawn = false}
  if show == nil then show = require("momsandbox.api").util.isatty(2) end
  local label = type(rule) == "string" and rule or tostring(rule)   -- before the run changes it
  local sw = setup("", native.sweep_new(obj, type(rule) == "string" and native.rule_new(rule) or rule,
                                        x0, xstar or nil, fstar))
  if used then setup("points: ", native.sweep_grid(sw, used, values, count)) end
  for _, a in ipairs(used and {} or axes) do
    if a.values then setup("grid: ", native.sweep_grid(sw, a.name, a.values))
    else setup("grid: ", native.sweep_grid(sw, a.name, a.from, a.to, a.n, a.log)) end
  end
  local ok, done, msg = pcall(native.sweep_run, sw, steps, bits, tol, threads, shard, shards, fast,
    show and function(...) draw(bar, ...) end or nil)
  if bar.drawn and not (ok and done) then io.stderr:write("\n") end
  if not ok then error(done, 0) end   -- a callback's error, or Ctrl-C
  check.ok(done, msg)
  about[sw] = {objective = obj, rule = rule, label = label, measures = list, axes = axes, cols = {},
               known = MEASURES_TEXT}
  return sw
end

----------------------------------------------------------------- results

--- The data of sw for method fname: {total, first, count, fast, threads,
-- seconds}, with columns the values at each point too (axes = {values of
-- axis 1, ...}, loss, rate and steps when measured, diverged: step or 0),
-- made once; and what it remembers.
local function data(sw, fname, columns)
  if native.kind(sw) ~= "sweep" then check.selferror(fname, "momsandbox.sweep", sw) end
  local total, first, count, fast, threads, seconds = native.sweep_data(sw)
  if total == nil then check.fail(("calling '%s' on bad self (sweep has been closed)"):format(fname)) end
  local info = about[sw] or {measures = {"loss"}, axes = {}, cols = {}, known = MEASURES_TEXT}
  local d, naxes = info.cols, #info.axes
  d.total, d.first, d.count, d.fast, d.threads, d.seconds = total, first, count, fast, threads, seconds
  if columns and not d.axes then   -- ms_sweep_column's order: the axes, then these
    local want = {loss = true, diverged = true}
    for _, m in ipairs(info.measures) do want[m] = true end
    for i, name in ipairs{"loss", "rate", "steps", "diverged"} do
      if want[name] then d[name] = native.sweep_data(sw, naxes + i):totable() end
    end
    for k = 1, count do d.diverged[k] = tointeger(d.diverged[k]) end
    d.axes = {}
    for a = 1, naxes do d.axes[a] = native.sweep_data(sw, a):totable() end
  end
  return d, info
end

local methods = grid.methods(data)

--- sw:csv(path, {header = (first shard only)}): the parts of a sharded
-- sweep concatenate into the whole sweep's file.
function methods.csv(sw, path, opts)
  local header = data(sw, "csv").first == 1
  path = check.path(path, 1, "csv")
  if opts ~= nil then
    header = check.optbool(check.options(opts, 2, "csv", {"header"}), 2, "csv", "header", header)
  end
  check.ok(native.write_csv(sw, path, header))
  return sw
end

for name, fn in pairs(methods) do methods[name] = check.protect(fn) end

local function diverged(d)
  local n = 0
  for k = 1, d.count do n = n + (d.diverged[k] ~= 0 and 1 or 0) end
  return n
end

local fields = {
  axes = function(_, info)
    local t = {}
    for i, a in ipairs(info.axes) do t[i] = a.name end
    return t
  end,
  measures = function(_, info)
    local t = {}
    for i, m in ipairs(info.measures) do t[i] = m end
    return t
  end,
  diverged = function(sw) return diverged(data(sw, "__index", true)) end,
}
for _, key in ipairs{"total", "first", "fast", "threads", "seconds"} do
  fields[key] = function(_, _, d) return d[key] end
end
for _, key in ipairs{"objective", "rule", "label"} do
  fields[key] = function(_, info) return info[key] end
end

native.class("sweep", {
  methods = methods,   -- what the REPL completes after obj:
  __index = check.protect(function(sw, key)
    if methods[key] then return methods[key] end
    local d, info = data(sw, "__index", type(key) == "number")
    if type(key) ~= "number" then return fields[key] and fields[key](sw, info, d) end
    return grid.index(d, info, key)
  end),
  __len = check.protect(function(sw) return (data(sw, "__len").count) end),
  __tostring = check.protect(function(sw)
    local d, info = data(sw, "__tostring", true)
    local axes = {}
    for i, a in ipairs(info.axes) do axes[i] = a.name .. (a.n > 0 and (" (%d)"):format(a.n) or "") end
    return ("sweep of %s over %s: %d of %d points, %s loop, %d thread%s, %.3g s; %d diverged")
      :format(info.label or "?", table.concat(axes, " x "), d.count, d.total,
              d.fast and "vectorised" or "general", d.threads, d.threads == 1 and "" or "s",
              d.seconds, diverged(d))
  end),
})

return check.protect(run)
