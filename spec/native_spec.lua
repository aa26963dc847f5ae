-- A small compiled objective runs as machine code when its runs pay for
-- the compile (core/src/expr_native.c): the same bits as the interpreted
-- program, so a long trace and a sweep print the same numbers with
-- MOMSANDBOX_NATIVE=on and off, each in a process of its own, and so does
-- a process that finds no cc; any other value is refused by name.  A rule
-- written in Lua asks for the machine code as the engine's loop does.
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

-- A heavy ball written in Lua on the compiled Rosenbrock: a run of 5e6
-- steps pays for a compile.  Under LuaJIT the binding runs this trace's
-- loop in Lua, not the engine.
local lua_rule_script = [[
local f = ms.objective{dim = 2, f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end}
assert(f.gradient == "compiled")
local hb = ms.rule{name = "hb", hyper = {lr = {default = 1e-4}, beta = {default = 0.9}},
                   state = {"v"}, step = function(p, g, s, h)
  s.v:scale(h.beta):axpy(1, g)
  p:axpy(-h.lr, s.v)
end}
local steps = 5000000
local tr = ms.trace(f, hb{}, {x0 = {-1.2, 1}, steps = steps, every = steps / 5})
for i = 1, #tr do
  local p = tr:point(i)
  print(("%.17g %.17g %.17g"):format(p[1], p[2], tr:value(i)))
end
]]

local function run(value, env, source)
  local path = os.tmpname()
  local f = assert(io.open(path, "w"))
  f:write(source or script)
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

  it("is made for a rule written in Lua too, with the same bits", function()
    -- a cc that leaves a mark before it compiles: the run asked for it
    local dir = h.tmpdir()
    local _, real_cc = h.run("command -v cc")
    real_cc = real_cc:match("^%s*(.-)%s*$")
    assert.are_not.equal("", real_cc, "no cc on PATH")
    h.write(dir .. "/cc", '#!/bin/sh\n: > "$MS_CC_MARK"\nexec "$MS_REAL_CC" "$@"\n')
    assert(os.execute("chmod +x " .. h.shquote(dir .. "/cc")))
    local env = ("PATH=%s:\"$PATH\" MS_CC_MARK=%s MS_REAL_CC=%s"):format(
      h.shquote(dir), h.shquote(dir .. "/asked"), h.shquote(real_cc))
    local s_on, on, err_on = run("on", env, lua_rule_script)
    local asked = h.read(dir .. "/asked") ~= nil
    local s_off, off, err_off = run("off", env, lua_rule_script)
    h.rmtree(dir)
    assert.are.equal(0, s_on, err_on)
    assert.are.equal(0, s_off, err_off)
    assert.is_true(asked, "the trace never asked cc for machine code")
    assert.are.equal(6, select(2, on:gsub("\n", "")))
    assert.are.equal(off, on)
  end)

  it("refuses another value of MOMSANDBOX_NATIVE, naming it", function()
    for _, source in ipairs{script, lua_rule_script} do   -- the engine's loop, and a Lua rule's
      local status, _, err = run("maybe", nil, source)
      assert.are_not.equal(0, status)
      assert.is_truthy(err:find("MOMSANDBOX_NATIVE must be 'on' or 'off', got 'maybe'", 1, true), err)
    end
  end)
end)
