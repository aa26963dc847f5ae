-- What plain Lua must never do to the engine: free an object a run is using,
-- make a buffer shorter than what is written into it, overflow the stack,
-- or lose the error a callback raised.  Runs under both interpreters.
local ms = require "momsandbox"

local function bowl(extra)
  return ms.objective{
    dim = 2,
    f = function(x) if extra then extra() end return x[1]^2 + 2 * x[2]^2 end,
    grad = function(x, g) g[1] = 2 * x[1]; g[2] = 4 * x[2] end,
  }
end

--- Close v as a script can: its __close or __gc called directly (Lua 5.4);
-- LuaJIT's objects have neither, and the collector is all that reaches them.
local function close(v)
  local mt = getmetatable(v)
  local fn = type(mt) == "table" and (rawget(mt, "__close") or rawget(mt, "__gc"))
  if fn then fn(v) end
  collectgarbage()
end

--- Can a script close v?  (Then using it after its run is an error.)
local function closable(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and rawget(mt, "__gc") ~= nil
end

--- A table whose __len lies about its length.
local function liar(t, n)
  return setmetatable(t, {__len = function() return n end})
end

describe("an object closed or collected during its own run", function()
  it("is freed after the trace, which runs to the end", function()
    local f
    f = bowl(function() close(f); collectgarbage() end)
    local tr = ms.trace(f, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 3})
    -- gd with lr 0.1 on x1^2 multiplies x1 by 0.8 a step
    assert.is_true(math.abs(tr:point(-1)[1] - 0.8^3) < 1e-15)
    if closable(f) then assert.has_error(function() f:value{1, 1} end) end
  end)

  it("a rule closed in its own step finishes the trace", function()
    local rule
    local R = ms.rule{name = "selfclose", hyper = {lr = 0.1},
      step = function(p, g, s, h)
        close(rule); collectgarbage()
        p:axpy(-h.lr, g)
      end}
    rule = R{}
    local tr = ms.trace(ms.objective.quadratic{2, 2}, rule, {x0 = {1, 1}, steps = 4})
    assert.is_true(math.abs(tr:point(-1)[1] - 0.8^4) < 1e-15)
    if closable(rule) then assert.has_error(function() return rule.lr end) end
  end)

  it("a schedule closed while it is evaluated, or while a rule uses it", function()
    local s
    s = ms.schedule.constant{lr = 0.1}
    local lrf
    lrf = function(t) close(s); return 0.1 end
    local rule = ms.momentum{lr = lrf, beta = s}
    close(s)   -- still the rule's beta: kept until the rule lets go
    local tr = ms.trace(ms.objective.quadratic{2, 2}, rule, {x0 = {1, 1}, steps = 3})
    assert.are.equal(3, tr.steps)
    if closable(s) then assert.has_error(function() s(1) end) end
  end)

  it("gradcheck and numgrad with an objective closing itself", function()
    local f
    f = bowl(function() close(f); collectgarbage() end)
    local g = f:numgrad{1, 1}
    assert.is_true(math.abs(g[1] - 2) < 1e-5)
    local f2
    f2 = bowl(function() close(f2); collectgarbage() end)
    local err = ms.gradcheck(f2, {1, 1})
    assert.is_true(err < 1e-5)
  end)

  it("a schedule its rule lets go of while it is evaluated", function()
    local data = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 100, seed = 1}
    local r
    r = ms.sgd{lr = function() r.lr = 0.01; collectgarbage(); collectgarbage(); return 0.01 end}
    local res = ms.train{model = ms.model.linreg(2), data = data, rule = r, batch = 10,
                         epochs = 1, progress = false}
    assert.is_true(res.loss < res.initial_loss)
    assert.are.equal(0.01, r.lr)
    local r2
    local part = function() r2.lr = 0.5; collectgarbage(); collectgarbage(); return 0.1 end
    r2 = ms.gd{lr = ms.schedule.sequence{part, ms.schedule.constant{lr = 0.2}, milestones = {5}}}
    assert.are.equal(0.9, r2:step(ms.vec{1}, {1})[1])
    assert.are.equal(0.5, r2.lr)
  end)

  it("a sweep owns the schedules of the rule it copied", function()
    local rule = ms.momentum{lr = 0.1, beta = function() return 0.5 end}
    local f = bowl(function() rule.beta = 0.25; collectgarbage(); collectgarbage() end)
    local sw = ms.sweep{objective = f, rule = rule, x0 = {1, 1}, steps = 5,
                        grid = {lr = {0.1, 0.2}}, progress = false}
    assert.are.equal(2, #sw)
    -- the runs used beta 0.5 throughout: the same as a sweep of a plain rule
    local ref = ms.sweep{objective = bowl(), rule = ms.momentum{lr = 0.1, beta = 0.5},
                         x0 = {1, 1}, steps = 5, grid = {lr = {0.1, 0.2}},
                         progress = false}
    assert.are.same(ref:column("loss"), sw:column("loss"))
  end)
end)

