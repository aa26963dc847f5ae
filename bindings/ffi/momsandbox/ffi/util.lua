--- momsandbox.ffi.util: ms.util under LuaJIT -- the system services of
-- core/src/system.c that the pure-Lua parts (ms.plot, the scripts) need,
-- with the argument checks of the Lua 5.4 binding's ms.util.
local ffi = require "ffi"
local core = require "momsandbox.ffi.core"

local C = core.C
local M = {}

--- ms.util.mkdir(path): create a folder and its parents (mkdir -p).
function M.mkdir(path)
  path = core.checkpath(path, 1, "mkdir")
  if C.ms_mkdir(path) ~= 0 then core.failure(core.last_error()) end
  return path
end

--- ms.util.clock(): seconds on a monotonic clock, for timing.
function M.clock()
  return C.ms_clock()
end

--- ms.util.isatty(fileno): is the descriptor a terminal? (0 stdin, 1 stdout)
function M.isatty(fd)
  fd = core.checkinteger(fd, 1, "isatty")
  if fd < 0 or fd > 0x7fffffff then core.argerror(1, "isatty", "not a file descriptor") end
  return C.ms_isatty(fd) ~= 0
end

local pathbuf = ffi.new("char[4096]")

--- ms.util.which(name): the full path of the program name, or nil.
function M.which(name)
  name = core.checkpath(name, 1, "which")
  if name == "" then core.argerror(1, "which", "empty program name") end
  if C.ms_which(name, pathbuf, 4096) == 0 then return nil end
  return ffi.string(pathbuf)
end

--- ms.util.run(argv [, input]): run the program argv[1] (looked up in PATH)
-- with the arguments argv[2..], directly, without a shell; write input to
-- its stdin; wait for it.  Returns ok, status, stdout, stderr: ok is true
-- when it exited with status 0; status is its exit status, or minus the
-- number of the signal that killed it.  When it cannot be run at all: nil
-- and a message ("gnuplot: not found").
function M.run(argv, input)
  if input == nil then input = "" end
  if type(input) == "number" then input = tostring(input) end
  if type(input) ~= "string" then core.typeerror(2, "run", "string", input) end
  core.checktable(argv, 1, "run")
  local n = #argv
  if n < 1 then core.argerror(1, "run", "argv must hold at least the program name") end
  local cargv = ffi.new("const char *[?]", n + 1)
  for i = 1, n do
    local s = argv[i]
    if type(s) ~= "string" or s:find("\0", 1, true) then
      core.argerror(1, "run", ("argv[%d] must be a string without zero bytes"):format(i))
    end
    cargv[i - 1] = s   -- argv keeps the strings alive meanwhile
  end
  local p = ffi.gc(ffi.new("ms_process"), C.ms_process_free)
  if C.ms_run(cargv, input, #input, p) ~= 0 then return nil, core.last_error() end
  local out = p.out_len > 0 and ffi.string(p.out, p.out_len) or ""
  local err = p.err_len > 0 and ffi.string(p.err, p.err_len) or ""
  C.ms_process_free(p)
  return p.ok ~= 0, p.status, out, err
end

--- ms.util.write(path, text): a file written as ms_write_file writes it
-- (whole or not at all, through symbolic links; devices in place).
function M.write(path, text)
  path = core.checkpath(path, 1, "write")
  if type(text) == "number" then text = tostring(text) end
  if type(text) ~= "string" then core.typeerror(2, "write", "string", text) end
  if C.ms_write_file(path, text, #text) ~= 0 then core.failure(core.last_error()) end
end

--- ms.util.format(x): the shortest decimal that reads back as x exactly,
-- for CSV files that are both exact and readable.
function M.format(x)
  return core.format(core.checknumber(x, 1, "format"))
end

for name, fn in pairs(M) do M[name] = core.protect(fn) end

return M
