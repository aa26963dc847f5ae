--- momsandbox.ffi_rng: the engine's random number generator as the native
-- kind "rng" (the header's ms_rng struct, with methods) for LuaJIT.  Twin
-- of bindings/lua/l_rng.c; used by lua/momsandbox/rng.lua (ms.rng).
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"

local C = core.C
local Rng = ffi.typeof("ms_rng")

-- Errors are raised at the method's caller, as luaL_error does.
local function check(rng, fname)
  if not ffi.istype(Rng, rng) then
    error(("calling '%s' on bad self (momsandbox.rng expected, got %s)"):format(fname,
          core.typename(rng)), 3)
  end
  return rng
end

local methods = {}

function methods.seed(rng, seed)
  C.ms_rng_seed(check(rng, "seed"), core.seed(core.checkinteger(seed, 1, "seed", 2)))
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
  n = core.checkinteger(n, 1, "below", 2)
  if n < 1 then error(core.argmsg(1, "below", "n must be >= 1"), 2) end
  return tonumber(C.ms_rng_below(rng, n))
end

core.kind("rng", Rng, methods)

return {
  rng_new = function(seed)
    local rng = Rng()
    C.ms_rng_seed(rng, core.seed(core.checkinteger(seed, 1, "rng", 2)))
    return rng
  end,
}
