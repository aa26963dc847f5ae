-- ms.analysis: the chapter's theory (d2l 11.6.3) as computations, each
-- claim checked against an independent computation or a run.
local ms = require "momsandbox"
local h = require "spec.helpers"

local A = ms.analysis

-- The growth factor of R^k v per step by power iteration: the mean of
-- log |v| over the second half of 2n steps, renormalising every step.
local function power_radius(R, n)
  local a, b, logsum = 1, 0.3, 0
  for k = 1, 2 * n do
    a, b = R[1][1] * a + R[1][2] * b, R[2][1] * a + R[2][2] * b
    local norm = math.sqrt(a * a + b * b)
    a, b = a / norm, b / norm
    if k > n then logsum = logsum + math.log(norm) end
  end
  return math.exp(logsum / n)
end

-- Q = V diag(lambda) V' with V a product of random Givens rotations.
local function constructed(lambda, seed)
  local n, rng = #lambda, ms.rng(seed)
  local V = {}
  for i = 1, n do
    V[i] = {}
    for j = 1, n do V[i][j] = i == j and 1 or 0 end
  end
  for _ = 1, 20 * n do
    local p, q = rng:below(n) + 1, rng:below(n) + 1
    if p ~= q then
      local t = 2 * math.pi * rng:uniform()
      local c, s = math.cos(t), math.sin(t)
      for k = 1, n do
        V[k][p], V[k][q] = c * V[k][p] - s * V[k][q], s * V[k][p] + c * V[k][q]
      end
    end
  end
  local Q = {}
  for i = 1, n do
    Q[i] = {}
    for j = 1, n do
      local s = 0
      for k = 1, n do s = s + V[i][k] * lambda[k] * V[j][k] end
      Q[i][j] = s
    end
  end
  for i = 1, n do for j = 1, i - 1 do Q[i][j] = Q[j][i] end end
  return Q
end

