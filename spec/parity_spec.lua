-- One script, both interpreters, the same output: spec/parity/calls.lua
-- makes some 140 calls of the API, good and bad, and prints results,
-- labels, tostrings and error messages.  Under momsandbox (Lua 5.4) and
-- momsandbox-jit (LuaJIT) the two outputs must be equal byte for byte.
local helpers = require "spec.helpers"

describe("the API under both interpreters", function()
  it("prints the same results and messages for the same calls", function()
    local s1, out1, err1 = helpers.run(helpers.shquote(helpers.build .. "/momsandbox") ..
                                       " spec/parity/calls.lua")
    local s2, out2, err2 = helpers.run(helpers.jit() .. " spec/parity/calls.lua")
    assert.equal(0, s1, err1)
    assert.equal(0, s2, err2)
    assert.is_truthy(out1:match("\n(%d+) calls\n$"))
    assert.is_true(tonumber(out1:match("\n(%d+) calls\n$")) >= 100)
    assert.equal(out1, out2)
  end)
end)
