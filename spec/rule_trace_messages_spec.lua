-- Rules and traces: the exact messages (the same under both interpreters),
-- tables whose __len or __index lie, metamethods and methods called with
-- wrong selves, and closed handles.
local ms = require "momsandbox"

local function err(fn, ...)
  local ok, e = pcall(fn, ...)
  assert.is_false(ok, "no error")
  return (tostring(e):gsub("^[^\n]-%.lua:%d+: ", ""))   -- the message, without where
end

local f = ms.objective.quadratic{0.2, 4}

describe("rule messages", function()
  it("name the constructor, argument 1, and the first bad value in class order", function()
    assert.equal("bad argument #1 to 'momentum' (momentum has no hyper-parameter 'a' " ..
                 "(it takes: lr, beta))", err(ms.momentum, {zz = 1, a = 2, lr = 0.1}))
    assert.equal("bad argument #1 to 'momentum' (lr must be in [0, inf), got -1)",
                 err(ms.momentum, {beta = 2, lr = -1}))
    assert.equal("bad argument #1 to 'momentum' (beta must be in [0, 1), got 2)",
                 err(ms.momentum, {beta = 2, lr = 1}))
    assert.equal("bad argument #1 to 'gd' (lr must be a number, schedule or function, got string)",
                 err(ms.gd, {lr = "0.1"}))
    assert.equal("bad argument #1 to 'sgd' (nesterov must be a boolean, got string)",
                 err(ms.sgd, {lr = 1, nesterov = "yes"}))
    assert.equal("bad argument #1 to 'gd' (hyper-parameter names must be strings, got number)",
                 err(ms.gd, {0.1}))
    assert.equal("bad argument #1 to 'gd' (table expected, got number)", err(ms.gd, 0.1))
    assert.equal("bad argument #3 to 'newindex' (momentum has no hyper-parameter 'eta' " ..
                 "(it takes: lr, beta))", err(function() ms.momentum{lr = 1}.eta = 1 end))
  end)

  it("of ms.rule name the field", function()
    assert.equal("bad argument #1 to 'rule' (unknown option 'a' (expected one of: name, " ..
                 "hyper, state, step, lookahead))", err(ms.rule, {step = print, z = 1, a = 2}))
    assert.equal("bad argument #1 to 'rule' (hyper.lr.min must be a number, got string)",
                 err(ms.rule, {step = print, hyper = {lr = {min = "x"}}}))
    assert.equal("bad argument #1 to 'rule' (step must be a function(p, g, s, h, t))",
                 err(ms.rule, {name = "x"}))
  end)

  it("of step and of a busy rule", function()
    local r = ms.gd{lr = 0.1}
    assert.equal("bad argument #1 to 'step' (momsandbox.vec expected, got table)",
                 err(r.step, r, {1, 2}, {1, 2}))
    assert.equal("bad argument #2 to 'step' (size mismatch: g has 3 entries, x has 2)",
                 err(r.step, r, ms.vec{1, 2}, {1, 2, 3}))
    local R
    R = ms.rule{name = "again", step = function() R:step(ms.vec{1}, {1}) end}{}
    local inner = R
    assert.equal("rule is in use by a running step", err(inner.step, inner, ms.vec{1}, {1}):match(
                 "rule is in use by a running step"))
  end)
end)

