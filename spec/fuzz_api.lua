--[[
fuzz_api.lua -- random calls of the Lua API, to find what crashes or hangs
the process rather than raising an error.

  build/momsandbox     spec/fuzz_api.lua [--seconds N] [--seed S] [--calls K] [--log FILE] [--verbose]
  build/momsandbox-jit spec/fuzz_api.lua ...

Each call picks a function of ms (constructors included), a method of a
live object or one of its metamethods called directly, and arguments from
a pool of good and bad values: nil, NaN, infinities, -0, huge integers,
2^53 + 1, strings with zero bytes, tables whose metatables lie (__len,
__index, __close), objects of the wrong type, functions that fail, yield,
collect garbage or close the objects in use, coroutines.  Each call runs
under pcall; an error is fine, a crash or a hang is a finding.  Counts
given to the engine (steps, epochs, grid sizes) stay small, so that every
call is short: a call that takes long is a hang.

The run is a function of the seed alone: the same seed replays the same
calls under the same interpreter.  --log FILE writes each call before it
runs (the last line of the log is the call that crashed or hung);
--verbose prints them; --calls K stops after K calls.  docs/fuzzing.md
says how to run it long and under AddressSanitizer.

It never writes or reads files by name and never runs programs: ms.util,
ms.plot, ms.data.load and the csv and heatmap methods are left out.
]]
local ms = require "momsandbox"

------------------------------------------------------------- options
local opts = {seconds = 10, seed = os.time(), calls = math.huge}
do
  local i = 1
  while i <= #arg do
    local a = arg[i]
    if a == "--verbose" then
      opts.verbose = true
    elseif a == "--seconds" or a == "--seed" or a == "--calls" then
      opts[a:sub(3)] = assert(tonumber(arg[i + 1]), a .. " needs a number")
      i = i + 1
    elseif a == "--log" then
      opts.log = assert(arg[i + 1], "--log needs a file name")
      i = i + 1
    else
      error("unknown option " .. a .. " (--seconds N --seed S --calls K --log FILE --verbose)")
    end
    i = i + 1
  end
end

------------------------------------------------------------- the seed
-- A generator of our own (Park-Miller, exact in doubles): the same
-- sequence under Lua 5.4 and LuaJIT, and none of the API's state.
local state = opts.seed % 2147483646 + 1
local function rand(n)   -- 1..n
  state = state * 48271 % 2147483647
  return state % n + 1
