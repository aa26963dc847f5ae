--- ms.rng(seed): the engine's random number generator (xoshiro256**
-- seeded by splitmix64), drawing the very numbers the engine draws, so
-- that a Lua loop can replay a C run.  Its methods seed, next, uniform,
-- normal and below are native (see primitives.lua); shuffle is made here.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local function self(g, fname)
  if native.kind(g) ~= "rng" then check.selferror(fname, "momsandbox.rng", g) end
end

native.class("rng", {
  -- no address: the same text under both interpreters, run after run
  __tostring = check.protect(function(g)
    self(g, "__tostring")
    return "rng"
  end),
  __index = {
    --- rng:shuffle(t): permute t[1 .. raw length] in place with the swaps
    -- that ms_rng_shuffle makes on an array of the same length; returns t.
    shuffle = check.protect(function(g, ...)
      self(g, "shuffle")
      local t = ...
      if type(t) ~= "table" then check.typeerror(1, "shuffle", "table", t, select("#", ...) > 0) end
      for i = check.rawlen(t), 2, -1 do
        local j = g:below(i) + 1
        local a, b = rawget(t, i), rawget(t, j)
        rawset(t, i, b)
        rawset(t, j, a)
      end
      return t
    end),
  },
})

--- ms.rng(seed): any integer; the same seed, the same stream.  A negative
-- seed is its 64-bit two's complement (-1 is 2^64 - 1).
return check.protect(function(seed)
  return native.rng_new(check.integer(seed, 1, "rng"))
end)
