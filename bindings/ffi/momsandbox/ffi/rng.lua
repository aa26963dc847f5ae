--- momsandbox.ffi.rng: ms.rng(seed) under LuaJIT -- the engine's random
-- number generator (xoshiro256** seeded by splitmix64), drawing the very
-- numbers the engine draws, so that a Lua loop can replay a C run.  It is
-- the header's ms_rng struct itself, with methods.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"

local C = core.C
local Rng = ffi.typeof("ms_rng")
core.register_cdata(Rng, "momsandbox.rng")

local function check(rng, fname)
  if not ffi.istype(Rng, rng) then core.typeerror(1, fname, "momsandbox.rng", rng) end
  return rng
end

local methods = {}

function methods.seed(rng, seed)
  C.ms_rng_seed(check(rng, "seed"), core.seed(core.checkinteger(seed, 2, "seed")))
  return rng
end

--- rng:next(): the next 64 raw bits, as an int64_t (LuaJIT's numbers
-- cannot hold them all; the Lua 5.4 binding gives an integer)
function methods.next(rng)
  return ffi.cast("int64_t", C.ms_rng_next(check(rng, "next")))
end

function methods.uniform(rng)
  return C.ms_rng_uniform(check(rng, "uniform"))
end

function methods.normal(rng)
  return C.ms_rng_normal(check(rng, "normal"))
end

--- rng:below(n): an integer in [0, n), unbiased
function methods.below(rng, n)
  check(rng, "below")
  n = core.checkinteger(n, 2, "below")
  if n < 1 then core.argerror(2, "below", "n must be >= 1") end
  return tonumber(C.ms_rng_below(rng, n))
end

--- rng:shuffle(t): permute t[1 .. #t] in place with the swaps that
-- ms_rng_shuffle makes on an array of the same length; returns t.
function methods.shuffle(rng, t)
  check(rng, "shuffle")
  core.checktable(t, 2, "shuffle")
  for i = #t, 2, -1 do
    local j = tonumber(C.ms_rng_below(rng, i)) + 1
    t[i], t[j] = t[j], t[i]
  end
  return t
end

for name, fn in pairs(methods) do methods[name] = core.protect(fn) end

ffi.metatype(Rng, {
  __index = methods,
  __tostring = function(rng) return ("rng (%s)"):format(tostring(ffi.cast("void *", rng)):match("0x%x+")) end,
})

--- ms.rng(seed): any integer; the same seed, the same stream.  A negative
-- seed is its 64-bit two's complement (-1 is 2^64 - 1): see core.seed.
return core.protect(function(seed)
  local rng = Rng()
  C.ms_rng_seed(rng, core.seed(core.checkinteger(seed, 1, "rng")))
  return rng
end)
