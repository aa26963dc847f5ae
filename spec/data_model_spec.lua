-- ms.data and ms.model under both interpreters: the exact messages, tables
-- whose __len and __index lie, metamethods and methods called with wrong
-- selves, closed data sets and models, and primitives given bad values.
local ms = require "momsandbox"
local native = require "momsandbox.native"
local h = require "spec.helpers"

local function liar(t, len)
  return setmetatable(t, {__len = function() return len end,
                          __index = function() return 99 end})
end

-- The message of err without the position of the call in this file.
local function plain(err) return (err:gsub("^spec/[%w_]+%.lua:%d+: ", "")) end

-- The metatable of v's kind, where a script can get it (LuaJIT gives
-- "ffi" for a cdata's).
local function mt_of(v) return type(getmetatable(v)) == "table" and getmetatable(v) or nil end

local function sample()
  return ms.data.from{X = {{1, 2}, {3, 5}, {4, 4}}, y = {1, 0, 1}}
end

describe("ms.data.from and synthetic", function()
  local from = ms.data.from
  local function bad(msg) return "bad argument #1 to 'from' (" .. msg .. ")" end

  it("say what is wrong, in the same words under both interpreters", function()
    local cases = {
      {{X = {{1, 2}, {3}}, y = {1, 2}}, "X[2] has 1 numbers, expected 2 as X[1]"},
      {{X = {{1}, {2}}, y = {1, 2, 3}}, "X has 2 rows but y has 3 labels"},
      {{X = {{1, "a"}}, y = {1}}, "X[1][2] is a string, not a number"},
      {{X = {{1}, {2}}, y = {1, true}}, "y[2] is a boolean, not a number"},
      {{X = {{1}, 7}, y = {1, 2}}, "X[2] must be a ms.vec or a table of numbers, got number"},
      {{X = {{}}, y = {1}}, "X[1] must be a non-empty row of numbers"},
      {{X = 5, y = {1}}, "X must be a table of rows, got number"},
      {{X = {{1}}, y = "s"}, "y must be a ms.vec or a table of numbers, got string"},
      {{X = {{1}}}, "y (the labels) is required"},
      {{X = {}, y = {}}, "a data set needs at least one example"},
      {{X = {{1}}, Y = {1}, b = 2}, "unknown option 'Y' (expected one of: X, y)"},
    }
    for _, case in ipairs(cases) do assert.are.equal(bad(case[2]), h.error_of(from, case[1])) end
    assert.are.equal("bad argument #1 to 'from' (table expected, got nil)", h.error_of(from))
    assert.are.equal("bad argument #1 to 'synthetic' (n must be >= 1)",
                     h.error_of(ms.data.synthetic, {w = {1}, n = 0}))
    assert.are.equal("bad argument #1 to 'synthetic' (w must hold at least one weight)",
                     h.error_of(ms.data.synthetic, {w = {}}))
    assert.are.equal("bad argument #1 to 'synthetic' (option 'seed' must be an integer, got 0.5)",
                     h.error_of(ms.data.synthetic, {w = {1}, seed = 0.5}))
  end)

  it("read tables up to their raw length, never through __index", function()
    local d = from{X = liar({liar({1, 2}, 9), {3, 4}}, 1), y = liar({5, 6}, 0)}
    assert.are.equal(2, #d)
    assert.are.same({1, 2}, d:x(1):totable())
    assert.are.same({5, 6}, d:labels())
    assert.are.equal(bad("X[2] has 1 numbers, expected 2 as X[1]"),
                     h.error_of(from, {X = {{1, 2}, liar({3}, 2)}, y = {1, 2}}))
    local s = ms.data.synthetic{w = liar({2}, 5), n = 3}
    assert.are.equal(1, s.features)
  end)

  it("refuse more than 2^30 numbers, before reading them", function()
    local row, X, y = {}, {}, {}
    for j = 1, 2048 do row[j] = j end
    for i = 1, 2^20 do X[i], y[i] = row, 0 end
    assert.are.equal(bad("X is too large (1048576 x 2048 entries)"), h.error_of(from, {X = X, y = y}))
  end)
end)

describe("data sets", function()
  it("answer fields, indices and methods", function()
    local d = sample()
    assert.are.equal("data{3 examples, 2 features}", tostring(d))
    assert.are.same({3, 2}, {d.n, d.features})
    assert.are.same({4, 4}, d[-1].x:totable())
    assert.are.equal(1, d[3].y)
    assert.are.same({2, 5, 4}, d:column(2))
    assert.is_nil(d.nothing)
    assert.are.equal("bad argument #1 to 'x' (example 0 out of range (3 examples))",
                     h.error_of(d.x, d, 0))
    assert.are.equal("bad argument #1 to 'y' (number expected, got nil)", h.error_of(d.y, d))
    assert.are.equal("bad argument #1 to 'column' (column out of range (1 .. 3; 3 is the label))",
                     h.error_of(d.column, d, 4))
    assert.are.equal("bad argument #1 to '__index' (example 4 out of range (3 examples))",
                     plain(h.error_of(function() return d[4] end)))
  end)

  it("refuse wrong selves in methods and metamethods", function()
    local d = sample()
    local mt = mt_of(d)
    for _, self in ipairs{false, 1, "s", {}, ms.model.linreg(1)} do
      local got = h.error_of(d.x, self, 1)
      assert.are.equal("calling 'x' on bad self (momsandbox.data expected, got " ..
                       (type(self) == "boolean" and "boolean" or
                        type(self) == "number" and "number" or type(self) == "string" and "string"
                        or type(self) == "table" and "table" or "momsandbox.model") .. ")", got)
    end
    if mt then
      assert.are.equal("calling '__index' on bad self (momsandbox.data expected, got nil)",
                       h.error_of(mt.__index, nil, 1))
      assert.are.equal("calling '__index' on bad self (momsandbox.data expected, got nil)",
                       h.error_of(mt.__index, nil, "n"))
      assert.are.equal("calling '__len' on bad self (momsandbox.data expected, got nil)",
                       h.error_of(mt.__len, nil))
      assert.are.equal("calling '__tostring' on bad self (momsandbox.data expected, got number)",
                       h.error_of(mt.__tostring, 5))
    end
    assert.are.equal("calling 'labels' on bad self (momsandbox.data expected, got table)",
                     h.error_of(d.labels, {}))
  end)

  it("closed, are refused and kept for the objectives made of them", function()
    local d, m = sample(), ms.model.linreg(2)
    local o = m:objective(d)
    native.close(d)
    native.close(d)
    local closed = "calling '%s' on bad self (data set has been closed)"
    assert.are.equal(closed:format("x"), h.error_of(d.x, d, 1))
    assert.are.equal(closed:format("__len"), plain(h.error_of(function() return #d end)))
    assert.are.equal(closed:format("__tostring"), h.error_of(tostring, d))
    assert.are.equal(closed:format("__index"), plain(h.error_of(function() return d.n end)))
    assert.are.equal("bad argument #1 to 'loss' (data set has been closed)",
                     h.error_of(m.loss, m, d, {0, 0, 0}))
    collectgarbage()
    assert.are.equal(1 / 3, o({0, 0, 0}))   -- 1/2 of the mean of 1, 0, 1
  end)
end)

describe("models", function()
  it("say what is wrong, in the same words under both interpreters", function()
    local m, d = ms.model.linreg(2), sample()
    assert.are.equal("bad argument #1 to 'linreg' (features must be an integer >= 1)",
                     h.error_of(ms.model.linreg, 0))
    assert.are.equal("bad argument #1 to 'logreg' (unknown option 'loss' (expected one of: " ..
                     "features, weight_std, bias_init))",
                     h.error_of(ms.model.logreg, {features = 1, loss = "mse"}))
    assert.are.equal("bad argument #1 to 'linreg' (bias_init must be one of \"zero\", " ..
                     "\"uniform\", got number)", h.error_of(ms.model.linreg, {features = 1,
                                                                             bias_init = 1}))
    assert.are.equal("bad argument #2 to 'loss' (params has 2 entries, expected 3 (weights, " ..
                     "then the bias))", h.error_of(m.loss, m, d, {1, 2}))
    assert.are.equal("bad argument #2 to 'evaluate' (params must be a ms.vec or a table of " ..
                     "numbers, got string)", h.error_of(m.evaluate, m, d, "p"))
    assert.are.equal("bad argument #3 to 'loss' (rows must not be empty)",
                     h.error_of(m.loss, m, d, {0, 0, 0}, {}))
    assert.are.equal("bad argument #3 to 'loss' (rows[1] is not an example (1 .. 3))",
                     h.error_of(m.loss, m, d, {0, 0, 0}, {1.5}))
    assert.are.equal("bad argument #2 to 'predict' (x has 1 entries, expected 2)",
                     h.error_of(m.predict, m, {0, 0, 0}, {1}))
    assert.are.equal("bad argument #1 to 'objective' (the model takes 1 features but the data " ..
                     "has 2)", h.error_of(ms.model.linreg(1).objective, ms.model.linreg(1), d))
    assert.are.equal("logreg has no closed-form optimum",
                     h.error_of(ms.model.logreg(2).optimum, ms.model.logreg(2), d))
    assert.are.equal("bad argument #1 to 'init' (number has no integer representation)",
                     h.error_of(m.init, m, 0.5))
  end)

  it("read rows up to their raw length, never through __index", function()
    local m, d = ms.model.linreg(2), sample()
    local all = m:loss(d, {1, 1, 0})
    assert.are.equal(all, (m:loss(d, {1, 1, 0}, liar({1, 2, 3}, 1))))
    assert.are.equal(0.5 * (3 - 1) ^ 2, (m:loss(d, {1, 1, 0}, liar({1}, 3))))
  end)

  it("refuse wrong selves and, closed, every use", function()
    local m = ms.model.linreg(1)
    local mt = mt_of(m)
    assert.are.equal("calling 'init' on bad self (momsandbox.model expected, got momsandbox.data)",
                     h.error_of(m.init, sample()))
    if mt then
      assert.are.equal("calling '__tostring' on bad self (momsandbox.model expected, got nil)",
                       h.error_of(mt.__tostring, nil))
      assert.are.equal("calling '__index' on bad self (momsandbox.model expected, got string)",
                       h.error_of(mt.__index, "x", "features"))
    end
    native.close(m)
    assert.are.equal("calling 'init' on bad self (model has been closed)", h.error_of(m.init, m))
    assert.are.equal("calling '__index' on bad self (model has been closed)",
                     plain(h.error_of(function() return m.features end)))
    assert.matches("model has been closed",
                   h.error_of(ms.train, {model = m, data = sample(), rule = ms.gd{lr = 0.1}}))
  end)
end)

describe("the data and model primitives", function()
  it("let no value crash them", function()
    local d, m = sample(), ms.model.linreg(2)
    local values = {nil, 1, -1, 0 / 0, 2^62, "load", "x\0y", {}, true, d, m, print,
                    ms.vec{1, 2}, ms.vec{}}
    local function try(f, ...) pcall(f, ...) end
    for _, a in pairs(values) do
      for _, b in pairs(values) do
        try(native.data_get, a, b)
        try(native.data_get, d, a, b)
        try(native.data_info, a, b)
        try(native.model_call, a, b)
        for _, op in ipairs{"info", "loss", "evaluate", "predict", "optimum", "init", "objective"} do
          try(native.model_call, m, op, a, b)
          try(native.model_call, m, op, d, a, b)
        end
        try(native.model_new, "linreg", a, b, 0.1, 0)
        try(native.model_new, a, 2, 0, b, 0)
        for _, how in ipairs{"from", "synthetic", "load"} do
          try(native.data_new, how, a, b, 1, 1)
          try(native.data_new, how, ms.vec{1, 2}, ms.vec{1}, a, b)
        end
      end
    end
    assert.is_nil(native.data_get(d, 4))
    assert.is_nil(native.data_get(d, 1, 4))
    assert.are.equal(1, native.data_get(d, 1, 3))
    local nothing, msg, code = native.data_new("load", "/nonexistent/x")
    assert.are.same({nil, "cannot open /nonexistent/x: No such file or directory", "EIO"},
                    {nothing, msg, code})
  end)
end)
