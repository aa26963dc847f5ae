-- The two native layers give the shared API the same primitives: the
-- names listed in lua/momsandbox/primitives.lua, no more, no fewer.
local native = require "momsandbox.native"
local list = require "momsandbox.primitives"

-- One object of each kind, to read its native methods from.
local examples = {
  rng = function() return native.rng_new(1) end,
}

describe("the native layer", function()
  it("exports exactly the listed primitives", function()
    local missing, extra = {}, {}
    for name in pairs(list) do
      if not name:find(":", 1, true) and native[name] == nil then missing[#missing + 1] = name end
    end
    for name in pairs(native) do
      if list[name] == nil then extra[#extra + 1] = name end
    end
    table.sort(missing)
    table.sort(extra)
    assert.same({}, missing)
    assert.same({}, extra)
  end)

  it("gives every kind's listed native methods", function()
    for name in pairs(list) do
      local kind, method = name:match("^(%w+):(%w+)$")
      if kind then
        assert.is_truthy(examples[kind], "no example object of kind " .. kind)
        assert.equal("function", type(examples[kind]()[method]), name)
      end
    end
  end)

  it("says the kind of its objects and of nothing else", function()
    assert.equal("rng", native.kind(native.rng_new(1)))
    for _, v in ipairs{1, "rng", {}, print, io.stdout, true} do
      assert.is_nil(native.kind(v))
    end
  end)

  it("lets no value crash close, class, format or kind", function()
    for _, v in ipairs{1, "x", {}, print, io.stdout, true, 0 / 0} do
      assert.has_error(function() native.close(v) end)
      assert.has_error(function() native.class(v, {}) end)
      native.kind(v)
    end
    assert.has_error(function() native.format("x") end)
    assert.has_error(function() native.class("rng", {}) end)   -- set already
    assert.equal("0.1", native.format(0.1))
  end)
end)
