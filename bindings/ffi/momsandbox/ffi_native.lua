--- momsandbox.ffi_native: the primitives of lua/momsandbox/primitives.lua
-- for LuaJIT, through the FFI; the shared Lua API (lua/momsandbox/api.lua)
-- is built on them as require "momsandbox.native".  Twin of the Lua 5.4
-- module's (bindings/lua/l_module.c and the l_*.c it opens).
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"

local C = core.C
local native = {abi = C.ms_abi_version(), layer = "luajit"}

function native.version()
  return ffi.string(C.ms_version())
end

function native.format(x)
  if type(x) ~= "number" then core.typeerror(1, "format", "number", x) end
  return core.format(x)
end

--- The kind of a value made by this layer ("vec", "rng", ...), or nil.
function native.kind(v)
  if type(v) ~= "cdata" then return nil end
  for name, k in pairs(core.kinds) do
    if ffi.istype(k.ctype, v) then return name end
  end
end

local function checkkind(v, fname)
  local name = native.kind(v)
  if name == nil then core.typeerror(1, fname, "momsandbox object", v) end
  return core.kinds[name]
end

--- native.close(h): free the engine object now; twice is harmless.
function native.close(h)
  local k = checkkind(h, "close")
  if k.release then k.release(h) end
end

--- native.class(kind, mt): the shared Lua's metatable of the kind, with
-- the native methods added to its __index (a name in both is an error).
local classes = {}

function native.class(kind, mt)
  local k = core.kinds[kind]
  if k == nil then core.argerror(1, "class", "no such kind") end
  if classes[kind] then error(("class '%s' is set already"):format(kind), 2) end
  -- the shared methods join the native ones, in the table a native
  -- __index (vec's) reads; a shared __index function stays as it is
  if type(mt.__index) ~= "function" then
    local index = k.methods or {}
    for name, fn in pairs(mt.__index or {}) do
      if index[name] ~= nil then error(("class '%s': field '%s' is native"):format(kind, name), 2) end
      index[name] = fn
    end
    mt.__index = index
  end
  for name, fn in pairs(k.metamethods or {}) do
    if name ~= "__index" and mt[name] ~= nil then
      error(("class '%s': field '%s' is native"):format(kind, name), 2)
    end
    mt[name] = fn
  end
  mt.__name = mt.__name or "momsandbox." .. kind
  ffi.metatype(k.ctype, mt)
  classes[kind] = mt
  k.mt = mt   -- getmetatable gives "ffi" for cdata: specs take it here
  return mt
end

--- native.write_csv(h, path [, header]): the CSV writer of h's kind
-- (core.kinds[kind].csv) -> true, or nil, message, code.
function native.write_csv(h, path, header)
  local k = checkkind(h, "write_csv")
  if k.csv == nil then core.argerror(1, "write_csv", "no CSV for this value") end
  if type(path) ~= "string" or path:find("\0", 1, true) then
    core.argerror(2, "write_csv", "path must be a string without zero bytes")
  end
  return k.csv(h, path, header)
end

for _, part in ipairs{"rng", "vec", "schedule", "help", "sweep", "train", "objective", "rule",
                      "trace", "util", "analysis", "data", "model", "server"} do
  local m = require("momsandbox.ffi_" .. part)
  for name, fn in pairs(m.primitives or m) do native[name] = fn end
end

return native
