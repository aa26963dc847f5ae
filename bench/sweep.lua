--- Benchmark: momentum coordinate-steps per second of the sweep engine
-- (ms.sweep on every core, and on one) against its peers in the same run:
-- NumPy stepping the whole grid at once (vectorised over every point), a
-- plain C loop compiled here with `cc -O3 -march=native` (the "limit"),
-- and the same sweep in pure Lua.
--
--   momsandbox bench/sweep.lua [--grid N] [--steps N] [--repeat R]
--
-- The sweep: d2l's momentum on the chapter's f = 0.1 x1^2 + 2 x2^2 (two
-- coordinates) from (-5, -2), over an N x N grid of (lr, beta) in
-- [0.001, 0.05] x [0, 0.9], where every run neither diverges nor reaches
-- the floor of double precision, so that every step is taken.  A
-- coordinate-step is one coordinate of one run advanced by one step.
-- Every loop does the engine's arithmetic, operation for operation
-- (v = beta v + lambda x, x = x + (-lr) v; f summed as objective.c sums
-- it), and the C loop is compiled with -ffp-contract=off as the engine
-- is: the final losses agree bit for bit, which the benchmark checks (all
-- of them for C, every 16th for NumPy, every 64th for pure Lua, which
-- is plenty to time it).  The peers read the engine's lr and beta values
-- on their stdin, and time themselves (their start-up is not counted).
-- The rounds take turns (engine, NumPy, C, ...); each figure is the best
-- of its rounds.  NumPy comes from the first of python3, /usr/bin/python3
-- that can import it; without one (or without cc) that column is skipped,
-- and the benchmark says so.  A quick run (MS_BENCH_QUICK=1,
-- bench/results.lua) has a 128 x 128 grid.
local ms = require "momsandbox"
local bench = dofile((arg[0]:match("^(.*)/") or ".") .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/sweep.lua [options]",
  {"grid", "N", "points per axis", type = "integer", default = bench.quick(256, 128)},
  {"steps", "N", "steps per run", type = "integer", default = 2000},
  {"repeat", "R", "rounds (the best of each loop is kept)", type = "integer", default = 3},
})
local lambda = {0.2, 4}
local f = ms.objective.quadratic(lambda)
local x0 = {-5, -2}
local grid = {lr = {from = 0.001, to = 0.05, n = opts.grid}, beta = {from = 0, to = 0.9, n = opts.grid}}
local points = opts.grid * opts.grid
local total = points * #lambda * opts.steps

local function engine(threads, what)
  local t0 = ms.util.clock()
  local res = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = opts.steps, grid = grid,
                       measure = what or "loss", threads = threads, progress = false}
  return ms.util.clock() - t0, res
end

local _, res = engine()
assert(res.fast and res.diverged == 0, "the benchmark grid must run every step")
local losses = res:column("loss")
for _, loss in ipairs(losses) do assert(loss > 0, "a run reached the floor") end
local lrs, betas = res:column("lr"), res:column("beta")

