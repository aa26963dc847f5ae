--- momsandbox.ffi.analysis: the primitive analysis(op, ...) for LuaJIT, the
-- chapter's theory (d2l 11.6.3) in the engine, as numbers and vectors.
-- Twin of bindings/lua/l_analysis.c; user: lua/momsandbox/analysis.lua
-- (ms.analysis), which reads matrices, checks and words the messages.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local objective = require "momsandbox.ffi.objective"

local C = core.C
local names = {[0] = "OK", "ENOMEM", "EINVAL", "ESIZE", "ERANGE", "ECALLBACK", "EIO", "EPARSE",
               "ENONFINITE", "EINTR"}
local out = ffi.new("double[4]")
local flag = ffi.new("int[1]")

local function bad(n, msg)
  error(core.argmsg(n, "analysis", msg), 3)
end

--- The result of an engine call: true when it went well, else false and
-- nil, message, code for the caller to return (Ctrl-C raised).
local function failed(st)
  st = tonumber(st)
  if st == 0 then return false end
  if st == C.MS_EINTR then core.check(st) end
  return true, nil, core.last_error(), names[st]
end

local function num(x, n)
  if type(x) ~= "number" then bad(n, "number expected, got " .. core.typename(x)) end
  return x
end

--- The vector x of n entries (nil for nil when optional).
local function vecarg(x, idx, n, optional)
  if optional and x == nil then return nil end
  if not vec.is(x) or x.dead ~= 0 or x.n ~= n then
    bad(idx, "vector of the matrix's size expected")
  end
  return x.x
end

local function matrix(Q, n)
  if not (type(n) == "number" and core.is_integer(n)) or n < 1 or n > 32768 then
    bad(3, "n must be in [1, 32768]")
  end
  return vecarg(Q, 2, n * n), n
end

--- The O(n^3) linear algebra fn(...), with Ctrl-C reaching it (it calls
-- no Lua: LuaJIT's handler may run at once).
local function linalg(fn, ...)
  C.ms_sigint_begin(0)
  local st = fn(...)
  C.ms_sigint_end()
  return st
end

local ops = {}

function ops.parts(q, want_c)
  local d = objective.record(q)
  if not d then return false end
  local n = d.dim
  if n > 32768 then return nil, "Q is too large" end
  local Q, c = vec.alloc(n * n), want_c and vec.alloc(n) or nil
  if C.ms_objective_quadratic_parts(d.ptr, Q.x, c and c.x or nil, out) == 0 then
    return nil, d.name .. " is not a quadratic"
  end
  return Q, n, c, out[0]
end

function ops.eigen(Q, n, want)
  local q = matrix(Q, n)
  local values, vectors = vec.alloc(n), want and vec.alloc(n * n) or nil
  local f, a, b, c = failed(linalg(C.ms_eigen_symmetric, q, n, values.x, vectors and vectors.x))
  if f then return a, b, c end
  if not want then return values end
  local list = {}
  for k = 0, n - 1 do list[k + 1] = vec.copy_of(vectors.x + k * n, n) end
  return values, list
end

function ops.minimize(Q, n, c, b)
  local q = matrix(Q, n)
  local x = vec.alloc(n)
  local f, r1, r2, r3 = failed(linalg(C.ms_quadratic_minimize, q, vecarg(c, 4, n, true),
                                      num(b, 5), n, x.x, out))
  if f then return r1, r2, r3 end
  return x, out[0]
end

local scalar = {   -- op -> engine function, number of inputs
  R = {C.ms_momentum_matrix, 3}, eigenvalues = {C.ms_momentum_eigenvalues, 3},
  radius = {C.ms_momentum_radius, 3}, converges = {C.ms_momentum_converges, 3},
  gd_rate = {C.ms_gd_rate, 2}, gd_optimal = {C.ms_gd_optimal, 2},
  momentum_optimal = {C.ms_momentum_optimal, 2},
}

local function run_scalar(op, a, b, c)
  local fn, k = scalar[op][1], scalar[op][2]
  a, b = num(a, 2), num(b, 3)
  local st
  if op == "converges" then st = fn(a, b, num(c, 4), flag)
  elseif op == "eigenvalues" then st = fn(a, b, num(c, 4), out, out + 2)
  elseif op == "momentum_optimal" then st = fn(a, b, out, out + 1, out + 2)
  elseif op == "gd_optimal" then st = fn(a, b, out, out + 1)
  elseif k == 3 then st = fn(a, b, num(c, 4), out)
  else st = fn(a, b, out) end
  local f, r1, r2, r3 = failed(st)
  if f then return r1, r2, r3 end
  if op == "converges" then return flag[0] ~= 0 end
  if op == "eigenvalues" then return out[0], out[2], out[1], out[3] end
  if op == "R" then return out[0], out[1], out[2], out[3] end
  if op == "momentum_optimal" then return out[0], out[1], out[2] end
  if op == "gd_optimal" then return out[0], out[1] end
  return out[0]
end

return {
  analysis = function(op, ...)
    if ops[op] then return ops[op](...) end
    if type(op) ~= "string" or not scalar[op] then bad(1, "unknown operation") end
    return run_scalar(op, ...)
  end,
}
