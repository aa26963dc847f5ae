-- Ctrl-C during a sweep, and its progress bar: what the momsandbox CLI
-- adds to the engine (its SIGINT handler calls ms_interrupt, which every
-- sweep thread polls; a terminal gets a progress bar).
local ms = require "momsandbox"
local h = require "spec.helpers"

describe("an interrupted sweep (Ctrl-C)", function()
  -- Run script in a child momsandbox, send SIGINT once it has written the
  -- marker file, and return its exit status and stderr.
  local bin = h.bin:sub(1, 1) == "/" and h.bin or os.getenv("PWD") .. "/" .. h.bin
  local function interrupt(dir, script)
    h.write(dir .. "/run.lua", script)
    local cmd = ("cd %s && { %s run.lua & pid=$!; n=0; while [ ! -e marker ] && [ $n -lt 1500 ]; " ..
                 "do sleep 0.02; n=$((n+1)); done; sleep 0.3; kill -INT $pid; wait $pid; }")
                :format(h.shquote(dir), h.shquote(bin))
    local status, _, err = h.run("sh -c " .. h.shquote(cmd))
    return status, err
  end

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
               steps = 200000, progress = true, grid = {lr = {from = 0.01, to = 1, n = 200},
               beta = {from = 0, to = 0.9, n = 50}}}]])
    local status, _, err = h.cli(h.shquote(dir .. "/run.lua"))
    assert.are.equal(0, status, err)
    assert.matches("sweep 100%% %[#+%] 10000/10000 points in [%d.]+ s\n$", err)
    h.rmtree(dir)
  end)
end)
