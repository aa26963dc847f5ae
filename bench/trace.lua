--- Benchmark: the engine's trace loop (ms.trace) against a plain LuaJIT
-- loop over scalars and a plain C loop (the limit), at 20, 1,000 and 2e6
-- steps, and the cost of one 20-step call, in one run.
--
--   momsandbox bench/trace.lua [--rounds R]      (or momsandbox-jit)
--
-- Every loop does the same work per step on the chapter's
-- f = 0.1 x1^2 + 2 x2^2 from (-5, -2): the gradient, d2l's momentum update,
-- f at the new point, and the point and f stored into the trajectory it
-- returns.  The C loop is compiled here with `cc -O2` from a temporary
-- file, its buffer allocated once outside the timing; the LuaJIT loop
-- stores into fresh tables, as a script would.  Under Lua 5.4 the LuaJIT
-- loop runs in the `luajit` interpreter (a column left out where there is
-- none); under momsandbox-jit in-process.  The peers run interleaved,
-- round after round, and each figure is the best of its rounds.  Each
-- measurement runs a tenth of its runs untimed first: the first runs after
-- the C loop's process are slower (by 0.3 us a 1,000-step ms.trace,
-- averaged over a measurement), and only the next peer would pay it.
--
-- 20 and 1,000 steps follow the chapter (lr 0.6, beta 0.5); 2e6 steps use
-- lr 1e-5, which keeps the run away from subnormal numbers, whose slow
-- arithmetic would be measured instead of the loop.
local ms = require "momsandbox"
local here = arg[0]:match("^(.*)/") or "."
local bench = dofile(here .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/trace.lua [options]",
  {"rounds", "R", "rounds of every measurement (the best is kept)", type = "integer",
   default = bench.quick(5, 3)},
})
local jit_here = rawget(_G, "jit") ~= nil
local lambda = {0.2, 4}
local f = ms.objective.quadratic(lambda)
local x0 = {-5, -2}

-- sizes: steps, lr, and steps per measurement (about 20 ms of engine time)
local sizes = {
  {steps = 20, lr = 0.6, work = bench.quick(1e6, 4e5)},
  {steps = 1000, lr = 0.6, work = bench.quick(2e6, 1e6)},
  {steps = 2000000, lr = 1e-5, work = bench.quick(4e6, 2e6)},
}
local beta = 0.5

---------------------------------------------------------------- the peers

-- The LuaJIT loop: its source, run as a chunk (momsandbox-jit) or as a
-- script of the `luajit` interpreter (arg: steps lr beta runs).
local luajit_source = [[
local steps, lr, beta, runs = ...
local l1, l2 = 0.2, 4
local clock = os.clock
local function run()
  local X1, X2, F = {}, {}, {}
  local x1, x2, v1, v2 = -5, -2, 0, 0
  X1[1], X2[1], F[1] = x1, x2, 0.5 * l1 * x1 * x1 + 0.5 * l2 * x2 * x2
  for t = 2, steps + 1 do
    v1 = beta * v1 + l1 * x1
    v2 = beta * v2 + l2 * x2
    x1 = x1 - lr * v1
    x2 = x2 - lr * v2
    X1[t], X2[t], F[t] = x1, x2, 0.5 * l1 * x1 * x1 + 0.5 * l2 * x2 * x2
  end
  return X1, X2, F
end
for _ = 1, math.ceil(runs / 10) do run() end
local t0 = clock()
for _ = 1, runs do run() end
return (clock() - t0) / runs
]]

local luajit_in_process = jit_here and assert(load(luajit_source, "=luajit_loop"))
local tmp = os.tmpname()
local luajit_file, have_luajit = tmp .. ".lua", false
if not jit_here then   -- as a script: its arguments from arg, its time printed
  local script = luajit_source
    :gsub("^local steps, lr, beta, runs = %.%.%.", "local steps, lr, beta, runs = " ..
          "tonumber(arg[1]), tonumber(arg[2]), tonumber(arg[3]), tonumber(arg[4])")
    :gsub("return (%(clock%(%) %- t0%) / runs)%s*$", "print(string.format('%%.17g', %1))\n")
  local fh = assert(io.open(luajit_file, "w"))
  fh:write(script)
  fh:close()
  local p = io.popen("luajit " .. luajit_file .. " 1 0.5 0.5 1 2>/dev/null")
  have_luajit = p ~= nil and tonumber(p:read("*l") or "") ~= nil
  if p then p:close() end
end

--- Seconds per run of the LuaJIT loop, or nil without LuaJIT.
local function luajit_time(steps, lr, runs)
  if luajit_in_process then return luajit_in_process(steps, lr, beta, runs) end
  if not have_luajit then return nil end
  local p = io.popen(("luajit %s %d %.17g %.17g %d"):format(luajit_file, steps, lr, beta, runs))
  local t = tonumber(p:read("*l") or "")
  p:close()
  return t
end

