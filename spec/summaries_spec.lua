-- One-line summaries (tostring) keep a sane width whatever the numbers:
-- d2l's fixed-point form for the chapter's values, an exponent form for
-- values that would print as hundreds of digits.
local ms = require "momsandbox"

local function train(w, lr)
  local data = ms.data.synthetic{w = w, b = 0, n = 100, seed = 1}
  return ms.train{model = ms.model.linreg(#w), data = data, rule = ms.sgd{lr = lr},
                  batch = 10, epochs = 1}
end

describe("a training result's summary", function()
  it("prints a huge loss in exponent form", function()
    local res = train({1e100, 1e100}, 1e-30)
    assert.is_true(res.loss > 1e199 and res.loss < math.huge)
    local line = tostring(res)
    assert.matches("^loss: 1%.158330e%+200, %d+%.%d%d%d%d%d%d sec/epoch$", line)
    assert.is_true(#line < 60, line)
  end)

  it("prints the chapter's losses as d2l does", function()
    assert.matches("^loss: %d+%.%d%d%d, %d+%.%d%d%d%d%d%d sec/epoch$",
                   tostring(train({2, -3.4}, 0.03)))
  end)
end)

describe("a trace's summary", function()
  it("prints huge coordinates in exponent form", function()
    local tr = ms.trace(ms.objective.quadratic{1, 1}, ms.gd{lr = 0.1},
                        {x0 = {1e150, -3e140}, steps = 1})
    assert.are.equal("epoch 1, x1: 9.000000e+149, x2: -2.700000e+140", tostring(tr))
  end)
end)
