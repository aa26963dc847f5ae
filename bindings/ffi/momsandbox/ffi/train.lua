--- momsandbox.ffi.train: ms.train{model =, data =, rule =, ...} under
-- LuaJIT -- the minibatch loop of d2l's train_ch11, run by the engine
-- (rules, schedules and the progress bar written in Lua are called back),
-- and the result with its loss curve.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local data = require "momsandbox.ffi.data"
local model = require "momsandbox.ffi.model"
local rule = require "momsandbox.ffi.rule"

local C = core.C
local M = {}

local Result = core.handle_type("ms_ffi_train", "ms_train_result", "momsandbox.train_result",
                                C.ms_train_free, "train_result")

-- What a result remembers besides the engine's data: rule label, model,
-- data, batch and seed.
local about = setmetatable({}, {__mode = "k"})

M.is = Result.is

------------------------------------------------------------ progress bar

local BAR = 30

-- Bars by callback context: one callback serves every run.
local bars, last_id = setmetatable({}, {__mode = "v"}), 0

-- "\r 42% [############------------------] step 1234/3000, 1.3 s, 1.8 s left"
local function draw(b, step, steps, seconds)
  if not b.always and seconds < 1 then return end
  local frac = steps > 0 and step / steps or 1
  local filled = math.floor(frac * BAR)
  local line = ("\r%3d%% [%s%s] step %d/%d, %.1f s, %.1f s left "):format(math.floor(100 * frac),
    ("#"):rep(filled), ("-"):rep(BAR - filled), step, steps, seconds,
    frac > 0 and seconds * (1 - frac) / frac or 0)
  io.stderr:write(line)
  io.stderr:flush()
  b.width = math.max(b.width, #line)
end

local progress = ffi.cast("ms_progress_fn", function(ctx, step, steps, seconds)
  return core.callback_status(draw, bars[tonumber(ffi.cast("intptr_t", ctx))],
                              tonumber(step), tonumber(steps), seconds)
end)

local function erase(b)
  if b.width == 0 then return end
  io.stderr:write("\r" .. (" "):rep(b.width - 1) .. "\r")
  io.stderr:flush()
end

---------------------------------------------------------------- ms.train

--- The object in field key of opts, checked by check; the error says what
-- it must be.
local function field(opts, key, is, tname, example)
  local v = opts[key]
  if not is(v) then
    core.argerror(1, "train", ("%s must be a %s (%s), got %s"):format(key, tname, example, core.typename(v)))
  end
  return v
end

local outbox = ffi.new("ms_train_result *[1]")

--- ms.train{model, data, rule, batch = 10, epochs = 2, seed = 1,
--           eval_every = 200, shuffle = true, drop_last = false,
--           init = nil, progress = nil}
local function train(opts)
  local fname = "train"
  core.checkoptions(opts, 1, fname, {"model", "data", "rule", "batch", "epochs", "seed",
                                     "eval_every", "shuffle", "drop_last", "init", "progress"})
  local m = model.check(field(opts, "model", model.record, "momsandbox.model", "ms.model.linreg(d)"), 1, fname)
  local d = data.check(field(opts, "data", data.is, "momsandbox.data", "from ms.data.load"), 1, fname)
  local r = rule.check(field(opts, "rule", rule.record, "momsandbox.rule", "ms.momentum{...}"), 1, fname)
  local o = ffi.new("ms_train_opts")
  C.ms_train_opts_init(o)
  o.batch = core.optint(opts, 1, fname, "batch", tonumber(o.batch))
  o.epochs = core.optint(opts, 1, fname, "epochs", tonumber(o.epochs))
  local seed = core.optint(opts, 1, fname, "seed", tonumber(o.seed))
  o.seed = core.seed(seed)
  o.eval_every = core.optint(opts, 1, fname, "eval_every", tonumber(o.eval_every))
  o.shuffle = core.optbool(opts, 1, fname, "shuffle", o.shuffle ~= 0)
  o.drop_last = core.optbool(opts, 1, fname, "drop_last", o.drop_last ~= 0)
  local init
  if opts.init ~= nil then
    init = data.vectorfield(opts, 1, fname, "init")
    local np = tonumber(C.ms_model_nparams(m))
    if init.n ~= np then
      core.argerror(1, fname, ("init has %d entries, expected %d (weights, then the bias)"):format(init.n, np))
    end
    o.init = init.x
  end
  if opts.progress ~= nil and type(opts.progress) ~= "boolean" then
    core.argerror(1, fname, "progress must be a boolean (default: on a terminal, for runs longer " ..
                            "than a second)")
  end
  last_id = last_id + 1
  local bar = {always = opts.progress ~= nil, width = 0}
  if opts.progress == nil and C.ms_isatty(2) ~= 0 or opts.progress then
    bars[last_id] = bar
    o.progress, o.progress_ctx = progress, ffi.cast("void *", last_id)
  end
  if C.ms_train_check(m, d, o) ~= 0 then core.argerror(1, fname, core.last_error()) end
  local st = rule.run_busy(r, core.call_long, C.ms_train_run, m, d, r.ptr, o, outbox)
  erase(bar)
  core.check(st)
  local res = Result.own(outbox[0])
  about[res] = {rule = rule.label(r), model = opts.model, data = opts.data,
                batch = tonumber(o.batch), seed = seed}
  return res
end
-- Never compiled: the engine reads init through o during the run, and
-- only an interpreted frame keeps the vector alive that long.
jit.off(train)
M.run = core.protect(train)

----------------------------------------------------------------- methods

--- res[i]: {examples =, epoch =, loss =} for point i (negative: from the
-- end), or an error at the level of the caller of its caller.
local function point(res, i)
  if type(i) ~= "number" or not core.is_integer(i) then
    error(core.argmsg(2, "index", "number has no integer representation"), 3)
  end
  local len = tonumber(C.ms_train_len(res.ptr))
  if i < 0 then i = i + len + 1 end
  if i < 1 or i > len then
    error(core.argmsg(2, "index", ("point %d out of range (curve of %d)"):format(i, len)), 3)
  end
  return {examples = tonumber(C.ms_train_examples(res.ptr, i - 1)),
          epoch = C.ms_train_epoch(res.ptr, i - 1), loss = C.ms_train_loss(res.ptr, i - 1)}
end

--- res.curve: {examples = {...}, epoch = {...}, loss = {...}}
local function curve(res)
  local c = {examples = {}, epoch = {}, loss = {}}
  for i = 0, tonumber(C.ms_train_len(res.ptr)) - 1 do
    c.examples[i + 1] = tonumber(C.ms_train_examples(res.ptr, i))
    c.epoch[i + 1] = C.ms_train_epoch(res.ptr, i)
    c.loss[i + 1] = C.ms_train_loss(res.ptr, i)
  end
  return c
end

local methods = {}

methods.csv = core.protect(function(res, path)
  path = core.checkpath(path, 2, "csv")
  if C.ms_train_write_csv(res.ptr, path) ~= 0 then core.failure(core.last_error()) end
  return res
end)

-- The number fields and their getters.
local numbers = {
  loss = C.ms_train_final_loss, initial_loss = C.ms_train_initial_loss,
  seconds = C.ms_train_seconds, wall = C.ms_train_wall,
  sec_per_epoch = C.ms_train_sec_per_epoch, epochs = C.ms_train_epochs_done,
}

local function np(res)
  return tonumber(C.ms_train_nparams(res.ptr))
end

-- The other fields.
local fields = {
  steps = function(res) return tonumber(C.ms_train_steps(res.ptr)) end,
  params = function(res) return vec.copy_of(C.ms_train_params(res.ptr), np(res)) end,
  init = function(res) return vec.copy_of(C.ms_train_init(res.ptr), np(res)) end,
  w = function(res) return vec.copy_of(C.ms_train_params(res.ptr), np(res) - 1) end,
  b = function(res) return C.ms_train_params(res.ptr)[np(res) - 1] end,
  curve = curve,
  diverged = function(res)
    local step = tonumber(C.ms_train_diverged(res.ptr))
    return step ~= 0 and step
  end,
  reason = function(res)
    if C.ms_train_diverged(res.ptr) == 0 then return nil end
    return ffi.string(C.ms_train_reason(res.ptr))
  end,
}

Result.check_methods(methods)

ffi.metatype(Result.ctype, {
  __index = function(res, key)
    if type(key) == "number" then return point(res, key) end
    if methods[key] then return methods[key] end
    if numbers[key] then return numbers[key](res.ptr) end
    if fields[key] then return fields[key](res) end
    local info = about[res]
    return info and info[key]
  end,
  __len = function(res) return tonumber(C.ms_train_len(res.ptr)) end,
  -- d2l's line: "loss: 0.243, 0.000031 sec/epoch", and why a run stopped
  -- early
  __tostring = function(res)
    -- d2l's %.3f, unless the number would print as a wall of digits (as
    -- a trace's coordinates)
    local loss, sec = C.ms_train_final_loss(res.ptr), C.ms_train_sec_per_epoch(res.ptr)
    local line = ((math.abs(loss) < 1e12 or loss ~= loss) and "loss: %.3f, " or "loss: %.6e, ")
                 :format(loss) ..
                 (math.abs(sec) < 1e12 and "%.6f sec/epoch" or "%.6e sec/epoch"):format(sec)
    local step = tonumber(C.ms_train_diverged(res.ptr))
    if step == 0 then return line end
    return ("%s (diverged at step %d: %s)"):format(line, step, ffi.string(C.ms_train_reason(res.ptr)))
  end,
})

return M
