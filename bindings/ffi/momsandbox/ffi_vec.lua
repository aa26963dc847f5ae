--- momsandbox.ffi_vec: vectors for LuaJIT, the native kind "vec" (cdata
-- that holds its doubles, or a view on the engine's memory) with its hot
-- methods and metamethods over core/src/vec.c, and the primitives vec_new
-- and vec_from.  Twin of bindings/lua/l_vec.c, whose head lists the
-- messages (the same texts here); user: lua/momsandbox/vec.lua (ms.vec).
-- The other FFI parts use alloc, copy_of, is, newview/aim/kill (views
-- handed to callbacks, dead when the call returns) and checkvec.
--
-- v.x is the raw double * (0-based) and v.n the length, for loops that
-- LuaJIT compiles: for i = 0, v.n - 1 do v.x[i] = ... end.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"

local C = core.C
local argmsg, typename = core.argmsg, core.typename
local floor, huge = math.floor, math.huge

-- n is a double, so that Lua reads it as a plain number (an int64_t field
-- reads as boxed cdata).  The fields are const to users: v.n = 100 would
-- let v[100] read past the numbers, v.x = nil crash, v.dead = 0 revive a
-- view of freed memory.  This file writes them through ms_ffi_vec_w, the
-- same layout without const.
ffi.cdef [[
typedef struct ms_ffi_vec {
  double *const x;          /* the numbers: data below, or borrowed for a view */
  const double n;
  const int32_t view;       /* 1: x is borrowed */
  const int32_t dead;       /* 1: a view whose memory may be gone */
  const int32_t readonly;   /* 1: a view of numbers the callee must not change */
  const double data[?];
} ms_ffi_vec;
typedef struct ms_ffi_vec_w {
  double *x;
  double n;
  int32_t view, dead, readonly;
  double data[?];
} ms_ffi_vec_w;
]]

local Vec = ffi.typeof("ms_ffi_vec")
local writable_ptr = ffi.typeof("ms_ffi_vec_w *")
local double_ptr = ffi.typeof("double *")
local istype = ffi.istype

local function fields(v)
  return ffi.cast(writable_ptr, v)
end

local M = {}

local DEAD = "vector is no longer valid (a view kept after the callback " ..
             "that received it returned)"
local MAXLEN = 2^30

--- A new vector of n zeros.
local function alloc(n)
  local v = Vec(n)
  local w = fields(v)
  w.x, w.n = w.data, n
  return v
end
M.alloc = alloc

--- A new vector holding a copy of the n doubles at p.
function M.copy_of(p, n)
  local v = alloc(n)
  C.ms_vec_copy(v.x, p, n)
  return v
end

function M.is(v)
  return istype(Vec, v)
end

--- A view, dead until aimed at memory.
function M.newview(readonly)
  local v = Vec(0)
  local w = fields(v)
  w.view, w.dead, w.readonly = 1, 1, readonly and 1 or 0
  return v
end

--- Point view v at the n doubles at p (const or not: a read-only view
-- guards what must not change).
function M.aim(v, p, n)
  local w = fields(v)
  w.x, w.n, w.dead = ffi.cast(double_ptr, p), n, 0
end

function M.kill(v)
  local w = fields(v)
  w.x, w.n, w.dead = nil, 0, 1
end

----------------------------------------------------------------- checks
-- Each raises at the level of its caller's caller (the method's caller);
-- n = 0 is self.

local function bad(n, fname, msg)
  if n == 0 then return ("calling '%s' on bad self (%s)"):format(fname, msg) end
  return argmsg(n, fname, msg)
end

local function live(v, n, fname, level)
  if not istype(Vec, v) then
    error(bad(n, fname, "momsandbox.vec expected, got " .. typename(v)), level or 3)
  end
  if v.dead ~= 0 then error(bad(n, fname, DEAD), level or 3) end
  return v
end

local function writable(y, fname)
  if not istype(Vec, y) or y.dead ~= 0 then live(y, 0, fname, 4) end
  if y.readonly ~= 0 then error(bad(0, fname, "vector is read-only"), 3) end
  return y
end

--- x, argument n, a live vector of y's length.
local function sized(x, n, y, fname)
  if not istype(Vec, x) or x.dead ~= 0 then live(x, n, fname, 4) end
  if x.n ~= y.n then
    error(argmsg(n, fname, ("size mismatch: vector of %d, expected %d"):format(x.n, y.n)), 3)
  end
  return x
end

--- A number, or a string that converts to one; def for nil when given.
local function number(a, n, fname, def, level)
  if type(a) == "number" then return a end
  if a == nil and def then return def end
  local x = type(a) == "string" and tonumber(a)
  if x then return x end
  error(argmsg(n, fname, "number expected, got " .. typename(a)), level or 3)
end

