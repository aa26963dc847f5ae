--- momsandbox.ffi_objective: objectives as the native kind "objective" for
-- LuaJIT: the primitives objective_builtin, objective_new, objective_compile,
-- objective_call and objective_info.  Twin of bindings/lua/l_objective.c; user:
-- lua/momsandbox/objective.lua (ms.objective, ms.gradcheck).
--
-- A handle is a cdata `{ms_objective *ptr}`; its record (engine pointer,
-- dim, name, and evaluate(x, fbox, g) -> status, a number) sits in a weak-keyed table for the
-- other FFI parts (M.record, M.check).  A Lua objective's
-- engine object calls back into Lua; the trace loop (ffi_trace.lua) calls
-- its functions directly instead, through evaluate, which LuaJIT compiles
-- into the loop.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"
require "momsandbox.ffi_model"   -- the kinds model and data, which objectives take

local C = core.C
local M = {}

local H = core.handle_type("objective", "ms_objective", C.ms_objective_free)
local records = setmetatable({}, {__mode = "k"})   -- handle -> record

--- The record of o if it is an objective (closed or not), else nil.
function M.record(o)
  return records[o]
end

--- The record of the live objective at argument arg of fname.
function M.check(o, arg, fname, present)
  local d = records[o] or core.typeerror(arg, fname, "momsandbox.objective", o, present)
  if d.closed then core.argerror(arg, fname, "objective has been closed") end
  return d
end

local outbox = ffi.new("ms_objective *[1]")

--- The handle of the objective a constructor left in outbox (status st),
-- with its record d; or nil, message, code.
local function own(st, d)
  if st ~= 0 then return core.failed(st) end
  local h = H.own(outbox[0])
  local ptr = h.ptr
  d.ptr, d.dim, d.name = ptr, tonumber(C.ms_objective_dim(ptr)), ffi.string(C.ms_objective_name(ptr))
  d.evaluate = d.evaluate or function(x, fbox, g)
    return tonumber(C.ms_objective_eval(ptr, x, fbox, g))
  end
  records[h] = d
  return h
end

------------------------------------------------------------ primitives

local BUILTIN = "objective_builtin"

--- A live vector at argument i of n entries.
local function vecarg(v, i, fname, n)
  if not vec.is(v) then core.typeerror(i, fname, "momsandbox.vec", v) end
  if v.dead ~= 0 then core.argerror(i, fname, "vector is no longer valid") end
  if n and v.n ~= n then core.argerror(i, fname, "vector of the wrong size") end
  return v
end

--- native.objective_builtin(name, args vec | model, data): the record of
-- the engine's training loss keeps m and d (closing them only marks them:
-- they are freed with their last reference).
local function objective_builtin(name, a, b)
  if type(name) ~= "string" then core.typeerror(1, BUILTIN, "string", name) end
  if name ~= "model" then
    a = vecarg(a, 2, BUILTIN)
    -- rotated_quadratic of dim = 4096 takes a minute; no callback: LuaJIT's
    -- handler may run at once
    return own(core.with_sigint(0, C.ms_objective_builtin, name, a.x, a.n, outbox), {})
  end
  core.checkkind(a, "model", 2, BUILTIN)
  core.checkkind(b, "data", 3, BUILTIN)
  if a.closed ~= 0 then core.argerror(2, BUILTIN, "model has been closed") end
  if b.closed ~= 0 then core.argerror(3, BUILTIN, "data set has been closed") end
  return own(C.ms_model_objective(a.ptr, b.ptr, outbox), {keep = {a, b}})
end

------------------------------------------------------------ Lua-defined

-- Bits written into the gradient before the Lua grad function runs: an
-- entry still holding them afterwards was not set.  (Written and read as
-- integers: LuaJIT would canonicalise such a NaN read as a number.)
local UNSET = 0x7ff80000deadbeefULL
local unset_box = ffi.new("uint64_t[1]", UNSET)
-- The check after grad compares through memcmp: LuaJIT takes stores of
-- one C type never to alias loads of another, and in a compiled trace
-- would answer a uint64_t load that follows grad's double stores with
-- the UNSET stored before them ("did not set out[2]" for a grad that did).
-- A C call is a barrier no load is moved across.
pcall(ffi.cdef, "int memcmp(const void *a, const void *b, size_t n);")

