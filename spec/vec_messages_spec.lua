-- Every message of ms.vec, exact, for every method and every way its call
-- can fail: the same text under Lua 5.4 and LuaJIT (this spec runs under
-- both).  Methods count their arguments after self; metamethods name
-- themselves (index, len, add, ...) and count every operand.
local ms = require "momsandbox"

local DEAD = "vector is no longer valid (a view kept after the callback that received it returned)"
-- LuaJIT's getmetatable says "ffi" for cdata: its layer keeps the kind's
local function getmt(v)
  return jit and require("momsandbox.ffi_core").kinds.vec.mt or getmetatable(v)
end
local unpack = table.unpack or unpack

--- The message of f(...), which must fail, without its position.
local function err(f, ...)
  local ok, e = pcall(f, ...)
  assert.is_false(ok, "no error")
  return (tostring(e):gsub("^[^\n]-:%d+: ", ""))
end

--- A view that is dead: kept after the callback that received it.
local function dead_view()
  local kept
  ms.objective{dim = 2, f = function(x) kept = x; return 0 end}:value{1, 2}
  return kept
end

--- fn(x) on a live read-only view (an objective's argument).
local function with_readonly(fn)
  local result
  ms.objective{dim = 2, f = function(x) result = fn(x); return 0 end}:value{1, 2}
  return result
end

local in_place = {"fill", "copy", "scale", "axpy", "axpby", "add", "sub", "mul", "div",
                  "addcmul", "addcdiv", "sqrt", "abs", "sign", "neg", "clamp"}
local reading = {"dot", "norm", "sum", "mean", "max", "min", "clone", "totable"}

describe("vector methods", function()
  it("name a bad self", function()
    local v, dead = ms.vec{1, 2}, dead_view()
    for _, list in ipairs{in_place, reading} do
      for _, m in ipairs(list) do
        for _, bad in ipairs{{nil, "nil"}, {1, "number"}, {{}, "table"}, {"x", "string"},
                             {ms.objective.quadratic{1}, "momsandbox.objective"}} do
          assert.are.equal(("calling '%s' on bad self (momsandbox.vec expected, got %s)"):format(
                           m, bad[2]), err(v[m], bad[1], 1))
        end
        assert.are.equal(("calling '%s' on bad self (%s)"):format(m, DEAD), err(v[m], dead, 1))
      end
    end
  end)

  it("that write refuse a read-only view, those that read take it", function()
    for _, m in ipairs(in_place) do
      assert.are.equal(("calling '%s' on bad self (vector is read-only)"):format(m),
                       with_readonly(function(x) return err(x[m], x, 1) end))
    end
    assert.are.equal(3, with_readonly(function(x) return x:sum() end))
  end)

  it("name a bad number argument, counted after self", function()
    local v = ms.vec{1, 2}
    local cases = {
      {"fill", {"x"}, 1}, {"fill", {}, 1, "nil"}, {"scale", {{}}, 1, "table"},
      {"axpy", {"x", v}, 1}, {"axpby", {"x", v, 1}, 1}, {"axpby", {1, v, "x"}, 3},
      {"axpby", {1, v}, 3, "nil"}, {"add", {v, "x"}, 2}, {"addcmul", {v, v, "x"}, 3},
      {"addcdiv", {v, v, "x"}, 3}, {"clamp", {"x"}, 1}, {"clamp", {0, "x"}, 2},
    }
    for _, c in ipairs(cases) do
      local m, args, n = c[1], c[2], c[3]
      local got = c[4] or (type(args[n]) == "table" and "table" or "string")
      assert.are.equal(("bad argument #%d to '%s' (number expected, got %s)"):format(n, m, got),
                       err(v[m], v, unpack(args, 1, 3)), m)
    end
    assert.are.equal("bad argument #2 to 'clamp' (upper bound below lower bound)",
                     err(v.clamp, v, 1, 0))
    assert.are.same({3, 3}, v:fill("2"):add(ms.vec{1, 1}, "1"):totable())   -- numeric strings
  end)

  it("name a bad vector argument: not a vector, dead, or of another length", function()
    local v, dead, long = ms.vec{1, 2}, dead_view(), ms.vec{1, 2, 3}
    local cases = {   -- method, arguments with X for the bad one, its number
      {"copy", {"X"}, 1}, {"axpy", {1, "X"}, 2}, {"axpby", {1, "X", 1}, 2}, {"add", {"X"}, 1},
      {"add", {"X", 2}, 1}, {"sub", {"X"}, 1}, {"mul", {"X"}, 1}, {"div", {"X"}, 1},
      {"addcmul", {"X", v}, 1}, {"addcmul", {v, "X"}, 2}, {"addcdiv", {"X", v}, 1},
      {"addcdiv", {v, "X"}, 2}, {"dot", {"X"}, 1},
    }
    for _, c in ipairs(cases) do
      local m, n = c[1], c[3]
      for _, bad in ipairs{{{1, 2}, "momsandbox.vec expected, got table"}, {dead, DEAD},
                           {long, "size mismatch: vector of 3, expected 2"}} do
        local args = {}
        for i, a in ipairs(c[2]) do args[i] = a == "X" and bad[1] or a end
        assert.are.equal(("bad argument #%d to '%s' (%s)"):format(n, m, bad[2]),
                         err(v[m], v, unpack(args, 1, 3)), m)
      end
    end
  end)

  it("raise at the caller's line", function()
    local v = ms.vec{1}
    local ok, e = pcall(function() local r = v:axpy(1, "x"); return r end)
    assert.is_false(ok)
    assert.matches("vec_messages_spec.lua:%d+: bad argument #2 to 'axpy' %(momsandbox.vec " ..
                   "expected, got string%)$", e)
  end)
end)

describe("vector metamethods", function()
  it("name bad indices and values", function()
    local v = ms.vec{1, 2}
    local function get(i) local x = v[i]; return x end
    local function set(k, x) v[k] = x end
    assert.are.equal("vector index 3 out of range (vector of 2)", err(get, 3))
    assert.are.equal("vector index 0 out of range (vector of 2)", err(set, 0, 1))
    assert.are.equal("vector index -1 out of range (vector of 2)", err(get, -1))
    assert.are.equal("vector index must be an integer, got 1.5", err(get, 1.5))
    assert.are.equal("vector index must be an integer, got 9.223372036854776e+18", err(get, 2^63))
    assert.are.equal("vector index must be an integer, got nan", err(get, 0 / 0))
    assert.are.equal("vector entries must be numbers, got string", err(set, 1, "a"))
    assert.are.equal("vector entries must be numbers, got momsandbox.vec", err(set, 1, v))
    assert.are.equal("cannot set field 'foo' of a vector", err(set, "foo", 1))
    assert.are.equal("vector is read-only", with_readonly(function(x)
      return err(function() x[1] = 0 end)
    end))
    assert.is_nil(v.foo)
    assert.is_nil(v["1"])
    set(2, "5")
    assert.are.equal(5, get(2))
  end)

  it("name bad operands", function()
    local v = ms.vec{1, 2}
    local ops = {add = function(a, b) return a + b end, sub = function(a, b) return a - b end,
                 mul = function(a, b) return a * b end, div = function(a, b) return a / b end}
    for name, op in pairs(ops) do
      assert.are.equal(("bad argument #2 to '%s' (number expected, got string)"):format(name),
                       err(op, v, "x"))
      assert.are.equal(("bad argument #1 to '%s' (number expected, got table)"):format(name),
                       err(op, {}, v))
      assert.are.equal(("bad argument #2 to '%s' (size mismatch: vector of 3, expected 2)"):format(
                       name), err(op, v, ms.vec(3)))
    end
  end)

  it("refuse a dead view", function()
    local dead = dead_view()
    assert.are.equal("bad argument #1 to 'index' (" .. DEAD .. ")", err(function() return dead[1] + 0 end))
    assert.are.equal("bad argument #1 to 'newindex' (" .. DEAD .. ")", err(function() dead[1] = 0 end))
    assert.are.equal("bad argument #1 to 'len' (" .. DEAD .. ")", err(function() return #dead + 0 end))
    assert.are.equal("bad argument #1 to 'eq' (" .. DEAD .. ")",
                     err(function() return (dead == ms.vec{1}) or nil end))
    assert.are.equal("bad argument #1 to 'add' (" .. DEAD .. ")", err(function() return dead + 1 end))
    assert.are.equal("bad argument #2 to 'mul' (" .. DEAD .. ")", err(function() return 2 * dead end))
    assert.are.equal("bad argument #1 to 'unm' (" .. DEAD .. ")", err(function() return -dead end))
    assert.are.equal("vec(dead view)", tostring(dead))
  end)

  it("compare a vector and anything else as different", function()
    local v = ms.vec{1}
    assert.is_false(v == ms.objective.quadratic{1})
    assert.is_false(ms.objective.quadratic{1} == v)
    assert.is_false(v == 1)
    assert.is_false(v == ms.vec{1, 2})
    assert.is_true(v == ms.vec{1})
  end)

  it("called directly with a wrong self, raise", function()
    local mt = getmt(ms.vec{1})
    local function e(name, ...) return err(mt[name], ...) end
    assert.are.equal("bad argument #1 to 'index' (momsandbox.vec expected, got nil)", e("__index", nil, 1))
    assert.are.equal("bad argument #1 to 'newindex' (momsandbox.vec expected, got table)",
                     e("__newindex", {}, 1, 1))
    assert.are.equal("bad argument #1 to 'len' (momsandbox.vec expected, got string)", e("__len", "x"))
    assert.are.equal("bad argument #1 to 'unm' (momsandbox.vec expected, got number)", e("__unm", 5))
    assert.are.equal("bad argument #2 to 'add' (momsandbox.vec expected, got number)", e("__add", 1, 2))
    assert.are.equal("bad argument #1 to 'div' (number expected, got nil)", e("__div", nil, nil))
    assert.are.equal("calling '__tostring' on bad self (momsandbox.vec expected, got nil)",
                     e("__tostring", nil))
    assert.is_false(mt.__eq(1, 2))
    assert.are.equal("function", type(mt.__index(nil, "fill")))   -- a method, by name
  end)
end)

describe("ms.vec and ms.vec.linspace", function()
  it("name bad sizes, fills and tables", function()
    local function vec_err(...) return err(ms.vec, ...) end
    assert.are.equal("bad argument #1 to 'vec' (size must be >= 0)", vec_err(-1))
    assert.are.equal("bad argument #1 to 'vec' (size must be <= 1073741824)", vec_err(2^40))
    assert.are.equal("bad argument #1 to 'vec' (number has no integer representation)", vec_err(1.5))
    assert.are.equal("bad argument #2 to 'vec' (number expected, got string)", vec_err(2, "x"))
    assert.are.equal("bad argument #1 to 'vec' (ms.vec or table of numbers expected, got boolean)",
                     vec_err(true))
    assert.are.equal("bad argument #1 to 'vec' (ms.vec or table of numbers expected, got string)",
                     vec_err("3"))
    assert.are.equal("bad argument #1 to 'vec' (entry 2 is a string, not a number)", vec_err{1, "x"})
    assert.are.equal("bad argument #1 to 'vec' (" .. DEAD .. ")", vec_err(dead_view()))
    assert.are.equal("bad argument #3 to 'linspace' (need at least 2 points)",
                     err(ms.vec.linspace, 0, 1, 1))
    assert.are.equal("bad argument #1 to 'linspace' (number expected, got string)",
                     err(ms.vec.linspace, "a", 1, 2))
  end)

  it("read a table with a hole as an error naming the first missing entry", function()
    -- the raw length of {1, nil, 3} is 3 under Lua 5.4 and 1 under LuaJIT
    local msg = "bad argument #1 to 'vec' (entry 2 is a nil, not a number)"
    assert.are.equal(msg, err(ms.vec, {1, nil, 3}))
    assert.are.equal(msg, err(ms.vec, {[1] = 1, [5] = 2}))
    assert.are.equal("bad argument #1 to 'vec' (entry 1 is a nil, not a number)",
                     err(ms.vec, {[2] = 1}))
    assert.are.same({1, 2}, ms.vec{1, "2", x = 3, [1.5] = 4}:totable())
  end)

  it("read tables raw: a lying __len or __index changes nothing", function()
    local liar = {__len = function() return 2^62 end, __index = function() return 7 end}
    assert.are.same({1, 2}, ms.vec(setmetatable({1, 2}, liar)):totable())
    assert.are.equal(0, #ms.vec(setmetatable({}, liar)))
  end)

  it("print entries as the shortest decimals that read back", function()
    assert.are.equal("vec{1, nan, inf, -0, 0.1}", tostring(ms.vec{1, 0 / 0, 1 / 0, -0.0, 0.1}))
    assert.are.equal("vec{}", tostring(ms.vec(0)))
  end)
end)
