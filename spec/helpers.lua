--- Helpers shared by the specs.  The suite runs from the repository root
-- under the momsandbox CLI (busted --lua=build/momsandbox); ctest sets
-- MOMSANDBOX_BIN and MOMSANDBOX_BUILD for the build under test.
local M = {}

-- The specs are written in Lua 5.4; under LuaJIT (Lua 5.1 and some of 5.2)
-- they need two more of its functions.  LuaJIT's numbers are all doubles:
-- a whole one stands for an integer.
table.unpack = table.unpack or unpack
math.type = math.type or function(x)
  if type(x) ~= "number" then return nil end
  return x == math.floor(x) and x >= -2^63 and x < 2^63 and "integer" or "float"
end

M.bin = os.getenv("MOMSANDBOX_BIN") or "build/momsandbox"
M.build = os.getenv("MOMSANDBOX_BUILD") or "build"

--- Quote a string for /bin/sh.
function M.shquote(s)
  return "'" .. tostring(s):gsub("'", "'\\''") .. "'"
end

--- os.execute's outcome as an exit status (128 + n for signal n): Lua 5.4
-- gives ok, "exit" or "signal", and the number; LuaJIT, as Lua 5.1, the
-- wait status alone.
local function exit_status(ok, how, code)
  if type(ok) == "number" then
    return ok % 256 == 0 and ok / 256 or 128 + ok % 128
  end
  return ok and 0 or (how == "exit" and code or 128 + code)
end

--- Run a shell command; returns its exit status, stdout and stderr.
function M.run(cmd)
  local out, err = os.tmpname(), os.tmpname()
  local status = exit_status(os.execute(cmd .. " >" .. out .. " 2>" .. err))
  local function slurp(path)
    local f = assert(io.open(path, "rb"))
    local s = f:read("a")
    f:close()
    os.remove(path)
    return s
  end
  return status, slurp(out), slurp(err)
end

--- The LuaJIT build's command, quoted, for a spec that runs both
-- interpreters: under the sanitizer it needs the ASan runtime preloaded
-- (and no leak report of LuaJIT's own memory), which the Lua 5.4 suite's
-- environment does not set for it.
function M.jit()
  local cmd = M.shquote(M.build .. "/momsandbox-jit")
  local preload = os.getenv("MOMSANDBOX_PRELOAD")
  if preload and preload ~= "" then
    cmd = "env LD_PRELOAD=" .. M.shquote(preload) .. " ASAN_OPTIONS=detect_leaks=0 " .. cmd
  end
  return cmd
end

--- Run the momsandbox CLI with the given (already quoted) arguments.
function M.cli(args, env)
  return M.run((env and env .. " " or "") .. M.shquote(M.bin) .. " " .. args)
end

--- The path, absolute (the specs run from the repository root).
function M.abs(path)
  return path:sub(1, 1) == "/" and path or os.getenv("PWD") .. "/" .. path
end

--- Ctrl-C: run the script text, written to dir/run.lua, with the shell
-- command `command` (the interpreter, quoted; the momsandbox CLI by
-- default) in dir; once the script has made the file "marker" there, let
-- it run 0.3 s more and send it SIGINT.  Returns its exit status and
-- stderr; 137 (SIGKILL) if it still ran 10 s later.
function M.interrupt(dir, script, command)
  M.write(dir .. "/run.lua", script)
  local cmd = ("cd %s && { %s run.lua & pid=$!; n=0; while [ ! -e marker ] && [ $n -lt 1500 ]; " ..
               "do sleep 0.02; n=$((n+1)); done; sleep 0.3; kill -INT $pid; n=0; " ..
               "while kill -0 $pid 2>/dev/null && [ $n -lt 500 ]; do sleep 0.02; n=$((n+1)); done; " ..
               "kill -KILL $pid 2>/dev/null; wait $pid; }")
              :format(M.shquote(dir), command or M.shquote(M.abs(M.bin)))
  local status, _, err = M.run("sh -c " .. M.shquote(cmd))
  return status, err
end

--- A fresh empty folder, removed by M.rmtree.
function M.tmpdir()
  local path = os.tmpname()
  os.remove(path)
  assert(os.execute("mkdir -p " .. M.shquote(path)))
  return path
end

function M.rmtree(path)
  os.execute("rm -rf " .. M.shquote(path))
end

function M.read(path)
  local f = io.open(path, "rb")
  if not f then return nil end
  local s = f:read("a")
  f:close()
  return s
end

function M.write(path, text)
  local f = assert(io.open(path, "wb"))
  f:write(text)
  f:close()
  return path
end

--- The error message of calling fn(...), which must fail.
function M.error_of(fn, ...)
  local ok, err = pcall(fn, ...)
  assert(not ok, "expected an error")
  return tostring(err)
end

--- Are two numbers or vectors within tol of each other (absolute)?
function M.near(a, b, tol)
  if type(a) == "number" then return math.abs(a - b) <= tol end
  if #a ~= #b then return false end
  for i = 1, #a do
    if not (math.abs(a[i] - b[i]) <= tol) then return false end
  end
  return true
end

--- The 8 bytes of a double: string.pack under Lua 5.4, the FFI under
-- LuaJIT (which has no string.pack).
local double_bytes = string.pack and function(x) return string.pack("d", x) end or
  (function()
    local ffi = require "ffi"
    local box = ffi.new("double[1]")
    return function(x)
      box[0] = x
      return ffi.string(box, 8)
    end
  end)()

--- Are two vectors identical, bit for bit (NaN equal to NaN)?
function M.same_bits(a, b)
  if #a ~= #b then return false end
  for i = 1, #a do
    if double_bytes(a[i]) ~= double_bytes(b[i]) then return false end
  end
  return true
end

return M
