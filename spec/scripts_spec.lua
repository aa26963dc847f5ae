-- Smoke tests of the chapter's scripts: run each as a user would, check
-- what it prints and the files it writes.
local h = require "spec.helpers"

local function script(name, args, env)
  return h.cli(h.shquote("scripts/" .. name) .. " " .. (args or ""), env)
end

describe("scripts", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("trace2d.lua prints the book's four lines and writes a figure and CSV per run", function()
    local status, out, err = script("trace2d.lua", "--out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    assert.are.equal(table.concat({
      "epoch 20, x1: -0.943467, x2: -0.000073",
      "epoch 20, x1: -0.387814, x2: -1673.365109",
      "epoch 20, x1: 0.007188, x2: 0.002553",
      "epoch 20, x1: -0.126340, x2: -0.186632", ""}, "\n"), out)
    for _, name in ipairs{"gd-eta0.4", "gd-eta0.6", "momentum-eta0.6-beta0.5", "momentum-eta0.6-beta0.25"} do
      local csv = h.read(dir .. "/trace2d-" .. name .. ".csv")
      assert.is_truthy(csv, name)
      assert.are.equal(22, select(2, csv:gsub("\n", "")))       -- header + 21 points
      local svg = h.read(dir .. "/trace2d-" .. name .. ".svg")
      assert.is_truthy(svg and svg:find("<svg", 1, true), name)
    end
  end)

  it("trace2d.lua runs one experiment of the user's own", function()
    local status, out, err = script("trace2d.lua",
      "--eta 0.6 --beta 0.5 --steps 5 --x0 -5,-2 --format png --out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    assert.matches("^epoch 5, x1: %-?%d+%.%d+, x2: %-?%d+%.%d+\n$", out)
    assert.are.equal("\137PNG", h.read(dir .. "/trace2d-momentum-eta0.6-beta0.5.png"):sub(1, 4))
  end)

  it("trace2d.lua reports bad options clearly", function()
    local status, _, err = script("trace2d.lua", "--beta 1.5 --out " .. h.shquote(dir))
    assert.are.equal(2, status)
    assert.matches("option %-%-beta must be below 1, got 1.5", err)
    status, _, err = script("trace2d.lua", "--eta abc")
    assert.are.equal(2, status)
    assert.matches("option %-%-eta expects a number, got 'abc'", err)
    assert.matches("usage:", err)
    status, _, err = script("trace2d.lua", "--x0 1,2,3 --out " .. h.shquote(dir))
    assert.are.equal(2, status)
    assert.matches("option %-%-x0 needs 2 values, got 3", err)
    status, _, err = script("trace2d.lua", "--nope")
    assert.are.equal(2, status)
    assert.matches("unknown option %-%-nope", err)
  end)

  it("trace2d.lua says where it cannot write", function()
    h.write(dir .. "/file", "")
    local status, _, err = script("trace2d.lua", "--out " .. h.shquote(dir .. "/file/sub"))
    assert.are.equal(1, status)
    assert.matches("cannot create folder", err)
  end)

  it("without gnuplot, scripts still print and write CSV, and say once how to get figures", function()
    -- a PATH with everything the scripts need but gnuplot
    local bin = dir .. "/bin"
    assert(os.execute("mkdir " .. h.shquote(bin)))
    local status, out, err = script("trace2d.lua", "--out " .. h.shquote(dir),
                                    "PATH=" .. h.shquote(bin))
    assert.are.equal(0, status, err)
    assert.matches("epoch 20, x1: 0.007188, x2: 0.002553", out)
    local _, notices = err:gsub("gnuplot not found", "")
    assert.are.equal(1, notices)
    assert.is_truthy(h.read(dir .. "/trace2d-gd-eta0.4.csv"))
    assert.is_nil(h.read(dir .. "/trace2d-gd-eta0.4.svg"))
  end)

  it("effective_weight.lua measures beta^t from the momentum rule", function()
    local status, out, err = script("effective_weight.lua", "--out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    -- weight 39 steps back: 0.95^39, 0.9^39; the weights sum to (1 - beta^40) / (1 - beta)
    assert.matches(("beta = 0.95: weight 39 steps back %.6f, sum of weights %.6f"):format(
      0.95^39, (1 - 0.95^40) / 0.05), out, 1, true)
    assert.matches(("beta = 0.90: weight 39 steps back %.6f"):format(0.9^39), out, 1, true)
    local csv = h.read(dir .. "/effective_weight.csv")
    assert.matches("\n0.6,2,0.36\n", csv, 1, true)
    assert.is_truthy(h.read(dir .. "/effective_weight.svg"))
  end)

  it("schedules.lua draws the built-in schedules and runs momentum with them", function()
    local status, out, err = script("schedules.lua", "--out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    -- the constant rate is the book's run, 100 steps long
    assert.matches("momentum{lr=0.6, beta=0.5} +epoch 100,", out)
    assert.matches("momentum{lr=cosine{lr=0.6, steps=100}, beta=0.5} +epoch 100,", out)
    assert.matches("beta=function} +epoch 100,", out)
    local csv = h.read(dir .. "/schedules.csv")
    assert.matches('\n"step{lr=0.6, step_size=25, gamma=0.5}",26,0.3\n', csv, 1, true)
    for _, name in ipairs{"schedules", "schedules-runs", "schedules-trace"} do
      assert.is_truthy(h.read(dir .. "/" .. name .. ".svg"), name)
    end
  end)

  it("scalar_convergence.lua shows x_t = (1 - eta lambda)^t", function()
    local status, out, err = script("scalar_convergence.lua", "--out " .. h.shquote(dir))
    assert.are.equal(0, status, err)
    for _, lambda in ipairs{0.1, 1, 10, 19} do
      local expected = ("x_19 = %.6g"):format((1 - 0.1 * lambda)^19)
      assert.matches(expected:gsub("%-", "%%-"), out)
    end
    local csv = h.read(dir .. "/scalar_convergence.csv")
    assert.matches("\n1,2,0.81", csv, 1, true)
    assert.is_truthy(h.read(dir .. "/scalar_convergence.svg"))
  end)
end)
