--- momsandbox.theory: the theory of any linear rule, over the rule_*
-- operations of the primitive analysis -- its iteration matrix on
-- lambda x^2 / 2, found from its own step (so rules written in Lua too),
-- the eigenvalues x sees, the spectral radius, the rate on a quadratic
-- objective, the settings that minimise it, and the region map.
-- ms.analysis (analysis.lua) presents them next to heavy ball's closed
-- forms; the checks and messages are here.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local M = {}

--- The step whose matrix the functions take by default: a late one, the
-- steady state (sgd's and nesterov's first step starts their buffer; a
-- rule written with t, such as a bias correction, has settled by then).
M.STEADY = 2 ^ 20

local tointeger = math.tointeger or function(x) return x end

function M.is_rule(r)
  return native.kind(r) == "rule"
end

--- The rule at argument n of fname.
function M.rule(r, n, fname)
  if native.kind(r) ~= "rule" then check.typeerror(n, fname, "momsandbox.rule", r) end
  return r
end

--- lambda at argument n of fname: a finite number.
function M.lambda(x, n, fname)
  x = check.number(x, n, fname)
  if x ~= x or x == math.huge or x == -math.huge then
    check.argerror(n, fname, "lambda must be a finite number, got " .. native.format(x))
  end
  return x
end

--- The step t of the options at argument n of fname, with the other keys
-- known (a list) allowed.
function M.step(opts, n, fname, known)
  if opts == nil then return M.STEADY end
  local keys = {"t"}
  for _, k in ipairs(known or {}) do keys[#keys + 1] = k end
  table.sort(keys)
  check.options(opts, n, fname, keys)
  local t = check.optint(opts, n, fname, "t", M.STEADY)
  if t < 1 then check.argerror(n, fname, "option 't' (the step) must be >= 1, got " .. native.format(t)) end
  return tointeger(t)
end

--- The results of a rule_* operation, or its failure: the engine's
-- complaint about the rule (not linear, a value missing) is argument 1's.
local function result(fname, ok, ...)
  if ok == nil then check.argerror(1, fname, (...)) end
  return ok, ...
end

--- The iteration matrix as rows and the names of z = (x, state...).
function M.matrix(r, lambda, t, fname)
  local flat, m = result(fname, native.analysis("rule_matrix", r, lambda, t))
  flat = flat:totable()
  local rows, names = {}, {"x"}
  for i = 1, m do
    rows[i] = {}
    for j = 1, m do rows[i][j] = flat[(i - 1) * m + j] end
  end
  for i, s in ipairs(native.rule_op(r, "info").class.state) do names[i + 1] = s end
  return rows, names
end

--- The eigenvalues x sees, each {re =, im =, abs =}, the larger modulus first.
function M.eigenvalues(r, lambda, t, fname)
  local re, im, count = result(fname, native.analysis("rule_spectrum", r, lambda, t))
  local list = {}
  for k = 1, count do
    list[k] = {re = re[k], im = im[k], abs = math.sqrt(re[k] * re[k] + im[k] * im[k])}
  end
  return list
end

--- The spectral radius, the largest over the numbers in lambdas (a table).
function M.radius(r, lambdas, t, fname)
  return (result(fname, native.analysis("rule_radius", r, check.vec(lambdas, 2, fname), t)))
end

return M
