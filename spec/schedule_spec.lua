-- ms.schedule: each built-in's values at chosen steps, computed by hand;
-- schedules on any hyper-parameter; errors from schedules.
local ms = require "momsandbox"
local h = require "spec.helpers"
local S = ms.schedule

--- The schedule's values at steps ts, against the expected ones.
local function assert_values(s, ts, expected, tol)
  for i, t in ipairs(ts) do
    local v = s(t)
    assert.is_true(math.abs(v - expected[i]) <= (tol or 1e-15),
      ("%s at t = %d: got %.17g, expected %.17g"):format(tostring(s), t, v, expected[i]))
  end
end

describe("built-in schedules (k = t - 1 steps taken, as PyTorch's last_epoch)", function()
  it("constant, step, multistep, exponential", function()
    assert_values(S.constant{lr = 0.6}, {1, 1000}, {0.6, 0.6})
    assert_values(S.step{lr = 1, step_size = 3, gamma = 0.5}, {1, 3, 4, 6, 7}, {1, 1, 0.5, 0.5, 0.25})
    assert_values(S.multistep{lr = 1, milestones = {2, 5}, gamma = 0.1}, {1, 2, 3, 5, 6, 100},
                  {1, 1, 0.1, 0.1, 0.01, 0.01})
    assert_values(S.exponential{base = 2, gamma = 0.5}, {1, 2, 4}, {2, 1, 0.25})
  end)

  it("cosine annealing, with and without warm restarts", function()
    local c = (1 + math.cos(math.pi / 4)) / 2
    assert_values(S.cosine{lr = 1, steps = 4}, {1, 2, 3, 5, 6, 50}, {1, c, 0.5, 0, 0, 0})
    assert_values(S.cosine{lr = 1, steps = 4, min = 0.2}, {1, 3, 5}, {1, 0.6, 0.2})
    assert_values(S.cosine{lr = 1, steps = 2, restarts = true}, {1, 2, 3, 4}, {1, 0.5, 1, 0.5})
    -- periods 2, 4, 8: restarts at k = 2 and k = 6
    assert_values(S.cosine{lr = 1, steps = 2, restarts = true, mult = 2},
                  {1, 2, 3, 4, 5, 6, 7}, {1, 0.5, 1, c, 0.5, 1 - c, 1})
  end)

  it("linear warm-up or decay, polynomial decay, inverse square root", function()
    assert_values(S.linear{lr = 1, start = 0.5, ["end"] = 1, steps = 2}, {1, 2, 3, 9}, {0.5, 0.75, 1, 1})
    assert_values(S.linear{lr = 3}, {1, 6}, {1, 3})     -- PyTorch's defaults: 1/3 -> 1 in 5
    assert_values(S.polynomial{lr = 1, steps = 4, power = 2}, {1, 2, 3, 5, 10}, {1, 0.5625, 0.25, 0, 0})
    assert_values(S.polynomial{lr = 1, steps = 2, min = 0.1}, {1, 2, 3}, {1, 0.55, 0.1})
    assert_values(S.inverse_sqrt{lr = 1}, {1, 4, 16}, {1, 0.5, 0.25})
    assert_values(S.inverse_sqrt{lr = 1, warmup = 4}, {1, 2, 4, 16}, {0.25, 0.5, 1, 0.5})
  end)

  it("compose: sequences and warm-up followed by another schedule", function()
    local seq = S.sequence{S.constant{lr = 1}, S.exponential{lr = 2, gamma = 0.5}, milestones = {3}}
    assert_values(seq, {1, 3, 4, 5, 6}, {1, 1, 2, 1, 0.5})
    local cos = S.cosine{lr = 1, steps = 10}
    local w = S.warmup{steps = 4, after = cos}
    assert_values(w, {1, 2, 4, 5, 6, 15}, {0, 0.25, 0.75, 1, cos(2), 0})
    assert_values(S.warmup{steps = 2, start = 0.5, after = 0.6}, {1, 2, 3}, {0.3, 0.45, 0.6})
    local mixed = S.sequence{function(t) return 1 / t end, S.constant{lr = 7}, milestones = {2}}
    assert_values(mixed, {1, 2, 3}, {1, 0.5, 7})
    assert.are.equal("warmup{steps=4, after=cosine{lr=1, steps=10}}", tostring(w))
    assert.are.equal("sequence{function, constant{lr=7}, milestones={2}}", tostring(mixed))
  end)

  it("lists values for plots", function()
    assert.are.same({2, 1, 0.5}, S.exponential{lr = 2, gamma = 0.5}:values(3))
    assert.are.same({}, S.constant{lr = 1}:values(0))
    -- a table has a size limit (10^7), checked before anything is made
    local s = S.constant{lr = 1}
    for _, n in ipairs{10000001, 2^40, 2^62} do
      assert.are.equal("bad argument #1 to 'values' (count must be <= 10000000 (call the schedule " ..
                       "for the steps beyond))", h.error_of(s.values, s, n))
    end
    assert.are.equal("bad argument #1 to 'values' (count must be >= 0)", h.error_of(s.values, s, -1))
    assert.are.equal(1, s(2^40))
  end)

  it("rejects bad parameters, naming them", function()
    assert.matches("step_size must be >= 1", h.error_of(S.step, {lr = 1, step_size = 0}))
    assert.matches("option 'step_size' is required", h.error_of(S.step, {lr = 1}))
    assert.matches("milestones must be increasing", h.error_of(S.multistep, {lr = 1, milestones = {5, 3}}))
    assert.matches("milestone 1 is not an integer", h.error_of(S.multistep, {lr = 1, milestones = {1.5}}))
    assert.matches("option 'gamma' is required", h.error_of(S.exponential, {lr = 1}))
    assert.matches("gamma must be > 0", h.error_of(S.exponential, {lr = 1, gamma = 0}))
    assert.matches("mult needs restarts = true", h.error_of(S.cosine, {lr = 1, steps = 3, mult = 2}))
    assert.matches("base value as `base` %(or `lr`%), once", h.error_of(S.constant, {}))
    assert.matches("base value as `base` %(or `lr`%), once", h.error_of(S.constant, {lr = 1, base = 1}))
    assert.matches("base value must be finite", h.error_of(S.constant, {lr = 0 / 0}))
    assert.matches("unknown option 'gama'", h.error_of(S.step, {lr = 1, step_size = 2, gama = 0.5}))
    assert.matches("one milestone fewer than schedules",
                   h.error_of(S.sequence, {S.constant{lr = 1}, milestones = {3}}))
    assert.matches("entry 2 is a string, not a schedule",
                   h.error_of(S.sequence, {S.constant{lr = 1}, "x", milestones = {3}}))
    assert.matches("steps count from 1", h.error_of(S.constant{lr = 1}, 0))
  end)
end)

