--- ms.rng(seed): the engine's random number generator (xoshiro256**
-- seeded by splitmix64), drawing the very numbers the engine draws, so
-- that a Lua loop can replay a C run.  Its methods (seed, next, uniform,
-- normal, below, shuffle) are native: see primitives.lua.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

native.class("rng", {
  -- no address: the same text under both interpreters, run after run
  __tostring = check.protect(function(g)
    if native.kind(g) ~= "rng" then check.selferror("__tostring", "momsandbox.rng", g) end
    return "rng"
  end),
})

--- ms.rng(seed): any integer; the same seed, the same stream.  A negative
-- seed is its 64-bit two's complement (-1 is 2^64 - 1).
return check.protect(function(seed)
  return native.rng_new(check.integer(seed, 1, "rng"))
end)
