--- Heavy-ball momentum written in Lua, against the built-in ms.momentum:
--
--   v_t = beta v_{t-1} + g_t
--   x_t = x_{t-1} - lr v_t
--
-- The vector operations run in C and do the same arithmetic in the same
-- order as the built-in, so the trajectories agree bit for bit.
local ms = require "momsandbox"

local heavy_ball = ms.rule{
  name = "heavy_ball",
  hyper = {lr = {min = 0}, beta = {default = 0.9, min = 0, max = 0.999}},
  state = {"v"},
  step = function(p, g, s, h)
    s.v:scale(h.beta):add(g)
    p:axpy(-h.lr, s.v)
  end,
}

local compare = dofile((arg[0]:match("^(.*)/") or ".") .. "/twin.lua")
compare{name = "heavy_ball", arg = arg, lua = heavy_ball, builtin = ms.momentum,
        hyper = {quadratic = {lr = 0.6, beta = 0.5}, rosenbrock = {lr = 5e-4, beta = 0.9}}}
