--- d2l 11.6.3 "Practical Experiments": linear regression on the airfoil
-- self-noise data (1500 examples, 5 standardised features) trained with
-- minibatch SGD and momentum, batch 10, as d2l's train_ch11:
--
--   train_momentum(0.02, 0.5), (0.01, 0.9), (0.005, 0.9)   2 epochs each
--   train_concise_ch11 with torch.optim.SGD(lr=0.005, momentum=0.9):
--     nn.Linear's uniform bias, MSELoss (reported halved), 4 epochs
--
--   momsandbox scripts/airfoil.lua [--data PATH] [--seed N] [--epochs N] [--out DIR]
--   momsandbox scripts/airfoil.lua --seeds 10      ... and how the seed matters
--
-- Prints d2l's line for each run (loss: 0.243, 0.000031 sec/epoch), and
-- writes into the output folder a loss curve per run (figure and CSV) and
-- a figure of all four with the least-squares optimum, which no run can
-- go below.  With --seeds N it then runs each experiment with seeds 1..N
-- and prints the median and range of the final losses.  The data set ships
-- with momsandbox (data/, source and licence in data/README.md).
local ms = require "momsandbox"

local opts = ms.args.parse(arg, {
  usage = "momsandbox scripts/airfoil.lua [options]",
  help = "The data: --data, else $MOMSANDBOX_DATA (the file or its folder), else the\n" ..
         "project's data/airfoil_self_noise.dat (UCI's \"Airfoil Self-Noise\" set).",
  {"data", "PATH", "the airfoil_self_noise.dat file"},
  {"seed", "N", "random seed: initial weights and order of examples", type = "integer", default = 1},
  {"epochs", "N", "epochs of every run (default: the book's, 2 and 4)", type = "integer",
   min = 1, max = 10000},
  {"seeds", "N", "then the final losses over seeds 1..N", type = "integer", min = 1, max = 10000},
  ms.args.OUT, ms.args.FORMAT,
})

--- Stop with a message and no traceback: status 2 for a bad option.
local function die(msg, status)
  io.stderr:write("airfoil.lua: ", (tostring(msg):gsub("^bad argument #%d+ to '[^']*' %((.*)%)$", "%1")), "\n")
  os.exit(status or 1)
end

local ok, data = pcall(ms.data.airfoil, {path = opts.data})
if not ok then die(data) end

local linreg = ms.model.linreg(data.features)
-- PyTorch's nn.Linear(5, 1) with d2l's normal_(weight, std = 0.01), trained
-- on nn.MSELoss: the gradient of (yhat - y)^2, twice d2l's squared loss.
local concise = ms.model.linreg{features = data.features, loss = "mse", bias_init = "uniform"}

local runs = {
  {name = "momentum-lr0.02-beta0.5", model = linreg, rule = ms.momentum{lr = 0.02, beta = 0.5}, epochs = 2},
  {name = "momentum-lr0.01-beta0.9", model = linreg, rule = ms.momentum{lr = 0.01, beta = 0.9}, epochs = 2},
  {name = "momentum-lr0.005-beta0.9", model = linreg, rule = ms.momentum{lr = 0.005, beta = 0.9}, epochs = 2},
  {name = "concise-sgd-lr0.005-momentum0.9", model = concise,
   rule = ms.sgd{lr = 0.005, momentum = 0.9}, epochs = 4, label = "concise"},
}
for _, run in ipairs(runs) do
  run.title = tostring(run.rule) .. (run.label and " (" .. run.label .. ")" or "")
end

local _, optimum = linreg:optimum(data)
local okdir, err = pcall(ms.util.mkdir, opts.out)
if not okdir then die(err) end

local function figure(file, series, title, epochs)
  ms.args.wrote(ms.plot.lines{series = series, file = file, title = title, xlabel = "epoch",
                              ylabel = "loss", xrange = {0, epochs}, yrange = {0.22, 0.35}})
end

local all, longest = {}, 0
for _, run in ipairs(runs) do
  local epochs = opts.epochs or run.epochs
  local okrun, res = pcall(ms.train, {model = run.model, data = data, rule = run.rule,
                                      batch = 10, epochs = epochs, seed = opts.seed})
  if not okrun then die(res, 2) end
  print(res)
  local base = opts.out .. "/airfoil-" .. run.name
  res:csv(base .. ".csv")
  ms.args.wrote(base .. ".csv")
  local curve = {x = res.curve.epoch, y = res.curve.loss, label = run.title}
  all[#all + 1] = curve
  longest = math.max(longest, epochs)
  if ms.plot.available() then
    figure(base .. "." .. opts.format, {curve}, run.title, epochs)
  else
    ms.plot.notice()
  end
end

if ms.plot.available() then
  all[#all + 1] = {x = {0, longest}, y = {optimum, optimum},
                   label = ("least-squares optimum %.4f"):format(optimum)}
  figure(opts.out .. "/airfoil-all." .. opts.format, all,
         "Airfoil self-noise: minibatch SGD with momentum, batch 10", longest)
end

if opts.seeds then
  print(("final loss over seeds 1-%d:"):format(opts.seeds))
  for _, run in ipairs(runs) do
    local losses = {}
    for seed = 1, opts.seeds do
      losses[seed] = ms.train{model = run.model, data = data, rule = run.rule, batch = 10,
                              epochs = opts.epochs or run.epochs, seed = seed}.loss
    end
    table.sort(losses)
    local k = #losses
    local median = k % 2 == 1 and losses[(k + 1) / 2] or (losses[k / 2] + losses[k / 2 + 1]) / 2
    print(("  %-38s median %.4f, min %.4f, max %.4f"):format(run.title, median, losses[1], losses[k]))
  end
end
