-- The two native layers give the shared API the same primitives: the
-- names listed in lua/momsandbox/primitives.lua, no more, no fewer.
local native = require "momsandbox.native"
local list = require "momsandbox.primitives"

-- One object of each kind, to read its native methods from.
local examples = {
  rng = function() return native.rng_new(1) end,
  rule = function() return native.rule_new("gd") end,
  ruleclass = function() return native.ruleclass_new("c", {}, native.vec_new(0), print) end,
  vec = function() return native.vec_new(1) end,
  data = function() return native.data_new("synthetic", require("momsandbox").vec{1}, 0, 0, 2, 1) end,
  model = function() return native.model_new("linreg", 1, 0, 0.01, 0) end,
  server = function() return (native.server_new(0)) end,
}

describe("the native layer", function()
  it("exports exactly the listed primitives", function()
    local missing, extra = {}, {}
    for name in pairs(list) do
      if not name:find(":", 1, true) and native[name] == nil then missing[#missing + 1] = name end
    end
    for name in pairs(native) do
      if list[name] == nil then extra[#extra + 1] = name end
    end
    table.sort(missing)
    table.sort(extra)
    assert.same({}, missing)
    assert.same({}, extra)
  end)

  it("gives every kind's listed native methods", function()
    for name in pairs(list) do
      local kind, method = name:match("^(%w+):(%w+)$")
      if kind then
        assert.is_truthy(examples[kind], "no example object of kind " .. kind)
        assert.equal("function", type(examples[kind]()[method]), name)
      end
    end
  end)

  it("says the kind of its objects and of nothing else", function()
    assert.equal("rng", native.kind(native.rng_new(1)))
    for kind, make in pairs(examples) do assert.equal(kind, native.kind(make())) end
    for _, v in ipairs{1, "rng", {}, print, io.stdout, true} do
      assert.is_nil(native.kind(v))
    end
  end)

  it("lets no value crash the theory of a rule", function()
    local r, v = native.rule_new("gd"), native.vec_new(1)
    assert.is_true(native.rule_set(r, "lr", 0.1))
    local good = {rule_matrix = {r, 1, 2}, rule_spectrum = {r, 1, 2}, rule_radius = {r, v, 2},
                  rule_region = {r, v, 2, "lr", v, "lr", v}}
    for op, args in pairs(good) do
      assert.is_truthy(native.analysis(op, table.unpack(args, 1, 8)), op)
      for i = 1, #args do
        for _, bad in ipairs{"x", {}, print, true, 0 / 0, -1, 2^70} do
          local try = {table.unpack(args, 1, 8)}
          try[i] = bad
          pcall(native.analysis, op, table.unpack(try, 1, 8))
        end
      end
    end
    assert.has_error(function() native.analysis("rule_nothing", r, 1, 2) end)
  end)

  it("lets no value crash close, class, format or kind", function()
    for _, v in ipairs{1, "x", {}, print, io.stdout, true, 0 / 0} do
      assert.has_error(function() native.close(v) end)
      assert.has_error(function() native.class(v, {}) end)
      native.kind(v)
    end
    assert.has_error(function() native.format("x") end)
    assert.has_error(function() native.class("rng", {}) end)   -- set already
    assert.equal("0.1", native.format(0.1))
  end)
end)

describe("the rule and trace primitives", function()
  local f = require("momsandbox").objective.quadratic{1, 2}

  it("let no value crash them", function()
    local values = {1, "x", {}, print, true, 0 / 0, -1, 2^53, native.rng_new(1)}
    local r = native.rule_new("momentum")
    for _, v in ipairs(values) do
      pcall(native.rule_new, v, v)
      pcall(native.rule_set, v, "lr", 1)
      pcall(native.rule_set, r, v, v)
      pcall(native.rule_set, r, "lr", v)
      pcall(native.rule_op, v, "check")
      pcall(native.rule_op, r, v, v, v)
      pcall(native.rule_op, r, "step", v, v)
      pcall(native.ruleclass_new, v, v, v, v, v)
      pcall(native.ruleclass_new, "c", {v}, native.vec_new(0), print, v)
      pcall(native.ruleclass_new, "c", {"lr", v}, native.vec_new(6, 1), print)
      pcall(native.ruleclass_new, "c", {"lr"}, native.vec_new(6, type(v) == "number" and v or 2),
            print)
      pcall(native.ruleclass_new, "c", {}, native.vec_new(6), print)
      pcall(native.trace_run, v, r, {x0 = {1, 1}, steps = 3})
      pcall(native.trace_run, f, v, {x0 = {1, 1}})
      pcall(native.trace_run, f, r, v)
      pcall(native.trace_run, f, r, {x0 = v, steps = v, every = v})
      pcall(native.trace_run, f, r, {x0 = {1, 1}, steps = v})
      pcall(native.trace_run, f, r, {x0 = {1, v}, every = v})
      pcall(native.trace_get, v, v, v)
      pcall(native.trace_info, v)
      pcall(native.write_csv, v, {})
    end
    assert.is_true(native.rule_set(r, "lr", 0.1))
    local tr = native.trace_run(f, r, {x0 = {1, 1}, steps = 3})
    for _, v in ipairs(values) do
      pcall(native.trace_get, tr, v, v)
      if type(v) ~= "string" and type(v) ~= "number" then pcall(native.write_csv, tr, v) end
    end
    assert.equal(4, (native.trace_info(tr)))
    assert.is_nil(native.trace_get(tr, 5))
    assert.equal(3, native.trace_get(tr, -1))
  end)

  it("trace_run: nil and the argument for whatever the shared Lua must explain", function()
    local r = native.rule_new("gd", nil, {label = "gd{lr=0.1}"})
    native.rule_set(r, "lr", 0.1)
    local function n(...) return select(3, native.trace_run(...)) end
    assert.equal(1, n(r, r, {x0 = {1, 1}}))
    assert.equal(2, n(f, f, {x0 = {1, 1}}))
    for _, opts in ipairs{{}, {x0 = {1, 1}, step = 3}, {x0 = {1, 1}, steps = 2.5},
                          {x0 = {1, 1}, every = "1"}, {x0 = {1, "1"}}, {x0 = {1, nil, 1}},
                          setmetatable({x0 = {1, 1}}, {}), "x"} do
      assert.equal(3, n(f, r, opts))
    end
    assert.same({nil, "x0 has 3 entries but the objective takes 2", 3},
                {native.trace_run(f, r, {x0 = {1, 1, 1}})})
    local tr = native.trace_run(f, r, {x0 = native.vec_new(2), steps = 3, every = 2})
    local len, dim, diverged, reason, label, obj = native.trace_info(tr)
    assert.same({3, 2, 0, true, "gd{lr=0.1}", true}, {len, dim, diverged, reason == nil, label, obj == f})
  end)

  it("refuse closed handles", function()
    local r = native.rule_new("gd")
    native.rule_set(r, "lr", 0.1)
    local tr = native.trace_run(f, r, {x0 = {1, 1}, steps = 3})
    native.close(tr)
    native.close(tr)
    assert.has_error(function() native.trace_info(tr) end, "trace has been closed")
    native.close(r)
    native.close(r)
    assert.has_error(function() native.rule_op(r, "check") end, "rule has been closed")
    assert.same({nil, "rule has been closed", 2}, {native.trace_run(f, r, {x0 = {1, 1}})})
  end)
end)

describe("range_values", function()
  it("gives a sweep's range: its ends exact, spaced evenly or by ratio", function()
    assert.same({0.5}, native.range_values("lr", 0.5, 0.5, 1, false))
    local even = native.range_values("lr", 0.1, 0.4, 4, false)
    assert.equal(4, #even)
    assert.is_true(even[1] == 0.1 and even[4] == 0.4)
    assert.is_true(math.abs(even[2] - 0.2) < 1e-15 and math.abs(even[3] - 0.3) < 1e-15)
    local ratio = native.range_values("lr", 1, 1000, 4, true)
    assert.is_true(ratio[1] == 1 and ratio[4] == 1000)
    assert.is_true(math.abs(ratio[2] - 10) < 1e-13 and math.abs(ratio[3] - 100) < 1e-12)
  end)

  it("refuses what a sweep refuses, in its words, and lets no value crash it", function()
    assert.same({nil, "grid.lr: reversed range (from 1 > to 0.1)", "EINVAL"},
                {native.range_values("grid.lr", 1, 0.1, 3, false)})
    assert.same({nil, "lr: a log range needs from > 0, got 0", "EINVAL"},
                {native.range_values("lr", 0, 1, 3, true)})
    assert.matches("n must be at most 1e6", select(2, pcall(native.range_values, "lr", 1, 2, 2e6)))
    for _, v in ipairs{nil, "x", {}, print, true, 0 / 0, -1, 2^70, 1 / 0} do
      for i = 1, 5 do
        local args = {"lr", 0.1, 1, 3, false}
        args[i] = v
        local ok, values, msg = pcall(native.range_values, table.unpack(args, 1, 5))
        assert.is_true(not ok or values == nil and type(msg) == "string" or #values == args[4])
      end
    end
  end)
end)

describe("the server primitives", function()
  it("let no value crash them, and refuse a closed server", function()
    local values = {1, "x", {}, print, true, 0 / 0, -2, 2^53, native.rng_new(1)}
    local srv, port, token = native.server_new(16)
    assert.is_true(port > 0 and #token == 32)
    for _, v in ipairs(values) do
      pcall(native.server_new, v)
      pcall(native.server_next, v, 0)
      pcall(native.server_next, srv, v)
      pcall(native.server_reply, v, 1, 200, "text/plain", "")
      pcall(native.server_reply, srv, v, v, v, v)
      pcall(native.server_reply, srv, 1, v, "text/plain", "")
    end
    assert.is_false(native.server_next(srv, 0))
    local ok, msg = native.server_reply(srv, 1, 200, "text/plain", "x")
    assert.is_nil(ok)
    assert.equal("ms_server_reply: no request 1 awaits an answer", msg)
    native.close(srv)
    native.close(srv)
    assert.same({nil, "server has been closed", "EINVAL"}, {native.server_next(srv, 0)})
    assert.same({nil, "server has been closed", "EINVAL"},
                {native.server_reply(srv, 1, 200, "text/plain", "")})
  end)
end)
