-- Ctrl-C (SIGINT) stops the engine's loops under every interpreter: the
-- momsandbox CLI, luajit through momsandbox-jit, and a stock lua5.4
-- (spec/lua54/module_spec.lua).  The interpreter stops Lua code itself;
-- the bindings put a handler in front of its own for the engine's C loops
-- (ms_sigint_begin) and LuaJIT's compiled ones.  The run ends with the
-- interpreter's error, exit status 1, soon, and leaves no file behind.
local ms = require "momsandbox"
local h = require "spec.helpers"

local interrupt = h.interrupt

--- Interrupt script in a fresh folder; it must fail with "interrupted"
-- well before it could have finished.
local function stops(script)
  local dir = h.tmpdir()
  local t0 = ms.util.clock()
  local status, err = interrupt(dir, script)
  assert.are.equal(1, status, err)
  assert.matches("interrupted", err)
  assert.is_true(ms.util.clock() - t0 < 10)
  h.rmtree(dir)
end

describe("Ctrl-C", function()
  it("stops a trace of a built-in objective and rule", function()
    stops([[
      io.open("marker", "w"):close()
      ms.trace(ms.objective.quadratic{0.2, 4}, ms.momentum{lr = 0.1, beta = 0.5},
               {x0 = {-5, -2}, steps = 9000000000, every = 9000000000})]])
  end)

  it("stops a trace in high dimension between two steps", function()
    stops([[
      local n = 1000000
      local x0 = ms.vec(n)
      x0:fill(1)
      io.open("marker", "w"):close()
      ms.trace(ms.objective.quadratic(ms.vec(n):fill(1e-9)), ms.gd{lr = 0.1},
               {x0 = x0, steps = 100000, every = 100000})]])
  end)

  it("stops a trace of an objective and a rule written in Lua", function()
    stops([[
      local f = ms.objective{dim = 2, f = function(x) return 0.5 * (x[1]^2 + x[2]^2) end,
                             grad = function(x, g) g[1] = x[1]; g[2] = x[2] end}
      local hb = ms.rule{name = "hb", hyper = {lr = 0.1}, state = {"v"},
        step = function(p, g, s, h) s.v:scale(0.5):add(g); p:axpy(-h.lr, s.v) end}
      io.open("marker", "w"):close()
      ms.trace(f, hb{lr = 1e-9}, {x0 = {-5, -2}, steps = 9000000000, every = 9000000000})]])
  end)

  it("stops gradient checks and finite differences of a large built-in objective", function()
    -- 4 n evaluations of f, each of n operations: minutes for n = 200000
    local setup = [[
      local n = 200000
      local f = ms.objective.quadratic(ms.vec(n):fill(2))
      local x = ms.vec(n):fill(1)
      io.open("marker", "w"):close()
    ]]
    stops(setup .. "ms.gradcheck(f, x)")
    stops(setup .. "f:numgrad(x)")
  end)

  it("stops building the largest rotated quadratic", function()
    stops([[
      io.open("marker", "w"):close()
      ms.objective.rotated_quadratic{kappa = 100, dim = 4096}]])
  end)

  it("stops the eigen-decomposition of a large matrix", function()
    stops([[
      local n, Q = 1200, {}   -- Jacobi sweeps of O(n^3): many seconds
      for i = 1, n do
        local row = {}
        for j = 1, n do row[j] = (i == j and i or 0) + 1 end
        Q[i] = row
      end
      local f = ms.objective.quadratic_form{Q = Q}   -- read before Ctrl-C comes
      Q = nil
      collectgarbage()
      io.open("marker", "w"):close()
      ms.analysis.eigen(f)]])
  end)

  it("stops the Cholesky factorisation of a large matrix", function()
    stops([[
      -- (n^3 / 6 steps of Cholesky for a matrix that takes little to copy)
      local f = ms.objective.quadratic(ms.vec(2000):fill(2))
      collectgarbage()
      io.open("marker", "w"):close()
      ms.analysis.minimize(f)]])
  end)

  it("stops a region map, of a built-in rule and of one written in Lua", function()
    -- 1.8 us a point for the built-in (16 s), 9 us for the Lua rule (9 s)
    stops([[
      io.open("marker", "w"):close()
      ms.analysis.region{rule = ms.momentum{lr = 0.1}, x = "lr", y = "beta", lambda = {0.5, 1},
        grid = {lr = {from = 0.01, to = 2, n = 3000}, beta = {from = 0, to = 0.99, n = 3000}}}]])
    stops([[
      local hb = ms.rule{name = "hb", hyper = {lr = 0.1, beta = 0.5}, state = {"v"},
        step = function(p, g, s, h) s.v:scale(h.beta):add(g); p:axpy(-h.lr, s.v) end}
      io.open("marker", "w"):close()
      ms.analysis.region{rule = hb{}, x = "lr", y = "beta", lambda = {0.5, 1},
        grid = {lr = {from = 0.01, to = 2, n = 1000}, beta = {from = 0, to = 0.99, n = 1000}}}]])
  end)

  it("stops training", function()
    stops([[
      local data = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 1000, seed = 1}
      io.open("marker", "w"):close()
      ms.train{model = ms.model.linreg(2), data = data, rule = ms.sgd{lr = 1e-6},
               batch = 10, epochs = 100000000, eval_every = 1000000000000}]])
  end)