end
local function pick(list) return list[rand(#list)] end
local function chance(p) return rand(1000) <= p * 1000 end

local unpack = table.unpack or unpack
local is_jit = rawget(_G, "jit") ~= nil

------------------------------------------------------------- the pool
local live = {}        -- objects the API made, for methods and as arguments
local in_use = {}      -- the objects the running call was given
local MAXLIVE = 40

local function remember(v)
  local t = type(v)
  if t == "userdata" or t == "cdata" or (t == "table" and getmetatable(v) ~= nil) then
    if #live < MAXLIVE then live[#live + 1] = v else live[rand(MAXLIVE)] = v end
  end
end

local function any_live()
  if #live == 0 then return nil end
  return pick(live)
end

local numbers = {0, -0.0, 1, -1, 2, 3, 0.5, -0.5, 1e-300, 5e-324, 1e300, -1e300,
  1 / 0, -1 / 0, 0 / 0, 2 ^ 53, 2 ^ 53 + 1, 2 ^ 63, -2 ^ 63, 2 ^ 62, 2 ^ 40, -2 ^ 31,
  1e308, 0.1, 0.6, 0.9, 0.999, 1.5, 7, 10, 20, 100}
-- (no integer between 10^5 and 2^40: a vector of 2^31 numbers is 16 GB that
-- the allocator may well grant, and zero)
if math.maxinteger then
  for _, v in ipairs{math.maxinteger, math.mininteger, math.maxinteger - 1, -1 - 2 ^ 62} do
    numbers[#numbers + 1] = v
  end
end
-- counts kept small: a valid count makes a run, and runs must stay short
local counts = {0, 1, 2, 3, 5, 10, 20, 100, -1, -2 ^ 63, 2 ^ 63, 2 ^ 53 + 1, 1.5, 0 / 0,
  1 / 0, "3", "x", true}
local strings = {"", "a", "lr", "beta", "x0", "steps", "momentum", "gd", "sgd", "adam", "nag",
  "quadratic", "a\0b", "\0", ("x"):rep(10000), "%s%d%n", "nan", "inf", "1e400", "  2 ",
  "lr,beta", 'q"uote', "line\nbreak", "__index", "__gc"}
local keys = {"lr", "beta", "x0", "steps", "every", "dim", "f", "grad", "name", "hyper", "state",
  "step", "lookahead", "objective", "rule", "grid", "model", "data", "batch", "epochs", "seed",
  "eval_every", "progress", "from", "to", "n", "log", "w", "b", "noise", "standardize", "rows",
  "header", "label", "lambda", "nu", "eps", "tol", "threads", "measures", "init", "shuffle",
  "schedule", "warmup", "milestones", "gamma", "min", "max", "start", "period", "power", "1", 1, 2}
local count_keys = {steps = true, every = true, epochs = true, batch = true, n = true, dim = true,
  rows = true, eval_every = true, threads = true, period = true, warmup = true}

-- A full collection, a few times a call: callbacks run thousands of times
-- in a sweep, and a full collection of a large heap takes milliseconds.
local full_collections = 0
local function collect()
  if full_collections > 0 then
    full_collections = full_collections - 1
    collectgarbage()
  else
    collectgarbage("step")
  end
end

local gen   -- gen(depth): a value and its description
local printable, kind

-- Functions handed to the API as callbacks: each misbehaves its own way.
local function make_function(depth)
  local kinds = {
    {"function returning 1", function() return 1 end},
    {"function returning nil", function() end},
    {"function returning NaN", function() return 0 / 0 end},
    {"function returning a string", function() return "1" end},
    {"function returning a table", function() return {} end},
    {"function raising", function() error("fuzz error") end},
    {"function raising a table", function() error({}) end},
    {"function raising nil", function() error(nil) end},
    {"function yielding", function() return coroutine.yield(1) end},
    {"function collecting garbage", function() collect() return 1 end},
    {"function closing an object", function()
      local o = any_live()
      local mt = getmetatable(o)
      local close = type(mt) == "table" and (rawget(mt, "__close") or rawget(mt, "__gc"))
      if type(close) == "function" then pcall(close, o) end
      return 1
    end},
    {"function closing the call's objects", function()
      for _, o in ipairs(in_use) do
        local mt = getmetatable(o)
        local close = type(mt) == "table" and (rawget(mt, "__close") or rawget(mt, "__gc"))
        if type(close) == "function" then pcall(close, o) end
        if type(o) == "cdata" or type(o) == "userdata" then pcall(function() o:__close() end) end
      end
      collect()
      return 1
    end},
    {"function writing its arguments", function(a, b)
      pcall(function() a[1] = 0 / 0 end)
      pcall(function() b[1] = 1e308 end)
      pcall(function() a.n = 1e9 end)
      return 1
    end},
    {"function calling the API", function(x)
      return ms.trace(ms.objective.quadratic{1}, ms.gd{lr = 0.1}, {x0 = {1}, steps = 3})[1]
    end},
    {"function keeping its arguments", function(...) for _, v in ipairs{...} do remember(v) end end},
  }
  local k = pick(kinds)
  return k[2], k[1]
end

-- Tables whose metatables lie about their contents.
local function make_liar(depth)
  local kinds = {
    {"table with __len = 1e9", {__len = function() return 1e9 end}},
    {"table with __len = -1", {__len = function() return -1 end}},
    {"table with __len raising", {__len = function() error("len") end}},
    {"table with __index returning NaN", {__index = function() return 0 / 0 end}},
    {"table with __index raising", {__index = function() error("index") end}},
    {"table with __index yielding", {__index = function() return coroutine.yield() end}},
    {"table with __close and __gc", {__close = function() error("close") end,
                                      __gc = function() collectgarbage() end}},
    {"table with __newindex raising", {__newindex = function() error("newindex") end}},
    {"table with __pairs", {__pairs = function() return function() return 1, 1 end end}},
    {"table with __name", {__name = "momsandbox.vec"}},
  }
  local k = pick(kinds)
  local t = {}
  for i = 1, rand(4) - 1 do t[i] = pick(numbers) end
  return setmetatable(t, k[2]), k[1]
end

-- A table of options: known keys with values of any kind, counts small.
local function make_options(depth)
  local t, desc = {}, {}
  for _ = 1, rand(5) do
    local k = pick(keys)
    local v, d
    if count_keys[k] and chance(0.7) then v = pick(counts); d = tostring(v)
    else v, d = gen(depth + 1) end
    t[k] = v
    desc[#desc + 1] = tostring(k) .. "=" .. d
  end
  return t, "{" .. table.concat(desc, ", ") .. "}"
end

local function make_list(depth)
  local t, desc = {}, {}
  for i = 1, rand(5) - 1 do
    local v, d
    if chance(0.8) then v = pick(numbers); d = tostring(v) else v, d = gen(depth + 1) end
    t[i] = v
    desc[i] = d
  end
  return t, "{" .. table.concat(desc, ", ") .. "}"
end

-- A string's first characters, control characters and quotes as \ddd.
function printable(s)
  return (s:sub(1, 20):gsub('[%c"\\]', function(c) return ("\\%d"):format(c:byte()) end))
end

function gen(depth)
  depth = depth or 0
  local r = rand(100)
  if depth > 2 then r = rand(40) end
  if r <= 18 then local v = pick(numbers); return v, tostring(v) end
  if r <= 24 then local v = pick(strings); return v, '"' .. printable(v) .. '"' end
  if r <= 28 then return nil, "nil" end
  if r <= 30 then local v = chance(0.5); return v, tostring(v) end
  if r <= 40 then local v = pick(counts); return v, tostring(v) end
  if r <= 55 then return make_list(depth) end
  if r <= 67 then return make_options(depth) end
  if r <= 74 then return make_function(depth) end
  if r <= 78 then return make_liar(depth) end
  if r <= 90 then local o = any_live(); return o, "live " .. kind(o) end
  if r <= 93 then
    local co = coroutine.create(function() coroutine.yield() end)
    if chance(0.5) then coroutine.resume(co) end
    return co, "coroutine"
  end
  if r <= 95 then return ms.vec(rand(4)), "vec" end
  if r <= 97 then return io.stdout, "io.stdout" end
  return ms, "ms"
end

------------------------------------------------------------- targets
-- Never run: what starts programs or servers, writes or reads files by name, or loads
-- the REPL's modules.
local skip = {util = true, plot = true, args = true, load = true, csv = true, write = true,
              mkdir = true, run = true, which = true, save = true,
              explore = true}   -- serves a page until closed; writes its file

local functions = {}
local function collect_functions(t, prefix, depth)
  local names = {}
  for k in pairs(t) do if type(k) == "string" then names[#names + 1] = k end end
  table.sort(names)   -- pairs' order differs between runs: keep the seed's meaning
  for _, k in ipairs(names) do
    local v = t[k]
    if not skip[k] then
      if type(v) == "function" then functions[#functions + 1] = {prefix .. k, v}
      elseif type(v) == "table" and depth < 2 then collect_functions(v, prefix .. k .. ".", depth + 1) end
    end
    local mt = getmetatable(v)
    if type(v) == "table" and type(mt) == "table" and type(rawget(mt, "__call")) == "function" then
      functions[#functions + 1] = {prefix .. k .. "()", v}
    end
  end
end
collect_functions(ms, "ms.", 1)

-- (not heatmap: a sweep's heatmap is ms.plot's, which runs gnuplot)
local methods = {"abs", "add", "addcdiv", "addcmul", "axpby", "axpy", "best", "clamp", "clone",
  "column", "copy", "div", "dot", "eval", "evaluate", "fill", "grad", "hyper", "init",
  "labels", "loss", "max", "mean", "min", "mul", "neg", "next", "norm", "normal", "numgrad",
  "point", "predict", "reset", "scale", "seed", "shuffle", "sign", "sqrt", "state", "step", "sub",
  "sum", "totable", "uniform", "value", "values", "x", "y", "gradcheck", "split", "batch",
  "features", "n", "d", "dim", "name", "label"}
local metamethods = {"__index", "__newindex", "__len", "__tostring", "__eq", "__add", "__sub",
  "__mul", "__div", "__unm", "__call", "__close", "__gc", "__concat", "__lt", "__le"}

local operators = {
  {"#", function(o) return #o end}, {"tostring", function(o) return tostring(o) end},
  {"[a]", function(o, a) return o[a] end}, {"[a] = b", function(o, a, b) o[a] = b end},
  {"+", function(o, a) return o + a end}, {"a -", function(o, a) return a - o end},
  {"*", function(o, a) return o * a end}, {"a /", function(o, a) return a / o end},
  {"unary -", function(o) return -o end}, {"==", function(o, a) return o == a end},
  {"call", function(o, a, b) return o(a, b) end}, {"..", function(o, a) return o .. a end},
  {"<", function(o, a) return o < a end},
  {"pairs", function(o) local n = 0; for _ in pairs(o) do n = n + 1; if n > 100 then break end end end},
}

-- The class of v for the log: its __name, or its type.
function kind(v)
  if type(v) == "cdata" then return tostring(require("ffi").typeof(v)) end
  local mt = getmetatable(v)
  local name = type(mt) == "table" and rawget(mt, "__name")
  return type(name) == "string" and name or type(v)
end

-- Calls shaped as the chapter makes them, so that runs start and call
-- back, with callbacks that mostly behave and sometimes do not.
local function callback(good, good_desc)
  if chance(0.75) then return good, good_desc end
  return make_function(0)
end

local function a_live(pred)
  for _ = 1, 4 do
    local o = any_live()
    if o ~= nil and pred(o) then return o end
  end
end
local function is(class) return function(o) return kind(o):find(class, 1, true) ~= nil end end

local function lua_objective(dim)
  local f, fd = callback(function(x) local s = 0; for i = 1, #x do s = s + x[i]^2 end; return s end, "sum of squares")
  local g, gd = callback(function(x, out) for i = 1, #x do out[i] = 2 * x[i] end end, "2x")
  if chance(0.3) then g, gd = nil, "none" end
  return ms.objective{dim = dim, f = f, grad = g}, ("objective{f = %s, grad = %s}"):format(fd, gd)
end

local function lua_rule()
  local step, sd = callback(function(p, g, st, h) st.v:scale(h.beta):add(g); p:axpy(-h.lr, st.v) end, "heavy ball")
  local hyper = {lr = 0.1, beta = 0.5}
  if chance(0.2) then hyper.lr = callback(function(t) return 0.1 / t end, "0.1/t") end
  local cls = ms.rule{name = "fz", hyper = {lr = 0.1, beta = 0.5}, state = {"v"}, step = step}
  local r = chance(0.5) and cls{} or cls{lr = hyper.lr}
  return r, "rule{step = " .. sd .. "}"
end

local function recipe()
  local dim = rand(3)
  local x0 = {}
  for i = 1, dim do x0[i] = chance(0.9) and i - 2.5 or pick(numbers) end
  local obj, od
  if chance(0.5) then obj, od = lua_objective(dim)
  else obj, od = a_live(is("objective")) or ms.objective.quadratic(x0), "live objective" end
  local rule, rd
  if chance(0.5) then rule, rd = lua_rule()
  else rule, rd = a_live(is("rule")) or ms.momentum{lr = 0.1, beta = 0.5}, "live rule" end
  in_use[#in_use + 1], in_use[#in_use + 2] = obj, rule
  local what = rand(3)
  if what == 1 then
    local steps = pick{1, 2, 5, 20, 100}
    return ("ms.trace(%s, %s, {x0 = %d numbers, steps = %d})"):format(od, rd, dim, steps),
      function() return ms.trace(obj, rule, {x0 = x0, steps = steps, every = pick{1, 3}}) end
  elseif what == 2 then
    local data = a_live(is("data")) or ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 30, seed = 1}
    local model = a_live(is("model")) or ms.model.linreg(2)
    in_use[#in_use + 1], in_use[#in_use + 2] = data, model
    return ("ms.train{%s, live data and model}"):format(rd), function()
      return ms.train{model = model, data = data, rule = rule, batch = pick{1, 7, 10},
                      epochs = pick{1, 2}, progress = false}
    end
  else
    local grid = {lr = {0.1, 0.2, pick(numbers)}}
    if chance(0.5) then grid.beta = {0, 0.5} end
    return ("ms.sweep{%s, %s, x0 = %d numbers}"):format(od, rd, dim), function()
      return ms.sweep{objective = obj, rule = rule, x0 = x0, steps = pick{1, 10, 50}, grid = grid}
    end
  end
end

-- One call: a description and a function of no arguments that makes it.
local function make_call()
  if chance(0.15) then
    local ok, desc, call = pcall(recipe)
    if ok then return desc, call end
  end
  local args, descs = {}, {}
  local nargs = rand(5) - 1
  for i = 1, nargs do args[i], descs[i] = gen(0) end
  local r = rand(100)
  local obj = any_live()
  in_use[1] = obj
  for i = 1, nargs do
    local t = type(args[i])
    if t == "userdata" or t == "cdata" then in_use[#in_use + 1] = args[i] end
  end
  if r <= 45 or obj == nil then
    local f = pick(functions)
    return f[1] .. "(" .. table.concat(descs, ", ") .. ")", function()
      return f[2](unpack(args, 1, nargs))
    end
  elseif r <= 85 then
    local name = pick(methods)
    local self, sdesc = obj, "obj"
    if chance(0.1) then self, sdesc = gen(0) end
    return ("%s:%s(%s) [self %s]"):format(kind(obj), name, table.concat(descs, ", "), sdesc),
      function()
        local m = obj[name]
        return m(self, unpack(args, 1, nargs))
      end
  elseif r <= 92 then
    local mt = getmetatable(obj)
    local name = pick(metamethods)
    return ("metamethod %s of %s(%s)"):format(name, kind(obj), table.concat(descs, ", ")),
      function()
        local m = type(mt) == "table" and rawget(mt, name)
        return m(obj, unpack(args, 1, nargs))
      end
  else   -- the same through operators (LuaJIT hides a cdata's metatable)
    local op = pick(operators)
    local a = args[1]
    return ("operator %s on %s and %s"):format(op[1], kind(obj), tostring(descs[1])),
      function() return op[2](obj, a, args[2]) end
  end
end

------------------------------------------------------------- the run
local log = opts.log and assert(io.open(opts.log, "w"))
local clock = ms.util and ms.util.clock or os.clock
local t0 = clock()
local stats = {calls = 0, ok = 0, errors = 0, slow = 0}
local SLOW = 5   -- seconds: a call that takes longer is a finding
-- Seed objects, so that methods have something to work on from the start.
for _, make in ipairs{
  function() return ms.vec{1, 2, 3} end,
  function() return ms.objective.quadratic{0.2, 4} end,
  function() return ms.momentum{lr = 0.1, beta = 0.5} end,
  function() return ms.trace(ms.objective.quadratic{1, 2}, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 3}) end,
  function() return ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 20, seed = 1} end,
  function() return ms.model.linreg(2) end,
  function() return ms.schedule.cosine{lr = 0.5, steps = 10} end,
  function() return ms.rng(1) end,
  function() return ms.objective{dim = 2, f = function(x) return x[1]^2 + x[2]^2 end} end,
  function() return ms.rule{name = "r", hyper = {lr = 0.1}, state = {"v"},
                            step = function(p, g, s, h) p:axpy(-h.lr, g) end} end,
} do
  local ok, v = pcall(make)
  if ok then remember(v) end
end

io.stderr:write(("fuzz_api: seed %d, %s s, under %s\n"):format(opts.seed, opts.seconds,
                is_jit and "LuaJIT" or _VERSION))
while stats.calls < opts.calls and clock() - t0 < opts.seconds do
  stats.calls = stats.calls + 1
  in_use, full_collections = {}, 3
  local desc, call = make_call()
  if log then log:write(stats.calls, "\t", desc, "\n"); log:flush() end
  if opts.verbose then io.stderr:write(stats.calls, "\t", desc, "\n") end
  -- in a coroutine of its own: a yield that escapes the API ends the call
  local co = coroutine.create(function() return pcall(call) end)
  local start = clock()
  local ok, pok, res = coroutine.resume(co)
  if clock() - start > SLOW then   -- a hang that ended: report it all the same
    stats.slow = stats.slow + 1
    io.stderr:write(("fuzz_api: call %d took %.1f s: %s\n"):format(stats.calls, clock() - start, desc))
  end
  if ok and pok then
    stats.ok = stats.ok + 1
    remember(res)
  else
    stats.errors = stats.errors + 1
  end
  if stats.calls % 97 == 0 then collectgarbage() end
end
collectgarbage()
collectgarbage()
io.stderr:write(("fuzz_api: seed %d: %d calls (%d returned, %d raised, %d slow) in %.1f s, survived\n")
                :format(opts.seed, stats.calls, stats.ok, stats.errors, stats.slow, clock() - t0))
if log then log:close() end
os.exit(stats.slow == 0 and 0 or 1, true)   -- closing the state runs every __gc