--- The peers' stdin: steps, n, then the n lr values and the n beta values
-- of the grid (lr varies fastest), shortest exact decimals.
local input = {opts.steps, opts.grid}
for k = 1, opts.grid do input[#input + 1] = ms.util.format(lrs[k]) end
for k = 1, opts.grid do input[#input + 1] = ms.util.format(betas[(k - 1) * opts.grid + 1]) end
input = table.concat(input, "\n") .. "\n"

--- A peer's output: its time in seconds, then the losses of every
-- (every-th) point; an error when they differ from the engine's.
local function check_peer(name, out, every)
  local t, k = nil, 1
  for line in out:gmatch("[^\n]+") do
    if not t then
      t = assert(tonumber(line), name .. " printed no time")
    else
      local loss = tonumber(line)
      if loss ~= losses[k] then
        error(("%s: the loss of point %d is %s, the engine's %s"):format(name, k, line,
                                                                    ms.util.format(losses[k])))
      end
      k = k + every
    end
  end
  assert(k > points, name .. " printed too few losses")
  return t
end

------------------------------------------------------------ NumPy

local numpy_src = [==[
import sys, time
import numpy as np
data = sys.stdin.read().split()
steps, n = int(data[0]), int(data[1])
lr = np.array([float(s) for s in data[2:2 + n]])
beta = np.array([float(s) for s in data[2 + n:2 + 2 * n]])
B, L = np.meshgrid(beta, lr, indexing="ij")      # point k = i n + j: lr fastest
b, neta = B.ravel().copy(), -L.ravel()
l1, l2 = 0.2, 4.0
x1, x2 = np.full(b.shape, -5.0), np.full(b.shape, -2.0)
v1, v2 = np.zeros(b.shape), np.zeros(b.shape)
g, t = np.empty(b.shape), np.empty(b.shape)
start = time.perf_counter()
for _ in range(steps):                           # every point at once, in place
    for x, v, l in ((x1, v1, l1), (x2, v2, l2)):
        np.multiply(x, l, out=g)                 # g = lambda x
        np.multiply(b, v, out=v)
        np.add(v, g, out=v)                      # v = beta v + g
        np.multiply(neta, v, out=t)
        np.add(x, t, out=x)                      # x = x + (-lr) v
seconds = time.perf_counter() - start
loss = 0.0 + 0.5 * l1 * x1 * x1 + 0.5 * l2 * x2 * x2
print(repr(seconds))
print("\n".join(repr(v) for v in loss[::16].tolist()))
]==]

local python
for _, candidate in ipairs{"python3", "/usr/bin/python3"} do
  if not python and ms.util.run({candidate, "-c", "import numpy"}) then python = candidate end
end

local function numpy_round()
  local ok, status, out, err = ms.util.run({python, "-c", numpy_src}, input)
  assert(ok, ("%s (NumPy) failed (status %s): %s"):format(python, tostring(status), err or ""))
  return check_peer("NumPy", out, 16)
end

--------------------------------------------------------- the C limit

local c_src = [==[
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
enum { B = 32 };   /* points a block: their state stays in registers */
int main(int argc, char **argv) {
  int threads = atoi(argv[1]);
  long steps, n;
  if (scanf("%ld %ld", &steps, &n) != 2) return 1;
  double *lr = malloc(n * sizeof *lr), *beta = malloc(n * sizeof *beta);
  for (long i = 0; i < n; i++) if (scanf("%lf", &lr[i]) != 1) return 1;
  for (long i = 0; i < n; i++) if (scanf("%lf", &beta[i]) != 1) return 1;
  long points = n * n, blocks = (points + B - 1) / B;
  double *loss = malloc(blocks * B * sizeof *loss);
  const double l1 = 0.2, l2 = 4;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  #pragma omp parallel for num_threads(threads) schedule(dynamic, 16)
  for (long blk = 0; blk < blocks; blk++) {
    double x1[B], x2[B], v1[B], v2[B], b[B], e[B];
    for (int j = 0; j < B; j++) {
      long k = blk * B + j < points ? blk * B + j : points - 1;
      x1[j] = -5; x2[j] = -2; v1[j] = v2[j] = 0;
      b[j] = beta[k / n]; e[j] = -lr[k % n];
    }
    for (long t = 0; t < steps; t++)
      for (int j = 0; j < B; j++) {
        v1[j] = b[j] * v1[j] + l1 * x1[j];
        x1[j] = x1[j] + e[j] * v1[j];
        v2[j] = b[j] * v2[j] + l2 * x2[j];
        x2[j] = x2[j] + e[j] * v2[j];
      }
    for (int j = 0; j < B; j++)
      loss[blk * B + j] = 0.0 + 0.5 * l1 * x1[j] * x1[j] + 0.5 * l2 * x2[j] * x2[j];
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  printf("%.9f\n", (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec));
  for (long k = 0; k < points; k++) printf("%.17g\n", loss[k]);
  return 0;
}
]==]

--- The C loop compiled into a temporary file, or nil and why not: with
-- OpenMP for its threads, or on one thread without it.
local function compile_c()
  local src, exe = os.tmpname(), os.tmpname()
  ms.util.write(src .. ".c", c_src)
  os.remove(src)
  local cc = {"cc", "-O3", "-march=native", "-ffp-contract=off", "-o", exe, src .. ".c", "-fopenmp"}
  local ok, _, _, err = ms.util.run(cc)
  if not ok then
    cc[#cc] = nil
    ok, _, _, err = ms.util.run(cc)
  end
  os.remove(src .. ".c")
  if not ok then
    os.remove(exe)
    return nil, "cc failed: " .. tostring(err)
  end
  return exe
end

local c_exe, c_why = compile_c()

local function c_round(threads)
  local ok, status, out, err = ms.util.run({c_exe, tostring(threads)}, input)
  assert(ok, ("the C loop failed (status %s): %s"):format(tostring(status), err or ""))
  return check_peer("C", out, 1)
end

---------------------------------------------------------- pure Lua

--- One run in plain Lua: the loop of the engine, final loss as objective.c
-- sums it.
local function lua_run(lr, beta, steps)
  local x1, x2, v1, v2 = x0[1], x0[2], 0, 0
  local l1, l2, neta = lambda[1], lambda[2], -lr
  for _ = 1, steps do
    v1 = beta * v1 + l1 * x1
    x1 = x1 + neta * v1
    v2 = beta * v2 + l2 * x2
    x2 = x2 + neta * v2
  end
  return 0.0 + 0.5 * l1 * x1 * x1 + 0.5 * l2 * x2 * x2
end

local lua_every = 64
local function lua_round()
  local t0 = ms.util.clock()
  for k = 1, points, lua_every do
    assert(lua_run(lrs[k], betas[k], opts.steps) == losses[k], "loops disagree")
  end
  return ms.util.clock() - t0
end

------------------------------------------------------------ rounds

local best = {}
local function keep(name, t) best[name] = math.min(best[name] or math.huge, t) end
local threads = res.threads
for _ = 1, opts["repeat"] do
  collectgarbage("collect")
  keep("engine", engine())
  keep("engine1", engine(1))
  keep("rate", engine(nil, "rate"))
  if python then keep("numpy", numpy_round()) end
  if c_exe then
    keep("c", c_round(threads))
    keep("c1", c_round(1))
  end
  keep("lua", lua_round())
end
if c_exe then os.remove(c_exe) end

local function rate(t) return total / t end
local lua_rate = math.ceil(points / lua_every) * #lambda * opts.steps / best.lua
print(("momentum sweep on 0.1 x1^2 + 2 x2^2 (d = 2): %d x %d (lr, beta), %d steps, best of %d rounds")
  :format(opts.grid, opts.grid, opts.steps, opts["repeat"]))
print(("%-52s %16s %8s"):format("loop", "coord-steps/s", "engine/"))
local function row(name, r)
  print(("%-52s %16.3e %8.2f"):format(name, r, rate(best.engine) / r))
end
local plural = threads == 1 and "" or "s"
row(("engine, final loss (%d thread%s)"):format(threads, plural), rate(best.engine))
row("engine, final loss (1 thread)", rate(best.engine1))
row(("engine, rate: a log per run and step (%d thread%s)"):format(threads, plural), rate(best.rate))
if python then
  row(("NumPy, whole grid at once (%s)"):format(python), rate(best.numpy))
else
  print("NumPy: skipped (neither python3 nor /usr/bin/python3 can import numpy)")
end
if c_exe then
  row(("C limit, cc -O3 -march=native (%d thread%s)"):format(threads, plural), rate(best.c))
  row("C limit, cc -O3 -march=native (1 thread)", rate(best.c1))
else
  print("C limit: skipped (" .. c_why .. ")")
end
row("pure Lua (" .. (jit and jit.version or _VERSION) .. "), final loss", lua_rate)
print("final losses: the engine's, bit for bit, in every loop")

bench.result("engine_loss_threads", rate(best.engine), "coord-steps/s", "higher")
bench.result("engine_loss_1_thread", rate(best.engine1), "coord-steps/s", "higher")
bench.result("engine_rate_threads", rate(best.rate), "coord-steps/s", "higher")
if python then bench.result("numpy", rate(best.numpy), "coord-steps/s", "higher", true) end
if c_exe then
  bench.result("c_limit_threads", rate(best.c), "coord-steps/s", "higher", true)
  bench.result("c_limit_1_thread", rate(best.c1), "coord-steps/s", "higher", true)
end
bench.result("pure_lua", lua_rate, "coord-steps/s", "higher", true)