describe("a Lua rule stepping itself", function()
  it("is refused while its state is in use", function()
    local rule, again = nil, true
    local R = ms.rule{name = "reentrant", hyper = {lr = 0.1}, state = {"v"},
      step = function(p, g, s, h)
        if again then again = false; rule:step(ms.vec{1, 2, 3}, {1, 1, 1}) end
        p:axpy(-h.lr, g)
      end}
    rule = R{}
    local ok, err = pcall(rule.step, rule, ms.vec{1, 2}, {1, 1})
    assert.is_false(ok)
    assert.matches("rule is in use by a running step", err)
    -- and the rule still works afterwards
    local x = rule:step(ms.vec{1, 2}, {0, 0})
    assert.are.equal(1, x[1])
  end)
end)

describe("tables whose __len lies", function()
  local huge = 2^62

  it("are read up to their entries, or refused", function()
    local row = liar({1, 0}, huge)
    local ok = pcall(ms.objective.quadratic_form, {Q = liar({row, liar({0, 1}, huge)}, huge)})
    assert.is_true(ok)   -- read as the 2x2 identity it holds
    assert.are.equal(2, #ms.vec(liar({1, 2}, huge)))
    assert.has_error(function() ms.vec(liar({}, huge))[1] = 1 end)
  end)

  it("in milestones, x0, grids, points and data", function()
    local m = liar({10, 20}, huge)
    local s = ms.schedule.multistep{lr = 1, milestones = m}
    assert.is_true(math.abs(s(25) - 0.01) < 1e-15)
    local tr = ms.trace(ms.objective.quadratic{1, 1}, ms.gd{lr = 0.5},
                        {x0 = liar({1, 1}, huge), steps = 1})
    assert.are.equal(2, tr.dim)
    local sw = ms.sweep{objective = ms.objective.quadratic{1, 1}, rule = "gd",
                        x0 = {1, 1}, steps = 2, progress = false,
                        points = liar({{lr = 0.1}, {lr = 0.2}}, huge)}
    assert.are.equal(2, #sw)
    local d = ms.data.from{X = liar({liar({1}, huge), {2}}, huge), y = liar({1, 2}, huge)}
    assert.are.equal(2, #d)
    local e = ms.analysis.eigen(liar({liar({2, 0}, huge), {0, 3}}, huge))
    assert.are.equal(2, #e)
    local R = ms.rule{name = "liar", state = liar({"v"}, huge),
                      step = function(p, g, state) state.v:copy(g); p:sub(state.v) end}
    assert.are.equal(0, R{}:step(ms.vec{1}, {1})[1])
  end)
end)

describe("many items", function()
  it("1,000 milestones", function()
    local m = {}
    for i = 1, 1000 do m[i] = i * 10 end
    local s = ms.schedule.multistep{lr = 1, milestones = m, gamma = 0.5}
    assert.are.equal(1, s(9))
    assert.are.equal(0.25, s(25))
    assert.are.equal(0.5^1000, s(20000))
    assert.matches("^multistep{lr=1, milestones={10, 20, 30, .*, 10000}, gamma=0.5}$",
                   tostring(s))
  end)

  it("a Lua rule with 200 hyper-parameters", function()
    local hyper, names = {}, {}
    for i = 1, 200 do hyper["h" .. i] = i; names[#names + 1] = "h" .. i end
    hyper.lr = 0.5
    local R = ms.rule{name = "wide", hyper = hyper,
      step = function(p, g, s, h) p:axpy(-h.lr * h.h200 / 200, g) end}
    local rule = R{}
    local label = tostring(rule)
    assert.matches("^wide{lr=0.5, h1=1, h10=10, ", label)
    for _, n in ipairs(names) do
      assert.truthy(label:find(n .. "=" .. n:sub(2) .. "[,}]"))
    end
    local tr = ms.trace(ms.objective.quadratic{1, 1}, rule, {x0 = {1, 1}, steps = 2})
    assert.are.equal(0.25, tr:point(-1)[1])
    assert.are.equal(label, tr.rule)
  end)

  it("unknown options list the valid names", function()
    local ok, err = pcall(function() return ms.schedule.step{lr = 1, step_size = 2, step = 3} end)
    assert.is_false(ok)
    assert.matches("bad argument #1 to 'step' %(unknown option 'step' %(expected " ..
                   "one of: base, lr, step_size, gamma%)%)", err)
  end)
end)

describe("a Lua rule's h", function()
  local R = ms.rule{name = "writer", hyper = {lr = {default = 0.1, min = 0}},
    step = function(p, g, s, h) h.lr = -1; p:axpy(-h.lr, g) end}

  it("refuses assignments, naming the field at the user's line", function()
    local ok, err = pcall(ms.trace, ms.objective.quadratic{1}, R{}, {x0 = {1}, steps = 2})
    assert.is_false(ok)
    assert.matches("hardening_spec.lua:%d+: .*h%.lr", err)
  end)

  it("two identical traces agree", function()
    local n = 0
    local C = ms.rule{name = "counter", hyper = {lr = 0.1},
      step = function(p, g, s, h)
        n = n + 1
        pcall(function() h.lr = 10 end)
        pcall(rawset, h, "lr", 10)
        p:axpy(-h.lr, g)
      end}
    local a = ms.trace(ms.objective.quadratic{1}, C{}, {x0 = {1}, steps = 3})
    local b = ms.trace(ms.objective.quadratic{1}, C{}, {x0 = {1}, steps = 3})
    assert.are.equal(0.9^3, a:point(-1)[1])
    assert.are.equal(a:point(-1)[1], b:point(-1)[1])
  end)
end)

describe("a running rule given a schedule that calls back into Lua", function()
  it("goes on with it (under LuaJIT: never from compiled code)", function()
    local r = ms.gd{lr = 0.01}
    local n = 0
    local f = ms.objective{dim = 1,
      f = function(x)
        n = n + 1
        if n == 500 then   -- once the loop is hot
          r.lr = ms.schedule.sequence{function() return 0.25 end, ms.schedule.constant{lr = 0.25},
                                      milestones = {10^6}}
        end
        return x[1]^2
      end,
      grad = function(x, g) g[1] = 2 * x[1] end}
    local tr = ms.trace(f, r, {x0 = {1}, steps = 2000})
    assert.are.equal(2000, tr.steps)
    -- lr 0.25 halves x: far below the 0.98^2000 of lr 0.01
    assert.is_true(tr:point(-1)[1] < 1e-300)
  end)
end)

describe("a Lua rule's s", function()
  it("takes no rawset either: the state stays the engine's", function()
    local HB = ms.rule{name = "hb", hyper = {lr = 0.1, beta = 0.5}, state = {"v"},
      step = function(p, g, s, h)
        pcall(rawset, s, "v", ms.vec{0})
        s.v:scale(h.beta):add(g)
        p:axpy(-h.lr, s.v)
      end}
    local f = ms.objective.quadratic{1}
    local a = ms.trace(f, HB{}, {x0 = {1}, steps = 5})
    local b = ms.trace(f, ms.momentum{lr = 0.1, beta = 0.5}, {x0 = {1}, steps = 5})
    assert.are.equal(b:point(-1)[1], a:point(-1)[1])
  end)
end)

describe("an error value raised in a callback", function()
  local function raising(v, nargs)
    return ms.objective{dim = 1, f = function()
      if nargs == 0 then error() end
      error(v)
    end}
  end

  it("reaches the caller unchanged", function()
    -- an earlier failure leaves a message behind
    pcall(ms.objective.quadratic, {})
    local ok, err = pcall(function() return raising(nil, 0):value{1} end)
    assert.is_false(ok)
    assert.is_nil(err)
    ok, err = pcall(function() return raising(nil):value{1} end)
    assert.is_false(ok)
    assert.is_nil(err)
    local t = {}
    ok, err = pcall(function() return raising(t):value{1} end)
    assert.is_false(ok)
    assert.are.equal(t, err)
    ok, err = pcall(ms.trace, raising(true), ms.gd{lr = 0.1}, {x0 = {1}, steps = 2})
    assert.is_false(ok)
    assert.are.equal(true, err)
  end)

  it("from a rule and a schedule", function()
    local t = {}
    local R = ms.rule{name = "thrower", hyper = {lr = 0.1}, step = function() error(t) end}
    local ok, err = pcall(ms.trace, ms.objective.quadratic{1}, R{}, {x0 = {1}, steps = 2})
    assert.is_false(ok)
    assert.are.equal(t, err)
    ok, err = pcall(ms.trace, ms.objective.quadratic{1},
                    ms.gd{lr = function() error() end}, {x0 = {1}, steps = 2})
    assert.is_false(ok)
    assert.is_nil(err)
  end)
end)

describe("negative seeds", function()
  -- A seed is read as the 64-bit two's complement of the integer: -1 is the
  -- seed 2^64 - 1, under both interpreters.  The values below are those of
  -- xoshiro256** seeded through splitmix64 with 2^64 - 1 and 2^64 - 123456789
  -- (an independent implementation, with Python's unbounded integers).
  it("give the same stream under both bindings", function()
    local r = ms.rng(-1)
    assert.are.equal(0.5598927040505212, r:uniform())
    assert.are.equal(0.7674350796247662, r:uniform())
    r:seed(-123456789)
    assert.are.equal(0.06370818668438205, r:uniform())
    assert.are.equal(0.5225988576583378, r:uniform())
  end)

  it("in the seed options: the draws of ms.rng with that seed", function()
    -- model:init draws its weights as 0.01 * normal(), Marsaglia's polar
    -- method on the generator seeded with seed
    local r = ms.rng(-3)
    local u, v, s
    repeat
      u, v = 2 * r:uniform() - 1, 2 * r:uniform() - 1
      s = u * u + v * v
    until s < 1 and s > 0
    local scale = math.sqrt(-2 * math.log(s) / s)
    local w = ms.model.linreg(2):init(-3)
    assert.is_true(math.abs(w[1] - 0.01 * u * scale) < 1e-17)
    assert.is_true(math.abs(w[2] - 0.01 * v * scale) < 1e-17)
    -- a negative seed is a seed of its own, not 0 or its absolute value
    local a = ms.objective.rotated_quadratic{kappa = 10, dim = 3, seed = -5}
    for _, other in ipairs{0, 5} do
      local b = ms.objective.rotated_quadratic{kappa = 10, dim = 3, seed = other}
      assert.are_not.equal(a:value{1, 2, 3}, b:value{1, 2, 3})
    end
  end)
end)
