--- Nesterov's accelerated gradient written in Lua in both of its usual
-- forms, against the built-ins:
--
-- look-ahead form (Sutskever et al., 2013), ms.nag: the gradient is taken
-- at the point momentum is about to carry x to,
--   y_t = x_{t-1} + mu v_{t-1},   v_t = mu v_{t-1} - lr grad f(y_t),
--   x_t = x_{t-1} + v_t
--
-- PyTorch's form, ms.nesterov (= ms.sgd{nesterov = true}):
--   b_1 = g_1,  b_t = mu b_{t-1} + g_t,   x_t = x_{t-1} - lr (g_t + mu b_t)
local ms = require "momsandbox"

local nag = ms.rule{
  name = "nag_lua",
  hyper = {lr = {min = 0}, momentum = {default = 0.9, min = 0, max = 0.999}},
  state = {"v"},
  lookahead = function(p, y, s, h)
    y:copy(p):axpy(h.momentum, s.v)
  end,
  step = function(p, g, s, h)
    s.v:scale(h.momentum):axpy(-h.lr, g)
    p:add(s.v)
  end,
}

local nesterov = ms.rule{
  name = "nesterov_lua",
  hyper = {lr = {min = 0}, momentum = {default = 0.9, min = 0, max = 0.999}},
  state = {"buf", "d"},            -- d: room for g + mu b, as the C rule computes it
  step = function(p, g, s, h, t)
    if t == 1 then s.buf:copy(g) else s.buf:scale(h.momentum):add(g) end
    p:axpy(-h.lr, s.d:copy(g):axpy(h.momentum, s.buf))
  end,
}

local compare = dofile((arg[0]:match("^(.*)/") or ".") .. "/twin.lua")
local hyper = {quadratic = {lr = 0.3, momentum = 0.5}, rosenbrock = {lr = 5e-4, momentum = 0.9}}
compare{name = "nag", arg = arg, lua = nag, builtin = ms.nag, hyper = hyper}
compare{name = "nesterov", arg = arg, lua = nesterov, builtin = ms.nesterov, hyper = hyper}
