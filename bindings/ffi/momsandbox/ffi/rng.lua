--- momsandbox.ffi.rng: the engine's random number generator as the native
-- kind "rng" (the header's ms_rng struct, with methods) for LuaJIT.  Twin
-- of bindings/lua/l_rng.c; used by lua/momsandbox/rng.lua (ms.rng).
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"

local C = core.C
local Rng = ffi.typeof("ms_rng")

local function check(rng, fname)
  if not ffi.istype(Rng, rng) then core.selferror(fname, "momsandbox.rng", rng) end
  return rng
end

local methods = {}

function methods.seed(rng, seed)
  C.ms_rng_seed(check(rng, "seed"), core.seed(core.checkinteger(seed, 1, "seed")))
  return rng
end

--- rng:next(): the next 64 raw bits, as an int64_t (LuaJIT's numbers
-- cannot hold them all; the Lua 5.4 layer gives an integer)
function methods.next(rng)
  return ffi.cast("int64_t", C.ms_rng_next(check(rng, "next")))
end

function methods.uniform(rng)
  return C.ms_rng_uniform(check(rng, "uniform"))
end

function methods.normal(rng)
  return C.ms_rng_normal(check(rng, "normal"))
end

function methods.below(rng, n)
  check(rng, "below")
  n = core.checkinteger(n, 1, "below")
  if n < 1 then core.argerror(1, "below", "n must be >= 1") end
  return tonumber(C.ms_rng_below(rng, n))
end

--- rng:shuffle(t): permute t[1 .. #t] (raw length) in place with the swaps
-- ms_rng_shuffle makes on an array of the same length; returns t.
function methods.shuffle(rng, ...)
  check(rng, "shuffle")
  local t = ...
  if type(t) ~= "table" then core.typeerror(1, "shuffle", "table", t, select("#", ...) > 0) end
  for i = #t, 2, -1 do   -- LuaJIT's # of a table is its raw length
    local j = tonumber(C.ms_rng_below(rng, i)) + 1
    local a, b = rawget(t, i), rawget(t, j)
    rawset(t, i, b)
    rawset(t, j, a)
  end
  return t
end

for name, fn in pairs(methods) do methods[name] = core.protect(fn) end
core.kind("rng", Rng, methods)

return {
  rng_new = function(seed)
    local rng = Rng()
    C.ms_rng_seed(rng, core.seed(core.checkinteger(seed, 1, "rng")))
    return rng
  end,
}
