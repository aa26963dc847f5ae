-- ms.sweep: grids of hyper-parameters, the rates measured against the
-- theory, the vectorised and general loops against each other, rules and
-- objectives written in Lua, threads, shards and CSV, and bad input.
local ms = require "momsandbox"
local h = require "spec.helpers"

local A = ms.analysis
local f = ms.objective.quadratic{0.2, 4}
local x0 = {-5, -2}

-- Every column of two results, bit for bit.
local function same_results(r1, r2, names)
  for _, name in ipairs(names) do
    if not h.same_bits(r1:column(name), r2:column(name)) then return false, name end
  end
  return true
end

describe("ms.sweep", function()
  it("runs a rule over a grid, first axis fastest, and returns the points", function()
    local res = ms.sweep{objective = f, rule = ms.momentum{lr = 0.1}, x0 = x0, steps = 20,
                         grid = {beta = {0, 0.5}, lr = {from = 0.2, to = 0.6, n = 3}}}
    assert.are.equal(6, #res)
    assert.are.same({"lr", "beta"}, res.axes)        -- the rule's order
    assert.are.same({0.2, 0.4, 0.6, 0.2, 0.4, 0.6}, res:column("lr"))
    assert.are.same({0, 0, 0, 0.5, 0.5, 0.5}, res:column("beta"))
    assert.is_true(res.fast)
    -- point 6 is the chapter's momentum run: f at (0.007188, 0.002553)
    local tr = ms.trace(f, ms.momentum{lr = 0.6, beta = 0.5}, {x0 = x0, steps = 20})
    assert.are.equal("epoch 20, x1: 0.007188, x2: 0.002553", tostring(tr))
    assert.are.same({lr = 0.6, beta = 0.5, loss = tr:value(-1), diverged = false}, res[6])
    assert.are.equal(res[6].loss, res[-1].loss)
    assert.matches("point 7 out of range %(sweep of 6%)", h.error_of(function() return res[7] end))
    assert.matches("^sweep of momentum{lr=0.1, beta=0.9} over lr %(3%) x beta %(2%): 6 of 6 points, " ..
                   "vectorised loop, %d threads?, [%d.e-]+ s; 0 diverged$", tostring(res))
    assert.are.same({0.2, 0.4, 0.6}, (res:matrix()))
    local _, y, z = res:matrix("loss")
    assert.are.same({0, 0.5}, y)
    assert.are.same({res[4].loss, res[5].loss, res[6].loss}, z[2])
    local best, k = res:best()
    assert.are.equal(6, k)
    assert.are.equal(0.6, best.lr)
    assert.are.equal(f, res.objective)
  end)

  it("takes a rule by name, single values, vectors and log ranges as axes", function()
    local res = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = 5,
                         grid = {lr = ms.vec{0.1, 0.3}, beta = 0.5}}
    assert.are.same({0.1, 0.3}, res:column("lr"))
    res = ms.sweep{objective = f, rule = "gd", x0 = x0, steps = 5,
                   grid = {lr = {from = 0.001, to = 1, n = 4, log = true}}}
    assert.is_true(h.near(res:column("lr"), {0.001, 0.01, 0.1, 1}, 1e-15))
    assert.are.same({-3, -2, -1, 0}, (function()
      local x = res:column("lr")
      for i = 1, #x do x[i] = math.floor(math.log(x[i], 10) + 0.5) end
      return x
    end)())
  end)

  it("measures rates that match the spectral radius on 1000 random (eta, beta, lambda)", function()
    local rng = ms.rng(2024)
    local points, radius = {}, {}
    for k = 1, 1000 do
      local beta = 0.99 * rng:uniform()
      local lambda = 10 ^ (4 * rng:uniform() - 2)
      local el = (2 + 2 * beta) * (0.001 + 0.998 * rng:uniform())
      points[k] = {lr = el / lambda, beta = beta, scale = lambda}
      radius[k] = A.radius(beta, el / lambda, lambda)
    end
    local res = ms.sweep{objective = ms.objective.quadratic{1}, rule = "momentum", x0 = {1},
                         points = points, steps = 2000, measure = "rate"}
    assert.is_true(res.fast)
    local worst = 0
    for k = 1, #res do
      assert.is_false(res[k].diverged)
      worst = math.max(worst, math.abs(res[k].rate - radius[k]))
    end
    assert(worst <= 1e-3, ("worst |rate - radius| = %g"):format(worst))
  end)

  it("gives an exact convergence the rate 0, the best there is", function()
    -- gd with eta lambda = 1 lands on x* in one step; 0.5 halves the error
    local res = ms.sweep{objective = ms.objective.quadratic{1}, rule = "gd", x0 = {1},
                         grid = {lr = {0.5, 1}}, steps = 100, measure = "rate"}
    assert.equal(0, res[2].rate)
    assert(math.abs(res[1].rate - 0.5) < 1e-12)
    assert.equal(1, res:best("rate").lr)
  end)

  it("separates converging from diverging runs at eta lambda = 2 + 2 beta", function()
    local points = {}
    for beta = 0, 0.9, 0.1 do
      for _, side in ipairs{0.98, 1.02, 1.5} do
        points[#points + 1] = {lr = side * (2 + 2 * beta) / 3, beta = beta, scale = 3}
      end
    end
    local res = ms.sweep{objective = ms.objective.quadratic{1}, rule = "momentum", x0 = {1},
                         points = points, steps = 4000, measure = {"loss", "rate"}}
    for k = 1, #res, 3 do
      local inside, outside, far = res[k], res[k + 1], res[k + 2]
      assert.is_true(inside.rate < 1 and not inside.diverged and inside.loss < 1e-3)
      assert.is_true(outside.rate > 1)
      assert.is_number(far.diverged)            -- overflowed within the run
      assert.are.equal(math.huge, far.loss)
      assert.is_true(far.rate > 1)
    end
  end)

  it("gives the same bits in the vectorised and the general loop", function()
    local grid = {lr = {from = 0.05, to = 1.1, n = 12}, beta = {0, 0.3, 0.6, 0.9},
                  scale = {0.5, 1, 2}}
    local names = {"loss", "rate", "steps", "diverged"}
    local rules = {"momentum", "nesterov", ms.sgd{lr = 0.1, momentum = 0.5, nesterov = true}}
    for _, rule in ipairs(rules) do
      local g = rule == "momentum" and grid or {lr = grid.lr, momentum = {0.1, 0.5, 0.9}}
      local opts = {objective = f, rule = rule, x0 = x0, grid = g, steps = 1500,
                    measure = {"loss", "rate", "steps"}, tol = 1e-9}
      local fast = ms.sweep(opts)
      opts.fast = false
      local general = ms.sweep(opts)
      assert.is_true(fast.fast)
      assert.is_false(general.fast)
      assert.is_true(same_results(fast, general, names))
      assert.is_true(fast.diverged > 0)
    end
  end)

  it("runs rules and objectives written in Lua, on the calling thread, with the same results", function()
    local heavy_ball = ms.rule{name = "heavy_ball", hyper = {lr = 0.1, beta = 0.5}, state = {"v"},
      step = function(p, g, s, hp)
        s.v:scale(hp.beta):add(g)
        p:axpy(-hp.lr, s.v)
      end}
    local grid = {lr = {from = 0.1, to = 0.7, n = 7}, beta = {0, 0.5, 0.9}}
    local opts = {objective = f, x0 = x0, grid = grid, steps = 300, measure = {"loss", "rate"}, threads = 2}
    opts.rule = "momentum"
    local builtin = ms.sweep(opts)
    opts.rule = heavy_ball{}
    local lua = ms.sweep(opts)
    assert.is_false(lua.fast)
    assert.are.equal(1, lua.threads)
    assert.is_true(same_results(builtin, lua, {"loss", "rate", "diverged"}))
    -- the same quadratic, written in Lua: x* must be given for the rate
    local g = ms.objective{dim = 2,
      f = function(x) return 0.5 * 0.2 * x[1] * x[1] + 0.5 * 4 * x[2] * x[2] end,
      grad = function(x, out) out[1] = 0.2 * x[1]; out[2] = 4 * x[2] end}
    opts.rule, opts.objective = "momentum", g
    assert.matches("the rate needs the minimiser x%*", h.error_of(ms.sweep, opts))
    opts.xstar = {0, 0}
    local lua_f = ms.sweep(opts)
    assert.are.equal(1, lua_f.threads)
    assert.is_true(same_results(builtin, lua_f, {"loss", "rate", "diverged"}))
  end)

  it("stops at a Lua error in the rule and raises it once, unchanged", function()
    local calls = 0
    local bad = ms.rule{name = "bad", hyper = {lr = 0.1}, step = function(p, g, s, hp, t)
      calls = calls + 1
      if calls == 1000 then error("boom in step " .. t) end
      p:axpy(-hp.lr, g)
    end}
    local err = h.error_of(ms.sweep, {objective = f, rule = bad{}, x0 = x0, steps = 100,
                                      grid = {lr = {from = 0.01, to = 0.1, n = 50}}})
    assert.matches("boom in step 100", err)
    assert.matches("stack traceback", err)
    assert.are.equal(1000, calls)   -- nothing ran after it
    local _, n = err:gsub("boom", "")
    assert.are.equal(1, n)
    -- a schedule written in Lua: likewise
    local r = ms.momentum{lr = function(t) if t == 7 then error("schedule broke") end return 0.1 end}
    assert.matches("schedule broke", h.error_of(ms.sweep, {objective = f, rule = r, x0 = x0,
      steps = 10, grid = {beta = {0, 0.5}}, threads = 2}))
  end)

  it("stops every thread on a failure in the engine and reports it once", function()
    -- lr follows a schedule that turns negative at step 52: runs on threads, fails on all
    local r = ms.momentum{lr = ms.schedule.linear{lr = 0.1, start = 1, ["end"] = -1, steps = 100}}
    local err = h.error_of(ms.sweep, {objective = f, rule = r, x0 = x0, steps = 1000, threads = 2,
                                      grid = {beta = {from = 0, to = 0.9, n = 64}}})
    assert.matches("^at beta=[%d.e-]+: the schedule of lr at step 52: lr must be in %[0, inf%), got %-", err)
    local ok = ms.sweep{objective = f, rule = r, x0 = x0, steps = 50, threads = 2,
                        grid = {beta = {from = 0, to = 0.9, n = 64}}}
    assert.are.equal(2, ok.threads)
  end)

  it("gives the same results on any number of threads and shards, and CSV parts concatenate", function()
    local dir = h.tmpdir()
    local opts = {objective = f, rule = "momentum", x0 = x0, steps = 300, measure = {"loss", "rate", "steps"},
                  grid = {lr = {from = 0.01, to = 1, n = 37, log = true}, beta = {from = 0, to = 0.9, n = 10}}}
    opts.threads = 1
    local one = ms.sweep(opts)
    opts.threads = 3
    local three = ms.sweep(opts)
    assert.are.equal(3, three.threads)
    assert.is_true(same_results(one, three, {"lr", "beta", "loss", "rate", "steps", "diverged"}))
    -- threads = 1024 is cut to 4 per online CPU
    local _, nproc = h.run("getconf _NPROCESSORS_ONLN")
    local cpus = assert(tonumber(nproc))
    opts.threads = 1024
    local many = ms.sweep(opts)
    assert.is_true(many.threads >= 1 and many.threads <= 4 * cpus, tostring(many.threads))
    if 4 * cpus < 37 then assert.are.equal(4 * cpus, many.threads) end
    assert.is_true(same_results(one, many, {"lr", "beta", "loss", "rate", "steps", "diverged"}))
    one:csv(dir .. "/whole.csv")
    local parts = {}
    for i = 1, 4 do
      opts.shard = {i, 4}
      local part = ms.sweep(opts)
      assert.are.equal(i <= 2 and 93 or 92, #part)        -- 370 = 93 + 93 + 92 + 92
      assert.are.equal(({1, 94, 187, 279})[i], part.first)
      part:csv(dir .. "/part" .. i .. ".csv")
      parts[i] = h.read(dir .. "/part" .. i .. ".csv")
    end
    local whole = h.read(dir .. "/whole.csv")
    assert.are.equal(whole, table.concat(parts))
    assert.matches("^lr,beta,loss,rate,steps,diverged\n0.01,0,", whole)
    assert.are.equal(371, select(2, whole:gsub("\n", "")))
    assert.matches("^lr,beta", h.read((one:csv(dir .. "/h.csv", {header = true}) and dir .. "/h.csv")))
    one:csv(dir .. "/n.csv", {header = false})
    assert.matches("^0.01,", h.read(dir .. "/n.csv"))
    h.rmtree(dir)
  end)

  it("measures steps to a tolerance", function()
    local res = ms.sweep{objective = ms.objective.quadratic{2}, rule = "gd", x0 = {3}, steps = 200,
                         grid = {lr = {0.1, 0.25, 0.5, 0.6}}, measure = "steps", tol = 1e-8}
    for _, k in ipairs{1, 2, 4} do   -- f_t = 9 (1 - 2 lr)^(2t)
      local q = math.abs(1 - 2 * res[k].lr)
      local t = math.ceil(math.log(1e-8 / 9) / (2 * math.log(q)))
      assert.is_true(res[k].steps == t or res[k].steps == t + 1)
    end
    assert.are.same({1, 0}, {res[3].steps, res[3].loss})   -- x_1 = 0 exactly
    local never = ms.sweep{objective = ms.objective.quadratic{2}, rule = "gd", x0 = {3}, steps = 10,
                           grid = {lr = 0.01}, measure = "steps", tol = 1e-8}
    assert.is_true(never[1].steps ~= never[1].steps)      -- NaN: not reached
    assert.are.equal(0, ms.sweep{objective = ms.objective.quadratic{2}, rule = "gd", x0 = {3},
      grid = {lr = 0.1}, measure = "steps", tol = 100}[1].steps)
  end)

  it("draws heat maps of a measure", function()
    if not ms.plot.available() then return pending("gnuplot is not installed") end
    local dir = h.tmpdir()
    local res = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = 20,
                         grid = {lr = {from = 0.01, to = 1, n = 20, log = true}, beta = {from = 0, to = 0.9, n = 10}}}
    local file = res:heatmap{log = true, file = dir .. "/loss.svg", title = "log10 loss"}
    assert.are.equal(dir .. "/loss.svg", file)
    local svg = h.read(file)
    assert.is_truthy(svg:find("log10 lr", 1, true) and svg:find("log10 loss", 1, true))
    assert.matches("did not measure rate", h.error_of(res.heatmap, res, {measure = "rate"}))
    h.rmtree(dir)
  end)
end)

describe("ms.sweep refuses bad input", function()
  local function sweep(opts)
    opts.objective = opts.objective or f
    opts.rule = opts.rule or "momentum"
    opts.x0 = opts.x0 or x0
    return h.error_of(ms.sweep, opts)
  end

  it("empty and reversed ranges, empty lists, bad values", function()
    assert.matches("grid: lr: empty range %(n = 0%)", sweep{grid = {lr = {from = 0.1, to = 1, n = 0}}})
    assert.matches("grid: lr: reversed range %(from 1 > to 0.1%)", sweep{grid = {lr = {from = 1, to = 0.1, n = 5}}})
    assert.matches("grid: lr: from = to = 0.5 gives one value, not n = 5",
                   sweep{grid = {lr = {from = 0.5, to = 0.5, n = 5}}})
    assert.matches("grid: lr: a log range needs from > 0", sweep{grid = {lr = {from = 0, to = 1, n = 5, log = true}}})
    assert.matches("grid: lr: no values", sweep{grid = {lr = {}}})
    assert.matches("grid: beta must be in %[0, 1%), got 1", sweep{grid = {lr = 0.1, beta = {0.5, 1}}})
    assert.matches("grid: beta must be in %[0, 1%), got 1", sweep{grid = {lr = 0.1, beta = {from = 0, to = 1, n = 3}}})
    assert.matches("grid.lr: 'n' %(the number of values%) must be an integer",
                   sweep{grid = {lr = {from = 0.1, to = 1, n = 2.5}}})
    assert.matches("grid.lr: a range takes from, to, n and log",
                   sweep{grid = {lr = {from = 0.1, to = 1, n = 2, step = 1}}})
    assert.matches("grid: momentum has no hyper%-parameter 'lrr' %(it takes lr, beta, or scale%)",
                   sweep{grid = {lrr = 0.1}})
    assert.matches("lr is required: set it in the rule or make it an axis", sweep{grid = {beta = 0.5}})
    assert.matches("grid.lr%[2%] is a string, not a number", sweep{grid = {lr = {0.1, "x"}}})
  end)

  it("grids so large they would exhaust memory, before running anything", function()
    local t0 = ms.util.clock()
    local err = sweep{grid = {lr = {from = 1e-6, to = 1, n = 1000000, log = true},
                              beta = {from = 0, to = 0.99, n = 1000000}}}
    assert.matches("a sweep of 1e%+12 points needs 29.1 TiB for its results, more than half of " ..
                   "this machine's [%d.]+ [KMGT]iB: split it into shards or use a coarser grid", err)
    assert.is_true(ms.util.clock() - t0 < 1)
  end)

  it("options that make no sense", function()
    assert.matches("option 'grid' %(or 'points'%) is required", sweep{})
    assert.matches("give grid or points, not both", sweep{grid = {lr = 0.1}, points = {{lr = 0.1}}})
    assert.matches("option 'objective' %(an ms.objective%) is required",
                   h.error_of(ms.sweep, {rule = "gd", x0 = x0, grid = {lr = 0.1}}))
    assert.matches("no built%-in rule 'moment'", sweep{rule = "moment", grid = {lr = 0.1}})
    assert.matches("x0 has 3 entries but the objective takes 2", sweep{x0 = {1, 2, 3}, grid = {lr = 0.1}})
    assert.matches("measure must be 'loss', 'rate' or 'steps', got 'speed'",
                   sweep{grid = {lr = 0.1}, measure = "speed"})
    assert.matches("shard must be {i, n}", sweep{grid = {lr = 0.1}, shard = {3, 2}})
    assert.matches("steps must be in %[0, ", sweep{grid = {lr = 0.1}, steps = -1})
    assert.matches("unknown option 'step'", sweep{grid = {lr = 0.1}, step = 10})
    assert.matches("points%[2%].beta must be a number", sweep{points = {{lr = 0.1, beta = 0.5}, {lr = 0.2}}})
    assert.matches("points: point 2: beta must be in %[0, 1%), got 1.5",
                   sweep{points = {{lr = 0.1, beta = 0.5}, {lr = 0.2, beta = 1.5}}})
    assert.matches("xstar must have as many entries as x0", sweep{grid = {lr = 0.1}, xstar = {0}})
    assert.matches("steps to a tolerance need the minimum f%*",
                   sweep{objective = ms.objective{dim = 2, f = function(x) return x[1]^2 + x[2]^2 end},
                         grid = {lr = 0.1}, measure = "steps"})
  end)
end)

describe("ms.sweep's messages, the same under both interpreters", function()
  local native = require "momsandbox.native"
  local function msg(fn, ...)
    return (h.error_of(fn, ...):gsub("^[^:\n]*:%d+: ", ""))
  end
  local function sweep(opts)
    opts.objective = opts.objective or f
    opts.rule = opts.rule or "momentum"
    opts.x0 = opts.x0 or x0
    return msg(ms.sweep, opts)
  end
  local bad = "bad argument #1 to 'sweep' ("

  it("name the option and the smallest wrong key", function()
    assert.are.equal("bad argument #1 to 'sweep' (table expected, got number)", msg(ms.sweep, 1))
    assert.are.equal(bad .. "unknown option 'step' (expected one of: objective, rule, x0, grid, " ..
                     "points, steps, measure, tol, xstar, fstar, threads, shard, progress, fast))",
                     sweep{grid = {lr = 0.1}, zz = 1, step = 10})
    assert.are.equal(bad .. "option 'x0' (the starting point) is required)",
                     msg(ms.sweep, {objective = f, rule = "gd", grid = {lr = 0.1}}))
    assert.are.equal(bad .. "objective must be a momsandbox.objective, got string)",
                     sweep{objective = "f", grid = {lr = 0.1}})
    assert.are.equal(bad .. "rule must be a momsandbox.rule or the name of a built-in one, got number)",
                     sweep{rule = 1, grid = {lr = 0.1}})
    assert.are.equal(bad .. "no built-in rule 'moment')", sweep{rule = "moment", grid = {lr = 0.1}})
    assert.are.equal(bad .. "grid: momentum has no hyper-parameter 'aa' (it takes lr, beta, or scale))",
                     sweep{grid = {zz = 1, lrr = 0.1, aa = 2, lr = 0.1}})
    assert.are.equal(bad .. "grid.lr must be a number, a list of numbers or {from =, to =, n =}, got string)",
                     sweep{grid = {lr = "x"}})
    assert.are.equal(bad .. "grid.lr[2] is a string, not a number)", sweep{grid = {lr = {0.1, "x"}}})
    assert.are.equal(bad .. "grid.lr: 'to' must be a number, got nil)", sweep{grid = {lr = {from = 1, n = 2}}})
    assert.are.equal(bad .. "grid: lr: empty range (n = 0))", sweep{grid = {lr = {from = 0.1, to = 1, n = 0}}})
    assert.are.equal(bad .. "x0[1] is a boolean, not a number)", sweep{x0 = {true}, grid = {lr = 0.1}})
    assert.are.equal(bad .. "x0 has 3 entries but the objective takes 2)", sweep{x0 = {1, 2, 3}, grid = {lr = 0.1}})
    assert.are.equal(bad .. "points[2].beta must be a number, got nil (every point names the same parameters))",
                     sweep{points = {{lr = 0.1, beta = 0.5}, {lr = 0.2}}})
    assert.are.equal(bad .. "points[2] names other parameters than points[1])",
                     sweep{points = {{lr = 0.1}, {lr = 0.2, beta = 0.5}}})
    assert.are.equal(bad .. "points: point 2: beta must be in [0, 1), got 1.5)",
                     sweep{points = {{lr = 0.1, beta = 0.5}, {lr = 0.2, beta = 1.5}}})
    assert.are.equal(bad .. "measure must be 'loss', 'rate' or 'steps', got 'speed')",
                     sweep{grid = {lr = 0.1}, measure = {"loss", "speed"}})
    assert.are.equal(bad .. "option 'steps' must be an integer, got 2.5)", sweep{grid = {lr = 0.1}, steps = 2.5})
    assert.are.equal(bad .. "threads must be in [0, 1024])", sweep{grid = {lr = 0.1}, threads = 2000})
    assert.are.equal(bad .. "shard must be {i, n}: part i of n, 1 <= i <= n)", sweep{grid = {lr = 0.1}, shard = {0, 2}})
    assert.are.equal(bad .. "xstar must have as many entries as x0)", sweep{grid = {lr = 0.1}, xstar = {0}})
    assert.are.equal("lr is required: set it in the rule or make it an axis", sweep{grid = {beta = 0.5}})
  end)

  it("of results, of closed results and of metamethods called on anything", function()
    local res = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = 5, progress = false,
                         grid = {lr = {0.1, 0.2, 0.3}, beta = {0, 0.5}}}
    assert.are.equal("bad argument #1 to '__index' (point 7 out of range (sweep of 6))",
                     msg(function() return res[7] end))
    assert.are.equal("bad argument #1 to '__index' (number has no integer representation)",
                     msg(function() return res[1.5] end))
    assert.are.equal("bad argument #1 to 'column' (string expected, got number)", msg(res.column, res, 1))
    assert.are.equal("bad argument #1 to 'column' (no axis or measure 'speed')", msg(res.column, res, "speed"))
    assert.are.equal("bad argument #1 to 'best' (the sweep did not measure rate)", msg(res.best, res, "rate"))
    assert.are.equal("bad argument #1 to 'heatmap' (table expected, got number)", msg(res.heatmap, res, 1))
    assert.are.equal("bad argument #2 to 'csv' (unknown option 'head' (expected one of: header))",
                     msg(res.csv, res, "x.csv", {head = true}))
    assert.are.equal("bad argument #1 to 'csv' (contains a zero byte)", msg(res.csv, res, "a\0b"))
    local one = ms.sweep{objective = f, rule = "gd", x0 = x0, steps = 5, progress = false, grid = {lr = {0.1, 0.2}}}
    assert.are.equal("a matrix needs a grid of two axes", msg(one.matrix, one))
    local part = ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = 5, progress = false,
                          grid = {lr = {0.1, 0.2, 0.3}, beta = {0, 0.5}}, shard = {2, 2}}
    assert.are.equal("a matrix needs the whole grid, not a shard", msg(part.matrix, part))
    local mt = getmetatable(res)   -- LuaJIT hides a cdata's metatable ("ffi")
    if type(mt) == "table" then
      assert.are.equal("calling '__index' on bad self (momsandbox.sweep expected, got nil)",
                       msg(mt.__index, nil, 1))
      assert.are.equal("calling '__tostring' on bad self (momsandbox.sweep expected, got table)",
                       msg(mt.__tostring, {}))
      assert.are.equal("calling '__len' on bad self (momsandbox.sweep expected, got number)", msg(mt.__len, 1))
      if mt.__gc then mt.__gc(nil); mt.__gc({}) end   -- nothing to free, no crash
    end
    native.close(res)
    native.close(res)   -- twice: harmless
    for name, call in pairs{column = function() return res:column("lr") end,
                            __len = function() return #res end,
                            __tostring = function() return tostring(res) end,
                            __index = function() return res[1] end} do
      assert.are.equal(("calling '%s' on bad self (sweep has been closed)"):format(name), msg(call))
    end
    assert.is_nil(native.sweep_data(res))
    assert.is_false(pcall(native.write_csv, res, "x.csv"))
  end)

  it("the primitives refuse any value without crashing", function()
    local values = {nil, 1, "x", {}, true, print, io.stdout, 0 / 0, ms.vec{1}}
    for i = 1, 9 do
      local v = values[i]
      pcall(native.sweep_data, v, v)
      pcall(native.write_csv, v, "x.csv")
      pcall(native.sweep_new, v, v, v, v, v)
      pcall(native.sweep_new, f, native.rule_new("gd"), ms.vec(x0), v, v)
      local sw = native.sweep_new(f, native.rule_new("gd"), ms.vec(x0))
      pcall(native.sweep_grid, sw, v, v, v, v, v)
      pcall(native.sweep_grid, sw, "lr", v, v, v, v)
      pcall(native.sweep_grid, sw, {"lr", v}, ms.vec{0.1, 0.2}, 1)
      pcall(native.sweep_grid, v, "lr", ms.vec{0.1})
      pcall(native.sweep_run, sw, v, v, v, v, v, v, v, v)
      pcall(native.sweep_run, sw, 10, 1, nil, 1, 0, 1, true, v)
      pcall(native.sweep_run, v, v, v, v, v, v, v, v, v)
      pcall(native.sweep_data, sw, v)
    end
    -- a count that does not match the values, however large
    for _, count in ipairs{3, 2^31, 2^62, -1} do
      local sw = native.sweep_new(f, native.rule_new("gd"), ms.vec(x0))
      assert.is_false(pcall(native.sweep_grid, sw, {"lr"}, ms.vec{0.1, 0.2}, count))
    end
    -- a closed objective is refused by the run
    local g = ms.objective.quadratic{1, 2}
    local sw = native.sweep_new(g, native.rule_new("gd"), ms.vec(x0))
    assert.is_true(native.sweep_grid(sw, "lr", ms.vec{0.1}))
    native.close(g)
    assert.is_false(pcall(native.sweep_run, sw, 10, 1, nil, 1, 0, 1, true))
  end)
