-- Smoke tests of scripts/theory.lua and scripts/exercises/*.lua: run each
-- as a user would, check the numbers it prints and the files it writes.
local h = require "spec.helpers"

local function script(name, args)
  return h.cli(h.shquote("scripts/" .. name) .. " " .. (args or ""))
end

local function lines(text)
  return select(2, text:gsub("\n", ""))
end

local function figure(dir, name)
  local svg = h.read(dir .. "/" .. name .. ".svg")
  return svg ~= nil and svg:find("<svg", 1, true) ~= nil
end

local plots = h.run("command -v gnuplot") == 0

describe("scripts/theory.lua", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("checks the region, the measured rates and the optimum of the chapter's f", function()
    local status, out, err = script("theory.lua", "--grid 40,20 --samples 300 --out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    local agree, total = out:match("radius < 1 exactly inside: (%d+) of (%d+) points agree")
    assert.is_truthy(agree)
    assert.are.equal(agree, total)
    local worst = tonumber(out:match("random: 300 %(eta, beta, lambda%), 2000%-step runs: " ..
                                     "max |rate %- radius| = ([%d.e+-]+)"))
    assert.is_true(worst <= 1e-3)
    assert.matches("chapter's f: mu = 0.2, L = 4, kappa = 20", out)
    assert.matches("gd, chapter         0.4000  0.0000    0.9200    0.9200", out, 1, true)
    assert.matches("momentum, chapter   0.6000  0.5000    0.7071    0.7071", out, 1, true)
    assert.matches("momentum, optimal   0.6679  0.4026    0.6345", out, 1, true)
    assert.matches("f%(x_t%) is below that of %(0.6, 0.5%) from step %d+ on", out)
    assert.are.equal(801, lines(h.read(dir .. "/theory-region.csv")))
    assert.are.equal(301, lines(h.read(dir .. "/theory-random.csv")))
    assert.are.equal(7, lines(h.read(dir .. "/theory-kappa20.csv")))
    if plots then
      for _, name in ipairs{"region", "region-measured", "random", "kappa20-loss", "kappa20-traces"} do
        assert.is_true(figure(dir, "theory-" .. name), name)
      end
    end
  end)

  it("reports bad options", function()
    local status, _, err = script("theory.lua", "--grid 1,5 --out " .. h.shquote(dir))
    assert.are.equal(2, status)
    assert.matches("option %-%-grid needs values at least 2: value 1 is 1", err)
  end)
end)

describe("scripts/theory_rules.lua", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("gives every variant's optimum, its rate predicted and measured, and its region", function()
    local status, out, err = script("theory_rules.lua", "--grid 12,8 --kappa 20,100 --out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    -- the closed forms (kappa = 20: Polyak 0.634512, Nesterov 1 - 2/sqrt(61) = 0.743926)
    assert.matches("heavy ball +lr = 0.667907, beta = 0.402605 +0.634512 +0.63", out)
    assert.matches("nesterov %(PyTorch%) +lr = 0.327869, momentum = 0.592263 +0.743926 +0.74", out)
    assert.matches("nag %(look%-ahead%) +lr = 0.327869, momentum = 0.592263 +0.743926 +0.74", out)
    -- away from double eigenvalues a run measures the predicted rate
    local predicted, measured = out:match("gd +lr = 0.47619 +([%d.]+) +([%d.]+)")
    assert.are.equal(predicted, measured)
    assert.matches("kappa = 100", out)
    assert.are.equal(15, lines(h.read(dir .. "/theory-rules-optimal.csv")))   -- header + 2 x 7
    assert.are.equal(97, lines(h.read(dir .. "/theory-rules-region-heavy-ball.csv")))
    if plots then
      for _, name in ipairs{"region-heavy-ball", "region-nag-look-ahead", "eigenvalues-qhm-nu-0-7",
                            "components"} do
        assert.is_true(figure(dir, "theory-rules-" .. name), name)
      end
    end
  end)
end)

describe("scripts/exercises", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("hyperparameters.lua tabulates and maps (eta, beta), and its shards concatenate", function()
    local status, out, err = script("exercises/hyperparameters.lua", "--grid 30,20 --out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    -- the chapter's two momentum runs, (0.6, 0.5) and (0.6, 0.25), in the table
    assert.matches("\n      0.25 .- 7.1e%-02 ", out)
    assert.matches("\n      0.50 .- 1.8e%-05 ", out)
    assert.matches("best of 600 points after 20 steps: eta = [%d.]+, beta = [%d.]+: f = ", out)
    assert.matches("theory's optimum: eta = 0.668, beta = 0.403: 0.6345", out, 1, true)
    local whole = h.read(dir .. "/hyperparameters.csv")
    assert.are.equal(601, lines(whole))
    if plots then assert.is_true(figure(dir, "hyperparameters")) end
    local parts = {}
    for i = 1, 3 do
      status, out, err = script("exercises/hyperparameters.lua",
                                ("--grid 30,20 --shard %d/3 --out %s"):format(i, h.shquote(dir)))
      assert.are.equal(0, status, err)
      assert.matches(("part %d of 3: points %d .. %d of 600"):format(i, 200 * i - 199, 200 * i), out)
      parts[i] = h.read(("%s/hyperparameters-part-%d.csv"):format(dir, i))
    end
    assert.are.equal(whole, table.concat(parts))
    status, out, err = script("exercises/hyperparameters.lua", "--shard 4/3 --out " .. h.shquote(dir))
    assert.are.equal(2, status)
    assert.are.equal("", out)
    assert.matches("%-%-shard needs I/N with 1 <= I <= N", err)
  end)

  it("eigenvalues.lua: each coordinate shrinks by its predicted factor", function()
    local status, out, err = script("exercises/eigenvalues.lua", "--n 6 --out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    assert.matches("mu = 0.015625, L = 0.5, kappa = 32", out, 1, true)
    local rows = 0
    for predicted, measured in out:gmatch("\n +%d +[%d.e-]+ +([%d.]+) +([%d.]+) ") do
      rows = rows + 1
      assert.is_true(math.abs(tonumber(predicted) - tonumber(measured)) < 0.01)
    end
    assert.are.equal(12, rows)
    assert.are.equal(13, lines(h.read(dir .. "/eigenvalues.csv")))
    if plots then
      assert.is_true(figure(dir, "eigenvalues-gd") and figure(dir, "eigenvalues-momentum"))
    end
  end)

  it("minimizer.lua: the closed form and the optimiser agree", function()
    local status, out, err = script("exercises/minimizer.lua", "--n 5 --out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    local residual = tonumber(out:match("max |Qx%* %+ c| = ([%d.e+-]+)"))
    assert.is_true(residual <= 1e-12)
    local dx = tonumber(out:match("momentum momentum{.-}: after 200 steps |x %- x%*| / |x%*| = ([%d.e+-]+)"))
    assert.is_true(dx < 1e-12)
    assert.matches("x%* %(closed form%): +vec{", out)
    assert.matches("x_T %(momentum%): +vec{", out)
    assert.are.equal(403, lines(h.read(dir .. "/minimizer.csv")))
  end)

  it("sgd.lua: noise floors as the theory says, and by minibatch size", function()
    local status, out, err = script("exercises/sgd.lua", "--steps 40000 --out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    local rows = 0
    for ratio in out:gmatch("\n +[%d.]+ +[%d.]+ +[%d.e+-]+ +[%d.e+-]+ +([%d.]+)") do
      rows = rows + 1
      assert.is_true(math.abs(tonumber(ratio) - 1) < 0.15, ratio)
    end
    assert.are.equal(6, rows)
    assert.matches("loss above the least%-squares optimum", out)
    for _, batch in ipairs{1, 10, 100, 1000} do
      assert.matches("\n +" .. batch .. " +[%d.e<+-]+", out)
    end
    assert.are.equal(7, lines(h.read(dir .. "/sgd-noisy.csv")))
    assert.are.equal(13, lines(h.read(dir .. "/sgd-minibatch.csv")))
    if plots then assert.is_true(figure(dir, "sgd-noisy")) end
  end)
end)
