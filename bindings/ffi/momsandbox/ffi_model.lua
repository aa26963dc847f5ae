--- momsandbox.ffi_model: the model primitives for LuaJIT (model_new,
-- model_call and the kind "model": lua/momsandbox/primitives.lua).  Twin of
-- bindings/lua/l_model.c; user: lua/momsandbox/model.lua (ms.model).
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"
local data = require "momsandbox.ffi_data"

local C = core.C
local P, M = {}, {}   -- the primitives; what other ffi parts use

ffi.cdef "typedef struct ms_ffi_model { ms_model *const ptr; const int32_t closed; } ms_ffi_model;"
local Model = ffi.typeof("ms_ffi_model")
core.kind("model", Model, nil, data.close)

local outbox = ffi.new("ms_model *[1]")
local function free(h) C.ms_model_free(h.ptr) end

function P.model_new(kind, features, loss, std, bias)
  local make = kind == "linreg" and C.ms_model_linreg or kind == "logreg" and C.ms_model_logreg
  features = data.int(features, 2, "model_new")
  if not make or features < 1 or loss ~= 0 and loss ~= 1 and loss ~= 2 or
     type(std) ~= "number" or bias ~= 0 and bias ~= 1 then
    core.argerror(1, "model_new", "bad kind, features, loss or bias_init")
  end
  local o = ffi.new("ms_model_opts", loss, std, bias)
  local st = make(features, o, outbox)
  if st ~= 0 then return core.failed(st) end
  return core.own(Model(outbox[0]), free, "model")
end

--- A vec of n numbers at argument arg (params, x), checked.
local function checkvec(v, arg, n)
  if not vec.is(v) or v.n ~= n then core.argerror(arg, "model_call", "vector of the wrong size") end
  return v.x
end

local function nparams(p) return tonumber(C.ms_model_nparams(p)) end

local ops = {}

function ops.info(p)
  local o = ffi.new("ms_model_opts")
  C.ms_model_options(p, o)
  return ffi.string(C.ms_model_name(p)), tonumber(C.ms_model_features(p)), nparams(p),
         tonumber(o.loss), o.weight_std, tonumber(o.bias_init)
end

function ops.loss(p, _, d, params, rows)
  local dp, x = data.check(d, 3, "model_call"), checkvec(params, 4, nparams(p))
  local idx, count = nil, 0
  if rows ~= nil then
    if type(rows) ~= "table" then core.argerror(5, "model_call", "table expected") end
    count = #rows   -- LuaJIT's # of a table is its raw length
    idx = ffi.new("size_t[?]", count + 1)
    for k = 1, count do
      local i = data.int(rawget(rows, k), 5, "model_call")
      if i < 1 then core.argerror(5, "model_call", "rows are 1-based") end
      idx[k - 1] = i - 1   -- the engine checks the upper end
    end
  end
  local g, loss = vec.alloc(nparams(p)), ffi.new("double[1]")
  local st = C.ms_model_loss(p, dp, x, idx, count, loss, g.x)
  if st ~= 0 then return core.failed(st) end
  return loss[0], g
end

function ops.evaluate(p, _, d, params)
  local dp, x, loss = data.check(d, 3, "model_call"), checkvec(params, 4, nparams(p)),
                      ffi.new("double[1]")
  local st = C.ms_model_evaluate(p, dp, x, loss)
  if st ~= 0 then return core.failed(st) end
  return loss[0]
end

function ops.predict(p, _, params, x)
  local np = nparams(p)
  return C.ms_model_predict(p, checkvec(params, 3, np), checkvec(x, 4, np - 1))
end

function ops.optimum(p, _, d)
  local params, loss = vec.alloc(nparams(p)), ffi.new("double[1]")
  local st = C.ms_model_optimum(p, data.check(d, 3, "model_call"), params.x, loss)
  if st ~= 0 then return core.failed(st) end
  return params, loss[0]
end

function ops.init(p, _, seed)
  local rng, params = ffi.new("ms_rng"), vec.alloc(nparams(p))
  C.ms_rng_seed(rng, core.seed(data.int(seed, 3, "model_call")))
  C.ms_model_init(p, rng, params.x)
  return params
end

function P.model_call(m, op, ...)
  core.checkkind(m, "model", 1, "model_call")
  if type(op) ~= "string" or ops[op] == nil then core.argerror(2, "model_call", "no such operation") end
  if m.closed ~= 0 then return core.closed("model") end
  return ops[op](m.ptr, m, ...)
end

--- For ffi_train.lua and ms.ffi.engine: m if it is a model (its engine
-- object is m.ptr); the engine model at argument arg.
function M.record(m)
  return ffi.istype(Model, m) and m or nil
end

function M.check(m, arg, fname)
  if core.checkkind(m, "model", arg, fname).closed ~= 0 then error("model has been closed", 0) end
  return m.ptr
end

-- The primitives, for native.lua; M's functions through them.
return setmetatable(P, {__index = M})
