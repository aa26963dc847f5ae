-- ms.trace: d2l's train_2d loop, the book's numbers, and the trace object.
local ms = require "momsandbox"
local h = require "spec.helpers"

local f = ms.objective.quadratic{0.2, 4}      -- 0.1 x1^2 + 2 x2^2
local x0 = {-5, -2}

describe("ms.trace", function()
  it("reproduces the chapter's four results to the printed digit", function()
    local book = {
      {ms.gd{lr = 0.4}, "epoch 20, x1: -0.943467, x2: -0.000073"},
      {ms.gd{lr = 0.6}, "epoch 20, x1: -0.387814, x2: -1673.365109"},
      {ms.momentum{lr = 0.6, beta = 0.5}, "epoch 20, x1: 0.007188, x2: 0.002553"},
      {ms.momentum{lr = 0.6, beta = 0.25}, "epoch 20, x1: -0.126340, x2: -0.186632"},
    }
    for _, case in ipairs(book) do
      assert.are.equal(case[2], tostring(ms.trace(f, case[1], {x0 = x0, steps = 20})))
    end
  end)

  it("records x_t and f(x_t) for t = 0..steps", function()
    local tr = ms.trace(f, ms.gd{lr = 0.4}, {x0 = x0, steps = 2})
    assert.are.equal(3, #tr)
    assert.are.same({-5, -2}, tr[1]:totable())
    assert.is_true(h.near(tr[2]:totable(), {-4.6, 1.2}, 1e-15))
    assert.is_true(h.near(tr[-1]:totable(), {-4.232, -0.72}, 1e-15))
    assert.are.equal(10.5, tr:value(1))
    assert.are.equal(1, select("#", tr:value(1)))   -- the value alone
    assert.is_true(h.near(tr:values()[2], 0.1 * 4.6^2 + 2 * 1.2^2, 1e-14))
    assert.are.same({0, 1, 2}, {tr:step(1), tr:step(2), tr:step(3)})
    assert.are.same({-5, tr[2][1], tr[3][1]}, tr:column(1))
    assert.are.equal(2, tr.steps)
    assert.are.equal(2, tr.dim)
    assert.is_false(tr.diverged)
    assert.is_nil(tr.reason)
    assert.are.equal("gd{lr=0.4}", tr.rule)
    assert.are.equal(f, tr.objective)
    assert.matches("point 4 out of range %(trace of 3%)", h.error_of(function() return tr[4] end))
  end)

  it("remembers the objective and the label of its own run, traces of two in turn", function()
    local g = ms.objective.quadratic{1, 1}
    local r = ms.momentum{lr = 0.1}
    local a = ms.trace(f, r, {x0 = x0, steps = 2})
    local b = ms.trace(g, r, {x0 = x0, steps = 2})
    r.lr = 0.2
    local c = ms.trace(g, r, {x0 = x0, steps = 2})
    local d = ms.trace(f, r, {x0 = x0, steps = 2})
    assert.are.same({"momentum{lr=0.1, beta=0.9}", f, "momentum{lr=0.1, beta=0.9}", g},
                    {a.rule, a.objective, b.rule, b.objective})
    assert.are.same({"momentum{lr=0.2, beta=0.9}", g, "momentum{lr=0.2, beta=0.9}", f},
                    {c.rule, c.objective, d.rule, d.objective})
  end)

  it("keeps its objective alive, and nothing keeps it once the traces are gone", function()
    local seen = setmetatable({}, {__mode = "v"})
    local tr = ms.trace(ms.objective.quadratic{3, 4}, ms.gd{lr = 0.1}, {x0 = x0, steps = 2})
    seen[1] = tr.objective
    collectgarbage()
    collectgarbage()
    assert.are.equal(seen[1], tr.objective)
    tr = nil   -- luacheck: ignore (dropped on purpose)
    collectgarbage()
    collectgarbage()
    assert.is_nil(seen[1])
  end)

  it("defaults to 20 steps, and records every k-th step when asked", function()
    assert.are.equal(21, #ms.trace(f, ms.gd{lr = 0.1}, {x0 = x0}))
    local full = ms.trace(f, ms.momentum{lr = 0.1}, {x0 = x0, steps = 10})
    local thin = ms.trace(f, ms.momentum{lr = 0.1}, {x0 = x0, steps = 10, every = 4})
    assert.are.same({0, 4, 8, 10}, {thin:step(1), thin:step(2), thin:step(3), thin:step(4)})
    assert.are.same(full[9]:totable(), thin[3]:totable())
    assert.are.same(full[11]:totable(), thin[4]:totable())
  end)

  it("marks a run that overflows as diverged, keeping only finite points", function()
    local tr = ms.trace(f, ms.gd{lr = 0.6}, {x0 = x0, steps = 2000})
    assert.is_number(tr.diverged)
    assert.is_true(tr.diverged > 1000 and tr.diverged < 2000)
    assert.are.equal(tr.diverged, #tr)                 -- x_0 .. x_{k-1}
    assert.are.equal("f is inf", tr.reason)
    for _, v in ipairs(tr:values()) do assert.is_true(v == v and v < math.huge) end
    assert.matches("^epoch %d+, x1: %-?0%.000000, x2: %-?%d%.%d+e%+%d+ %(diverged at step %d+: f is inf%)$",
                   tostring(tr))
  end)

  it("rejects bad arguments with messages naming them", function()
    local gd = ms.gd{lr = 0.1}
    assert.matches("bad argument #3 to '.-trace' %(x0 has 3 entries but the objective takes 2%)",
                   h.error_of(ms.trace, f, gd, {x0 = {1, 2, 3}}))
    assert.matches("option 'x0' %(the starting point%) is required", h.error_of(ms.trace, f, gd, {}))
    assert.matches("steps must be >= 0, got %-1", h.error_of(ms.trace, f, gd, {x0 = x0, steps = -1}))
    assert.matches("more than the limit", h.error_of(ms.trace, f, gd, {x0 = x0, steps = 1e15}))
    assert.matches("needs %d+%.%d GiB", h.error_of(ms.trace, f, gd, {x0 = x0, steps = 1e9}))
    assert.matches("option 'steps' must be an integer, got 2.5", h.error_of(ms.trace, f, gd, {x0 = x0, steps = 2.5}))
    assert.matches("every must be >= 1", h.error_of(ms.trace, f, gd, {x0 = x0, every = 0}))
    assert.matches("unknown option 'step'", h.error_of(ms.trace, f, gd, {x0 = x0, step = 3}))
    assert.matches("x0%[1%] is not finite", h.error_of(ms.trace, f, gd, {x0 = {0 / 0, 1}}))
    assert.matches("#1 to '.-trace' %(momsandbox.objective expected, got table%)",
                   h.error_of(ms.trace, {}, gd, {x0 = x0}))
    assert.matches("#2 to '.-trace' %(momsandbox.rule expected, got no value%)", h.error_of(ms.trace, f))
    assert.matches("#3 to '.-trace' %(table expected, got nil%)", h.error_of(ms.trace, f, gd, nil))
    -- x0's entries, and a closed objective, are named at ms.trace, never
    -- at the primitive under it
    assert.are.equal("bad argument #3 to 'trace' (entry 2 is a string, not a number)",
                     h.error_of(ms.trace, f, gd, {x0 = {1, "a"}}))
    assert.are.equal("bad argument #3 to 'trace' (entry 2 is a nil, not a number)",
                     h.error_of(ms.trace, f, gd, {x0 = {1, nil, 3}}))
    local closed = ms.objective.quadratic{1, 1}
    require("momsandbox.native").close(closed)
    assert.are.equal("bad argument #1 to 'trace' (objective has been closed)",
                     h.error_of(ms.trace, closed, gd, {x0 = x0}))
  end)

  it("takes options however the table was made, as long as they are right", function()
    local gd = ms.gd{lr = 0.4}
    local want = ms.trace(f, gd, {x0 = x0, steps = 2})[-1]:totable()
    local via_index = setmetatable({}, {__index = {steps = 2}})
    via_index.x0 = x0
    for _, opts in ipairs{{x0 = ms.vec(x0), steps = 2}, {x0 = x0, steps = 2.0, every = 1},
                          {x0 = {"-5", -2}, steps = 2}, via_index} do
      assert.are.same(want, ms.trace(f, gd, opts)[-1]:totable())
    end
  end)

  it("keeps the rule's label of the call, whatever the rule becomes", function()
    local hb = ms.momentum{lr = 0.6, beta = 0.5}
    local tr = ms.trace(f, hb, {x0 = x0})
    hb.lr = 0.1
    assert.are.equal("momentum{lr=0.6, beta=0.5}", tr.rule)
    assert.are.equal("momentum{lr=0.1, beta=0.5}", ms.trace(f, hb, {x0 = x0}).rule)
  end)

  it("stops at an error in a Lua objective and re-raises it", function()
    local calls = 0
    local g = ms.objective{dim = 2, f = function(x) return x[1]^2 + x[2]^2 end,
      grad = function(x, out)
        calls = calls + 1
        if calls == 3 then error("bad gradient at call 3") end
        out[1], out[2] = 2 * x[1], 2 * x[2]
      end}
    local err = h.error_of(ms.trace, g, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 10})
    assert.matches("^[^\n]*spec/trace_spec.lua:%d+: bad gradient at call 3", err)
    assert.matches("stack traceback:.*trace_spec.lua", err)
    assert.are.equal(3, calls)
    -- the same objective still works afterwards
    calls = -100
    assert.are.equal(11, #ms.trace(g, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 10}))
  end)

  it("treats NaN from a Lua objective as divergence, and a NaN start as an error", function()
    local g = ms.objective{dim = 1, f = function(x) return math.log(x[1]) end,
                           grad = function(x, out) out[1] = 1 / x[1] end}
    local tr = ms.trace(g, ms.gd{lr = 2}, {x0 = {1}, steps = 5})   -- x1 = -1: log(-1) = nan
    assert.are.equal(1, tr.diverged)
    assert.matches("f is %-?nan", tr.reason)
    assert.matches("f%(x0%) is %-?nan", h.error_of(ms.trace, g, ms.gd{lr = 1}, {x0 = {-1}}))
  end)

  it("writes CSV files whole, or not at all", function()
    local dir = h.tmpdir()
    local tr = ms.trace(f, ms.gd{lr = 0.4}, {x0 = x0, steps = 2})
    tr:csv(dir .. "/t.csv")
    local lines = {}
    for line in h.read(dir .. "/t.csv"):gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.are.equal("step,x1,x2,f", lines[1])
    assert.are.equal("0,-5,-2,10.5", lines[2])
    local step, a, b = lines[3]:match("^(%d+),([^,]+),([^,]+),")
    assert.are.equal("1", step)
    assert.are.equal(tr[2][1], tonumber(a))           -- exact round trip
    assert.are.equal(tr[2][2], tonumber(b))
    assert.are.equal(4, #lines)
    -- written through a temporary file, yet with a new file's usual permissions
    h.write(dir .. "/plain", "")
    local function mode(path) return select(2, h.run("stat -c %a " .. h.shquote(path))) end
    assert.are.equal(mode(dir .. "/plain"), mode(dir .. "/t.csv"))
    os.remove(dir .. "/plain")
    local err = h.error_of(tr.csv, tr, dir .. "/missing/t.csv")
    assert.matches("cannot write .*/missing/t.csv: No such file or directory", err)
    os.execute("chmod 500 " .. h.shquote(dir))
    if h.run("touch " .. h.shquote(dir .. "/probe")) ~= 0 then   -- not root: really read-only
      assert.matches("Permission denied", h.error_of(tr.csv, tr, dir .. "/u.csv"))
    end
    os.execute("chmod 700 " .. h.shquote(dir))
    local listing = select(2, h.run("ls -A " .. h.shquote(dir)))
    assert.is_nil(listing:match("tmp"))               -- no partial file left
    h.rmtree(dir)
  end)
end)
