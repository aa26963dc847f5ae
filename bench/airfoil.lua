--- Benchmark: d2l's train_ch11 on the airfoil data -- minibatch SGD with
-- momentum, batch 10, 1500 examples, the loss over all of them every 200
-- examples -- in the engine's loop (ms.train) and in the same loop written
-- in pure Lua over tables, in one run.
--
--   momsandbox bench/airfoil.lua [--data PATH] [--runs N] [--repeat R]
--
-- "train" is d2l's measure: the time of an epoch with the evaluations
-- excluded (its timer stops around them), shuffling included.  "wall"
-- includes the 7.5 evaluations per epoch.  The Lua loop draws the same
-- random numbers (from ms.rng, as it would from math.random) and does the
-- same arithmetic in the same order, so both loops end with bit-identical
-- parameters; the benchmark checks that before it measures.  A quick run
-- (MS_BENCH_QUICK=1, bench/results.lua): 500 runs, best of 3.
local ms = require "momsandbox"
local bench = dofile((arg[0]:match("^(.*)/") or ".") .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/airfoil.lua [options]",
  {"data", "PATH", "airfoil_self_noise.dat (default: found as the scripts find it)"},
  {"runs", "N", "runs of the C loop per measurement (the Lua loop: N/100)",
   type = "integer", default = bench.quick(2000, 500)},
  {"repeat", "R", "measurements per loop (the best is kept)", type = "integer",
   default = bench.quick(5, 3)},
})
local lr, beta, batch, epochs, every = 0.01, 0.9, 10, 2, 200

local found, data = pcall(ms.data.airfoil, {path = opts.data})
if not found then
  io.stderr:write("airfoil.lua: ", data, "\n")
  os.exit(1)
end
local model = ms.model.linreg(data.features)
local rule = ms.momentum{lr = lr, beta = beta}

--- train_ch11 with d2l's momentum, in Lua over tables: X a table of rows.
-- Returns the parameters, the training seconds and the wall seconds.
local clock = ms.util.clock
local function lua_train(X, y, seed)
  local n, d = #X, #X[1]
  local rng = ms.rng(seed)
  local w, v, g = {}, {}, {}
  for j = 1, d do w[j], v[j] = 0.01 * rng:normal(), 0 end
  local b, vb = 0, 0
  local rows = {}
  for i = 1, n do rows[i] = i end
  local function evaluate()
    local s = 0
    for i = 1, n do
      local x, z = X[i], 0
      for j = 1, d do z = z + x[j] * w[j] end
      local r = z + b - y[i]
      s = s + r * r
    end
    return 0.5 * (s / n)
  end
  local seen, next_eval, train, losses = 0, every, 0, {}
  local start = clock()
  local mark = start
  for _ = 1, epochs do
    for i = n, 2, -1 do   -- Fisher-Yates, the swaps ms_rng_shuffle makes
      local j = rng:below(i) + 1
      rows[i], rows[j] = rows[j], rows[i]
    end
    for first = 1, n, batch do
      local last = math.min(first + batch - 1, n)
      for j = 1, d do g[j] = 0 end
      local gb = 0
      for k = first, last do
        local i = rows[k]
        local x, z = X[i], 0
        for j = 1, d do z = z + x[j] * w[j] end
        local r = z + b - y[i]
        for j = 1, d do g[j] = g[j] + r * x[j] end
        gb = gb + r
      end
      local scale = 1 / (last - first + 1)
      for j = 1, d do
        v[j] = beta * v[j] + g[j] * scale
        w[j] = w[j] + -lr * v[j]
      end
      vb = beta * vb + gb * scale
      b = b + -lr * vb
      seen = seen + (last - first + 1)
      if seen >= next_eval then
        local t = clock()
        train = train + (t - mark)
        losses[#losses + 1] = evaluate()
        next_eval = next_eval + every
        mark = clock()
      end
    end
  end
  train = train + (clock() - mark)
  w[d + 1] = b
  return w, train, clock() - start, losses
end

local X, y = {}, data:labels()
for i = 1, #data do X[i] = data:x(i):totable() end

-- Same run first: both loops end with the same parameters, bit for bit.
local res = ms.train{model = model, data = data, rule = rule, batch = batch,
                     epochs = epochs, eval_every = every, seed = 1}
local p, _, _, losses = lua_train(X, y, 1)
for j = 1, #p do
  assert(p[j] == res.params[j], "loops disagree on parameter " .. j)
end
assert(losses[#losses] == res.loss, "loops disagree on the loss")

-- Seconds per epoch (train, wall) of runs of each loop: the C loop as its
-- result reports them, the Lua loop as it measures itself.
local runs = opts.runs
local lua_runs = math.max(1, math.floor(runs / 100))
local function c_loop()
  local t, w = 0, 0
  for k = 1, runs do
    local r = ms.train{model = model, data = data, rule = rule, batch = batch,
                       epochs = epochs, eval_every = every, seed = k}
    t, w = t + r.seconds, w + r.wall
  end
  return t / (runs * epochs), w / (runs * epochs)
end
local function lua_loop()
  local t, w = 0, 0
  for k = 1, lua_runs do
    local _, tk, wk = lua_train(X, y, k)
    t, w = t + tk, w + wk
  end
  return t / (lua_runs * epochs), w / (lua_runs * epochs)
end

-- The best of several measurements, the two loops taking turns, so that a
-- busy moment of a shared machine does not favour either.
local best = {c = {math.huge, math.huge}, lua = {math.huge, math.huge}}
for _ = 1, opts["repeat"] do
  for name, loop in pairs{c = c_loop, lua = lua_loop} do
    collectgarbage("collect")
    local t, w = loop()
    best[name][1], best[name][2] = math.min(best[name][1], t), math.min(best[name][2], w)
  end
end
local c_train, c_wall = best.c[1], best.c[2]
local lua_train_s, lua_wall = best.lua[1], best.lua[2]

print(("airfoil: linreg, %s, batch %d, %d examples (%d minibatches per epoch), " ..
       "loss evaluated every %d examples"):format(tostring(rule), batch, #data,
       math.ceil(#data / batch), every))
print(("%d runs of %d epochs (C), %d (Lua), best of %d"):format(runs, epochs, lua_runs, opts["repeat"]))
print(("%-26s %16s %16s"):format("loop", "train us/epoch", "wall us/epoch"))
print(("%-26s %16.1f %16.1f"):format("C engine (ms.train)", 1e6 * c_train, 1e6 * c_wall))
print(("%-26s %16.1f %16.1f"):format("pure Lua (" .. _VERSION .. ")", 1e6 * lua_train_s, 1e6 * lua_wall))
print(("%-26s %15.1fx %15.1fx"):format("speed-up", lua_train_s / c_train, lua_wall / c_wall))
bench.result("ms.train_train", 1e6 * c_train, "us/epoch", "lower")
bench.result("ms.train_wall", 1e6 * c_wall, "us/epoch", "lower")
bench.result("pure_lua_train", 1e6 * lua_train_s, "us/epoch", "lower", true)
bench.result("pure_lua_wall", 1e6 * lua_wall, "us/epoch", "lower", true)
