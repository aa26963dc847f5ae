--- momsandbox.args: command-line options for the scripts.
--
--   local opts = require("momsandbox.args").parse(arg, {
--     usage = "momsandbox scripts/trace2d.lua [options]",
--     {"out", "DIR", "output folder", default = "out"},
--     {"eta", "NUM", "learning rate", type = "number"},
--     {"x0", "X1,X2", "starting point", type = "numbers"},
--   })
--
-- Options are written --name VALUE or --name=VALUE; flags (type = "flag")
-- take no value.  --help prints the usage.  Every value is checked before
-- the script runs: its type, and what the option says of it --
--   min, max        the least and greatest value allowed (inclusive)
--   above, below    bounds the value must be strictly beyond
--   choices         the values a string may take ({"svg", "png"})
--   count           how many numbers a list needs (type numbers/integers;
--                   bounds apply to each of them)
-- A mistake prints the problem and the usage on stderr and exits with
-- status 2, as command-line tools do; no traceback.
--
-- M.OUT and M.FORMAT are the --out and --format options every script that
-- writes files takes; M.wrote(path) says on stderr what it wrote.
local M = {}

-- The integer s spells, or nil: a Lua 5.4 integer, or under LuaJIT (whose
-- numbers are all doubles) a whole double.
local function integer(s)
  local x = tonumber(s)
  if x == nil or x ~= math.floor(x) or x < -2^63 or x >= 2^63 then return nil end
  return math.tointeger and math.tointeger(x) or x
end

-- A comma-separated list of what one(item) reads, or nil.
local function list(one)
  return function(s)
    local t = {}
    for item in (s .. ","):gmatch("([^,]*),") do
      local x = one(item)
      if not x then return nil end
      t[#t + 1] = x
    end
    return #t > 0 and t or nil
  end
end

local convert = {
  string = function(s) return s end,
  number = tonumber,
  integer = integer,
  numbers = list(tonumber),
  integers = list(integer),
}

local expected = {
  number = "a number", integer = "an integer",
  numbers = "numbers separated by commas",
  integers = "integers separated by commas", string = "a value",
}

-- What is wrong with the value v of option o (a number, a list of them,
-- or a string), or nil: the end of "option --name ...".
local function bound_problem(o, x)
  if o.min and x < o.min then return ("at least %s"):format(o.min) end
  if o.max and x > o.max then return ("at most %s"):format(o.max) end
  if o.above and not (x > o.above) then return ("above %s"):format(o.above) end
  if o.below and not (x < o.below) then return ("below %s"):format(o.below) end
  if x ~= x then return "a number" end
end

local function problem(o, v)
  if o.choices then
    for _, c in ipairs(o.choices) do
      if v == c then return nil end
    end
    return ("must be one of %s, got '%s'"):format(table.concat(o.choices, ", "), v)
  end
  if type(v) == "number" then
    local want = bound_problem(o, v)
    return want and ("must be %s, got %s"):format(want, v)
  end
  if type(v) == "table" then
    if o.count and #v ~= o.count then
      return ("needs %d values, got %d"):format(o.count, #v)
    end
    for i, x in ipairs(v) do
      local want = bound_problem(o, x)
      if want then return ("needs values %s: value %d is %s"):format(want, i, x) end
    end
  end
end

local function usage(spec)
  local lines = {"usage: " .. (spec.usage or "momsandbox script.lua [options]")}
  if spec.help then lines[#lines + 1] = spec.help end
  lines[#lines + 1] = "options:"
  for _, o in ipairs(spec) do
    local left = "--" .. o[1] .. (o.type == "flag" and "" or " " .. o[2])
    local default = o.default ~= nil and
      string.format(" (default %s)", type(o.default) == "table" and
        table.concat(o.default, ",") or tostring(o.default)) or ""
    local choices = o.choices and ": " .. table.concat(o.choices, " or ") or ""
    lines[#lines + 1] = string.format("  %-18s %s%s%s", left, o[3], choices, default)
  end
  lines[#lines + 1] = string.format("  %-18s %s", "--help", "show this help")
  return table.concat(lines, "\n")
end
M.usage = usage

--- A mistake in the options that parse cannot see (a value out of range):
-- say so on stderr as "script.lua: msg" and exit with status 2.
function M.fail(msg)
  local script = (arg and arg[0] or "script"):match("[^/]*$")
  io.stderr:write(script, ": ", msg, "\n")
  os.exit(2)
end

--- Parse argv (the script's `arg` table) against spec.  Returns a table of
-- option values; positional arguments are in its array part.  When `fail`
-- is given, errors call fail(message) instead of exiting (for tests).
function M.parse(argv, spec, fail)
  fail = fail or function(msg)
    io.stderr:write(msg, "\n", usage(spec), "\n")
    os.exit(2)
  end
  local byname, opts = {}, {}
  for _, o in ipairs(spec) do
    byname[o[1]] = o
    opts[o[1]] = o.default
  end
  local i = 1
  while argv[i] ~= nil do
    local a = argv[i]
    if a == "--help" or a == "-h" then
      print(usage(spec))
      os.exit(0)
    end
    local name, value = a:match("^%-%-([%w_-]+)=(.*)$")
    name = name or a:match("^%-%-([%w_-]+)$")
    if name then
      local o = byname[name]
      if not o then return fail("unknown option --" .. name) end
      if o.type == "flag" then
        if value then return fail("option --" .. name .. " takes no value") end
        opts[name] = true
      else
        if not value then
          i = i + 1
          value = argv[i]
          if value == nil then return fail("option --" .. name .. " needs a value") end
        end
        local v = convert[o.type or "string"](value)
        if v == nil then
          return fail(string.format("option --%s expects %s, got '%s'", name,
                                    expected[o.type or "string"], value))
        end
        local why = problem(o, v)
        if why then return fail(("option --%s %s"):format(name, why)) end
        opts[name] = v
      end
    else
      opts[#opts + 1] = a
    end
    i = i + 1
  end
  return opts
end

M.OUT = {"out", "DIR", "output folder", default = "out"}
M.FORMAT = {"format", "EXT", "figure format", default = "svg", choices = {"svg", "png"}}

--- Say on stderr that the script wrote path (a figure, a CSV file).
function M.wrote(path)
  io.stderr:write("wrote ", path, "\n")
  return path
end

return M
