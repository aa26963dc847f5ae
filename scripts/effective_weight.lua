--- d2l 11.6.1.2 "Effective sample weight": momentum sums past gradients
-- with weights beta^t.  The weights here are measured, not evaluated: a
-- single unit gradient is fed to the engine's momentum rule at step 1 and
-- zero gradients afterwards, so the velocity after step t + 1 holds the
-- weight that gradient carries t steps later, beta^t.
--
--   momsandbox scripts/effective_weight.lua [--out DIR] [--steps 40]
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/effective_weight.lua [options]",
  {"betas", "B1,B2,...", "momentum values", type = "numbers", default = {0.95, 0.9, 0.6, 0},
   min = 0, below = 1},
  {"steps", "N", "weights for t = 0 .. N-1", type = "integer", default = 40, min = 1, max = 1e6},
  ms.args.OUT, ms.args.FORMAT,
})

--- beta^t for t = 0 .. steps-1, read off the momentum rule's velocity.
local function weights(beta, steps)
  local rule = ms.momentum{lr = 0, beta = beta}   -- lr = 0: x stays put
  local x, ts, ws = ms.vec{0}, {}, {}
  for t = 0, steps - 1 do
    rule:step(x, {t == 0 and 1 or 0})
    ts[#ts + 1], ws[#ws + 1] = t, rule:state().v[1]
  end
  return ts, ws
end

local function sum(t)
  local s = 0
  for _, v in ipairs(t) do s = s + v end
  return s
end

ms.util.mkdir(opts.out)
local series, csv = {}, {{"beta", "t", "weight"}}
for _, beta in ipairs(opts.betas) do
  local ts, ws = weights(beta, opts.steps)
  series[#series + 1] = {x = ts, y = ws, label = ("beta = %.2f"):format(beta)}
  for i = 1, #ts do
    csv[#csv + 1] = {beta, ts[i], ws[i]}
  end
  -- the weights sum to (1 - beta^steps) / (1 - beta), close to 1 / (1 - beta)
  print(("beta = %.2f: weight %d steps back %.6f, sum of weights %.6f (1/(1-beta) = %.6f)"):format(
    beta, #ws - 1, ws[#ws], sum(ws), 1 / (1 - beta)))
end

ms.args.wrote(ms.util.csv(opts.out .. "/effective_weight.csv", csv))
if ms.plot.available() then
  ms.args.wrote(ms.plot.lines{series = series, file = opts.out .. "/effective_weight." .. opts.format,
                              title = "Effective weight of a gradient t steps back",
                              xlabel = "time", ylabel = "beta^t"})
else
  ms.plot.notice()
end
