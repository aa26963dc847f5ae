--- momsandbox.ffi_trace: the native part of ms.trace under LuaJIT -- the
-- kind "trace", the primitives trace_run, trace_get and trace_info, and
-- the writer of write_csv for traces.  Twin of bindings/lua/l_trace.c; used by
-- lua/momsandbox/trace.lua, which has the API and the messages.
--
-- The loop is ms_trace_run's (core/src/trace.c, with ms_loop_step) written
-- in Lua, step for step, so that LuaJIT compiles it together with the
-- objectives and rules written in Lua instead of calling back into them:
-- the same evaluations in the same order, the same divergence checks, the
-- same points recorded -- the same bits.  The trace itself is the engine's
-- (ms_trace_new, ms_trace_record, ms_trace_diverge).
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"
local objective = require "momsandbox.ffi_objective"
local rule = require "momsandbox.ffi_rule"

local C = core.C
local M = {}

-- The loop's vectors come from malloc, as ms_trace_run's do: ffi.new would
-- zero-fill fresh memory for every run, which costs more than ten steps at
-- d = 1e6.  (A state may have declared these already.)
pcall(ffi.cdef, "void *malloc(size_t size); void free(void *ptr);")

-- A trace of up to ROOM bytes lives in memory its handle holds without a
-- finalizer, which costs more than a 20-step run: a room of the slab below
-- when it fits one and one is spare, else a room in the handle itself (a
-- cdata of variable length).  ROOM stays below LuaJIT's 128 KiB, from which
-- its allocator maps fresh pages for every object; longer traces are the
-- engine's, whose large buffers skip page faults.
local ROOM = 120 * 1024
local Trace = core.handle_type("trace", "ms_trace", C.ms_trace_free,
                               "int32_t lent; double room[?];")

M.is = Trace.is

------------------------------------------------------------------ rooms

