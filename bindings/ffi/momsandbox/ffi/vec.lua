--- momsandbox.ffi.vec: ms.vec under LuaJIT -- dense double vectors as cdata,
-- 1-based, with the methods of the Lua 5.4 binding's vectors running in C
-- (core/src/vec.c).  A vector owns its numbers or is a view on memory of
-- the engine's loops, handed to Lua code for the length of a call; a view
-- kept beyond that is dead, and using it is an error, not a crash.
--
-- v.x is the raw double * (0-based) and v.n the length, for loops that
-- LuaJIT compiles: for i = 0, v.n - 1 do v.x[i] = ... end.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"

local C = core.C
local argmsg, typename = core.argmsg, core.typename
local floor, huge = math.floor, math.huge

-- n is a double, so that Lua reads it as a plain number (an int64_t field
-- reads as boxed cdata).  The fields are const to users: v.n = 100 would
-- let v[100] read past the numbers, v.x = nil crash, v.dead = 0 revive a
-- view of freed memory.  The binding writes them through ms_ffi_vec_w, the
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

--- v's fields, writable (for this file only).
local function fields(v)
  return ffi.cast(writable_ptr, v)
end
local istype = ffi.istype
core.register_cdata(Vec, "momsandbox.vec")

local M = {Vec = Vec}

local DEAD = "vector is no longer valid (a view kept after the callback " ..
             "that received it returned)"

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

------------------------------------------------------------------ views

--- A view, dead until aimed at memory.
function M.newview(readonly)
  local v = Vec(0)
  local w = fields(v)
  w.view, w.dead, w.readonly = 1, 1, readonly and 1 or 0
  return v
end

local double_ptr = ffi.typeof("double *")

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
-- Each raises at the level of the method's caller (3: check, method, caller).

local function live(v, arg, fname)
  if not istype(Vec, v) then
    error(argmsg(arg, fname, "momsandbox.vec expected, got " .. typename(v)), 3)
  end
  if v.dead ~= 0 then error(argmsg(arg, fname, DEAD), 3) end
  return v
end

local function writable(v, fname)
  if not istype(Vec, v) then
    error(argmsg(1, fname, "momsandbox.vec expected, got " .. typename(v)), 3)
  end
  if v.dead ~= 0 then error(argmsg(1, fname, DEAD), 3) end
  if v.readonly ~= 0 then error(argmsg(1, fname, "vector is read-only"), 3) end
  return v
end

--- x at arg, a live vector of y's length.
local function sized(x, arg, y, fname)
  if not istype(Vec, x) then
    error(argmsg(arg, fname, "momsandbox.vec expected, got " .. typename(x)), 3)
  end
  if x.dead ~= 0 then error(argmsg(arg, fname, DEAD), 3) end
  if x.n ~= y.n then
    error(argmsg(arg, fname, ("size mismatch: vector of %d, expected %d"):format(x.n, y.n)), 3)
  end
  return x
end

--- luaL_checknumber (numeric strings convert).
local function number(a, arg, fname)
  if type(a) == "number" then return a end
  local x = type(a) == "string" and tonumber(a)
  if x then return x end
  error(argmsg(arg, fname, "number expected, got " .. typename(a)), 3)
end

local function optnumber(a, arg, fname, def)
  if a == nil then return def end
  if type(a) == "number" then return a end
  local x = type(a) == "string" and tonumber(a)
  if x then return x end
  error(argmsg(arg, fname, "number expected, got " .. typename(a)), 3)
end

--------------------------------------------------------------- methods

local methods = {}

function methods.fill(y, a)
  writable(y, "fill")
  C.ms_vec_fill(y.x, number(a, 2, "fill"), y.n)
  return y
end

function methods.copy(y, x)
  writable(y, "copy")
  C.ms_vec_copy(y.x, sized(x, 2, y, "copy").x, y.n)
  return y
end

function methods.scale(y, a)
  writable(y, "scale")
  C.ms_vec_scale(y.x, number(a, 2, "scale"), y.n)
  return y
end

--- y:axpy(a, x): y += a x
function methods.axpy(y, a, x)
  writable(y, "axpy")
  a = number(a, 2, "axpy")
  C.ms_vec_axpy(y.x, a, sized(x, 3, y, "axpy").x, y.n)
  return y
end