-- Each nesting level of calls into an objective (grad calling f) has its
-- own views, so a nested call leaves the outer call's views alone.
local function views(d)
  local level = d.views[d.depth]
  if level == nil then
    level = {x = vec.newview(true), out = vec.newview(false)}
    d.views[d.depth] = level
  end
  return level
end

--- f at the dim numbers at x, through the Lua function.
local function call_f(d, x)
  d.depth = d.depth + 1
  local xv = views(d).x
  vec.aim(xv, x, d.dim)
  local ok, r = xpcall(d.f, core.traceback, xv)
  vec.kill(xv)
  d.depth = d.depth - 1
  if not ok then error(r, 0) end
  if type(r) ~= "number" then
    r = type(r) == "string" and tonumber(r) or
        error(("objective function f returned %s, expected a number"):format(type(r)), 0)
  end
  return r
end

--- The gradient at x into g, through the Lua function grad(x, out).
local function call_grad(d, x, g)
  local n, bits = d.dim, ffi.cast("uint64_t *", g)
  for i = 0, n - 1 do bits[i] = UNSET end
  d.depth = d.depth + 1
  local level = views(d)
  vec.aim(level.x, x, n)
  vec.aim(level.out, g, n)
  local ok, err = xpcall(d.grad, core.traceback, level.x, level.out)
  vec.kill(level.x)
  vec.kill(level.out)
  d.depth = d.depth - 1
  if not ok then error(err, 0) end
  for i = 0, n - 1 do
    if ffi.C.memcmp(g + i, unset_box, 8) == 0 then
      error(("gradient function grad did not set out[%d]"):format(i + 1), 0)
    end
  end
end

-- Lua objectives by callback context, for the engine's calls.
local by_id = setmetatable({}, {__mode = "v"})

local function eval_lua(d, x, fp, gp)
  if fp ~= nil then fp[0] = call_f(d, x) end
  if gp ~= nil then call_grad(d, x, gp) end
end

-- One callback serves every Lua objective: callbacks are a scarce resource.
local callback = ffi.cast("ms_objective_fn", function(ctx, x, _, fp, gp)
  return core.callback_status(eval_lua, by_id[tonumber(ffi.cast("intptr_t", ctx))], x, fp, gp)
end)
local last_id = 0

local function objective_new(n, f, grad)
  if type(n) ~= "number" or not core.is_integer(n) or n < 1 or n > 2^30 then
    core.argerror(1, "objective_new", "dim must be in [1, 2^30]")
  end
  if type(f) ~= "function" then core.typeerror(2, "objective_new", "function", f) end
  if grad ~= nil and type(grad) ~= "function" then core.typeerror(3, "objective_new", "function", grad) end
  last_id = last_id + 1
  -- calls_back, as a rule's record says it: evaluate calls Lua from inside
  -- the engine, which takes f's finite differences when there is no grad
  local d = {f = f, grad = grad, views = {}, depth = 0, id = last_id,
             calls_back = grad == nil}
  by_id[d.id] = d
  -- f then the gradient, as the engine asks a callback objective: without
  -- grad, fourth-order finite differences of f, computed by the engine
  function d.evaluate(x, fbox, g)
    if fbox ~= nil then fbox[0] = call_f(d, x) end
    if g == nil then return 0 end
    if d.grad then
      call_grad(d, x, g)
      return 0
    end
    -- (ms_objective_eval: inside a loop, an interrupt stays pending)
    return tonumber(core.call_back(C.ms_objective_eval, d.ptr, x, nil, g))
  end
  return own(C.ms_objective_new(n, callback, grad and 1 or 0, ffi.cast("void *", d.id), nil, outbox), d)
end

------------------------------------------------------------ compiled

--- A node's field from the code vector: an integer in [0, max], or nil.
local function code_int(v, max)
  if v >= 0 and v <= max and v == math.floor(v) then return v end
