-- The built-in objectives: gradients against finite differences, known
-- minima, windows for plots, and the condition number of the rotated
-- quadratic.
local ms = require "momsandbox"
local h = require "spec.helpers"
local O = ms.objective

local objectives = {
  {O.quadratic{0.2, 4}, {{-5, -2}, {0.3, 0.7}}},
  {O.quadratic_form{Q = {{2, 1}, {1, 3}}, c = {1, -1}, b = 5}, {{-0.8, 0.6}, {3, -4}}},
  {O.rosenbrock(), {{-1.5, 2}, {0.5, 0.5}, {1.2, 1.4}}},
  {O.rosenbrock{a = 2, b = 10, dim = 4}, {{0.1, -0.3, 1.7, 0.4}}},
  {O.beale(), {{1, 1}, {-2, 3.5}, {2.5, 0.2}}},
  {O.booth(), {{0, 0}, {-7, 4}}},
  {O.himmelblau(), {{0, 0}, {-4, 3.5}, {1.5, -2}}},
  {O.rotated_quadratic{kappa = 20}, {{1, 2}, {-3, 0.5}}},
  {O.rotated_quadratic{kappa = 1e3, dim = 6, seed = 7}, {{1, 2, 3, 4, 5, 6}}},
}

describe("built-in objectives", function()
  it("have gradients within 1e-6 of finite differences (relative, absolute below 1)", function()
    for _, case in ipairs(objectives) do
      for _, x in ipairs(case[2]) do
        local err, i = ms.gradcheck(case[1], x)
        assert.is_true(err <= 1e-6, ("%s at x = {%s}: relative error %g at %d"):format(
          tostring(case[1]), table.concat(x, ", "), err, i))
      end
    end
  end)

  it("gradcheck finds a wrong gradient and says where", function()
    local wrong = ms.objective{dim = 3, f = function(x) return x[1]^2 + x[2]^2 + x[3]^2 end,
      grad = function(x, out) out[1], out[2], out[3] = 2 * x[1], 3 * x[2], 2 * x[3] end}
    local err, i = ms.gradcheck(wrong, {1, 10, 1})
    assert.is_true(math.abs(err - 10 / 30) < 1e-8)     -- |30 - 20| / 30
    assert.are.equal(2, i)
  end)

  it("know their minimisers: f = 0 and a zero gradient there", function()
    for _, obj in ipairs{O.rosenbrock(), O.rosenbrock{a = 1, dim = 5}, O.beale(), O.booth(),
                         O.himmelblau(), O.rotated_quadratic{kappa = 10}, O.quadratic{1, 2, 3}} do
      local x = obj.minimizer
      assert.is_truthy(x, tostring(obj))
      assert.is_true(math.abs(obj(x)) < 1e-24, tostring(obj))
      assert.is_true(h.near(obj:grad(x):totable(), ms.vec(#x):totable(), 1e-12), tostring(obj))
    end
    assert.are.same({2, 4}, O.rosenbrock{a = 2}.minimizer:totable())
    assert.are.same({3, 0.5}, O.beale().minimizer:totable())
    -- Himmelblau's other three minima
    local hb = O.himmelblau()
    for _, x in ipairs{{-2.805118, 3.131312}, {-3.779310, -3.283186}, {3.584428, -1.848126}} do
      assert.is_true(hb(x) < 1e-9)
    end
    assert.is_nil(O.rosenbrock{a = 2, dim = 3}.minimizer)   -- not known in closed form
  end)

  it("suggest windows for 2-D plots", function()
    assert.are.same({-2, 2, -1, 3}, O.rosenbrock().window)
    assert.are.same({-4.5, 4.5, -4.5, 4.5}, O.beale().window)
    assert.is_nil(O.quadratic{0.2, 4}.window)     -- the plots then use d2l's window
    local own = ms.objective{dim = 2, f = function(x) return x[1]^2 end, window = {-1, 1, -2, 2}}
    assert.are.same({-1, 1, -2, 2}, own.window)
  end)

  it("rotate an ill-conditioned quadratic of the chosen condition number", function()
    -- f = x'Qx/2 with c = 0: the gradient at e_j is column j of Q
    local function matrix(obj)
      local n, Q = obj.dim, {}
      for j = 1, n do
        local e = ms.vec(n)
        e[j] = 1
        Q[j] = obj:grad(e):totable()
      end
      return Q
    end
    local Q = matrix(O.rotated_quadratic{kappa = 20, angle = 0.3})
    assert.is_true(math.abs(Q[1][2] - Q[2][1]) < 1e-15)               -- symmetric
    assert.is_true(math.abs(Q[1][1] + Q[2][2] - 21) < 1e-12)          -- trace = 1 + kappa
    assert.is_true(math.abs(Q[1][1] * Q[2][2] - Q[1][2]^2 - 20) < 1e-12)   -- det = kappa
    assert.is_true(math.abs(Q[1][2]) > 1)                             -- really rotated
    local Q6 = matrix(O.rotated_quadratic{kappa = 1e3, dim = 6, seed = 7})
    local trace, expected = 0, 0
    for i = 1, 6 do trace, expected = trace + Q6[i][i], expected + 1e3^((i - 1) / 5) end
    assert.is_true(math.abs(trace - expected) < 1e-9)
    local again = matrix(O.rotated_quadratic{kappa = 1e3, dim = 6, seed = 7})
    assert.are.same(Q6, again)                                        -- the seed decides
    -- the matrix of earlier versions (Gram-Schmidt), to rounding
    local before = {474.63160133197039, 245.28974673724059, -207.55670840843712,
                    297.15703124122916, -161.59172609763496, 129.1308901637822}
    for j = 1, 6 do assert.is_true(math.abs(Q6[1][j] - before[j]) < 1e-11, j) end
    assert.is_true(math.abs(Q6[6][6] - 54.783394665475434) < 1e-11)
  end)

  it("builds large rotated quadratics in O(dim^3) with a small constant", function()
    local n, kappa = 400, 1e4
    local t0 = ms.util.clock()
    local f = O.rotated_quadratic{kappa = kappa, dim = n, seed = 3}
    assert.is_true(ms.util.clock() - t0 < 20)   -- 0.1 s; Gram-Schmidt and pow took 7 s
    -- Q = R diag(lambda) R' with R orthogonal: Q R_k = lambda_k R_k; tr Q = sum lambda,
    -- |Q|_F^2 = sum lambda^2; and Q e_1 . Q e_1 = (Q^2)_11 = sum_k lambda_k^2 R_1k^2 <= kappa^2
    local trace, frob, sum, sum2 = 0, 0, 0, 0
    for i = 1, n do
      local e = ms.vec(n)
      e[i] = 1
      local col = f:grad(e)
      trace = trace + col[i]
      frob = frob + col:dot(col)
      local l = kappa ^ ((i - 1) / (n - 1))
      sum, sum2 = sum + l, sum2 + l * l
    end
    assert.is_true(math.abs(trace - sum) < 1e-9 * sum)
    assert.is_true(math.abs(frob - sum2) < 1e-9 * sum2)
  end)

  it("reject bad parameters", function()
    assert.matches("dim must be an integer >= 2", h.error_of(O.rosenbrock, {dim = 1}))
    assert.matches("unknown option 'c'", h.error_of(O.rosenbrock, {c = 1}))
    assert.matches("kappa must be >= 1, got 0.5", h.error_of(O.rotated_quadratic, {kappa = 0.5}))
    assert.matches("option 'kappa' %(the condition number%) is required", h.error_of(O.rotated_quadratic, {}))
    assert.matches("x has 3 entries, expected 2", h.error_of(ms.gradcheck, O.booth(), {1, 2, 3}))
  end)
end)
