--- Learning-rate schedules: the built-ins drawn over 100 steps, then
-- momentum on the chapter's f = 0.1 x1^2 + 2 x2^2 with three of them
-- against a constant rate.  Any hyper-parameter may follow a schedule:
-- the last run also schedules beta, with a plain Lua function.
--
--   momsandbox scripts/schedules.lua [--out DIR] [--steps 100]
local ms = require "momsandbox"
local S = ms.schedule

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/schedules.lua [options]",
  {"steps", "N", "steps drawn and run", type = "integer", default = 100, min = 20, max = 1e6},
  ms.args.OUT, ms.args.FORMAT,
})
local n = opts.steps
local function part(k) return math.floor(n / k) end   -- n / k, rounded down

local schedules = {
  S.constant{lr = 0.6},
  S.step{lr = 0.6, step_size = part(4), gamma = 0.5},
  S.multistep{lr = 0.6, milestones = {part(2), math.floor(3 * n / 4)}, gamma = 0.1},
  S.exponential{lr = 0.6, gamma = 0.97},
  S.cosine{lr = 0.6, steps = n},
  S.cosine{lr = 0.6, steps = part(4), restarts = true},
  S.polynomial{lr = 0.6, steps = n, power = 2},
  S.inverse_sqrt{lr = 0.6, warmup = part(10)},
  S.warmup{steps = part(10), after = S.cosine{lr = 0.6, steps = n - part(10)}},
}

ms.util.mkdir(opts.out)
local series, csv = {}, {{"schedule", "t", "value"}}
for _, s in ipairs(schedules) do
  local values, ts = s:values(n), {}
  for t = 1, n do
    ts[t] = t
    csv[#csv + 1] = {tostring(s), t, values[t]}
  end
  series[#series + 1] = {x = ts, y = values, label = tostring(s)}
end
ms.args.wrote(ms.util.csv(opts.out .. "/schedules.csv", csv))

local f = ms.objective.quadratic{0.2, 4}
local runs = {
  ms.momentum{lr = 0.6, beta = 0.5},
  ms.momentum{lr = S.cosine{lr = 0.6, steps = n}, beta = 0.5},
  ms.momentum{lr = S.warmup{steps = 10, after = 0.6}, beta = 0.5},
  ms.momentum{lr = S.exponential{lr = 0.6, gamma = 0.97},
              beta = function(t) return 0.5 * (1 - 1 / (t + 1)) end},
}
local traces, curves = {}, {}
for i, rule in ipairs(runs) do
  traces[i] = ms.trace(f, rule, {x0 = {-5, -2}, steps = n})
  print(("%-70s %s, f: %.3e"):format(traces[i].rule, tostring(traces[i]), traces[i]:value(#traces[i])))
  local ts = {}
  for k = 1, #traces[i] do ts[k] = traces[i]:step(k) end
  curves[i] = {x = ts, y = traces[i]:values(), label = traces[i].rule}
end

if ms.plot.available() then
  ms.args.wrote(ms.plot.lines{series = series, file = opts.out .. "/schedules." .. opts.format,
                title = "Built-in schedules", xlabel = "step t", ylabel = "value", key = "below",
                size = {800, 700}})
  ms.args.wrote(ms.plot.lines{series = curves, file = opts.out .. "/schedules-runs." .. opts.format,
                title = "Momentum (beta = 0.5) on 0.1 x1^2 + 2 x2^2 with scheduled rates",
                xlabel = "step t", ylabel = "f(x_t)", logy = true, key = "below", size = {800, 600}})
  ms.args.wrote(ms.plot.trace2d{f = f, traces = traces, file = opts.out .. "/schedules-trace." .. opts.format,
                  title = "Trajectories", key = "below", size = {800, 700}})
else
  ms.plot.notice()
end
