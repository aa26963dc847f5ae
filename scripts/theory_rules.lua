--- The theory of every momentum variant, side by side: heavy ball, both
-- forms of Nesterov's method (PyTorch's "nesterov" and the look-ahead
-- "nag"), QHM and AggMo on quadratics of condition number 20 and 1000.
-- For each rule the engine finds its iteration matrix from its own step
-- (ms.analysis), and the script shows
--
--   1. the optimal settings and their rate (closed forms where known,
--      else a search), each checked against the rate a long run measures;
--   2. the region map: the rate over two hyper-parameters (kappa = 20);
--   3. the eigenvalues at the optimum in the complex plane, and the error
--      of heavy ball's optimal run along each eigenvector of f.
--
--   momsandbox scripts/theory_rules.lua [--out DIR] [--grid NX,NY] [--kappa K,K]
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/theory_rules.lua [options]",
  {"grid", "NX,NY", "points of each region map", type = "integers", default = {60, 40}, count = 2,
   min = 2, max = 1000},
  {"kappa", "K1,K2", "condition numbers of the two quadratics", type = "numbers", default = {20, 1000},
   count = 2, min = 1},
  ms.args.OUT, ms.args.FORMAT,
})

local A = ms.analysis
ms.util.mkdir(opts.out)
local function output(name, ext) return opts.out .. "/theory-rules-" .. name .. "." .. (ext or opts.format) end
local plots = ms.plot.available()
if not plots then ms.plot.notice() end

-- The rules, each with what to tune (their other values stay) and the
-- momentum-like hyper-parameter of its region map.
local L = 4
local rules = {
  {name = "gd", make = function() return ms.gd{lr = 0.1} end, tune = {"lr"}},
  {name = "heavy ball", make = function() return ms.momentum{lr = 0.1} end, tune = {"lr", "beta"}, y = "beta"},
  {name = "nesterov (PyTorch)", make = function() return ms.nesterov{lr = 0.1} end,
   tune = {"lr", "momentum"}, y = "momentum"},
  {name = "nag (look-ahead)", make = function() return ms.nag{lr = 0.1} end, tune = {"lr", "momentum"},
   y = "momentum"},
  {name = "qhm (nu = 0.7)", make = function() return ms.qhm{lr = 0.1, nu = 0.7} end, tune = {"lr", "beta"},
   y = "beta"},
  {name = "qhm", make = function() return ms.qhm{lr = 0.1} end, tune = {"lr", "beta", "nu"}},
  {name = "aggmo (0, 0.9, beta3)", make = function() return ms.aggmo{lr = 0.1} end, tune = {"lr", "beta3"},
   y = "beta3"},
}

--- The rate a run measures: (|x_N| / |x_N-k|)^(1/k) over the last quarter
-- of a run long enough for the error to fall by about 1e-150 (x* = 0).
local function measured_rate(f, rule, rho)
  local steps = math.max(100, math.min(100000, math.ceil(-150 * math.log(10) / math.log(math.max(rho, 1e-3)))))
  local tr = ms.trace(f, rule, {x0 = {1, 1}, steps = steps})
  if tr.diverged then return 0 / 0, steps end
  local k = math.floor(steps / 4)
  local a, b = tr[-1]:norm(), tr[#tr - k]:norm()
  if b == 0 or a == 0 then return 0, steps end
  return (a / b) ^ (1 / k), steps
end

local function values_text(values, tune)
  local parts = {}
  for _, name in ipairs(tune) do parts[#parts + 1] = ("%s = %.6g"):format(name, values[name]) end
  return table.concat(parts, ", ")
end

local rows = {{"kappa", "rule", "settings", "method", "predicted", "measured", "steps"}}
local optimum = {}   -- [kappa][rule name] = the optimal rule
for _, kappa in ipairs(opts.kappa) do
  local mu = L / kappa
  local f = ms.objective.quadratic{mu, L}
  optimum[kappa] = {}
  print(("f = %g/2 x1^2 + %g/2 x2^2 (kappa = %g): optimal settings, predicted and measured rates")
    :format(mu, L, kappa))
  print(("  %-24s %-44s %10s %10s %7s  %s"):format("rule", "settings", "predicted", "measured", "steps", "by"))
  for _, spec in ipairs(rules) do
    local o = A.optimal(spec.make(), f, {tune = spec.tune})
    local rate, steps = measured_rate(f, o.rule, o.rate)
    optimum[kappa][spec.name] = o.rule
    print(("  %-24s %-44s %10.6f %10.6f %7d  %s"):format(spec.name, values_text(o.values, spec.tune), o.rate,
      rate, steps, o.method))
    rows[#rows + 1] = {kappa, spec.name, values_text(o.values, spec.tune), o.method, o.rate, rate, steps}
  end
  local sk = math.sqrt(kappa)
  print(("  known: heavy ball (sqrt k - 1)/(sqrt k + 1) = %.6f; Nesterov 1 - 2/sqrt(3k + 1) = %.6f")
    :format((sk - 1) / (sk + 1), 1 - 2 / math.sqrt(3 * kappa + 1)))
  print("  (an optimum has double eigenvalues: the error falls as t rho^t, and a run measures a" ..
        " little more than rho)")
end
ms.args.wrote(ms.util.csv(output("optimal", "csv"), rows))

-------------------------------------------- 2. region maps (first kappa)
local kappa = opts.kappa[1]
local f = ms.objective.quadratic{L / kappa, L}
local nx, ny = opts.grid[1], opts.grid[2]
for _, spec in ipairs(rules) do
  if spec.y then
    local reg = A.region{rule = spec.make(), x = "lr", y = spec.y, f = f,
      grid = {lr = {from = 0.01 / L, to = 2 * 2 / L, n = nx}, [spec.y] = {from = 0.01, to = 0.98, n = ny}}}
    local best = reg:best()
    print(("region of %s (kappa = %g): the smallest rate %.4f at lr = %.4g, %s = %.4g; %d of %d points converge")
      :format(spec.name, kappa, best.radius, best.lr, spec.y, best[spec.y],
              #(function() local t = {} for _, r in ipairs(reg:column("radius")) do
                if r < 1 then t[#t + 1] = r end end return t end)(), #reg))
    local slug = spec.name:gsub("[^%w]+", "-"):gsub("%-$", "")
    reg:csv(output("region-" .. slug, "csv"))
    ms.args.wrote(output("region-" .. slug, "csv"))
    if plots then
      ms.args.wrote(reg:heatmap{file = output("region-" .. slug), zrange = {0, 1.2},
        title = ("%s on kappa = %g: rate over (lr, %s)"):format(spec.name, kappa, spec.y)})
    end
  end
end

------------------------------------- 3. eigenvalues and the eigen view
if plots then
  for _, spec in ipairs(rules) do
    if spec.y then
      local slug = spec.name:gsub("[^%w]+", "-"):gsub("%-$", "")
      ms.args.wrote(ms.plot.eigenvalues{rule = optimum[kappa][spec.name], lambda = {L / kappa, L / 2, L},
        file = output("eigenvalues-" .. slug),
        title = ("%s at its optimum (kappa = %g): eigenvalues per lambda"):format(spec.name, kappa)})
    end
  end
  local hb = optimum[kappa]["heavy ball"]
  ms.args.wrote(ms.plot.components{trace = ms.trace(f, hb, {x0 = {1, 1}, steps = 60}), rule = hb,
    file = output("components"),
    title = ("heavy ball at its optimum (kappa = %g): error along each eigenvector"):format(kappa)})
end