end

local function objective_compile(n, code)
  if type(n) ~= "number" or not core.is_integer(n) or n < 1 or n > 2^30 then
    core.argerror(1, "objective_compile", "dim must be in [1, 2^30]")
  end
  code = vecarg(code, 2, "objective_compile")
  if code.n % 4 ~= 0 then core.argerror(2, "objective_compile", "code must hold 4 numbers a node") end
  local count = code.n / 4
  if count > C.MS_EXPR_NODES_MAX then core.argerror(2, "objective_compile", "too many nodes") end
  local nodes, x = ffi.new("ms_expr_node[?]", count > 0 and count or 1), code.x
  for i = 0, count - 1 do
    local op, a, b = code_int(x[4 * i], C.MS_EXPR_NOPS), code_int(x[4 * i + 1], 4294967295),
                     code_int(x[4 * i + 2], 4294967295)
    if not (op and a and b) then
      core.argerror(2, "objective_compile", "a node's op, a and b must be integers in range")
    end
    local e = nodes[i]
    e.op, e.a, e.b, e.c = op, a, b, x[4 * i + 3]
  end
  return own(C.ms_objective_expr(n, nodes, count, outbox), {})
end

------------------------------------------------------------ calls

local errbox, indexbox = ffi.new("double[1]"), ffi.new("size_t[1]")

-- Each returns the engine's status, then its results.
local ops = {
  -- (each call has its own box for f: a Lua objective may call itself)
  value = function(d, x)
    local fbox = ffi.new("double[1]")
    local st = d.evaluate(x.x, fbox, nil)
    return st, fbox[0]
  end,
  grad = function(d, x)
    local g = vec.alloc(d.dim)
    return d.evaluate(x.x, nil, g.x), g
  end,
  eval = function(d, x)
    local g, fbox = vec.alloc(d.dim), ffi.new("double[1]")
    local st = d.evaluate(x.x, fbox, g.x)
    return st, fbox[0], g
  end,
  numgrad = function(d, x)
    local g = vec.alloc(d.dim)
    return core.call_long(C.ms_objective_numgrad, d.ptr, x.x, g.x), g
  end,
  hessian = function(d, x)
    if d.dim > 2^30 / d.dim then core.argerror(3, "objective_call", "dimension too large for a Hessian") end
    local hess = vec.alloc(d.dim * d.dim)
    return core.call_long(C.ms_objective_hessian, d.ptr, x.x, hess.x), hess
  end,
  gradcheck = function(d, x)
    local st = core.call_long(C.ms_objective_gradcheck, d.ptr, x.x, errbox, indexbox)
    return st, errbox[0], tonumber(indexbox[0]) + 1
  end,
}

local function finish(st, ...)
  if st ~= 0 then return core.failed(st) end
  return ...
end

local function objective_call(o, op, x)
  local d = records[core.checkkind(o, "objective", 1, "objective_call")]
  local run = type(op) == "string" and ops[op]
  if not run then core.argerror(2, "objective_call", "no such operation") end
  if d.closed then return core.closed("objective") end
  return finish(run(d, vecarg(x, 3, "objective_call", d.dim)))
end

local function objective_info(o)
  local d = records[core.checkkind(o, "objective", 1, "objective_info")]
  if d.closed then return core.closed("objective") end
  local w, x = vec.alloc(4), vec.alloc(d.dim)
  return d.dim, d.name, C.ms_objective_window(d.ptr, w.x) ~= 0 and w or nil,
         C.ms_objective_minimizer(d.ptr, x.x) ~= 0 and x or nil
end

-- native.close marks the objective closed; the engine object goes with
-- the collector, as a trace or sweep running on it may still use it.
core.kind("objective", H.ctype, nil, function(h) records[h].closed = true end)

-- The primitives for native.lua (pairs sees them alone); the other FFI
-- parts reach M's functions through the same table.
return setmetatable({objective_builtin = objective_builtin, objective_new = objective_new,
                     objective_compile = objective_compile,
                     objective_call = objective_call, objective_info = objective_info},
                    {__index = M})
