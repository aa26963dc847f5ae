--- momsandbox.json: JSON for ms.explore's page, the same bytes under both
-- interpreters.  Numbers are written with 17 significant digits, which read
-- back as the very double (the page draws what the engine computed, bit for
-- bit), and non-finite ones as null; strings escape every character that
-- could end a <script> element.  Reading goes through lua-cjson (Debian's
-- lua-cjson, for Lua 5.1 and 5.4), loaded on first use.
local M = {}

local escapes = {['"'] = '\\"', ["\\"] = "\\\\", ["\b"] = "\\b", ["\f"] = "\\f", ["\n"] = "\\n",
                 ["\r"] = "\\r", ["\t"] = "\\t"}

local function string_(s)
  return '"' .. s:gsub('[%c"\\<>&\127]', function(c)
    return escapes[c] or ("\\u%04x"):format(c:byte())
  end) .. '"'
end

local function number(x)
  if x ~= x or x == math.huge or x == -math.huge then return "null" end
  if x == 0 and 1 / x < 0 then return "-0" end
  if x == math.floor(x) and math.abs(x) < 2^53 then return ("%d"):format(x) end
  return ("%.17g"):format(x)
end

--- Arrays are tables with t[1] ~= nil or marked M.array (empty ones);
-- keys of objects are written sorted, so the bytes never depend on pairs'
-- order.
M.array_mt = {}

local function encode(v, out)
  local t = type(v)
  if t == "number" then out[#out + 1] = number(v)
  elseif t == "string" then out[#out + 1] = string_(v)
  elseif t == "boolean" then out[#out + 1] = tostring(v)
  elseif v == nil or v == M.null then out[#out + 1] = "null"
  elseif t == "table" and (rawget(v, 1) ~= nil or getmetatable(v) == M.array_mt) then
    out[#out + 1] = "["
    for i = 1, #v do
      if i > 1 then out[#out + 1] = "," end
      encode(v[i], out)
    end
    out[#out + 1] = "]"
  elseif t == "table" then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = tostring(k) end
    table.sort(keys)
    out[#out + 1] = "{"
    for i, k in ipairs(keys) do
      if i > 1 then out[#out + 1] = "," end
      out[#out + 1] = string_(k) .. ":"
      encode(v[k], out)
    end
    out[#out + 1] = "}"
  else
    error("json: cannot encode a " .. t, 0)
  end
end

M.null = setmetatable({}, {__tostring = function() return "null" end})

function M.encode(v)
  local out = {}
  encode(v, out)
  return table.concat(out)
end

--- An empty array (encoded [] rather than {}).
function M.array(t)
  return setmetatable(t or {}, M.array_mt)
end

local cjson
--- The value of the JSON text s, or nil and why not.  Nesting is limited;
-- null reads as M.null.
function M.decode(s)
  if cjson == nil then
    local ok, lib = pcall(require, "cjson.safe")
    if not ok then
      return nil, "ms.explore needs lua-cjson (Debian: apt-get install lua-cjson)"
    end
    cjson = lib.new()
    cjson.decode_max_depth(16)
    cjson.decode_invalid_numbers(false)
  end
  local v, why = cjson.decode(s)
  if v == nil then return nil, why end
  local function fix(x, depth)
    if x == cjson.null then return M.null end
    if type(x) == "table" and depth < 20 then
      for k, y in pairs(x) do x[k] = fix(y, depth + 1) end
    end
    return x
  end
  return fix(v, 0)
end

return M
