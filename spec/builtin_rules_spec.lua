-- The momentum variants and the adaptive family: the reductions the
-- papers state, checked through the Lua API.
local ms = require "momsandbox"
local h = require "spec.helpers"

local f = ms.objective.quadratic{0.2, 4}
local x0 = {-5, -2}

local function points(rule, steps)
  return ms.trace(f, rule, {x0 = x0, steps = steps or 200})
end

local function assert_same(a, b)
  assert.are.equal(#a, #b)
  for i = 1, #a do
    assert.is_true(h.same_bits(a[i]:totable(), b[i]:totable()), "point " .. i)
  end
end

describe("QHM", function()
  it("with nu = 0 is plain gradient descent", function()
    assert_same(points(ms.qhm{lr = 0.3, beta = 0.9, nu = 0}), points(ms.gd{lr = 0.3}))
  end)

  it("with nu = 1 is normalised (EMA) momentum: b = beta b + (1 - beta) g, x = x - lr b", function()
    local ema = ms.rule{name = "ema", hyper = {lr = 0.3, beta = 0.9}, state = {"b"},
      step = function(p, g, s, h)
        s.b:scale(h.beta):axpy(1 - h.beta, g)
        p:axpy(-h.lr * 1, s.b):axpy(-h.lr * 0, g)   -- the same operations as qhm's
      end}
    assert_same(points(ms.qhm{lr = 0.3, beta = 0.9, nu = 1}), points(ema{}))
  end)
end)

describe("Adam", function()
  it("moves each coordinate by lr sign(g) on its first step", function()
    local g = ms.objective{dim = 3, f = function() return 0 end,
                           grad = function(x, out) out[1], out[2], out[3] = 3e4, -2e5, 7e6 end}
    for _, rule in ipairs{ms.adam{lr = 0.1}, ms.adamw{lr = 0.1, weight_decay = 0},
                          ms.adam{lr = 0.1, amsgrad = true}} do
      local tr = ms.trace(g, rule, {x0 = {1, 1, 1}, steps = 1})
      assert.is_true(h.near(tr[2]:totable(), {0.9, 1.1, 0.9}, 1e-12), tostring(rule))
    end
  end)

  it("AdamW without weight decay is Adam", function()
    assert_same(points(ms.adamw{lr = 0.1, weight_decay = 0}), points(ms.adam{lr = 0.1}))
  end)
end)

describe("Nesterov", function()
  it("in PyTorch's form equals sgd{nesterov = true}", function()
    assert_same(points(ms.nesterov{lr = 0.1, momentum = 0.9}),
                points(ms.sgd{lr = 0.1, momentum = 0.9, nesterov = true}))
  end)

  it("in the look-ahead form takes the gradient at x + mu v", function()
    -- by hand from (-5, -2), lr 0.1, mu 0.5: v1 = -0.1 g(x0) = (0.1, 0.8)
    -- y2 = x1 + 0.5 v1 with x1 = (-4.9, -1.2): y2 = (-4.85, -0.8)
    -- v2 = 0.5 v1 - 0.1 g(y2) = (0.05 + 0.097, 0.4 + 0.32) = (0.147, 0.72)
    local tr = points(ms.nag{lr = 0.1, momentum = 0.5}, 2)
    assert.is_true(h.near(tr[2]:totable(), {-4.9, -1.2}, 1e-14))
    assert.is_true(h.near(tr[3]:totable(), {-4.9 + 0.147, -1.2 + 0.72}, 1e-14))
  end)
end)

describe("every built-in rule", function()
  it("runs on the chapter's quadratic, converges with a small rate, and rejects bad values", function()
    -- Adagrad's steps shrink like 1/sqrt(t): it needs a larger rate to get as far
    for make, lr in pairs{[ms.gd] = 0.01, [ms.momentum] = 0.01, [ms.sgd] = 0.01, [ms.nag] = 0.01,
                          [ms.nesterov] = 0.01, [ms.qhm] = 0.01, [ms.aggmo] = 0.01, [ms.adam] = 0.01,
                          [ms.adamw] = 0.01, [ms.rmsprop] = 0.01, [ms.adagrad] = 0.5} do
      local rule = make{lr = lr}
      local tr = ms.trace(f, rule, {x0 = x0, steps = 3000})
      assert.is_false(tr.diverged, tostring(rule))
      assert.is_true(tr:value(#tr) < tr:value(1) / 10, tostring(rule))
      assert.matches("lr must be in %[0, inf%)", h.error_of(make, {lr = -1}))
    end
  end)
end)
