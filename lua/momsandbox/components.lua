--- momsandbox.components: tr:components(), Distill's eigen view of a run on
-- a quadratic objective f(x) = 1/2 x'Qx + c'x + b: the error x_t - x*
-- along each unit eigenvector q_k of Q, e_k(t) = q_k'(x_t - x*).  On a
-- quadratic every linear rule decouples along them, so e_k shrinks by the
-- rule's radius at lambda_k (ms.analysis.radius(rule, lambda_k)).
local native = require "momsandbox.native"
local check = require "momsandbox.check"

--- {steps = {t...}, [k] = {lambda =, vector = q_k (a vec), error = {e_k(t)...}}},
-- k in ascending order of the eigenvalues lambda_k.
return function(tr)
  local f = tr.objective
  local Q, n, c, b = native.analysis("parts", f, true)
  if not Q then
    check.fail(("components needs a run on a quadratic objective%s"):format(
               Q == nil and " (" .. n .. ")" or ""))
  end
  local values, vectors = native.analysis("eigen", Q, n, true)
  if values == nil then check.fail("components: " .. vectors) end
  local xstar = c and native.analysis("minimize", Q, n, c, b)
  if c and xstar == nil then
    check.fail("components needs the minimiser of f, which it has not (Q is not positive definite)")
  end
  values, vectors = values:totable(), vectors:totable()
  xstar = xstar and xstar:totable()
  local res, len = {steps = {}}, #tr
  for k = 1, n do
    local q = {}
    for i = 1, n do q[i] = vectors[(k - 1) * n + i] end
    res[k] = {lambda = values[k], vector = check.vec(q, 1, "components"), error = {}}
  end
  for t = 1, len do
    res.steps[t] = tr:step(t)
    local x = tr:point(t):totable()
    for k = 1, n do
      local s, q = 0, res[k].vector
      for i = 1, n do s = s + q[i] * (x[i] - (xstar and xstar[i] or 0)) end
      res[k].error[t] = s
    end
  end
  return res
end
