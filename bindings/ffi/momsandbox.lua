--- momsandbox for LuaJIT: the engine's shared library (libmomsandbox.so)
-- through the FFI, with the user-level API of the Lua 5.4 module.
--
--   LUA_PATH='bindings/ffi/?.lua;;' luajit script.lua     (build/momsandbox-jit
--                                                         sets this up)
--   local ms = require "momsandbox"
--
-- The declarations come from the public header itself (momsandbox.ffi_core).
-- In ms.trace, rules, objectives and schedules written in Lua run inside a
-- loop that LuaJIT compiles (momsandbox.ffi_trace) instead of being called
-- back from C, which makes a rule in Lua about as fast as a built-in;
-- training and sweeps run in the engine, which calls back.  The pure-Lua
-- parts (ms.plot, ms.args) are the Lua 5.4 module's own files.
if not jit then
  error("momsandbox: bindings/ffi is the LuaJIT binding; under Lua 5.4 use the C module " ..
        "(LUA_CPATH='build/?.so;;') or the momsandbox command", 2)
end

-- This file's folder: the FFI parts are momsandbox/ffi_*.lua beside it; the
-- shared pure-Lua parts in ../../lua/momsandbox/ (source tree) or
-- momsandbox/ beside it (installed).
local here = debug.getinfo(1, "S").source:match("^@(.*)$"):match("^(.*)/") or "."

local function exists(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

-- The FFI parts, momsandbox/ffi_NAME.lua beside this file as
-- "momsandbox.ffi_NAME", and the shared API, lua/momsandbox/NAME.lua as
-- "momsandbox.NAME" (in the source tree, or installed beside this file):
-- found by a searcher of their own, whatever the user's package.path holds.
local shared = here .. "/../../lua/momsandbox/"
if not exists(shared .. "api.lua") then shared = here .. "/momsandbox/" end
table.insert(package.loaders, 2, function(name)
  local part = name:match("^momsandbox%.(ffi_[%w_]+)$")
  local stem = part or name:match("^momsandbox%.([%w_]+)$")
  if stem == nil then return nil end
  local path = part and here .. "/momsandbox/" .. part .. ".lua" or shared .. stem .. ".lua"
  if not exists(path) then return "\n\tno file '" .. path .. "'" end
  local f = assert(io.open(path, "rb"))
  local source = f:read("*a")
  f:close()
  -- the FFI parts by their path: core.traceback leaves their frames out
  return assert(loadstring(source, "@" .. (part and path or "momsandbox/" .. stem .. ".lua")))
end)
-- The text of ms.help, docs/api.md (installed: beside the shared parts).
package.preload["momsandbox.api_md"] = function()
  local path = here .. "/../../docs/api.md"
  local f = assert(io.open(exists(path) and path or shared .. "api.md", "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

-- The page of ms.explore, lua/momsandbox/explore.html (installed: beside
-- the shared parts too).
package.preload["momsandbox.explore_html"] = function()
  local f = assert(io.open(shared .. "explore.html", "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

local ffi = require "ffi"
local core = require("momsandbox.ffi_core").open(here)
local objective = require "momsandbox.ffi_objective"
local schedule = require "momsandbox.ffi_schedule"
local rule = require "momsandbox.ffi_rule"
local trace = require "momsandbox.ffi_trace"
local data = require "momsandbox.ffi_data"
local model = require "momsandbox.ffi_model"

--- The engine object behind an objective, rule, schedule, model, data set,
-- trace, training result or sweep (an ms_objective *, ...), for calls of
-- ms.ffi.C; valid while obj lives.
local function engine(obj)
  local d = objective.record(obj) or rule.record(obj) or schedule.record(obj) or model.record(obj)
  if d then return d.ptr end
  for _, boxes in ipairs{trace, data} do
    if boxes.is(obj) then return obj.ptr end
  end
  for _, kind in ipairs{"sweep", "train"} do
    if ffi.istype(core.kinds[kind].ctype, obj) then return obj.ptr end
  end
  error("bad argument #1 to 'engine' (an object of momsandbox expected, got " ..
        core.typename(obj) .. ")", 2)
end

local native = require "momsandbox.ffi_native"

--- The table of methods of an object of the module (nil for other values),
-- for the REPL's completion: getmetatable gives "ffi" for every cdata.
local function methods(obj)
  local k = core.kinds[native.kind(obj)]
  local mt = k and k.mt or {}
  local index = type(mt.methods) == "table" and mt.methods or mt.__index
  if type(index) == "function" then index = k.methods end   -- vec's native __index
  return type(index) == "table" and index or nil
end

native.extras = {
  -- for LuaJIT users: the engine's functions (ms.ffi.C.ms_vec_dot, ...),
  -- its objects, where they came from, how many are alive, their methods
  ffi = {C = core.C, engine = engine, header = core.header, library = core.library,
         live = core.live, methods = methods},
}
package.loaded["momsandbox.native"] = native
return require "momsandbox.api"
