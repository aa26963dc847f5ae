-- One definition of divergence for sweeps and traces: a run diverges at
-- the first step whose gradient, x or f is not finite.  Every point of a
-- sweep (vectorised loop and general loop) against a trace of the same run.
local ms = require "momsandbox"

local f = ms.objective.quadratic{0.2, 4}
local x0 = {-5, -2}

--- Each point of the sweep opts against ms.trace of the same run (made by
-- rule_of(point)): the same divergence step, both loops when the sweep
-- can take the vectorised one.  Returns the number of points that diverged.
local function check_points(opts, rule_of, every)
  local loops = {opts}
  if opts.fast ~= false then
    local general = {}
    for k, v in pairs(opts) do general[k] = v end
    general.fast = false
    loops[2] = general
  end
  local diverged
  for _, o in ipairs(loops) do
    local res = ms.sweep(o)
    diverged = 0
    for k = 1, #res do
      local p = res[k]
      local tr = ms.trace(o.objective, rule_of(p), {x0 = o.x0, steps = o.steps, every = every})
      assert.are.equal(tr.diverged, p.diverged, ("point %d (%s)"):format(k, tostring(tr)))
      if p.diverged then
        diverged = diverged + 1
        assert.are.equal(math.huge, p.loss)
      else
        assert.are.equal(tr:value(-1), p.loss)
      end
    end
  end
  return diverged
end

describe("divergence", function()
  it("is the step at which f overflows, in a sweep as in a trace", function()
    -- gd at lr 2.5 on 0.1 x1^2 + 2 x2^2: x2_t = -2 (-9)^t, so f >= 8 * 81^t,
    -- which passes 1.8e308 first at t = 162 (8 * 81^161 = 1.5e308), while
    -- x itself would overflow only at t = 323
    local res = ms.sweep{objective = f, rule = "gd", x0 = x0, steps = 200, grid = {lr = {2.5}}}
    local tr = ms.trace(f, ms.gd{lr = 2.5}, {x0 = x0, steps = 200})
    assert.are.equal(162, res[1].diverged)
    assert.is_true(res.fast)
    assert.are.equal(162, tr.diverged)
    assert.are.equal("f is inf", tr.reason)
    assert.are.equal(162, ms.sweep{objective = f, rule = "gd", x0 = x0, steps = 200,
                                   grid = {lr = {2.5}}, fast = false}[1].diverged)
    -- a trace that records every 7th step still checks f at every step
    assert.are.equal(162, ms.trace(f, ms.gd{lr = 2.5}, {x0 = x0, steps = 200, every = 7}).diverged)
  end)

  it("agrees with traces for heavy ball and Nesterov, in both loops, at every point", function()
    local grid = {lr = {from = 0.3, to = 1.2, n = 7}, beta = {0, 0.4, 0.8}}
    local n = check_points({objective = f, rule = "momentum", x0 = x0, steps = 300, grid = grid},
      function(p) return ms.momentum{lr = p.lr, beta = p.beta} end)
    assert.is_true(n > 0)
    -- the scale axis multiplies f: its points against a scaled quadratic
    grid.scale = {0.5, 3}
    local res = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = 300, grid = grid}
    for k = 1, #res do
      local p = res[k]
      local scaled = ms.objective.quadratic{0.2 * p.scale, 4 * p.scale}
      local tr = ms.trace(scaled, ms.momentum{lr = p.lr, beta = p.beta}, {x0 = x0, steps = 300})
      assert.are.equal(tr.diverged, p.diverged)
    end
    grid = {lr = {from = 0.3, to = 1.2, n = 7}, momentum = {0.1, 0.5, 0.9}}
    n = check_points({objective = f, rule = "nesterov", x0 = x0, steps = 250, grid = grid},
      function(p) return ms.nesterov{lr = p.lr, momentum = p.momentum} end)
    assert.is_true(n > 0)
    local sgd = ms.sgd{lr = 0.1, momentum = 0.5, nesterov = true}
    n = check_points({objective = f, rule = sgd, x0 = x0, steps = 250, grid = grid},
      function(p) return ms.sgd{lr = p.lr, momentum = p.momentum, nesterov = true} end, 5)
    assert.is_true(n > 0)
  end)

  it("agrees with traces on a stiff coordinate, where f overflows while x is near 1e79", function()
    local stiff = ms.objective.quadratic{1, 1e150}
    local points = {}
    for _, el in ipairs{4, 4.5, 5, 6, 8} do
      for _, beta in ipairs{0, 0.5, 0.95} do points[#points + 1] = {lr = el * 1e-150, beta = beta} end
    end
    local n = check_points({objective = stiff, rule = "momentum", x0 = {1, 1}, steps = 2000,
                            points = points},
      function(p) return ms.momentum{lr = p.lr, beta = p.beta} end)
    assert.is_true(n > 0)
  end)

  it("agrees with traces for other rules and objectives (the general loop)", function()
    local rosen = ms.objective.rosenbrock()
    local n = check_points({objective = rosen, rule = "gd", x0 = {-1.5, 2}, steps = 100,
                            grid = {lr = {from = 0.0005, to = 0.004, n = 8}}},
      function(p) return ms.gd{lr = p.lr} end)
    assert.is_true(n > 0 and n < 8)
    local form = ms.objective.quadratic_form{Q = {{3, 1}, {1, 2}}, c = {1, -1}}
    n = check_points({objective = form, rule = "nag", x0 = {1, 1}, steps = 400,
                      grid = {lr = {from = 0.2, to = 1.2, n = 6}, momentum = {0, 0.9}}},
      function(p) return ms.nag{lr = p.lr, momentum = p.momentum} end)
    assert.is_true(n > 0)
    n = check_points({objective = f, rule = "adam", x0 = x0, steps = 200,
                      grid = {lr = {from = 1, to = 1e200, n = 5, log = true}}},
      function(p) return ms.adam{lr = p.lr} end)
    assert.is_true(n > 0)
    -- a rule and an objective written in Lua
    local heavy_ball = ms.rule{name = "heavy_ball", hyper = {lr = 0.1, beta = 0.5}, state = {"v"},
      step = function(p, g, s, hp)
        s.v:scale(hp.beta):add(g)
        p:axpy(-hp.lr, s.v)
      end}
    local lua_f = ms.objective{dim = 2,
      f = function(x) return 0.5 * 0.2 * x[1] * x[1] + 0.5 * 4 * x[2] * x[2] end,
      grad = function(x, out) out[1] = 0.2 * x[1]; out[2] = 4 * x[2] end}
    n = check_points({objective = lua_f, rule = heavy_ball{}, x0 = x0, steps = 300,
                      grid = {lr = {0.5, 0.9, 1.5}, beta = {0, 0.7}}},
      function(p) return heavy_ball{lr = p.lr, beta = p.beta} end)
    assert.is_true(n > 0)
  end)
end)
