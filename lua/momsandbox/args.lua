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
-- take no value.  --help prints the usage.  A mistake prints the problem
-- and the usage on stderr and exits with status 2, as command-line tools do.
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

local function usage(spec)
  local lines = {"usage: " .. (spec.usage or "momsandbox script.lua [options]")}
  if spec.help then lines[#lines + 1] = spec.help end
  lines[#lines + 1] = "options:"
  for _, o in ipairs(spec) do
    local left = "--" .. o[1] .. (o.type == "flag" and "" or " " .. o[2])
    local default = o.default ~= nil and
      string.format(" (default %s)", type(o.default) == "table" and
        table.concat(o.default, ",") or tostring(o.default)) or ""
    lines[#lines + 1] = string.format("  %-18s %s%s", left, o[3], default)
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
        opts[name] = v
      end
    else
      opts[#opts + 1] = a
    end
    i = i + 1
  end
  return opts
end

return M
