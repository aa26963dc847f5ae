-- ms.model and ms.train: gradients against finite differences, the loop
-- against gradient descent by hand, every example once per epoch,
-- reproducible runs, every kind of rule, the result object and bad input.
local ms = require "momsandbox"
local h = require "spec.helpers"

local data = ms.data.synthetic{w = {2, -3.4, 1}, b = 4.2, n = 200, noise = 0.1, seed = 1}
local linreg = ms.model.linreg(3)

local function train(opts)
  opts.model = opts.model or linreg
  opts.data = opts.data or data
  opts.rule = opts.rule or ms.momentum{lr = 0.01, beta = 0.9}
  return ms.train(opts)
end

describe("ms.model", function()
  it("has gradients that match central finite differences", function()
    local p = {0.3, -0.2, 0.1, 0.5}
    local models = {linreg, ms.model.linreg{features = 3, loss = "mse"}, ms.model.logreg(3)}
    local labels01 = ms.data.from{X = {{1, 0, 2}, {0, 1, -1}, {1, 1, 1}, {-2, 0.5, 0}},
                                  y = {1, 0, 0.3, 1}}
    for _, m in ipairs(models) do
      local d = m.name == "logreg" and labels01 or data
      for _, rows in ipairs{{}, {3, 1, 2}} do
        local _, g = m:loss(d, p, rows[1] and rows or nil)
        for j = 1, 4 do
          local q = {table.unpack(p)}
          q[j] = p[j] + 1e-6
          local up = m:loss(d, q, rows[1] and rows or nil)
          q[j] = p[j] - 1e-6
          local down = m:loss(d, q, rows[1] and rows or nil)
          local fd = (up - down) / 2e-6
          assert.is_true(math.abs(g[j] - fd) <= 1e-6 * math.max(1, math.abs(fd)),
                         ("%s: d/dp%d = %.12g, finite differences %.12g"):format(tostring(m), j, g[j], fd))
        end
      end
      local err = ms.gradcheck(m:objective(d), p)
      assert.is_true(err < 1e-7, tostring(m))
    end
  end)

  it("computes d2l's squared loss, PyTorch's MSE and predictions", function()
    local d = ms.data.from{X = {{1}, {2}}, y = {1, 5}}
    local p = {2, 0.5}                                   -- residuals 1.5, -0.5
    local sq, mse = ms.model.linreg(1), ms.model.linreg{features = 1, loss = "mse"}
    local loss, g = sq:loss(d, p)
    assert.are.equal(0.625, loss)
    assert.are.same({0.25, 0.5}, g:totable())
    loss, g = mse:loss(d, p)
    assert.are.equal(1.25, loss)
    assert.are.same({0.5, 1}, g:totable())
    assert.are.equal(0.625, mse:evaluate(d, p))          -- reported halved, as d2l does
    assert.are.equal(0.125, (sq:loss(d, p, {2})))
    assert.are.equal(4.5, sq:predict(p, {2}))
    assert.are.equal(1 / (1 + math.exp(-4.5)), ms.model.logreg(1):predict(p, {2}))
  end)

  it("finds the least-squares optimum", function()
    local clean = ms.data.synthetic{w = {2, -3.4, 1}, b = 4.2, n = 30, noise = 0, seed = 2}
    local p, loss = linreg:optimum(clean)
    assert.is_true(h.near(p:totable(), {2, -3.4, 1, 4.2}, 1e-12))
    assert.is_true(loss < 1e-24)
    assert.matches("linearly dependent",
                   h.error_of(ms.model.linreg(2).optimum, ms.model.linreg(2),
                              ms.data.from{X = {{1, 2}, {2, 4}, {3, 6}}, y = {1, 2, 4}}))
    assert.matches("logreg has no closed%-form optimum",
                   h.error_of(ms.model.logreg(3).optimum, ms.model.logreg(3),
                              ms.data.from{X = {{1, 2, 3}}, y = {1}}))
  end)

  it("describes itself and checks its options", function()
    assert.are.equal("linreg{features=3}", tostring(linreg))
    assert.are.equal("linreg{features=5, loss=mse, bias_init=uniform}",
                     tostring(ms.model.linreg{features = 5, loss = "mse", bias_init = "uniform"}))
    assert.are.equal("logreg{features=2, weight_std=0.1}", tostring(ms.model.logreg{features = 2, weight_std = 0.1}))
    assert.are.equal(3, linreg.features)
    assert.are.equal(4, linreg.nparams)
    assert.are.equal("linreg", linreg.name)
    assert.matches("loss must be one of \"squared\", \"mse\", \"logistic\", got l2",
                   h.error_of(ms.model.linreg, {features = 2, loss = "l2"}))
    assert.matches("use ms.model.logreg", h.error_of(ms.model.linreg, {features = 2, loss = "logistic"}))
    assert.matches("unknown option 'loss'", h.error_of(ms.model.logreg, {features = 2, loss = "mse"}))
    assert.matches("features must be an integer >= 1", h.error_of(ms.model.linreg, 0))
    assert.matches("weight_std must be a finite number >= 0",
                   h.error_of(ms.model.linreg, {features = 1, weight_std = -1}))
    assert.matches("params has 3 entries, expected 4", h.error_of(linreg.loss, linreg, data, {1, 2, 3}))
    assert.matches("rows%[2%] is not an example %(1 .. 200%)",
                   h.error_of(linreg.loss, linreg, data, {0, 0, 0, 0}, {1, 201}))
    assert.matches("the model takes 2 features but the data has 3",
                   h.error_of(ms.model.linreg(2).loss, ms.model.linreg(2), data, {0, 0, 0}))
  end)
end)

