-- momsandbox.show draws values for a person, as the REPL prints them:
-- tables with their contents, sorted, long ones and vectors elided.
local ms = require "momsandbox"
local show = require("momsandbox.show").value

describe("momsandbox.show", function()
  it("draws tables with the array first, then the other keys sorted", function()
    assert.equal('{10, 20, [5] = true, a = {1, 2, "x"}, b = 1, ["not a name"] = 2}',
                 show{10, 20, b = 1, a = {1, 2, "x"}, [5] = true, ["not a name"] = 2})
    assert.equal("{}", show{})
    assert.equal('{s = "two\\nlines"}', show{s = "two\nlines"})
  end)

  it("prints strings at the top as they are, and other values as print does", function()
    assert.equal("two\nlines", show("two\nlines"))
    assert.equal("nil", show(nil))
    assert.equal("true", show(true))
    assert.equal(tostring(2.5), show(2.5))
  end)

  it("elides long arrays, many keys, deep nesting and cycles with what was left out", function()
    local long, wide = {}, {}
    for i = 1, 100 do long[i] = i end
    for i = 1, 30 do wide["k" .. string.format("%02d", i)] = i end
    assert.equal("{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (100 items)}", show(long))
    assert.truthy(show(wide):find("k20 = 20,\n  … (10 more keys)\n}", 1, true), show(wide))
    assert.equal("{{{{{…}}}}}", show{{{{{{{1}}}}}}})
    local c = {}
    c.self = c
    assert.equal("{self = {<cycle>}}", show(c))
    local shared = {1}
    assert.equal("{{1}, {1}}", show{shared, shared})   -- seen twice, not a cycle
  end)

  it("breaks a table that is too long for a line into one entry a line", function()
    local t = {alpha = ("a"):rep(30), beta = ("b"):rep(30), gamma = {1, 2}}
    assert.equal('{\n  alpha = "' .. ("a"):rep(30) .. '",\n  beta = "' .. ("b"):rep(30) ..
                 '",\n  gamma = {1, 2}\n}', show(t))
  end)

  it("shows a vector's first and last entries and its length, whatever its size", function()
    assert.equal("vec{1, 2, 3, …, 1000000} (1000000)", show(ms.vec.linspace(1, 1e6, 1e6)))
    assert.equal(tostring(ms.vec{1, 2.5}), show(ms.vec{1, 2.5}))
    assert.equal('{x = vec{0, 0}}', show{x = ms.vec(2)})
  end)

  it("uses an object's own __tostring, cut when it is very long", function()
    local f = ms.objective.quadratic{0.2, 4}
    local tr = ms.trace(f, ms.momentum{lr = 0.6, beta = 0.5}, {x0 = {-5, -2}, steps = 20})
    assert.equal("epoch 20, x1: 0.007188, x2: 0.002553", show(tr))
    local chatty = setmetatable({}, {__tostring = function() return ("x"):rep(1000) end})
    assert.equal(("x"):rep(400) .. "… (1000 characters)", show(chatty))
  end)
end)
