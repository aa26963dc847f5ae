--- momsandbox.ffi.model: ms.model under LuaJIT -- the models ms.train fits
-- (linear and logistic regression), their loss, gradient, predictions and
-- -- for linear regression -- the exact least-squares optimum.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"
local vec = require "momsandbox.ffi.vec"
local data = require "momsandbox.ffi.data"
local objective = require "momsandbox.ffi.objective"

local C = core.C
local M = {}

local P = {}   -- key of a model's record
local Model = {__name = "momsandbox.model"}

--- The record of m if it is a model, else nil.
function M.record(m)
  return type(m) == "table" and getmetatable(m) == Model and m[P] or nil
end

--- The engine model of the model at argument arg of fname.
function M.check(m, arg, fname, present)
  local d = M.record(m)
  return d and d.ptr or core.typeerror(arg, fname, "momsandbox.model", m, present)
end

local LOSSES = {"squared", "mse", "logistic"}   -- ms_loss, in order
local BIASES = {"zero", "uniform"}              -- ms_bias_init

--- The 0-based index in names of option key (def when absent).
local function choice(opts, key, names, def, fname)
  local v = opts[key]
  if v == nil then return def end
  for i, name in ipairs(names) do
    if v == name then return i - 1 end
  end
  local quoted = {}
  for i, name in ipairs(names) do quoted[i] = '"' .. name .. '"' end
  core.argerror(1, fname, ("%s must be one of %s, got %s"):format(key, table.concat(quoted, ", "),
                tostring(v)))
end

local outbox = ffi.new("ms_model *[1]")

--- ms.model.<name>(features) or ms.model.<name>{features = d, ...}
local function constructor(fname, make, has_loss)
  local known = has_loss and {"features", "loss", "weight_std", "bias_init"}
                          or {"features", "weight_std", "bias_init"}
  return core.protect(function(opts)
    local o = ffi.new("ms_model_opts")
    C.ms_model_opts_init(o)
    local features
    if type(opts) == "number" then
      features = core.checkinteger(opts, 1, fname)
    else
      core.checkoptions(opts, 1, fname, known)
      features = core.optint(opts, 1, fname, "features", 0)
      if has_loss then o.loss = choice(opts, "loss", LOSSES, 0, fname) end
      o.weight_std = core.optnum(opts, 1, fname, "weight_std", o.weight_std)
      o.bias_init = choice(opts, "bias_init", BIASES, 0, fname)
    end
    if features < 1 then core.argerror(1, fname, "features must be an integer >= 1") end
    if has_loss and o.loss == C.MS_LOSS_LOGISTIC then
      core.argerror(1, fname, 'linreg\'s loss is "squared" or "mse" (for the logistic loss, ' ..
                              'use ms.model.logreg)')
    end
    if make(features, o, outbox) ~= 0 then core.argerror(1, fname, core.last_error()) end
    return setmetatable({[P] = {ptr = core.own(outbox[0], C.ms_model_free, "model")}}, Model)
  end)
end

---------------------------------------------------------------- methods

local function nparams(ptr)
  return tonumber(C.ms_model_nparams(ptr))
end

--- The parameter vector at arg, of the model's size.
local function params(ptr, p, arg, fname)
  p = vec.tovec(p, arg, fname)
  if p.n ~= nparams(ptr) then
    core.argerror(arg, fname, ("params has %d entries, expected %d (weights, then the bias)"):format(
                  p.n, nparams(ptr)))
  end
  return p
end

