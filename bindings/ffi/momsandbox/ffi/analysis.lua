--- momsandbox.ffi.analysis: the primitive analysis(op, ...) for LuaJIT, the
-- chapter's theory (d2l 11.6.3) in the engine, as numbers and vectors.
-- Twin of bindings/lua/l_analysis.c; user: lua/momsandbox/analysis.lua
-- (ms.analysis), which reads matrices, checks and words the messages.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local objective = require "momsandbox.ffi.objective"

local C = core.C
local out = ffi.new("double[4]")
local flag = ffi.new("int[1]")

local function bad(n, msg)
  error(core.argmsg(n, "analysis", msg), 0)
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

--- eigen(Q, n, vectors) and minimize(Q, n, c, b): the O(n^3) linear
-- algebra, with Ctrl-C reaching it (it calls no Lua: LuaJIT's handler may
-- run at once).
local function linalg(minimize, Q, n, c, b)
  if not (type(n) == "number" and core.is_integer(n)) or n < 1 or n > 32768 then
    bad(3, "n must be in [1, 32768]")
  end
  local q, x = vecarg(Q, 2, n * n), vec.alloc(n)
  local vectors = not minimize and c and vec.alloc(n * n) or nil
  local st = minimize and core.with_sigint(0, C.ms_quadratic_minimize, q, vecarg(c, 4, n, true),
                                           num(b, 5), n, x.x, out)
             or core.with_sigint(0, C.ms_eigen_symmetric, q, n, x.x, vectors and vectors.x)
  if st ~= 0 then return core.failed(st) end
  if minimize then return x, out[0] end
  return x, vectors
end

local ops = {   -- op -> the engine's function, number of inputs
  R = {C.ms_momentum_matrix, 3}, eigenvalues = {C.ms_momentum_eigenvalues, 3},
  radius = {C.ms_momentum_radius, 3}, converges = {C.ms_momentum_converges, 3},
  gd_rate = {C.ms_gd_rate, 2}, gd_optimal = {C.ms_gd_optimal, 2},
  momentum_optimal = {C.ms_momentum_optimal, 2},
}

return {
  analysis = function(op, a, b, c, d)
    if op == "eigen" or op == "minimize" then return linalg(op == "minimize", a, b, c, d) end
    if op == "parts" then
      local o = objective.record(a)
      if not o then return false end
      local n = o.dim
      if n > 32768 then return nil, "Q is too large" end
      local Q, cv = vec.alloc(n * n), b and vec.alloc(n) or nil
      if C.ms_objective_quadratic_parts(o.ptr, Q.x, cv and cv.x or nil, out) == 0 then
        return nil, o.name .. " is not a quadratic"
      end
      return Q, n, cv, out[0]
    end
    if type(op) ~= "string" or not ops[op] then bad(1, "unknown operation") end
    local fn, st = ops[op][1]
    a, b = num(a, 2), num(b, 3)
    if op == "converges" then st = fn(a, b, num(c, 4), flag)
    elseif op == "eigenvalues" then st = fn(a, b, num(c, 4), out, out + 2)
    elseif op == "momentum_optimal" then st = fn(a, b, out, out + 1, out + 2)
    elseif op == "gd_optimal" then st = fn(a, b, out, out + 1)
    elseif ops[op][2] == 3 then st = fn(a, b, num(c, 4), out)
    else st = fn(a, b, out) end
    if st ~= 0 then return core.failed(st) end
    if op == "converges" then return flag[0] ~= 0 end
    local n = ({R = 4, eigenvalues = 4, gd_optimal = 2, momentum_optimal = 3})[op] or 1
    return unpack({out[0], out[1], out[2], out[3]}, 1, n)
  end,
}
