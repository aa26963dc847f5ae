--- d2l 11.6 exercise 2: "Try out GD and momentum for a quadratic problem
-- where you have multiple eigenvalues, i.e., f(x) = 1/2 sum_i lambda_i
-- x_i^2, e.g., lambda_i = 2^-i.  Plot how the values of x decrease for the
-- initialization x_i = 1."
--
-- The coordinates decouple: x_i follows the scalar problem lambda_i x^2/2,
-- shrinking per step by |1 - eta lambda_i| under gradient descent and by
-- the spectral radius of R(beta, eta, lambda_i) under momentum.  Both run
-- with the parameters that are optimal for the spectrum [2^-n, 1/2]
-- (ms.analysis.optimal); the script prints each coordinate's predicted
-- factor next to the one measured on its own run, and plots |x_i(t)|.
--
--   momsandbox scripts/exercises/eigenvalues.lua [--n 8] [--steps 300] [--out DIR]
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/exercises/eigenvalues.lua [options]",
  {"n", "N", "coordinates: lambda_i = 2^-i, i = 1 .. N", type = "integer", default = 8,
   min = 1, max = 60},
  {"steps", "N", "steps of each run", type = "integer", default = 300, min = 2, max = 1e6},
  ms.args.OUT, ms.args.FORMAT,
})

local A = ms.analysis
local lambda, x0 = {}, {}
for i = 1, opts.n do lambda[i], x0[i] = 2.0 ^ -i, 1 end
local f = ms.objective.quadratic(lambda)
local opt = A.optimal(f)
local methods = {
  {name = "gd", rule = ms.gd(opt.gd), beta = 0,
   predict = function(l) return A.gd_rate(opt.gd.lr, l) end},
  {name = "momentum", rule = ms.momentum(opt.momentum), beta = opt.momentum.beta,
   predict = function(l) return A.radius(opt.momentum.beta, opt.momentum.lr, l) end},
}
print(("f = 1/2 sum lambda_i x_i^2, lambda_i = 2^-i, i = 1..%d: mu = %g, L = %g, kappa = %g")
  :format(opts.n, opt.mu, opt.L, opt.kappa))
print(("gd: eta = %.4f (rate %.4f); momentum: eta = %.4f, beta = %.4f (rate %.4f)")
  :format(opt.gd.lr, opt.gd_rate, opt.momentum.lr, opt.momentum.beta, opt.momentum_rate))

ms.util.mkdir(opts.out)
local csv = {{"method", "i", "lambda", "predicted", "measured", "steps_to_1e-3"}}
local unit = ms.objective.quadratic{1}
for _, m in ipairs(methods) do
  local tr = ms.trace(f, m.rule, {x0 = x0, steps = opts.steps})
  -- each coordinate measured on its own: the scalar problem lambda_i x^2 / 2
  local points = {}
  for i = 1, opts.n do points[i] = {lr = m.rule.lr, beta = m.beta, scale = lambda[i]} end
  local own = ms.sweep{objective = unit, rule = "momentum", x0 = {1}, points = points,
                       steps = opts.steps, measure = "rate"}
  print(("\n%s: %-4s %-10s %-10s %-10s %s"):format(m.name, "i", "lambda_i", "predicted",
    "measured", "|x_i| < 1e-3 from step"))
  local series = {}
  for i = 1, opts.n do
    local xs, ts, ys, below = tr:column(i), {}, {}, nil
    for k = 1, #tr do
      ts[k], ys[k] = tr:step(k), math.abs(xs[k])
      if ys[k] >= 1e-3 then below = nil elseif not below then below = ts[k] end
    end
    local predicted, measured = m.predict(lambda[i]), own[i].rate
    -- lambda exactly (2^-i): %.4g rounds its ties differently under LuaJIT
    print(("%s  %-4d %-10s %-10.4f %-10.4f %s"):format((" "):rep(#m.name), i,
      ms.util.format(lambda[i]), predicted, measured, below or ("> " .. opts.steps)))
    csv[#csv + 1] = {m.name, i, lambda[i], predicted, measured, below or ""}
    -- under gd |x_i| = |1 - eta lambda_i|^t: a coordinate as fast as an
    -- earlier one (at the other end of the spectrum) would hide its line,
    -- so it is dashed.  (Momentum's coordinates oscillate, each its own
    -- way, at the same rate: they do not hide one another.)
    local dashed = false
    for j = 1, i - 1 do
      dashed = dashed or
               m.beta == 0 and math.abs(m.predict(lambda[j]) - predicted) < 0.01 * predicted
    end
    series[i] = {x = ts, y = ys, label = ("x_%d, lambda = 2^-%d"):format(i, i), dashed = dashed}
  end
  if m.beta > 0 then
    print("  (at lambda = mu and L, R has a double eigenvalue: the error shrinks as t rho^t there,")
    print("   which a run of a few hundred steps measures as a slightly larger factor)")
  end
  if ms.plot.available() then
    ms.args.wrote(ms.plot.lines{series = series, logy = true, yrange = {1e-12, 2},
      file = ("%s/eigenvalues-%s.%s"):format(opts.out, m.name, opts.format),
      title = (m.beta > 0 and "%s, eta %.3g, beta %.3g: |x_i(t)|" or "%s, eta %.3g: |x_i(t)|")
              :format(m.name, m.rule.lr, m.beta),
      xlabel = "step", ylabel = "|x_i|", key = "outside right"})
  end
end
ms.args.wrote(ms.util.csv(opts.out .. "/eigenvalues.csv", csv))
if not ms.plot.available() then ms.plot.notice() end
