--- momsandbox.ffi_data: the data-set primitives for LuaJIT (data_new,
-- data_get, data_info, data_dirs and the kind "data":
-- lua/momsandbox/primitives.lua).  Twin of bindings/lua/l_data.c; user:
-- lua/momsandbox/data.lua (ms.data).
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"
local vec = require "momsandbox.ffi_vec"

local C = core.C
local P = {data_dirs = core.data_dirs}   -- the primitives
local M = {}                             -- what other ffi parts use

-- Handles of data sets and models: fields const to users (d.ptr = nil
-- would crash), written through the twin without const.
ffi.cdef [[
typedef struct ms_ffi_data { ms_data *const ptr; const int32_t closed; } ms_ffi_data;
typedef struct ms_ffi_handle_w { void *ptr; int32_t closed; } ms_ffi_handle_w;
]]
local Data = ffi.typeof("ms_ffi_data")
local writable = ffi.typeof("ms_ffi_handle_w *")

--- Mark handle h closed: refused from now on, freed with its last
-- reference (objectives made of it keep it).
function M.close(h) ffi.cast(writable, h).closed = 1 end
core.kind("data", Data, nil, M.close)

function M.int(v, n, fname)
  if type(v) ~= "number" or not core.is_integer(v) then core.argerror(n, fname, "integer expected") end
  return v
end

local function todata(d, fname)
  return core.checkkind(d, "data", 1, fname).closed == 0 and d.ptr or nil
end

local outbox = ffi.new("ms_data *[1]")
local make = {}

function make.load(path, header, label, standardize, rows, max_bytes)
  local o = ffi.new("ms_data_opts")
  C.ms_data_opts_init(o)
  if type(path) ~= "string" or path:find("\0", 1, true) then core.argerror(2, "data_new", "path expected") end
  if header ~= nil then o.header = header and 1 or 0 end
  if type(label) == "string" then o.label_name = label   -- alive until this returns
  elseif label ~= nil then o.label = M.int(label, 4, "data_new") end
  if standardize ~= nil then o.standardize = standardize and 1 or 0 end
  if rows ~= nil then o.rows = M.int(rows, 6, "data_new") end
  if max_bytes ~= nil then o.max_bytes = M.int(max_bytes, 7, "data_new") end
  return C.ms_data_load(path, o, outbox)
end

function make.from(X, y, n, d)
  n, d = M.int(n, 4, "data_new"), M.int(d, 5, "data_new")
  if not vec.is(X) or not vec.is(y) or n < 1 or d < 1 or y.n ~= n or n * d ~= X.n then
    core.argerror(2, "data_new", "X and y must hold n x d features and n labels")
  end
  return C.ms_data_new(X.x, y.x, n, d, outbox)
end

function make.synthetic(w, b, noise, n, seed)
  n, seed = M.int(n, 5, "data_new"), M.int(seed, 6, "data_new")
  if not vec.is(w) or w.n == 0 or type(b) ~= "number" or type(noise) ~= "number" or n < 1 then
    core.argerror(2, "data_new", "w, b, noise, n >= 1 and seed expected")
  end
  return C.ms_data_synthetic(w.x, w.n, b, noise, n, core.seed(seed), outbox)
end

local function free(h) C.ms_data_free(h.ptr) end

function P.data_new(how, ...)
  if make[how] == nil then core.argerror(1, "data_new", '"load", "from" or "synthetic" expected') end
  local st = make[how](...)
  if st ~= 0 then return core.failed(st) end
  return core.own(Data(outbox[0]), free, "data")
end

function P.data_get(d, i, j)
  local p = todata(d, "data_get")
  if p == nil then return core.closed("data set") end
  i = M.int(i, 2, "data_get")
  local nf = tonumber(C.ms_data_features(p))
  if i < 1 or i > tonumber(C.ms_data_len(p)) then return end
  local row = C.ms_data_row(p, i - 1)
  if j == nil then return vec.copy_of(row, nf), C.ms_data_label(p, i - 1) end
  j = M.int(j, 3, "data_get")
  if j < 1 or j > nf + 1 then return end
  return j <= nf and row[j - 1] or C.ms_data_label(p, i - 1)
end

local mean, std = ffi.new("double[1]"), ffi.new("double[1]")

function P.data_info(d, what)
  local p = todata(d, "data_info")
  if p == nil then return core.closed("data set") end
  local nf = tonumber(C.ms_data_features(p))
  if what == nil then return tonumber(C.ms_data_len(p)), nf end
  if what ~= "mean" and what ~= "std" and what ~= "names" then
    core.argerror(2, "data_info", '"mean", "std" or "names" expected')
  end
  if what == "names" and C.ms_data_name(p, 0) == nil or
     what ~= "names" and C.ms_data_scaling(p, 0, mean, std) == 0 then
    return
  end
  local t = {}
  for j = 0, nf do
    if what == "names" then t[j + 1] = ffi.string(C.ms_data_name(p, j))
    else
      C.ms_data_scaling(p, j, mean, std)
      t[j + 1] = what == "mean" and mean[0] or std[0]
    end
  end
  return t
end

--- For ffi_train.lua and ms.ffi.engine: is v a data set; the engine data
-- set at argument arg of fname.
function M.is(v) return ffi.istype(Data, v) end

function M.check(d, arg, fname)
  if core.checkkind(d, "data", arg, fname).closed ~= 0 then error("data set has been closed", 0) end
  return d.ptr
end

-- The primitives, for native.lua; M's functions through them.
return setmetatable(P, {__index = M})
