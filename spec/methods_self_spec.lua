-- A method called on the wrong object (tr.column(other, 1), as a random
-- call or a slip may make) raises "bad argument #1", as luaL_checkudata
-- makes it, or for the kinds of the shared API "calling 'column' on bad
-- self (...)": it never hands the engine another object, or none.
local ms = require "momsandbox"

local function objects()
  local data = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 20, seed = 1}
  return {
    trace = ms.trace(ms.objective.quadratic{1, 2}, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 3}),
    train = ms.train{model = ms.model.linreg(2), data = data, rule = ms.sgd{lr = 0.01},
                     batch = 10, epochs = 1},
    sweep = ms.sweep{objective = ms.objective.quadratic{1}, rule = "gd", x0 = {1}, steps = 3,
                     grid = {lr = {0.1, 0.2}}},
    data = data,
  }
end

-- The kinds whose methods are the shared API's: the exact message.
local shared = {sweep = true, train = true, trace = true, data = true}

local function refused(kind, name, self, err)
  if not shared[kind] then return assert.matches("bad argument #1", tostring(err)) end
  local prefix = ("calling '%s' on bad self (momsandbox.%s expected, got "):format(name, kind)
  local plain = {table = true, number = true, string = true}
  local mt = getmetatable(self)
  if plain[type(self)] and not (type(mt) == "table" and rawget(mt, "__name")) then
    return assert.are.equal(prefix .. type(self) .. ")", err)
  end
  assert.are.equal(prefix, err:sub(1, #prefix))   -- objects: named by kind once all are shared
end

local names = {"column", "point", "value", "values", "best", "heatmap", "labels", "x", "y",
               "split", "batch", "csv"}

describe("methods of results and data sets", function()
  it("refuse an object of another kind as self", function()
    local objs = objects()
    local wrong = {{}, setmetatable({}, {__index = function() return 1 end}), 1, "s",
                   ms.vec{1}, ms.objective.quadratic{1}}
    local checked = 0
    for kind, obj in pairs(objs) do
      for _, name in ipairs(names) do
        local m = obj[name]
        if type(m) == "function" then
          for _, self in ipairs(wrong) do
            local ok, err = pcall(m, self, 1)
            assert.is_false(ok, kind .. ":" .. name)
            refused(kind, name, self, err)
          end
          for other_kind, other in pairs(objs) do
            if other_kind ~= kind then
              local ok, err = pcall(m, other, 1)
              assert.is_false(ok, kind .. ":" .. name .. " on " .. other_kind)
              refused(kind, name, other, err)
            end
          end
          checked = checked + 1
        end
      end
    end
    assert.is_true(checked >= 6, "methods found: " .. checked)
  end)
end)
