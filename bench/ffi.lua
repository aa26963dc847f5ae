--- Benchmark: one momentum rule written in Lua, run by the LuaJIT binding
-- (bindings/ffi: LuaJIT compiles the rule into its trace loop) and by the
-- Lua 5.4 binding (the engine's C loop calls back into Lua at each step),
-- against the built-in C rule in the engine's C loop, at d = 2, 1e4 and
-- 1e6, in one run:
--
--   build/momsandbox-jit bench/ffi.lua [--repeat R] [--cli build/momsandbox]
--   build/momsandbox bench/ffi.lua [--repeat R]          (the same, as `make bench` runs it)
--
-- Under LuaJIT it measures the first column, then starts the momsandbox CLI
-- (Lua 5.4) on this same file with --measure for the other two; under the
-- CLI it hands the run to build/momsandbox-jit beside it.  Every
-- column is ms.trace on f(x) = 1/2 sum lambda_i x_i^2 recording only the
-- last point: per step the gradient, v = beta v + g, x = x - lr v, and the
-- loop's checks for NaN/Inf.  A quick run (MS_BENCH_QUICK=1,
-- bench/results.lua): 300 runs at d = 2, no d = 1e6, best of 3.
--
-- compare: momsandbox-jit
local ms = require "momsandbox"
local bench = dofile((arg[0]:match("^(.*)/") or ".") .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "build/momsandbox-jit bench/ffi.lua [options]",
  {"repeat", "R", "measurements per case (the best is kept)", type = "integer",
   default = bench.quick(5, 3)},
  {"cli", "PATH", "the momsandbox CLI to compare with (default: the one beside the library)"},
  {"measure", "", "print this interpreter's timings, for the LuaJIT run", type = "flag"},
})

-- The rule, written as bench/rules.lua writes it: axpby fuses
-- v = 1 g + beta v into one call.
local momentum = ms.rule{
  name = "momentum_lua", hyper = {lr = {min = 0}, beta = 0.9}, state = {"v"},
  step = function(p, g, s, h) p:axpy(-h.lr, s.v:axpby(1, g, h.beta)) end,
}

-- Runs short enough that the iterates stay well above the subnormal range.
local lr, beta = 0.01, 0.5
local cases = {
  {d = 2, steps = 1000, runs = bench.quick(1000, 300)},
  {d = 10000, steps = 1000, runs = 1},
  {d = 1000000, steps = 10, runs = 1},
}
if bench.quick_mode then cases[3] = nil end

--- Seconds per step of rule on case c: the best of opts.repeat runs.
local function per_step(rule, c)
  local lambda = {}
  for i = 1, c.d do lambda[i] = 1 + (i - 1) / c.d end
  local f, x0 = ms.objective.quadratic(lambda), ms.vec(c.d, 1)
  local best = math.huge
  for _ = 1, opts["repeat"] do
    collectgarbage("collect")
    local t0 = ms.util.clock()
    for _ = 1, c.runs do ms.trace(f, rule, {x0 = x0, steps = c.steps, every = c.steps}) end
    best = math.min(best, ms.util.clock() - t0)
  end
  return best / (c.runs * c.steps)
end

if opts.measure then   -- the Lua 5.4 run: the rule in Lua, then in C
  for _, c in ipairs(cases) do
    print(("%d %.17g %.17g"):format(c.d, per_step(momentum{lr = lr, beta = beta}, c),
                                    per_step(ms.momentum{lr = lr, beta = beta}, c)))
  end
  return
end

if not jit then   -- under the CLI: LuaJIT leads the run
  local launcher = (arg[-1]:match("^(.*)/") or ".") .. "/momsandbox-jit"
  local ok, status, out, err = ms.util.run({launcher, arg[0], "--repeat", tostring(opts["repeat"])})
  io.write(out or "")
  io.stderr:write(err or status or "")
  os.exit(ok and 0 or 1)
end

local jit_times = {}
for i, c in ipairs(cases) do jit_times[i] = per_step(momentum{lr = lr, beta = beta}, c) end

local cli = opts.cli or assert(ms.ffi.library:match("^(.*)/"), "no folder for the CLI") .. "/momsandbox"
local ok, status, out, err = ms.util.run({cli, arg[0], "--measure", "--repeat", tostring(opts["repeat"])})
if not ok then
  io.stderr:write(("bench/ffi.lua: %s failed (%s):\n%s"):format(cli, tostring(status), err or ""))
  os.exit(1)
end
local lua54, c_rule = {}, {}
for d, l, c in out:gmatch("(%d+) (%S+) (%S+)") do
  lua54[tonumber(d)], c_rule[tonumber(d)] = tonumber(l), tonumber(c)
end

local function cell(t, d)
  return ("%10.0f (%5.2f)"):format(1e9 * t, 1e9 * t / d)
end

print(("momentum rule written in Lua against the built-in C rule, best of %d;"):format(opts["repeat"]))
print("ns per step (per coordinate in brackets)")
print(("%9s %6s %20s %20s %20s %7s %7s"):format("d", "steps", "LuaJIT FFI, Lua rule",
      "Lua 5.4, Lua rule", "C loop, C rule", "FFI/C", "5.4/C"))
for i, c in ipairs(cases) do
  local l, k = lua54[c.d], c_rule[c.d]
  print(("%9d %6d %20s %20s %20s %6.2fx %6.2fx"):format(c.d, c.steps, cell(jit_times[i], c.d),
        cell(l, c.d), cell(k, c.d), jit_times[i] / k, l / k))
  bench.result("luajit_lua_rule_d" .. c.d, 1e9 * jit_times[i], "ns/step", "lower")
  bench.result("lua54_lua_rule_d" .. c.d, 1e9 * l, "ns/step", "lower")
  bench.result("c_rule_d" .. c.d, 1e9 * k, "ns/step", "lower")
end
