-- The module outside the momsandbox CLI: a stock lua5.4 finds it through
-- LUA_CPATH alone, pure-Lua parts included.  (That LuaJIT's ffi.cdef reads
-- the public header: spec/ffi/header_spec.lua.)
local h = require "spec.helpers"

-- The shell command of a stock lua5.4 that finds the module.
local function lua54_command()
  local env = "LUA_PATH='' LUA_CPATH=" .. h.shquote(h.abs(h.build) .. "/?.so")
  local preload = os.getenv("MOMSANDBOX_PRELOAD")
  if preload then   -- an ASan build: the runtime must be loaded first
    env = env .. " LD_PRELOAD=" .. h.shquote(preload) .. " ASAN_OPTIONS=detect_leaks=0"
  end
  return "env " .. env .. " lua5.4"
end

local function lua54(code)
  return h.run(lua54_command() .. " -e " .. h.shquote(code))
end

describe("require 'momsandbox' from lua5.4", function()
  it("loads with only LUA_CPATH set and runs the chapter's experiment", function()
    local status, out, err = lua54([[
      local ms = require "momsandbox"
      local f = ms.objective.quadratic{0.2, 4}
      print(ms.trace(f, ms.momentum{lr = 0.6, beta = 0.5}, {x0 = {-5, -2}, steps = 20}))
      print(type(ms.args.parse), ms.version)]])
    assert.are.equal(0, status, err)
    assert.matches("^epoch 20, x1: 0.007188, x2: 0.002553\nfunction\t%d+%.%d+%.%d+\n$", out)
  end)

  it("gives the same module table to every require", function()
    local status, out, err = lua54([[
      local a, b = require "momsandbox", require "momsandbox"
      print(a == b, require("momsandbox.args") == a.args)]])
    assert.are.equal(0, status, err)
    assert.are.equal("true\ttrue\n", out)
  end)

  it("stops the engine's loops on Ctrl-C, with lua's own 'interrupted!'", function()
    local dir = h.tmpdir()
    local status, err = h.interrupt(dir, [[
      local ms = require "momsandbox"
      io.open("marker", "w"):close()
      ms.trace(ms.objective.quadratic{0.2, 4}, ms.gd{lr = 0.1},
               {x0 = {-5, -2}, steps = 9000000000, every = 9000000000})]], lua54_command())
    h.rmtree(dir)
    assert.are.equal(1, status, err)
    assert.matches("^lua5.4: interrupted!", err)
  end)

  it("lets a pcall catch Ctrl-C in an engine call, as in Lua code", function()
    local dir = h.tmpdir()
    local status, err = h.interrupt(dir, [[
      local ms = require "momsandbox"
      local ok, err = pcall(function()
        io.open("marker", "w"):close()
        ms.sweep{objective = ms.objective.quadratic{1e-9, 1e-9}, rule = "momentum", x0 = {1, 1},
                 steps = 10000000, grid = {lr = {from = 0.01, to = 1, n = 1000}, beta = {0, 0.9}}}
      end)
      io.stderr:write("caught ", tostring(ok), " ", tostring(err), "\n")]], lua54_command())
    h.rmtree(dir)
    assert.are.equal(0, status, err)
    assert.are.equal("caught false interrupted!\n", err)
  end)
end)
