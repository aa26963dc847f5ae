--- d2l 11.6.3 "Theoretical Analysis", made executable.  On f(x) = lambda/2
-- x^2 momentum is the linear map [v; x] <- R [v; x] with
-- R(beta, eta, lambda) = [[beta, lambda], [-eta beta, 1 - eta lambda]]: it
-- converges iff 0 < eta lambda < 2 + 2 beta, at the rate of R's spectral
-- radius.  Every claim is checked against runs of the engine:
--
--   1. the region map: the spectral radius over (eta lambda, beta), the
--      boundary eta lambda = 2 + 2 beta, and the rates measured by a sweep
--      over the same grid;
--   2. measured rate against predicted radius for random (eta, beta,
--      lambda);
--   3. the chapter's f = 0.1 x1^2 + 2 x2^2 (kappa = 20) run with the
--      optimal (eta, beta) next to the chapter's choices.
--
--   momsandbox scripts/theory.lua [--out DIR] [--samples N] [--steps N]
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/theory.lua [options]",
  {"grid", "NX,NY", "points of the region map in eta lambda and beta", type = "integers",
   default = {200, 100}, count = 2, min = 2, max = 4000},
  {"samples", "N", "random (eta, beta, lambda) to check", type = "integer", default = 1000,
   min = 1, max = 1e6},
  {"steps", "N", "steps of each measured run", type = "integer", default = 2000, min = 2, max = 1e6},
  {"seed", "N", "seed of the random samples", type = "integer", default = 1},
  ms.args.OUT, ms.args.FORMAT,
})
local nx, ny = opts.grid[1], opts.grid[2]

local A = ms.analysis
ms.util.mkdir(opts.out)
local function figure(name) return opts.out .. "/theory-" .. name .. "." .. opts.format end
local plots = ms.plot.available()
if not plots then ms.plot.notice() end

-- The largest |measured - predicted| over runs that did not diverge.
local function compare(measured, predicted)
  local worst, sum, n = 0, 0, 0
  for i = 1, #measured do
    local d = math.abs(measured[i] - predicted[i])
    if d == d then worst, sum, n = math.max(worst, d), sum + d, n + 1 end
  end
  return worst, sum / math.max(n, 1)
end

----------------------------------------------------- 1. the region map
-- lambda = 1, so that eta is eta lambda; beta in [0, 0.99].
local unit = ms.objective.quadratic{1}
local region = ms.sweep{objective = unit, rule = "momentum", x0 = {1}, steps = opts.steps,
  grid = {lr = {from = 5 / nx, to = 5, n = nx}, beta = {from = 0, to = 0.99, n = ny}},
  measure = "rate"}
