--- d2l 11.6.3.2 "Scalar functions": gradient descent on f(x) = lambda/2 x^2
-- from x = 1 gives x_t = (1 - eta lambda)^t.  The values come from runs of
-- the engine, for lambda in {0.1, 1, 10, 19} and eta = 0.1: the iterate
-- shrinks slowly, fast, in a single step, and while oscillating; any
-- lambda > 2 / eta = 20 would make |1 - eta lambda| > 1 and diverge.
--
--   momsandbox scripts/scalar_convergence.lua [--out DIR] [--eta 0.1]
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/scalar_convergence.lua [options]",
  {"lambdas", "L1,L2,...", "curvatures", type = "numbers", default = {0.1, 1, 10, 19},
   min = -1e6, max = 1e6},
  {"eta", "NUM", "learning rate", type = "number", default = 0.1, min = 0, max = 1e6},
  {"steps", "N", "iterates x_0 .. x_(N-1)", type = "integer", default = 20, min = 1, max = 1e6},
  ms.args.OUT, ms.args.FORMAT,
})

ms.util.mkdir(opts.out)
local series, csv = {}, {{"lambda", "t", "x"}}
for _, lambda in ipairs(opts.lambdas) do
  local f = ms.objective.quadratic{lambda}
  local tr = ms.trace(f, ms.gd{lr = opts.eta}, {x0 = {1}, steps = opts.steps - 1})
  local ts, xs = {}, tr:column(1)
  for i = 1, #tr do
    ts[i] = tr:step(i)
    csv[#csv + 1] = {lambda, ts[i], xs[i]}
  end
  series[#series + 1] = {x = ts, y = xs, label = ("lambda = %.2f"):format(lambda)}
  print(("lambda = %5.2f: 1 - eta*lambda = %6.2f, x_%d = %.6g"):format(
    lambda, 1 - opts.eta * lambda, ts[#ts], xs[#xs]))
end

ms.args.wrote(ms.util.csv(opts.out .. "/scalar_convergence.csv", csv))
if ms.plot.available() then
  ms.args.wrote(ms.plot.lines{series = series, file = opts.out .. "/scalar_convergence." .. opts.format,
                              title = ("Gradient descent on lambda/2 x^2, eta = %g"):format(opts.eta),
                              xlabel = "time", ylabel = "x_t", style = "linespoints"})
else
  ms.plot.notice()
end