--------------------------------------------------------------- methods

local methods = {}

-- y:f(a) for a number a, y:f() and reductions: one pattern each
for name, f in pairs{fill = C.ms_vec_fill, scale = C.ms_vec_scale} do
  methods[name] = function(y, a)
    f(writable(y, name).x, number(a, 1, name), y.n)
    return y
  end
end
local function neg(p, n) C.ms_vec_scale(p, -1, n) end
for name, f in pairs{sqrt = C.ms_vec_sqrt, abs = C.ms_vec_abs, sign = C.ms_vec_sign, neg = neg} do
  methods[name] = function(y)
    f(writable(y, name).x, y.n)
    return y
  end
end
for name, f in pairs{norm = C.ms_vec_norm, sum = C.ms_vec_sum, max = C.ms_vec_max,
                     min = C.ms_vec_min} do
  methods[name] = function(y) return f(live(y, 0, name).x, y.n) end
end
--- y:addcmul(u, v [, a]): y += a u v, and addcdiv y += a u / v, as torch's
for name, f in pairs{addcmul = C.ms_vec_addcmul, addcdiv = C.ms_vec_addcdiv} do
  methods[name] = function(y, u, v, a)
    writable(y, name)
    u, v = sized(u, 1, y, name), sized(v, 2, y, name)
    f(y.x, number(a, 3, name, 1), u.x, v.x, y.n)
    return y
  end
end

function methods.copy(y, x)
  C.ms_vec_copy(writable(y, "copy").x, sized(x, 1, y, "copy").x, y.n)
  return y
end

function methods.axpy(y, a, x)
  writable(y, "axpy")
  a = number(a, 1, "axpy")
  C.ms_vec_axpy(y.x, a, sized(x, 2, y, "axpy").x, y.n)
  return y
end

function methods.axpby(y, a, x, b)
  writable(y, "axpby")
  a = number(a, 1, "axpby")
  x = sized(x, 2, y, "axpby")
  C.ms_vec_axpby(y.x, a, x.x, number(b, 3, "axpby"), y.n)
  return y
end

--- y:add(x [, alpha]) (y += alpha x), sub, mul, div: x a vector or a number
function methods.add(y, x, alpha)
  writable(y, "add")
  if type(x) == "number" then
    local p = y.x
    for i = 0, y.n - 1 do p[i] = p[i] + x end
  elseif alpha == nil then
    C.ms_vec_add(y.x, sized(x, 1, y, "add").x, y.n)
  else
    x = sized(x, 1, y, "add")
    C.ms_vec_axpy(y.x, number(alpha, 2, "add"), x.x, y.n)
  end
  return y
end

function methods.sub(y, x)
  if type(x) == "number" then return methods.add(writable(y, "sub"), -x) end
  C.ms_vec_sub(writable(y, "sub").x, sized(x, 1, y, "sub").x, y.n)
  return y
end

function methods.mul(y, x)
  writable(y, "mul")
  if type(x) == "number" then
    C.ms_vec_scale(y.x, x, y.n)
  else
    C.ms_vec_mul(y.x, sized(x, 1, y, "mul").x, y.n)
  end
  return y
end

function methods.div(y, x)
  writable(y, "div")
  if type(x) == "number" then
    local p = y.x
    for i = 0, y.n - 1 do p[i] = p[i] / x end
  else
    C.ms_vec_div(y.x, sized(x, 1, y, "div").x, y.n)
  end
  return y
end

function methods.clamp(y, lo, hi)
  writable(y, "clamp")
  lo, hi = number(lo, 1, "clamp", -huge), number(hi, 2, "clamp", huge)
  if lo > hi then error(argmsg(2, "clamp", "upper bound below lower bound"), 2) end
  C.ms_vec_clamp(y.x, lo, hi, y.n)
  return y
end

function methods.dot(y, x)
  return C.ms_vec_dot(live(y, 0, "dot").x, sized(x, 1, y, "dot").x, y.n)
end

function methods.mean(y)
  return live(y, 0, "mean").n > 0 and C.ms_vec_sum(y.x, y.n) / y.n or 0 / 0
end

function methods.clone(y)
  return M.copy_of(live(y, 0, "clone").x, y.n)
end

function methods.totable(y)
  local t, p = {}, live(y, 0, "totable").x
  for i = 1, y.n do t[i] = p[i - 1] end
  return t
end

------------------------------------------------------------ metamethods

local mt = {}

--- The index k of v, 0-based, or an error at the indexing line.
local function index(v, k)
  if k ~= floor(k) or k >= 2^63 or k < -2^63 then
    error("vector index must be an integer, got " .. core.format(k), 3)
  end
  if k < 1 or k > v.n then
    error(("vector index %d out of range (vector of %d)"):format(k, v.n), 3)
  end
  return k - 1