end)

describe("after Ctrl-C", function()
  it("the REPL goes on, with the engine stopped", function()
    -- (LuaJIT's handler, run while the engine called back into Lua, would
    -- raise through C frames and leave the sweep's threads running.)
    local dir = h.tmpdir()
    h.write(dir .. "/run.lua", [[
      io.open("marker", "w"):close()
      ms.sweep{objective = ms.objective.quadratic{1e-9, 1e-9}, rule = "momentum", x0 = {1, 1},
               steps = 1000000, progress = true,
               grid = {lr = {from = 0.01, to = 1, n = 1000}, beta = {from = 0, to = 0.9, n = 10}}}]])
    local cmd = ("cd %s && { { echo 'dofile(\"run.lua\")'; sleep 2; echo 'print(6 * 7)'; sleep 1; } | " ..
                 "%s -i >out 2>err & pid=$!; n=0; while [ ! -e marker ] && [ $n -lt 1500 ]; " ..
                 "do sleep 0.02; n=$((n+1)); done; sleep 0.3; kill -INT $pid; wait $pid; }")
                :format(h.shquote(dir), h.shquote(h.abs(h.bin)))
    local status = h.run("sh -c " .. h.shquote(cmd))
    local out, err = h.read(dir .. "/out"), h.read(dir .. "/err")
    h.rmtree(dir)
    assert.are.equal(0, status, err)
    assert.matches("interrupted", err)
    assert.matches("42", out)
  end)
end)

describe("an interrupted sweep", function()
  local function files(dir)
    local p = io.popen("ls -a " .. h.shquote(dir))
    local names = p:read("a")
    p:close()
    return names
  end

  it("stops every thread and leaves no output file", function()
    local dir = h.tmpdir()
    local t0 = ms.util.clock()
    local status, err = interrupt(dir, [[
      local f = ms.objective.quadratic{1e-9, 1e-9}
      io.open("marker", "w"):close()
      local res = ms.sweep{objective = f, rule = "momentum", x0 = {1, 1}, steps = 1000000,
                           grid = {lr = {from = 0.01, to = 1, n = 1000}, beta = {from = 0, to = 0.9, n = 10}}}
      res:csv("sweep.csv")]])
    assert.are_not.equal(0, status)
    assert.matches("interrupted", err)
    assert.is_true(ms.util.clock() - t0 < 10)   -- the whole sweep would take far longer
    assert.are.equal(".\n..\nmarker\nrun.lua\n", files(dir))
    h.rmtree(dir)
  end)

  it("in a rule written in Lua, and while writing the CSV, leaves no file either", function()
    local dir = h.tmpdir()
    local status, err = interrupt(dir, [[
      local hb = ms.rule{name = "hb", hyper = {lr = 0.1}, state = {"v"},
        step = function(p, g, s, h) s.v:scale(0.5):add(g); p:axpy(-h.lr, s.v) end}
      io.open("marker", "w"):close()
      ms.sweep{objective = ms.objective.quadratic{1e-9}, rule = hb{}, x0 = {1}, steps = 100000000,
               grid = {lr = {0.1, 0.2}}}:csv("sweep.csv")]])
    assert.are_not.equal(0, status)
    assert.matches("interrupted", err)
    assert.are.equal(".\n..\nmarker\nrun.lua\n", files(dir))
    os.remove(dir .. "/marker")
    status, err = interrupt(dir, [[
      local res = ms.sweep{objective = ms.objective.quadratic{1}, rule = "gd", x0 = {1}, steps = 1,
                           grid = {lr = {from = 0.001, to = 1, n = 3000000}}}
      io.open("marker", "w"):close()
      res:csv("sweep.csv")]])
    assert.are_not.equal(0, status)
    assert.matches("interrupted", err)
    assert.are.equal(".\n..\nmarker\nrun.lua\n", files(dir))
    h.rmtree(dir)
  end)

  it("draws a progress bar on stderr when asked", function()
    local dir = h.tmpdir()
    h.write(dir .. "/run.lua", [[
      ms.sweep{objective = ms.objective.quadratic{1e-9, 1e-9}, rule = "momentum", x0 = {1, 1},
               steps = 1000000, progress = true, grid = {lr = {from = 0.01, to = 1, n = 200},
               beta = {from = 0, to = 0.9, n = 50}}}]])
    local status, _, err = h.cli(h.shquote(dir .. "/run.lua"))
    assert.are.equal(0, status, err)
    assert.matches("sweep 100%% %[#+%] 10000/10000 points in [%d.]+ s\n$", err)
    h.rmtree(dir)
  end)
end)