end)

describe("ms.sweep, what issue #10 found broken", function()
  local plot = require "momsandbox.plot"

  -- The options res:heatmap hands ms.plot.heatmap, without drawing.
  local function heatmap_options(res, opts)
    local draw, got = plot.heatmap, nil
    plot.heatmap = function(o) got = o end
    local ok, err = pcall(res.heatmap, res, opts)
    plot.heatmap = draw
    assert(ok, err)
    return got
  end

  local function grid_sweep(nx, ny)
    return ms.sweep{objective = f, rule = "momentum", x0 = x0, steps = 10, progress = false,
                    grid = {lr = {from = 0.001, to = 0.5, n = nx, log = true},
                            beta = {from = 0, to = 0.9, n = ny}}}
  end

  for _, size in ipairs{{120, 96}, {96, 120}} do
    local nx, ny = size[1], size[2]
    it(("draws the log of every cell of a %d x %d sweep"):format(nx, ny), function()
      local res = grid_sweep(nx, ny)
      local o = heatmap_options(res, {log = true})
      local _, _, z = res:matrix()
      assert.are.equal(ny, #o.z)
      assert.are.equal(nx, #o.x)
      assert.are.equal(ny, #o.y)
      for i = 1, ny do
        assert.are.equal(nx, #o.z[i])
        for j = 1, nx do
          local want = math.log(z[i][j]) / math.log(10)
          assert(math.abs(o.z[i][j] - want) <= 1e-12 * math.max(1, math.abs(want)),
                 ("z[%d][%d] = %s, log10 of %s"):format(i, j, o.z[i][j], z[i][j]))
        end
      end
      assert.are.same({"log10 lr", "beta", "log10 loss"}, {o.xlabel, o.ylabel, o.cblabel})
    end)
  end

  it("reads points up to their raw length, whatever __len and __index say", function()
    local liar = {__len = function() return 2^62 end, __index = function() return {lr = 0.3} end}
    for _, len in ipairs{2^62, 2^31, 2^53, -1} do
      liar.__len = function() return len end
      local res = ms.sweep{objective = f, rule = "gd", x0 = x0, steps = 2, progress = false,
                           points = setmetatable({{lr = 0.1}, {lr = 0.2}}, liar)}
      assert.are.equal(2, #res)
      assert.are.same({0.1, 0.2}, res:column("lr"))
    end
    local res = ms.sweep{objective = f, rule = "gd", x0 = setmetatable({1, 2}, liar), steps = 1,
                         progress = false, grid = setmetatable({lr = setmetatable({0.1}, liar)}, liar),
                         measure = setmetatable({"loss"}, liar)}
    assert.are.equal(1, #res)
  end)

  it("draws the same heat map, byte for byte, under Lua 5.4 and LuaJIT", function()
    if not ms.plot.available() then return pending("gnuplot is not installed") end
    local lua54, jit = h.shquote(h.build .. "/momsandbox"), h.jit()
    if not io.open(h.build .. "/momsandbox-jit") then return pending("no LuaJIT build") end
    local dir = h.tmpdir()
    h.write(dir .. "/map.lua", [[
      local res = ms.sweep{objective = ms.objective.quadratic{0.2, 4}, rule = "momentum",
                           x0 = {-5, -2}, steps = 20, progress = false,
                           grid = {lr = {from = 0.001, to = 1, n = 120, log = true},
                                   beta = {from = 0, to = 0.9, n = 96}}}
      res:heatmap{log = true, file = arg[1], title = "log10 loss"}
      print(tostring(res):gsub(", [%d.e+-]+ s;", ";"):gsub("%d+ threads", "N threads"))
      print(res:csv(arg[2]) == res, #res, res.total, res.first, res.diverged)]])
    local outs = {}
    for i, bin in ipairs{lua54, jit} do
      local status, out, err = h.run(("%s %s %s %s"):format(bin, h.shquote(dir .. "/map.lua"),
                                     h.shquote(dir .. "/" .. i .. ".svg"), h.shquote(dir .. "/" .. i .. ".csv")))
      assert.are.equal(0, status, err)
      outs[i] = out
    end
    assert.are.equal(outs[1], outs[2])
    assert.are.equal(h.read(dir .. "/1.svg"), h.read(dir .. "/2.svg"))
    assert.are.equal(h.read(dir .. "/1.csv"), h.read(dir .. "/2.csv"))
    h.rmtree(dir)
  end)
end)
