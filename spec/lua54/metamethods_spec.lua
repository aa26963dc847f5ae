-- The Lua 5.4 module's userdata: every metamethod of every class, called
-- directly with values of the wrong kind (getmetatable(v).__index(nil, 1),
-- __len(5), __gc("x"), __close({}), ...), raises an error and never
-- crashes; __gc and __close of an object a run is using leave it to the
-- run, which frees it when it ends.
local ms = require "momsandbox"

local function samples()
  local f = ms.objective.quadratic{1, 2}
  local data = ms.data.from{X = {{1}, {2}, {3}}, y = {1, 2, 3}}
  local model = ms.model.linreg(1)
  return {
    vec = ms.vec{1, 2},
    objective = f,
    lua_objective = ms.objective{dim = 1, f = function(x) return x[1] end},
    rule = ms.gd{lr = 0.1},
    lua_rule = ms.rule{name = "r", hyper = {lr = 0.1}, step = function() end}{},
    rule_class = ms.rule{name = "c", step = function() end},
    schedule = ms.schedule.constant{lr = 1},
    trace = ms.trace(f, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 2}),
    rng = ms.rng(1),
    data = data,
    model = model,
    train = ms.train{model = model, data = data, rule = ms.gd{lr = 0.01}, batch = 1,
                     epochs = 1, progress = false},
    sweep = ms.sweep{objective = f, rule = "gd", x0 = {1, 1}, steps = 2,
                     grid = {lr = {0.1, 0.2}}, progress = false},
  }
end

-- Arguments of the wrong kind, for each position.
local wrong = {{}, {nil, 1}, {5}, {"x"}, {{}}, {true, true}, {io.stdout}}

describe("metamethods called directly", function()
  it("raise errors for values of the wrong kind", function()
    local calls = 0
    for name, v in pairs(samples()) do
      local mt = getmetatable(v)
      assert.are.equal("table", type(mt), name)
      for event, fn in pairs(mt) do
        if type(fn) == "function" then
          for _, args in ipairs(wrong) do
            calls = calls + 1
            local ok = pcall(fn, table.unpack(args, 1, 2))
            -- __gc and __close of anything else may do nothing, __index
            -- may look a method name up; nothing else may succeed on a
            -- value that is not of the class
            local lenient = event == "__gc" or event == "__close" or event == "__eq" or
                            (event == "__index" and type(args[2]) ~= "number")
            if not lenient and args[1] ~= nil then
              assert.is_false(ok, name .. " " .. event)
            end
          end
        end
      end
    end
    assert.is_true(calls > 100)
  end)

  it("with their own object and odd keys, then after __gc", function()
    for name, v in pairs(samples()) do
      local mt = getmetatable(v)
      for _, key in ipairs{1, -1, 0, 2^53, "x", {}, true} do
        if mt.__index then pcall(mt.__index, v, key) end
        if mt.__newindex then pcall(mt.__newindex, v, key, 1) end
      end
      if mt.__gc then
        mt.__gc(v)
        mt.__gc(v)   -- twice is safe
        if mt.__close then mt.__close(v) end
        for event, fn in pairs(mt) do
          if type(fn) == "function" and event ~= "__gc" and event ~= "__close" then
            pcall(fn, v, 1)
          end
        end
        assert.is_true(name ~= nil)
      end
    end
    collectgarbage()
  end)
end)

describe("__gc and __close of an object in use", function()
  it("leave a rule's schedule to the rule, then free it", function()
    local s = ms.schedule.cosine{lr = 0.5, steps = 10}
    local r = ms.momentum{lr = s, beta = 0.5}
    getmetatable(s).__gc(s)
    local ok, err = pcall(function() return s(1) end)
    assert.is_false(ok)
    assert.matches("schedule has been closed", err)
    local tr = ms.trace(ms.objective.quadratic{1}, r, {x0 = {1}, steps = 10})
    assert.are.equal(10, tr.steps)
    r.lr = 0.1   -- the rule lets go: the schedule is freed now
    getmetatable(r).__close(r)
    collectgarbage()
  end)

  it("a schedule replaced while it is evaluated stays alive until the step ends", function()
    local r
    r = ms.gd{lr = function(t)
      r.lr = 0.5
      collectgarbage(); collectgarbage()
      return 0.25
    end}
    local x = r:step(ms.vec{1}, {1})
    assert.are.equal(0.75, x[1])
    assert.are.equal(0.5, r.lr)
  end)

  it("a rule closed during a step is closed once the step returns", function()
    local r
    r = ms.rule{name = "closer", hyper = {lr = 0.5},
      step = function(p, g, s, h)
        local closed_here <close> = r   -- luacheck: ignore 211
        p:axpy(-h.lr, g)
      end}{}
    local x = r:step(ms.vec{1}, {1})
    assert.are.equal(0.5, x[1])
    local ok, err = pcall(function() return r:step(ms.vec{1}, {1}) end)
    assert.is_false(ok)
    assert.matches("rule has been closed", err)
  end)

  it("training keeps its model and data", function()
    local data = ms.data.from{X = {{1}, {2}, {3}, {4}}, y = {2, 4, 6, 8}}
    local model = ms.model.linreg(1)
    local rule = ms.rule{name = "closing", hyper = {lr = 0.01},
      step = function(p, g, s, h)
        getmetatable(data).__close(data)
        getmetatable(model).__close(model)
        collectgarbage()
        p:axpy(-h.lr, g)
      end}{}
    local res = ms.train{model = model, data = data, rule = rule, batch = 2, epochs = 2,
                         progress = false}
    assert.is_true(res.loss < res.initial_loss)
    assert.has_error(function() return #data end)
  end)
end)
