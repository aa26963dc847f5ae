--- d2l 11.6 exercise 4: "What changes when we perform stochastic gradient
-- descent with momentum?  What happens when we use minibatch stochastic
-- gradient descent with momentum?  Experiment with the parameters."
--
-- 1. SGD with momentum on a noisy quadratic: the chapter's f = 0.1 x1^2 +
--    2 x2^2 with gradients g + sigma xi, xi ~ N(0, I) drawn from ms.rng.
--    The iterates no longer converge: they settle into a cloud whose mean
--    loss is, per coordinate (heavy ball on lambda x^2 / 2, additive noise),
--      E[lambda x^2 / 2] = eta sigma^2 (1 + beta) / (2 (1 - beta) (2 (1 + beta) - eta lambda)),
--    about eta sigma^2 / (4 (1 - beta)): momentum at a fixed eta raises the
--    noise floor by the effective step eta / (1 - beta).
-- 2. Minibatch SGD with momentum on d2l's synthetic linear regression
--    (y = Xw + b + noise): the smaller the minibatch, the noisier the
--    gradient, and the higher the loss the runs settle at.
--
--   momsandbox scripts/exercises/sgd.lua [--out DIR] [--steps 100000] [--seed 1]
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/exercises/sgd.lua [options]",
  {"eta", "NUM", "learning rate of the noisy quadratic (stable for every beta below 0.5)",
   type = "number", default = 0.05, above = 0, below = 0.5},
  {"steps", "N", "steps on the noisy quadratic (the mean is over the last half)",
   type = "integer", default = 100000, min = 100, max = 1e8},
  {"seed", "N", "seed of the noise and of the minibatch orders", type = "integer", default = 1},
  ms.args.OUT, ms.args.FORMAT,
})
ms.util.mkdir(opts.out)
local plots = ms.plot.available()
if not plots then ms.plot.notice() end

------------------------------------------------ 1. the noisy quadratic
local lambda = {0.2, 4}
local function noisy(sigma, seed)
  local rng = ms.rng(seed)
  return ms.objective{dim = 2, name = "noisy quadratic",
    f = function(x) return 0.5 * lambda[1] * x[1]^2 + 0.5 * lambda[2] * x[2]^2 end,
    grad = function(x, out)
      out[1] = lambda[1] * x[1] + sigma * rng:normal()
      out[2] = lambda[2] * x[2] + sigma * rng:normal()
    end}
end

local function floor_theory(eta, beta, sigma)
  local s = 0
  for _, l in ipairs(lambda) do
    s = s + eta * sigma^2 * (1 + beta) / (2 * (1 - beta) * (2 * (1 + beta) - eta * l))
  end
  return s
end

print(("1. SGD with momentum on 0.1 x1^2 + 2 x2^2 with gradient noise sigma, eta = %g, %d steps")
  :format(opts.eta, opts.steps))
print(("%6s %6s %14s %14s %7s"):format("sigma", "beta", "mean f (run)", "theory", "ratio"))
local csv, series = {{"sigma", "beta", "mean_f", "theory"}}, {}
for _, sigma in ipairs{0.1, 1} do
  for _, beta in ipairs{0, 0.5, 0.9} do
    local tr = ms.trace(noisy(sigma, opts.seed), ms.momentum{lr = opts.eta, beta = beta},
                        {x0 = {-5, -2}, steps = opts.steps})
    local values, sum, count = tr:values(), 0, 0
    for k = math.floor(#values / 2), #values do sum, count = sum + values[k], count + 1 end
    local mean, theory = sum / count, floor_theory(opts.eta, beta, sigma)
    print(("%6g %6g %14.4g %14.4g %7.3f"):format(sigma, beta, mean, theory, mean / theory))
    csv[#csv + 1] = {sigma, beta, mean, theory}
    if sigma == 1 then   -- f averaged over the last 500 steps, and the floor
      local t, v, window = {}, {}, 0
      for k = 1, math.min(#values, 20001) do
        window = window + values[k] - (values[k - 500] or 0)
        if k % 50 == 1 then t[#t + 1], v[#v + 1] = tr:step(k), window / math.min(k, 500) end
      end
      series[#series + 1] = {x = t, y = v, label = ("beta = %g"):format(beta)}
      series[#series + 1] = {x = {0, t[#t]}, y = {theory, theory},
                             label = ("beta = %g: theory's floor %.3g"):format(beta, theory)}
    end
  end
end
print("   (both sigmas draw the same noise, so the floors differ by exactly sigma^2)")
ms.args.wrote(ms.util.csv(opts.out .. "/sgd-noisy.csv", csv))
if plots then
  ms.args.wrote(ms.plot.lines{series = series, logy = true, file = opts.out .. "/sgd-noisy." .. opts.format,
    title = ("SGD with momentum, sigma = 1, eta = %g: f over the last 500 steps"):format(opts.eta),
    xlabel = "step", ylabel = "mean f(x_t)"})
end

------------------------------------- 2. minibatch SGD with momentum
local data = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 1000, noise = 0.01, seed = opts.seed}
local model = ms.model.linreg(2)
local _, best = model:optimum(data)
local lr, updates = 0.01, 2000
print(("\n2. minibatch SGD with momentum, linear regression on %d synthetic examples, lr = %g, %d updates")
  :format(#data, lr, updates))
print(("   loss above the least-squares optimum (%.4g), by minibatch size and beta:"):format(best))
local betas = {0, 0.5, 0.9}
io.write(("%10s"):format("batch"))
for _, beta in ipairs(betas) do io.write(("%14s"):format("beta = " .. beta)) end
io.write("\n")
csv = {{"batch", "beta", "loss", "excess"}}
for _, batch in ipairs{1, 10, 100, 1000} do
  io.write(("%10d"):format(batch))
  for _, beta in ipairs(betas) do
    local res = ms.train{model = model, data = data, rule = ms.momentum{lr = lr, beta = beta},
                         batch = batch, epochs = math.floor(updates * batch / #data), seed = opts.seed,
                         progress = false}
    local excess = res.loss - best   -- below 1e-15: rounding, either side of 0
    io.write(excess < 1e-15 and ("%14s"):format("< 1e-15") or ("%14.3e"):format(excess))
    csv[#csv + 1] = {batch, beta, res.loss, res.loss - best}
  end
  io.write("\n")
end
ms.args.wrote(ms.util.csv(opts.out .. "/sgd-minibatch.csv", csv))