-- The slab: ROOMS rooms of SLAB_ROOM bytes, 32 MiB malloc'd at the first
-- trace (its pages mapped as they are first written) and freed with the Lua
-- state.  A room is lent to one trace at a time, and taken back when the
-- trace is closed or collected.  Taking one costs nothing, while a handle
-- with a room of its own is zero-filled and paces the collector by its
-- size: a tenth of a 1,000-step run (d = 2), and more on a busy machine.
-- The collector tells of a collected trace by clearing it from `holder`
-- (weak values); the lent rooms are looked over when none is spare and a
-- cycle has run since the last look (`cycle`'s table is gone).  So rooms
-- come back once a cycle, and the cycles are paced by the handles with
-- rooms of their own made meanwhile: the more rooms, the fewer of those
-- (bench/trace.lua at 1,000 steps, median of alternated runs: 1,024 rooms
-- 1.38x the C loop, 256 rooms 1.43x, a room in every handle 1.49x).
local SLAB_ROOM, ROOMS = 32 * 1024, 1024
local slab = false                               -- double *, once made
local spare = {}                                 -- numbers of rooms not lent
local lent = {}                                  -- room number -> true
local holder = setmetatable({}, {__mode = "v"})  -- room number -> its trace
local cycle = setmetatable({{}}, {__mode = "v"})

--- The rooms whose traces were collected, back to spare.
local function reclaim()
  for k in pairs(lent) do
    if holder[k] == nil then
      lent[k] = nil
      spare[#spare + 1] = k
    end
  end
  cycle[1] = {}
end

--- tr's room back to spare (tr closed).
local function give_back(tr)
  local k = tr.lent
  tr.lent, holder[k], lent[k] = 0, nil, nil
  spare[#spare + 1] = k
end

--- The slab's finalizer, when the Lua state closes: the traces still in
-- rooms are closed first, for the finalizers run after this one.
local function close_slab(p)
  for _, tr in pairs(holder) do tr.ptr, tr.lent = nil, 0 end
  ffi.C.free(p)
end

--- The number of a spare room of the slab, or nil.
local function spare_room()
  if slab == false then
    slab = ffi.gc(ffi.cast("double *", ffi.C.malloc(ROOMS * SLAB_ROOM)), close_slab)
    if slab ~= nil then
      for k = ROOMS, 1, -1 do spare[#spare + 1] = k end
    end
  end
  if spare[1] == nil and cycle[1] == nil then reclaim() end
  local k = spare[#spare]
  spare[#spare] = nil
  return k
end

--- A handle for a trace of size bytes (<= ROOM), and where to write it.
local function new_handle(size)
  local k = size <= SLAB_ROOM and spare_room()
  if not k then
    local tr = Trace.ctype(size / 8)   -- (whole doubles)
    return tr, tr.room
  end
  local tr = Trace.ctype(0)
  tr.lent, holder[k], lent[k] = k, tr, true
  return tr, slab + (k - 1) * (SLAB_ROOM / 8)
end

local infos = setmetatable({}, {__mode = "k"})   -- trace -> {label, objective} of trace_run

----------------------------------------------------------------- the loop

local inf = math.huge
local POLL_COORDS = 8192   -- coordinates updated between looks at an interrupt

--- Steps 1..steps of ms_trace_run from x_0 = x into the engine trace tr:
-- evaluate(x, fbox, g) is the objective, step(x, g, n) and lookahead(x, y,
-- n) the rule (lookahead nil: at x), each returning the engine's status;
-- the first failure ends the run, as in trace.c.
local function run(tr, evaluate, step, lookahead, x, g, y, n, steps, every)
  local fbox = ffi.new("double[1]")
  local have_g = lookahead == nil and steps > 0
  local st = evaluate(x, fbox, have_g and g or nil)   -- f(x_0), with g(x_0) fused
  if st == 0 then st = tonumber(C.ms_trace_record(tr, x, fbox[0])) end
  if st ~= 0 then return st end
  local next_record = every < steps and every or steps
  local poll_every = n < POLL_COORDS and math.floor(POLL_COORDS / n) or 1
  local next_poll = poll_every
  for t = 1, steps do
    if t == next_poll then                     -- Ctrl-C: compiled code runs no hooks
      st = tonumber(C.ms_interrupted())
      if st ~= 0 then return st end
      next_poll = next_poll + poll_every
    end
    if lookahead then                          -- ms_loop_step
      st = lookahead(x, y, n)
      if st == 0 then st = evaluate(y, nil, g) end
    elseif not have_g then
      st = evaluate(x, nil, g)
    end
    if st ~= 0 then return st end
    if C.ms_vec_isfinite(g, n) == 0 then
      C.ms_trace_diverge(tr, t, "gradient", g, n)
      return 0
    end
    st = step(x, g, n)
    if st ~= 0 then return st end
    if C.ms_vec_isfinite(x, n) == 0 then
      C.ms_trace_diverge(tr, t, "x", x, n)
      return 0
    end
    have_g = lookahead == nil and t < steps   -- f at every step, as trace.c
    st = evaluate(x, fbox, have_g and g or nil)
    if st ~= 0 then return st end
    local f = fbox[0]
    if f ~= f or f == inf or f == -inf then
      C.ms_trace_diverge(tr, t, "f", fbox, 1)
      return 0
    end
    if t == next_record then
      st = tonumber(C.ms_trace_record(tr, x, f))
      if st ~= 0 then return st end
      next_record = steps - t > every and t + every or steps
    end
  end
  return 0
end

-- A copy of run for each rule and objective, held while both live: LuaJIT
-- compiles a loop for the functions it calls, the rule's and objective's
-- closures, and a loop shared by all ran at half speed from the second
-- rule on (75 against 36 ns a step), through the guards of the first.
local loops = setmetatable({}, {__mode = "k"})   -- rule record -> objective record -> run

--- The loop for rule record d and objective record o.
local function loop_for(d, o)
  local of = loops[d]
  if of == nil then
    of = setmetatable({}, {__mode = "k"})
    loops[d] = of
  end
  local loop = of[o]
  if loop == nil then
    loop = load(string.dump(run), nil, "b")   -- (its lines and file kept)
    for i = 1, math.huge do   -- the same upvalues: C, math, ...
      if debug.getupvalue(run, i) == nil then break end
      debug.upvaluejoin(loop, i, run, i)
    end
    of[o] = loop
  end
  return loop
end

--- loop(...) as pcall(loop, ...) would, but in a coroutine of its own: a
-- callback that yields (to a coroutine of the caller's) gets back here and
-- is refused, as Lua 5.4 refuses it, instead of leaving ms.trace suspended
-- for good between ms_sigint_begin and end -- the next Ctrl-C swallowed.
local function run_unyielding(loop, ...)
  local co = coroutine.create(loop)
  local ok, err = coroutine.resume(co, ...)
  if ok and coroutine.status(co) ~= "dead" then
    return false, "attempt to yield across a C-call boundary"
  end
  return ok, err
end

local outbox = ffi.new("ms_trace *[1]")
local copts = ffi.new("ms_trace_opts")
local small = ffi.new("double[16]")

--- x0 as a pointer and a length when it is a table of at most 16 plain
-- numbers and nothing else, read into a buffer kept for this (no vector
-- made, which costs as much as a short run); else nil.
local function small_x0(x0)
  if type(x0) ~= "table" then return nil end
  local n = #x0
  if n == 0 or n > 16 or next(x0, n) ~= nil then return nil end
  for i = 1, n do
    local v = rawget(x0, i)
    if type(v) ~= "number" then return nil end
    small[i - 1] = v
  end
  return small, n
end

--- tr, a trace in the engine's memory, once the collector has paid for
-- that memory as if LuaJIT had allocated it: it sees a small handle, so
-- dead traces would pile up between its cycles, and every run would write
-- to fresh pages (l_trace.c does the same).
local function charged(tr)
  local kb = tonumber(C.ms_trace_len(tr.ptr)) * (tonumber(C.ms_trace_dim(tr.ptr)) + 2) * 8 / 1024
  if kb >= 1 then collectgarbage("step", kb) end
  return tr
end

--- The engine's own loop, for an objective and a rule with nothing written
-- in Lua to compile into a loop of ours.  It calls no Lua: LuaJIT's own
-- Ctrl-C handler may run at once.  A run too short to look for Ctrl-C (it
-- polls every POLL_COORDS coordinates updated) needs no bracket, which
-- costs more than the run.
local function run_engine(o, d, xp, n)
  local size = tonumber(C.ms_trace_size(n, copts))
  local tr, room, st
  if size <= ROOM then tr, room = new_handle(size) end
  if copts.steps * n < POLL_COORDS then
    st = C.ms_trace_run_in(o.ptr, d.ptr, xp, n, copts, room, size, outbox)
  else
    st = core.with_sigint(0, C.ms_trace_run_in, o.ptr, d.ptr, xp, n, copts, room, size, outbox)
  end
  if st ~= 0 then
    if tr and tr.lent ~= 0 then give_back(tr) end
    return core.failed(st)
  end
  if tr then
    tr.ptr = outbox[0]
    return tr
  end
  return charged(Trace.own(outbox[0]))
end

--- The engine's own loop for an objective or a rule that calls back into
-- Lua from the engine (finite differences of a Lua f, a schedule's Lua
-- function inside another): LuaJIT stops compiling at every such call, so
-- a loop of ours would only run interpreted, and its failed traces would
-- leave helpers they share with every later loop interpreted too (a Lua
-- rule's trace ran 12 times slower after one finite-difference run).
-- Lua 5.4 runs every loop this way.
local function run_calling_back(o, d, xp, n)
  local ok, st = pcall(rule.run_busy, d, core.call_long, C.ms_trace_run_in, o.ptr, d.ptr, xp, n,
                       copts, nil, 0, outbox)
  if not ok then error(st, 0) end
  if st ~= 0 then return core.failed(st) end
  return charged(Trace.own(outbox[0]))
end

local known = {x0 = true, steps = true, every = true}

--- Is v nil or an integer number, as an option steps or every?
local function optint(v)
  return v == nil or type(v) == "number" and core.is_integer(v)
end

--- x0 of opts in copts and as a pointer and a length, when opts is a table
-- without a metatable, with no key but x0 (required), steps and every
-- (integers or nil: the engine's defaults); else nil.  No loop: LuaJIT
-- would end its trace of the caller's loop there.
local function plain_opts(opts)
  if type(opts) ~= "table" or getmetatable(opts) ~= nil then return nil end
  local key = next(opts)
  if known[key] then key = next(opts, key) end
  if known[key] then key = next(opts, key) end
  if known[key] then key = next(opts, key) end
  local x0, steps, every = opts.x0, opts.steps, opts.every
  if key ~= nil or x0 == nil or not optint(steps) or not optint(every) then return nil end
  C.ms_trace_opts_init(copts)
  if steps then copts.steps = steps end
  if every then copts.every = every end
  local xp, n = small_x0(x0)
  if xp then return xp, n end
  if vec.is(x0) and x0.dead == 0 then return x0.x, x0.n end
end

-- The last {label, f} made, held weakly: the traces of one rule on one
-- objective share it (a table made for every call costs as much as 30
-- steps), and once they are gone it does not keep f alive.
local last_info = setmetatable({}, {__mode = "v"})

--- {label, f} for a new trace.
local function info_of(label, f)
  local info = last_info[1]
  if info == nil or info[1] ~= label or not rawequal(info[2], f) then
    info = {label, f}
    last_info[1] = info
  end
  return info
end

--- The Lua loop (run), for a rule or an objective written in Lua that
-- calls Lua directly, not from inside the engine.
local function run_lua(o, d, xp, n)
  -- as ms_trace_run: the evaluations planned (a compiled expression may
  -- become machine code), the rule reset, the trace made; none calls back
  if C.ms_objective_plan(o.ptr, tonumber(copts.steps) + 1) ~= 0 or
     C.ms_rule_reset(d.ptr, n) ~= 0 or C.ms_trace_new(n, copts, outbox) ~= 0 then
    return nil, core.last_error()
  end
  local tr = Trace.own(outbox[0])
  local work = ffi.cast("double *", ffi.C.malloc(3 * n * ffi.sizeof("double")))
  if work == nil then return nil, "out of memory" end
  ffi.gc(work, ffi.C.free)
  local x, g, y = work, work + n, work + 2 * n
  C.ms_vec_copy(x, xp, n)
  local step, lookahead = rule.stepper(d)
  -- the engine may call back: see core.call_long
  local ok, st = core.with_sigint(1, rule.run_busy, d, run_unyielding, loop_for(d, o), tr.ptr,
                             o.evaluate, step, lookahead, x, g, y, n, tonumber(copts.steps),
                             tonumber(copts.every))
  ffi.C.free(ffi.gc(work, nil))
  if not ok or st ~= 0 then    -- a failed run leaves nothing behind
    Trace.release(tr)
    if not ok then error(st, 0) end   -- a callback's error, as it came
    return core.failed(st)
  end
  return charged(tr)
end

--- native.trace_run(obj, rule, opts)
function M.trace_run(f, r, opts)
  local o, d = objective.record(f), rule.record(r)
  if o == nil or o.closed then return nil, "objective has been closed", 1 end
  if d == nil or d.ptr == nil then return nil, "rule has been closed", 2 end
  local xp, n = plain_opts(opts)
  if xp == nil then return nil, "options to check", 3 end
  if d.busy then return nil, "rule is in use by a running step", 0 end
  local label = type(d.info) == "table" and rawget(d.info, "label") or nil
  if C.ms_trace_check(o.ptr, xp, n, copts) ~= 0 then return nil, core.last_error(), 3 end
  local tr, msg, code
  if C.ms_objective_is_pure(o.ptr) ~= 0 and rule.is_pure(d) then
    tr, msg, code = run_engine(o, d, xp, n)
  elseif o.calls_back or d.calls_back then
    tr, msg, code = run_calling_back(o, d, xp, n)
  else
    tr, msg, code = run_lua(o, d, xp, n)
  end
  if tr then infos[tr] = info_of(label, f) end
  return tr, msg, code
end

------------------------------------------------------------ the object

local function checktrace(tr, fname)
  core.checkkind(tr, "trace", 1, fname)
  if tr.ptr == nil then error("trace has been closed", 0) end
  return tr.ptr
end

--- native.trace_get(tr, i [, j]): step, f and point i (negative: from the
-- end), nothing out of range; j = 0: no point, j >= 1: its coordinate j.
function M.trace_get(tr, i, j)
  local p = checktrace(tr, "trace_get")
  i = core.checkinteger(i, 2, "trace_get")
  j = j == nil and -1 or core.checkinteger(j, 3, "trace_get")
  local len, n = tonumber(C.ms_trace_len(p)), tonumber(C.ms_trace_dim(p))
  if i < 0 then i = i + len + 1 end
  if i < 1 or i > len or j > n then return end
  local x = C.ms_trace_point(p, i - 1)
  local step, f = tonumber(C.ms_trace_step(p, i - 1)), C.ms_trace_value(p, i - 1)
  if j == 0 then return step, f end
  return step, f, j > 0 and x[j - 1] or vec.copy_of(x, n)
end

--- native.trace_info(tr): len, dim, diverged step (0: none), reason|nil,
-- label and objective
function M.trace_info(tr)
  local p = checktrace(tr, "trace_info")
  local diverged = tonumber(C.ms_trace_diverged(p))
  local info = infos[tr]
  return tonumber(C.ms_trace_len(p)), tonumber(C.ms_trace_dim(p)), diverged,
         diverged ~= 0 and ffi.string(C.ms_trace_reason(p)) or nil, info[1], info[2]
end

core.kind("trace", Trace.ctype, nil, function(tr)
  if tr.lent ~= 0 then
    give_back(tr)
  elseif tr.ptr ~= nil and ffi.cast("void *", tr.ptr) ~= ffi.cast("void *", tr.room) then
    Trace.release(tr)   -- the engine's memory
  end
  tr.ptr = nil
end)

--- The writer of native.write_csv for traces (path checked there).
core.kinds.trace.csv = function(tr, path)
  return core.status(C.ms_trace_write_csv(checktrace(tr, "write_csv"), path))
end

-- The primitives, for native.lua (pairs sees them alone); the other FFI
-- parts reach M's functions through the same table.
return setmetatable({trace_run = M.trace_run, trace_get = M.trace_get, trace_info = M.trace_info},
                    {__index = M})
