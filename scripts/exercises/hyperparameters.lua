--- d2l 11.6 exercise 1: "Use other combinations of momentum hyperparameters
-- and learning rates and observe and analyze the different experimental
-- results."  A sweep over (eta, beta) of the chapter's 2D trace -- momentum
-- on f = 0.1 x1^2 + 2 x2^2 from (-5, -2), 20 steps -- as a table, a heat
-- map of log10 f(x_20) with the edge of the stable region of the stiff
-- direction (lambda = 4: eta < (1 + beta) / 2), and a CSV of every point.
--
--   momsandbox scripts/exercises/hyperparameters.lua [--out DIR] [--steps 20]
--
-- A large grid splits across machines: each part runs one shard and writes
-- its rows, and the parts concatenate (in order) into the whole CSV:
--
--   for i in 1 2 3 4; do momsandbox .../hyperparameters.lua --grid 2000,2000 --shard $i/4 & done
--   cat out/hyperparameters-part-*.csv > out/hyperparameters.csv
--
-- (With Slurm: --shard $SLURM_ARRAY_TASK_ID/$SLURM_ARRAY_TASK_COUNT.)
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/exercises/hyperparameters.lua [options]",
  {"steps", "N", "steps of each run (the chapter's: 20)", type = "integer", default = 20,
   min = 1, max = 1e6},
  {"grid", "NX,NY", "points of the heat map in eta and beta", type = "integers", default = {120, 96},
   count = 2, min = 2, max = 4000},
  {"shard", "I/N", "run part I of N of the grid and write only its CSV rows"},
  ms.args.OUT, ms.args.FORMAT,
})
local nx, ny = opts.grid[1], opts.grid[2]
local shard
if opts.shard then
  local i, n = opts.shard:match("^(%d+)/(%d+)$")
  i, n = tonumber(i), tonumber(n)
  if not i or not n or i < 1 or i > n then ms.args.fail("--shard needs I/N with 1 <= I <= N") end
  shard = {i, n}
end

local f = ms.objective.quadratic{0.2, 4}
local x0 = {-5, -2}
ms.util.mkdir(opts.out)
local grid = {lr = {from = 0.01, to = 1.2, n = nx}, beta = {from = 0, to = 0.95, n = ny}}

if shard then
  local res = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = opts.steps,
                       grid = grid, shard = shard}
  local width = #tostring(shard[2])
  local file = ("%s/hyperparameters-part-%0" .. width .. "d.csv"):format(opts.out, shard[1])
  res:csv(file)
  print(("part %d of %d: points %d .. %d of %d written to %s"):format(shard[1], shard[2],
    res.first, res.first + #res - 1, res.total, file))
  return
end

-- The table: f(x_steps) for a few round values, as the chapter prints them.
local etas, betas = {0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0}, {0, 0.25, 0.5, 0.75, 0.9}
local coarse = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = opts.steps,
                        grid = {lr = etas, beta = betas}}
print(("f(x_%d) of momentum on 0.1 x1^2 + 2 x2^2 from (-5, -2):"):format(opts.steps))
io.write("beta \\ eta")
for _, eta in ipairs(etas) do io.write(("%9.1f"):format(eta)) end
io.write("\n")
for i, beta in ipairs(betas) do
  io.write(("%10.2f"):format(beta))
  for j = 1, #etas do io.write(("%9.1e"):format(coarse[(i - 1) * #etas + j].loss)) end
  io.write("\n")
end

-- The heat map; and the rate of the same grid in the long run.
local res = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = opts.steps, grid = grid}
res:csv(opts.out .. "/hyperparameters.csv")
ms.args.wrote(opts.out .. "/hyperparameters.csv")
local best = res:best("loss")
print(("best of %d points after %d steps: eta = %.3f, beta = %.3f: f = %.3g"):format(#res,
  opts.steps, best.lr, best.beta, best.loss))
local long = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = 2000, grid = grid,
                      measure = "rate"}
local fastest = long:best("rate")
local opt = ms.analysis.optimal(f)
print(("best rate over 2000 steps: eta = %.3f, beta = %.3f: %.4f per step; " ..
       "theory's optimum: eta = %.3f, beta = %.3f: %.4f"):format(
  fastest.lr, fastest.beta, fastest.rate, opt.momentum.lr, opt.momentum.beta, opt.momentum_rate))
if ms.plot.available() then
  local edge = {x = {}, y = {}, label = "eta = (1 + beta) / 2: x2 diverges beyond"}
  for i = 0, 19 do
    local b = 0.95 * i / 19
    edge.x[#edge.x + 1], edge.y[#edge.y + 1] = (1 + b) / 2, b
  end
  ms.args.wrote(res:heatmap{
    measure = "loss", log = true, zrange = {-12, 4},
    file = opts.out .. "/hyperparameters." .. opts.format, lines = {edge},
    title = ("log10 f(x_%d), momentum from (-5, -2)"):format(opts.steps),
    xlabel = "eta", ylabel = "beta", cblabel = "log10 f"})
else
  ms.plot.notice()
end
