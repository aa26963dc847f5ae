--- momsandbox.ffi.analysis: ms.analysis under LuaJIT -- the chapter's
-- theory (d2l 11.6.3) as functions.  The scalar ones take (beta, eta,
-- lambda) in the order of R(beta, eta, lambda); matrices are tables of
-- rows, or a quadratic objective, whose Q (and c, b) they stand for.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local objective = require "momsandbox.ffi.objective"

local C = core.C
local M = {}

--- A failed check of the scalars named names, given from argument 1 on,
-- as an argument error: the engine's message starts with the name.
local function scalar_error(fname, names)
  local msg, arg = core.last_error(), 1
  for i, name in ipairs(names) do
    if msg:sub(1, #name + 1) == name .. " " then arg = i end
  end
  core.argerror(arg, fname, msg)
end

local BEL = {"beta", "eta", "lambda"}

local function scalars(fname, ...)
  local args = {...}
  for i = 1, select("#", ...) do args[i] = core.checknumber(args[i], i, fname) end
  return unpack(args, 1, select("#", ...))
end

local function rows(A, n, m)
  local t = {}
  for i = 1, n do
    t[i] = {}
    for j = 1, m do t[i][j] = A[(i - 1) * m + j - 1] end
  end
  return t
end

local R, re, im = ffi.new("double[4]"), ffi.new("double[2]"), ffi.new("double[2]")
local box, flag = ffi.new("double[1]"), ffi.new("int[1]")

--- ms.analysis.R(beta, eta, lambda): {{beta, lambda}, {-eta beta, 1 - eta lambda}}
function M.R(...)
  local beta, eta, lambda = scalars("R", ...)
  if C.ms_momentum_matrix(beta, eta, lambda, R) ~= 0 then scalar_error("R", BEL) end
  return rows(R, 2, 2)
end

--- ms.analysis.eigenvalues(beta, eta, lambda): the two eigenvalues of R,
-- each {re =, im =, abs =}, the larger modulus first.
function M.eigenvalues(...)
  local beta, eta, lambda = scalars("eigenvalues", ...)
  if C.ms_momentum_eigenvalues(beta, eta, lambda, re, im) ~= 0 then scalar_error("eigenvalues", BEL) end
  local z = {}
  for k = 0, 1 do
    z[k + 1] = {re = re[k], im = im[k], abs = im[k] ~= 0 and math.sqrt(beta) or math.abs(re[k])}
  end
  return z[1], z[2]
end

--- ms.analysis.radius(beta, eta, lambda): the spectral radius of R
function M.radius(...)
  local beta, eta, lambda = scalars("radius", ...)
  if C.ms_momentum_radius(beta, eta, lambda, box) ~= 0 then scalar_error("radius", BEL) end
  return box[0]
end

--- ms.analysis.converges(beta, eta, lambda): 0 < eta lambda < 2 + 2 beta
function M.converges(...)
  local beta, eta, lambda = scalars("converges", ...)
  if C.ms_momentum_converges(beta, eta, lambda, flag) ~= 0 then scalar_error("converges", BEL) end
  return flag[0] ~= 0
end

--- ms.analysis.gd_rate(eta, lambda): |1 - eta lambda|
function M.gd_rate(...)
  local eta, lambda = scalars("gd_rate", ...)
  if C.ms_gd_rate(eta, lambda, box) ~= 0 then scalar_error("gd_rate", {"eta", "lambda"}) end
  return box[0]
end

--- Q at argument 1 as a vector (row-major) and its size: from a table of
-- n rows of n numbers, a table {Q = rows, c = ..., b = ...}, or a
-- quadratic objective; with want_cb, c (a vector or nil) and b too.
local function quadratic(q, fname, want_cb)
  local d = objective.record(q)
  if d then
    local n = d.dim
    local Q, c, b = vec.alloc(n * n), want_cb and vec.alloc(n) or nil, ffi.new("double[1]")
    if C.ms_objective_quadratic_parts(d.ptr, Q.x, c and c.x or nil, b) == 0 then
      core.argerror(1, fname, d.name .. " is not a quadratic")
    end
    return Q, n, c, b[0]
  end
  core.checktable(q, 1, fname)
  local t, c, b = q, nil, 0
  if q.Q ~= nil then
    t = q.Q
    if want_cb and q.c ~= nil then c = vec.tovec(q.c, 1, fname) end
    if want_cb and q.b ~= nil then
      if type(q.b) ~= "number" then core.argerror(1, fname, "b must be a number") end
      b = q.b
    end
  elseif want_cb then
    core.argerror(1, fname, "expected a quadratic objective or {Q = ..., c = ..., b = ...}")
  end
  if type(t) ~= "table" then core.argerror(1, fname, "Q must be a table of rows") end
  local n = #t
  if n == 0 then core.argerror(1, fname, "Q must not be empty") end
  local Q = vec.alloc(n * n)
  for i = 1, n do
    if type(t[i]) ~= "table" or #t[i] ~= n then
      core.argerror(1, fname, ("Q must be square: row %d is not a table of %d numbers"):format(i, n))
    end
    for j = 1, n do
      local x = tonumber(t[i][j])
      if x == nil then core.argerror(1, fname, ("Q[%d][%d] is not a number"):format(i, j)) end
      Q.x[(i - 1) * n + j - 1] = x
    end
  end
  if c and c.n ~= n then core.argerror(1, fname, ("c has %d entries, Q is %dx%d"):format(c.n, n, n)) end
  return Q, n, c, b
end

--- The engine's O(n^3) linear algebra fn(...) for fname, with Ctrl-C
-- reaching it (it calls no Lua: LuaJIT's handler may run at once); a
-- failure other than an interrupt or memory is Q's (argument 1).
local function linalg(fname, fn, ...)
  C.ms_sigint_begin(0)
  local st = fn(...)
  C.ms_sigint_end()
  if st == C.MS_EINTR or st == C.MS_ENOMEM then core.check(st) end
  if st ~= 0 then core.argerror(1, fname, core.last_error()) end
end

--- ms.analysis.eigen(Q or f): the eigenvalues (ascending, a vec) and a
-- table of the unit eigenvectors (vecs), vectors[k] for values[k].
function M.eigen(q)
  local Q, n = quadratic(q, "eigen")
  local values, vectors = vec.alloc(n), vec.alloc(n * n)
  linalg("eigen", C.ms_eigen_symmetric, Q.x, n, values.x, vectors.x)
  local list = {}
  for k = 0, n - 1 do list[k + 1] = vec.copy_of(vectors.x + k * n, n) end
  return values, list
end

--- ms.analysis.optimal(mu, L), or optimal(Q or f) for the extreme
-- eigenvalues of Q: {mu, L, kappa, gd = {lr}, gd_rate, momentum = {lr,
-- beta}, momentum_rate}, so that ms.momentum(opt.momentum) is the best
-- heavy ball.
function M.optimal(a, b)
  local mu, L
  if type(a) == "number" then
    mu, L = a, core.checknumber(b, 2, "optimal")
  else
    local Q, n = quadratic(a, "optimal")
    local values = vec.alloc(n)
    linalg("optimal", C.ms_eigen_symmetric, Q.x, n, values.x, nil)
    mu, L = values.x[0], values.x[n - 1]
    if not (mu > 0) then
      core.argerror(1, "optimal", ("Q is not positive definite (its smallest eigenvalue is %f): " ..
                                   "the rates need mu > 0"):format(mu))
    end
  end
  local gd_eta, gd_rate = ffi.new("double[1]"), ffi.new("double[1]")
  local eta, beta, rate = ffi.new("double[1]"), ffi.new("double[1]"), ffi.new("double[1]")
  if C.ms_gd_optimal(mu, L, gd_eta, gd_rate) ~= 0 or
     C.ms_momentum_optimal(mu, L, eta, beta, rate) ~= 0 then
    core.argerror(1, "optimal", core.last_error())
  end
  return {mu = mu, L = L, kappa = L / mu, gd = {lr = gd_eta[0]}, gd_rate = gd_rate[0],
          momentum = {lr = eta[0], beta = beta[0]}, momentum_rate = rate[0]}
end

--- ms.analysis.minimize(h or {Q =, c =, b =}): the minimiser x* = -Q^-1 c
-- (a vec) and the minimum h(x*) = b + c'x* / 2.
function M.minimize(q)
  local Q, n, c, b = quadratic(q, "minimize", true)
  local x = vec.alloc(n)
  linalg("minimize", C.ms_quadratic_minimize, Q.x, c and c.x or nil, b, n, x.x, box)
  return x, box[0]
end

for name, fn in pairs(M) do M[name] = core.protect(fn) end

return M
