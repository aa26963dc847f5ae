--- ms.analysis: the chapter's theory (d2l 11.6.3) as functions, over the
-- primitive analysis.  The scalar ones take (beta, eta, lambda) in the
-- order of R(beta, eta, lambda); matrices are tables of rows, or a
-- quadratic objective, whose Q (and c, b) they stand for.
local native = require "momsandbox.native"
local check = require "momsandbox.check"
local theory = require "momsandbox.theory"

local unpack = table.unpack or unpack
local M = {}
local rule_rate, rule_optimal   -- of a rule on a quadratic: below
local BEL = {"beta", "eta", "lambda"}

--- native.analysis(op, ...) on the numbers named names (argument 1 on) of
-- fname; the engine's complaint starts with the name of the bad one.
local function scalar(op, fname, names, ...)
  local args = {...}
  for i = 1, #names do args[i] = check.number(args[i], i, fname) end
  local res = {native.analysis(op, unpack(args, 1, #names))}
  if res[1] == nil then
    local arg = 1
    for i, name in ipairs(names) do
      if res[2]:sub(1, #name + 1) == name .. " " then arg = i end
    end
    check.argerror(arg, fname, res[2])
  end
  return unpack(res, 1, 4)
end

--- ms.analysis.R(beta, eta, lambda): {{beta, lambda}, {-eta beta, 1 - eta lambda}}
function M.R(...)
  local a, b, c, d = scalar("R", "R", BEL, ...)
  return {{a, b}, {c, d}}
end

--- ms.analysis.eigenvalues(beta, eta, lambda): the two eigenvalues of R,
-- each {re =, im =, abs =}, the larger modulus first; eigenvalues(rule,
-- lambda [, {t =}]): those of the rule's matrix that x sees.
function M.eigenvalues(beta, ...)
  if theory.is_rule(beta) then
    local lambda, opts = ...
    lambda = theory.lambda(lambda, 2, "eigenvalues")
    return unpack(theory.eigenvalues(beta, lambda, theory.step(opts, 3, "eigenvalues"), "eigenvalues"))
  end
  local re1, re2, im1, im2 = scalar("eigenvalues", "eigenvalues", BEL, beta, ...)
  local root = math.sqrt(tonumber(beta))
  return {re = re1, im = im1, abs = im1 ~= 0 and root or math.abs(re1)},
         {re = re2, im = im2, abs = im2 ~= 0 and root or math.abs(re2)}
end

--- ms.analysis.radius(beta, eta, lambda): the spectral radius of R;
-- radius(rule, lambda [, {t =}]): that of the rule's matrix (what x sees).
function M.radius(r, ...)
  if theory.is_rule(r) then
    local lambda, opts = ...
    lambda = theory.lambda(lambda, 2, "radius")
    return theory.radius(r, {lambda}, theory.step(opts, 3, "radius"), "radius")
  end
  return (scalar("radius", "radius", BEL, r, ...))
end

--- ms.analysis.converges(beta, eta, lambda): 0 < eta lambda < 2 + 2 beta;
-- converges(rule, f or lambda [, {t =}]): rate(rule, f) < 1.
function M.converges(r, ...)
  if theory.is_rule(r) then return rule_rate(r, select(1, ...), select(2, ...), "converges") < 1 end
  return scalar("converges", "converges", BEL, r, ...) == 1
end

--- ms.analysis.gd_rate(eta, lambda): |1 - eta lambda|
function M.gd_rate(...)
  return (scalar("gd_rate", "gd_rate", {"eta", "lambda"}, ...))
end

--- Q at argument 1 of fname as a vec (row-major) and its size n: from a
-- table of n rows of n numbers (read raw: a __len may say anything), a
-- table {Q = rows, c = ..., b = ...}, or a quadratic objective; with
-- want_cb, c (a vec or nil) and b too.
local function quadratic(q, fname, want_cb, arg)
  arg = arg or 1
  local Q, n, c, b = native.analysis("parts", q, want_cb)
  if Q == nil then check.argerror(arg, fname, n) end
  if Q then return Q, n, c, b end
  if type(q) ~= "table" then check.typeerror(arg, fname, "quadratic objective or Q as rows", q) end
  local rows
  rows, b = q, 0
  if q.Q ~= nil then
    rows = q.Q
    if want_cb and q.c ~= nil then c = check.vec(q.c, arg, fname) end
    if want_cb and q.b ~= nil then
      if type(q.b) ~= "number" then check.argerror(arg, fname, "b must be a number") end
      b = q.b
    end
  elseif want_cb then
    check.argerror(arg, fname, "expected a quadratic objective or {Q = ..., c = ..., b = ...}")
  end
  if type(rows) ~= "table" then check.argerror(arg, fname, "Q must be a table of rows") end
  n = check.rawlen(rows)
  if n == 0 then check.argerror(arg, fname, "Q must not be empty") end
  if n > 2^15 then check.argerror(arg, fname, ("Q is too large (%d x %d entries)"):format(n, n)) end
  local flat = {}
  for i = 1, n do
    local row = rawget(rows, i)
    if type(row) ~= "table" or check.rawlen(row) ~= n then
      check.argerror(arg, fname, ("Q must be square: row %d is not a table of %d numbers"):format(i, n))
    end
    for j = 1, n do
      local x = rawget(row, j)
      x = (type(x) == "number" or type(x) == "string") and tonumber(x)
      if not x then check.argerror(arg, fname, ("Q[%d][%d] is not a number"):format(i, j)) end
      flat[#flat + 1] = x
    end
  end
  if c and #c ~= n then check.argerror(arg, fname, ("c has %d entries, Q is %dx%d"):format(#c, n, n)) end
  return check.vec(flat, arg, fname), n, c, b
end

--- The results of an O(n^3) primitive, or its failure as an error: a
-- failure but of memory is Q's (argument arg, default 1).
local function linalg(fname, a, b, code, arg)
  if a == nil then
    if code == "ENOMEM" then check.fail(b) end
    check.argerror(arg or 1, fname, b)
  end
  return a, b
end

--- ms.analysis.eigen(Q or f): the eigenvalues (ascending, a vec) and a
-- table of the unit eigenvectors (vecs), vectors[k] for values[k].
function M.eigen(q)
  local Q, n = quadratic(q, "eigen")
  local values, flat = linalg("eigen", native.analysis("eigen", Q, n, true))
  local vectors = {}
  flat = flat:totable()
  for k = 1, n do
    local row = {}
    for i = 1, n do row[i] = flat[(k - 1) * n + i] end
    vectors[k] = check.vec(row, 1, "eigen")
  end
  return values, vectors
end

--- ms.analysis.optimal(mu, L), or optimal(Q or f) for the extreme
-- eigenvalues of Q: {mu, L, kappa, gd = {lr}, gd_rate, momentum = {lr,
-- beta}, momentum_rate}, so that ms.momentum(opt.momentum) is the best
-- heavy ball.
function M.optimal(a, b, c)
  if theory.is_rule(a) then return rule_optimal(a, b, c) end
  local mu, L
  if type(a) == "number" then
    mu, L = a, check.number(b, 2, "optimal")
  else
    local Q, n = quadratic(a, "optimal")
    local values = linalg("optimal", native.analysis("eigen", Q, n, false))
    mu, L = values[1], values[n]
    if not (mu > 0) then
      check.argerror(1, "optimal", ("Q is not positive definite (its smallest eigenvalue is " ..
                     "%s): the rates need mu > 0"):format(native.format(mu)))
    end
  end
  local gd_lr, gd_rate = native.analysis("gd_optimal", mu, L)
  if gd_lr == nil then check.argerror(1, "optimal", gd_rate) end
  local lr, beta, rate = native.analysis("momentum_optimal", mu, L)
  if lr == nil then check.argerror(1, "optimal", beta) end
  return {mu = mu, L = L, kappa = L / mu, gd = {lr = gd_lr}, gd_rate = gd_rate,
          momentum = {lr = lr, beta = beta}, momentum_rate = rate}
end

--- ms.analysis.minimize(h or {Q =, c =, b =}): the minimiser x* = -Q^-1 c
-- (a vec) and the minimum h(x*) = b + c'x* / 2.
function M.minimize(q)
  local Q, n, c, b = quadratic(q, "minimize", true)
  return linalg("minimize", native.analysis("minimize", Q, n, c, b))
end

--- The eigenvalues of the Hessian of f (argument n of fname), ascending and
-- distinct: the one place the theory of a rule asks an objective for them
-- (a quadratic objective, Q as rows, {Q = ...}, or a number: the lambda of
-- lambda x^2 / 2).
local function hessian_eigenvalues(f, n, fname)
  if type(f) == "number" then return {theory.lambda(f, n, fname) + 0.0} end   -- a float, as Q's
  local Q, size = quadratic(f, fname, false, n)
  local values = linalg(fname, native.analysis("eigen", Q, size, false), nil, nil, n):totable()
  local distinct = {}
  for _, v in ipairs(values) do
    if v ~= distinct[#distinct] then distinct[#distinct + 1] = v end
  end
  return distinct
end

--- ms.analysis.matrix(rule, lambda [, {t =}]): the iteration matrix of the
-- rule on lambda x^2 / 2 (rows), and the names of z = (x, state...).
function M.matrix(r, lambda, opts)
  theory.rule(r, 1, "matrix")
  lambda = theory.lambda(lambda, 2, "matrix")
  return theory.matrix(r, lambda, theory.step(opts, 3, "matrix"), "matrix")
end

--- ms.analysis.rate(rule, f or lambda [, {t =}]): the largest radius over
-- the eigenvalues of f's Hessian -- the factor by which the error shrinks per
-- step in the long run.
function rule_rate(r, f, opts, fname)
  theory.rule(r, 1, fname)
  local values = hessian_eigenvalues(f, 2, fname)
  return theory.radius(r, values, theory.step(opts, 3, fname), fname)
end

function M.rate(r, f, opts)
  return rule_rate(r, f, opts, "rate")
end

--- ms.analysis.optimal(rule, f, {tune = {names}, range =, method =, t =}):
-- the values of the tuned hyper-parameters minimising the rule's rate on f.
function rule_optimal(r, f, opts)
  local values = hessian_eigenvalues(f, 2, "optimal")
  if not (values[1] > 0) then
    check.argerror(2, "optimal", ("Q is not positive definite (its smallest eigenvalue is " ..
                   "%s): the rates need mu > 0"):format(native.format(values[1])))
  end
  if opts == nil then check.argerror(3, "optimal", "options {tune = {names}} are required") end
  local t = theory.step(check.table(opts, 3, "optimal"), 3, "optimal", {"method", "range", "tune"})
  if rawget(opts, "tune") == nil then
    check.argerror(3, "optimal", "option 'tune' (the hyper-parameters to tune) is required")
  end
  return require("momsandbox.optimal").optimal(r, values, opts, t)
end

--- ms.analysis.region{rule =, x =, y =, grid =, lambda = or f =, t =}: the
-- radius over two hyper-parameters, as sweep-like data (region.lua).
function M.region(opts)
  return require("momsandbox.region")(opts, hessian_eigenvalues)
end

for name, fn in pairs(M) do M[name] = check.protect(fn) end

return M
