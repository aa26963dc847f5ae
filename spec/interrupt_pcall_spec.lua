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
  ["a trace of an objective given by f alone (finite differences)"] = [[
    local f = ms.objective{dim = 2, f = function(x) return 0.5 * (x[1]^2 + x[2]^2) end}
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
                        "a trace of an objective written in Lua",
                        "a trace of an objective given by f alone (finite differences)",
                        "training", "a sweep"} do
    it(what, function() catches(calls[what], false) end)
    -- (lua.c's hook stops the main thread only: a coroutine running
    -- pure Lua code goes on until it yields.)
    if what ~= "pure Lua code" then
      it(what .. ", in a coroutine", function() catches(calls[what], true) end)
    end
  end
end)

describe("Ctrl-C stays with the engine", function()
  it("after a callback that yielded was refused and its coroutine dropped", function()
    -- (LuaJIT's trace loop used to yield out of ms.trace with the engine's
    -- SIGINT handler in place, which then swallowed every later Ctrl-C.)
    local dir = h.tmpdir()
    local status, err = h.interrupt(dir, [[
      local ms = require "momsandbox"
      local f = ms.objective{dim = 2, grad = function(x, g) g[1] = x[1]; g[2] = x[2] end,
                             f = function(x) coroutine.yield("in f"); return x[1]^2 end}
      local co = coroutine.create(function()
        return ms.trace(f, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 5})
      end)
      local ok, err = coroutine.resume(co)
      io.stderr:write(("resumed %s %s %s\n"):format(tostring(ok), tostring(err), coroutine.status(co)))
      co = nil
      collectgarbage()
      if jit then jit.off() end   -- LuaJIT's compiled loops run no hooks
      io.open("marker", "w"):close()
      local t0 = os.clock()
      while os.clock() - t0 < 8 do end
      io.stderr:write("not interrupted\n")]])
    h.rmtree(dir)
    assert.matches("^resumed false attempt to yield across a C%-call boundary", err)
    assert.matches("dead\n", err)
    assert.are.equal(1, status, err)
    assert.matches("interrupted!", err)
    assert.is_nil(err:find("not interrupted", 1, true))
  end)

  it("in the REPL, after an interrupted trace: a sweep stops", function()
    -- (Under LuaJIT, luajit's hook raised between the engine's return and
    -- ms_sigint_end: later calls ran without the engine's handler, and a
    -- sweep of a built-in rule could no longer be stopped.)
    local dir = h.tmpdir()
    h.write(dir .. "/trace.lua", [[
      io.open("marker", "w"):close()
      ms.trace(ms.objective.quadratic{0.2, 4}, ms.gd{lr = 0.1},
               {x0 = {-5, -2}, steps = 9000000000, every = 9000000000})]])
    h.write(dir .. "/sweep.lua", [[
      io.open("marker2", "w"):close()
      ms.sweep{objective = ms.objective.quadratic{1e-9, 1e-9}, rule = "momentum", x0 = {1, 1},
               steps = 1000000,
               grid = {lr = {from = 0.01, to = 1, n = 1000}, beta = {from = 0, to = 0.9, n = 10}}}]])
    local wait_for = "n=0; while [ ! -e %s ] && [ $n -lt 500 ]; do sleep 0.02; n=$((n+1)); done; " ..
                     "sleep 0.3; kill -INT $pid; "
    local cmd = ("cd %s && { { echo 'dofile(\"trace.lua\")'; sleep 2; echo 'dofile(\"sweep.lua\")'; " ..
                 "sleep 3; echo 'print(6 * 7)'; sleep 1; } | %s -i >out 2>err & pid=$!; " ..
                 wait_for:format("marker") .. wait_for:format("marker2") ..
                 "n=0; while kill -0 $pid 2>/dev/null && [ $n -lt 500 ]; do sleep 0.02; n=$((n+1)); done; " ..
                 "kill -KILL $pid 2>/dev/null; wait $pid; }")
                :format(h.shquote(dir), h.shquote(h.abs(h.bin)))
    local t0 = os.time()
    local status = h.run("sh -c " .. h.shquote(cmd))
    local out, err = h.read(dir .. "/out"), h.read(dir .. "/err")
    h.rmtree(dir)
    assert.are.equal(0, status, err)
    local _, count = err:gsub("interrupted!", "")
    assert.are.equal(2, count, err)
    assert.matches("42", out)
    assert.is_true(os.time() - t0 < 12)
  end)
end)
