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

describe("objective messages, the same under both interpreters", function()
  local native = require "momsandbox.native"
  local O = ms.objective
  local f = O.quadratic{0.2, 4}

  it("name the function and count arguments after self", function()
    local qf = O.quadratic_form
    local cases = {
      {"bad argument #1 to 'quadratic' (need at least one eigenvalue)", O.quadratic, {}},
      {"bad argument #1 to 'quadratic' (lambda[2] is not finite)", O.quadratic, {1, 0 / 0}},
      {"bad argument #1 to 'quadratic' (entry 1 is a boolean, not a number)", O.quadratic, {true}},
      {"bad argument #1 to 'grad' (x has 3 entries, expected 2)", f.grad, f, {1, 2, 3}},
      {"bad argument #1 to 'value' (x has 1 entries, expected 2)", f, {1}, n = 1},
      {"bad argument #1 to 'eval' (ms.vec or table of numbers expected, got nil)", f.eval, f},
      {"calling 'value' on bad self (momsandbox.objective expected, got nil)", f.value, nil, {1}},
      {"calling 'numgrad' on bad self (momsandbox.objective expected, got table)", f.numgrad, {}, {1}},
      {"bad argument #1 to 'gradcheck' (momsandbox.objective expected, got nil)", ms.gradcheck, nil, {1}},
      {"bad argument #2 to 'gradcheck' (x has 3 entries, expected 2)", ms.gradcheck, O.booth(), {1, 2, 3}},
      {"bad argument #1 to 'quadratic_form' (Q must be square: row 2 is not a table of 2 numbers)",
       qf, {Q = {{1, 0}, {0}}}},
      {"bad argument #1 to 'quadratic_form' (Q[1][2] is not a number)", qf, {Q = {{1, "x"}, {0, 1}}}},
      {"bad argument #1 to 'quadratic_form' (Q must be a table of rows, got nil)", qf, {}},
      {"bad argument #1 to 'quadratic_form' (c has 3 entries, Q is 2x2)",
       qf, {Q = {{1, 0}, {0, 1}}, c = {1, 2, 3}}},
      {"bad argument #1 to 'quadratic_form' (unknown option 'q' (expected one of: Q, c, b))",
       qf, {q = {{1}}, z = 1}},
      {"bad argument #1 to 'quadratic_form' (b must be a number)", qf, {Q = {{1}}, b = "1"}},
      {"bad argument #1 to 'rosenbrock' (dim must be an integer >= 2)", O.rosenbrock, {dim = 1}},
      {"bad argument #1 to 'rosenbrock' (option 'dim' must be an integer, got 2.5)",
       O.rosenbrock, {dim = 2.5}},
      {"bad argument #1 to 'rotated_quadratic' (kappa must be >= 1, got 0.5)",
       O.rotated_quadratic, {kappa = 0.5}},
      {"bad argument #1 to 'objective' (dim must be an integer >= 1)", O, {f = print}},
      {"bad argument #1 to 'objective' (f must be a function)", O, {dim = 1}},
      {"bad argument #1 to 'objective' (name must be a string)", O, {dim = 1, f = print, name = 1}},
      {"bad argument #1 to 'objective' (unknown option 'fn' (expected one of: compile, dim, f, grad, name, " ..
       "window))", O, {dim = 1, fn = print}},
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[1], h.error_of(c[2], table.unpack(c, 3, 2 + (c.n or 2))))
    end
    local lazy = O{dim = 2, f = function() return 0 end, grad = function(x, out) out[1] = 1 end}
    assert.are.equal("gradient function grad did not set out[2]", h.error_of(lazy.grad, lazy, {0, 0}))
    local s = O{dim = 1, f = function() return {} end}
    assert.are.equal("objective function f returned table, expected a number", h.error_of(s, {1}))
  end)

  it("label and fields, with numbers as the shortest decimals", function()
    assert.are.equal("rosenbrock{a=1, b=100}", tostring(O.rosenbrock()))
    assert.are.equal("rosenbrock{a=0.1, b=100, dim=3}", tostring(O.rosenbrock{a = 0.1, dim = 3}))
    assert.are.equal("rotated_quadratic{kappa=100, dim=3}",
                     tostring(O.rotated_quadratic{kappa = 100.0, dim = 3}))
    assert.are.equal("quadratic_form(2-dimensional)", tostring(O.quadratic_form{Q = {{1, 0}, {0, 1}}}))
    assert.are.equal("quadratic{0.2, 4}", f.label)
    assert.are.equal("booth", O.booth().label)
    assert.are.equal(2, f.dim)
    assert.are.equal("integer", math.type(f.dim))
    local own = O{dim = 2, name = "bowl", f = function(x) return x[1] end, window = "mine"}
    assert.are.equal("bowl(2-dimensional)", tostring(own))
    assert.are.equal("bowl", own.name)
    assert.are.equal("mine", own.window)
    assert.is_nil(own.minimizer)
    assert.is_nil(f.nothing)
  end)

  it("read tables raw: a lying __len or __index changes nothing", function()
    local function liar(t) return setmetatable(t, {__len = function() return 2^62 end,
                                                   __index = function() return 7 end}) end
    assert.are.equal("quadratic{1, 2}", tostring(O.quadratic(liar{1, 2})))
    assert.are.equal(1.5, O.quadratic{1, 2}(liar{1, 1}))
    local qf = O.quadratic_form{Q = liar{liar{2, 0}, liar{0, 2}}, c = liar{1, 1}}
    assert.are.equal(4, qf{1, 1})
    local row = {}
    local huge = {}
    for i = 1, 32769 do huge[i] = row end
    assert.are.equal("bad argument #1 to 'quadratic_form' (Q is too large (32769 x 32769 entries))",
                     h.error_of(O.quadratic_form, {Q = huge}))
  end)

  it("are refused once closed, and never crash a primitive", function()
    local o = O.quadratic{1}
    native.close(o)
    native.close(o)
    assert.are.equal("objective has been closed", h.error_of(o, {1}))
    assert.are.equal("objective has been closed", h.error_of(o.grad, o, {1}))
    assert.are.equal("quadratic{1}", tostring(o))
    for _, v in ipairs{1, "x", {}, print, true, 0 / 0, 2^63, -1, ms.vec{1}} do
      pcall(native.objective_builtin, v)
      for _, name in ipairs{"quadratic", "quadratic_form", "rosenbrock", "rotated_quadratic", "model"} do
        pcall(native.objective_builtin, name, v, v)
        pcall(native.objective_builtin, name, ms.vec{1}, v)
        pcall(native.objective_builtin, name, ms.vec{type(v) == "number" and v or 1, 1, 1, 1})
      end
      local n = type(v) == "number" and v or 2
      for _, args in ipairs{{2, 1, 0, 0, 1, 0}, {2, 1, 0, 0, 1, 1, 1, 0, 9}, {n, 1, 1}, {2^31, 0}} do
        pcall(native.objective_builtin, "quadratic_form", ms.vec(args))
      end
      pcall(native.objective_new, v, v, v)
      pcall(native.objective_new, 1, print, v)
      pcall(native.objective_call, v, "value", v)
      pcall(native.objective_call, f, v, ms.vec(2))
      pcall(native.objective_call, f, "value", v)
      pcall(native.objective_call, f, "grad", ms.vec(3))
      pcall(native.objective_info, v)
    end
  end)
end)
