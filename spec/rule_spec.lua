-- Built-in update rules: constructors, hand-computed first steps, the
-- equivalences the chapter relies on, and argument checking.
local ms = require "momsandbox"
local h = require "spec.helpers"

-- Take three steps on f = 0.1 x1^2 + 2 x2^2 from (-5, -2) by hand-fed
-- gradients (0.2 x1, 4 x2); return the three points.
local function three_steps(rule)
  local x, points = ms.vec{-5, -2}, {}
  for t = 1, 3 do
    rule:step(x, {0.2 * x[1], 4 * x[2]})
    points[t] = x:totable()
  end
  return points
end

local function assert_points(expected, got)
  for t = 1, #expected do
    assert.is_true(h.near(got[t], expected[t], 1e-12),
      ("step %d: got {%.17g, %.17g}"):format(t, got[t][1], got[t][2]))
  end
end

describe("built-in rules", function()
  it("gd takes x - lr g", function()
    assert_points({{-4.6, 1.2}, {-4.232, -0.72}, {-3.89344, 0.432}},
                  three_steps(ms.gd{lr = 0.4}))
  end)

  it("momentum takes v = beta v + g, x = x - lr v (v0 = 0)", function()
    local hb = ms.momentum{lr = 0.6, beta = 0.5}
    -- v1 = (-1, -8), v2 = (-1.38, 7.2), v3 = (-1.4044, -2.48)
    assert_points({{-4.4, 2.8}, {-3.572, -1.52}, {-2.72936, -0.032}}, three_steps(hb))
    assert.is_true(h.near(hb:state().v:totable(), {-1.4044, -2.48}, 1e-12))
    assert.are.equal(3, hb.steps)
  end)

  it("sgd follows torch.optim.SGD: first step undampened, nesterov, weight decay, maximize", function()
    local function run1d(rule)      -- f = x^2 / 2 from x = 1
      local x, xs = ms.vec{1}, {}
      for t = 1, 3 do rule:step(x, {x[1]}); xs[t] = x[1] end
      return xs
    end
    -- b1 = g1 = 1, b2 = 0.9 * 1 + 0.5 * 0.9, b3 = 0.9 * 1.35 + 0.5 * 0.765
    assert.is_true(h.near(run1d(ms.sgd{lr = 0.1, momentum = 0.9, dampening = 0.5}),
                          {0.9, 0.765, 0.60525}, 1e-12))
    assert.is_true(h.near(run1d(ms.sgd{lr = 0.1, momentum = 0.9, nesterov = true}),
                          {0.81, 0.5751, 0.327321}, 1e-12))
    assert.is_true(h.near(run1d(ms.sgd{lr = 0.1, weight_decay = 0.1}),
                          {0.89, 0.7921, 0.704969}, 1e-12))
    assert.is_true(h.near(run1d(ms.sgd{lr = 0.1, maximize = true}), {1.1, 1.21, 1.331}, 1e-12))
    assert.is_true(h.near(run1d(ms.sgd{lr = 0.1}), {0.9, 0.81, 0.729}, 1e-12))
  end)

  it("sgd{momentum = beta} and momentum{beta} give bit-identical trajectories", function()
    local f = ms.objective.quadratic{0.2, 4}
    for _, c in ipairs{{0.6, 0.5}, {0.6, 0.25}, {0.01, 0.99}, {0.3, 0}} do
      local a = ms.trace(f, ms.momentum{lr = c[1], beta = c[2]}, {x0 = {-5, -2}, steps = 200})
      local b = ms.trace(f, ms.sgd{lr = c[1], momentum = c[2]}, {x0 = {-5, -2}, steps = 200})
      assert.are.equal(#a, #b)
      for i = 1, #a do
        assert.is_true(h.same_bits(a[i]:totable(), b[i]:totable()), "point " .. i)
      end
    end
  end)

  it("with dampening the trajectory differs from momentum after the first step only", function()
    local f = ms.objective.quadratic{0.2, 4}
    local a = ms.trace(f, ms.momentum{lr = 0.1, beta = 0.9}, {x0 = {-5, -2}, steps = 3})
    local b = ms.trace(f, ms.sgd{lr = 0.1, momentum = 0.9, dampening = 0.5}, {x0 = {-5, -2}, steps = 3})
    assert.is_true(h.same_bits(a[2]:totable(), b[2]:totable()))   -- step 1: b1 = g1
    assert.is_false(h.same_bits(a[3]:totable(), b[3]:totable()))
  end)

  it("exposes hyper-parameters, state, reset and clone", function()
    local r = ms.momentum{lr = 0.6, beta = 0.5}
    assert.are.equal("momentum", r.name)
    assert.are.equal(0.6, r.lr)
    assert.are.same({lr = 0.6, beta = 0.5}, r:hyper())
    assert.are.same({}, r:state())              -- no state before the first step
    local first = three_steps(r)
    r:reset()
    assert.are.same({0, 0}, r:state().v:totable())
    assert.are.equal(0, r.steps)
    assert.are.same(first, three_steps(r))      -- a reset rule starts afresh
    local c = r:clone()
    assert.are.same({}, c:state())
    assert.are.same(first, three_steps(c))
    r.lr = 0.1
    assert.are.equal(0.1, r.lr)
    assert.are.same({nesterov = false, lr = 0.1, momentum = 0, dampening = 0,
                     weight_decay = 0, maximize = false}, ms.sgd{lr = 0.1}:hyper())
  end)

  it("prints labels naming the rule and its hyper-parameters", function()
    assert.are.equal("gd{lr=0.4}", tostring(ms.gd{lr = 0.4}))
    assert.are.equal("momentum{lr=0.6, beta=0.5}", tostring(ms.momentum{lr = 0.6, beta = 0.5}))
    assert.are.equal("momentum{lr=0.6, beta=0.9}", tostring(ms.momentum{lr = 0.6}))
    assert.are.equal("sgd{lr=0.005, momentum=0.9}", tostring(ms.sgd{lr = 0.005, momentum = 0.9}))
    assert.are.equal("sgd{lr=0.1, momentum=0.9, nesterov=true}",
                     tostring(ms.sgd{lr = 0.1, momentum = 0.9, nesterov = true}))
  end)

  it("labels a trace with the values the rule had when it ran", function()
    local f, r = ms.objective.quadratic{0.2, 4}, ms.momentum{lr = 0.6, beta = 0.5}
    local first = ms.trace(f, r, {x0 = {-5, -2}, steps = 1})
    r.beta = 0.25
    local second = ms.trace(f, r, {x0 = {-5, -2}, steps = 1})
    r.lr = ms.schedule.constant{lr = 0.1}
    local third = ms.trace(f, r, {x0 = {-5, -2}, steps = 1})
    assert.are.equal("momentum{lr=0.6, beta=0.5}", first.rule)
    assert.are.equal("momentum{lr=0.6, beta=0.25}", second.rule)
    assert.are.equal("momentum{lr=constant{lr=0.1}, beta=0.25}", third.rule)
    assert.are.equal(third.rule, tostring(r))
  end)
end)

describe("rule arguments", function()
  it("rejects unknown names, wrong types and values out of range", function()
    assert.matches("bad argument #1 to '.-momentum' %(momentum has no hyper%-parameter 'lrr' %(it takes: lr, beta%)%)",
                   h.error_of(ms.momentum, {lrr = 0.1}))
    assert.matches("lr is required", h.error_of(ms.momentum, {beta = 0.5}))
    assert.matches("lr is required", h.error_of(ms.gd))
    assert.matches("lr must be in %[0, inf%), got %-0.1", h.error_of(ms.gd, {lr = -0.1}))
    assert.matches("lr must be in %[0, inf%), got nan", h.error_of(ms.gd, {lr = 0 / 0}))
    assert.matches("lr must be in %[0, inf%), got inf", h.error_of(ms.gd, {lr = math.huge}))
    assert.matches("beta must be in %[0, 1%), got 1", h.error_of(ms.momentum, {lr = 1, beta = 1}))
    assert.matches("beta must be in %[0, 1%), got %-0.5", h.error_of(ms.momentum, {lr = 1, beta = -0.5}))
    assert.matches("lr must be a number, schedule or function, got string", h.error_of(ms.gd, {lr = "0.1"}))
    assert.matches("nesterov must be a boolean, got string", h.error_of(ms.sgd, {lr = 1, nesterov = "yes"}))
    assert.matches("nesterov requires momentum > 0 and dampening = 0", h.error_of(ms.sgd, {lr = 1, nesterov = true}))
    assert.matches("nesterov requires", h.error_of(ms.sgd, {lr = 1, momentum = 0.9, dampening = 0.1, nesterov = true}))
    assert.matches("dampening must be in %[0, 1%]", h.error_of(ms.sgd, {lr = 1, dampening = 2}))
    assert.matches("names must be strings, got number", h.error_of(ms.gd, {0.1}))
    assert.matches("table expected, got number", h.error_of(ms.gd, 0.1))
  end)

  it("checks assignments like the constructor", function()
    local r = ms.momentum{lr = 0.1}
    assert.matches("beta must be in %[0, 1%)", h.error_of(function() r.beta = 2 end))
    assert.matches("no hyper%-parameter 'eta'", h.error_of(function() r.eta = 2 end))
    assert.are.equal(0.9, r.beta)
  end)

  it("checks step arguments", function()
    local r = ms.gd{lr = 0.1}
    assert.matches("size mismatch: g has 3 entries, x has 2", h.error_of(r.step, r, ms.vec{1, 2}, {1, 2, 3}))
    assert.matches("momsandbox.vec expected, got table", h.error_of(r.step, r, {1, 2}, {1, 2}))
    assert.matches("vector must not be empty", h.error_of(r.step, r, ms.vec{}, {}))
  end)
end)
