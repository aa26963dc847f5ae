-- What is particular to the LuaJIT binding (bindings/ffi): how it finds and
-- checks the engine library, errors at the FFI layer, engine objects freed
-- when a run fails, and its own trace loop giving the Lua 5.4 binding's
-- trajectories bit for bit.  Runs under LuaJIT only (ctest: spec.ffi.*).
local ms = require "momsandbox"
local ffi = require "ffi"
local h = require "spec.helpers"

-- Run a fresh luajit with env (VAR=value words) added and the (quoted)
-- arguments args; returns its exit status, stdout and stderr.
local function luajit_run(env, args)
  local preload = os.getenv("MOMSANDBOX_PRELOAD")
  if preload then   -- an ASan build: the runtime must be loaded first
    env = env .. " LD_PRELOAD=" .. h.shquote(preload) .. " ASAN_OPTIONS=detect_leaks=0"
  end
  return h.run("env " .. env .. " luajit " .. args)
end

-- The same for Lua code.
local function luajit(env, code)
  return luajit_run(env, "-e " .. h.shquote(code))
end

describe("loading the LuaJIT binding", function()
  it("declares the engine from the public header and checks the library's ABI version", function()
    assert.matches("core/include/momsandbox%.h$", ms.ffi.header)
    assert.matches("libmomsandbox%.so", ms.ffi.library)
    assert.are.equal(ms.ffi.C.MS_ABI_VERSION, ms.ffi.C.ms_abi_version())
    assert.are.equal(ffi.string(ms.ffi.C.ms_version()), ms.version)
  end)

  it("says where it looked when the library is missing", function()
    -- a copy of the module far from any build, on a system without the library
    local dir = h.tmpdir()
    assert(h.run("mkdir -p " .. h.shquote(dir .. "/a/b") .. " && cp -R bindings/ffi/. " ..
                 h.shquote(dir .. "/a/b")) == 0)
    local env = "-u MOMSANDBOX_LIB LD_LIBRARY_PATH= LUA_PATH=" .. h.shquote(dir .. "/a/b/?.lua;;") ..
                " MOMSANDBOX_HEADER=" .. h.shquote(os.getenv("PWD") .. "/core/include/momsandbox.h")
    local status, _, err = luajit(env, "require 'momsandbox'")
    h.rmtree(dir)
    if status == 0 then return pending("libmomsandbox.so is installed on this system") end
    assert.matches("cannot find the engine library libmomsandbox.so; looked in:", err)
    assert.matches("a/b/%.%./%.%./build/libmomsandbox%.so: no such file", err)
    assert.matches("the system's library path: ", err)
    assert.matches("set MOMSANDBOX_LIB", err)
  end)

  it("names the library given by MOMSANDBOX_LIB when it cannot load it", function()
    local status, _, err = luajit("MOMSANDBOX_LIB=/nonexistent/libmomsandbox.so " ..
                                  "LUA_PATH='bindings/ffi/?.lua;;'", "require 'momsandbox'")
    assert.are_not.equal(0, status)
    assert.matches("cannot load the engine library /nonexistent/libmomsandbox.so %(MOMSANDBOX_LIB%)", err)
  end)

  it("refuses a library whose ABI version is not the header's", function()
    local dir = h.tmpdir()
    local header = h.read("core/include/momsandbox.h"):gsub("MS_ABI_VERSION = %d+", "MS_ABI_VERSION = 999")
    h.write(dir .. "/momsandbox.h", header)
    local status, _, err = luajit("LUA_PATH='bindings/ffi/?.lua;;' MOMSANDBOX_HEADER=" ..
                                  h.shquote(dir .. "/momsandbox.h"), "require 'momsandbox'")
    h.rmtree(dir)
    assert.are_not.equal(0, status)
    assert.matches("the header .*/momsandbox%.h is for MS_ABI_VERSION 999 but the library " ..
                   ".*libmomsandbox%.so[%.%d]* has version " .. ms.ffi.C.MS_ABI_VERSION, err)
  end)

  it("refuses to load into Lua 5.4, pointing at the C module", function()
    if h.run("command -v lua5.4") ~= 0 then return pending("lua5.4 is not installed") end
    local status, _, err = h.run("LUA_PATH='bindings/ffi/?.lua' LUA_CPATH='' lua5.4 -e " ..
                                 h.shquote("require 'momsandbox'"))
    assert.are_not.equal(0, status)
    assert.matches("the LuaJIT binding; under Lua 5.4 use the C module", err)
  end)
end)

