--- ms.model: the models ms.train fits (linear and logistic regression),
-- their loss, gradient, predictions and -- for linear regression -- the
-- exact least-squares optimum.  A model is a native handle of kind "model"
-- (primitives model_new, model_call: bindings/lua/l_model.c,
-- bindings/ffi/momsandbox/ffi_model.lua); everything a user reads is here.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local LOSSES = {"squared", "mse", "logistic"}   -- ms_loss, in order
local BIASES = {"zero", "uniform"}              -- ms_bias_init

local unpack = table.unpack or unpack

--- The model m, live: name, features, nparams, loss, weight_std,
-- bias_init.  m is the self of method fname.
local function info(m, fname)
  local t = {nil, "momsandbox.model expected, got " .. check.typename(m)}
  if native.kind(m) == "model" then t = {native.model_call(m, "info")} end
  if t[1] == nil then check.fail(("calling '%s' on bad self (%s)"):format(fname, t[2])) end
  return unpack(t, 1, 6)
end

--- Argument n of fname, a live data set: its examples and features.
local function datainfo(d, n, fname)
  local size, nf = nil, "momsandbox.data expected, got " .. check.typename(d)
  if native.kind(d) == "data" then size, nf = native.data_info(d) end
  if size == nil then check.argerror(n, fname, nf) end
  return size, nf
end

--- The 0-based index in names of option key (def when absent).
local function choice(opts, key, names, fname)
  local v = opts[key]
  if v == nil then return 0 end
  for i, name in ipairs(names) do
    if v == name then return i - 1 end
  end
  check.argerror(1, fname, ("%s must be one of \"%s\", got %s"):format(key,
                 table.concat(names, "\", \""), type(v) == "string" and v or check.typename(v)))
end

--- ms.model.<name>(features) or ms.model.<name>{features = d, ...}
local function constructor(fname, has_loss)
  local known = has_loss and {"features", "loss", "weight_std", "bias_init"}
                          or {"features", "weight_std", "bias_init"}
  return check.protect(function(opts)
    local features, loss, std, bias = opts, 0, 0.01, 0   -- ms_model_opts_init's
    if type(opts) ~= "number" then
      check.options(opts, 1, fname, known)
      features = check.optint(opts, 1, fname, "features", 0)
      if has_loss then loss = choice(opts, "loss", LOSSES, fname) end
      std = check.optnum(opts, 1, fname, "weight_std", std)
      bias = choice(opts, "bias_init", BIASES, fname)
    end
    if not check.is_integer(features) or features < 1 then
      check.argerror(1, fname, "features must be an integer >= 1")
    end
    if loss == 2 then
      check.argerror(1, fname, 'linreg\'s loss is "squared" or "mse" (for the logistic loss, ' ..
                               'use ms.model.logreg)')
    end
    local m, msg = native.model_new(fname, features, loss, std, bias)
    return m or check.argerror(1, fname, msg)
  end)
end

local function vec(t) return require("momsandbox.api").vec(t) end

--- Argument n of fname as a vector of size entries (a ms.vec or a table
-- of numbers); what names it in messages.
local function vector(v, n, fname, size, what)
  local ok, x = pcall(vec, v)
  if not ok or (type(v) ~= "table" and type(v) ~= "userdata" and type(v) ~= "cdata") then
    check.argerror(n, fname, ("%s must be a ms.vec or a table of numbers, got %s"):format(
                   what, check.typename(v)))
  end
  if #x ~= size then
    check.argerror(n, fname, ("%s has %d entries, expected %d%s"):format(what, #x, size,
                   what == "params" and " (weights, then the bias)" or ""))
  end
  return x
end

--- The result of a model_call that may fail: a failure of the data (or
-- rows) is the fault of argument 1.
local function ok(fname, res, ...)
  if res == nil then check.argerror(1, fname, (...)) end
  return res, ...
end

local methods = {}

--- model:loss(data, params [, rows]): the mean training loss over the
-- examples rows (1-based indices; all when absent) and its gradient.
function methods.loss(m, d, p, rows)
  local _, _, np = info(m, "loss")
  local n = datainfo(d, 1, "loss")
  p = vector(p, 2, "loss", np, "params")
  if rows ~= nil then
    check.table(rows, 3, "loss")
    if check.rawlen(rows) == 0 then check.argerror(3, "loss", "rows must not be empty") end
    for k = 1, check.rawlen(rows) do
      local i = rawget(rows, k)
      if not check.is_integer(i) or i < 1 or i > n then
        check.argerror(3, "loss", ("rows[%d] is not an example (1 .. %d)"):format(k, n))
      end
    end
  end
  return ok("loss", native.model_call(m, "loss", d, p, rows))
end

--- model:evaluate(data, params): the loss a run reports, over all of data
function methods.evaluate(m, d, p)
  local _, _, np = info(m, "evaluate")
  datainfo(d, 1, "evaluate")
  return ok("evaluate", native.model_call(m, "evaluate", d, vector(p, 2, "evaluate", np, "params")))
end

--- model:predict(params, x)
function methods.predict(m, p, x)
  local _, features, np = info(m, "predict")
  p = vector(p, 1, "predict", np, "params")
  return native.model_call(m, "predict", p, vector(x, 2, "predict", features, "x"))
end

--- model:optimum(data): the exact minimiser and its reported loss
function methods.optimum(m, d)
  info(m, "optimum")
  datainfo(d, 1, "optimum")
  return check.ok(native.model_call(m, "optimum", d))
end

--- model:init(seed): the initial parameters ms.train draws with that seed
function methods.init(m, seed)
  info(m, "init")
  return native.model_call(m, "init", seed == nil and 1 or check.integer(seed, 1, "init"))
end

--- model:objective(data): the training loss over all of data as an
-- objective of the parameters (for ms.trace, ms.gradcheck): the engine's
-- own, which keeps the model and the data alive.
function methods.objective(m, d)
  local _, features = info(m, "objective")
  local _, df = datainfo(d, 1, "objective")
  if df ~= features then
    check.argerror(1, "objective", ("the model takes %d features but the data has %d"):format(
                   features, df))
  end
  return ok("objective", native.objective_builtin("model", m, d))
end

for name, fn in pairs(methods) do methods[name] = check.protect(fn) end

local fields = {name = 1, features = 2, nparams = 3}

native.class("model", {
  methods = methods,   -- what the REPL completes after obj:
  __index = check.protect(function(m, key)
    if methods[key] then return methods[key] end
    return fields[key] and (select(fields[key], info(m, "__index")))
  end),
  --- linreg{features=5}, with the options that differ from the defaults:
  -- linreg{features=5, loss=mse, bias_init=uniform}
  __tostring = check.protect(function(m)
    local name, features, _, loss, std, bias = info(m, "__tostring")
    return ("%s{features=%d%s%s%s}"):format(name, features, loss == 1 and ", loss=mse" or "",
      std ~= 0.01 and ", weight_std=" .. native.format(std) or "",
      bias == 1 and ", bias_init=uniform" or "")
  end),
})

return {linreg = constructor("linreg", true), logreg = constructor("logreg", false)}
