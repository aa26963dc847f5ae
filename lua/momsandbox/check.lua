--- momsandbox.check: how the shared API checks arguments and raises
-- errors, the same under Lua 5.4 and LuaJIT.
--
-- A public function is wrapped by protect(fn).  Inside it (at any depth)
-- fail(msg) and the argerror family raise a Failure, which the wrapper
-- re-raises as a plain message at the user's line -- as luaL_error does
-- in C.  Errors of the user's own code (a callback's) pass unchanged.
-- Names and argument numbers in messages are fixed by the caller of these
-- functions, never taken from the call site: `bad argument #1 to 'gd'`
-- reads the same whatever the user called the function, and methods
-- count their arguments after self.
local native = require "momsandbox.native"

local M = {}

local Failure = {}

function M.fail(msg)
  error(setmetatable({msg = msg}, Failure), 0)
end

local function finish(prefix, ok, ...)
  if ok then return ... end
  local err = ...
  if getmetatable(err) == Failure then error(prefix .. err.msg, 2) end
  error(err, 0)
end

--- fn as a public function: its Failures become errors at its caller,
-- their messages after prefix (ms.plot's "ms.plot.lines: "; default none).
function M.protect(fn, prefix)
  prefix = prefix or ""
  return function(...) return finish(prefix, pcall(fn, ...)) end
end

--- The result of a primitive that returns nil, message on failure.
function M.ok(res, msg, ...)
  if res == nil then M.fail(msg) end
  return res, msg, ...
end

--- Name of a value's type for messages: momsandbox.vec, ..., or a
-- table's or userdata's __name, or its Lua type.
function M.typename(v)
  local kind = native.kind(v)
  if kind then return "momsandbox." .. kind end
  local t = type(v)
  if t == "table" or t == "userdata" then
    local mt = getmetatable(v)
    if type(mt) == "table" and type(rawget(mt, "__name")) == "string" then return mt.__name end
  end
  return t
end

function M.argerror(n, fname, msg)
  M.fail(("bad argument #%d to '%s' (%s)"):format(n, fname, msg))
end

--- "T expected, got U"; present = false when the argument is missing.
function M.typeerror(n, fname, expected, v, present)
  M.argerror(n, fname, ("%s expected, got %s"):format(expected,
             present == false and "no value" or M.typename(v)))
end

function M.selferror(fname, expected, v)
  M.fail(("calling '%s' on bad self (%s expected, got %s)"):format(fname, expected,
         M.typename(v)))
end

function M.table(v, n, fname)
  if type(v) ~= "table" then M.typeerror(n, fname, "table", v) end
  return v
end

--- A number, or a string that converts to one (as luaL_checknumber).
function M.number(v, n, fname)
  local x = tonumber(v)
  if type(v) == "number" or (type(v) == "string" and x) then return x end
  M.typeerror(n, fname, "number", v)
end

--- A vector from a ms.vec (itself) or a table of numbers (a new one).
function M.vec(v, n, fname)
  local x, why = native.vec_from(v)
  if x == nil then M.argerror(n, fname, why) end
  return x
end

--- The raw length of a table (a __len may say anything); LuaJIT's # of a
-- table is raw already.  Read entries with rawget too: ipairs and t[i]
-- run __index under Lua 5.4.
M.rawlen = rawlen or function(t) return #t end

--- Is x a number that is an integer a C int64_t holds?
function M.is_integer(x)
  return type(x) == "number" and x == math.floor(x) and x >= -2^63 and x < 2^63
end

local tointeger = math.tointeger or function(x) return x end

function M.integer(v, n, fname)
  local x = M.number(v, n, fname)
  if not M.is_integer(x) then M.argerror(n, fname, "number has no integer representation") end
  return tointeger(x)
end

--- A file name for C: a string (or number) without the zero bytes C
-- would silently cut the name at.
function M.path(v, n, fname)
  if type(v) == "number" then v = native.format(v) end
  if type(v) ~= "string" then M.typeerror(n, fname, "string", v) end
  if v:find("\0", 1, true) then M.argerror(n, fname, "contains a zero byte") end
  return v
end

--- A key as messages write it: numbers as native.format writes them
-- (tostring gives 1.0 under Lua 5.4, 1 under LuaJIT).
function M.keyname(k)
  return type(k) == "number" and native.format(k) or tostring(k)
end

--- The smallest key of table t not in the list known, or nil: the one a
-- message names (pairs' order would differ between interpreters).
function M.unknown(t, known)
  local set, bad = {}, nil
  for _, k in ipairs(known) do set[k] = true end
  for key in next, t do   -- raw: a __pairs may run forever
    if not set[key] and (bad == nil or M.keyname(key) < M.keyname(bad)) then bad = key end
  end
  return bad
end

--- Options given as a table: an error naming the smallest unknown key.
function M.options(opts, n, fname, known)
  M.table(opts, n, fname)
  local bad = M.unknown(opts, known)
  if bad ~= nil then
    M.argerror(n, fname, ("unknown option '%s' (expected one of: %s)"):format(
               M.keyname(bad), table.concat(known, ", ")))
  end
  return opts
end

--- Integer, number and boolean options: field key of opts, def when absent.
function M.optint(opts, n, fname, key, def)
  local v = opts[key]
  if v == nil then return def end
  if not M.is_integer(v) then
    M.argerror(n, fname, ("option '%s' must be an integer, got %s"):format(
               key, type(v) == "number" and native.format(v) or M.typename(v)))
  end
  return tointeger(v)
end

local function opt(tname)   -- optnum, optbool: an option of Lua type tname
  return function(opts, n, fname, key, def)
    local v = opts[key]
    if v == nil then return def end
    if type(v) ~= tname then
      M.argerror(n, fname, ("option '%s' must be a %s, got %s"):format(key, tname, M.typename(v)))
    end
    return v
  end
end
M.optnum, M.optbool = opt("number"), opt("boolean")

--- A vector argument for a primitive: a table as a plain copy of its raw
-- entries, each a number ("what[i] is a T, not a number"); a ms.vec as
-- it is, for the primitive to check.
function M.vector(v, n, fname, what)
  if native.kind(v) == "vec" then return v end
  if type(v) ~= "table" then
    M.argerror(n, fname, ("%s must be a ms.vec or a table of numbers, got %s"):format(what,
               M.typename(v)))
  end
  local copy = {}
  for i = 1, M.rawlen(v) do
    local x = rawget(v, i)
    if type(x) ~= "number" then
      M.argerror(n, fname, ("%s[%d] is a %s, not a number"):format(what, i, type(x)))
    end
    copy[i] = x
  end
  return copy
end

return M
