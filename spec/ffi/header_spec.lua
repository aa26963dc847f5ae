-- The public header is the LuaJIT binding's only declaration of the
-- engine: ffi.cdef accepts it once the # lines are removed.
local h = require "spec.helpers"

describe("the public header", function()
  it("is accepted by LuaJIT's ffi.cdef once the # lines are removed", function()
    if h.run("command -v luajit") ~= 0 then
      return pending("luajit is not installed")
    end
    local status, out, err = h.run("luajit -e " .. h.shquote([[
      local ffi = require "ffi"
      local text = assert(io.open("core/include/momsandbox.h")):read("a")
      ffi.cdef((text:gsub("\n#[^\n]*", "\n")))
      print(ffi.sizeof("ms_hyper_info") > 0, ffi.typeof("ms_trace_opts") ~= nil)]]))
    assert.are.equal(0, status, err)
    assert.are.equal("true\ttrue\n", out)
  end)
end)