describe("rules", function()
  it("read tables raw: lying __len and __index change nothing", function()
    local opts = setmetatable({lr = 0.5}, {__index = function() return 7 end,
                                           __len = function() return 2^40 end,
                                           __pairs = function() error("pairs") end})
    assert.equal("gd{lr=0.5}", tostring(ms.gd(opts)))
    local state = setmetatable({"v"}, {__len = function() return 1000 end,
                                      __index = function() return "w" end})
    local R = ms.rule{name = "liar", state = state, hyper = setmetatable({lr = 0.1},
                      {__index = function() return 1 end}),
                      step = function(p, g, s) s.v:copy(g); p:sub(s.v) end}
    assert.equal("liar{lr=0.1}", tostring(R{}))
    assert.same({"v"}, (function() local t = {}; for k in pairs(R{}:step(ms.vec{1}, {1}) and
                       {v = 1} or {}) do t[#t + 1] = k end; return t end)())
  end)

  it("label 200 hyper-parameters, and cache the label", function()
    local hyper = {}
    for i = 1, 200 do hyper["h" .. i] = i end
    local r = ms.rule{name = "wide", hyper = hyper, step = function() end}{}
    local label = tostring(r)
    assert.equal(rawequal(label, tostring(r)), true)
    r.h7 = 0.5
    assert.truthy(tostring(r):find("h7=0.5", 1, true))
  end)

  it("refuse wrong selves in every metamethod and method", function()
    local r = ms.momentum{lr = 0.1}
    for _, self in ipairs{nil, 1, {}, "x", f} do
      for _, m in ipairs{"step", "reset", "state", "hyper", "clone"} do
        assert.equal(("calling '%s' on bad self"):format(m),
                     err(r[m], self, ms.vec{1}, {1}):match("^calling '%w+' on bad self"))
      end
    end
    local mt = getmetatable(r)
    if type(mt) ~= "table" then return end   -- LuaJIT: a cdata's is out of reach
    for _, self in ipairs{nil, 1, {}, "x", f} do
      assert.has_error(function() mt.__index(self, "lr") end)
      assert.has_error(function() mt.__newindex(self, "lr", 1) end)
      assert.has_error(function() mt.__tostring(self) end)
    end
    assert.equal("calling '__tostring' on bad self (momsandbox.rule expected, got nil)",
                 err(mt.__tostring, nil))
    local R = ms.rule{name = "c", step = print}
    local cmt = getmetatable(R)
    assert.has_error(function() cmt.__call(nil, {}) end)
    assert.has_error(function() cmt.__tostring({}) end)
  end)
end)

describe("trace messages", function()
  local gd = ms.gd{lr = 0.1}

  it("name ms.trace and the argument", function()
    assert.equal("bad argument #1 to 'trace' (momsandbox.objective expected, got table)",
                 err(ms.trace, {}, gd, {x0 = {1, 1}}))
    assert.equal("bad argument #2 to 'trace' (momsandbox.rule expected, got no value)",
                 err(ms.trace, f))
    assert.equal("bad argument #3 to 'trace' (table expected, got nil)", err(ms.trace, f, gd, nil))
    assert.equal("bad argument #3 to 'trace' (unknown option 'a' (expected one of: x0, steps, " ..
                 "every))", err(ms.trace, f, gd, {x0 = {1, 1}, z = 1, a = 1}))
    assert.equal("bad argument #3 to 'trace' (option 'steps' must be an integer, got 2.5)",
                 err(ms.trace, f, gd, {x0 = {1, 1}, steps = 2.5}))
    assert.equal("bad argument #3 to 'trace' (x0 has 3 entries but the objective takes 2)",
                 err(ms.trace, f, gd, {x0 = {1, 2, 3}}))
    local tr = ms.trace(f, gd, {x0 = {1, 1}, steps = 2})
    assert.equal("bad argument #1 to 'point' (point 4 out of range (trace of 3))", err(tr.point, tr, 4))
    assert.equal("bad argument #1 to 'point' (number has no integer representation)",
                 err(tr.point, tr, 1.5))
    assert.equal("bad argument #1 to 'column' (coordinate out of range)", err(tr.column, tr, 3))
  end)

  it("refuse wrong selves in every metamethod and method", function()
    local tr = ms.trace(f, gd, {x0 = {1, 1}, steps = 2})
    for _, self in ipairs{nil, 1, {}, "x", f, gd} do
      for _, m in ipairs{"point", "value", "step", "values", "column", "csv"} do
        assert.equal(("calling '%s' on bad self"):format(m),
                     err(tr[m], self, 1):match("^calling '%w+' on bad self"))
      end
    end
    local mt = getmetatable(tr)
    if type(mt) ~= "table" then return end   -- LuaJIT: a cdata's is out of reach
    for _, self in ipairs{nil, 1, {}, "x", f, gd} do
      assert.has_error(function() mt.__index(self, 1) end)
      assert.has_error(function() mt.__len(self) end)
      assert.has_error(function() mt.__tostring(self) end)
    end
    assert.equal("calling '__len' on bad self (momsandbox.trace expected, got nil)",
                 err(mt.__len, nil))
  end)

  it("read x0 raw: a lying __len changes nothing", function()
    local x0 = setmetatable({1, 1}, {__len = function() return 2^40 end})
    assert.equal(2, ms.trace(f, gd, {x0 = x0, steps = 1}).dim)
  end)
end)
