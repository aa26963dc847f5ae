--- momsandbox.ffi.objective: ms.objective under LuaJIT -- the engine's
-- built-in objectives, and objectives whose value and gradient are Lua
-- functions.
--
-- Every objective is an engine object, so that the engine's functions
-- (finite differences, gradient checks, the trace's argument checks) take
-- it.  A Lua objective's engine object calls back into Lua; the trace loop
-- (momsandbox.ffi.trace) calls its functions directly instead, through the
-- record's evaluate, which LuaJIT compiles into the loop.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"

local C = core.C
local M = {}

local P = {}   -- key of an objective's record: engine object and functions
local Objective = {__name = "momsandbox.objective"}

--- The record of o if it is an objective, else nil.
function M.record(o)
  return type(o) == "table" and getmetatable(o) == Objective and o[P] or nil
end

--- The record of the objective at argument arg of fname.
function M.check(o, arg, fname, present)
  return M.record(o) or core.typeerror(arg, fname, "momsandbox.objective", o, present)
end

local outbox = ffi.new("ms_objective *[1]")

--- A built-in objective: make(out) is the core constructor, labelled
-- label; its complaint is an argument error of fname.  keep: what the
-- engine object points into, kept alive with it (a model and its data).
local function make_builtin(fname, label, make, keep)
  local st = make(outbox)
  if st == C.MS_EINTR or st == C.MS_ENOMEM then core.check(st) end
  if st ~= 0 then core.argerror(1, fname, core.last_error()) end
  local ptr = core.own(outbox[0], C.ms_objective_free, "objective")
  local d = {ptr = ptr, dim = tonumber(C.ms_objective_dim(ptr)),
             name = ffi.string(C.ms_objective_name(ptr)), label = label, keep = keep}
  function d.evaluate(x, fbox, g)
    core.check(C.ms_objective_eval(ptr, x, fbox, g))
  end
  return setmetatable({[P] = d}, Objective)
end
M.builtin = make_builtin

--------------------------------------------------------------- built-ins

local function label_of(name, v)
  local parts = {}
  for i = 0, v.n - 1 do parts[#parts + 1] = core.format(v.x[i]) end
  return name .. "{" .. table.concat(parts, ", ") .. "}"
end

--- ms.objective.quadratic{l1, l2, ...}: f(x) = 1/2 sum l_i x_i^2
local function quadratic(lambda)
  local v = vec.tovec(lambda, 1, "quadratic")
  if v.n == 0 then core.argerror(1, "quadratic", "need at least one eigenvalue") end
  return make_builtin("quadratic", label_of("quadratic", v), function(out)
    return C.ms_objective_quadratic(v.x, v.n, out)
  end)
end

--- Q as a table of n rows of n numbers, into a vector of n*n (row-major).
local function checkmatrix(Q, fname)
  if type(Q) ~= "table" then
    core.argerror(1, fname, "Q must be a table of rows, got " .. type(Q))
  end
  local n = #Q
  if n == 0 then core.argerror(1, fname, "Q must not be empty") end
  local m = vec.alloc(n * n)
  for i = 1, n do
    local row = Q[i]
    if type(row) ~= "table" or #row ~= n then
      core.argerror(1, fname, ("Q must be square: row %d is not a table of %d numbers"):format(i, n))
    end
    for j = 1, n do
      local x = tonumber(row[j])
      if x == nil then
        core.argerror(1, fname, ("Q[%d][%d] is not a number"):format(i, j))
      end
      m.x[(i - 1) * n + j - 1] = x
    end
  end
  return m, n
end

--- ms.objective.quadratic_form{Q = {{..}, ..}, c = {..}, b = 0}:
-- h(x) = 1/2 x'Qx + c'x + b
local function quadratic_form(opts)
  local fname = "quadratic_form"
  core.checkoptions(opts, 1, fname, {"Q", "c", "b"})
  local Q, n = checkmatrix(opts.Q, fname)
  local c
  if opts.c ~= nil then
    c = vec.tovec(opts.c, 1, fname)
    if c.n ~= n then
      core.argerror(1, fname, ("c has %d entries, Q is %dx%d"):format(c.n, n, n))
    end
  end
  if opts.b ~= nil and type(opts.b) ~= "number" then core.argerror(1, fname, "b must be a number") end
  return make_builtin(fname, ("quadratic_form(%d-dimensional)"):format(n), function(out)
    return C.ms_objective_quadratic_form(Q.x, c and c.x, opts.b or 0, n, out)
  end)
end

--- ms.objective.rosenbrock{a = 1, b = 100, dim = 2}
local function rosenbrock(opts)
  local fname = "rosenbrock"
  opts = opts == nil and {} or opts
  core.checkoptions(opts, 1, fname, {"a", "b", "dim"})
  local a, b = core.optnum(opts, 1, fname, "a", 1), core.optnum(opts, 1, fname, "b", 100)
  local dim = core.optint(opts, 1, fname, "dim", 2)
  if dim < 2 then core.argerror(1, fname, "dim must be an integer >= 2") end
  local label = dim == 2 and ("rosenbrock{a=%g, b=%g}"):format(a, b) or
                ("rosenbrock{a=%g, b=%g, dim=%d}"):format(a, b, dim)
  return make_builtin(fname, label, function(out) return C.ms_objective_rosenbrock(a, b, dim, out) end)
end

local function classic(name)
  return function()
    return make_builtin(name, name, function(out) return C["ms_objective_" .. name](out) end)
  end
end

--- ms.objective.rotated_quadratic{kappa = 100, dim = 2, angle = pi/6, seed = 1}
local function rotated_quadratic(opts)
  local fname = "rotated_quadratic"
  core.checkoptions(opts, 1, fname, {"kappa", "dim", "angle", "seed"})
  local kappa = core.optnum(opts, 1, fname, "kappa", 0 / 0)
  if kappa ~= kappa then core.argerror(1, fname, "option 'kappa' (the condition number) is required") end
  local dim = core.optint(opts, 1, fname, "dim", 2)
  if dim < 2 then core.argerror(1, fname, "dim must be an integer >= 2") end
  local angle = core.optnum(opts, 1, fname, "angle", 3.14159265358979323846 / 6)
  local seed = core.optint(opts, 1, fname, "seed", 1)
  return make_builtin(fname, ("rotated_quadratic{kappa=%g, dim=%d}"):format(kappa, dim),
    function(out)
      -- dim = 4096 takes a minute; no callback: LuaJIT's handler may run at once
      C.ms_sigint_begin(0)
      local st = C.ms_objective_rotated_quadratic(kappa, dim, angle, core.seed(seed), out)
      C.ms_sigint_end()
      return st
    end)
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
        core.failure(("objective function f returned %s, expected a number"):format(type(r)))
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
      core.failure(("gradient function grad did not set out[%d]"):format(i + 1))
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

--- ms.objective{dim = n, f = function(x) ... end,
--              grad = function(x, out) ... end, name = "...", window = {...}}
local function define(_, opts)
  local fname = "objective"
  core.checkoptions(opts, 1, fname, {"dim", "f", "grad", "name", "window"})
  local dim = core.optint(opts, 1, fname, "dim", 0)
  if dim < 1 then core.argerror(1, fname, "dim must be an integer >= 1") end
  if type(opts.f) ~= "function" then core.argerror(1, fname, "f must be a function") end
  if opts.grad ~= nil and type(opts.grad) ~= "function" then
    core.argerror(1, fname, "grad must be a function")
  end
  if opts.name ~= nil and type(opts.name) ~= "string" then
    core.argerror(1, fname, "name must be a string")
  end
  last_id = last_id + 1
  local d = {dim = dim, name = opts.name or "objective", window = opts.window,
             f = opts.f, grad = opts.grad, views = {}, depth = 0, id = last_id}
  d.label = ("%s(%d-dimensional)"):format(d.name, dim)
  core.check(C.ms_objective_new(dim, callback, d.grad and 1 or 0,
                                ffi.cast("void *", d.id), nil, outbox))
  d.ptr = core.own(outbox[0], C.ms_objective_free, "objective")
  by_id[d.id] = d
  -- f then the gradient, as the engine asks a callback objective: without
  -- grad, fourth-order finite differences of f, computed by the engine
  function d.evaluate(x, fbox, g)
    if fbox ~= nil then fbox[0] = call_f(d, x) end
    if g == nil then return end
    if d.grad then
      call_grad(d, x, g)
    else
      -- (ms_objective_eval: inside a loop, an interrupt stays pending)
      core.check(core.call_back(C.ms_objective_eval, d.ptr, x, nil, g))
    end
  end
  return setmetatable({[P] = d}, Objective)
end

---------------------------------------------------------------- methods

--- Check x for the objective's methods: a vector of its dimension.
local function point(d, x, fname)
  local v = vec.tovec(x, 2, fname)
  if v.n ~= d.dim then
    core.argerror(2, fname, ("x has %d entries, expected %d"):format(v.n, d.dim))
  end
  return v
end

local methods = {}

-- (Each call has its own box for f: a Lua objective may call itself.)
function methods.value(o, x)
  local d = M.check(o, 1, "value")
  local fbox = ffi.new("double[1]")
  d.evaluate(point(d, x, "value").x, fbox, nil)
  return fbox[0]
end

function methods.grad(o, x)
  local d = M.check(o, 1, "grad")
  local g = vec.alloc(d.dim)
  d.evaluate(point(d, x, "grad").x, nil, g.x)
  return g
end

function methods.numgrad(o, x)
  local d = M.check(o, 1, "numgrad")
  local g = vec.alloc(d.dim)
  core.check(core.call_long(C.ms_objective_numgrad, d.ptr, point(d, x, "numgrad").x, g.x))
  return g
end

function methods.eval(o, x)
  local d = M.check(o, 1, "eval")
  local g, fbox = vec.alloc(d.dim), ffi.new("double[1]")
  d.evaluate(point(d, x, "eval").x, fbox, g.x)
  return fbox[0], g
end

--- f{x1, x2}, f(v) or f(x1, x2, ...): the value.
local value = methods.value
Objective.__call = core.protect(function(o, ...)
  if select("#", ...) > 1 then return value(o, {...}) end
  return value(o, ...)
end)

for name, fn in pairs(methods) do methods[name] = core.protect(fn) end

local window = ffi.new("double[4]")

--- Fields: dim, name, window (a plotting window, when known), minimizer
-- (a vector, when known).
function Objective.__index(o, key)
  local method = methods[key]
  if method then return method end
  local d = o[P]
  if key == "dim" or key == "name" then return d[key] end
  if key == "window" then
    if d.window ~= nil then return d.window end
    if C.ms_objective_window(d.ptr, window) ~= 0 then
      return {window[0], window[1], window[2], window[3]}
    end
  elseif key == "minimizer" then
    local x = vec.alloc(d.dim)
    if C.ms_objective_minimizer(d.ptr, x.x) ~= 0 then return x end
  end
  return nil
end

function Objective.__tostring(o)
  return o[P].label
end

--- ms.gradcheck(f, x): the largest difference between f's gradient and
-- finite differences at x (relative above 1, absolute below), and where.
local errbox, indexbox = ffi.new("double[1]"), ffi.new("size_t[1]")
M.gradcheck = core.protect(function(f, x)
  local d = M.check(f, 1, "gradcheck")
  local v = point(d, x, "gradcheck")
  core.check(core.call_long(C.ms_objective_gradcheck, d.ptr, v.x, errbox, indexbox))
  return errbox[0], tonumber(indexbox[0]) + 1
end)

M.module = setmetatable({
  quadratic = core.protect(quadratic),
  quadratic_form = core.protect(quadratic_form),
  rosenbrock = core.protect(rosenbrock),
  beale = core.protect(classic("beale")),
  booth = core.protect(classic("booth")),
  himmelblau = core.protect(classic("himmelblau")),
  rotated_quadratic = core.protect(rotated_quadratic),
}, {__call = core.protect(define)})

return M
