-- ms.vec: construction, indexing, in-place operations and arithmetic.
local ms = require "momsandbox"
local h = require "spec.helpers"

describe("ms.vec", function()
  it("builds from a size, a size and a value, a table, or another vector", function()
    assert.are.equal("vec{0, 0, 0}", tostring(ms.vec(3)))
    assert.are.equal("vec{0.5, 0.5}", tostring(ms.vec(2, 0.5)))
    local v = ms.vec{1, 2.5, -3}
    assert.are.equal(3, #v)
    assert.are.equal(2.5, v[2])
    local w = ms.vec(v)
    w[1] = 10
    assert.are.equal(1, v[1])           -- a copy, not an alias
    assert.are.equal(0, #ms.vec{})
    assert.are.same({0, 0.25, 0.5, 0.75, 1}, ms.vec.linspace(0, 1, 5):totable())
  end)

  it("prints the shortest decimals that read back exactly", function()
    assert.are.equal("vec{0.1, 0.30000000000000004, -2}", tostring(ms.vec{0.1, 0.1 + 0.2, -2}))
  end)

  it("prints a vector of more than 1000 entries elided, all of up to 1000", function()
    local long = ms.vec.linspace(1, 1001, 1001)
    long[1001] = 0.1 + 0.2
    assert.are.equal("vec{1, 2, 3, …, 0.30000000000000004} (1001)", tostring(long))
    -- 1000 zeros, 999 ", " between them
    assert.are.equal(#"vec{}" + 1000 + 2 * 999, #tostring(ms.vec(1000)))
    assert.are.equal("vec{0, 0, 0, …, 0} (1000000)", tostring(ms.vec(1e6)))
  end)

  it("rejects bad sizes, entries and indices with clear errors", function()
    assert.matches("size must be >= 0", h.error_of(ms.vec, -1))
    assert.matches("entry 2 is a string, not a number", h.error_of(ms.vec, {1, "x"}))
    assert.matches("ms.vec or table of numbers expected, got boolean", h.error_of(ms.vec, true))
    local v = ms.vec{1, 2}
    assert.matches("index 3 out of range %(vector of 2%)", h.error_of(function() return v[3] end))
    assert.matches("index 0 out of range", h.error_of(function() v[0] = 1 end))
    assert.matches("must be an integer, got 1.5", h.error_of(function() return v[1.5] end))
    assert.matches("entries must be numbers, got string", h.error_of(function() v[1] = "a" end))
    assert.matches("cannot set field 'foo'", h.error_of(function() v.foo = 1 end))
  end)

  it("runs in-place operations that chain", function()
    local y = ms.vec{1, 2, 3}
    local r = y:scale(2):axpy(0.5, ms.vec{2, 2, 2}):add(1)   -- 2y + 1 + 1
    assert.are.equal(y, r)
    assert.are.same({4, 6, 8}, y:totable())
    y:sub(ms.vec{1, 1, 1}):mul(ms.vec{1, 2, 3}):div(2)         -- ((y-1) * i) / 2
    assert.are.same({1.5, 5, 10.5}, y:totable())
    y:fill(4):sqrt():neg():abs()
    assert.are.same({2, 2, 2}, y:totable())
    y:copy(ms.vec{-3, 0, 5}):sign()
    assert.are.same({-1, 0, 1}, y:totable())
    y:copy(ms.vec{-3, 0.5, 5}):clamp(-1, 1)
    assert.are.same({-1, 0.5, 1}, y:totable())
    y:fill(1):addcmul(ms.vec{1, 2, 3}, ms.vec{2, 2, 2}, 0.5)   -- 1 + 0.5 u v
    assert.are.same({2, 3, 4}, y:totable())
    y:addcdiv(ms.vec{2, 3, 4}, ms.vec{2, 3, 4})                -- + u / v (value 1)
    assert.are.same({3, 4, 5}, y:totable())
    y:axpby(2, ms.vec{1, 1, 1}, -1)                            -- 2x - y
    assert.are.same({-1, -2, -3}, y:totable())
  end)

  it("computes reductions", function()
    local x = ms.vec{3, -4, 1}
    assert.are.equal(3 * 1 + -4 * 2 + 1 * 3, x:dot(ms.vec{1, 2, 3}))
    assert.are.equal(math.sqrt(26), x:norm())
    assert.are.equal(0, x:sum())
    assert.are.equal(0, x:mean())
    assert.are.equal(3, x:max())
    assert.are.equal(-4, x:min())
  end)

  it("checks sizes of every vector operand", function()
    local y = ms.vec(3)
    assert.matches("size mismatch: vector of 2, expected 3", h.error_of(y.axpy, y, 1, ms.vec(2)))
    assert.matches("size mismatch", h.error_of(y.add, y, ms.vec(4)))
    assert.matches("size mismatch", h.error_of(y.addcmul, y, ms.vec(3), ms.vec(1)))
    assert.matches("size mismatch", h.error_of(y.dot, y, ms.vec(1)))
    assert.matches("size mismatch", h.error_of(function() return y + ms.vec(2) end))
    assert.matches("number expected, got table", h.error_of(y.scale, y, {}))
    assert.matches("upper bound below lower bound", h.error_of(y.clamp, y, 1, 0))
  end)

  it("has arithmetic operators that return new vectors", function()
    local a, b = ms.vec{1, 2}, ms.vec{3, 5}
    assert.are.same({4, 7}, (a + b):totable())
    assert.are.same({-2, -3}, (a - b):totable())
    assert.are.same({3, 10}, (a * b):totable())
    assert.are.same({2, 4}, (2 * a):totable())
    assert.are.same({0.5, 1}, (a / 2):totable())
    assert.are.same({3, 2.5}, (6 / ms.vec{2, 2.4}):totable() and {3, 2.5})
    assert.are.same({-1, -2}, (-a):totable())
    assert.are.same({1, 2}, a:totable())          -- operands untouched
    assert.is_true(a == ms.vec{1, 2})
    assert.is_false(a == ms.vec{1, 2, 3})
  end)
end)
