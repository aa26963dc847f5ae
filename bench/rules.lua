--- Benchmark: the cost of a step of momentum, in two tables, in one run.
--
--   momsandbox bench/rules.lua [--repeat R] [--rounds N]
--
-- 1. The engine's step against its peers: rule:step(x, g) of the built-in
--    momentum (v = beta v + g, x = x - lr v: one vectorised pass) against
--    torch.optim.SGD(momentum = beta).step() on a float64 tensor holding
--    the same numbers, NumPy's in-place ufuncs (v *= beta, v += g,
--    x -= lr v: four passes), and a plain C loop that this benchmark
--    compiles with `cc -O3 -march=native` (the "limit": what the hardware
--    gives a loop that does nothing else).  The gradient is given (no
--    objective), the state lives between steps (steady state).  PyTorch
--    runs on one thread (torch.set_num_threads(1)), as the engine's step
--    does.  Rounds take turns -- engine, PyTorch and NumPy, C -- and each
--    figure is the best of its rounds; a peer runs in a process of its own
--    for each round and is warmed up before it is timed.  Python is the
--    first of `python3` (in PATH) and /usr/bin/python3 that imports torch
--    (./setup.sh --bench installs it), else that imports numpy; a column
--    whose peer is missing says so.
-- 2. The rule written in Lua with ms.rule, the built-in C rule and the
--    same rule in plain Lua loops over tables, in ms.trace on
--    f(x) = 1/2 sum lambda_i x_i^2: the gradient, v = beta v + g,
--    x = x - lr v.  The engine's loops also check x and g for NaN/Inf at
--    every step; the plain Lua loop does not.
--
-- At d = 2, 1e2, 1e4 and 1e6.  A quick run (MS_BENCH_QUICK=1,
-- bench/results.lua) does a quarter of the work per measurement, leaves
-- out d = 1e6 and the Python peers.
local ms = require "momsandbox"
local here = arg[0]:match("^(.*)/") or "."
local bench = dofile(here .. "/results.lua")
local measure = dofile(here .. "/best_time.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/rules.lua [options]",
  {"repeat", "R", "measurements per case and round (the best is kept)",
   type = "integer", default = bench.quick(5, 3)},
  {"rounds", "N", "rounds of the peers' table, taking turns", type = "integer",
   default = bench.quick(5, 2)},
})
local function best_time(fn) return measure(fn, opts["repeat"]) end

local sizes = bench.quick({2, 100, 10000, 1000000}, {2, 100, 10000})
-- Runs short enough that the iterates stay well above the subnormal range,
-- whose slow arithmetic would otherwise be what is measured.
local lr, beta = 0.01, 0.5
-- The peers' table: x = 1 and g_i = 1 + (i - 1) / d, stepped for good
-- (v tends to g / (1 - beta), x drifts by lr v a step: no subnormals).
local peer_lr, peer_beta = 1e-9, 0.9
local function steps_for(d) return math.max(10, math.min(2000, math.floor(bench.quick(2e7, 5e6) / d))) end

-- ------------------------------------------------------------ the peers

