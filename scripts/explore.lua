-- The explorer (ms.explore): a variant of momentum written in Lua,
-- quasi-hyperbolic momentum (Ma & Yarats 2019), against heavy ball, on d2l's quadratic
-- f = 0.1 x1^2 + 2 x2^2 from (-5, -2).  Open the address it prints; drag
-- the sliders; click the plot to start elsewhere; close the page (or
-- Ctrl-C) to stop.
local ms = require "momsandbox"

local qhm = ms.rule{
  name = "my_qhm", hyper = {lr = 0.4, beta = {default = 0.9, min = 0, max = 1},
           nu = {default = 0.7, min = 0, max = 1}},
  state = {"buf"},
  step = function(p, g, s, h)
    s.buf:scale(h.beta):axpy(1 - h.beta, g)
    p:axpy(-h.lr * (1 - h.nu), g):axpy(-h.lr * h.nu, s.buf)
  end}

ms.explore{objective = ms.objective.quadratic{0.2, 4}, x0 = {-5, -2}, steps = 50,
           rule = qhm{lr = 0.6, beta = 0.9, nu = 0.7}, compare = ms.momentum{lr = 0.4, beta = 0.5}}
