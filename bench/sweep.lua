--- Benchmark: momentum coordinate-steps per second of the sweep engine
-- (ms.sweep on every core) against the same sweep written in pure Lua, in
-- one run.
--
--   momsandbox bench/sweep.lua [--grid N] [--steps N] [--repeat R]
--
-- The sweep: d2l's momentum on the chapter's f = 0.1 x1^2 + 2 x2^2 (two
-- coordinates) from (-5, -2), over an N x N grid of (lr, beta) in
-- [0.001, 0.05] x [0, 0.9], where every run neither diverges nor reaches
-- the floor of double precision, so that every step is taken.  A
-- coordinate-step is one coordinate of one run advanced by one step.  The
-- pure-Lua loop does the same arithmetic (the final losses agree bit for
-- bit) on every 64th point, which is plenty to time it.  A quick run
-- (MS_BENCH_QUICK=1, bench/results.lua) has a 128 x 128 grid.
local ms = require "momsandbox"
local bench = dofile((arg[0]:match("^(.*)/") or ".") .. "/results.lua")

local opts = ms.args.parse(arg, {
  usage = "momsandbox bench/sweep.lua [options]",
  {"grid", "N", "points per axis", type = "integer", default = bench.quick(256, 128)},
  {"steps", "N", "steps per run", type = "integer", default = 2000},
  {"repeat", "R", "measurements per loop (the best is kept)", type = "integer", default = 3},
})
local lambda = {0.2, 4}
local f = ms.objective.quadratic(lambda)
local x0 = {-5, -2}
local grid = {lr = {from = 0.001, to = 0.05, n = opts.grid}, beta = {from = 0, to = 0.9, n = opts.grid}}
local points = opts.grid * opts.grid

local measure = dofile((arg[0]:match("^(.*)/") or ".") .. "/best_time.lua")
local function best_time(fn) return measure(fn, opts["repeat"]) end

local function engine(what, threads)
  return best_time(function()
    return ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = opts.steps, grid = grid,
                    measure = what, threads = threads, progress = false}
  end)
end

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

local total = points * #lambda * opts.steps
local t_loss, res = engine("loss")
assert(res.fast and res.diverged == 0, "the benchmark grid must run every step")
for _, loss in ipairs(res:column("loss")) do assert(loss > 0, "a run reached the floor") end
local t_one = engine("loss", 1)
local t_rate = engine("rate")

local lrs, betas, losses = res:column("lr"), res:column("beta"), res:column("loss")
local every = 64
local t_lua = best_time(function()
  for k = 1, points, every do
    assert(lua_run(lrs[k], betas[k], opts.steps) == losses[k], "loops disagree")
  end
end)
local lua_rate = math.ceil(points / every) * #lambda * opts.steps / t_lua

print(("momentum sweep on 0.1 x1^2 + 2 x2^2 (d = 2): %d x %d (lr, beta), %d steps, best of %d")
  :format(opts.grid, opts.grid, opts.steps, opts["repeat"]))
print(("%-44s %16s"):format("loop", "coord-steps/s"))
print(("%-44s %16.3e"):format(("engine, final loss (%d threads)"):format(res.threads), total / t_loss))
print(("%-44s %16.3e"):format("engine, final loss (1 thread)", total / t_one))
print(("%-44s %16.3e"):format(("engine, rate: a log per run and step (%d threads)"):format(res.threads),
                              total / t_rate))
print(("%-44s %16.3e"):format("pure Lua (" .. _VERSION .. "), final loss", lua_rate))
print(("speed-up: %.0fx"):format(total / t_loss / lua_rate))
bench.result("engine_loss_threads", total / t_loss, "coord-steps/s", "higher")
bench.result("engine_loss_1_thread", total / t_one, "coord-steps/s", "higher")
bench.result("engine_rate_threads", total / t_rate, "coord-steps/s", "higher")
bench.result("pure_lua", lua_rate, "coord-steps/s", "higher", true)
