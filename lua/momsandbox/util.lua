--- ms.util: the few system services the pure-Lua parts (ms.plot, the
-- scripts) need and Lua's standard library lacks, over the primitive sys
-- (core/src/system.c).  No string reaches a shell.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local M = {}

--- A string argument; a number reads as its shortest decimal.
local function text(v, n, fname)
  if type(v) == "number" then return native.format(v) end
  if type(v) ~= "string" then check.typeerror(n, fname, "string", v) end
  return v
end

--- ms.util.mkdir(path): create a folder and its parents (mkdir -p).
function M.mkdir(path)
  path = check.path(path, 1, "mkdir")
  check.ok(native.sys("mkdir", path))
  return path
end

--- ms.util.clock(): seconds on a monotonic clock, for timing.
function M.clock()
  return native.sys("clock")
end

--- ms.util.isatty(fileno): is the descriptor a terminal? (0 stdin, 1 stdout)
function M.isatty(fd)
  fd = check.integer(fd, 1, "isatty")
  if fd < 0 or fd > 0x7fffffff then check.argerror(1, "isatty", "not a file descriptor") end
  return native.sys("isatty", fd)
end

--- ms.util.which(name): the full path of the program name, or nil.
function M.which(name)
  name = check.path(name, 1, "which")
  if name == "" then check.argerror(1, "which", "empty program name") end
  return native.sys("which", name)
end

--- ms.util.run(argv [, input]): run the program argv[1] (looked up in PATH)
-- with the arguments argv[2..], directly, without a shell; write input to
-- its stdin; wait for it.  Returns ok, status, stdout, stderr: ok is true
-- when it exited with status 0; status is its exit status, or minus the
-- number of the signal that killed it.  When it cannot be run at all: nil
-- and a message ("gnuplot: not found").
function M.run(argv, input)
  input = input == nil and "" or text(input, 2, "run")
  check.table(argv, 1, "run")
  local n = check.rawlen(argv)
  if n < 1 then check.argerror(1, "run", "argv must hold at least the program name") end
  if n >= 65536 then check.argerror(1, "run", "too many arguments") end
  local args = {}
  for i = 1, n do
    local s = rawget(argv, i)
    if type(s) ~= "string" or s:find("\0", 1, true) then
      check.argerror(1, "run", ("argv[%d] must be a string without zero bytes"):format(i))
    end
    args[i] = s
  end
  return native.sys("run", args, input)
end

--- ms.util.write(path, text): a file written as ms_write_file writes it
-- (whole or not at all, through symbolic links; devices in place).
function M.write(path, s)
  path = check.path(path, 1, "write")
  check.ok(native.sys("write", path, text(s, 2, "write")))
end

--- ms.util.format(x): the shortest decimal that reads back as x exactly,
-- for CSV files that are both exact and readable.
function M.format(x)
  return native.format(check.number(x, 1, "format"))
end

--- A CSV field (RFC 4180): a number as its shortest decimal; a string
-- quoted, its quotes doubled, when it holds a comma, a quote or a line end.
local function field(v, where)
  if type(v) == "number" then return native.format(v) end
  if type(v) ~= "string" then
    check.argerror(2, "csv", where .. " must be a number or a string, got " .. type(v))
  end
  if not v:find('[,"\r\n]') then return v end
  return '"' .. v:gsub('"', '""') .. '"'
end

--- ms.util.csv(path, rows): write rows (a header, then the data: each a
-- list of numbers and strings) as a CSV file, as ms.util.write writes.
function M.csv(path, rows)
  path = check.path(path, 1, "csv")
  check.table(rows, 2, "csv")
  local lines = {}
  for i = 1, check.rawlen(rows) do
    local row = rawget(rows, i)
    if type(row) ~= "table" then check.argerror(2, "csv", ("rows[%d] must be a table"):format(i)) end
    local fields = {}
    for j = 1, check.rawlen(row) do
      fields[j] = field(rawget(row, j), ("rows[%d][%d]"):format(i, j))
    end
    lines[i] = table.concat(fields, ",") .. "\n"
  end
  check.ok(native.sys("write", path, table.concat(lines)))
  return path
end

for name, fn in pairs(M) do
  if name ~= "clock" then M[name] = check.protect(fn) end
end

return M
