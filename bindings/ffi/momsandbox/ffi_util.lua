--- momsandbox.ffi_util: the primitive sys(op, ...) for LuaJIT, the system
-- services of core/src/system.c (clock, isatty, mkdir, which, write, run,
-- start).
-- Twin of bindings/lua/l_util.c; user: lua/momsandbox/util.lua (ms.util).
-- No string reaches a shell: run takes an argv.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"

local C = core.C
local pathbuf = ffi.new("char[4096]")

local function bad(n, msg)
  core.argerror(n, "sys", msg)
end

--- The string v, argument n of sys, without zero bytes.
local function cstring(v, n)
  if type(v) ~= "string" or v:find("\0", 1, true) then bad(n, "string without zero bytes expected") end
  return v
end

local ops = {}

function ops.clock()
  return C.ms_clock()
end

function ops.isatty(fd)
  if not (type(fd) == "number" and core.is_integer(fd)) then bad(2, "number expected") end
  if fd < 0 or fd > 0x7fffffff then bad(2, "not a file descriptor") end
  return C.ms_isatty(fd) ~= 0
end

function ops.which(name)
  if C.ms_which(cstring(name, 2), pathbuf, 4096) == 0 then return nil end
  return ffi.string(pathbuf)
end

function ops.mkdir(path)
  return core.status(C.ms_mkdir(cstring(path, 2)))
end

function ops.write(path, text)
  cstring(path, 2)
  if type(text) ~= "string" then bad(3, "string expected, got " .. core.typename(text)) end
  return core.status(C.ms_write_file(path, text, #text))
end

--- argv (argument 2 of sys) as a NULL-terminated C array; argv keeps the
-- strings alive.
local function checkargv(argv)
  if type(argv) ~= "table" then bad(2, "table expected, got " .. core.typename(argv)) end
  local n = #argv   -- raw under LuaJIT
  if n < 1 or n >= 65536 then bad(2, "argv must hold 1 to 65535 strings") end
  local cargv = ffi.new("const char *[?]", n + 1)
  for i = 1, n do cargv[i - 1] = cstring(rawget(argv, i), 2) end
  return cargv
end

function ops.start(argv)
  return core.status(C.ms_start(checkargv(argv)))
end

function ops.run(argv, input)
  if type(argv) ~= "table" then bad(2, "table expected, got " .. core.typename(argv)) end
  if type(input) ~= "string" then bad(3, "string expected, got " .. core.typename(input)) end
  local cargv = checkargv(argv)
  local p = ffi.gc(ffi.new("ms_process"), C.ms_process_free)
  local st = C.ms_run(cargv, input, #input, p)
  if st ~= 0 then return core.failed(st) end
  local out = p.out_len > 0 and ffi.string(p.out, p.out_len) or ""
  local err = p.err_len > 0 and ffi.string(p.err, p.err_len) or ""
  C.ms_process_free(p)
  return p.ok ~= 0, p.status, out, err
end

return {
  sys = function(op, ...)
    local fn = type(op) == "string" and ops[op]
    if not fn then bad(1, "unknown operation") end
    return fn(...)
  end,
}
