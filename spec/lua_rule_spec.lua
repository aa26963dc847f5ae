-- Rules written in Lua with ms.rule: bit for bit the same as their C
-- twins, usable everywhere a built-in is, and checked as strictly.
local ms = require "momsandbox"
local h = require "spec.helpers"

local f = ms.objective.quadratic{0.2, 4}
local rosen = ms.objective.rosenbrock()

local heavy_ball = ms.rule{
  name = "heavy_ball", hyper = {lr = {min = 0}, beta = 0.9}, state = {"v"},
  step = function(p, g, s, h) s.v:scale(h.beta):add(g); p:axpy(-h.lr, s.v) end,
}

-- PyTorch's Adam, in the operation order of the built-in (core/src/rules/adam.c)
local adam = ms.rule{
  name = "adam_lua",
  hyper = {lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = {default = 1e-8, min = 0}},
  state = {"m", "v", "tmp"},
  step = function(p, g, s, h, t)
    s.m:axpy(1 - h.beta1, s.tmp:copy(g):sub(s.m))          -- lerp(m, g, 1 - beta1)
    s.v:scale(h.beta2):addcmul(g, g, 1 - h.beta2)
    local step_size = h.lr / (1 - h.beta1 ^ t)
    local denom = s.tmp:copy(s.v):sqrt():div((1 - h.beta2 ^ t) ^ 0.5):add(h.eps)
    p:addcdiv(s.m, denom, -step_size)
  end,
}

local nag = ms.rule{
  name = "nag_lua", hyper = {lr = 0.1, momentum = 0.9}, state = {"v"},
  lookahead = function(p, y, s, h) y:copy(p):axpy(h.momentum, s.v) end,
  step = function(p, g, s, h) s.v:scale(h.momentum):axpy(-h.lr, g); p:add(s.v) end,
}

