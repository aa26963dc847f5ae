--- d2l 11.6 "Momentum": gradient descent and momentum on the
-- ill-conditioned f(x) = 0.1 x1^2 + 2 x2^2, from (-5, -2), 20 steps.
--
--   momsandbox scripts/trace2d.lua                  the chapter's four runs
--   momsandbox scripts/trace2d.lua --eta 0.6 --beta 0.9 --steps 40
--                                                   one run of your own
--
-- Prints d2l's line for each run (epoch 20, x1: ..., x2: ...) and writes
-- a figure (contours of f with the trajectory) and a CSV of the trajectory
-- per run into the output folder.
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/trace2d.lua [options]",
  help = "Without --eta/--beta/--steps/--x0 it runs the chapter's four experiments.",
  {"eta", "NUM", "learning rate of a custom run", type = "number", min = 0, max = 1e300},
  {"beta", "NUM", "momentum of a custom run (none: gradient descent)", type = "number",
   min = 0, below = 1},
  {"steps", "N", "steps of a custom run", type = "integer", min = 0, max = 1e7},
  {"x0", "X1,X2", "start of a custom run", type = "numbers", count = 2, min = -1e300, max = 1e300},
  ms.args.OUT, ms.args.FORMAT,
})

local f = ms.objective.quadratic{0.2, 4}   -- 1/2 (0.2 x1^2 + 4 x2^2)

-- The chapter's runs, or the one described on the command line.
local runs = {
  {eta = 0.4}, {eta = 0.6},
  {eta = 0.6, beta = 0.5}, {eta = 0.6, beta = 0.25},
}
if opts.eta or opts.beta or opts.steps or opts.x0 then
  runs = {{eta = opts.eta or 0.6, beta = opts.beta, steps = opts.steps, x0 = opts.x0}}
end

local function rule_of(run)
  if run.beta then return ms.momentum{lr = run.eta, beta = run.beta} end
  return ms.gd{lr = run.eta}
end

local function name_of(run)
  return run.beta and ("momentum-eta%g-beta%g"):format(run.eta, run.beta)
                   or ("gd-eta%g"):format(run.eta)
end

ms.util.mkdir(opts.out)
for _, run in ipairs(runs) do
  local rule = rule_of(run)
  local tr = ms.trace(f, rule, {x0 = run.x0 or {-5, -2}, steps = run.steps or 20})
  print(tr)
  local base = opts.out .. "/trace2d-" .. name_of(run)
  tr:csv(base .. ".csv")
  ms.args.wrote(base .. ".csv")
  if ms.plot.available() then
    ms.args.wrote(ms.plot.trace2d{f = f, traces = {tr}, file = base .. "." .. opts.format,
                                  title = tostring(rule)})
  else
    ms.plot.notice()
  end
end