describe("the FFI layer", function()
  local f = ms.objective.quadratic{0.2, 4}

  it("turns wrong argument types into Lua errors, not crashes", function()
    local v = ms.vec{1, 2}
    assert.matches("ms.vec or table of numbers expected, got cdata", h.error_of(ms.vec, ffi.new("double[2]")))
    assert.matches("momsandbox.vec expected, got cdata", h.error_of(v.axpy, v, 1, ffi.new("double[2]")))
    assert.matches("momsandbox.vec expected, got nil", h.error_of(v.copy, v))
    assert.matches("number expected, got cdata", h.error_of(v.scale, v, ffi.new("int64_t", 2)))
    assert.matches("momsandbox.vec expected, got string", h.error_of(v.sum, "vec"))
    assert.matches("ms.vec or table of numbers expected, got number", h.error_of(f.grad, f, 42))
    local tr = ms.trace(f, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 1})
    assert.matches("momsandbox.objective expected, got momsandbox.trace",
                   h.error_of(ms.trace, tr, ms.gd{lr = 1}, {x0 = {1}}))
    assert.matches("momsandbox.rule expected, got momsandbox.objective", h.error_of(ms.trace, f, f, {x0 = {1, 1}}))
    assert.matches("entry 2 is a string", h.error_of(ms.trace, f, ms.gd{lr = 1}, {x0 = {1, "a"}}))
    assert.matches("string expected, got table", h.error_of(tr.csv, tr, {}))
    assert.matches("number has no integer representation", h.error_of(function() return tr[1.5] end))
    assert.matches("argv%[2%] must be a string", h.error_of(ms.util.run, {"true", ffi.new("char[1]")}))
    assert.matches("lr must be a number, schedule or function, got cdata",
                   h.error_of(ms.gd, {lr = ffi.new("double", 0.1)}))
  end)

  it("gives the engine's functions and the vectors' raw memory to LuaJIT code", function()
    local a, b = ms.vec{1, 2, 3}, ms.vec{4, 5, 6}
    assert.are.equal(32, ms.ffi.C.ms_vec_dot(a.x, b.x, a.n))
    for i = 0, a.n - 1 do a.x[i] = 2 * a.x[i] end    -- 0-based, unchecked
    assert.are.same({2, 4, 6}, a:totable())
  end)
end)

