--- Quasi-hyperbolic momentum (Ma and Yarats, 2019) written in Lua, against
-- the built-in ms.qhm:
--
--   b_t = beta b_{t-1} + (1 - beta) g_t
--   x_t = x_{t-1} - lr (nu b_t + (1 - nu) g_t)
--
-- nu = 1 is normalised (EMA) momentum, nu = 0 plain gradient descent.
local ms = require "momsandbox"

local qhm = ms.rule{
  name = "qhm_lua",
  hyper = {lr = {min = 0}, beta = {default = 0.999, min = 0, max = 0.9999},
           nu = {default = 0.7, min = 0, max = 1}},
  state = {"buf"},
  step = function(p, g, s, h)
    s.buf:scale(h.beta):axpy(1 - h.beta, g)
    p:axpy(-h.lr * h.nu, s.buf):axpy(-h.lr * (1 - h.nu), g)
  end,
}

local compare = dofile((arg[0]:match("^(.*)/") or ".") .. "/twin.lua")
compare{name = "qhm", arg = arg, lua = qhm, builtin = ms.qhm,
        hyper = {quadratic = {lr = 1, beta = 0.9, nu = 0.7},
                 rosenbrock = {lr = 5e-3, beta = 0.9, nu = 0.7}}}
