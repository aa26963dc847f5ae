--- momsandbox.ffi_analysis: the primitive analysis(op, ...) for LuaJIT, the
-- chapter's theory (d2l 11.6.3) in the engine, as numbers and vectors.
-- Twin of bindings/lua/l_analysis.c; user: lua/momsandbox/analysis.lua
-- (ms.analysis), which reads matrices, checks and words the messages.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"
local objective = require "momsandbox.ffi_objective"
local rule = require "momsandbox.ffi_rule"

local C = core.C
local out = ffi.new("double[4]")

local function bad(n, msg)
  core.argerror(n, "analysis", msg)
end

local function num(x, n)
  if x == nil then return 0 / 0 end
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

local rho, count_out = ffi.new("double[1]"), ffi.new("size_t[1]")

--- The theory of a rule (ms_rule_matrix and friends), which steps it and
-- so may call back into Lua: see l_analysis.c's rule_theory.
local function rule_theory(op, r, lam, t, xname, x, yname, y)
  local F = "analysis"
  if op ~= "rule_matrix" and op ~= "rule_spectrum" and op ~= "rule_radius" and op ~= "rule_region" then
    bad(1, "unknown operation")
  end
  local d = rule.check(r, 2, F)
  local m = d.class.cptr.nstate + 1
  local region, radius = op == "rule_region", op == "rule_radius"
  t = core.checkinteger(t, 4, F)
  local lams, res, im
  if region or radius then lams = vec.checkvec(lam, 3, F)
  elseif type(lam) ~= "number" then core.typeerror(3, F, "number", lam) end
  if region then
    if type(xname) ~= "string" then core.typeerror(5, F, "string", xname) end
    if type(yname) ~= "string" then core.typeerror(7, F, "string", yname) end
    x, y = vec.checkvec(x, 6, F), vec.checkvec(y, 8, F)
    if x.n * y.n > 2 ^ 31 then core.argerror(6, F, "too many points") end
    res = vec.alloc(x.n * y.n)
  elseif not radius then
    res = vec.alloc(op == "rule_matrix" and m * m or m)
    if op == "rule_spectrum" then im = vec.alloc(m) end
  end
  local st
  if region then
    st = core.call_long(C.ms_rule_region, d.ptr, lams.x, lams.n, t, xname, x.x, x.n, yname, y.x,
                        y.n, res.x)
  elseif radius then
    st = core.call_long(C.ms_rule_radius, d.ptr, lams.x, lams.n, t, rho)
  elseif im then
    st = core.call_long(C.ms_rule_spectrum, d.ptr, lam, t, res.x, im.x, count_out)
  elseif op == "rule_matrix" then
    st = core.call_long(C.ms_rule_matrix, d.ptr, lam, t, res.x)
  else
    bad(1, "unknown operation")
  end
  if st ~= 0 then return core.failed(st) end
  if radius then return rho[0] end
  if im then return res, im, tonumber(count_out[0]) end
  if region then return res end
  return res, m
end

local inputs = ffi.new("double[3]")
local count = ffi.new("int[1]")

return {
  analysis = function(op, a, b, c, d, ...)
    if type(op) == "string" and op:sub(1, 5) == "rule_" then return rule_theory(op, a, b, c, d, ...) end
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
    -- the scalar formulas by ms_theory (a missing input is NaN, which it refuses)
    if type(op) ~= "string" then bad(1, "string expected, got " .. core.typename(op)) end
    inputs[0], inputs[1], inputs[2] = num(a, 2), num(b, 3), num(c, 4)
    local st = C.ms_theory(op, inputs, out, count)
    if st ~= 0 then return core.failed(st) end
    return unpack({out[0], out[1], out[2], out[3]}, 1, count[0])
  end,
}
