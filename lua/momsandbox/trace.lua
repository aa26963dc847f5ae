--- momsandbox.trace: ms.trace(f, rule, {x0 = ..., steps = 20, every = 1}),
-- d2l's train_2d loop, and the trajectory it returns: tr[i], #tr,
-- point/value/step/values/column/csv, fields and d2l's line.  The loop
-- and the engine trace are native (trace_* in primitives.lua).
local native = require "momsandbox.native"
local check = require "momsandbox.check"
local rule = require "momsandbox.rule"

local known = {"x0", "steps", "every"}
local is_known = {x0 = true, steps = true, every = true}

--- ms.trace checked step by step, with every message: a call the fast
-- path at the end of this file found anything odd in.
local function trace(...)
  local f, r, opts = ...
  if native.kind(f) ~= "objective" then check.typeerror(1, "trace", "momsandbox.objective", f) end
  if not rule.is(r) then check.typeerror(2, "trace", "momsandbox.rule", r, select("#", ...) >= 2) end
  if type(opts) ~= "table" then check.table(opts, 3, "trace") end
  for key in next, opts do   -- (check.options costs as much as the run)
    if not is_known[key] then check.options(opts, 3, "trace", known) end
  end
  local x0 = rawget(opts, "x0")
  if x0 == nil then check.argerror(3, "trace", "option 'x0' (the starting point) is required") end
  local plain = {steps = check.optint(opts, 3, "trace", "steps", 20),
                 every = check.optint(opts, 3, "trace", "every", 1)}
  rule.label(r)   -- a closed rule: "rule has been closed"
  plain.x0 = check.vec(x0, 3, "trace")
  local tr, msg, n = native.trace_run(f, r, plain)
  if tr == nil then
    if type(n) == "number" and n > 0 then check.argerror(n, "trace", msg) end
    check.fail(msg)
  end
  return tr
end

local function checktrace(tr, fname)
  if native.kind(tr) ~= "trace" then check.selferror(fname, "momsandbox.trace", tr) end
  return tr
end

--- Point i (negative: from the end) of tr: step, f, and the point (j nil),
-- its coordinate j (j >= 1) or nothing more (j = 0).
local function get(tr, i, fname, j)
  i = check.integer(i, 1, fname)
  local step, f, x = native.trace_get(tr, i, j)
  if step == nil then
    check.argerror(1, fname, ("point %d out of range (trace of %d)"):format(i, native.trace_info(tr)))
  end
  return step, f, x
end

local methods = {}

function methods.point(tr, i)
  return select(3, get(checktrace(tr, "point"), i, "point"))
end

function methods.value(tr, i)
  return (select(2, get(checktrace(tr, "value"), i, "value", 0)))
end

function methods.step(tr, i)
  return (get(checktrace(tr, "step"), i, "step", 0))
end

--- tr:values(): {f(x_0), f(x_1), ...}
function methods.values(tr)
  local t = {}
  for i = 1, native.trace_info(checktrace(tr, "values")) do t[i] = select(2, native.trace_get(tr, i, 0)) end
  return t
end

--- tr:column(j): coordinate j along the trajectory, as a table.
function methods.column(tr, j)
  local len, dim = native.trace_info(checktrace(tr, "column"))
  j = check.integer(j, 1, "column")
  if j < 1 or j > dim then check.argerror(1, "column", "coordinate out of range") end
  local t = {}
  for i = 1, len do t[i] = select(3, native.trace_get(tr, i, j)) end
  return t
end

--- tr:components(): on a quadratic, the error along each eigenvector of
-- its Hessian over the run (components.lua).
function methods.components(tr)
  return require("momsandbox.components")(checktrace(tr, "components"))
end

function methods.csv(tr, path)
  check.ok(native.write_csv(checktrace(tr, "csv"), check.path(path, 1, "csv")))
  return tr
end

for name, fn in pairs(methods) do methods[name] = check.protect(fn) end

native.class("trace", {
  methods = methods,   -- what the REPL completes after obj:
  __index = check.protect(function(tr, key)
    checktrace(tr, "__index")
    if type(key) == "number" then return select(3, get(tr, key, "index")) end
    if methods[key] then return methods[key] end
    local len, dim, diverged, reason, label, f = native.trace_info(tr)
    if key == "steps" then return (native.trace_get(tr, len, 0)) end
    if key == "dim" then return dim end
    if key == "diverged" then return diverged ~= 0 and diverged end
    if key == "reason" then return reason end
    if key == "rule" then return label end
    if key == "objective" then return f end
  end),

  __len = check.protect(function(tr)
    return (native.trace_info(checktrace(tr, "__len")))
  end),

  --- d2l's line, "epoch 20, x1: -0.943467, x2: -0.000073", for the last
  -- point, and why the run stopped if it diverged.
  __tostring = check.protect(function(tr)
    local len, dim, diverged, reason = native.trace_info(checktrace(tr, "__tostring"))
    local step, _, x = native.trace_get(tr, len)
    local parts = {("epoch %d"):format(step)}
    for j = 1, math.min(dim, 6) do
      -- d2l's %f, unless the number would print as a wall of digits
      parts[j + 1] = (math.abs(x[j]) < 1e12 and ", x%d: %f" or ", x%d: %.6e"):format(j, x[j])
    end
    if dim > 6 then parts[#parts + 1] = (", ... (%d coordinates)"):format(dim) end
    if diverged ~= 0 then
      parts[#parts + 1] = (" (diverged at step %d: %s)"):format(diverged, reason)
    end
    return table.concat(parts)
  end),
})

--- ms.trace(f, rule, opts).  The primitive takes a call with nothing odd
-- in it as it is; anything else it leaves to the checks above (argument n
-- of ms.trace: n > 0), which explain what is wrong.  No pcall of
-- check.protect, which costs as much as a 20-step run, no table made and
-- no loop (LuaJIT would end its trace of the caller's loop there).
local slow = check.protect(trace)
local trace_run, type = native.trace_run, type
local failed = check.protect(check.fail)

return function(...)
  local tr, msg, n = trace_run(...)
  if tr ~= nil then return tr end
  if type(n) == "number" and n > 0 then return slow(...) end
  return failed(msg)
end
