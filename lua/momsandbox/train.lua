--- ms.train{model =, data =, rule =, ...}: the minibatch loop of d2l's
-- train_ch11, run by the engine (native.train_run; rules and schedules
-- written in Lua are called back), its progress bar, and the result as
-- plain data (native.train_data) with its loss curve.  The same under
-- Lua 5.4 and LuaJIT.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local FNAME = "train"
local KNOWN = {"model", "data", "rule", "batch", "epochs", "seed", "eval_every", "shuffle",
               "drop_last", "init", "progress"}

-- What a result remembers besides the engine's: rule (its label), model,
-- data, batch, seed.  Weak keys: the values never reference their key.
local about = setmetatable({}, {__mode = "k"})

local function object(opts, key, tname, example)
  local v = opts[key]
  -- (a cdata of no native kind: an object of the LuaJIT binding's own,
  -- not moved yet to the shared Lua; train_run checks it)
  if check.typename(v) ~= tname and not (type(v) == "cdata" and native.kind(v) == nil) then
    check.argerror(1, FNAME, ("%s must be a %s (%s), got %s"):format(key, tname, example,
                                                                   check.typename(v)))
  end
  return v
end

-- "\r 42% [############------------------] step 1234/3000, 1.3 s, 1.8 s left",
-- redrawn in place: from the first report when asked, else after a second.
local function draw(bar, step, steps, seconds)
  if not bar.always and seconds < 1 then return end
  local frac = steps > 0 and step / steps or 1
  local filled = math.floor(frac * 30)
  local line = ("\r%3d%% [%s%s] step %d/%d, %.1f s, %.1f s left "):format(math.floor(100 * frac),
    ("#"):rep(filled), ("-"):rep(30 - filled), step, steps, seconds,
    frac > 0 and seconds * (1 - frac) / frac or 0)
  io.stderr:write(line)
  io.stderr:flush()
  bar.width = math.max(bar.width, #line)
end

--- ms.train{model, data, rule, batch = 10, epochs = 2, seed = 1,
--           eval_every = 200, shuffle = true, drop_last = false,
--           init = nil, progress = nil}: the engine's defaults.
local function run(opts)
  check.options(opts, 1, FNAME, KNOWN)
  local model = object(opts, "model", "momsandbox.model", "ms.model.linreg(d)")
  local data = object(opts, "data", "momsandbox.data", "from ms.data.load")
  local rule = object(opts, "rule", "momsandbox.rule", "ms.momentum{...}")
  local batch, seed = check.optint(opts, 1, FNAME, "batch", 10), check.optint(opts, 1, FNAME, "seed", 1)
  local init = opts.init ~= nil and check.vec(check.vector(opts.init, 1, FNAME, "init"), 1, FNAME) or nil
  if init and #init ~= model.nparams then
    check.argerror(1, FNAME, ("init has %d entries, expected %d (weights, then the bias)"):format(
                   #init, model.nparams))
  end
  local show = opts.progress
  if show ~= nil and type(show) ~= "boolean" then
    check.argerror(1, FNAME, "progress must be a boolean (default: on a terminal, for runs " ..
                             "longer than a second)")
  end
  local bar = {always = show ~= nil, width = 0}
  if show == nil then show = require("momsandbox.api").util.isatty(2) end
  local label = tostring(rule)   -- before the run, which may change the rule
  local ok, res, msg, _, setup = pcall(native.train_run, model, data, rule, batch,
    check.optint(opts, 1, FNAME, "epochs", 2), seed, check.optint(opts, 1, FNAME, "eval_every", 200),
    check.optbool(opts, 1, FNAME, "shuffle", true), check.optbool(opts, 1, FNAME, "drop_last", false),
    init, show and function(...) draw(bar, ...) end or nil)
  if bar.width > 0 then   -- erased
    io.stderr:write("\r" .. (" "):rep(bar.width - 1) .. "\r")
    io.stderr:flush()
  end
  if not ok then error(res, 0) end   -- a callback's error, or Ctrl-C
  if res == nil and setup then check.argerror(1, FNAME, msg) end
  check.ok(res, msg)
  about[res] = {rule = label, model = opts.model, data = opts.data, batch = batch, seed = seed}
  return res
end

------------------------------------------------------------------ result

local tointeger = math.tointeger or function(x) return x end
local FIGURES = {"loss", "initial_loss", "seconds", "wall", "sec_per_epoch", "epochs", "steps",
                 "diverged", "reason", "params", "init"}   -- train_data's results, in order

--- The result res, the self of method fname, as a new table: the figures,
-- w and b, and the curve {examples, epoch, loss}.
local function data(res, fname)
  if native.kind(res) ~= "train" then check.selferror(fname, "momsandbox.train", res) end
  local t = {native.train_data(res)}
  if t[1] == nil then check.fail(("calling '%s' on bad self (result has been closed)"):format(fname)) end
  local d, np = {}, #t[10]
  for i, key in ipairs(FIGURES) do d[key] = t[i] end
  d.steps, d.diverged, d.b = tointeger(d.steps), tointeger(d.diverged), d.params[np]
  d.w = native.vec_new(np - 1)
  for i = 1, np - 1 do d.w[i] = d.params[i] end
  local flat, c = t[12]:totable(), {examples = {}, epoch = {}, loss = {}}
  for i = 1, #flat / 3 do
    c.examples[i], c.epoch[i], c.loss[i] = tointeger(flat[3 * i - 2]), flat[3 * i - 1], flat[3 * i]
  end
  d.curve = c
  return d
end

--- res:csv(path): examples,epoch,loss, one line per point of the curve.
local methods = {csv = check.protect(function(res, path)
  data(res, "csv")
  check.ok(native.write_csv(res, check.path(path, 1, "csv")))
  return res
end)}

local fields = {
  diverged = function(d) return d.diverged ~= 0 and d.diverged end,
  reason = function(d) return d.diverged ~= 0 and d.reason or nil end,
}
for _, key in ipairs{"loss", "initial_loss", "seconds", "wall", "sec_per_epoch", "epochs", "steps",
                     "params", "init", "w", "b", "curve"} do
  fields[key] = function(d) return d[key] end
end

-- d2l's %.3f (%.6f for seconds), unless the number would print as a wall
-- of digits; NaN as "nan" whatever its sign.
local function number(x, fixed)
  if x ~= x then return "nan" end
  return (math.abs(x) < 1e12 and fixed or "%.6e"):format(x)
end

native.class("train", {
  methods = methods,   -- what the REPL completes after obj:
  __index = check.protect(function(res, key)
    if type(key) == "number" then   -- res[i]: {examples =, epoch =, loss =}, negative from the end
      local c = data(res, "__index").curve
      if not check.is_integer(key) then
        check.argerror(1, "__index", "number has no integer representation")
      end
      local n = #c.examples
      local i = key < 0 and key + n + 1 or key
      if i < 1 or i > n then
        check.argerror(1, "__index", ("point %d out of range (curve of %d)"):format(i, n))
      end
      return {examples = c.examples[i], epoch = c.epoch[i], loss = c.loss[i]}
    end
    if methods[key] then return methods[key] end
    local d = data(res, "__index")
    if fields[key] then return fields[key](d) end
    return (about[res] or {})[key]
  end),
  __len = check.protect(function(res) return #data(res, "__len").curve.examples end),
  -- d2l's line: "loss: 0.243, 0.000031 sec/epoch", and why a run stopped early
  __tostring = check.protect(function(res)
    local d = data(res, "__tostring")
    local line = ("loss: %s, %s sec/epoch"):format(number(d.loss, "%.3f"),
                                                  number(d.sec_per_epoch, "%.6f"))
    if d.diverged == 0 then return line end
    return ("%s (diverged at step %d: %s)"):format(line, d.diverged, d.reason)
  end),
})

return check.protect(run)