describe("a failed run", function()
  local f = ms.objective.quadratic{0.2, 4}

  local function alive(kind)
    return ms.ffi.live()[kind] or 0
  end

  it("frees the engine objects it made, at once, when a rule written in Lua fails", function()
    local bad = ms.rule{name = "bad", step = function(p, g, s, h, t)
      if t == 3 then error("step three fails") end
      p:axpy(-0.1, g)
    end}
    local r = bad{}
    collectgarbage()
    local traces = alive("trace")
    local err = h.error_of(ms.trace, f, r, {x0 = {1, 1}, steps = 10})
    assert.matches("binding_spec.lua:%d+: step three fails", err)
    assert.are.equal(traces, alive("trace"))     -- without waiting for a collection
    assert.are.equal(11, #ms.trace(f, ms.gd{lr = 0.1}, {x0 = {1, 1}, steps = 10}))
  end)

  it("frees them too when an objective, a schedule or a check fails", function()
    local broken = ms.objective{dim = 2, f = function() error("no value") end}
    local traces = alive("trace")
    assert.matches("no value", h.error_of(ms.trace, broken, ms.gd{lr = 0.1}, {x0 = {1, 1}}))
    assert.matches("the schedule of lr at step 2", h.error_of(ms.trace, f,
      ms.gd{lr = function(t) return t == 2 and -1 or 0.1 end}, {x0 = {1, 1}}))
    local functional = ms.rule{name = "functional", step = function(p) return p + 1 end}
    assert.matches("must update p in place", h.error_of(ms.trace, f, functional{}, {x0 = {1, 1}}))
    assert.are.equal(traces, alive("trace"))
  end)

  it("makes the collector pay for the long traces of a rule written in Lua", function()
    -- the engine holds their points (480 KB each here), the collector sees
    -- a small handle: unpaid, all 40 would live until its next cycle
    local slow = ms.rule{name = "slow", hyper = {lr = {default = 0.01}},
                         step = function(p, g, s, hp) p:axpy(-hp.lr, g) end}
    local r = slow{}
    collectgarbage()
    local before, most = alive("trace"), 0
    for _ = 1, 40 do
      ms.trace(f, r, {x0 = {1, 1}, steps = 20000})
      most = math.max(most, alive("trace") - before)
    end
    assert.is_true(most <= 4, "at most " .. most .. " dead traces alive at once")
  end)

  it("releases what the garbage collector owns", function()
    collectgarbage()   -- twice: a rule's record (with its schedules) goes
    collectgarbage()   -- in the cycle after its handle
    local before = alive("objective") + alive("rule") + alive("schedule")
    for _ = 1, 100 do
      ms.trace(ms.objective.quadratic{1, 2}, ms.momentum{lr = ms.schedule.cosine{lr = 0.1, steps = 5}},
               {x0 = {1, 1}, steps = 3})
    end
    collectgarbage()
    collectgarbage()
    assert.are.equal(before, alive("objective") + alive("rule") + alive("schedule"))
  end)
end)

describe("the rooms traces are written in", function()
  -- A trace of the engine's own loop lives in a room lent from a slab, or
  -- when all are lent in its handle; a room is lent again once its trace
  -- is closed or collected, never before.
  local f, r = ms.objective.quadratic{0.2, 4}, ms.momentum{lr = 0.6, beta = 0.5}
  local STEPS, ROOMS = 1000, 1024   -- (the slab's rooms: ffi_trace.lua)

  -- True when tr holds d2l's momentum on f from (x1, x2), computed here.
  local function intact(tr, x1, x2)
    local xs, ys = tr:column(1), tr:column(2)
    if #xs ~= STEPS + 1 then return false end
    local v1, v2 = 0, 0
    for i = 1, STEPS + 1 do
      if xs[i] ~= x1 or ys[i] ~= x2 then return false end
      v1, v2 = 0.5 * v1 + 0.2 * x1, 0.5 * v2 + 4 * x2
      x1, x2 = x1 - 0.6 * v1, x2 - 0.6 * v2
    end
    return true
  end

  it("keeps a trace's points while many others are made and collected", function()
    local kept = {}   -- more than the slab has rooms
    for i = 1, 3 * ROOMS + 300 do
      local tr = ms.trace(f, r, {x0 = {i, -i / 2}, steps = STEPS})
      if i % 3 == 0 then kept[#kept + 1] = {tr, i} end
      if i % 100 == 0 then collectgarbage() end
    end
    local in_rooms = 0
    for _, k in ipairs(kept) do
      assert.is_true(intact(k[1], k[2], -k[2] / 2), "trace from x1 = " .. k[2])
      if k[1].lent > 0 then in_rooms = in_rooms + 1 end
    end
    assert.is_true(in_rooms > 0 and in_rooms <= ROOMS, in_rooms .. " in rooms")
  end)

  it("lends a closed trace's room at once", function()
    local native = require "momsandbox.native"   -- (ms.explore closes its traces)
    collectgarbage()
    local tr = ms.trace(f, r, {x0 = {1, 2}, steps = STEPS})
    local room = tr.lent
    assert.is_true(room > 0)
    native.close(tr)
    assert.are.equal(0, tr.lent)
    assert.matches("trace has been closed", h.error_of(tr.value, tr, 1))
    native.close(tr)
    local again = ms.trace(f, r, {x0 = {3, 4}, steps = STEPS})
    assert.are.equal(room, again.lent)
    assert.is_true(intact(again, 3, 4))
  end)

  it("keeps a trace that only a finalizer still reaches", function()
    local seen
    collectgarbage()
    do
      local tr = ms.trace(f, r, {x0 = {7, -3}, steps = STEPS})
      assert.is_true(tr.lent > 0)
      ffi.gc(ffi.new("char[1]"), function()   -- (after the cycle cleared holder)
        for i = 1, 2 * ROOMS + 100 do ms.trace(f, r, {x0 = {-i, i}, steps = STEPS}) end
        seen = intact(tr, 7, -3)
      end)
    end
    collectgarbage()
    assert.is_true(seen)
  end)

  it("closes the traces still in rooms when the state closes, for the finalizers after", function()
    -- finalizers run in no set order when the state closes: a trace read
    -- after the slab was freed says it is closed
    local status, out, err = luajit("LUA_PATH='bindings/ffi/?.lua;;' MOMSANDBOX_LIB=" ..
      h.shquote(ms.ffi.library), [[
      local ms, ffi = require "momsandbox", require "ffi"
      local tr = ms.trace(ms.objective.quadratic{1, 2}, ms.gd{lr = 0.1}, {x0 = {1, 2}, steps = 10})
      KEEP = {}
      for i = 1, 50 do
        KEEP[i] = ffi.gc(ffi.new("char[1]"), function()
          print(pcall(tr.value, tr, 1))
        end)
      end]])
    assert.are.equal(0, status, err)
    local lines = 0
    for line in out:gmatch("[^\n]+") do
      lines = lines + 1
      assert.is_truthy(line == "true\t4.5" or line == "false\ttrace has been closed", line)
    end
    assert.are.equal(50, lines)
  end)
end)

describe("the trace loop in Lua", function()
  -- Every kind of objective, rule and schedule, and the loop's corners
  -- (look-ahead, every = k, divergence), printed with the CSV of each run.
  -- A built-in objective with a built-in rule runs the engine's own loop;
  -- anything written in Lua, the loop in Lua.
  local cases = [[
    local ms = require "momsandbox"
    local dir = arg[1]
    local S = ms.schedule
    local quad, rosen = ms.objective.quadratic{0.2, 4}, ms.objective.rosenbrock()
    local lua_rosen = ms.objective{dim = 2, f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end,
      grad = function(x, out)
        out[1] = -400 * x[1] * (x[2] - x[1]^2) - 2 * (1 - x[1])
        out[2] = 200 * (x[2] - x[1]^2)
      end}
    local numeric = ms.objective{dim = 2, f = function(x) return math.exp(0.1 * x[1]) + x[2]^2 end}
    local blowup = ms.objective{dim = 1, f = function(x) return math.log(x[1]) end,
                                grad = function(x, out) out[1] = 1 / x[1] end}
    local heavy_ball = ms.rule{name = "heavy_ball", hyper = {lr = {min = 0}, beta = 0.9}, state = {"v"},
      step = function(p, g, s, h) s.v:scale(h.beta):add(g); p:axpy(-h.lr, s.v) end}
    local nag = ms.rule{name = "nag_lua", hyper = {lr = 0.1, momentum = 0.9}, state = {"v"},
      lookahead = function(p, y, s, h) y:copy(p):axpy(h.momentum, s.v) end,
      step = function(p, g, s, h) s.v:scale(h.momentum):axpy(-h.lr, g); p:add(s.v) end}
    local runs = {
      {quad, ms.gd{lr = 0.4}}, {quad, ms.momentum{lr = 0.6, beta = 0.5}},
      {quad, ms.nag{lr = 0.3, momentum = 0.5}}, {rosen, ms.adam{lr = 0.01}, steps = 300},
      {rosen, ms.sgd{lr = 5e-4, momentum = 0.9, nesterov = true}},
      {quad, heavy_ball{lr = 0.6, beta = 0.5}}, {rosen, nag{lr = 5e-4}},
      {lua_rosen, ms.momentum{lr = 5e-4}}, {numeric, heavy_ball{lr = 0.1}},
      {quad, ms.momentum{lr = S.cosine{lr = 0.6, steps = 30}}},
      {quad, heavy_ball{lr = function(t) return 0.6 / math.sqrt(t) end}},
      {quad, ms.momentum{lr = 0.3, beta = S.sequence{function(t) return 0.5 + 0.01 * t end,
                                                      S.constant{lr = 0.25}, milestones = {10}}}},
      {quad, ms.momentum{lr = 0.1}, steps = 100, every = 7},
      {quad, ms.gd{lr = 0.6}, steps = 2000}, {blowup, ms.gd{lr = 2}, x0 = {1}},
      {lua_rosen, ms.nag{lr = 5e-4, momentum = 0.9}},
      {lua_rosen, ms.momentum{lr = 5e-4}, steps = 100, every = 7},
    }
    for i, run in ipairs(runs) do
      local tr = ms.trace(run[1], run[2], {x0 = run.x0 or {-1.5, 2}, steps = run.steps or 60,
                                           every = run.every})
      print(i, tostring(tr), tr.rule, tr.diverged, tr.reason)
      tr:csv(dir .. "/" .. i .. ".csv")
    end
  ]]

  it("gives the Lua 5.4 binding's trajectories bit for bit", function()
    local dirs = {jit = h.tmpdir(), lua54 = h.tmpdir()}
    local script = h.write(dirs.jit .. "/cases.lua", cases)
    local _, jit_out, jit_err = luajit_run("LUA_PATH='bindings/ffi/?.lua;;' MOMSANDBOX_LIB=" ..
      h.shquote(ms.ffi.library), h.shquote(script) .. " " .. h.shquote(dirs.jit))
    local status, out, err = h.run(h.shquote(h.build .. "/momsandbox") .. " " .. h.shquote(script) ..
                                   " " .. h.shquote(dirs.lua54))
    assert.are.equal(0, status, err)
    assert.are.equal(out, jit_out, jit_err)
    for i = 1, 17 do
      local a, b = h.read(dirs.jit .. "/" .. i .. ".csv"), h.read(dirs.lua54 .. "/" .. i .. ".csv")
      assert.is_truthy(a, "run " .. i)
      assert.is_true(a == b, "run " .. i .. " differs")
    end
    h.rmtree(dirs.jit)
    h.rmtree(dirs.lua54)
  end)

  it("gives the engine objects that call back into Lua when the engine runs the loop", function()
    -- ms_trace_run, the engine's own loop, on an objective, a rule with a
    -- look-ahead and a schedule all written in Lua: every call comes back
    -- through the FFI's callbacks, and the trajectory is ms.trace's
    local C = ms.ffi.C
    local f = ms.objective{dim = 2, f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end,
      grad = function(x, out)
        out[1] = -400 * x[1] * (x[2] - x[1]^2) - 2 * (1 - x[1])
        out[2] = 200 * (x[2] - x[1]^2)
      end}
    local nag = ms.rule{name = "nag_lua", hyper = {lr = 0.1, momentum = 0.9}, state = {"v"},
      lookahead = function(p, y, s, h) y:copy(p):axpy(h.momentum, s.v) end,
      step = function(p, g, s, h) s.v:scale(h.momentum):axpy(-h.lr, g); p:add(s.v) end}
    local rule = nag{lr = function(t) return 5e-4 / (1 + 0.01 * t) end}
    local tr = ms.trace(f, rule, {x0 = {-1.5, 2}, steps = 50})
    local opts, out = ffi.new("ms_trace_opts"), ffi.new("ms_trace *[1]")
    C.ms_trace_opts_init(opts)
    opts.steps = 50
    local x0 = ffi.new("double[2]", -1.5, 2)
    assert.are.equal(0, C.ms_trace_run(ms.ffi.engine(f), ms.ffi.engine(rule), x0, 2, opts, out))
    local engine_tr = ffi.gc(out[0], C.ms_trace_free)
    assert.are.equal(#tr, tonumber(C.ms_trace_len(engine_tr)))
    for i = 1, #tr do
      local p = C.ms_trace_point(engine_tr, i - 1)
      assert.is_true(h.same_bits(tr[i]:totable(), {p[0], p[1]}), "point " .. i)
    end
    -- a failing callback stops the engine's loop with MS_ECALLBACK
    local bad = ms.rule{name = "bad", step = function() error("no") end}{}
    assert.are.equal(C.MS_ECALLBACK, C.ms_trace_run(ms.ffi.engine(f), ms.ffi.engine(bad), x0, 2, opts, out))
  end)

  it("never lets compiled code call back into Lua", function()
    -- Finite differences and compositions of schedules with functions make
    -- the engine call back; run them until LuaJIT compiles the loop around
    -- them (a callback from compiled code would abort the process).
    local g = ms.objective{dim = 2, f = function(x) return x[1]^2 + 3 * x[2]^2 end}
    local lr = ms.schedule.sequence{function() return 0.1 end, ms.schedule.constant{lr = 0.05}, milestones = {5}}
    for _ = 1, 300 do
      local tr = ms.trace(g, ms.momentum{lr = lr}, {x0 = {1, 1}, steps = 20})
      assert.is_true(tr:value(#tr) < tr:value(1))
    end
  end)
end)
