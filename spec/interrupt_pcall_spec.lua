-- Ctrl-C inside a pcall: an interrupted engine call raises "interrupted!"
-- where it was called, as interrupted Lua code does, so a script catches it
-- and saves its partial work.  (It used to escape the pcall under Lua 5.4:
-- the interpreter's hook, still pending after the engine's own error, fired
-- once pcall had returned.)  Stock lua5.4: spec/lua54/module_spec.lua.
local h = require "spec.helpers"

-- The long calls, each in a function of no arguments.
local calls = {
  ["pure Lua code"] = [[
    if jit then jit.off() end   -- LuaJIT's compiled loops run no hooks
    local s = 0
    while true do s = s + 1 end]],
  ["a trace of a built-in objective"] = [[
    ms.trace(ms.objective.quadratic{0.2, 4}, ms.gd{lr = 0.1},
             {x0 = {-5, -2}, steps = 9000000000, every = 9000000000})]],
  ["a trace of an objective written in Lua"] = [[
    local f = ms.objective{dim = 2, f = function(x) return 0.5 * (x[1]^2 + x[2]^2) end,
                           grad = function(x, g) g[1] = x[1]; g[2] = x[2] end}
    ms.trace(f, ms.gd{lr = 1e-9}, {x0 = {-5, -2}, steps = 9000000000, every = 9000000000})]],
  ["training"] = [[
    local data = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 1000, seed = 1}
    ms.train{model = ms.model.linreg(2), data = data, rule = ms.sgd{lr = 1e-6},
             batch = 10, epochs = 100000000, eval_every = 1000000000000}]],
  ["a sweep"] = [[
    ms.sweep{objective = ms.objective.quadratic{1e-9, 1e-9}, rule = "momentum", x0 = {1, 1},
             steps = 1000000,
             grid = {lr = {from = 0.01, to = 1, n = 1000}, beta = {from = 0, to = 0.9, n = 10}}}]],
}

-- A script that runs call under pcall (in a coroutine when wrapped), then
-- reports what pcall returned, runs more Lua code and writes a file.
local function script(call, wrapped)
  return ([[
    local ms = require "momsandbox"
    local function long()
      io.open("marker", "w"):close()
      %s
    end
    local run = function() return pcall(long) end
    if %s then run = coroutine.wrap(run) end
    local ok, err = run()
    local s = 0
    for i = 1, 1000000 do s = s + i end
    io.stderr:write(("caught %%s %%s, then %%d\n"):format(tostring(ok), tostring(err), s))
    io.open("saved", "w"):close()]]):format(call, tostring(wrapped))
end

--- Interrupt the script; it must catch the interruption and go on.
local function catches(call, wrapped)
  local dir = h.tmpdir()
  local status, err = h.interrupt(dir, script(call, wrapped))
  local saved = h.read(dir .. "/saved")
  h.rmtree(dir)
  assert.are.equal(0, status, err)
  assert.matches("^caught false [^\n]*interrupted!", err)
  assert.matches(", then 500000500000\n$", err)
  assert.are.equal("", saved)
end

describe("pcall catches Ctrl-C in", function()
  for _, what in ipairs{"pure Lua code", "a trace of a built-in objective",
                        "a trace of an objective written in Lua", "training", "a sweep"} do
    it(what, function() catches(calls[what], false) end)
    -- (lua.c's hook stops the main thread only: a coroutine running
    -- pure Lua code goes on until it yields.)
    if what ~= "pure Lua code" then
      it(what .. ", in a coroutine", function() catches(calls[what], true) end)
    end
  end
end)