--- The 0-based example indices of rows (1-based), for model:loss.
local function checkrows(rows, n, fname)
  core.checktable(rows, 4, fname)
  if #rows == 0 then core.argerror(4, fname, "rows must not be empty") end
  local out = ffi.new("size_t[?]", #rows)
  for k = 1, #rows do
    local i = rows[k]
    if type(i) ~= "number" or not core.is_integer(i) or i < 1 or i > n then
      core.argerror(4, fname, ("rows[%d] is not an example (1 .. %d)"):format(k, n))
    end
    out[k - 1] = i - 1
  end
  return out, #rows
end

local methods = {}

--- model:loss(data, params [, rows]): the mean training loss over the
-- examples rows (1-based indices; all when absent) and its gradient.
function methods.loss(m, d, p, rows)
  local ptr = M.check(m, 1, "loss")
  local dp = data.check(d, 2, "loss")
  p = params(ptr, p, 3, "loss")
  local idx, count
  if rows ~= nil then idx, count = checkrows(rows, tonumber(C.ms_data_len(dp)), "loss") end
  local g, loss = vec.alloc(p.n), ffi.new("double[1]")
  if C.ms_model_loss(ptr, dp, p.x, idx, count or 0, loss, g.x) ~= 0 then
    core.argerror(2, "loss", core.last_error())
  end
  return loss[0], g
end

--- model:evaluate(data, params): the loss a run reports, over all of data
function methods.evaluate(m, d, p)
  local ptr = M.check(m, 1, "evaluate")
  local dp = data.check(d, 2, "evaluate")
  p = params(ptr, p, 3, "evaluate")
  local loss = ffi.new("double[1]")
  if C.ms_model_evaluate(ptr, dp, p.x, loss) ~= 0 then core.argerror(2, "evaluate", core.last_error()) end
  return loss[0]
end

function methods.predict(m, p, x)
  local ptr = M.check(m, 1, "predict")
  p = params(ptr, p, 2, "predict")
  x = vec.tovec(x, 3, "predict")
  local nf = tonumber(C.ms_model_features(ptr))
  if x.n ~= nf then core.argerror(3, "predict", ("x has %d features, expected %d"):format(x.n, nf)) end
  return C.ms_model_predict(ptr, p.x, x.x)
end

--- model:optimum(data): the exact minimiser and its reported loss
function methods.optimum(m, d)
  local ptr = M.check(m, 1, "optimum")
  local dp = data.check(d, 2, "optimum")
  local p, loss = vec.alloc(nparams(ptr)), ffi.new("double[1]")
  core.check(C.ms_model_optimum(ptr, dp, p.x, loss))
  return p, loss[0]
end

--- model:init(seed): the initial parameters ms.train draws with that seed
function methods.init(m, seed)
  local ptr = M.check(m, 1, "init")
  local rng = ffi.new("ms_rng")
  C.ms_rng_seed(rng, core.seed(seed == nil and 1 or core.checkinteger(seed, 2, "init")))
  local p = vec.alloc(nparams(ptr))
  C.ms_model_init(ptr, rng, p.x)
  return p
end

--- model:objective(data): the training loss over all of data as an
-- objective of the parameters (for ms.trace, ms.gradcheck): the engine's
-- own, which keeps the model and the data alive.
function methods.objective(m, d)
  local ptr = M.check(m, 1, "objective")
  local dp = data.check(d, 2, "objective")
  local mf, df = tonumber(C.ms_model_features(ptr)), tonumber(C.ms_data_features(dp))
  if mf ~= df then
    core.argerror(2, "objective", ("the model takes %d features but the data has %d"):format(mf, df))
  end
  local name = ffi.string(C.ms_model_name(ptr))
  return objective.builtin("objective", ("%s(%d-dimensional)"):format(name, mf + 1), function(out)
    return C.ms_model_objective(ptr, dp, out)
  end, {m, d})
end

for name, fn in pairs(methods) do methods[name] = core.protect(fn) end

function Model.__index(m, key)
  if methods[key] then return methods[key] end
  local ptr = m[P].ptr
  if key == "features" then return tonumber(C.ms_model_features(ptr)) end
  if key == "nparams" then return nparams(ptr) end
  if key == "name" then return ffi.string(C.ms_model_name(ptr)) end
  return nil
end

--- linreg{features=5}, with the options that differ from the defaults:
-- linreg{features=5, loss=mse, bias_init=uniform}
function Model.__tostring(m)
  local ptr = m[P].ptr
  local o, def = ffi.new("ms_model_opts"), ffi.new("ms_model_opts")
  C.ms_model_options(ptr, o)
  C.ms_model_opts_init(def)
  local parts = {("%s{features=%d"):format(ffi.string(C.ms_model_name(ptr)),
                                            tonumber(C.ms_model_features(ptr)))}
  if o.loss == C.MS_LOSS_MSE then parts[#parts + 1] = ", loss=mse" end
  if o.weight_std ~= def.weight_std then parts[#parts + 1] = ", weight_std=" .. core.format(o.weight_std) end
  if o.bias_init == C.MS_BIAS_UNIFORM then parts[#parts + 1] = ", bias_init=uniform" end
  return table.concat(parts) .. "}"
end

M.module = {
  linreg = constructor("linreg", C.ms_model_linreg, true),
  logreg = constructor("logreg", C.ms_model_logreg, false),
}

return M