--- y:axpby(a, x, b): y = a x + b y
function methods.axpby(y, a, x, b)
  writable(y, "axpby")
  a = number(a, 2, "axpby")
  x = sized(x, 3, y, "axpby")
  C.ms_vec_axpby(y.x, a, x.x, number(b, 4, "axpby"), y.n)
  return y
end

--- y:add(x [, alpha]): y += alpha x for a vector x, y += x for a number.
function methods.add(y, x, alpha)
  writable(y, "add")
  if type(x) == "number" then
    local p = y.x
    for i = 0, y.n - 1 do p[i] = p[i] + x end
  elseif alpha == nil then
    C.ms_vec_add(y.x, sized(x, 2, y, "add").x, y.n)
  else
    x = sized(x, 2, y, "add")
    C.ms_vec_axpy(y.x, number(alpha, 3, "add"), x.x, y.n)
  end
  return y
end

function methods.sub(y, x)
  writable(y, "sub")
  if type(x) == "number" then
    local p = y.x
    for i = 0, y.n - 1 do p[i] = p[i] - x end
  else
    C.ms_vec_sub(y.x, sized(x, 2, y, "sub").x, y.n)
  end
  return y
end

function methods.mul(y, x)
  writable(y, "mul")
  if type(x) == "number" then
    C.ms_vec_scale(y.x, x, y.n)
  else
    C.ms_vec_mul(y.x, sized(x, 2, y, "mul").x, y.n)
  end
  return y
end

function methods.div(y, x)
  writable(y, "div")
  if type(x) == "number" then
    local p = y.x
    for i = 0, y.n - 1 do p[i] = p[i] / x end
  else
    C.ms_vec_div(y.x, sized(x, 2, y, "div").x, y.n)
  end
  return y
end

--- y:addcmul(u, v [, a]): y += a u v, as torch's addcmul_
function methods.addcmul(y, u, v, a)
  writable(y, "addcmul")
  u, v = sized(u, 2, y, "addcmul"), sized(v, 3, y, "addcmul")
  C.ms_vec_addcmul(y.x, optnumber(a, 4, "addcmul", 1), u.x, v.x, y.n)
  return y
end

--- y:addcdiv(u, v [, a]): y += a u / v, as torch's addcdiv_
function methods.addcdiv(y, u, v, a)
  writable(y, "addcdiv")
  u, v = sized(u, 2, y, "addcdiv"), sized(v, 3, y, "addcdiv")
  C.ms_vec_addcdiv(y.x, optnumber(a, 4, "addcdiv", 1), u.x, v.x, y.n)
  return y
end

function methods.sqrt(y)
  C.ms_vec_sqrt(writable(y, "sqrt").x, y.n)
  return y
end

function methods.abs(y)
  C.ms_vec_abs(writable(y, "abs").x, y.n)
  return y
end

function methods.sign(y)
  C.ms_vec_sign(writable(y, "sign").x, y.n)
  return y
end

function methods.neg(y)
  C.ms_vec_scale(writable(y, "neg").x, -1, y.n)
  return y
end

function methods.clamp(y, lo, hi)
  writable(y, "clamp")
  lo, hi = optnumber(lo, 2, "clamp", -huge), optnumber(hi, 3, "clamp", huge)
  if lo > hi then error(argmsg(3, "clamp", "upper bound below lower bound"), 2) end
  C.ms_vec_clamp(y.x, lo, hi, y.n)
  return y
end

function methods.dot(y, x)
  live(y, 1, "dot")
  return C.ms_vec_dot(y.x, sized(x, 2, y, "dot").x, y.n)
end

function methods.norm(y)
  return C.ms_vec_norm(live(y, 1, "norm").x, y.n)
end

function methods.sum(y)
  return C.ms_vec_sum(live(y, 1, "sum").x, y.n)
end

function methods.mean(y)
  live(y, 1, "mean")
  return y.n > 0 and C.ms_vec_sum(y.x, y.n) / y.n or 0 / 0
end

function methods.max(y)
  return C.ms_vec_max(live(y, 1, "max").x, y.n)
end

function methods.min(y)
  return C.ms_vec_min(live(y, 1, "min").x, y.n)
end

function methods.clone(y)
  live(y, 1, "clone")
  return M.copy_of(y.x, y.n)
end

function methods.totable(y)
  live(y, 1, "totable")
  local t, p = {}, y.x
  for i = 1, y.n do t[i] = p[i - 1] end
  return t
end

------------------------------------------------------------ metamethods

local mt = {__name = "momsandbox.vec"}