describe("ms.analysis of momentum on lambda/2 x^2", function()
  it("builds R(beta, eta, lambda) and finds its eigenvalues, complex pairs included", function()
    assert.are.same({{0.5, 4}, {-0.3, 1 - 0.6 * 4}}, A.R(0.5, 0.6, 4))
    -- the chapter's momentum run: z^2 + 0.9 z + 0.5 = 0
    local z1, z2 = A.eigenvalues(0.5, 0.6, 4)
    assert.is_true(h.near(z1.re, -0.45, 1e-15) and h.near(z2.re, -0.45, 1e-15))
    assert.is_true(h.near(z1.im, math.sqrt(0.5 - 0.45^2), 1e-15))
    assert.are.equal(-z1.im, z2.im)
    assert.is_true(h.near(z1.abs, math.sqrt(0.5), 1e-15))
    -- real roots, the larger first: z^2 - 1.21 z + 0.25
    z1, z2 = A.eigenvalues(0.25, 0.2, 0.2)
    local s = math.sqrt(1.21^2 - 1)
    assert.is_true(h.near(z1.re, (1.21 + s) / 2, 1e-15) and h.near(z2.re, (1.21 - s) / 2, 1e-15))
    assert.are.same({0, 0}, {z1.im, z2.im})
    assert.is_true(z1.abs >= z2.abs)
  end)

  it("gives the spectral radius that power iteration on R finds", function()
    local rng = ms.rng(7)
    local cases = {{0.5, 0.6, 4}, {0.25, 0.6, 4}, {0, 0.4, 4}, {0.64, 0.04, 1}, {0.9, 0.1, 1}}
    for _ = 1, 40 do
      local beta, lambda = 0.99 * rng:uniform(), 10 ^ (2 * rng:uniform() - 1)
      cases[#cases + 1] = {beta, 5 * rng:uniform() / lambda + 1e-3, lambda}
    end
    for _, c in ipairs(cases) do
      local rho = A.radius(c[1], c[2], c[3])
      local z1 = A.eigenvalues(c[1], c[2], c[3])
      assert.are.equal(z1.abs, rho)
      local p = power_radius(A.R(c[1], c[2], c[3]), 20000)
      assert(math.abs(p - rho) <= 2e-3 * rho, ("beta %g eta %g lambda %g: power %g, radius %g")
             :format(c[1], c[2], c[3], p, rho))
    end
  end)

  it("converges exactly inside 0 < eta lambda < 2 + 2 beta, where the radius is below 1", function()
    for beta = 0, 0.95, 0.05 do
      local edge = 2 + 2 * beta
      assert.is_true(A.converges(beta, 0.999 * edge, 1))
      assert.is_true(A.radius(beta, 0.999 * edge, 1) < 1)
      assert.is_false(A.converges(beta, 1.001 * edge, 1))
      assert.is_true(A.radius(beta, 1.001 * edge, 1) > 1)
      assert.is_true(h.near(A.radius(beta, edge, 1), 1, 1e-12))
    end
    assert.is_true(h.near(A.gd_rate(0.6, 4), 1.4, 1e-15))
    assert.is_true(h.near(A.gd_rate(0.4, 0.2), 0.92, 1e-15))
  end)

  it("rejects lambda <= 0, eta <= 0 and beta outside [0, 1), naming the argument", function()
    assert.are.equal("bad argument #3 to 'radius' (lambda must be > 0 (a convex quadratic), got 0)",
                     h.error_of(A.radius, 0.5, 0.1, 0))
    assert.are.equal("bad argument #3 to 'R' (lambda must be > 0 (a convex quadratic), got -1)",
                     h.error_of(A.R, 0.5, 0.1, -1))
    assert.are.equal("bad argument #2 to 'eigenvalues' (eta must be > 0, got 0)",
                     h.error_of(A.eigenvalues, 0.5, 0, 1))
    assert.are.equal("bad argument #2 to 'converges' (eta must be > 0, got -0.1)",
                     h.error_of(A.converges, 0.5, -0.1, 1))
    assert.are.equal("bad argument #1 to 'radius' (beta must be in [0, 1), got 1)",
                     h.error_of(A.radius, 1, 0.1, 1))
    assert.are.equal("bad argument #1 to 'radius' (beta must be in [0, 1), got -0.1)",
                     h.error_of(A.radius, -0.1, 0.1, 1))
    assert.are.equal("bad argument #1 to 'radius' (beta must be in [0, 1), got nan)",
                     h.error_of(A.radius, 0 / 0, 0.1, 1))
    assert.are.equal("bad argument #2 to 'radius' (eta must be > 0, got inf)",
                     h.error_of(A.radius, 0.5, math.huge, 1))
    assert.are.equal("bad argument #2 to 'gd_rate' (lambda must be > 0 (a convex quadratic), got -2)",
                     h.error_of(A.gd_rate, 0.1, -2))
    assert.are.equal("bad argument #1 to 'radius' (number expected, got string)",
                     h.error_of(A.radius, "x", 0.1, 1))
    assert.are.equal("bad argument #1 to 'optimal' (mu must be > 0 (a strongly convex quadratic), got 0)",
                     h.error_of(A.optimal, 0, 1))
    assert.are.equal("bad argument #1 to 'optimal' (L must be finite and >= mu = 2, got 1)",
                     h.error_of(A.optimal, 2, 1))
  end)
end)

describe("ms.analysis.optimal", function()
  local f = ms.objective.quadratic{0.2, 4}   -- the chapter's f, kappa = 20

  it("gives the textbook parameters and rates for eigenvalues in [mu, L]", function()
    local opt = A.optimal(f)
    assert.are.same({0.2, 4, 20}, {opt.mu, opt.L, opt.kappa})
    assert.is_true(h.near(opt.gd.lr, 2 / 4.2, 1e-15))
    assert.is_true(h.near(opt.gd_rate, 19 / 21, 1e-15))
    local sk, sL, smu = math.sqrt(20), math.sqrt(4), math.sqrt(0.2)
    assert.is_true(h.near(opt.momentum.lr, 4 / (sL + smu)^2, 1e-15))
    assert.is_true(h.near(opt.momentum.beta, ((sL - smu) / (sL + smu))^2, 1e-15))
    assert.is_true(h.near(opt.momentum_rate, (sk - 1) / (sk + 1), 1e-15))
    assert.are.same(opt, (A.optimal(0.2, 4)))
    -- every eigenvalue in [mu, L] contracts by the rate
    for lambda = 0.2, 4, 0.01 do
      assert.is_true(A.radius(opt.momentum.beta, opt.momentum.lr, lambda) <= opt.momentum_rate + 1e-7)
      assert.is_true(A.gd_rate(opt.gd.lr, lambda) <= opt.gd_rate + 1e-12)
    end
  end)

  it("beats every grid point around it, in theory and in measured runs", function()
    local opt = A.optimal(f)
    local lambdas = {0.2, 0.5, 1, 2, 3, 4}
    local g = ms.objective.quadratic(lambdas)
    local points = {}
    for i = -3, 3 do
      for j = -3, 3 do
        points[#points + 1] = {lr = opt.momentum.lr * (1 + 0.04 * i), beta = opt.momentum.beta + 0.03 * j}
      end
    end
    local res = ms.sweep{objective = g, rule = "momentum", x0 = {1, 1, 1, 1, 1, 1},
                         points = points, steps = 2000, measure = "rate"}
    local center = 25   -- i = j = 0
    assert.are.same({opt.momentum.lr, opt.momentum.beta}, {points[center].lr, points[center].beta})
    for k, p in ipairs(points) do
      if k ~= center then
        local worst = 0
        for lambda = 0.2, 4.0001, 0.01 do worst = math.max(worst, A.radius(p.beta, p.lr, lambda)) end
        assert.is_true(worst > opt.momentum_rate, "predicted")
        assert(res[k].rate > res[center].rate, ("measured: %g at %s, %g at the optimum")
               :format(res[k].rate, k, res[center].rate))
      end
    end
    local gd = ms.sweep{objective = g, rule = "gd", x0 = {1, 1, 1, 1, 1, 1}, steps = 2000,
                        measure = "rate", grid = {lr = {from = opt.gd.lr * 0.85, to = opt.gd.lr * 1.15, n = 7}}}
    assert.are.equal(4, select(2, gd:best("rate")))
    assert.is_true(h.near(gd[4].rate, opt.gd_rate, 1e-9))
  end)

  it("refuses a Q that is not positive definite", function()
    assert.are.equal("bad argument #1 to 'optimal' (Q is not positive definite (its smallest eigenvalue is -1): " ..
                     "the rates need mu > 0)",
                     h.error_of(A.optimal, {{1, 0}, {0, -1}}))
    assert.are.equal("bad argument #1 to 'optimal' (Q is not symmetric: Q[1][2] = 2 but Q[2][1] = 0)",
                     h.error_of(A.optimal, {{1, 2}, {0, 1}}))
  end)
end)

describe("ms.analysis.eigen", function()
  it("finds the known spectrum and eigenvectors of a constructed Q", function()
    local lambda = {5, -2, 1e-3, 1, 1, 0.25, 3, 7.5, 0.5, 2}   -- a repeated one
    local Q = constructed(lambda, 3)
    local values, vectors = A.eigen(Q)
    local sorted = {table.unpack(lambda)}
    table.sort(sorted)
    assert.is_true(h.near(values:totable(), sorted, 1e-13))
    for k, v in ipairs(vectors) do
      assert.is_true(h.near(v:norm(), 1, 1e-14))
      for i = 1, #Q do
        local qv = 0
        for j = 1, #Q do qv = qv + Q[i][j] * v[j] end
        assert.is_true(h.near(qv, values[k] * v[i], 1e-13))
      end
      for l = 1, k - 1 do assert.is_true(math.abs(v:dot(vectors[l])) < 1e-13) end
    end
  end)

  it("reads Q from quadratic objectives", function()
    local f = ms.objective.rotated_quadratic{kappa = 100, dim = 5, seed = 4}
    local values = A.eigen(f)
    for k = 1, 5 do assert.is_true(h.near(values[k], 100^((k - 1) / 4), 1e-12)) end
    assert.are.same({0.2, 4}, (A.eigen(ms.objective.quadratic{4, 0.2})):totable())
    local two = A.eigen{Q = {{2, 1}, {1, 2}}}
    assert.is_true(h.near(two:totable(), {1, 3}, 1e-15))
  end)

  it("refuses matrices that are not symmetric, square or finite", function()
    assert.are.equal("bad argument #1 to 'eigen' (Q is not symmetric: Q[1][2] = 2 but Q[2][1] = 0)",
                     h.error_of(A.eigen, {{1, 2}, {0, 1}}))
    assert.are.equal("bad argument #1 to 'eigen' (Q must be square: row 2 is not a table of 2 numbers)",
                     h.error_of(A.eigen, {{1, 2}, {0}}))
    assert.are.equal("bad argument #1 to 'eigen' (Q must not be empty)",
                     h.error_of(A.eigen, {}))
    assert.are.equal("bad argument #1 to 'eigen' (Q[1][1] is not finite)",
                     h.error_of(A.eigen, {{math.huge}}))
    assert.are.equal("bad argument #1 to 'eigen' (Q[2][1] is not a number)",
                     h.error_of(A.eigen, {{1, 2}, {"x", 1}}))
    assert.are.equal("bad argument #1 to 'eigen' (rosenbrock is not a quadratic)",
                     h.error_of(A.eigen, ms.objective.rosenbrock()))
  end)
end)

describe("ms.analysis.minimize", function()
  local rng = ms.rng(11)
  local n, Q, c = 7, {}, {}
  local M = {}
  for i = 1, n do
    M[i] = {}
    for j = 1, n do M[i][j] = rng:normal() end
    c[i] = 10 * rng:normal()
  end
  for i = 1, n do
    Q[i] = {}
    for j = 1, n do
      local s = i == j and 0.05 or 0
      for k = 1, n do s = s + M[k][i] * M[k][j] end
      Q[i][j] = s
    end
  end
  for i = 1, n do for j = 1, i - 1 do Q[i][j] = Q[j][i] end end

  it("solves Qx* = -c to 1e-12 and gives h(x*) = b + c'x*/2", function()
    local x, hmin = A.minimize{Q = Q, c = c, b = 3}
    for i = 1, n do
      local r = c[i]
      for j = 1, n do r = r + Q[i][j] * x[j] end
      assert(math.abs(r) <= 1e-12, ("residual %g"):format(r))
    end
    local hobj = ms.objective.quadratic_form{Q = Q, c = c, b = 3}
    assert.is_true(h.near(hobj(x), hmin, 1e-9 * math.abs(hmin)))
    assert.is_true(hobj:grad(x):norm() < 1e-11)
    local x2, hmin2 = A.minimize(hobj)
    assert.are.same(x:totable(), x2:totable())
    assert.are.equal(hmin, hmin2)
    for i = 1, n do   -- no lower value nearby
      local y = x:clone()
      y[i] = y[i] + 1e-4
      assert.is_true(hobj(y) > hmin)
    end
    assert.are.same({{0, 0}, 2}, {(A.minimize{Q = {{1, 0}, {0, 1}}, b = 2}):totable(), 2})
  end)

  it("refuses a Q that is not symmetric or not positive definite, saying which", function()
    assert.are.equal("bad argument #1 to 'minimize' (Q is not positive definite (its smallest eigenvalue is -1), " ..
                     "so h has no unique minimiser)",
                     h.error_of(A.minimize, {Q = {{1, 0}, {0, -1}}, c = {1, 1}}))
    assert.are.equal("bad argument #1 to 'minimize' (Q is not positive definite (its smallest eigenvalue is 0), " ..
                     "so h has no unique minimiser)",
                     h.error_of(A.minimize, {Q = {{1, 1}, {1, 1}}, c = {1, 1}}))
    assert.are.equal("bad argument #1 to 'minimize' (Q is not symmetric: Q[1][2] = 1 but Q[2][1] = 0)",
                     h.error_of(A.minimize, {Q = {{2, 1}, {0, 2}}, c = {1, 1}}))
    assert.are.equal("bad argument #1 to 'minimize' (c has 3 entries, Q is 2x2)",
                     h.error_of(A.minimize, {Q = {{2, 1}, {1, 2}}, c = {1, 1, 1}}))
    assert.are.equal("bad argument #1 to 'minimize' (expected a quadratic objective or {Q = ..., c = ..., b = ...})",
                     h.error_of(A.minimize, {{2, 1}, {1, 2}}))
    assert.are.equal("bad argument #1 to 'minimize' (b must be a number)",
                     h.error_of(A.minimize, {Q = {{1}}, b = "x"}))
  end)
end)

describe("ms.analysis on tables that lie", function()
  local function liar(t, n) return setmetatable(t, {__len = function() return n end}) end

  it("reads matrices up to their raw lengths, whatever __len says", function()
    local values = A.eigen(liar({liar({2, 0}, 2^62), {0, 3}}, 2^62))
    assert.are.same({2, 3}, values:totable())
    assert.are.equal("bad argument #1 to 'eigen' (Q must not be empty)",
                     h.error_of(A.eigen, liar({}, 2^40)))
    assert.are.equal("bad argument #1 to 'minimize' (c has 0 entries, Q is 1x1)",
                     h.error_of(A.minimize, {Q = {{2}}, c = liar({}, 2^62)}))
    local x = A.minimize{Q = liar({{2}}, 2^53), c = liar({-4}, 7)}
    assert.are.same({2}, x:totable())
  end)

  it("refuses a matrix of more than 2^30 entries before reading it", function()
    local rows = {}
    for i = 1, 32769 do rows[i] = false end
    assert.are.equal("bad argument #1 to 'eigen' (Q is too large (32769 x 32769 entries))",
                     h.error_of(A.eigen, rows))
  end)

  it("lets no value crash the primitive", function()
    local native = require "momsandbox.native"
    for _, args in ipairs{{"eigen", native.vec_new(4), 2^40}, {"eigen", native.vec_new(4), 3},
                          {"eigen", {}, 1}, {"minimize", native.vec_new(1), 1, {}, 0},
                          {"minimize", native.vec_new(1), 1, nil, "x"}, {"R", 1, 2},
                          {"nope"}, {nil}, {"parts", 1}} do
      pcall(native.analysis, table.unpack(args, 1, 5))
    end
    assert.is_false(native.analysis("parts", {}))
  end)
end)
