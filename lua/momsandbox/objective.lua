--- ms.objective: the engine's test functions and objectives written in Lua,
-- the same under Lua 5.4 and LuaJIT.  Options, messages, labels and fields
-- are here; the objectives are native handles (primitives objective_builtin,
-- objective_new, objective_call, objective_info).
local native = require "momsandbox.native"
local check = require "momsandbox.check"
local record = require "momsandbox.record"

local fmt, argerror = native.format, check.argerror

-- What an objective's handle does not say, by handle: its label, and for
-- one written in Lua its name and window.  Made elsewhere (a model's), an
-- objective has none: its label is then name(dim-dimensional).
local about = setmetatable({}, {__mode = "k"})

local function is_objective(v) return native.kind(v) == "objective" end

local function info(o)
  local dim, name, window, minimizer = check.ok(native.objective_info(o))
  return {dim = dim, name = name, window = window, minimizer = minimizer}
end

local function label(o)
  local a = about[o] or {}
  if a.label then return a.label end
  local i = info(o)
  return ("%s(%d-dimensional)"):format(i.name, i.dim)
end

--- The objective the built-in `name` makes of the numbers args
-- (ms_objective_builtin's), labelled text; the engine's complaint is an
-- argument error of fname.
local function made(fname, text, name, args)
  local o, msg, code = native.objective_builtin(name, check.vec(args, 1, fname))
  if o == nil then
    if code == "ENOMEM" then check.fail(msg) end
    argerror(1, fname, msg)
  end
  about[o] = {label = text}
  return o
end

------------------------------------------------------------ built-ins

local M = {}

--- ms.objective.quadratic{l1, l2, ...}: f(x) = 1/2 sum l_i x_i^2
function M.quadratic(lambda)
  local v = check.vec(lambda, 1, "quadratic")
  local parts = {}
  for i = 1, #v do parts[i] = fmt(v[i]) end
  if #parts == 0 then argerror(1, "quadratic", "need at least one eigenvalue") end
  return made("quadratic", "quadratic{" .. table.concat(parts, ", ") .. "}", "quadratic", v)
end

--- Q's size n (the number of its rows, read raw) and its entries, row
-- after row, after n in a new table.
local function matrix(Q, fname)
  if type(Q) ~= "table" then argerror(1, fname, "Q must be a table of rows, got " .. type(Q)) end
  local n = check.rawlen(Q)
  if n == 0 then argerror(1, fname, "Q must not be empty") end
  if n > 2^15 then argerror(1, fname, ("Q is too large (%d x %d entries)"):format(n, n)) end
  local args = {n}
  for i = 1, n do
    local row = rawget(Q, i)
    if type(row) ~= "table" or check.rawlen(row) ~= n then
      argerror(1, fname, ("Q must be square: row %d is not a table of %d numbers"):format(i, n))
    end
    for j = 1, n do
      args[#args + 1] = tonumber(rawget(row, j)) or
                        argerror(1, fname, ("Q[%d][%d] is not a number"):format(i, j))
    end
  end
  return args, n
end

--- ms.objective.quadratic_form{Q = {{..}, ..}, c = {..}, b = 0}:
-- h(x) = 1/2 x'Qx + c'x + b
function M.quadratic_form(opts)
  local fname = "quadratic_form"
  check.options(opts, 1, fname, {"Q", "c", "b"})
  local args, n = matrix(opts.Q, fname)
  local c = opts.c ~= nil and check.vec(opts.c, 1, fname) or nil
  if c and #c ~= n then argerror(1, fname, ("c has %d entries, Q is %dx%d"):format(#c, n, n)) end
  if opts.b ~= nil and type(opts.b) ~= "number" then argerror(1, fname, "b must be a number") end
  for i = 1, c and n or 0 do args[#args + 1] = c[i] end
  args[#args + 1] = opts.b or 0
  return made(fname, ("quadratic_form(%d-dimensional)"):format(n), fname, args)
end

--- ms.objective.rosenbrock{a = 1, b = 100, dim = 2}
function M.rosenbrock(opts)
  local fname = "rosenbrock"
  check.options(opts == nil and {} or opts, 1, fname, {"a", "b", "dim"})
  opts = opts or {}
  local a, b = check.optnum(opts, 1, fname, "a", 1), check.optnum(opts, 1, fname, "b", 100)
  local dim = check.optint(opts, 1, fname, "dim", 2)
  if dim < 2 then argerror(1, fname, "dim must be an integer >= 2") end
  local text = ("rosenbrock{a=%s, b=%s%s}"):format(fmt(a), fmt(b),
                                                    dim == 2 and "" or (", dim=%d"):format(dim))
  return made(fname, text, fname, {a, b, dim})
end

for _, name in ipairs{"beale", "booth", "himmelblau"} do
  M[name] = function() return made(name, name, name, {}) end
end

--- ms.objective.rotated_quadratic{kappa = 100, dim = 2, angle = pi/6, seed = 1}
function M.rotated_quadratic(opts)
  local fname = "rotated_quadratic"
  check.options(opts, 1, fname, {"kappa", "dim", "angle", "seed"})
  if opts.kappa == nil then argerror(1, fname, "option 'kappa' (the condition number) is required") end
  local kappa = check.optnum(opts, 1, fname, "kappa")
  local dim = check.optint(opts, 1, fname, "dim", 2)
  if dim < 2 then argerror(1, fname, "dim must be an integer >= 2") end
  local angle = check.optnum(opts, 1, fname, "angle", math.pi / 6)
  return made(fname, ("rotated_quadratic{kappa=%s, dim=%d}"):format(fmt(kappa), dim), fname,
              {kappa, dim, angle, check.optint(opts, 1, fname, "seed", 1)})
end

for name, fn in pairs(M) do M[name] = check.protect(fn) end

--- The point where a recording is checked against f: x_i in [0.5, 0.75),
-- spread (no 0 or 1, where functions have their special cases).
local function check_point(dim)
  local t = {}
  for i = 1, dim do t[i] = 0.5 + 0.25 * ((i * 0.6180339887498949) % 1) end
  return check.ok(native.vec_from(t))
end

--- a and b agree: equal to 1e-9 (relative), or both NaN.
local function agree(a, b)
  if a ~= a or b ~= b then return a ~= a and b ~= b end
  return a == b or math.abs(a - b) <= 1e-9 * math.max(math.abs(a), math.abs(b))
end

--- f recorded and compiled by the engine: the objective and its graph,
-- or nil and why not.  The recording is checked against f called as
-- usual, at one point: a test the recorder cannot see (a value of x
-- compared with == to a number, or taken as a truth value) shows there.
-- That call is also f's last: a view f keeps is then dead, as it would be.
local function compiled(f, dim)
  local graph, why = record.record(f, dim)
  if graph == nil then return nil, why end
  local code = check.ok(native.vec_from(record.code(graph)))
  local o, msg = native.objective_compile(dim, code)
  if o == nil then return nil, msg end
  local x = check_point(dim)
  local probe = check.ok(native.objective_new(dim, f))
  local ok, want = pcall(native.objective_call, probe, "value", x)
  native.close(probe)
  if not ok then return nil, "f failed when called to check its recording: " .. tostring(want) end
  local got = native.objective_call(o, "value", x)
  if type(want) ~= "number" or not agree(got, want) then
    return nil, ("f gives %s at x = (%s%s), its recording %s: f tests a value of x in a way " ..
                 "the recorder cannot see (== with a number, or as a truth value), or its " ..
                 "result changes from call to call"):format(
                 fmt(want), fmt(x[1]), dim > 1 and ", ..." or "", fmt(got))
  end
  return o, graph
end

--- ms.objective{dim = n, f = function(x) ... end,
--              grad = function(x, out) ... end, compile = nil|true|false,
--              name = "...", window = {...}}
local function define(_, opts)
  local fname = "objective"
  check.options(opts, 1, fname, {"compile", "dim", "f", "grad", "name", "window"})
  local dim = check.optint(opts, 1, fname, "dim", 0)
  if dim < 1 then argerror(1, fname, "dim must be an integer >= 1") end
  if dim > 2^30 then argerror(1, fname, "dim must be <= 1073741824") end
  if type(opts.f) ~= "function" then argerror(1, fname, "f must be a function") end
  if opts.grad ~= nil and type(opts.grad) ~= "function" then argerror(1, fname, "grad must be a function") end
  if opts.name ~= nil and type(opts.name) ~= "string" then argerror(1, fname, "name must be a string") end
  local compile = opts.compile
  if compile ~= nil and type(compile) ~= "boolean" then argerror(1, fname, "compile must be a boolean") end
  if compile and opts.grad ~= nil then
    argerror(1, fname, "compile = true with grad: the gradient is given, there is nothing to compile")
  end
  local o, graph, note
  if opts.grad == nil and compile ~= false then
    o, graph = compiled(opts.f, dim)
    if o == nil then
      if compile then argerror(1, fname, "f cannot be compiled: " .. graph) end
      note = "not compiled, finite differences instead: " .. graph
      graph = nil
    end
  end
  o = o or check.ok(native.objective_new(dim, opts.f, opts.grad))
  local name = opts.name or "objective"
  about[o] = {name = name, window = opts.window, label = ("%s(%d-dimensional)"):format(name, dim),
              graph = graph, note = note,
              gradient = graph and "compiled" or opts.grad and "given" or "numeric"}
  return o
end

------------------------------------------------------------ the object

--- x as a point of o for the method fname, at argument n.
local function point(o, x, n, fname)
  local a = about[o]
  if a == nil then a = {} about[o] = a end
  a.dim = a.dim or info(o).dim
  local v = check.vec(x, n, fname)
  if #v ~= a.dim then argerror(n, fname, ("x has %d entries, expected %d"):format(#v, a.dim)) end
  return v
end

local methods = {}

for _, op in ipairs{"value", "grad", "numgrad", "eval"} do
  methods[op] = check.protect(function(o, x)
    if not is_objective(o) then check.selferror(op, "momsandbox.objective", o) end
    local f, g = native.objective_call(o, op, point(o, x, 1, op))
    if f == nil then check.fail(g) end
    if op == "eval" then return f, g end
    return f
  end)
end

local value = methods.value

--- f:hessian(x): the exact Hessian at x, a table of dim rows (compiled
-- objectives and the quadratics).
methods.hessian = check.protect(function(o, x)
  if not is_objective(o) then check.selferror("hessian", "momsandbox.objective", o) end
  local v = point(o, x, 1, "hessian")
  local H, msg = native.objective_call(o, "hessian", v)
  if H == nil then check.fail(msg) end
  local n, rows = #v, {}
  for i = 1, n do
    local row = {}
    for j = 1, n do row[j] = H[(i - 1) * n + j] end
    rows[i] = row
  end
  return rows
end)

--- f:expression(): the expression a compiled objective computes, as text.
methods.expression = check.protect(function(o)
  if not is_objective(o) then check.selferror("expression", "momsandbox.objective", o) end
  local a = about[o] or {}
  if a.graph == nil then
    check.fail(("expression: %s is not compiled (its gradient is %s)"):format(
               label(o), a.gradient or "given"))
  end
  a.text = a.text or record.text(a.graph)
  return a.text
end)

--- Fields: dim, name, label, window (for plots, when known), minimizer
-- (a vector, when known), gradient ("compiled", "given" or "numeric") and
-- note (why f was not compiled, when it was not).
local field = check.protect(function(o, key)
  if not is_objective(o) then check.selferror("__index", "momsandbox.objective", o) end
  local a = about[o] or {}
  if key == "label" then return label(o) end
  if key == "gradient" then return a.gradient or "given" end
  if key == "note" then return a.note end
  if a[key] ~= nil and (key == "name" or key == "window") then return a[key] end
  local i = info(o)
  if key == "window" and i.window then return {i.window[1], i.window[2], i.window[3], i.window[4]} end
  if key == "dim" or key == "name" or key == "minimizer" then return i[key] end
end)

native.class("objective", {
  methods = methods,   -- what the REPL completes after obj:
  __index = function(o, key) return methods[key] or field(o, key) end,
  --- f{x1, x2}, f(v) or f(x1, x2, ...): the value.
  __call = function(o, ...)
    if select("#", ...) > 1 then return value(o, {...}) end
    return value(o, ...)
  end,
  __tostring = check.protect(function(o)
    if not is_objective(o) then check.selferror("__tostring", "momsandbox.objective", o) end
    return label(o)
  end),
  __close = function(o) native.close(o) end,
})

--- ms.gradcheck(f, x): the largest difference between f's gradient and
-- finite differences at x (relative above 1, absolute below), and where.
local gradcheck = check.protect(function(f, x)
  if not is_objective(f) then check.typeerror(1, "gradcheck", "momsandbox.objective", f) end
  local err, index = native.objective_call(f, "gradcheck", point(f, x, 2, "gradcheck"))
  if err == nil then check.fail(index) end
  return err, index
end)

return {objective = setmetatable(M, {__call = check.protect(define)}), gradcheck = gradcheck}