end

function mt.__index(v, k)
  if type(k) ~= "number" then return methods[k] end
  if not istype(Vec, v) or v.dead ~= 0 then live(v, 1, "index") end
  return v.x[index(v, k)]
end

function mt.__newindex(v, k, x)
  if type(k) ~= "number" then
    error(("cannot set field '%s' of a vector"):format(tostring(k)), 2)
  end
  if not istype(Vec, v) or v.dead ~= 0 then live(v, 1, "newindex") end
  if v.readonly ~= 0 then error("vector is read-only", 2) end
  local i = index(v, k)
  if type(x) ~= "number" then
    x = type(x) == "string" and tonumber(x) or
        error("vector entries must be numbers, got " .. typename(x), 2)
  end
  v.x[i] = x
end

function mt.__len(v)
  return live(v, 1, "len").n
end

--- Vectors equal entry by entry; anything else (nil included: LuaJIT asks
-- cdata about == nil too) is not equal to a vector.
function mt.__eq(a, b)
  if not (istype(Vec, a) and istype(Vec, b)) then return false end
  live(a, 1, "eq")
  live(b, 2, "eq")
  if a.n ~= b.n then return false end
  for i = 0, a.n - 1 do
    if a.x[i] ~= b.x[i] then return false end
  end
  return true
end

--- Arithmetic returns a new vector: vec op vec, vec op number, number op vec.
local function arith(fname, op)
  return function(a, b)
    local r
    if istype(Vec, a) then
      live(a, 1, fname)
      if istype(Vec, b) then
        sized(b, 2, a, fname)
        r = alloc(a.n)
        for i = 0, a.n - 1 do r.x[i] = op(a.x[i], b.x[i]) end
      else
        local s = number(b, 2, fname)
        r = alloc(a.n)
        for i = 0, a.n - 1 do r.x[i] = op(a.x[i], s) end
      end
    else
      local s = number(a, 1, fname)
      live(b, 2, fname)
      r = alloc(b.n)
      for i = 0, b.n - 1 do r.x[i] = op(s, b.x[i]) end
    end
    return r
  end
end

mt.__add = arith("add", function(p, q) return p + q end)
mt.__sub = arith("sub", function(p, q) return p - q end)
mt.__mul = arith("mul", function(p, q) return p * q end)
mt.__div = arith("div", function(p, q) return p / q end)

function mt.__unm(a)
  local r = M.copy_of(live(a, 1, "unm").x, a.n)
  C.ms_vec_scale(r.x, -1, r.n)
  return r
end

core.kind("vec", Vec, methods)
core.kinds.vec.metamethods = mt

----------------------------------------------------------- conversions

--- A new vector from the table t, or nil and why not.  Its raw length
-- counts (LuaJIT's # is raw), and an integer key past it is a missing
-- entry: interpreters differ on the length of {1, nil, 3}.
local function fromtable(t)
  local n = #t
  if n > MAXLEN then return nil, "table has too many entries" end
  local v = alloc(n)
  for i = 1, n do
    local x = rawget(t, i)
    if type(x) ~= "number" then
      x = type(x) == "string" and tonumber(x)
      if not x then return nil, ("entry %d is a %s, not a number"):format(i, type(rawget(t, i))) end
    end
    v.x[i - 1] = x
  end
  for k in pairs(t) do
    if type(k) == "number" and k > n and k == floor(k) then
      return nil, ("entry %d is a nil, not a number"):format(n + 1)
    end
  end
  return v
end

--- native.vec_from(t): t itself when a live vector, a new one from a
-- table, else nil and why not (the shared Lua makes the message).
local function from(t)
  if istype(Vec, t) then
    if t.dead == 0 then return t end
    return nil, DEAD
  elseif type(t) == "table" then
    return fromtable(t)
  end
  return nil, "ms.vec or table of numbers expected, got " .. typename(t)
end

--- A live ms.vec at argument arg (no tables), as luaL_checkvec would.
function M.checkvec(value, arg, fname, present)
  if not istype(Vec, value) then core.typeerror(arg, fname, "momsandbox.vec", value, present) end
  if value.dead ~= 0 then core.argerror(arg, fname, DEAD) end
  return value
end

--- native.vec_new(n [, fill]): the shared Lua checked n and fill.
local function new(n, fill)
  if type(n) ~= "number" or n ~= floor(n) or n < 0 or n > MAXLEN then
    core.argerror(1, "vec_new", "size in [0, 2^30] expected")
  end
  local v = alloc(n)
  if fill ~= nil then
    if type(fill) ~= "number" then core.argerror(2, "vec_new", "number expected") end
    C.ms_vec_fill(v.x, fill, n)
  end
  return v
end

M.primitives = {vec_new = new, vec_from = from}
return M
