-- A small compiled objective runs as machine code when its runs pay for
-- the compile (core/src/expr_native.c): the same bits as the interpreted
-- program, so a long trace and a sweep print the same numbers with
-- MOMSANDBOX_NATIVE=on and off, each in a process of its own, and so does
-- a process that finds no cc; any other value is refused by name.
local h = require "spec.helpers"

-- Long enough to make the engine compile: a trace of 6e6 steps, then a
-- sweep of 256 runs x 30,000 steps over a fresh objective.
local script = [[
local function rosenbrock(x)
  local s = 0
  for i = 1, #x - 1 do s = s + 100 * (x[i + 1] - x[i]^2)^2 + (1 - x[i])^2 end
  return s
end
local f = ms.objective{dim = 2, f = rosenbrock}
assert(f.gradient == "compiled")
local steps = 6000000
local tr = ms.trace(f, ms.momentum{lr = 1e-5, beta = 0.9},
                    {x0 = {-1.2, 1}, steps = steps, every = steps / 3})
for i = 1, #tr do
  local p = tr:point(i)
  print(("%.17g %.17g %.17g"):format(p[1], p[2], tr:value(i)))
end
local s = ms.sweep{objective = ms.objective{dim = 2, f = rosenbrock}, rule = "momentum",
                   x0 = {-1.2, 1}, steps = 30000, threads = 2, progress = false,
                   grid = {lr = {from = 1e-6, to = 1e-5, n = 16}, beta = {from = 0, to = 0.9, n = 16}}}
for i = 1, #s do print(("%.17g"):format(s[i].loss)) end
]]

local function run(value, env)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(script)
  f:close()
  local status, out, err = h.run((env or "") .. " MOMSANDBOX_NATIVE=" .. h.shquote(value) .. " " ..
                                 h.shquote(h.bin) .. " " .. h.shquote(path))
  os.remove(path)
  return status, out, err
end

describe("machine code for a compiled objective", function()
  it("gives the interpreter's bits: a long trace and a sweep, MOMSANDBOX_NATIVE on and off", function()
    local s_on, on, err_on = run("on")
    local s_off, off, err_off = run("off")
    assert.are.equal(0, s_on, err_on)
    assert.are.equal(0, s_off, err_off)
    local lines = select(2, on:gsub("\n", ""))
    assert.are.equal(4 + 256, lines)
    assert.are.equal(off, on)
  end)

  it("without cc, stays interpreted: the same numbers", function()
    local s_on, on, err_on = run("on", "PATH=/nonexistent")
    local s_off, off, err_off = run("off")
    assert.are.equal(0, s_on, err_on)
    assert.are.equal(0, s_off, err_off)
    assert.are.equal(off, on)
  end)

  it("refuses another value of MOMSANDBOX_NATIVE, naming it", function()
    local status, _, err = run("maybe")
    assert.are_not.equal(0, status)
    assert.is_truthy(err:find("MOMSANDBOX_NATIVE must be 'on' or 'off', got 'maybe'", 1, true), err)
  end)
end)
