-- The public headers are the LuaJIT binding's only declaration of the
-- engine: ffi.cdef accepts each of them once its # lines are removed, in
-- the order the binding declares them (the engine's header first, which
-- the others build on), and the binding declares them all.
local h = require "spec.helpers"

local HEADERS = {"momsandbox.h", "momsandbox_host.h", "momsandbox_pull.h"}

describe("the public headers", function()
  it("are accepted by LuaJIT's ffi.cdef once the # lines are removed, in order", function()
    if h.run("command -v luajit") ~= 0 then
      return pending("luajit is not installed")
    end
    local status, out, err = h.run("luajit -e " .. h.shquote([[
      local ffi = require "ffi"
      for _, name in ipairs{]] .. "'" .. table.concat(HEADERS, "', '") .. "'" .. [[} do
        local text = assert(io.open("core/include/" .. name)):read("a")
        assert(text:find("\n#ifndef ", 1, true) and text:find("\n#endif", 1, true), name)
        local ok, e = pcall(ffi.cdef, (text:gsub("\n#[^\n]*", "\n")))
        if not ok then error(name .. ": " .. e, 0) end
      end
      print(ffi.sizeof("ms_hyper_info") > 0, ffi.typeof("ms_trace_opts") ~= nil,
            ffi.sizeof("ms_process") > 0)]]))
    assert.are.equal(0, status, err)
    assert.are.equal("true\ttrue\ttrue\n", out)
  end)

  it("each include what they need, so that C accepts each alone", function()
    local cc = os.getenv("CC") or "cc"
    if h.run("command -v " .. cc) ~= 0 then
      return pending(cc .. " is not installed")
    end
    for _, name in ipairs(HEADERS) do
      local status, _, err = h.run(("printf '#include \"%s\"\\n' | %s -std=c11 -Wall -Werror " ..
                                    "-fsyntax-only -Icore/include -x c -"):format(name, cc))
      assert.are.equal(0, status, name .. ": " .. tostring(err))
    end
  end)

  it("are all declared by the binding, the engine's first", function()
    local ffi = require "ffi"
    local C = require("momsandbox").ffi.C
    local headers = require("momsandbox.ffi_core").headers
    assert.are.equal(#HEADERS, #headers)
    for i, name in ipairs(HEADERS) do
      assert.are.equal(name, headers[i]:match("[^/]+$"))
    end
    -- a function of each header is there to call
    assert.is_true(C.ms_abi_version() > 0)
    assert.is_true(C.ms_clock() > 0)
    assert.are.equal(0, C.ms_interrupted())
    assert.is_true(ffi.sizeof("ms_process") > 0)
  end)
end)