local x, y, measured = region:matrix("rate")
local radius, rows = {}, {{"etalambda", "beta", "radius", "rate", "converges"}}
local agree, inside, edge_points, edge_error = 0, 0, 0, 0
local worst, at = 0, nil
for i = 1, ny do
  radius[i] = {}
  for j = 1, nx do
    local rho = A.radius(y[i], x[j], 1)
    local converges = A.converges(y[i], x[j], 1)
    radius[i][j] = rho
    if math.abs(x[j] - (2 + 2 * y[i])) < 1e-12 then   -- on the boundary: rho = 1
      edge_points, edge_error = edge_points + 1, math.max(edge_error, math.abs(rho - 1))
    elseif (rho < 1) == converges then
      agree = agree + 1
    end
    if converges then inside = inside + 1 end
    local rate = measured[i][j]
    if rho < 1 and math.abs(rate - rho) > worst then worst, at = math.abs(rate - rho), {x[j], y[i]} end
    rows[#rows + 1] = {x[j], y[i], rho, rate, tostring(converges)}
  end
end
ms.args.wrote(ms.util.csv(opts.out .. "/theory-region.csv", rows))
print(("region map: %d x %d (eta lambda, beta), %d inside 0 < eta lambda < 2 + 2 beta"):format(nx, ny, inside))
print(("region map: radius < 1 exactly inside: %d of %d points agree; on the boundary (%d points) |radius - 1| <= %.0e")
  :format(agree, nx * ny - edge_points, edge_points, edge_error))
-- The largest differences are at double eigenvalues, eta lambda = (1 +- sqrt beta)^2,
-- where the error shrinks as t rho^t rather than rho^t.
local double = at and (math.abs(at[1] - (1 - math.sqrt(at[2]))^2) < 1e-9 or
                       math.abs(at[1] - (1 + math.sqrt(at[2]))^2) < 1e-9)
print(("region map: measured rates of %d-step runs vs radius inside: max |difference| = %.1e%s")
  :format(opts.steps, worst, double and (" at a double eigenvalue (eta lambda = %g, beta = %g)")
                                         :format(at[1], at[2]) or ""))

if plots then
  local edge = {x = {}, y = {}, label = "eta lambda = 2 + 2 beta"}
  local hi = {x = {}, y = {}, label = "(1 + sqrt beta)^2: complex eigenvalues"}
  local lo = {x = {}, y = {}, label = "(1 - sqrt beta)^2: between these two"}
  for i = 1, ny do
    local b = y[i]
    edge.x[i], edge.y[i] = 2 + 2 * b, b
    lo.x[i], lo.y[i] = (1 - math.sqrt(b))^2, b
    hi.x[i], hi.y[i] = (1 + math.sqrt(b))^2, b
  end
  ms.args.wrote(ms.plot.heatmap{
    x = x, y = y, z = radius, zrange = {0, 1.5}, file = figure("region"),
    title = "Spectral radius of R(beta, eta, lambda)", xlabel = "eta lambda", ylabel = "beta",
    cblabel = "spectral radius", lines = {edge, hi, lo}})
  ms.args.wrote(region:heatmap{
    measure = "rate", zrange = {0, 1.5}, file = figure("region-measured"),
    title = ("Measured rate of %d-step momentum runs"):format(opts.steps),
    xlabel = "eta lambda", lines = {edge}})
end

------------------------------------- 2. random (eta, beta, lambda)
local rng = ms.rng(opts.seed)
local points, predicted = {}, {}
for k = 1, opts.samples do
  local beta = 0.99 * rng:uniform()
  local lambda = 10 ^ (4 * rng:uniform() - 2)                 -- 0.01 .. 100
  local el = (2 + 2 * beta) * (0.001 + 0.998 * rng:uniform())  -- inside the region
  points[k] = {lr = el / lambda, beta = beta, scale = lambda}
  predicted[k] = A.radius(beta, el / lambda, lambda)
end
local random = ms.sweep{objective = unit, rule = "momentum", x0 = {1}, points = points,
                        steps = opts.steps, measure = "rate"}
local rates = random:column("rate")
local rworst, rmean = compare(rates, predicted)
rows = {{"eta", "beta", "lambda", "radius", "rate"}}
for k, p in ipairs(points) do rows[#rows + 1] = {p.lr, p.beta, p.scale, predicted[k], rates[k]} end
ms.args.wrote(ms.util.csv(opts.out .. "/theory-random.csv", rows))
print(("random: %d (eta, beta, lambda), %d-step runs: max |rate - radius| = %.1e, mean %.1e")
  :format(opts.samples, opts.steps, rworst, rmean))
if plots then
  ms.args.wrote(ms.plot.lines{
    series = {{x = predicted, y = rates, label = "runs", style = "points"},
              {x = {0, 1}, y = {0, 1}, label = "rate = radius"}},
    file = figure("random"), title = "Measured rate against the spectral radius",
    xlabel = "spectral radius of R", ylabel = "measured rate", key = "top left"})
end

------------------------------- 3. the chapter's f: kappa = 20, optimally
local f = ms.objective.quadratic{0.2, 4}
local opt = A.optimal(f)
print(("chapter's f: mu = %g, L = %g, kappa = %g"):format(opt.mu, opt.L, opt.kappa))

-- Runs as (lr, beta); gradient descent is beta = 0, bit for bit.
local runs = {
  {lr = 0.4, beta = 0, name = "gd, chapter"},
  {lr = 0.6, beta = 0, name = "gd, chapter"},
  {lr = opt.gd.lr, beta = 0, name = "gd, optimal"},
  {lr = 0.6, beta = 0.5, name = "momentum, chapter"},
  {lr = 0.6, beta = 0.25, name = "momentum, chapter"},
  {lr = opt.momentum.lr, beta = opt.momentum.beta, name = "momentum, optimal"},
}
local function predicted_rate(run)
  local slowest = 0
  for _, lambda in ipairs{opt.mu, opt.L} do
    slowest = math.max(slowest, run.beta == 0 and A.gd_rate(run.lr, lambda)
                                or A.radius(run.beta, run.lr, lambda))
  end
  return slowest
end
local pts = {}
for i, run in ipairs(runs) do pts[i] = {lr = run.lr, beta = run.beta} end
local measured3 = ms.sweep{objective = f, rule = "momentum", x0 = {-5, -2}, points = pts,
                           steps = opts.steps, measure = {"rate", "steps"}, tol = 1e-6}
print(("%-18s %7s %7s %9s %9s %11s %11s %9s"):format("run", "eta", "beta", "predicted",
  "measured", "f(x_20)", "f(x_100)", "f <= 1e-6"))
rows = {{"run", "eta", "beta", "predicted", "measured", "f20", "f100", "steps"}}
local series, traces, labels = {}, {}, {}
for i, run in ipairs(runs) do
  local rule = run.beta == 0 and ms.gd{lr = run.lr} or ms.momentum{lr = run.lr, beta = run.beta}
  local label = ("%s (eta %.3g, beta %.3g)"):format(run.name, run.lr, run.beta)
  local tr = ms.trace(f, rule, {x0 = {-5, -2}, steps = 100})
  run.trace = tr
  local p = measured3[i]
  local steps = p.diverged and "diverges" or p.steps == p.steps and tostring(p.steps) or "never"
  print(("%-18s %7.4f %7.4f %9.4f %9.4f %11.4g %11.4g %9s"):format(run.name, run.lr, run.beta,
    predicted_rate(run), p.rate, tr:value(21), tr:value(101), steps))
  rows[#rows + 1] = {run.name, run.lr, run.beta, predicted_rate(run), p.rate, tr:value(21),
                     tr:value(101), steps}
  if predicted_rate(run) < 1 then
    local t, v = {}, {}
    for k = 1, #tr do t[k], v[k] = tr:step(k), tr:value(k) end
    series[#series + 1] = {x = t, y = v, label = label}
  end
  if i >= 4 then
    traces[#traces + 1] = ms.trace(f, rule, {x0 = {-5, -2}, steps = 20})
    labels[#labels + 1] = label
  end
end
-- At the optimum R has a double eigenvalue at both ends of the spectrum:
-- the error shrinks as t rho^t, so the lead is won over the run, not at once.
local best, chapter = runs[6].trace, runs[4].trace
local ahead = #best
while ahead > 1 and best:value(ahead - 1) < chapter:value(ahead - 1) do ahead = ahead - 1 end
print(("optimal momentum: a double eigenvalue at mu and L, so its error shrinks as t rho^t; " ..
       "f(x_t) is below that of (0.6, 0.5) from step %d on"):format(best:step(ahead)))
ms.args.wrote(ms.util.csv(opts.out .. "/theory-kappa20.csv", rows))
if plots then
  ms.args.wrote(ms.plot.lines{
    series = series, logy = true, file = figure("kappa20-loss"),
    title = "f = 0.1 x1^2 + 2 x2^2 (kappa = 20): the chapter's choices and the optimum",
    xlabel = "step", ylabel = "f(x_t)"})
  ms.args.wrote(ms.plot.trace2d{
    f = f, traces = traces, labels = labels, file = figure("kappa20-traces"),
    title = "Momentum: the chapter's choices and the optimum"})
end
