--- ms.vec: dense double vectors, 1-based.  Their methods (fill, axpy, dot,
-- ...) and metamethods (v[i], #v, ==, + - * /) are native and hot: see
-- "vec:*" in primitives.lua and the message list at the head of
-- bindings/lua/l_vec.c.  Here: the constructor, linspace and tostring.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

-- A vector of more entries prints elided, as NumPy prints one: print(v)
-- of a million entries would fill the terminal (v:totable() has them all).
local LONG = 1000

native.class("vec", {
  __tostring = check.protect(function(v)
    if native.kind(v) ~= "vec" then check.selferror("__tostring", "momsandbox.vec", v) end
    local ok, n = pcall(function() return #v end)
    if not ok then return "vec(dead view)" end
    if n > LONG then
      return ("vec{%s, %s, %s, …, %s} (%d)"):format(native.format(v[1]), native.format(v[2]),
                                                   native.format(v[3]), native.format(v[n]), n)
    end
    local t = v:totable()
    for i = 1, n do t[i] = native.format(t[i]) end
    return "vec{" .. table.concat(t, ", ") .. "}"
  end),
})

--- A length for vec_new: an integer in [0, 2^30].
local function size(n, arg, fname)
  n = check.integer(n, arg, fname)
  if n < 0 then check.argerror(arg, fname, "size must be >= 0") end
  if n > 2^30 then check.argerror(arg, fname, "size must be <= 1073741824") end
  return n
end

--- ms.vec(n [, value]), ms.vec{x1, x2, ...} or ms.vec(other): a new vector.
-- A table is read up to its raw length; a hole ({1, nil, 3}) is an error
-- naming the missing entry under both interpreters.
local slow = check.protect(function(a, value)
  if type(a) ~= "number" then
    local v = check.vec(a, 1, "vec")
    return rawequal(v, a) and v:clone() or v
  end
  return native.vec_new(size(a, 1, "vec"), value ~= nil and check.number(value, 2, "vec") or nil)
end)

-- ms.vec is called in loops: the common cases skip protect's pcall
local function new(_, a, value)
  if type(a) == "table" then
    local v = native.vec_from(a)
    if v then return v end
  elseif type(a) == "number" and a >= 0 and a <= 2^30 and a == math.floor(a) and
         (value == nil or type(value) == "number") then
    return native.vec_new(a, value)
  end
  return slow(a, value)
end

--- ms.vec.linspace(a, b, n): n equally spaced points from a to b.
local function linspace(a, b, n)
  a, b = check.number(a, 1, "linspace"), check.number(b, 2, "linspace")
  n = size(n, 3, "linspace")
  if n < 2 then check.argerror(3, "linspace", "need at least 2 points") end
  local v = native.vec_new(n)
  for i = 1, n - 1 do v[i] = a + (b - a) * (i - 1) / (n - 1) end
  v[n] = b
  return v
end

return setmetatable({linspace = check.protect(linspace)}, {__call = new})
