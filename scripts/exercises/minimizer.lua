--- d2l 11.6 exercise 3: "Derive minimum value and minimizer for h(x) =
-- 1/2 x'Qx + x'c + b."
--
-- The derivation: for symmetric positive definite Q, grad h(x) = Qx + c
-- vanishes only at x* = -Q^-1 c, and h(x) = h(x*) + 1/2 (x - x*)'Q(x - x*)
-- > h(x*) elsewhere, so x* is the unique minimiser and
--   h(x*) = 1/2 c'Q^-1 c - c'Q^-1 c + b = b - 1/2 c'Q^-1 c = b + 1/2 c'x*.
-- The script computes both in closed form (ms.analysis.minimize: a
-- Cholesky solve) for a random Q, then runs momentum with the optimal
-- parameters for Q's spectrum (ms.analysis.optimal) and compares.
--
--   momsandbox scripts/exercises/minimizer.lua [--n 6] [--seed 1] [--steps 200]
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/exercises/minimizer.lua [options]",
  {"n", "N", "dimension of x", type = "integer", default = 6, min = 1, max = 500},
  {"seed", "N", "seed of the random Q, c and b", type = "integer", default = 1},
  {"steps", "N", "steps of the optimiser", type = "integer", default = 200, min = 1, max = 1e6},
  ms.args.OUT, ms.args.FORMAT,
})

-- Q = M'M / n + I/10: symmetric positive definite, modestly conditioned.
local n, rng = opts.n, ms.rng(opts.seed)
local M, Q, c = {}, {}, {}
for i = 1, n do
  M[i] = {}
  for j = 1, n do M[i][j] = rng:normal() end
end
for i = 1, n do
  Q[i] = {}
  for j = 1, n do
    local s = i == j and 0.1 or 0
    for k = 1, n do s = s + M[k][i] * M[k][j] / n end
    Q[i][j] = s
  end
  c[i] = rng:normal()
end
for i = 1, n do for j = 1, i - 1 do Q[i][j] = Q[j][i] end end   -- exactly symmetric
local b = rng:normal()
local h = ms.objective.quadratic_form{Q = Q, c = c, b = b}

local A = ms.analysis
local xstar, hstar = A.minimize(h)
local residual = 0
for i = 1, n do
  local s = c[i]
  for j = 1, n do s = s + Q[i][j] * xstar[j] end
  residual = math.max(residual, math.abs(s))
end
local opt = A.optimal(h)
print(("h(x) = 1/2 x'Qx + c'x + b, n = %d, eigenvalues of Q in [%.4g, %.4g], kappa = %.4g")
  :format(n, opt.mu, opt.L, opt.kappa))
print(("closed form: x* = -Q^-1 c, h(x*) = b + c'x*/2 = %.15g, max |Qx* + c| = %.1e")
  :format(hstar, residual))

ms.util.mkdir(opts.out)
local x0 = ms.vec(n)
local runs = {{"gd", ms.gd(opt.gd)}, {"momentum", ms.momentum(opt.momentum)}}
local csv, series, answers = {{"method", "step", "gap"}}, {}, {}
for _, run in ipairs(runs) do
  local name, rule = run[1], run[2]
  local tr = ms.trace(h, rule, {x0 = x0, steps = opts.steps})
  local x = tr[-1]
  answers[#answers + 1] = {name, x}
  local dx = (x - xstar):norm() / xstar:norm()
  print(("%-8s %s: after %d steps |x - x*| / |x*| = %.1e, h(x) - h(x*) = %.1e")
    :format(name, tostring(rule), tr.steps, dx, tr:value(-1) - hstar))
  -- The gap goes down to round-off of h (a few ulps of h(x*)), then is
  -- noise, 0 at times, which a log axis cannot show: the curve ends there.
  local t, gap, floor, ended = {}, {}, 8 * 2^-52 * math.max(1, math.abs(hstar)), false
  for k = 1, #tr do
    local g = math.max(tr:value(k) - hstar, 0)
    csv[#csv + 1] = {name, tr:step(k), g}
    if not ended and g > 0 then t[#t + 1], gap[#gap + 1] = tr:step(k), g end
    ended = ended or g <= floor
  end
  series[#series + 1] = {x = t, y = gap, label = name}
end
print(("%-20s %s"):format("x* (closed form):", xstar))
for _, a in ipairs(answers) do print(("%-20s %s"):format("x_T (" .. a[1] .. "):", a[2])) end
ms.args.wrote(ms.util.csv(opts.out .. "/minimizer.csv", csv))
if ms.plot.available() then
  ms.args.wrote(ms.plot.lines{series = series, logy = true, yrange = {1e-16, 1e3},
    file = opts.out .. "/minimizer." .. opts.format,
    title = ("h(x_t) - h(x*), optimal parameters, kappa = %.3g"):format(opt.kappa),
    xlabel = "step", ylabel = "h(x_t) - h(x*)"})
else
  ms.plot.notice()
end
