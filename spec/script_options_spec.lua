-- Every script checks every option before it runs: a bad one is answered
-- with one line naming it, then the usage, exit status 2, no traceback,
-- and nothing written.  --help prints the script's own usage.
local h = require "spec.helpers"

local function script(name, args)
  return h.cli(h.shquote("scripts/" .. name) .. " " .. args)
end

-- For each script, bad options and the line that must answer each.
local BAD = {
  ["trace2d.lua"] = {
    {"--steps -5", "option --steps must be at least 0, got -5"},
    {"--eta -1", "option --eta must be at least 0, got -1"},
    {"--beta 1", "option --beta must be below 1, got 1"},
    {"--x0 1", "option --x0 needs 2 values, got 1"},
    {"--x0 1,1e999", "option --x0 needs values at most 1e+300: value 2 is inf"},
    {"--format gif", "option --format must be one of svg, png, got 'gif'"},
  },
  ["effective_weight.lua"] = {
    {"--format pdf", "option --format must be one of svg, png, got 'pdf'"},
    {"--steps 0", "option --steps must be at least 1, got 0"},
    {"--betas 0.99,1", "option --betas needs values below 1: value 2 is 1"},
    {"--betas -0.5", "option --betas needs values at least 0: value 1 is -0.5"},
  },
  ["scalar_convergence.lua"] = {
    {"--steps 0", "option --steps must be at least 1, got 0"},
    {"--eta -1", "option --eta must be at least 0, got -1"},
    {"--lambdas 1,x", "option --lambdas expects numbers separated by commas, got '1,x'"},
  },
  ["schedules.lua"] = {
    {"--steps 1", "option --steps must be at least 20, got 1"},
    {"--format", "option --format needs a value"},
  },
  ["airfoil.lua"] = {
    {"--epochs 0", "option --epochs must be at least 1, got 0"},
    {"--seeds -1", "option --seeds must be at least 1, got -1"},
  },
  ["theory.lua"] = {
    {"--grid 5", "option --grid needs 2 values, got 1"},
    {"--samples 0", "option --samples must be at least 1, got 0"},
    {"--steps 1", "option --steps must be at least 2, got 1"},
  },
  ["theory_rules.lua"] = {
    {"--grid 1,5", "option --grid needs values at least 2: value 1 is 1"},
    {"--kappa 20", "option --kappa needs 2 values, got 1"},
  },
  ["exercises/eigenvalues.lua"] = {
    {"--n 61", "option --n must be at most 60, got 61"},
    {"--steps 1", "option --steps must be at least 2, got 1"},
  },
  ["exercises/hyperparameters.lua"] = {
    {"--grid 2,1", "option --grid needs values at least 2: value 2 is 1"},
    {"--steps 0", "option --steps must be at least 1, got 0"},
  },
  ["exercises/minimizer.lua"] = {
    {"--n 0", "option --n must be at least 1, got 0"},
  },
  ["exercises/sgd.lua"] = {
    {"--eta 0.5", "option --eta must be below 0.5, got 0.5"},
    {"--eta 0", "option --eta must be above 0, got 0"},
    {"--steps 99", "option --steps must be at least 100, got 99"},
  },
  ["variants/nesterov.lua"] = {{"--format jpg", "option --format must be one of svg, png, got 'jpg'"}},
  ["variants/qhm.lua"] = {{"--out", "option --out needs a value"}},
  ["variants/aggmo.lua"] = {{"--nope", "unknown option --nope"}},
  ["variants/heavy_ball.lua"] = {{"--help=1", "unknown option --help"}},
}

describe("every script", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  for name, cases in pairs(BAD) do
    it(name .. " answers a bad option with one line and its usage, status 2", function()
      for _, case in ipairs(cases) do
        local status, out, err = script(name, "--out " .. h.shquote(dir .. "/out") .. " " .. case[1])
        assert.equal(2, status, name .. " " .. case[1] .. ": " .. err)
        assert.equal("", out)
        local first, rest = err:match("^([^\n]*)\n(.*)$")
        assert.equal(case[2], first, name .. " " .. case[1])
        assert.truthy(rest:find("^usage: momsandbox scripts/" .. name:gsub("%p", "%%%0") .. " %[options%]\n"),
                      name .. ": " .. rest)
        assert.is_nil(rest:find("traceback", 1, true))
        assert.is_nil(h.read(dir .. "/out/."))   -- nothing made
      end
    end)
  end

  it("prints its own usage for --help", function()
    for name in pairs(BAD) do
      local status, out = script(name, "--help")
      assert.equal(0, status, name)
      assert.truthy(out:find("^usage: momsandbox scripts/" .. name:gsub("%p", "%%%0") .. " "), name .. ": " .. out)
    end
  end)

  it("says twin.lua is run through the scripts that share it", function()
    local status, out, err = script("variants/twin.lua", "")
    assert.equal(2, status)
    assert.equal("", out)
    assert.truthy(err:find("twin.lua is shared by the scripts beside it", 1, true), err)
  end)

  it("says which files it wrote", function()
    local status, _, err = script("trace2d.lua", "--steps 3 --out " .. h.shquote(dir))
    assert.equal(0, status, err)
    local wrote = {}
    for path in err:gmatch("wrote ([^\n]+)") do wrote[#wrote + 1] = path end
    assert.same({dir .. "/trace2d-gd-eta0.6.csv", dir .. "/trace2d-gd-eta0.6.svg"}, wrote)
    for _, path in ipairs(wrote) do assert.truthy(h.read(path), path) end
  end)
end)
