--- momsandbox.ffi.trace: ms.trace under LuaJIT -- d2l's train_2d loop and
-- the trajectory it returns.
--
-- The loop is ms_trace_run's (core/src/trace.c, with ms_loop_step) written
-- in Lua, step for step, so that LuaJIT compiles it together with the
-- objectives and rules written in Lua instead of calling back into them:
-- the same evaluations in the same order, the same divergence checks, the
-- same points recorded -- the same bits.  The trace itself is the engine's
-- (ms_trace_new, ms_trace_record, ms_trace_diverge), so its accessors and
-- CSV output are shared.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local objective = require "momsandbox.ffi.objective"
local rule = require "momsandbox.ffi.rule"

local C = core.C
local argmsg = core.argmsg
local M = {}

-- The loop's vectors come from malloc, as ms_trace_run's do: ffi.new would
-- zero-fill fresh memory for every run, which costs more than ten steps at
-- d = 1e6.  (A state may have declared these already.)
pcall(ffi.cdef, "void *malloc(size_t size); void free(void *ptr);")
local Trace = core.handle_type("ms_ffi_trace", "ms_trace", "momsandbox.trace", C.ms_trace_free, "trace")

M.is = Trace.is

-- What a trace remembers besides the engine's data: the objective and the
-- rule's label (a cdata cannot hold Lua values).
local about = setmetatable({}, {__mode = "k"})

----------------------------------------------------------------- the loop

local inf = math.huge
local POLL_COORDS = 8192   -- coordinates updated between looks at an interrupt

--- Steps 1..steps of ms_trace_run from x_0 = x into the engine trace tr:
-- evaluate(x, fbox, g) is the objective, step(x, g, n) and lookahead(x, y,
-- n) the rule (lookahead nil: at x).
local function run(tr, evaluate, step, lookahead, x, g, y, n, steps, every)
  local fbox = ffi.new("double[1]")
  local have_g = lookahead == nil and steps > 0
  evaluate(x, fbox, have_g and g or nil)       -- f(x_0), with g(x_0) fused
  core.check(C.ms_trace_record(tr, x, fbox[0]))
  local next_record = every < steps and every or steps
  local poll_every = n < POLL_COORDS and math.floor(POLL_COORDS / n) or 1
  local next_poll = poll_every
  for t = 1, steps do
    if t == next_poll then                     -- Ctrl-C: compiled code runs no hooks
      core.check(C.ms_interrupted())
      next_poll = next_poll + poll_every
    end
    if lookahead then                          -- ms_loop_step
      lookahead(x, y, n)
      evaluate(y, nil, g)
    elseif not have_g then
      evaluate(x, nil, g)
    end
    if C.ms_vec_isfinite(g, n) == 0 then
      C.ms_trace_diverge(tr, t, "gradient", g, n)
      return
    end
    step(x, g, n)
    if C.ms_vec_isfinite(x, n) == 0 then
      C.ms_trace_diverge(tr, t, "x", x, n)
      return
    end
    have_g = false
    if t == next_record then
      have_g = lookahead == nil and t < steps
      evaluate(x, fbox, have_g and g or nil)
      local f = fbox[0]
      if f ~= f or f == inf or f == -inf then
        C.ms_trace_diverge(tr, t, "f", fbox, 1)
        return
      end
      core.check(C.ms_trace_record(tr, x, f))
      next_record = steps - t > every and t + every or steps
    end
  end
end

