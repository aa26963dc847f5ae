-- ms.objective: built-in quadratics and objectives defined in Lua.
local ms = require "momsandbox"
local h = require "spec.helpers"

describe("ms.objective.quadratic", function()
  local f = ms.objective.quadratic{0.2, 4}   -- the chapter's 0.1 x1^2 + 2 x2^2

  it("evaluates f and its gradient", function()
    assert.are.equal(0.1 * 25 + 2 * 4, f{-5, -2})
    assert.are.equal(0.1 * 25 + 2 * 4, f(-5, -2))
    assert.are.same({-1, -8}, f:grad{-5, -2}:totable())
    local v, g = f:eval(ms.vec{1, 1})
    assert.are.equal(2.1, v)
    assert.are.same({0.2, 4}, g:totable())
    assert.are.equal(2, f.dim)
    assert.are.equal("quadratic", f.name)
    assert.are.equal("quadratic{0.2, 4}", tostring(f))
  end)

  it("rejects bad eigenvalues and points of the wrong size", function()
    assert.matches("need at least one eigenvalue", h.error_of(ms.objective.quadratic, {}))
    assert.matches("lambda%[2%] is not finite", h.error_of(ms.objective.quadratic, {1, 0 / 0}))
    assert.matches("entry 1 is a string", h.error_of(ms.objective.quadratic, {"a"}))
    assert.matches("x has 3 entries, expected 2", h.error_of(f.grad, f, {1, 2, 3}))
    assert.matches("x has 1 entries, expected 2", h.error_of(f, {1}))
  end)
end)

describe("ms.objective.quadratic_form", function()
  -- Q = [[2, 1], [1, 3]], c = (1, -1), b = 5: minimiser x* = -Q^-1 c = (-0.8, 0.6)
  local hq = ms.objective.quadratic_form{Q = {{2, 1}, {1, 3}}, c = {1, -1}, b = 5}

  it("has gradient Qx + c, zero at the closed-form minimiser", function()
    assert.is_true(h.near(hq:grad{-0.8, 0.6}:totable(), {0, 0}, 1e-15))
    assert.are.same({3, 0}, hq:grad{1, 0}:totable())
    assert.are.equal(0.5 * 2 + 1 + 5, hq{1, 0})
    assert.is_true(h.near(hq{-0.8, 0.6}, 5 + 0.5 * (-0.8 - 0.6), 1e-15))
  end)

  it("rejects non-square, non-symmetric or mis-sized input", function()
    local qf = ms.objective.quadratic_form
    assert.matches("Q must be square: row 2", h.error_of(qf, {Q = {{1, 0}, {0}}}))
    assert.matches("not symmetric: Q%[1%]%[2%] = 1 but Q%[2%]%[1%] = 0",
                   h.error_of(qf, {Q = {{1, 1}, {0, 1}}}))
    assert.matches("c has 3 entries, Q is 2x2", h.error_of(qf, {Q = {{1, 0}, {0, 1}}, c = {1, 2, 3}}))
    assert.matches("Q%[1%]%[2%] is not a number", h.error_of(qf, {Q = {{1, "x"}, {0, 1}}}))
    assert.matches("Q must be a table of rows, got nil", h.error_of(qf, {}))
    assert.matches("unknown option 'q'", h.error_of(qf, {q = {{1}}}))
    assert.matches("b must be a number", h.error_of(qf, {Q = {{1}}, b = "1"}))
  end)
end)

describe("ms.objective{...} defined in Lua", function()
  it("differentiates numerically when grad is not given", function()
    local g = ms.objective{dim = 2, f = function(x) return x[1]^3 + 3 * x[1] * x[2] + math.exp(x[2]) end}
    local grad = g:grad{1.5, -0.5}
    assert.is_true(h.near(grad[1], 3 * 1.5^2 + 3 * -0.5, 1e-9))
    assert.is_true(h.near(grad[2], 3 * 1.5 + math.exp(-0.5), 1e-9))
    assert.are.equal("objective(2-dimensional)", tostring(g))
  end)

  it("uses the analytic gradient when given", function()
    local calls = 0
    local g = ms.objective{dim = 2, name = "bowl",
      f = function(x) return x[1]^2 + x[2]^2 end,
      grad = function(x, out) calls = calls + 1; out[1] = 2 * x[1]; out[2] = 2 * x[2] end}
    assert.are.same({2, -4}, g:grad{1, -2}:totable())
    assert.are.equal(1, calls)
    assert.are.equal("bowl", g.name)
    -- the numeric gradient agrees with the analytic one
    assert.is_true(h.near(g:numgrad{1, -2}:totable(), {2, -4}, 1e-9))
  end)

  it("passes the point read-only and forbids keeping the views", function()
    local kept
    local g = ms.objective{dim = 1, f = function(x) kept = x; return x[1] end}
    assert.are.equal(3, g{3})
    assert.matches("no longer valid", h.error_of(function() return kept[1] end))
    local w = ms.objective{dim = 1, f = function(x) x[1] = 0; return 0 end}
    assert.matches("vector is read%-only", h.error_of(w, {1}))
  end)

  it("reports errors raised inside f or grad with the user's position", function()
    local g = ms.objective{dim = 1, f = function(x) error("boom in f") end}
    local err = h.error_of(g, {1})
    assert.matches("objective_spec.lua:%d+: boom in f", err)
    assert.matches("stack traceback", err)
    local gg = ms.objective{dim = 1, f = function(x) return 0 end,
                            grad = function(x, out) error({code = 7}) end}
    local ok, obj = pcall(gg.grad, gg, {1})
    assert.is_false(ok)
    assert.are.same({code = 7}, obj)   -- non-string errors pass through unchanged
  end)

  it("catches bad values from f and grad", function()
    local s = ms.objective{dim = 1, f = function() return "1x" end}
    assert.matches("f returned string, expected a number", h.error_of(s, {1}))
    local n = ms.objective{dim = 1, f = function() end}
    assert.matches("f returned nil", h.error_of(n, {1}))
    local lazy = ms.objective{dim = 2, f = function() return 0 end,
                              grad = function(x, out) out[1] = 1 end}
    assert.matches("grad did not set out%[2%]", h.error_of(lazy.grad, lazy, {0, 0}))
    local over = ms.objective{dim = 2, f = function() return 0 end,
                              grad = function(x, out) out[3] = 1 end}
    assert.matches("index 3 out of range %(vector of 2%)", h.error_of(over.grad, over, {0, 0}))
  end)

  it("checks its description", function()
    assert.matches("dim must be an integer >= 1", h.error_of(ms.objective, {f = print}))
    assert.matches("f must be a function", h.error_of(ms.objective, {dim = 1}))
    assert.matches("grad must be a function", h.error_of(ms.objective, {dim = 1, f = print, grad = 1}))
    assert.matches("unknown option 'fn'", h.error_of(ms.objective, {dim = 1, fn = print}))
  end)

  it("supports nested use: grad may call the objective itself", function()
    local g
    g = ms.objective{dim = 1, f = function(x) return x[1]^2 end,
      grad = function(x, out)
        local here = g{x[1]}           -- re-enters the objective
        out[1] = 2 * x[1] + 0 * here
        assert(x[1] == x[1])           -- x is still usable afterwards
      end}
    assert.are.same({6}, g:grad{3}:totable())
  end)
end)
