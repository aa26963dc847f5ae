--- Benchmark: momentum steps per second of the engine's trace loop
-- (ms.trace) against the same loop written in pure Lua, in one run.
--
--   momsandbox bench/trace.lua [--steps N] [--runs N] [--calls N] [--repeat R]
--
-- Both loops do the same work per step: the gradient of the chapter's
-- f = 0.1 x1^2 + 2 x2^2, d2l's momentum update, f at the new point, and a
-- copy of the point and its value into the recorded trajectory.  Runs are
-- 1000 steps long (d2l's are 20): much longer runs converge into subnormal
-- numbers, whose slow arithmetic would be measured instead of the loop.
-- Last, the cost of one whole call as the chapter makes it: 20 steps from
-- (-5, -2), where what a call costs besides its steps dominates.
local ms = require "momsandbox"
local bench = dofile((arg[0]:match("^(.*)/") or ".") .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/trace.lua [options]",
  {"steps", "N", "steps per run", type = "integer", default = 1000},
  {"runs", "N", "runs per measurement", type = "integer", default = bench.quick(1000, 200)},
  {"calls", "N", "20-step calls per measurement", type = "integer",
   default = bench.quick(10000, 2000)},
  {"repeat", "R", "measurements per loop (the best is kept)", type = "integer",
   default = bench.quick(5, 3)},
})
local lambda, lr, beta = {0.2, 4}, 0.6, 0.5

--- The trace loop in plain Lua over tables, for any dimension.
local function lua_trace(x0, steps)
  local n = #x0
  local function f(x)
    local s = 0
    for i = 1, n do s = s + 0.5 * lambda[i] * x[i] * x[i] end
    return s
  end
  local function grad(x, g)
    for i = 1, n do g[i] = lambda[i] * x[i] end
  end
  local x, g, v = {}, {}, {}
  for i = 1, n do x[i], v[i] = x0[i], 0 end
  local points, values = {{(table.unpack or unpack)(x)}}, {f(x)}
  for t = 1, steps do
    grad(x, g)
    for i = 1, n do
      v[i] = beta * v[i] + g[i]
      x[i] = x[i] - lr * v[i]
    end
    local p = {}
    for i = 1, n do p[i] = x[i] end
    points[t + 1], values[t + 1] = p, f(x)
  end
  return points, values
end

local measure = dofile((arg[0]:match("^(.*)/") or ".") .. "/best_time.lua")
local function best_time(fn) return measure(fn, opts["repeat"]) end

local f = ms.objective.quadratic(lambda)
local rule = ms.momentum{lr = lr, beta = beta}
local x0 = {-5, -2}

-- Same result first: both loops compute the same trajectory.
local tr = ms.trace(f, rule, {x0 = x0, steps = 1000})
local points = lua_trace(x0, 1000)
assert(math.abs(tr[-1][1] - points[#points][1]) < 1e-12, "loops disagree")

local steps, runs = opts.steps, opts.runs
local c = best_time(function()
  for _ = 1, runs do ms.trace(f, rule, {x0 = x0, steps = steps}) end
end) / runs
local lua = best_time(function()
  for _ = 1, runs do lua_trace(x0, steps) end
end) / runs
-- One call of d2l's length.
local calls = opts.calls
local call = best_time(function()
  for _ = 1, calls do ms.trace(f, rule, {x0 = x0, steps = 20}) end
end) / calls

print(("momentum trace, d = 2, %d runs of %d steps, best of %d"):format(runs, steps, opts["repeat"]))
print(("%-26s %12s %14s"):format("loop", "ns/step", "steps/s"))
print(("%-26s %12.1f %14.3e"):format("C engine (ms.trace)", 1e9 * c / steps, steps / c))
print(("%-26s %12.1f %14.3e"):format("pure Lua (" .. _VERSION .. ")", 1e9 * lua / steps, steps / lua))
print(("speed-up: %.1fx"):format(lua / c))
print(("one ms.trace call of 20 steps: %.2f us (%d calls, best of %d)")
  :format(1e6 * call, calls, opts["repeat"]))
bench.result("ms.trace", 1e9 * c / steps, "ns/step", "lower")
bench.result("ms.trace_call_20_steps", 1e6 * call, "us/call", "lower")
bench.result("pure_lua", 1e9 * lua / steps, "ns/step", "lower", true)
