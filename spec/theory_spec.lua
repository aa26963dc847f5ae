-- The theory of any linear rule: iteration matrices probed from the
-- rules' own steps, for the built-ins and for twins written in Lua; radii
-- against heavy ball's closed forms, against the rates of long runs, and
-- the known results (Polyak, Nesterov, QHM's and AggMo's reductions);
-- non-linear rules refused.
local ms = require "momsandbox"
local h = require "spec.helpers"

local A = ms.analysis

-- Twins of the linear built-ins, written in Lua in their operation order
-- (core/src/rules/*.c), so that their matrices agree bit for bit.
local twins = {
  gd = ms.rule{name = "gd_lua", hyper = {lr = {min = 0}}, state = {},
    step = function(p, g, s, hv)
      for i = 1, #p do p[i] = p[i] + -hv.lr * g[i] end
    end},
  momentum = ms.rule{name = "momentum_lua", hyper = {lr = {min = 0}, beta = 0.9}, state = {"v"},
    step = function(p, g, s, hv)
      local v = s.v
      for i = 1, #p do
        v[i] = hv.beta * v[i] + g[i]
        p[i] = p[i] + -hv.lr * v[i]
      end
    end},
  sgd = ms.rule{name = "sgd_lua", state = {"momentum_buffer"},
    hyper = {lr = {min = 0}, momentum = 0, dampening = 0, nesterov = false, weight_decay = 0,
             maximize = false},
    step = function(p, g, s, hv, t)
      local buf, mom, damp, wd = s.momentum_buffer, hv.momentum, 1 - hv.dampening, hv.weight_decay
      for i = 1, #p do
        local d = hv.maximize and -g[i] or g[i]
        if wd ~= 0 then d = d + wd * p[i] end
        if mom ~= 0 then
          buf[i] = t == 1 and d or mom * buf[i] + damp * d
          d = hv.nesterov and d + mom * buf[i] or buf[i]
        end
        p[i] = p[i] + -hv.lr * d
      end
    end},
  nag = ms.rule{name = "nag_lua", hyper = {lr = {min = 0}, momentum = 0.9}, state = {"v"},
    lookahead = function(p, y, s, hv)
      for i = 1, #p do y[i] = p[i] + hv.momentum * s.v[i] end
    end,
    step = function(p, g, s, hv)
      local v = s.v
      for i = 1, #p do
        v[i] = hv.momentum * v[i] - hv.lr * g[i]
        p[i] = p[i] + v[i]
      end
    end},
  nesterov = ms.rule{name = "nesterov_lua", hyper = {lr = {min = 0}, momentum = 0.9},
    state = {"momentum_buffer"},
    step = function(p, g, s, hv, t)
      local buf, mom = s.momentum_buffer, hv.momentum
      for i = 1, #p do
        local d = g[i]
        buf[i] = t == 1 and d or mom * buf[i] + d
        d = d + mom * buf[i]
        p[i] = p[i] + -hv.lr * d
      end
    end},
  qhm = ms.rule{name = "qhm_lua", hyper = {lr = {min = 0}, beta = 0.999, nu = 0.7},
    state = {"momentum_buffer"},
    step = function(p, g, s, hv)
      local cb, cg, cd = -hv.lr * hv.nu, -hv.lr * (1 - hv.nu), 1 - hv.beta
      local buf = s.momentum_buffer
      for i = 1, #p do
        buf[i] = buf[i] * hv.beta + cd * g[i]
        p[i] = p[i] + cb * buf[i]
        p[i] = p[i] + cg * g[i]
      end
    end},
  aggmo = ms.rule{name = "aggmo_lua", hyper = {lr = {min = 0}, beta1 = 0, beta2 = 0.9, beta3 = 0.99},
    state = {"v1", "v2", "v3"},
    step = function(p, g, s, hv)
      local c, betas = hv.lr / 3, {hv.beta1, hv.beta2, hv.beta3}
      for i = 1, #p do
        for k = 1, 3 do
          local v = s["v" .. k]
          v[i] = betas[k] * v[i] - g[i]
          p[i] = p[i] + c * v[i]
        end
      end
    end},
}

-- Settings of each linear built-in whose eigenvalues on lambda = 1 are
-- real and apart, so that a run's ratio |x_t / x_t-1| settles on the
-- radius to rounding within a few hundred steps.
local settings = {
  {"gd", {lr = 0.3}},
  {"momentum", {lr = 0.1, beta = 0.2}},
  {"sgd", {lr = 0.1, momentum = 0.2, dampening = 0.3}},
  {"sgd", {lr = 0.1, momentum = 0.2, nesterov = true, weight_decay = 0.1}},
  {"sgd", {lr = 0.3}},
  {"nag", {lr = 0.1, momentum = 0.2}},
  {"nesterov", {lr = 0.1, momentum = 0.2}},
  {"qhm", {lr = 0.2, beta = 0.3, nu = 0.7}},
  {"aggmo", {lr = 0.1, beta1 = 0, beta2 = 0.2, beta3 = 0.4}},
}

local function rel(a, b) return math.abs(a - b) / math.max(math.abs(b), 1e-300) end

describe("ms.analysis.matrix", function()
  it("is the matrix of the rule's equations", function()
    -- momentum on z = (x, v): v' = beta v + lambda x, x' = x - lr v'
    local M, names = A.matrix(ms.momentum{lr = 0.3, beta = 0.6}, 0.7)
    assert.same({"x", "v"}, names)
    assert.is_true(h.near(M[1][1], 1 - 0.3 * 0.7, 1e-16))
    assert.is_true(h.near(M[1][2], -0.3 * 0.6, 1e-16))
    assert.same({0.7, 0.6}, M[2])
    -- nesterov's first step starts its buffer: the buffer's column is zero
    local N1 = A.matrix(ms.nesterov{lr = 0.1, momentum = 0.5}, 2, {t = 1})
    assert.same({0, 0}, {N1[1][2], N1[2][2]})
    local N2 = A.matrix(ms.nesterov{lr = 0.1, momentum = 0.5}, 2, {t = 2})
    assert.is_true(h.near(N2[1][2], -0.1 * 0.25, 1e-16))
  end)

  it("is the same for every built-in and its twin written in Lua, bit for bit", function()
    for _, s in ipairs(settings) do
      local name, values = s[1], s[2]
      for _, lambda in ipairs{0.01, 0.7, 3, 250} do
        for _, t in ipairs{1, 2, 17} do
          local a, b = A.matrix(ms[name](values), lambda, {t = t}), A.matrix(twins[name](values), lambda, {t = t})
          assert.are.equal(#a, #b)
          for i = 1, #a do
            assert.is_true(h.same_bits(a[i], b[i]), ("%s at lambda %g, t %d, row %d"):format(name, lambda, t, i))
          end
        end
      end
    end
  end)

  it("follows a scheduled hyper-parameter to step t", function()
    local r = ms.momentum{lr = ms.schedule.step{base = 0.4, step_size = 10, gamma = 0.5}, beta = 0.5}
    assert.is_true(h.near(A.matrix(r, 1, {t = 5})[1][1], 1 - 0.4, 1e-16))
    assert.is_true(h.near(A.matrix(r, 1, {t = 15})[1][1], 1 - 0.2, 1e-16))
  end)
end)

describe("ms.analysis.radius of a rule", function()
  it("agrees with heavy ball's closed form to 1e-12", function()
    local rng, worst = ms.rng(7), 0
    for _ = 1, 500 do
      local beta, eta, lambda = rng:uniform(0, 0.999), rng:uniform(0.001, 4), rng:uniform(0.01, 2)
      local rho = A.radius(beta, eta, lambda)
      for _, r in ipairs{ms.momentum{lr = eta, beta = beta}, ms.sgd{lr = eta, momentum = beta},
                         twins.momentum{lr = eta, beta = beta},
                         ms.aggmo{lr = eta, beta1 = beta, beta2 = beta, beta3 = beta}} do
        worst = math.max(worst, math.abs(A.radius(r, lambda) - rho))
      end
    end
    assert.is_true(worst <= 1e-12, "worst " .. worst)
  end)

  it("is the rate a long run measures, to 1e-8, for every linear built-in and its twin", function()
    local f = ms.objective.quadratic{1}
    for _, s in ipairs(settings) do
      for _, make in ipairs{ms[s[1]], twins[s[1]]} do
        local r = make(s[2])
        for _, e in ipairs{A.eigenvalues(r, 1)} do assert.are.equal(0, e.im) end
        local rho = A.radius(r, 1)
        local tr = ms.trace(f, r, {x0 = {1}, steps = 300})
        local measured = math.abs(tr[301][1] / tr[300][1])
        assert.is_true(rel(measured, rho) <= 1e-8,
                       ("%s: radius %.17g, measured %.17g"):format(tostring(r), rho, measured))
      end
    end
  end)

  it("takes the largest over a quadratic's eigenvalues: rate and converges", function()
    local f = ms.objective.quadratic{0.1, 2}
    local r = ms.momentum{lr = 0.6, beta = 0.5}
    assert.is_true(h.near(A.rate(r, f), math.max(A.radius(0.5, 0.6, 0.1), A.radius(0.5, 0.6, 2)), 1e-15))
    assert.is_true(A.converges(r, f))
    assert.is_false(A.converges(ms.gd{lr = 1.1}, f))
    -- a quadratic form and rows of Q: the eigenvalues of Q
    local Q = {{2, 1}, {1, 2}}   -- eigenvalues 1 and 3
    assert.is_true(h.near(A.rate(ms.gd{lr = 0.4}, Q), 0.6, 1e-15))
    assert.is_true(h.near(A.rate(ms.gd{lr = 0.4}, ms.objective.quadratic_form{Q = Q}), 0.6, 1e-15))
    -- a number is the lambda of lambda x^2 / 2: heavy ball's complex regime,
    -- (1 + beta - eta lambda)^2 = 1.44 < 4 beta = 2, has radius sqrt(beta);
    -- eta lambda = 6 > 2 + 2 beta diverges
    assert.is_true(h.near(A.rate(r, 0.5), math.sqrt(0.5), 1e-15))
    assert.is_true(A.converges(r, 0.5))
    assert.is_false(A.converges(r, 10))
  end)

  it("reproduces the known results", function()
    local mu, L = 0.1, 2
    local f, kappa = ms.objective.quadratic{mu, 0.5, L}, L / mu
    local sk = math.sqrt(kappa)
    -- Polyak's heavy ball (double roots at mu and L: good to ~sqrt(eps))
    local opt = A.optimal(mu, L)
    assert.is_true(h.near(A.rate(ms.momentum(opt.momentum), f), (sk - 1) / (sk + 1), 1e-7))
    -- Nesterov, look-ahead form: 1 - 1/sqrt(kappa) at lr = 1/L, momentum (sqrt k - 1)/(sqrt k + 1)
    local nag = ms.nag{lr = 1 / L, momentum = (sk - 1) / (sk + 1)}
    assert.is_true(h.near(A.rate(nag, f), 1 - 1 / sk, 1e-7))
    -- PyTorch's form has the same spectrum
    local nesterov = ms.nesterov{lr = 1 / L, momentum = (sk - 1) / (sk + 1)}
    assert.is_true(h.near(A.rate(nesterov, f), 1 - 1 / sk, 1e-7))
    -- QHM: heavy ball at nu = 1 (its buffer dampened: lr / (1 - beta)), gd at nu = 0
    for _, lambda in ipairs{0.05, 0.3, 1, 1.9} do
      assert.is_true(h.near(A.radius(ms.qhm{lr = 0.3 / (1 - 0.6), beta = 0.6, nu = 1}, lambda),
                            A.radius(0.6, 0.3, lambda), 1e-12))
      assert.are.equal(A.radius(ms.gd{lr = 0.3}, lambda), A.radius(ms.qhm{lr = 0.3, beta = 0.6, nu = 0}, lambda))
      -- AggMo with its betas equal is heavy ball
      assert.is_true(h.near(A.radius(ms.aggmo{lr = 0.3, beta1 = 0.6, beta2 = 0.6, beta3 = 0.6}, lambda),
                            A.radius(0.6, 0.3, lambda), 1e-12))
    end
  end)
end)

describe("the theory of a rule refuses", function()
  it("non-linear rules, naming them and why", function()
    for _, name in ipairs{"adam", "adamw", "rmsprop", "adagrad"} do
      local msg = h.error_of(A.matrix, ms[name]{lr = 0.01}, 1)
      local want = "bad argument #1 to 'matrix' (" .. name .. " is not linear on lambda x^2 / 2"
      assert.is_truthy(msg:find(want, 1, true), msg)
    end
    local clip = ms.rule{name = "clipped", hyper = {lr = 0.1}, state = {},
      step = function(p, g, s, hv) for i = 1, #p do p[i] = p[i] - hv.lr * math.max(-1, math.min(1, g[i])) end end}
    assert.are.equal("bad argument #1 to 'radius' (clipped is not linear on lambda x^2 / 2 (lambda = 0.5, " ..
                     "step 1048576): its step of inputs scaled by 1000 is not 1000 times its step, so it " ..
                     "has no iteration matrix)", h.error_of(A.radius, clip{}, 0.5))
    local drift = ms.rule{name = "drift", hyper = {lr = 0.1}, state = {},
      step = function(p, g, s, hv) for i = 1, #p do p[i] = p[i] - hv.lr * g[i] + 1e-3 end end}
    assert.are.equal("bad argument #1 to 'rate' (drift is not linear on lambda x^2 / 2 (lambda = 1, step 1048576): " ..
                     "from x = 0 and a zero state its step gives x = 0.001, so it has no iteration matrix)",
                     h.error_of(A.rate, drift{}, ms.objective.quadratic{1, 1}))
  end)

  it("bad arguments, naming them", function()
    local r = ms.momentum{lr = 0.1}
    assert.are.equal("bad argument #1 to 'matrix' (momsandbox.rule expected, got string)",
                     h.error_of(A.matrix, "momentum", 1))
    assert.are.equal("bad argument #2 to 'matrix' (number expected, got table)", h.error_of(A.matrix, r, {}))
    assert.are.equal("bad argument #2 to 'radius' (lambda must be a finite number, got nan)",
                     h.error_of(A.radius, r, 0 / 0))
    assert.are.equal("bad argument #2 to 'eigenvalues' (lambda must be a finite number, got inf)",
                     h.error_of(A.eigenvalues, r, math.huge))
    assert.are.equal("bad argument #3 to 'matrix' (option 't' (the step) must be >= 1, got 0)",
                     h.error_of(A.matrix, r, 1, {t = 0}))
    assert.are.equal("bad argument #3 to 'matrix' (option 't' must be an integer, got 1.5)",
                     h.error_of(A.matrix, r, 1, {t = 1.5}))
    assert.are.equal("bad argument #3 to 'radius' (unknown option 'step' (expected one of: t))",
                     h.error_of(A.radius, r, 1, {step = 3}))
    assert.are.equal("bad argument #2 to 'rate' (rosenbrock is not a quadratic)",
                     h.error_of(A.rate, r, ms.objective.rosenbrock()))
    assert.are.equal("bad argument #2 to 'converges' (Q must not be empty)", h.error_of(A.converges, r, {}))
    assert.are.equal("bad argument #2 to 'rate' (quadratic objective or Q as rows expected, got string)",
                     h.error_of(A.rate, r, "Q"))
    assert.are.equal("bad argument #2 to 'converges' (lambda must be a finite number, got nan)",
                     h.error_of(A.converges, r, 0 / 0))
    assert.are.equal("bad argument #1 to 'eigen' (quadratic objective or Q as rows expected, got number)",
                     h.error_of(A.eigen, 2))
    -- a Lua rule's own error comes through unchanged
    local boom = ms.rule{name = "boom", hyper = {}, state = {}, step = function() error("boom!", 0) end}
    assert.are.equal("boom!", select(2, pcall(A.matrix, boom{}, 1)):match("boom!"))
  end)
end)

describe("ms.analysis.optimal of a rule", function()
  local mu, L = 0.1, 2
  local f = ms.objective.quadratic{mu, 0.7, L}
  local sk = math.sqrt(L / mu)

  it("gives Polyak's heavy ball, in closed form and by search", function()
    local polyak = A.optimal(mu, L)
    local o = A.optimal(ms.momentum{lr = 0.1}, f, {tune = {"lr", "beta"}})
    assert.are.equal("closed form: Polyak's heavy ball", o.method)
    assert.are.equal(polyak.momentum.lr, o.values.lr)
    assert.are.equal(polyak.momentum.beta, o.values.beta)
    assert.is_true(h.near(o.rate, (sk - 1) / (sk + 1), 1e-7))   -- double roots: ~sqrt(eps)
    assert.are.equal(o.values.lr, o.rule.lr)
    local s = A.optimal(ms.momentum{lr = 0.1}, f, {tune = {"beta", "lr"}, method = "search"})
    assert.are.equal("search", s.method)
    assert.is_true(h.near(s.values.lr, polyak.momentum.lr, 1e-8 * polyak.momentum.lr))
    assert.is_true(h.near(s.values.beta, polyak.momentum.beta, 1e-8))
    assert.is_true(h.near(s.rate, (sk - 1) / (sk + 1), 1e-7))
    -- PyTorch's sgd with momentum and the Lua twin, searched: the same optimum
    for _, r in ipairs{ms.sgd{lr = 0.1, momentum = 0.5}, twins.momentum{lr = 0.1}} do
      local b = r.momentum and "momentum" or "beta"
      local t = A.optimal(r, f, {tune = {"lr", b}, method = "search", range = {lr = {1e-4, 10}, [b] = {0, 0.999}}})
      assert.is_true(h.near(t.values.lr, polyak.momentum.lr, 1e-8 * polyak.momentum.lr), tostring(r))
    end
  end)

  it("gives Nesterov's on quadratics, for both forms, and gradient descent's", function()
    local s3 = math.sqrt(3 * L / mu + 1)
    for _, r in ipairs{ms.nag{lr = 0.1}, ms.nesterov{lr = 0.1}, twins.nag{lr = 0.1}} do
      local o = A.optimal(r, f, {tune = {"lr", "momentum"}, method = "search",
                                 range = {lr = {1e-4, 10}, momentum = {0, 0.999}}})
      assert.is_true(h.near(o.values.lr, 4 / (3 * L + mu), 1e-9), tostring(r))
      assert.is_true(h.near(o.values.momentum, (s3 - 2) / (s3 + 2), 1e-9), tostring(r))
      assert.is_true(h.near(o.rate, 1 - 2 / s3, 1e-9), tostring(r))
    end
    local c = A.optimal(ms.nesterov{lr = 0.1}, f, {tune = {"lr", "momentum"}})
    assert.are.equal("closed form: Nesterov's on quadratics", c.method)
    local g = A.optimal(ms.gd{lr = 1}, f, {tune = {"lr"}, method = "search"})
    assert.is_true(h.near(g.values.lr, 2 / (mu + L), 1e-12))
    assert.is_true(h.near(g.rate, (L - mu) / (L + mu), 1e-12))
  end)

  it("searches within the ranges given, and for rules it has no closed form of", function()
    -- gradient descent's rate falls with lr up to 2 / (mu + L) = 0.95...
    local o = A.optimal(ms.gd{lr = 0.1}, f, {tune = {"lr"}, range = {lr = {0.01, 0.5}}})
    assert.are.equal("search", o.method)
    assert.is_true(h.near(o.values.lr, 0.5, 1e-12))
    assert.is_true(h.near(o.rate, 1 - 0.5 * mu, 1e-15))
    local q = A.optimal(ms.qhm{lr = 0.1, nu = 1}, f, {tune = {"lr", "beta"}})
    -- QHM at nu = 1 is heavy ball with lr / (1 - beta)
    assert.is_true(h.near(q.rate, (sk - 1) / (sk + 1), 1e-7))
  end)

  it("refuses bad options, naming them", function()
    local r = ms.momentum{lr = 0.1}
    local function err(...) return h.error_of(A.optimal, ...) end
    assert.are.equal("bad argument #3 to 'optimal' (options {tune = {names}} are required)", err(r, f))
    assert.are.equal("bad argument #3 to 'optimal' (option 'tune' must not be empty)", err(r, f, {tune = {}}))
    assert.are.equal("bad argument #3 to 'optimal' (tune: momentum has no hyper-parameter 'eta' " ..
                     "(it takes: beta, lr))", err(r, f, {tune = {"lr", "eta"}}))
    assert.are.equal("bad argument #3 to 'optimal' (tune: nesterov is a flag (0 or 1), not a number to tune)",
                     err(ms.sgd{lr = 0.1}, f, {tune = {"nesterov"}}))
    assert.are.equal("bad argument #3 to 'optimal' (tune names lr twice)", err(r, f, {tune = {"lr", "lr"}}))
    assert.are.equal("bad argument #3 to 'optimal' (tune[1] must be a string, got number)", err(r, f, {tune = {1}}))
    assert.are.equal("bad argument #3 to 'optimal' (range.lr must be finite with lo < hi, got {1, 0.5})",
                     err(r, f, {tune = {"lr"}, range = {lr = {1, 0.5}}}))
    assert.are.equal("bad argument #3 to 'optimal' (range.beta: beta is not tuned)",
                     err(r, f, {tune = {"lr"}, range = {beta = {0, 0.5}}}))
    assert.are.equal("bad argument #3 to 'optimal' (unknown option 'tunes' (expected one of: method, range, t, tune))",
                     err(r, f, {tunes = {"lr"}}))
    assert.are.equal("bad argument #3 to 'optimal' (option 'method' must be 'auto' or 'search', got best)",
                     err(r, f, {tune = {"lr"}, method = "best"}))
    assert.are.equal("bad argument #2 to 'optimal' (rosenbrock is not a quadratic)",
                     err(r, ms.objective.rosenbrock(), {tune = {"lr"}}))
    assert.are.equal("bad argument #2 to 'optimal' (Q is not positive definite (its smallest eigenvalue is " ..
                     "-1): the rates need mu > 0)", err(r, {{-1, 0}, {0, 1}}, {tune = {"lr"}}))
    local msg = err(ms.adam{lr = 0.1}, f, {tune = {"lr"}})
    assert.is_truthy(msg:find("bad argument #1 to 'optimal' (adam is not linear", 1, true), msg)
    local free = ms.rule{name = "free", hyper = {lr = {min = 0}, shift = 0}, state = {},
      step = function(p, g, s, hv) p:axpy(-hv.lr, g) end}
    assert.are.equal("bad argument #3 to 'optimal' (range.shift is needed: its values are unbounded below)",
                     err(free{lr = 0.1}, f, {tune = {"shift"}}))
  end)
end)

describe("ms.analysis.region", function()
  it("maps the radius over two hyper-parameters as sweep-like data", function()
    local reg = A.region{rule = ms.momentum{lr = 0.1}, x = "lr", y = "beta", lambda = {0.5, 1},
                         grid = {lr = {from = 0.5, to = 2.5, n = 5}, beta = {0, 0.25, 0.5}}}
    assert.are.equal(15, #reg)
    for k = 1, #reg do
      local p = reg[k]
      local want = math.max(A.radius(p.beta, p.lr, 0.5), A.radius(p.beta, p.lr, 1))
      assert.is_true(h.near(p.radius, want, 1e-12), ("at lr %g beta %g"):format(p.lr, p.beta))
    end
    assert.are.equal(reg[2].lr, 1)
    assert.are.equal(reg[6].beta, 0.25)
    assert.same(reg[15], reg[-1])
    assert.matches("bad argument #1 to '__index' %(point 16 out of range %(region of 15%)%)$",
                   h.error_of(function() return reg[16] end))
    local x, y, z = reg:matrix()
    assert.same({0.5, 1, 1.5, 2, 2.5}, x)
    assert.same({0, 0.25, 0.5}, y)
    assert.are.equal(reg[8].radius, z[2][3])
    local best, k = reg:best()
    assert.are.equal(best.radius, math.min(table.unpack(reg:column("radius"))))
    assert.are.equal(reg[k].radius, best.radius)
    assert.are.equal(5, #reg:column("lr") / 3)
    local fig = ms.plot.figure.heatmap{x = x, y = y, z = z}
    assert.are.equal("image", fig.layers[1].kind)
    assert.are.equal("image", ms.plot.figure.heatmap{x = x, y = y, z = z}.layers[1].kind)
    local dir = h.tmpdir()
    reg:csv(dir .. "/region.csv")
    local csv = h.read(dir .. "/region.csv")
    h.rmtree(dir)
    assert.are.equal("lr,beta,radius", csv:match("^[^\n]+"))
    assert.are.equal(16, select(2, csv:gsub("\n", "")))
    -- a Lua rule, and f for lambda: the same numbers
    local twin = A.region{rule = twins.momentum{lr = 0.1}, x = "lr", y = "beta",
                          f = ms.objective.quadratic{0.5, 1},
                          grid = {lr = {from = 0.5, to = 2.5, n = 5}, beta = {0, 0.25, 0.5}}}
    assert.same(reg:column("radius"), twin:column("radius"))
  end)

  it("refuses bad options, naming them", function()
    local r = ms.momentum{lr = 0.1}
    local function err(opts) return h.error_of(A.region, opts) end
    local g = {lr = {0.1}, beta = {0.5}}
    assert.are.equal("bad argument #1 to 'region' (option 'rule' (a linear rule) is required)",
                     err{x = "lr", y = "beta", lambda = 1, grid = g})
    assert.are.equal("bad argument #1 to 'region' (option 'y' must be the name of a hyper-parameter, got nil)",
                     err{rule = r, x = "lr", lambda = 1, grid = g})
    assert.are.equal("bad argument #1 to 'region' (grid.lr must not be empty)",
                     err{rule = r, x = "lr", y = "beta", lambda = 1, grid = {lr = {}, beta = {0.5}}})
    assert.are.equal("bad argument #1 to 'region' (momentum has no hyper-parameter 'nu')",
                     err{rule = r, x = "lr", y = "nu", lambda = 1, grid = {lr = {0.1}, nu = {0.5}}})
    assert.are.equal("bad argument #1 to 'region' (lambda must be a finite number, got nan)",
                     err{rule = r, x = "lr", y = "beta", lambda = 0 / 0, grid = g})
    assert.are.equal("bad argument #1 to 'region' (give lambda (a number or a list) or f (a quadratic), one of them)",
                     err{rule = r, x = "lr", y = "beta", grid = g})
    assert.are.equal("bad argument #1 to 'region' (at lr = -1, beta = 0.5: lr must be in [0, inf), got -1)",
                     err{rule = r, x = "lr", y = "beta", lambda = 1, grid = {lr = {-1}, beta = {0.5}}})
    local msg = err{rule = ms.adam{lr = 0.1}, x = "lr", y = "beta1", lambda = 1, grid = {lr = {0.1}, beta1 = {0.5}}}
    assert.is_truthy(msg:find("adam is not linear", 1, true), msg)
    assert.are.equal("bad argument #1 to 'region' (unknown option 'z' " ..
                     "(expected one of: f, grid, lambda, rule, t, x, y))",
                     err{rule = r, x = "lr", y = "beta", lambda = 1, grid = g, z = 1})
  end)

  it("takes a range as a sweep does: its values, and its refusals", function()
    local r = ms.momentum{lr = 0.1}
    local q = ms.objective.quadratic{1}
    for _, range in ipairs{{from = 0.01, to = 1.9, n = 7}, {from = 1e-3, to = 1.5, n = 9, log = true},
                           {from = 0.3, to = 0.3, n = 1}} do
      local reg = A.region{rule = r, x = "lr", y = "beta", lambda = 1, grid = {lr = range, beta = {0.5}}}
      local sw = ms.sweep{objective = q, rule = r, x0 = {1}, steps = 1, grid = {lr = range, beta = {0.5}}}
      assert.same(sw:column("lr"), reg:column("lr"))
    end
    local function err(range)
      return h.error_of(A.region, {rule = r, x = "lr", y = "beta", lambda = 1, grid = {lr = range, beta = {0.5}}})
    end
    local pre = "bad argument #1 to 'region' (grid.lr: "
    assert.are.equal(pre .. "the range must have finite ends)", err{from = 0.1, to = math.huge, n = 3})
    assert.are.equal(pre .. "the range must have finite ends)", err{from = 0 / 0, to = 1, n = 3})
    assert.are.equal(pre .. "reversed range (from 1 > to 0.1))", err{from = 1, to = 0.1, n = 3})
    assert.are.equal(pre .. "one value (n = 1) needs from = to, got 0.1 and 1)", err{from = 0.1, to = 1, n = 1})
    assert.are.equal(pre .. "from = to = 0.5 gives one value, not n = 3)", err{from = 0.5, to = 0.5, n = 3})
    assert.are.equal(pre .. "a log range needs from > 0, got 0)", err{from = 0, to = 1, n = 3, log = true})
  end)
end)

describe("tr:components and the theory's plots", function()
  it("gives the error along each eigenvector, shrinking by the radius", function()
    -- Q = {{2, 1}, {1, 2}}: eigenvalues 1 and 3, eigenvectors (1, -1) and (1, 1) / sqrt 2
    local f = ms.objective.quadratic_form{Q = {{2, 1}, {1, 2}}, c = {1, 0}}
    local xstar = A.minimize(f)
    local tr = ms.trace(f, ms.gd{lr = 0.2}, {x0 = {0, 0}, steps = 30})
    local c = tr:components()
    assert.are.equal(2, #c)
    assert.is_true(h.near(c[1].lambda, 1, 1e-15) and h.near(c[2].lambda, 3, 1e-15))
    assert.are.equal(31, #c.steps)
    local s = 1 / math.sqrt(2)
    assert.is_true(h.near(c[2].error[1], s * (0 - xstar[1]) + s * (0 - xstar[2]), 1e-15))
    for t = 2, 31 do   -- the second falls to rounding level (0.4^t of 0.24, x* near 0.7)
      assert.is_true(h.near(c[1].error[t] / c[1].error[t - 1], 0.8, 1e-12))
      if t <= 12 then assert.is_true(h.near(c[2].error[t] / c[2].error[t - 1], 0.4, 1e-9)) end
    end
    assert.are.equal("components needs a run on a quadratic objective (rosenbrock is not a quadratic)",
                     h.error_of(function()
                       local rosen = ms.objective.rosenbrock()
                       return ms.trace(rosen, ms.gd{lr = 1e-3}, {x0 = {0, 0}, steps = 2}):components()
                     end))
  end)

  it("draws the components and a rule's eigenvalues as figures", function()
    local f, r = ms.objective.quadratic{0.1, 2}, ms.momentum{lr = 0.6, beta = 0.5}
    local tr = ms.trace(f, r, {x0 = {-5, -2}, steps = 40})
    local fig = ms.plot.figure.components{trace = tr, rule = r}
    assert.are.equal(4, #fig.layers)   -- two components, each with its predicted decay
    assert.is_true(fig.logy)
    assert.is_true(fig.layers[2].dashed)
    local eig = ms.plot.figure.eigenvalues{rule = r, lambda = {0.1, 2}}
    assert.are.equal(3, #eig.layers)   -- the unit circle, then a set per lambda
    local z1 = A.eigenvalues(r, 0.1)
    assert.are.equal(z1.re, eig.layers[2].x[1])
    assert.are.equal(z1.im, eig.layers[2].y[1])
    assert.is_true(h.near(eig.layers[1].x[1] ^ 2 + eig.layers[1].y[1] ^ 2, 1, 1e-15))
    assert.are.equal("ms.plot.eigenvalues: adam is not linear on lambda x^2 / 2 (lambda = 1, step 1048576): its " ..
                     "step of a combination of inputs is not that combination of its steps, so it has no " ..
                     "iteration matrix",
                     (h.error_of(ms.plot.figure.eigenvalues, {rule = ms.adam{lr = 0.1}, lambda = 1})
                       :gsub("figure%.", "")))
    if ms.plot.available() then
      local dir = h.tmpdir()
      ms.plot.eigenvalues{rule = r, lambda = {0.1, 2}, file = dir .. "/e.svg"}
      ms.plot.components{trace = tr, file = dir .. "/c.svg"}
      assert.is_truthy(h.read(dir .. "/e.svg"):find("<svg", 1, true))
      assert.is_truthy(h.read(dir .. "/c.svg"):find("<svg", 1, true))
      h.rmtree(dir)
    end
  end)
end)
