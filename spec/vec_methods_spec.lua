-- Vectors keep their shape whatever the call: every in-place method returns
-- the vector itself (for chaining, even when given more arguments than it
-- takes), and the length cannot be changed from Lua.
local ms = require "momsandbox"
local unpack = table.unpack or unpack

-- Each in-place method with arguments it accepts, then one extra.
local function in_place(u, w)
  return {
    fill = {2}, copy = {u}, scale = {2}, axpy = {2, u}, axpby = {2, u, 3},
    add = {u, 1}, sub = {u}, mul = {u}, div = {w}, addcmul = {u, w, 2},
    addcdiv = {u, w, 2}, sqrt = {}, abs = {}, sign = {}, neg = {}, clamp = {-1, 1},
  }
end

describe("vector methods", function()
  it("that work in place return the vector itself, whatever extra argument they get", function()
    local u, w = ms.vec{1, 2, 3}, ms.vec{4, 5, 6}
    local extras = {5, "x", {}, u, false}
    for name, args in pairs(in_place(u, w)) do
      for _, extra in ipairs(extras) do
        local v = ms.vec{1, 4, 9}
        local call = {unpack(args)}
        call[#args + 1] = extra
        local r = v[name](v, unpack(call, 1, #args + 1))
        assert.is_true(rawequal(v, r), name .. " with extra " .. tostring(extra))
      end
    end
  end)

  it("chain: each call acts on the same vector", function()
    local v = ms.vec{1, 4, 9}
    assert.are.same({-1, -2, -3}, v:sqrt(99):neg("ignored"):totable())
    assert.are.same({1, 1, 1}, v:abs({}):sign(0):totable())
  end)
end)

describe("a vector's length", function()
  it("cannot be assigned, so indexing stays within the numbers", function()
    local v = ms.vec{1, 2, 3}
    assert.is_false(pcall(function() v.n = 100 end))
    assert.are.equal(3, #v)
    local ok, err = pcall(function() return v[100] end)
    assert.is_false(ok)
    assert.matches("vector index 100 out of range %(vector of 3%)", err)
    assert.is_false(pcall(function() v[4] = 1 end))
  end)

  it("nor can its memory, or the state of a view", function()
    local v = ms.vec{1, 2, 3}
    for _, field in ipairs{"x", "n", "view", "dead", "readonly", "data"} do
      assert.is_false(pcall(function() v[field] = 0 end), field)
    end
    assert.are.same({1, 2, 3}, v:totable())
    local kept
    local f = ms.objective{dim = 2, f = function(x) kept = x; return x[1]^2 end}
    f:value{1, 2}
    assert.is_false(pcall(function() kept.dead = 0 end))
    assert.is_false(pcall(function() return kept[1] end))   -- still dead
  end)
end)