describe("scheduled hyper-parameters", function()
  local f = ms.objective.quadratic{0.2, 4}
  local x0 = {-5, -2}

  it("follow the schedule at every step", function()
    -- with lr = 0 from step 3 on, gradient descent stops after two steps
    local r = ms.gd{lr = S.multistep{lr = 0.4, milestones = {2}, gamma = 0}}
    local tr = ms.trace(f, r, {x0 = x0, steps = 5})
    assert.is_true(h.near(tr[3]:totable(), {-4.232, -0.72}, 1e-12))
    assert.are.same(tr[3]:totable(), tr[6]:totable())
    assert.are.equal("gd{lr=multistep{lr=0.4, milestones={2}, gamma=0}}", tostring(r))
  end)

  it("may be Lua functions of the step, on any hyper-parameter (beta too)", function()
    local a = ms.trace(f, ms.momentum{lr = function(t) return 0.6 / math.sqrt(t) end, beta = 0.5},
                       {x0 = x0, steps = 50})
    local b = ms.trace(f, ms.momentum{lr = S.inverse_sqrt{lr = 0.6}, beta = 0.5}, {x0 = x0, steps = 50})
    assert.is_true(h.same_bits(a[-1]:totable(), b[-1]:totable()))
    local c = ms.trace(f, ms.momentum{lr = 0.6, beta = function() return 0.5 end}, {x0 = x0, steps = 20})
    assert.are.equal("epoch 20, x1: 0.007188, x2: 0.002553", tostring(c))   -- the book's run
    local seen = {}
    ms.trace(f, ms.momentum{lr = 0.1, beta = function(t) seen[#seen + 1] = t; return 0.9 end},
             {x0 = x0, steps = 3})
    assert.are.same({1, 2, 3}, seen)
  end)

  it("are reported and kept by the rule", function()
    local cos = S.cosine{lr = 0.6, steps = 10}
    local r = ms.momentum{lr = cos}
    assert.are.equal(cos, r.lr)
    assert.are.equal(cos, r:hyper().lr)
    r.lr = 0.3                      -- back to a number
    assert.are.equal(0.3, r.lr)
    r.beta = S.constant{lr = 0.5}
    assert.are.equal("momentum{lr=0.3, beta=constant{lr=0.5}}", tostring(r))
    collectgarbage()                -- the rule keeps its schedule alive
    assert.are.equal("epoch 20, x1: -0.126340, x2: -0.186632",
                     tostring(ms.trace(f, ms.momentum{lr = 0.6, beta = S.constant{lr = 0.25}},
                                       {x0 = x0, steps = 20})))
  end)

  it("stop the run with a clear error when they go wrong", function()
    local neg = ms.gd{lr = function(t) return t < 3 and 0.1 or -0.1 end}
    assert.matches("the schedule of lr at step 3: lr must be in %[0, inf%), got %-0.1",
                   h.error_of(ms.trace, f, neg, {x0 = x0}))
    local nan = ms.momentum{lr = 0.1, beta = function() return 0 / 0 end}
    assert.matches("the schedule of beta at step 1: beta must be in %[0, 1%), got nan",
                   h.error_of(ms.trace, f, nan, {x0 = x0}))
    local none = ms.gd{lr = function() end}
    assert.matches("schedule function returned nil at step 1, expected a number",
                   h.error_of(ms.trace, f, none, {x0 = x0}))
    local boom = ms.gd{lr = function(t) if t == 4 then error("no rate today") end return 0.1 end}
    local err = h.error_of(ms.trace, f, boom, {x0 = x0})
    assert.matches("schedule_spec.lua:%d+: no rate today", err)
    assert.matches("stack traceback", err)
    assert.matches("nesterov must be a boolean, got momsandbox.schedule",
                   h.error_of(ms.sgd, {lr = 0.1, momentum = 0.9, nesterov = S.constant{lr = 1}}))
    assert.matches("lr must be a number, schedule or function, got table", h.error_of(ms.gd, {lr = {}}))
  end)
end)

describe("schedule messages, the same under both interpreters", function()
  local native = require "momsandbox.native"

  it("name the function and count arguments after self", function()
    local s = S.constant{lr = 1}
    local cases = {
      {"bad argument #1 to 'schedule' (steps count from 1)", s, 0},
      {"bad argument #1 to 'schedule' (number has no integer representation)", s, 1.5},
      {"bad argument #1 to 'schedule' (number expected, got string)", s, "x"},
      {"bad argument #1 to 'values' (number expected, got nil)", s.values, s},
      {"calling 'values' on bad self (momsandbox.schedule expected, got nil)", s.values, nil, 3},
      {"calling 'values' on bad self (momsandbox.schedule expected, got table)", s.values, {}, 3},
      {"bad argument #1 to 'step' (unknown option 'gama' (expected one of: base, lr, step_size, gamma))",
       S.step, {lr = 1, step_size = 2, zz = 1, gama = 0.5}},
      {"bad argument #1 to 'step' (step_size must be >= 1)", S.step, {lr = 1, step_size = 0}},
      {"bad argument #1 to 'step' (option 'step_size' must be an integer, got 1.5)",
       S.step, {lr = 1, step_size = 1.5}},
      {"bad argument #1 to 'multistep' (milestone 2 is not an integer)",
       S.multistep, {lr = 1, milestones = {1, "x"}}},
      {"bad argument #1 to 'multistep' (milestones must be a table of step numbers)",
       S.multistep, {lr = 1, milestones = 3}},
      {"bad argument #1 to 'constant' (base must be a number)", S.constant, {lr = "x"}},
      {"bad argument #1 to 'constant' (table expected, got nil)", S.constant},
      {"bad argument #1 to 'cosine' (restarts must be a boolean)",
       S.cosine, {lr = 1, steps = 2, restarts = 1}},
      {"bad argument #1 to 'exponential' (option 'gamma' is required)", S.exponential, {lr = 1}},
      {"bad argument #1 to 'sequence' (entry 1 is a number, not a schedule)",
       S.sequence, {1, milestones = {}}},
      {"bad argument #1 to 'warmup' (after must be a schedule, function or number)",
       S.warmup, {steps = 2, after = "x"}},
      {"bad argument #1 to 'warmup' (option 'steps' is required)", S.warmup, {after = 1}},
    }
    for _, c in ipairs(cases) do
      assert.are.equal(c[1], h.error_of(c[2], c[3], c[4]))
    end
  end)

  it("label numbers as the shortest decimals, whatever the interpreter", function()
    assert.are.equal("exponential{lr=2, gamma=0.5}", tostring(S.exponential{lr = 2.0, gamma = 0.5}))
    assert.are.equal("warmup{steps=2, start=0.1, after=3}", tostring(S.warmup{steps = 2, start = 0.1, after = 3}))
    local values = S.step{lr = 1, step_size = 1, gamma = 0.5}:values(3)
    for i, v in ipairs(values) do values[i] = ms.util.format(v) end
    assert.are.equal("1, 0.5, 0.25", table.concat(values, ", "))
  end)

  it("read tables raw: a lying __len or __index changes nothing", function()
    local liar = setmetatable({10, 20}, {__len = function() return 2^62 end,
                                         __index = function() return 5 end})
    local s = S.multistep{lr = 1, milestones = liar, gamma = 0.5}
    assert.are.equal("multistep{lr=1, milestones={10, 20}, gamma=0.5}", tostring(s))
    assert.are.equal(0.25, s(25))
    local parts = setmetatable({S.constant{lr = 1}, S.constant{lr = 2}, milestones = {3}},
                               {__len = function() return 100 end})
    assert.are.equal(2, S.sequence(parts)(4))
    local m = {}
    for i = 1, 1000 do m[i] = i end
    assert.are.equal(0.5^1000, S.multistep{lr = 1, milestones = m, gamma = 0.5}(2000))
  end)

  it("are refused once closed, and never crash a primitive", function()
    local s = S.constant{lr = 1}
    native.close(s)
    native.close(s)
    assert.are.equal("schedule has been closed", h.error_of(s, 1))
    assert.are.equal("schedule has been closed", h.error_of(s.values, s, 2))
    assert.are.equal("constant{lr=1}", tostring(s))
    assert.has_error(function() S.sequence{s, milestones = {}} end)
    for _, v in ipairs{1, "x", {}, print, true, 0 / 0, 2^63, -1} do
      local n = type(v) == "number" and v or 1
      pcall(native.schedule_builtin, v)
      pcall(native.schedule_builtin, v, native.vec_new(1))
      pcall(native.schedule_builtin, "multistep", native.vec_new(3, n), v)
      pcall(native.schedule_builtin, "sequence", native.vec_new(1, n), {v, v})
      pcall(native.schedule_builtin, "sequence", native.vec_new(0), {S.constant{lr = 1}, v})
      pcall(native.schedule_builtin, "sequence", native.vec_new(1), {S.constant{lr = 1}})
      pcall(native.schedule_builtin, "cosine", native.vec_new(5, n), v)
      pcall(native.schedule_builtin, "step", v, v)
      pcall(native.schedule_values, v, v, v)
      pcall(native.schedule_values, S.constant{lr = 1}, 1, v)
      pcall(native.schedule_values, S.constant{lr = 1}, 2^62, 10)
      pcall(native.schedule_fn, v)
    end
  end)

  it("of a Lua function, raised as the function raised them", function()
    local s = S.sequence{function() return {} end, S.constant{lr = 1}, milestones = {2}}
    assert.are.equal("schedule function returned table at step 1, expected a number", h.error_of(s, 1))
    local e = {}
    local t = S.sequence{function() error(e) end, S.constant{lr = 1}, milestones = {2}}
    assert.are.equal(e, select(2, pcall(t, 1)))
  end)
end)