local function assert_twins(obj, a, b, x0, steps)
  local ta = ms.trace(obj, a, {x0 = x0, steps = steps})
  local tb = ms.trace(obj, b, {x0 = x0, steps = steps})
  assert.are.equal(#ta, #tb)
  for i = 1, #ta do
    assert.is_true(h.same_bits(ta[i]:totable(), tb[i]:totable()),
                   ("%s and %s differ at point %d"):format(ta.rule, tb.rule, i))
  end
end

describe("ms.rule", function()
  it("defines rules that match their C twins bit for bit over 200 steps", function()
    assert_twins(f, heavy_ball{lr = 0.6, beta = 0.5}, ms.momentum{lr = 0.6, beta = 0.5}, {-5, -2}, 200)
    assert_twins(rosen, heavy_ball{lr = 5e-4}, ms.momentum{lr = 5e-4}, {-1.5, 2}, 200)
    assert_twins(f, adam{lr = 0.1}, ms.adam{lr = 0.1}, {-5, -2}, 200)
    assert_twins(rosen, adam{lr = 0.01}, ms.adam{lr = 0.01}, {-1.5, 2}, 200)
    assert_twins(f, nag{lr = 0.3, momentum = 0.5}, ms.nag{lr = 0.3, momentum = 0.5}, {-5, -2}, 200)
    assert_twins(rosen, nag{lr = 5e-4}, ms.nag{lr = 5e-4}, {-1.5, 2}, 200)
  end)

  it("gives every rule written in scripts/variants the same trajectory as its twin", function()
    for _, name in ipairs{"heavy_ball", "qhm", "aggmo", "nesterov"} do
      local dir = h.tmpdir()
      local status, out, err = h.cli(h.shquote("scripts/variants/" .. name .. ".lua") ..
                                     " --out " .. h.shquote(dir))
      h.rmtree(dir)
      assert.are.equal(0, status, err)
      local rows = 0
      for diff in out:gmatch("max |Lua %- C| = (%S+);") do
        assert.are.equal("0", diff, name)
        rows = rows + 1
      end
      assert.is_true(rows >= 2, name .. ": " .. out)
    end
  end)

  it("makes rules with defaults, checked hyper-parameters, state and labels", function()
    local r = heavy_ball{lr = 0.1}
    assert.are.equal("heavy_ball{lr=0.1, beta=0.9}", tostring(r))
    assert.are.equal("rule class heavy_ball", tostring(heavy_ball))
    assert.are.same({lr = 0.1, beta = 0.9}, r:hyper())
    assert.matches("lr is required", h.error_of(heavy_ball, {}))
    assert.matches("lr must be in %[0, inf%), got %-1", h.error_of(heavy_ball, {lr = -1}))
    assert.matches("heavy_ball has no hyper%-parameter 'lrr' %(it takes: lr, beta%)",
                   h.error_of(heavy_ball, {lrr = 1}))
    local x = ms.vec{1, 2}
    r:step(x, {1, 1})
    assert.are.same({1, 1}, r:state().v:totable())
    assert.is_true(h.near(x:totable(), {0.9, 1.9}, 1e-15))
    r:reset()
    assert.are.same({0, 0}, r:state().v:totable())
    local c = r:clone()
    c:step(x, {1, 1})
    assert.are.same({0, 0}, r:state().v:totable())   -- the clone has its own state
    assert.are.same({1, 1}, c:state().v:totable())
  end)

  it("passes the step number and the scheduled hyper-parameters", function()
    local seen = {}
    local spy = ms.rule{name = "spy", hyper = {lr = 0.1}, step = function(p, g, s, h, t)
      seen[#seen + 1] = {t, h.lr}
    end}
    ms.trace(f, spy{lr = function(t) return t / 10 end}, {x0 = {1, 1}, steps = 3})
    assert.are.same({{1, 0.1}, {2, 0.2}, {3, 0.3}}, seen)
  end)

  it("stops with the user's error and traceback when the step fails", function()
    local bad = ms.rule{name = "bad", step = function(p, g, s, h, t)
      if t == 2 then error("step two fails") end
    end}
    local err = h.error_of(ms.trace, f, bad{}, {x0 = {1, 1}})
    assert.matches("lua_rule_spec.lua:%d+: step two fails", err)
    assert.matches("stack traceback:", err)
  end)

  it("refuses steps that replace or resize what they must update in place", function()
    local functional = ms.rule{name = "functional", hyper = {lr = 0.1},
      step = function(p, g, s, h) return p - h.lr * g end}
    assert.matches("must update p in place %(e.g. p:axpy%(%-h.lr, g%)%); it returned a new vector",
                   h.error_of(ms.trace, f, functional{}, {x0 = {1, 1}}))
    local replaces = ms.rule{name = "replaces", state = {"v"},
      step = function(p, g, s) s.v = ms.vec(#p) end}
    local err = h.error_of(ms.trace, f, replaces{}, {x0 = {1, 1}})
    assert.matches("lua_rule_spec.lua:%d+: rule 'replaces' cannot replace state vector s.v; " ..
                   "update it in place %(s.v:copy%(...%)%)", err)
    local grows = ms.rule{name = "grows", step = function(p) p[3] = 1 end}
    assert.matches("index 3 out of range %(vector of 2%)", h.error_of(ms.trace, f, grows{}, {x0 = {1, 1}}))
    local writes_g = ms.rule{name = "writes_g", step = function(p, g) g[1] = 0 end}
    assert.matches("vector is read%-only", h.error_of(ms.trace, f, writes_g{}, {x0 = {1, 1}}))
    local kept
    local keeps = ms.rule{name = "keeps", step = function(p) kept = p end}
    ms.trace(f, keeps{}, {x0 = {1, 1}, steps = 1})
    assert.matches("no longer valid", h.error_of(function() return kept[1] end))
    local mismatch = ms.rule{name = "mismatch", step = function(p, g) p:add(ms.vec(3)) end}
    assert.matches("size mismatch: vector of 3, expected 2", h.error_of(ms.trace, f, mismatch{}, {x0 = {1, 1}}))
  end)

  it("checks its definition", function()
    assert.matches("step must be a function", h.error_of(ms.rule, {name = "x"}))
    assert.matches("lookahead must be a function", h.error_of(ms.rule, {step = print, lookahead = 1}))
    assert.matches("hyper.lr must be a number, a boolean or {default=, min=, max=}",
                   h.error_of(ms.rule, {step = print, hyper = {lr = "fast"}}))
    assert.matches("state must be a list of names", h.error_of(ms.rule, {step = print, state = {1}}))
    assert.matches("unknown option 'stepp'", h.error_of(ms.rule, {stepp = print}))
  end)
end)