--- The Python side of a round: every size, PyTorch then NumPy, each
-- warmed up, then the best of `repeat` timings of `steps` steps.  Prints
-- "torch|numpy d seconds_per_step", or "<name> none <why>".
local python_peers = [[
import sys, time
lr, beta, rep = float(sys.argv[1]), float(sys.argv[2]), int(sys.argv[3])
cases = [(int(a), int(b)) for a, b in (c.split(":") for c in sys.argv[4:])]
def best(step, steps):
    for _ in range(max(3, steps // 10)): step()
    b = float("inf")
    for _ in range(rep):
        t0 = time.perf_counter()
        for _ in range(steps): step()
        b = min(b, time.perf_counter() - t0)
    return b / steps
try:
    import torch
    torch.set_num_threads(1)
    for d, steps in cases:
        p = torch.ones(d, dtype=torch.float64, requires_grad=True)
        p.grad = 1 + torch.arange(d, dtype=torch.float64) / d
        opt = torch.optim.SGD([p], lr=lr, momentum=beta)
        print("torch", d, repr(best(opt.step, steps)))
    print("torch-version", torch.__version__, torch.get_num_threads())
except ImportError as e:
    print("torch none", e)
try:
    import numpy as np
    for d, steps in cases:
        x, v = np.ones(d), np.zeros(d)
        g, tmp = 1 + np.arange(d, dtype=np.float64) / d, np.empty(d)
        def step():
            np.multiply(v, beta, out=v)
            np.add(v, g, out=v)
            np.multiply(v, -lr, out=tmp)
            np.add(x, tmp, out=x)
        print("numpy", d, repr(best(step, steps)))
    print("numpy-version", np.__version__)
except ImportError as e:
    print("numpy none", e)
]]

--- The limit: the same loop in C, its arrays from malloc, built by cc.
local c_limit = [[
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
static double now(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return t.tv_sec + 1e-9 * t.tv_nsec;
}
int main(int argc, char **argv) {
  double lr = atof(argv[1]), beta = atof(argv[2]);
  int rep = atoi(argv[3]);
  for (int c = 4; c < argc; c++) {
    long d = atol(argv[c]), steps = atol(argv[c + 1 < argc ? c + 1 : c]);
    if (c + 1 >= argc) return 1;
    c++;
    double *x = malloc(d * sizeof *x), *g = malloc(d * sizeof *g);
    double *v = calloc(d, sizeof *v);
    for (long i = 0; i < d; i++) x[i] = 1, g[i] = 1 + (double)i / d;
    double best = 1e300;
    for (int r = -1; r < rep; r++) {   /* r = -1: the warm-up */
      double t0 = now();
      for (long s = 0; s < steps; s++)
        for (long i = 0; i < d; i++) {
          v[i] = beta * v[i] + g[i];
          x[i] += -lr * v[i];
        }
      double t = (now() - t0) / steps;
      if (r >= 0 && t < best) best = t;
    }
    printf("c %ld %.17g %.17g\n", d, best, x[d / 2]);
    free(x), free(g), free(v);
  }
  return 0;
}
]]

local function tmpdir()
  local ok, _, out = ms.util.run({"mktemp", "-d"})
  return ok and out:match("^(.-)%s*$") or nil
end

--- Build the C loop; returns the program's path, or nil and why.
local function build_limit(dir)
  if dir == nil then return nil, "no temporary folder (mktemp -d failed)" end
  ms.util.write(dir .. "/limit.c", c_limit)
  local ok, status, _, err = ms.util.run({"cc", "-O3", "-march=native",
    "-ffp-contract=off", "-o", dir .. "/limit", dir .. "/limit.c"})
  if ok then return dir .. "/limit" end
  return nil, "cc failed: " .. tostring(status ~= nil and err or status)
end

--- The first Python of the list that imports torch, else numpy; nil and
-- why when none does.
local function find_python()
  local found = {}
  for _, p in ipairs({ms.util.which("python3"), "/usr/bin/python3"}) do
    if not found[p] then
      found[p] = true
      for _, mod in ipairs({"torch", "numpy"}) do
        if ms.util.run({p, "-c", "import " .. mod}) then
          found[#found + 1] = {python = p, module = mod}
          break
        end
      end
    end
  end
  for _, want in ipairs({"torch", "numpy"}) do
    for _, f in ipairs(found) do
      if f.module == want then return f.python end
    end
  end
  return nil, "neither python3 nor /usr/bin/python3 imports torch or numpy " ..
              "(./setup.sh --bench installs them)"
end

--- Lines "name d value" of a peer's output into t[name][d] = min(...).
local function collect(t, out, info)
  for line in out:gmatch("[^\n]+") do
    local name, d, value = line:match("^(%S+) (%d+) (%S+)")
    if name and tonumber(value) then
      d = tonumber(d)
      t[name] = t[name] or {}
      t[name][d] = math.min(t[name][d] or math.huge, tonumber(value))
    else
      local key, rest = line:match("^(%S+) (.*)$")
      if key then info[key] = rest end
    end
  end
end

local function peers_table()
  local cases, list = {}, {}
  for _, d in ipairs(sizes) do
    local steps = steps_for(d)
    cases[#cases + 1] = d .. ":" .. steps
    list[#list + 1] = d
    list[#list + 1] = steps
  end
  local dir = tmpdir()
  local limit, why_c = build_limit(dir)
  local python, why_py
  if bench.quick_mode then
    why_py = "left out in a quick run"
  else
    python, why_py = find_python()
  end
  local best, info = {}, {}
  local vecs = {}
  for _, d in ipairs(sizes) do
    local x, g = ms.vec(d), ms.vec(d)
    for i = 1, d do x[i], g[i] = 1, 1 + (i - 1) / d end
    vecs[d] = {x = x, g = g, rule = ms.momentum{lr = peer_lr, beta = peer_beta}}
  end
  for round = 1, opts.rounds do
    for _, d in ipairs(sizes) do
      local c, steps = vecs[d], steps_for(d)
      local rule, x, g = c.rule, c.x, c.g
      if round == 1 then
        for _ = 1, math.max(3, math.floor(steps / 10)) do rule:step(x, g) end
      end
      local t = best_time(function() for _ = 1, steps do rule:step(x, g) end end) / steps
      best.engine = best.engine or {}
      best.engine[d] = math.min(best.engine[d] or math.huge, t)
    end
    if python then
      local argv = {python, "-", tostring(peer_lr), tostring(peer_beta), tostring(opts["repeat"])}
      for _, c in ipairs(cases) do argv[#argv + 1] = c end
      local ok, _, out, err = ms.util.run(argv, python_peers)
      if not ok then why_py, python = "python failed: " .. tostring(err or _), nil
      else collect(best, out, info) end
    end
    if limit then
      local argv = {limit, tostring(peer_lr), tostring(peer_beta), tostring(opts["repeat"])}
      for _, v in ipairs(list) do argv[#argv + 1] = tostring(v) end
      local ok, _, out = ms.util.run(argv)
      if ok then collect(best, out, info) else limit, why_c = nil, "the C loop failed" end
    end
  end
  if dir then ms.util.run({"rm", "-rf", dir}) end

  print(("momentum step, lr = %g, beta = %g, gradient given, steady state; best of %d rounds x %d;")
        :format(peer_lr, peer_beta, opts.rounds, opts["repeat"]))
  print("ns per step (per coordinate in brackets)")
  print(("engine: rule:step at SIMD level %s (MS_SIMD=scalar|sse2|avx2|avx512 to compare)"):format(
        os.getenv("MS_SIMD") or "auto"))
  if python then
    print(("python: %s; torch %s"):format(python,
      info.torch and "missing (" .. info.torch:gsub("^none ", "") .. ")" or
      ("%s on %s thread(s) (torch.set_num_threads(1), as the engine's step)"):format(
        (info["torch-version"] or "?"):match("^(%S+)"),
        (info["torch-version"] or "? ?"):match("(%S+)$"))))
    if info.numpy then print("numpy: missing (" .. info.numpy:gsub("^none ", "") .. ")") end
  else
    print("PyTorch and NumPy: " .. why_py)
  end
  if not limit then print("C limit: " .. why_c) end
  print(("%9s %7s %18s %18s %18s %18s %12s %12s"):format("d", "steps", "engine",
        "torch.optim.SGD", "NumPy", "C -O3 (limit)", "torch/engine", "engine/limit"))
  local function cell(t, d)
    if t == nil then return ("%18s"):format("-") end
    return ("%9.0f (%6.2f)"):format(1e9 * t, 1e9 * t / d)
  end
  local function ratio(a, b)
    if a == nil or b == nil then return ("%12s"):format("-") end
    return ("%11.2fx"):format(a / b)
  end
  for _, d in ipairs(sizes) do
    local e = best.engine[d]
    local tt, np, c = (best.torch or {})[d], (best.numpy or {})[d], (best.c or {})[d]
    print(("%9d %7d %s %s %s %s %s %s"):format(d, steps_for(d), cell(e, d), cell(tt, d),
          cell(np, d), cell(c, d), ratio(tt, e), ratio(e, c)))
    bench.result("step_d" .. d, 1e9 * e, "ns/step", "lower")
    if tt then bench.result("torch_sgd_d" .. d, 1e9 * tt, "ns/step", "lower", true) end
    if np then bench.result("numpy_d" .. d, 1e9 * np, "ns/step", "lower", true) end
    if c then bench.result("c_limit_d" .. d, 1e9 * c, "ns/step", "lower", true) end
  end
  print()
end

-- -------------------------------------------- Lua rules and plain Lua

-- Momentum in Lua on the engine's vectors.  axpby fuses v = 1 g + beta v
-- into one call (the clearer s.v:scale(h.beta):add(g) makes two): each call
-- from Lua into C costs tens of nanoseconds, which only matters at small d.
local momentum = ms.rule{
  name = "momentum_lua", hyper = {lr = {min = 0}, beta = 0.9}, state = {"v"},
  step = function(p, g, s, h) p:axpy(-h.lr, s.v:axpby(1, g, h.beta)) end,
}

--- The same loop in plain Lua: tables, and loops over their entries.
local function plain_lua(lambda, x0, lr_, beta_, steps)
  local n, x, v, g = #x0, {}, {}, {}
  for i = 1, n do x[i], v[i] = x0[i], 0 end
  for _ = 1, steps do
    for i = 1, n do g[i] = lambda[i] * x[i] end
    for i = 1, n do
      v[i] = beta_ * v[i] + g[i]
      x[i] = x[i] - lr_ * v[i]
    end
  end
  return x
end

local function trace_table()
  print(("momentum in ms.trace, best of %d; ns per step (per coordinate in brackets)"):format(opts["repeat"]))
  print(("%9s %7s %20s %20s %20s %9s %11s"):format("d", "steps", "built-in C",
        "ms.rule (Lua)", "plain Lua tables", "Lua/C", "Lua - C ns"))
  for _, d in ipairs(sizes) do
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
end

peers_table()
trace_table()