describe("ms.train", function()
  it("with batch = n, one epoch is one step of gradient descent, by hand", function()
    local X, y = {{1, 2}, {-1, 0.5}, {3, -2}}, {1, -1, 2}
    local d = ms.data.from{X = X, y = y}
    local init = {0.5, -0.25, 0.125}
    local res = ms.train{model = ms.model.linreg(2), data = d, rule = ms.gd{lr = 0.1},
                         batch = 3, epochs = 1, init = init}
    local g = {0, 0, 0}
    for i = 1, 3 do
      local r = X[i][1] * init[1] + X[i][2] * init[2] + init[3] - y[i]
      g[1], g[2], g[3] = g[1] + r * X[i][1], g[2] + r * X[i][2], g[3] + r
    end
    local expected = {}
    for j = 1, 3 do expected[j] = init[j] - 0.1 * g[j] / 3 end
    assert.are.equal(1, res.steps)
    assert.is_true(h.near(res.params:totable(), expected, 1e-15))
    assert.are.same(init, res.init:totable())
    assert.is_true(h.near(res.w:totable(), {expected[1], expected[2]}, 1e-15))
    assert.is_true(h.near(res.b, expected[3], 1e-15))
  end)

  it("visits every example exactly once per epoch, in a new order each epoch", function()
    -- one-hot features, labels 1, all parameters 0: the gradient of w_i is
    -- nonzero exactly when example i is in the minibatch
    local n, X, y = 23, {}, {}
    for i = 1, n do
      X[i], y[i] = {}, 1
      for j = 1, n do X[i][j] = i == j and 1 or 0 end
    end
    local batches = {}
    local spy = ms.rule{name = "spy", hyper = {lr = 0.1}, step = function(p, g)
      local seen = {}
      for i = 1, n do if g[i] ~= 0 then seen[#seen + 1] = i end end
      batches[#batches + 1] = seen
    end}
    local zeros = {}
    for j = 1, n + 1 do zeros[j] = 0 end
    local res = ms.train{model = ms.model.linreg(n), data = ms.data.from{X = X, y = y},
                         rule = spy{}, batch = 10, epochs = 3, init = zeros}
    assert.are.equal(9, res.steps)
    assert.are.equal(9, #batches)
    local orders = {}
    for e = 0, 2 do
      local count, order = {}, {}
      for k = 1, 3 do
        assert.are.equal(k < 3 and 10 or 3, #batches[3 * e + k])   -- the last batch smaller
        for _, i in ipairs(batches[3 * e + k]) do
          count[i] = (count[i] or 0) + 1
          order[#order + 1] = i
        end
      end
      for i = 1, n do assert.are.equal(1, count[i], ("epoch %d, example %d"):format(e + 1, i)) end
      orders[e + 1] = table.concat(order, ",")
    end
    assert.are_not.equal(orders[1], orders[2])
  end)

  it("gives the same run, bit for bit, for the same seed", function()
    local a = train{seed = 11, eval_every = 50}
    local b = train{seed = 11, eval_every = 50}
    local c = train{seed = 12, eval_every = 50}
    assert.is_true(h.same_bits(a.params:totable(), b.params:totable()))
    assert.is_true(h.same_bits(a.curve.loss, b.curve.loss))
    assert.is_false(h.same_bits(a.params:totable(), c.params:totable()))
    assert.are.equal(11, a.seed)
    -- the initial draw happens anyway: with the same init given, the same run
    local d = train{seed = 11, eval_every = 50, init = a.init}
    assert.is_true(h.same_bits(a.params:totable(), d.params:totable()))
  end)

  it("records d2l's loss curve and timings in its result", function()
    local res = train{}
    assert.are.equal(2, #res)                          -- 400 examples: at 200 and 400
    assert.are.same({200, 400}, res.curve.examples)
    assert.are.same({1, 2}, res.curve.epoch)
    assert.are.same({examples = 400, epoch = 2, loss = res.loss}, res[-1])
    assert.are.equal(res.curve.loss[2], res.loss)
    assert.are.equal(linreg:evaluate(data, res.params), res.loss)
    assert.are.equal(linreg:evaluate(data, res.init), res.initial_loss)
    assert.are.equal(40, res.steps)
    assert.are.equal(2, res.epochs)
    assert.is_true(res.seconds > 0 and res.wall >= res.seconds)
    assert.is_true(h.near(res.sec_per_epoch, res.seconds / 2, 1e-15))
    assert.is_false(res.diverged)
    assert.is_nil(res.reason)
    assert.are.equal("momentum{lr=0.01, beta=0.9}", res.rule)
    assert.are.equal(linreg, res.model)
    assert.are.equal(data, res.data)
    assert.are.equal(10, res.batch)
    assert.matches("^loss: %d%.%d%d%d, %d%.%d%d%d%d%d%d sec/epoch$", tostring(res))
    assert.matches("point 3 out of range %(curve of 2%)", h.error_of(function() return res[3] end))
    local dir = h.tmpdir()
    res:csv(dir .. "/loss.csv")
    local csv = h.read(dir .. "/loss.csv")
    h.rmtree(dir)
    assert.matches("^examples,epoch,loss\n200,1,[%d.e-]+\n400,2,[%d.e-]+\n$", csv)
    assert.are.equal(res.loss, tonumber(csv:match("400,2,([^\n]+)")))
  end)

  it("evaluates every eval_every examples passed, and at the end", function()
    assert.are.same({150, 300, 400}, train{batch = 50, eval_every = 150}.curve.examples)
    assert.are.same({400}, train{eval_every = 0}.curve.examples)
    local dropped = train{batch = 60, drop_last = true, eval_every = 180}
    assert.are.same({180, 360}, dropped.curve.examples)        -- 3 minibatches of 60 per epoch
    assert.are.same({1, 2}, dropped.curve.epoch)
    assert.are.equal(6, dropped.steps)
    local none = train{epochs = 0}
    assert.are.equal(0, none.steps)
    assert.are.equal(none.initial_loss, none.loss)
    local ordered = train{shuffle = false, init = none.init, seed = 1}
    local same = train{shuffle = false, init = none.init, seed = 99}
    assert.is_true(h.same_bits(ordered.params:totable(), same.params:totable()))
  end)

  it("trains with every built-in rule, Lua-defined rules and schedules", function()
    local opt = select(2, linreg:optimum(data))
    for _, rule in ipairs{ms.gd{lr = 0.05}, ms.momentum{lr = 0.02}, ms.sgd{lr = 0.05, momentum = 0.5},
                          ms.nag{lr = 0.02}, ms.nesterov{lr = 0.02}, ms.qhm{lr = 0.1, beta = 0.9},
                          ms.aggmo{lr = 0.01}, ms.adam{lr = 0.2}, ms.adamw{lr = 0.2},
                          ms.rmsprop{lr = 0.05}, ms.adagrad{lr = 0.5}} do
      local res = train{rule = rule, epochs = 20}
      assert.is_true(res.loss >= opt and res.loss < opt + 0.01, ("%s: %g"):format(rule, res.loss))
    end
    -- a Lua twin of d2l's momentum gives the very same bits
    local heavy_ball = ms.rule{name = "heavy_ball", hyper = {lr = 0.01, beta = 0.9}, state = {"v"},
      step = function(p, g, s, hp) s.v:scale(hp.beta):add(g); p:axpy(-hp.lr, s.v) end}
    assert.is_true(h.same_bits(train{rule = heavy_ball{}}.params:totable(), train{}.params:totable()))
    -- schedules, built-in and Lua functions, follow the steps
    local cosine = train{rule = ms.momentum{lr = ms.schedule.cosine{lr = 0.02, steps = 40}}}
    local by_hand = train{rule = ms.momentum{lr = function(t) return 0.01 * (1 + math.cos(math.pi * (t - 1) / 40)) end}}
    assert.is_true(h.near(cosine.params:totable(), by_hand.params:totable(), 1e-12))
    assert.matches("momentum{lr=", cosine.rule)
  end)

  it("stops at an error in a Lua rule and re-raises it", function()
    local calls = 0
    local bad = ms.rule{name = "bad", hyper = {lr = 0.1}, step = function()
      calls = calls + 1
      if calls == 5 then error("broken step 5") end
    end}
    local err = h.error_of(train, {rule = bad{}})
    assert.matches("^spec/train_spec.lua:%d+: broken step 5", err)
    assert.matches("stack traceback:", err)
    assert.are.equal(5, calls)
  end)

  it("fits logistic regression", function()
    local X, y, rng = {}, {}, ms.rng(4)
    for i = 1, 200 do
      X[i] = {rng:normal(), rng:normal()}
      y[i] = (X[i][1] - X[i][2] + 0.3 * rng:normal() > 0) and 1 or 0
    end
    local d = ms.data.from{X = X, y = y}
    local res = ms.train{model = ms.model.logreg(2), data = d, rule = ms.sgd{lr = 0.5, momentum = 0.5}, epochs = 10}
    assert.is_true(res.initial_loss > 0.6 and res.loss < 0.2)
    assert.is_true(res.w[1] > 1 and res.w[2] < -1)
    assert.matches("logreg needs labels in %[0, 1%], but example %d+ has",
                   h.error_of(ms.train, {model = ms.model.logreg(3), data = data, rule = ms.gd{lr = 0.1}}))
  end)

  it("stops a diverging run and says at which step", function()
    local res = train{rule = ms.momentum{lr = 5, beta = 0.9}, epochs = 50}
    assert.is_number(res.diverged)
    assert.are.equal(res.diverged, res.steps)
    assert.matches("^loss: %-?[infa]+, %d%.%d+ sec/epoch %(diverged at step " .. res.diverged ..
                   ": .* is %-?[infa]+%)$", tostring(res))
    for _, v in ipairs(res.params:totable()) do assert.is_true(v == v and math.abs(v) < math.huge) end
    for _, v in ipairs(res.curve.loss) do assert.is_true(v < math.huge) end
  end)

  it("rejects bad arguments, naming them", function()
    local function err(opts) return h.error_of(train, opts) end
    assert.matches("batch must be >= 1, got 0", err{batch = 0})
    assert.matches("batch must be >= 1, got %-3", err{batch = -3})
    assert.matches("batch = 201 is larger than the data %(200 examples%)", err{batch = 201})
    assert.matches("epochs must be >= 0, got %-1", err{epochs = -1})
    assert.matches("eval_every must be >= 0", err{eval_every = -1})
    assert.matches("the model takes 5 features but the data has 3", err{model = ms.model.linreg(5)})
    assert.matches("init has 3 entries, expected 4", err{init = {0, 0, 0}})
    assert.matches("init%[2%] is not finite", err{init = {0, 0 / 0, 0, 0}})
    assert.matches("init%[2%] is a string, not a number", err{init = {0, "x", 0, 0}})
    assert.matches("option 'batch' must be an integer, got 2.5", err{batch = 2.5})
    assert.matches("unknown option 'epoch'", err{epoch = 3})
    assert.matches("progress must be a boolean", err{progress = "yes"})
    assert.matches("model must be a momsandbox.model %(ms.model.linreg%(d%)%), got nil",
                   h.error_of(ms.train, {data = data, rule = ms.gd{lr = 1}}))
    assert.matches("data must be a momsandbox.data", h.error_of(ms.train, {model = linreg, rule = ms.gd{lr = 1}}))
    assert.matches("rule must be a momsandbox.rule", h.error_of(ms.train, {model = linreg, data = data, rule = 0.1}))
  end)

  it("draws a progress bar on stderr when asked, and otherwise only on a terminal", function()
    local script = [[
      local d = ms.data.synthetic{w = {1, 2}, n = 100}
      local res = ms.train{model = ms.model.linreg(2), data = d, rule = ms.gd{lr = 0.01},
                           epochs = %d, eval_every = 0, progress = %s}
      print(res.steps)
    ]]
    -- 10^7 steps take long enough for a report (after 0.1 s)
    for _, mode in ipairs{"true", "nil"} do
      local epochs = mode == "true" and 1000000 or 1000
      local dir = h.tmpdir()
      h.write(dir .. "/p.lua", script:format(epochs, mode))
      local status, out, err = h.cli(h.shquote(dir .. "/p.lua"))
      h.rmtree(dir)
      assert.are.equal(0, status, err)
      assert.are.equal(10 * epochs .. "\n", out)
      if mode == "true" then
        assert.matches("\r%s*%d+%% %[[#%-]+%] step %d+/10000000, [%d.]+ s, [%d.]+ s left", err)
        assert.matches("\r%s+\r$", err)             -- erased at the end
      else
        assert.are.equal("", err)                    -- stderr is not a terminal here
      end
    end
  end)
end)

describe("ms.train's messages, the same under both interpreters", function()
  local native = require "momsandbox.native"
  local function msg(fn, ...)
    return (h.error_of(fn, ...):gsub("^[^:\n]*:%d+: ", ""))
  end
  local bad = "bad argument #1 to 'train' ("

  it("name the option", function()
    assert.are.equal(bad .. "table expected, got nil)", msg(ms.train))
    assert.are.equal(bad .. "unknown option 'epoch' (expected one of: model, data, rule, batch, epochs, " ..
                     "seed, eval_every, shuffle, drop_last, init, progress))",
                     msg(train, {epoch = 3, zz = 1}))
    assert.are.equal(bad .. "model must be a momsandbox.model (ms.model.linreg(d)), got nil)",
                     msg(ms.train, {data = data, rule = ms.gd{lr = 1}}))
    assert.are.equal(bad .. "rule must be a momsandbox.rule (ms.momentum{...}), got number)",
                     msg(ms.train, {model = linreg, data = data, rule = 0.1}))
    assert.are.equal(bad .. "option 'batch' must be an integer, got 2.5)", msg(train, {batch = 2.5}))
    assert.are.equal(bad .. "batch must be >= 1, got 0)", msg(train, {batch = 0}))
    assert.are.equal(bad .. "init has 3 entries, expected 4 (weights, then the bias))",
                     msg(train, {init = {0, 0, 0}}))
    assert.are.equal(bad .. "init[2] is a string, not a number)", msg(train, {init = {0, "x", 0, 0}}))
    assert.are.equal(bad .. "init must be a ms.vec or a table of numbers, got boolean)", msg(train, {init = true}))
    assert.are.equal(bad .. "progress must be a boolean (default: on a terminal, for runs longer than a second))",
                     msg(train, {progress = 1}))
  end)

  it("reads init up to its raw length, whatever __len and __index say", function()
    local liar = {__len = function() return 2^62 end, __index = function() return 1 end}
    local res = train{init = setmetatable({0, 0, 0, 0}, liar), epochs = 1, progress = false}
    assert.are.same({0, 0, 0, 0}, res.init:totable())
    assert.are.equal(bad .. "init has 2 entries, expected 4 (weights, then the bias))",
                     msg(train, {init = setmetatable({0, 0}, liar)}))
  end)

  it("of results, closed results and metamethods called on anything", function()
    local res = train{epochs = 1, progress = false}
    assert.are.equal("bad argument #1 to '__index' (point 2 out of range (curve of 1))",
                     msg(function() return res[2] end))
    assert.are.equal("bad argument #1 to '__index' (number has no integer representation)",
                     msg(function() return res[0.5] end))
    assert.are.equal("bad argument #1 to 'csv' (string expected, got nil)", msg(res.csv, res))
    assert.are.equal("calling 'csv' on bad self (momsandbox.train expected, got number)", msg(res.csv, 1))
    assert.are.equal(res.curve.loss[1], res[-1].loss)
    local mt = getmetatable(res)   -- LuaJIT hides a cdata's metatable ("ffi")
    if type(mt) == "table" then
      assert.are.equal("calling '__index' on bad self (momsandbox.train expected, got nil)",
                       msg(mt.__index, nil, 1))
      assert.are.equal("calling '__tostring' on bad self (momsandbox.train expected, got table)",
                       msg(mt.__tostring, {}))
      assert.are.equal("calling '__len' on bad self (momsandbox.train expected, got string)", msg(mt.__len, "x"))
      if mt.__gc then mt.__gc(nil); mt.__gc({}) end
    end
    native.close(res)
    native.close(res)
    for name, call in pairs{csv = function() return res:csv("x.csv") end,
                            __len = function() return #res end,
                            __tostring = function() return tostring(res) end,
                            __index = function() return res.loss end} do
      assert.are.equal(("calling '%s' on bad self (result has been closed)"):format(name), msg(call))
    end
    assert.is_nil(native.train_data(res))
    assert.is_false(pcall(native.write_csv, res, "x.csv"))
  end)

  it("the primitives refuse any value without crashing", function()
    local r = ms.gd{lr = 0.01}
    local values = {nil, 1, "x", {}, true, print, io.stdout, 0 / 0, ms.vec{1}, 2^63, -1}
    for i = 1, 11 do
      local v = values[i]
      pcall(native.train_data, v)
      pcall(native.train_run, v, v, v, v, v, v, v, v, v, v, v)
      pcall(native.train_run, linreg, data, r, v, 1, 1, 0, true, false, nil, nil)
      pcall(native.train_run, linreg, data, r, 10, 1, v, 0, true, false, v, v)
      pcall(native.train_run, linreg, data, r, 10, v, 1, v, v, v, nil, nil)
    end
  end)

  it("gives its fields as plain values", function()
    local res = ms.train{model = ms.model.linreg(2), data = ms.data.synthetic{w = {1, 2}, n = 100},
                         rule = ms.gd{lr = 0.01}, epochs = 3, eval_every = 0, progress = false}
    assert.are.same({30, 1, 10, 1, "gd{lr=0.01}", false}, {res.steps, #res, res.batch, res.seed, res.rule,
                                                        res.diverged})
    assert.is_nil(res.reason)
    assert.are.equal("integer", math.type(res.steps))
    assert.are.equal("integer", math.type(res[1].examples))
  end)
end)