--- run(...) as pcall(run, ...) would, but in a coroutine of its own: a
-- callback that yields (to a coroutine of the caller's) gets back here and
-- is refused, as Lua 5.4 refuses it, instead of leaving ms.trace suspended
-- for good between ms_sigint_begin and end -- the next Ctrl-C swallowed.
local function run_unyielding(...)
  local co = coroutine.create(run)
  local ok, err = coroutine.resume(co, ...)
  if ok and coroutine.status(co) ~= "dead" then
    return false, "attempt to yield across a C-call boundary"
  end
  return ok, err
end

local outbox = ffi.new("ms_trace *[1]")

--- ms.trace(f, rule, {x0 = ..., steps = 20, every = 1})
M.run = core.protect(function(...)
  local fname, nargs = "trace", select("#", ...)
  local f, r, opts = ...
  local o = objective.check(f, 1, fname, nargs >= 1)
  local d = rule.check(r, 2, fname, nargs >= 2)
  rule.idle(d)
  core.checktable(opts, 3, fname, nargs >= 3)
  core.checkoptions(opts, 3, fname, {"x0", "steps", "every"})
  local copts = ffi.new("ms_trace_opts")
  C.ms_trace_opts_init(copts)
  copts.steps = core.optint(opts, 3, fname, "steps", tonumber(copts.steps))
  copts.every = core.optint(opts, 3, fname, "every", tonumber(copts.every))
  if opts.x0 == nil then core.argerror(3, fname, "option 'x0' (the starting point) is required") end
  local x0 = vec.tovec(opts.x0, 3, fname)
  local n = x0.n
  if C.ms_trace_check(o.ptr, x0.x, n, copts) ~= 0 then core.argerror(3, fname, core.last_error()) end
  if C.ms_objective_is_pure(o.ptr) ~= 0 and rule.is_pure(d) then
    -- Nothing written in Lua to compile into the loop: the engine's own
    -- runs faster than one calling it for every evaluation and step.
    -- It calls no Lua: LuaJIT's own Ctrl-C handler may run at once.
    core.check(core.with_sigint(0, C.ms_trace_run, o.ptr, d.ptr, x0.x, n, copts, outbox))
    local tr = Trace.own(outbox[0])
    about[tr] = {objective = f, rule = rule.label(d)}
    return tr
  end
  core.check(C.ms_rule_reset(d.ptr, n))
  core.check(C.ms_trace_new(n, copts, outbox))
  local tr = Trace.own(outbox[0])

  local work = ffi.cast("double *", ffi.C.malloc(3 * n * ffi.sizeof("double")))
  if work == nil then core.failure("out of memory") end
  ffi.gc(work, ffi.C.free)
  local x, g, y = work, work + n, work + 2 * n
  C.ms_vec_copy(x, x0.x, n)
  local step, lookahead = rule.stepper(d)
  C.ms_interrupt_clear()
  -- the engine may call back: see core.call_long
  local ok, err = core.with_sigint(1, rule.run_busy, d, run_unyielding, tr.ptr, o.evaluate, step,
                                   lookahead, x, g, y, n, tonumber(copts.steps), tonumber(copts.every))
  ffi.C.free(ffi.gc(work, nil))
  if not ok then               -- a failed run leaves nothing behind
    Trace.release(tr)
    error(err, 0)
  end
  about[tr] = {objective = f, rule = rule.label(d)}
  return tr
end)

------------------------------------------------------------ the object

--- The 0-based index of point i (1-based; negative from the end) of tr,
-- or an error at the level of the method's caller.
local function index(tr, i, fname)
  if type(i) ~= "number" or i ~= math.floor(i) then
    error(argmsg(2, fname, "number has no integer representation"), 3)
  end
  local len = tonumber(C.ms_trace_len(tr.ptr))
  if i < 0 then i = i + len + 1 end
  if i < 1 or i > len then
    error(argmsg(2, fname, ("point %d out of range (trace of %d)"):format(i, len)), 3)
  end
  return i - 1
end

local methods = {}

function methods.point(tr, i)
  return vec.copy_of(C.ms_trace_point(tr.ptr, index(tr, i, "point")), C.ms_trace_dim(tr.ptr))
end

function methods.value(tr, i)
  return C.ms_trace_value(tr.ptr, index(tr, i, "value"))
end

function methods.step(tr, i)
  return tonumber(C.ms_trace_step(tr.ptr, index(tr, i, "step")))
end

--- tr:values(): {f(x_0), f(x_1), ...}
function methods.values(tr)
  local t = {}
  for i = 0, tonumber(C.ms_trace_len(tr.ptr)) - 1 do t[i + 1] = C.ms_trace_value(tr.ptr, i) end
  return t
end

--- tr:column(j): coordinate j along the trajectory, as a table.
function methods.column(tr, j)
  local n = tonumber(C.ms_trace_dim(tr.ptr))
  if type(j) ~= "number" or j ~= math.floor(j) or j < 1 or j > n then
    error(argmsg(2, "column", "coordinate out of range"), 2)
  end
  local t = {}
  for i = 0, tonumber(C.ms_trace_len(tr.ptr)) - 1 do t[i + 1] = C.ms_trace_point(tr.ptr, i)[j - 1] end
  return t
end

methods.csv = core.protect(function(tr, path)
  path = core.checkpath(path, 2, "csv")
  if C.ms_trace_write_csv(tr.ptr, path) ~= 0 then core.failure(core.last_error()) end
  return tr
end)

Trace.check_methods(methods)

local mt = {__name = "momsandbox.trace"}

local function last_step(tr)
  return tonumber(C.ms_trace_step(tr.ptr, C.ms_trace_len(tr.ptr) - 1))
end

function mt.__index(tr, key)
  if type(key) == "number" then
    return vec.copy_of(C.ms_trace_point(tr.ptr, index(tr, key, "index")), C.ms_trace_dim(tr.ptr))
  end
  local method = methods[key]
  if method then return method end
  if key == "steps" then return last_step(tr) end
  if key == "dim" then return tonumber(C.ms_trace_dim(tr.ptr)) end
  local diverged = tonumber(C.ms_trace_diverged(tr.ptr))
  if key == "diverged" then return diverged ~= 0 and diverged end
  if key == "reason" then return diverged ~= 0 and ffi.string(C.ms_trace_reason(tr.ptr)) or nil end
  local info = about[tr]
  return info and info[key]
end

function mt.__len(tr)
  return tonumber(C.ms_trace_len(tr.ptr))
end

--- d2l's line, "epoch 20, x1: -0.943467, x2: -0.000073", for the last
-- point, and why the run stopped if it diverged.
function mt.__tostring(tr)
  local n = tonumber(C.ms_trace_dim(tr.ptr))
  local x = C.ms_trace_point(tr.ptr, C.ms_trace_len(tr.ptr) - 1)
  local parts = {("epoch %d"):format(last_step(tr))}
  for j = 1, math.min(n, 6) do
    -- d2l's %f, unless the number would print as a wall of digits
    local v = x[j - 1]
    parts[#parts + 1] = (math.abs(v) < 1e12 and ", x%d: %f" or ", x%d: %.6e"):format(j, v)
  end
  if n > 6 then parts[#parts + 1] = (", ... (%d coordinates)"):format(n) end
  local diverged = tonumber(C.ms_trace_diverged(tr.ptr))
  if diverged ~= 0 then
    parts[#parts + 1] = (" (diverged at step %d: %s)"):format(diverged, ffi.string(C.ms_trace_reason(tr.ptr)))
  end
  return table.concat(parts)
end

ffi.metatype(Trace.ctype, mt)

return M
