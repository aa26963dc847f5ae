--- Benchmark: the cost of a step of momentum written in Lua with ms.rule,
-- against the built-in C rule and against the same rule written with plain
-- Lua loops over tables, at d = 2, 1e2, 1e4 and 1e6, in one run.
--
--   momsandbox bench/rules.lua [--repeat R]
--
-- Every loop does the same work per step on f(x) = 1/2 sum lambda_i x_i^2:
-- the gradient, v = beta v + g, x = x - lr v.  The engine's loops also check
-- x and g for NaN/Inf at every step; the plain Lua loop does not.  A quick
-- run (MS_BENCH_QUICK=1, bench/results.lua) does a quarter of the work per
-- measurement and leaves out d = 1e6.
local ms = require "momsandbox"
local bench = dofile((arg[0]:match("^(.*)/") or ".") .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/rules.lua [options]",
  {"repeat", "R", "measurements per case (the best is kept)", type = "integer",
   default = bench.quick(5, 3)},
})

-- Momentum in Lua on the engine's vectors.  axpby fuses v = 1 g + beta v
-- into one call (the clearer s.v:scale(h.beta):add(g) makes two): each call
-- from Lua into C costs tens of nanoseconds, which only matters at small d.
local momentum = ms.rule{
  name = "momentum_lua", hyper = {lr = {min = 0}, beta = 0.9}, state = {"v"},
  step = function(p, g, s, h) p:axpy(-h.lr, s.v:axpby(1, g, h.beta)) end,
}

--- The same loop in plain Lua: tables, and loops over their entries.
local function plain_lua(lambda, x0, lr, beta, steps)
  local n, x, v, g = #x0, {}, {}, {}
  for i = 1, n do x[i], v[i] = x0[i], 0 end
  for _ = 1, steps do
    for i = 1, n do g[i] = lambda[i] * x[i] end
    for i = 1, n do
      v[i] = beta * v[i] + g[i]
      x[i] = x[i] - lr * v[i]
    end
  end
  return x
end

local measure = dofile((arg[0]:match("^(.*)/") or ".") .. "/best_time.lua")
local function best_time(fn) return measure(fn, opts["repeat"]) end

-- Runs short enough that the iterates stay well above the subnormal range,
-- whose slow arithmetic would otherwise be what is measured.
local lr, beta = 0.01, 0.5
print(("momentum step, best of %d; ns per step (per coordinate in brackets)"):format(opts["repeat"]))
print(("%9s %7s %20s %20s %20s %9s %11s"):format("d", "steps", "built-in C",
      "ms.rule (Lua)", "plain Lua tables", "Lua/C", "Lua - C ns"))
for _, d in ipairs(bench.quick({2, 100, 10000, 1000000}, {2, 100, 10000})) do
  local steps = math.max(10, math.min(1000, math.floor(10000000 / d)))
  local runs = math.max(1, math.floor(bench.quick(2000000, 500000) / (steps * d)))
  local lambda, x0 = {}, {}
  for i = 1, d do lambda[i], x0[i] = 1 + (i - 1) / d, 1 end
  local f = ms.objective.quadratic(lambda)
  local function engine(rule)
    return best_time(function()
      for _ = 1, runs do ms.trace(f, rule, {x0 = x0, steps = steps, every = steps}) end
    end) / (runs * steps)
  end
  local c = engine(ms.momentum{lr = lr, beta = beta})
  local l = engine(momentum{lr = lr, beta = beta})
  local p = best_time(function()
    for _ = 1, runs do plain_lua(lambda, x0, lr, beta, steps) end
  end) / (runs * steps)
  local function cell(t) return ("%10.0f (%6.2f)"):format(1e9 * t, 1e9 * t / d) end
  print(("%9d %7d %20s %20s %20s %8.2fx %11.0f"):format(d, steps, cell(c), cell(l), cell(p),
        l / c, 1e9 * (l - c)))
  bench.result("builtin_d" .. d, 1e9 * c, "ns/step", "lower")
  bench.result("ms.rule_d" .. d, 1e9 * l, "ns/step", "lower")
  bench.result("plain_lua_d" .. d, 1e9 * p, "ns/step", "lower", true)
end
