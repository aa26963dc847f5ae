--- momsandbox.ffi_train: the training primitives of
-- lua/momsandbox/primitives.lua for LuaJIT (train_run, train_data, the
-- kind "train" and its CSV writer).  Twin of bindings/lua/l_train.c; the
-- user of both is lua/momsandbox/train.lua (ms.train).  The engine runs
-- the loop; rules, schedules and the progress bar written in Lua are
-- called back.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"
local data = require "momsandbox.ffi_data"
local model = require "momsandbox.ffi_model"
local rule = require "momsandbox.ffi_rule"

local C = core.C
local FNAME = "train_run"

local Result = core.handle_type("train", "ms_train_result", C.ms_train_free)

local function close(res)
  if res.ptr ~= nil then
    Result.release(res)
  end
end

local function checkresult(res, fname)
  if not Result.is(res) then core.typeerror(1, fname, "momsandbox.train", res) end
  return res.ptr ~= nil and res.ptr or nil
end

-- One callback serves every run: it calls the progress function of the
-- running one.
local reporting
local progress = ffi.cast("ms_progress_fn", function(_, step, steps, seconds)
  return core.callback_status(reporting, tonumber(step), tonumber(steps), seconds)
end)

local outbox = ffi.new("ms_train_result *[1]")

--- native.train_run: see l_train.c.
local function train_run(m, d, r, batch, epochs, seed, eval_every, shuffle, drop_last, init, report)
  local mp, dp = model.check(m, 1, FNAME), data.check(d, 2, FNAME)
  local rd = rule.check_idle(r, 3, FNAME)
  local o = ffi.new("ms_train_opts")
  C.ms_train_opts_init(o)
  o.batch, o.epochs = core.checkinteger(batch, 4, FNAME), core.checkinteger(epochs, 5, FNAME)
  o.seed = core.seed(core.checkinteger(seed, 6, FNAME))
  o.eval_every = core.checkinteger(eval_every, 7, FNAME)
  o.shuffle, o.drop_last = shuffle and 1 or 0, drop_last and 1 or 0
  if init ~= nil then
    init = vec.checkvec(init, 10, FNAME)
    if init.n ~= C.ms_model_nparams(mp) then
      core.argerror(10, FNAME, "init must hold the model's parameters")
    end
    o.init = init.x
  end
  if report ~= nil then
    if type(report) ~= "function" then core.typeerror(11, FNAME, "function", report) end
    o.progress = progress
  end
  local st = C.ms_train_check(mp, dp, o)
  if st ~= 0 then
    local _, msg, code = core.failed(st)
    return nil, msg, code, true
  end
  local outer = reporting
  reporting = report
  local ok
  ok, st = pcall(rule.run_busy, rd, core.call_long, C.ms_train_run, mp, dp, rd.ptr, o, outbox)
  reporting = outer
  if not ok then error(st, 0) end
  if st ~= 0 then return core.failed(st) end
  return Result.own(outbox[0])
end
-- Never compiled: the engine reads init through o during the run, and
-- only an interpreted frame keeps the vector alive that long.
jit.off(train_run)

--- native.train_data: see l_train.c.
local function train_data(res)
  local p = checkresult(res, "train_data")
  if p == nil then return nil end
  local np, n = tonumber(C.ms_train_nparams(p)), tonumber(C.ms_train_len(p))
  local curve = vec.alloc(3 * n)
  for i = 0, n - 1 do
    curve.x[3 * i] = tonumber(C.ms_train_examples(p, i))
    curve.x[3 * i + 1] = C.ms_train_epoch(p, i)
    curve.x[3 * i + 2] = C.ms_train_loss(p, i)
  end
  local reason = C.ms_train_reason(p)
  return C.ms_train_final_loss(p), C.ms_train_initial_loss(p), C.ms_train_seconds(p),
         C.ms_train_wall(p), C.ms_train_sec_per_epoch(p), C.ms_train_epochs_done(p),
         tonumber(C.ms_train_steps(p)), tonumber(C.ms_train_diverged(p)),
         reason ~= nil and ffi.string(reason) or nil, vec.copy_of(C.ms_train_params(p), np),
         vec.copy_of(C.ms_train_init(p), np), curve
end

core.kind("train", Result.ctype, nil, close)
core.kinds.train.csv = function(res, path)
  local p = checkresult(res, "write_csv")
  if p == nil then core.argerror(1, "write_csv", "result has been closed") end
  return core.status(C.ms_train_write_csv(p, path))
end

return {train_run = train_run, train_data = train_data}