local function index_error(v, i)
  if type(i) ~= "number" or i ~= floor(i) then
    return ("vector index must be an integer, got %s"):format(tostring(i))
  end
  return ("vector index %d out of range (vector of %d)"):format(i, v.n)
end

function mt.__index(v, k)
  if type(k) ~= "number" then return methods[k] end
  if v.dead ~= 0 then error(argmsg(1, "index", DEAD), 2) end
  if k < 1 or k > v.n or k ~= floor(k) then error(index_error(v, k), 2) end
  return v.x[k - 1]
end

function mt.__newindex(v, k, x)
  if type(k) ~= "number" then
    error(("cannot set field '%s' of a vector"):format(tostring(k)), 2)
  end
  if v.dead ~= 0 then error(argmsg(1, "newindex", DEAD), 2) end
  if v.readonly ~= 0 then error("vector is read-only", 2) end
  if k < 1 or k > v.n or k ~= floor(k) then error(index_error(v, k), 2) end
  if type(x) ~= "number" then
    x = type(x) == "string" and tonumber(x) or
        error(("vector entries must be numbers, got %s"):format(typename(x)), 2)
  end
  v.x[k - 1] = x
end

function mt.__len(v)
  return live(v, 1, "len").n
end

function mt.__tostring(v)
  if v.dead ~= 0 then return "vec(dead view)" end
  local parts, p = {}, v.x
  for i = 1, v.n do parts[i] = core.format(p[i - 1]) end
  return "vec{" .. table.concat(parts, ", ") .. "}"
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
    if istype(Vec, a) and istype(Vec, b) then
      live(a, 1, fname)
      sized(b, 2, a, fname)
      r = alloc(a.n)
      for i = 0, a.n - 1 do r.x[i] = op(a.x[i], b.x[i]) end
    elseif istype(Vec, a) then
      live(a, 1, fname)
      local s = number(b, 2, fname)
      r = alloc(a.n)
      for i = 0, a.n - 1 do r.x[i] = op(a.x[i], s) end
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

ffi.metatype(Vec, mt)

----------------------------------------------------------- conversions

--- The vector at argument arg of fname: a live ms.vec as it is, or a new
-- vector from a table of numbers.  Raises Failures (for M.protect).
function M.tovec(value, arg, fname)
  if istype(Vec, value) then
    if value.dead ~= 0 then core.argerror(arg, fname, DEAD) end
    return value
  end
  if type(value) ~= "table" then
    core.typeerror(arg, fname, "ms.vec or table of numbers", value)
  end
  local n = #value
  local v = alloc(n)
  for i = 1, n do
    local x = value[i]
    if type(x) ~= "number" then
      x = type(x) == "string" and tonumber(x) or
          core.argerror(arg, fname, ("entry %d is a %s, not a number"):format(i, type(x)))
    end
    v.x[i - 1] = x
  end
  return v
end

--- A live ms.vec at argument arg (no tables), as luaL_checkudata would.
function M.checkvec(value, arg, fname, present)
  if not istype(Vec, value) then core.typeerror(arg, fname, "momsandbox.vec", value, present) end
  if value.dead ~= 0 then core.argerror(arg, fname, DEAD) end
  return value
end

------------------------------------------------------------------ ms.vec

--- ms.vec(n [, value]), ms.vec{x1, x2, ...} or ms.vec(other): a new vector.
local new = core.protect(function(a, value)
  if type(a) == "number" then
    local n = core.checkinteger(a, 1, "vec")
    if n < 0 then core.argerror(1, "vec", "size must be >= 0") end
    local v = alloc(n)
    if value ~= nil then C.ms_vec_fill(v.x, core.checknumber(value, 2, "vec"), n) end
    return v
  end
  local v = M.tovec(a, 1, "vec")
  return v == a and M.copy_of(v.x, v.n) or v
end)

--- ms.vec.linspace(a, b, n): n equally spaced points from a to b.
local linspace = core.protect(function(a, b, n)
  a, b = core.checknumber(a, 1, "linspace"), core.checknumber(b, 2, "linspace")
  n = core.checkinteger(n, 3, "linspace")
  if n < 2 then core.argerror(3, "linspace", "need at least 2 points") end
  local v = alloc(n)
  for i = 0, n - 1 do v.x[i] = i == n - 1 and b or a + (b - a) * i / (n - 1) end
  return v
end)

M.module = setmetatable({linspace = linspace}, {
  __call = function(_, ...) return new(...) end,
})

return M