-- The C loop, the limit: compiled once, run once per measurement
-- (arguments: steps lr beta runs), printing seconds per run.
local c_source = [[
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + 1e-9 * ts.tv_nsec;
}
int main(int argc, char **argv) {
  if (argc != 5) return 2;
  long steps = atol(argv[1]), runs = atol(argv[4]);
  double lr = atof(argv[2]), beta = atof(argv[3]), l1 = 0.2, l2 = 4;
  double *buf = malloc((size_t)(steps + 1) * 3 * sizeof(double)), sink = 0;
  if (buf == NULL) return 1;
  double t0 = 0;
  for (long r = -(runs + 9) / 10; r < runs; r++) {  /* r < 0: untimed */
    if (r == 0) t0 = now();
    double x1 = -5, x2 = -2, v1 = 0, v2 = 0, *p = buf;
    p[0] = x1, p[1] = x2, p[2] = 0.5 * l1 * x1 * x1 + 0.5 * l2 * x2 * x2;
    for (long t = 1; t <= steps; t++) {
      v1 = beta * v1 + l1 * x1;
      v2 = beta * v2 + l2 * x2;
      x1 = x1 - lr * v1;
      x2 = x2 - lr * v2;
      p += 3;
      p[0] = x1, p[1] = x2, p[2] = 0.5 * l1 * x1 * x1 + 0.5 * l2 * x2 * x2;
    }
    sink += p[2];
    __asm__ volatile("" : : "r"(buf) : "memory");   /* the stores stand */
  }
  printf("%.17g %g\n", (now() - t0) / runs, sink);
  free(buf);
  return 0;
}
]]
local c_exe = tmp .. ".limit"
do
  local fh = assert(io.open(tmp .. ".c", "w"))
  fh:write(c_source)
  fh:close()
end
local have_c = os.execute(("cc -O2 -o %s %s.c 2>/dev/null"):format(c_exe, tmp))
have_c = have_c == true or have_c == 0

local function c_time(steps, lr, runs)
  if not have_c then return nil end
  local p = io.popen(("%s %d %.17g %.17g %d"):format(c_exe, steps, lr, beta, runs))
  local t = tonumber((p:read("*l") or ""):match("^(%S+)"))
  p:close()
  return t
end

--- Seconds per ms.trace run.
local function engine_time(steps, lr, runs)
  local rule = ms.momentum{lr = lr, beta = beta}
  collectgarbage("collect")
  for _ = 1, math.ceil(runs / 10) do ms.trace(f, rule, {x0 = x0, steps = steps}) end
  local t0 = ms.util.clock()
  for _ = 1, runs do ms.trace(f, rule, {x0 = x0, steps = steps}) end
  return (ms.util.clock() - t0) / runs
end

-- Same trajectory first: the engine's last point is the loops'.
do
  local tr = ms.trace(f, ms.momentum{lr = 0.6, beta = beta}, {x0 = x0, steps = 1000})
  local x1, x2, v1, v2 = -5, -2, 0, 0
  for _ = 1, 1000 do
    v1 = beta * v1 + lambda[1] * x1
    v2 = beta * v2 + lambda[2] * x2
    x1 = x1 - 0.6 * v1
    x2 = x2 - 0.6 * v2
  end
  assert(tr[-1][1] == x1 and tr[-1][2] == x2, "the loops disagree")
end

------------------------------------------------------------ measurements

local best = {}
local function keep(key, t)
  if t ~= nil then best[key] = math.min(best[key] or math.huge, t) end
end
for _ = 1, opts.rounds do
  for k, s in ipairs(sizes) do
    local runs = math.max(1, math.floor(s.work / s.steps))
    keep("engine" .. k, engine_time(s.steps, s.lr, runs))
    keep("luajit" .. k, luajit_time(s.steps, s.lr, runs))
    keep("c" .. k, c_time(s.steps, s.lr, runs))
  end
end
os.remove(tmp)
os.remove(tmp .. ".c")
os.remove(c_exe)
os.remove(luajit_file)

local function ns(key, steps)
  return best[key] and ("%10.2f"):format(1e9 * best[key] / steps) or ("%10s"):format("-")
end
print(("momentum trace, d = 2, points stored; ns/step, best of %d rounds (%s)")
  :format(opts.rounds, _VERSION .. (jit_here and " / " .. jit.version or "")))
print(("%-10s %10s %10s %10s %8s %8s"):format("steps", "ms.trace", "LuaJIT", "C (limit)",
                                              "vs C", "vs LuaJIT"))
for k, s in ipairs(sizes) do
  local e, l, c = best["engine" .. k], best["luajit" .. k], best["c" .. k]
  print(("%-10d %s %s %s %8s %8s"):format(s.steps, ns("engine" .. k, s.steps),
        ns("luajit" .. k, s.steps), ns("c" .. k, s.steps),
        c and ("%.2fx"):format(e / c) or "-", l and ("%.2fx"):format(l / e) or "-"))
end
if not have_c then print("(no C column: `cc` could not build the loop)") end
if not jit_here and not have_luajit then print("(no LuaJIT column: no `luajit` to run it)") end
print(("one 20-step ms.trace call: %.3f us (LuaJIT loop %s, C loop %s)"):format(
  1e6 * best.engine1,
  best.luajit1 and ("%.3f us"):format(1e6 * best.luajit1) or "-",
  best.c1 and ("%.3f us"):format(1e6 * best.c1) or "-"))

for k, s in ipairs(sizes) do
  local tag = s.steps == 2000000 and "2e6" or tostring(s.steps)
  bench.result("ms.trace_" .. tag, 1e9 * best["engine" .. k] / s.steps, "ns/step", "lower")
  if best["c" .. k] then
    bench.result("c_loop_" .. tag, 1e9 * best["c" .. k] / s.steps, "ns/step", "lower", true)
  end
  if best["luajit" .. k] then
    bench.result("luajit_loop_" .. tag, 1e9 * best["luajit" .. k] / s.steps, "ns/step", "lower", true)
  end
end
bench.result("ms.trace_call_20_steps", 1e6 * best.engine1, "us/call", "lower")
