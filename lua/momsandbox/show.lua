--- momsandbox.show: values as the REPL prints them, for a person to read.
--
--   show.value(v)        -> a string
--   show.print(...)      -> writes each value, separated by tabs, as print does
--
-- Tables are drawn with their contents: the array part first, then the
-- other keys sorted, nested tables within, on one line when it is short
-- and one entry a line when it is not.  Long arrays, tables with many
-- keys, deep nesting and cycles are elided with a count.  A vector shows
-- its first and last entries and its length, whatever its size; anything
-- with a __tostring of its own prints as that.  Strings at the top print
-- as they are (as print does); inside a table they are quoted.
local format = require("momsandbox").util.format   -- as a vector prints its entries

local M = {}

local MAX_ITEMS = 10   -- entries of an array shown before "…"
local MAX_KEYS = 20    -- other keys shown before "…"
local MAX_DEPTH = 3    -- nested tables shown before "{…}"
local WIDTH = 78       -- a table longer than this on one line takes one line an entry
local MAX_TEXT = 400   -- a __tostring longer than this is cut

local rawlen = rawlen or function(t) return #t end   -- LuaJIT: # ignores __len

-- A vector: userdata named momsandbox.vec under Lua 5.4, the binding's
-- cdata type under LuaJIT (until both layers offer one type test).
local is_vec = function(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__name == "momsandbox.vec"
end
if jit then is_vec = require("momsandbox.ffi_vec").is end

-- vec{1, 2, 3, …, 1000000} (1000000): the first entries, the last, the length.
local function vec_text(v)
  local n, parts = #v, {}
  if n <= MAX_ITEMS then return tostring(v) end
  for i = 1, 3 do parts[i] = format(v[i]) end
  parts[4] = "…"
  parts[5] = format(v[n])
  return ("vec{%s} (%d)"):format(table.concat(parts, ", "), n)
end

local function cut(s)
  if #s <= MAX_TEXT then return s end
  return s:sub(1, MAX_TEXT) .. ("… (%d characters)"):format(#s)
end

local function has_tostring(v)
  local mt = getmetatable(v)
  return type(mt) == "table" and mt.__tostring ~= nil
end

local function key_text(k)
  if type(k) == "string" and k:match("^[%a_][%w_]*$") then return k end
  if type(k) == "string" then return ("[%q]"):format(k) end
  return "[" .. tostring(k) .. "]"
end

-- Keys other than 1 .. n, sorted: numbers first, then strings, then the rest.
local TYPE_ORDER = {number = 1, string = 2}
local function other_keys(t, n)
  local keys = {}
  for k in next, t do
    if type(k) ~= "number" or k % 1 ~= 0 or k < 1 or k > n then
      keys[#keys + 1] = k
    end
  end
  table.sort(keys, function(a, b)
    local ta, tb = TYPE_ORDER[type(a)] or 3, TYPE_ORDER[type(b)] or 3
    if ta ~= tb then return ta < tb end
    if ta == 3 then return tostring(a) < tostring(b) end
    return a < b
  end)
  return keys
end

local text   -- text(v, depth, seen, indent): defined below

local function table_text(t, depth, seen, indent)
  if seen[t] then return "{<cycle>}" end
  if depth > MAX_DEPTH then return "{…}" end
  seen[t] = true
  local n, items = rawlen(t), {}
  for i = 1, math.min(n, MAX_ITEMS) do items[#items + 1] = text(rawget(t, i), depth + 1, seen, indent .. "  ") end
  if n > MAX_ITEMS then items[#items + 1] = ("… (%d items)"):format(n) end
  local keys = other_keys(t, n)
  for i = 1, math.min(#keys, MAX_KEYS) do
    local k = keys[i]
    items[#items + 1] = key_text(k) .. " = " .. text(rawget(t, k), depth + 1, seen, indent .. "  ")
  end
  if #keys > MAX_KEYS then items[#items + 1] = ("… (%d more keys)"):format(#keys - MAX_KEYS) end
  seen[t] = nil
  if #items == 0 then return "{}" end
  local line = "{" .. table.concat(items, ", ") .. "}"
  if #line + #indent <= WIDTH and not line:find("\n", 1, true) then return line end
  local inner = indent .. "  "
  return "{\n" .. inner .. table.concat(items, ",\n" .. inner) .. "\n" .. indent .. "}"
end

function text(v, depth, seen, indent)
  local t = type(v)
  if t == "string" then return depth == 0 and v or ("%q"):format(v):gsub("\\\n", "\\n") end
  if is_vec(v) then return vec_text(v) end
  if has_tostring(v) then return cut(tostring(v)) end
  if t == "table" then return table_text(v, depth, seen, indent) end
  return tostring(v)
end

--- A value as the REPL shows it.
function M.value(v)
  return text(v, 0, {}, "")
end

--- Write the values as print does, each as show.value draws it.
function M.print(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = M.value((select(i, ...))) end
  io.write(table.concat(parts, "\t"), "\n")
end

return M
