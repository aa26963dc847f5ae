--- momsandbox.ffi_core: the engine's library under LuaJIT, and what every
-- part of the FFI layer shares: argument checks with the messages of the
-- Lua 5.4 layer, errors of the engine, ownership of its objects, and calls
-- that may call back into Lua.  Twin: bindings/lua/l_module.c.
--
-- The declarations are the public headers themselves -- core/include/
-- momsandbox.h (the engine), momsandbox_host.h (system services) and
-- momsandbox_pull.h (the loops a binding runs itself) -- read at load time
-- with their preprocessor lines removed: there is no second list to keep in
-- step with them.
local ffi = require "ffi"

local M = {}

local function readable(path)
  local f = io.open(path, "rb")
  if f then f:close() end
  return f ~= nil
end

local function slurp(path)
  local f = assert(io.open(path, "rb"))
  local text = f:read("*a")
  f:close()
  return text
end

--- Where `make install` put the header and the library, when this is an
-- installed copy of the module (CMakeLists.txt writes installed.lua).
local function installed(root)
  local chunk = loadfile(root .. "/momsandbox/ffi_installed.lua")
  return chunk and chunk() or {}
end

--- The public headers, the engine's first (the others build on it), each
-- with a type it declares: a state that knows the type has declared the
-- header already (a user's own ffi.cdef) and keeps its types.  A header of
-- functions alone needs none (the FFI takes a function declared twice).
local HEADERS = {
  {"momsandbox.h", "ms_trace_opts"},
  {"momsandbox_host.h", "ms_process"},
  {"momsandbox_pull.h"},
}

--- The public header `name`: the engine's is $MOMSANDBOX_HEADER alone when
-- set; else each is beside the engine's header (main), else in the source
-- tree (the module in bindings/ffi), else in the installed include folder.
local function find_header(root, name, main)
  local env, include = os.getenv("MOMSANDBOX_HEADER"), installed(root).include
  local candidates = {root .. "/../../core/include/" .. name, include and include .. "/" .. name}
  if main then table.insert(candidates, 1, (main:match("^(.*/)") or "./") .. name) end
  if not main and env and env ~= "" then candidates = {env} end
  for _, path in ipairs(candidates) do
    if readable(path) then return path end
  end
  error("momsandbox: cannot find the public header " .. name .. "; looked at:\n  " ..
        table.concat(candidates, "\n  ") .. "\nset MOMSANDBOX_HEADER to the path of " ..
        "momsandbox.h (the other headers beside it)", 0)
end

--- The engine library: $MOMSANDBOX_LIB alone when set, else the source
-- tree's build/ or the installed one, else the system's library path.  The
-- error lists every place tried.
local function load_library(root)
  local env = os.getenv("MOMSANDBOX_LIB")
  if env and env ~= "" then
    local ok, lib = pcall(ffi.load, env)
    if ok then return lib, env end
    error(("momsandbox: cannot load the engine library %s (MOMSANDBOX_LIB): %s"):format(
          env, lib), 0)
  end
  local tried = {}
  for _, path in ipairs{root .. "/../../build/libmomsandbox.so", installed(root).library} do
    if readable(path) then
      local ok, lib = pcall(ffi.load, path)
      if ok then return lib, path end
      tried[#tried + 1] = path .. ": " .. lib
    else
      tried[#tried + 1] = path .. ": no such file"
    end
  end
  local ok, lib = pcall(ffi.load, "momsandbox")
  if ok then return lib, "libmomsandbox.so" end
  tried[#tried + 1] = "the system's library path: " .. lib
  error("momsandbox: cannot find the engine library libmomsandbox.so; looked in:\n  " ..
        table.concat(tried, "\n  ") ..
        "\nbuild it (make build) or set MOMSANDBOX_LIB to its path", 0)
end

--- Declare a header to the FFI: the text without its '#' lines, unless the
-- state knows the type it declares already.
local function declare(path, known)
  if known and pcall(ffi.typeof, known) then return end
  ffi.cdef((("\n" .. slurp(path)):gsub("\n#[^\n]*", "\n")))
end

--- Load the library for the module at root (its folder) and check that it
-- is the one the header describes.
function M.open(root)
  M.parts = root .. "/momsandbox/ffi_"   -- the binding's own files, for M.traceback
  -- the data set the project ships: in the source tree, or installed
  M.data_dirs = {root .. "/../../data", installed(root).data}
  M.header = find_header(root, HEADERS[1][1])
  M.headers = {}
  for i, h in ipairs(HEADERS) do
    M.headers[i] = i == 1 and M.header or find_header(root, h[1], M.header)
    declare(M.headers[i], h[2])
  end
  local lib, where = load_library(root)
  local ok, have = pcall(function() return lib.ms_abi_version() end)
  local want = lib.MS_ABI_VERSION
  if not ok or have ~= want then
    error(("momsandbox: the header %s is for MS_ABI_VERSION %d but the library %s %s; " ..
           "rebuild the library from the same sources (or point MOMSANDBOX_LIB and " ..
           "MOMSANDBOX_HEADER at a matching pair)"):format(M.header, want, where,
           ok and "has version " .. have or "has no ms_abi_version"), 0)
  end
  M.C, M.library = lib, where
  return M
end

------------------------------------------------------------------ errors

-- The error of the last failed callback, for M.failed, and whether there
-- is one: error() and error(nil) raise nil, which must still count as an
-- error of its own rather than let an older engine message stand in.
local pending, has_pending = nil, false

local codes = {"ENOMEM", "EINVAL", "ESIZE", "ERANGE", "ECALLBACK", "EIO", "EPARSE",
               "ENONFINITE", "EINTR"}

--- A primitive's result for the failed status st of an engine call, as
-- the Lua 5.4 layer's ms_lua_failure gives it: nil, message, code -- but
-- the error of the Lua callback that failed is raised as it was, and
-- Ctrl-C as a plain message.
function M.failed(st)
  if st == M.C.MS_ECALLBACK and has_pending then
    local err = pending
    pending, has_pending = nil, false
    error(err, 0)
  end
  local detail = ffi.string(M.C.ms_last_error())
  local msg = detail ~= "" and detail or ffi.string(M.C.ms_strerror(st))
  if st == M.C.MS_ECALLBACK or st == M.C.MS_EINTR then error(msg, 0) end
  return nil, msg, codes[tonumber(st)] or "EINVAL"
end

--- A primitive's result for status st: true, or M.failed's.
function M.status(st)
  if st == 0 then return true end
  return M.failed(st)
end

--- Raise the error of status st, if it is a failure: for the engine calls
-- whose primitive has no nil, message answer (ms_lua_fail's).
function M.check(st)
  if st ~= 0 then error(select(2, M.failed(st)), 0) end
end

--- The engine's explanation of the last failure.
function M.last_error()
  return ffi.string(M.C.ms_last_error())
end

--- Run fn(...) inside a callback from the engine: never raise across C
-- frames; keep the error for M.failed and return MS_ECALLBACK instead.
function M.callback_status(fn, ...)
  local ok, err = pcall(fn, ...)
  if ok then return 0 end
  pending, has_pending = err, true
  return M.C.MS_ECALLBACK
end

--- Call a C function that may call back into Lua (an objective, rule or
-- schedule written in Lua, run by the engine): LuaJIT must never do that
-- from compiled code, so this function is never compiled -- a trace that
-- reaches it falls back to the interpreter.
local function call_back(fn, ...)
  return fn(...)
end
jit.off(call_back)
M.call_back = call_back

local open = 0   -- brackets begun by with_sigint and not yet ended

local function bracket(defer, fn, ...)
  open = open + 1            -- before begin, and lowered after end: an error
  M.C.ms_sigint_begin(defer) -- in between leaves open raised, and with_sigint
  local a, b = fn(...)       -- ends the bracket
  M.C.ms_sigint_end()
  open = open - 1
  return a, b
end

--- fn(...) (up to two results) between ms_sigint_begin(defer) and
-- ms_sigint_end, which stay balanced whatever happens: LuaJIT's own
-- handler, when it runs at once (defer 0), sets a hook that raises
-- "interrupted!" at the very next Lua instruction -- often before the
-- ms_sigint_end after the call -- and an end left out would keep the
-- engine's handler out of every later call (ms_sigint_begin nests).
-- fn must not yield.  (An end called twice is harmless: the hook fires
-- only in the outermost bracket, since one that defers the host's handler
-- runs it only once it has ended.)
function M.with_sigint(defer, fn, ...)
  local outer = open
  local ok, a, b = pcall(bracket, defer, fn, ...)
  if open > outer then
    open = outer
    M.C.ms_sigint_end()
  end
  if not ok then error(a, 0) end
  return a, b
end

--- call_back for the engine's long calls (training, sweeps, their CSV, gradcheck):
-- Ctrl-C stops them too, not only the Lua code around them.  LuaJIT's own
-- handler (whose hook raises "interrupted!" at the next Lua instruction,
-- which may be in a callback, where no error may be raised) runs when the
-- call has returned.
function M.call_long(fn, ...)
  return (M.with_sigint(1, call_back, fn, ...))
end

--- The same call where nothing can call back: LuaJIT compiles it inline.
function M.call_direct(fn, ...)
  return fn(...)
end

--- Add a traceback to an error message of the user's code, as the Lua 5.4
-- binding's message handler does; other error values pass unchanged.  The
-- binding's own frames are left out, with the C frames they called (the
-- Lua 5.4 binding's are C functions, which show as one line each).
function M.traceback(msg)
  if type(msg) ~= "string" then return msg end
  local full = debug.traceback(msg, 2)
  local head, frames = full:match("^(.*\nstack traceback:)\n(.*)$")
  if not head then return full end
  local lines, kept = {}, {}
  for line in frames:gmatch("[^\n]+") do lines[#lines + 1] = line end
  local caller_is_ours = false   -- of the line above: the frame below it
  for i = #lines, 1, -1 do       -- outermost frame first
    local line = lines[i]
    local ours = line:find(M.parts, 1, true) ~= nil
    if line:match("^%s*%[C%]") then ours = caller_is_ours end
    if not ours then table.insert(kept, 1, line) end
    caller_is_ours = ours
  end
  return head .. "\n" .. table.concat(kept, "\n")
end

-------------------------------------------------------- argument checks

--- Name of a value's type for messages: momsandbox.K for the native kinds.
function M.typename(v)
  local t = type(v)
  if t == "cdata" then
    for name, k in pairs(M.kinds) do
      if ffi.istype(k.ctype, v) then return "momsandbox." .. name end
    end
  elseif t == "table" then
    local mt = getmetatable(v)
    if type(mt) == "table" and type(mt.__name) == "string" then return mt.__name end
  end
  return t
end

--- luaL_argerror's message: bad argument #arg to 'fname' (msg).
local function argmsg(arg, fname, msg)
  return ("bad argument #%d to '%s' (%s)"):format(arg, fname, msg)
end
M.argmsg = argmsg

--- Raise it, without a position, as the Lua 5.4 layer's C functions do:
-- the primitives' argument errors.  (Hot functions -- vector methods --
-- raise argmsg's message at their caller's level instead.)
function M.argerror(arg, fname, msg)
  error(argmsg(arg, fname, msg), 0)
end

--- luaL_typeerror's: what was expected, and what came ("no value" when the
-- argument is missing: present is false).
function M.typeerror(arg, fname, expected, v, present)
  M.argerror(arg, fname, ("%s expected, got %s"):format(expected,
             present == false and "no value" or M.typename(v)))
end

--- Is x an integer a C int64_t can hold?  (LuaJIT's numbers are doubles.)
local function is_integer(x)
  return x == math.floor(x) and x >= -2^63 and x < 2^63
end
M.is_integer = is_integer

--- luaL_checkinteger: an integer, or a string that converts to one.  Its
-- error is M.argerror's, or with level an error at that level (counted
-- from the caller of checkinteger), for the hot methods.
function M.checkinteger(v, arg, fname, level)
  local x, why = tonumber(v), nil
  if not (type(v) == "number" or (type(v) == "string" and x)) then
    why = "number expected, got " .. M.typename(v)
  elseif not is_integer(x) then
    why = "number has no integer representation"
  end
  if why == nil then return x end
  error(argmsg(arg, fname, why), level and level + 1 or 0)
end

--- A seed for the engine's uint64_t: the integer's 64-bit two's
-- complement, as Lua 5.4 converts its integers (-1 is 2^64 - 1), so that a
-- negative seed gives the same stream under both interpreters.  (LuaJIT
-- would otherwise convert a negative double to uint64_t its own way.)
function M.seed(x)
  return ffi.cast("uint64_t", ffi.cast("int64_t", x))
end

-------------------------------------------------------------- ownership

-- Core objects alive, by kind: specs check that errors release them.
local live = {}

--- Give the engine object obj to the garbage collector, which frees it
-- with free(obj) (C.ms_objective_free, ...); returns obj.
function M.own(obj, free, kind)
  live[kind] = (live[kind] or 0) + 1
  return ffi.gc(obj, function(o)
    live[kind] = live[kind] - 1
    free(o)
  end)
end

--- A cdata type `struct ms_ffi_<kind> { engine_type *ptr; room }` for
-- the engine objects of the native kind `kind` (objectives, rules,
-- traces, sweeps, ...); room, when given, declares a last member of
-- variable length ("double room[?];").  free is the engine's free
-- function; M.live counts the handles by kind.  Returns the type with
-- is(v), own(ptr) (a new owned handle) and release(handle) (free it now);
-- a freed handle's ptr is NULL.
function M.handle_type(kind, engine_type, free, room)
  local name = "ms_ffi_" .. kind
  ffi.cdef(("typedef struct %s { %s *ptr; %s } %s;"):format(name, engine_type, room or "", name))
  local T = ffi.typeof(name)
  local function free_handle(h)   -- (a handle a finalizer still reaches: "closed")
    free(h.ptr)
    h.ptr = nil
  end
  local function finalize(h)   -- one for every handle: no closure made each
    live[kind] = live[kind] - 1
    free_handle(h)
  end
  return {
    ctype = T,
    is = function(v) return ffi.istype(T, v) end,
    own = function(ptr)
      live[kind] = (live[kind] or 0) + 1
      local h = room and T(0) or T()
      h.ptr = ptr
      return ffi.gc(h, finalize)
    end,
    release = function(h)   -- now rather than when it is collected
      ffi.gc(h, nil)
      live[kind] = live[kind] - 1
      free_handle(h)
    end,
  }
end

--- How many engine objects of each kind are alive.
function M.live()
  local copy = {}
  for k, v in pairs(live) do copy[k] = v end
  return copy
end

------------------------------------------------------------------ kinds

-- The native kinds: name -> {ctype, methods, release}, for native.kind,
-- native.class and native.close.
M.kinds = {}

--- Declare the cdata type ctype as the native kind `name` with its native
-- methods; release(h), when given, frees its engine object (native.close).
function M.kind(name, ctype, methods, release)
  M.kinds[name] = {ctype = ctype, methods = methods, release = release}
end

--- v if it is of the native kind `kind`, else the argument error
-- "momsandbox.K expected, got T" of argument arg of fname, raised plain (no
-- position, as the Lua 5.4 layer's): the one check of a handle's kind for
-- every primitive (its liveness is the kind's business).
function M.checkkind(v, kind, arg, fname)
  if ffi.istype(M.kinds[kind].ctype, v) then return v end
  M.typeerror(arg, fname, "momsandbox." .. kind, v)
end

--- A primitive's answer for a closed handle.
function M.closed(what)
  return nil, what .. " has been closed", "EINVAL"
end

------------------------------------------------------------------ numbers

local numbuf = ffi.new("char[32]")

--- The shortest decimal that reads back as x (the engine's formatting).
function M.format(x)
  M.C.ms_format_double(numbuf, 32, x)
  return ffi.string(numbuf)
end

return M
