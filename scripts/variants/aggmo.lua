--- Aggregated momentum (Lucas, Sun, Zemel and Grosse, 2019) written in Lua,
-- against the built-in ms.aggmo: K = 3 velocities with their own betas,
--
--   v_k = beta_k v_k - g_t        (k = 1, 2, 3)
--   x_t = x_{t-1} + (lr / K) sum_k v_k
local ms = require "momsandbox"

local aggmo = ms.rule{
  name = "aggmo_lua",
  hyper = {lr = {min = 0}, beta1 = 0, beta2 = 0.9, beta3 = 0.99},
  state = {"v1", "v2", "v3"},
  step = function(p, g, s, h)
    local c = h.lr / 3
    s.v1:scale(h.beta1):sub(g)
    s.v2:scale(h.beta2):sub(g)
    s.v3:scale(h.beta3):sub(g)
    p:axpy(c, s.v1):axpy(c, s.v2):axpy(c, s.v3)
  end,
}

local compare = dofile((arg[0]:match("^(.*)/") or ".") .. "/twin.lua")
compare{name = "aggmo", arg = arg, lua = aggmo, builtin = ms.aggmo,
        hyper = {quadratic = {lr = 0.1}, rosenbrock = {lr = 5e-4}}}
