--- Benchmark: an objective written in Lua, compiled by the engine, against
-- the built-in C twin and against the same function with finite
-- differences (compile = false), in one run; then a sweep over the
-- compiled objective on one thread and on two, beside the built-in's.
--
--   momsandbox bench/objectives.lua [--steps N] [--fd-steps N] [--repeat R]
--
-- The function is the chained Rosenbrock, sum_i 100 (x_{i+1} - x_i^2)^2 +
-- (1 - x_i)^2, written as a user would (a loop over x), at d = 2 and
-- d = 1000, traced by heavy ball (momentum, lr = 1e-5, beta = 0.9) from
-- x_i = -1.2, 1, -1.2, ...  Only the first and last points are recorded,
-- so the figures are those of the steps.  Finite differences take 4d calls
-- of f a step: they are timed on fewer steps (--fd-steps, and 1/500 of
-- them at d = 1000) and compared per step.  A quick run
-- (MS_BENCH_QUICK=1, bench/results.lua) takes 1/50 of the steps.
local ms = require "momsandbox"
local bench = dofile((arg[0]:match("^(.*)/") or ".") .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/objectives.lua [options]",
  {"steps", "N", "steps of a compiled or built-in trace", type = "integer",
   default = bench.quick(100000, 2000)},
  {"fd-steps", "N", "steps of a finite-difference trace at d = 2", type = "integer",
   default = bench.quick(10000, 500)},
  {"repeat", "R", "measurements per loop (the best is kept)", type = "integer",
   default = bench.quick(3, 2)},
})

local measure = dofile((arg[0]:match("^(.*)/") or ".") .. "/best_time.lua")

local function rosenbrock(x)
  local s = 0
  for i = 1, #x - 1 do s = s + 100 * (x[i + 1] - x[i]^2)^2 + (1 - x[i])^2 end
  return s
end

local compiled2   -- the compiled objective at d = 2, after its warm-up

local function start(d)
  local x0 = {}
  for i = 1, d do x0[i] = i % 2 == 1 and -1.2 or 1 end
  return x0
end

--- Seconds a step of a heavy-ball trace of f, best of the rounds.
local function per_step(f, x0, steps)
  local rule = ms.momentum{lr = 1e-5, beta = 0.9}
  local t, tr = measure(function()
    return ms.trace(f, rule, {x0 = x0, steps = steps, every = steps})
  end, opts["repeat"])
  assert(tr.diverged ~= true, "the benchmark's trace diverged")
  return t / steps, tr
end

-- The engine compiles a small objective to machine code (through cc) at
-- the start of the run that makes its runs pay for the compile: a warm-up
-- trace long enough for that comes first, so the figures are those of the
-- code the objective keeps (MOMSANDBOX_NATIVE=off: the interpreter's).
local WARM_UP = 10000000

print(("heavy-ball trace of Rosenbrock written in Lua, best of %d (%s)"):format(
      opts["repeat"], jit and "LuaJIT" or "Lua 5.4"))
print(("%-6s %-28s %14s %10s"):format("d", "objective", "ns/step", "ratio"))
for _, d in ipairs{2, 1000} do
  local x0 = start(d)
  local compiled = ms.objective{dim = d, f = rosenbrock}
  assert(compiled.gradient == "compiled", compiled.note)
  local numeric = ms.objective{dim = d, f = rosenbrock, compile = false}
  local builtin = ms.objective.rosenbrock{dim = d}
  local steps = opts.steps
  if d == 2 then
    local t = measure(function()
      return ms.trace(compiled, ms.momentum{lr = 1e-5, beta = 0.9},
                      {x0 = x0, steps = WARM_UP, every = WARM_UP})
    end, 1)
    print(("%-6d warm-up: one compiled trace of %d steps first (%.2f s), where the"):format(
          d, WARM_UP, t))
    print(("%-6s engine compiles the objective to machine code unless MOMSANDBOX_NATIVE=off"):format(""))
    compiled2 = compiled
  end
  local fd_steps = d == 2 and opts["fd-steps"] or math.max(1, math.floor(opts["fd-steps"] / 500))
  -- the same trajectory first
  local _, a = per_step(compiled, x0, 100)
  local _, b = per_step(builtin, x0, 100)
  for i = 1, d do
    assert(math.abs(a[-1][i] - b[-1][i]) <= 1e-10 * math.abs(b[-1][i]), "trajectories differ")
  end
  -- interleaved: built-in, compiled, built-in again
  local tb = per_step(builtin, x0, steps)
  local tc = per_step(compiled, x0, steps)
  tb = math.min(tb, (per_step(builtin, x0, steps)))
  local tn = per_step(numeric, x0, fd_steps)
  print(("%-6d %-28s %14.1f %10s"):format(d, "built-in (C)", tb * 1e9, "1"))
  print(("%-6d %-28s %14.1f %9.2fx"):format(d, "compiled", tc * 1e9, tc / tb))
  print(("%-6d %-28s %14.1f %9.2fx"):format(d, ("finite differences (%d steps)"):format(fd_steps),
        tn * 1e9, tn / tb))
  print(("%-6s compiled: %.2fx the built-in's time, %.0fx faster than finite differences"):format(
        "", tc / tb, tn / tc))
  bench.result(("objectives.d%d.builtin"):format(d), tb * 1e9, "ns/step", "lower")
  bench.result(("objectives.d%d.compiled"):format(d), tc * 1e9, "ns/step", "lower")
  bench.result(("objectives.d%d.numeric"):format(d), tn * 1e9, "ns/step", "lower")
end

-- A sweep over the compiled objective: every run is independent, so two
-- threads should take half the time.  The built-in Rosenbrock's sweep,
-- measured in turns with it, shows what the machine gives two threads.
local grid = {lr = {from = 1e-6, to = 1e-5, n = 16}, beta = {from = 0, to = 0.9, n = 16}}
local sweep_steps = bench.quick(20000, 2000)
local function sweep(f, threads)
  return measure(function()
    return ms.sweep{objective = f, rule = "momentum", x0 = {-1.2, 1}, steps = sweep_steps,
                    grid = grid, threads = threads, progress = false}
  end, 1)
end
print(("sweep of 256 runs x %d steps, d = 2 (1 and 2 threads in turns, best of %d):"):format(
      sweep_steps, 2 * opts["repeat"]))
for _, case in ipairs{{"compiled", compiled2},   -- warmed up: machine code
                      {"builtin", ms.objective.rosenbrock()}} do
  local name, f = case[1], case[2]
  local t1, t2, r1, r2 = math.huge, math.huge, nil, nil
  for _ = 1, 2 * opts["repeat"] do   -- in turns: a busy moment hits both
    local t
    t, r1 = sweep(f, 1)
    t1 = math.min(t1, t)
    t, r2 = sweep(f, 2)
    t2 = math.min(t2, t)
  end
  assert(r2.threads == 2, "the sweep did not use two threads")
  for i = 1, #r1 do assert(r1[i].loss == r2[i].loss, "threads changed a result") end
  print(("  %-9s 1 thread %.3f s, 2 threads %.3f s: speed-up %.2fx"):format(name, t1, t2, t1 / t2))
  bench.result(("objectives.sweep.%s.1thread"):format(name), t1, "s", "lower")
  bench.result(("objectives.sweep.%s.2threads"):format(name), t2, "s", "lower")
end
