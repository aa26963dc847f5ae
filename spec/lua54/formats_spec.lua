-- Format strings that Lua reads: lua_pushfstring, luaL_error and
-- ms_lua_pending in the C binding, string.format in the Lua sources.  A C
-- conversion there (%zu, %ld, %lld) is no format error at compile time:
-- it raises "invalid conversion" when the message is made, in place of the
-- message -- typically in a rare error path no other spec reaches.
local h = require "spec.helpers"
local ms = require "momsandbox"

local function files(pattern)
  local p = io.popen("ls " .. pattern .. " 2>/dev/null")
  local list = {}
  for name in p:lines() do list[#list + 1] = name end
  p:close()
  return list
end

-- The first string literal of C call text, adjacent literals joined.
local function c_format(call)
  call = call:gsub("\\\\", "\1"):gsub('\\"', "\2")   -- escapes: no quotes
  local _, e, lit = call:find('"([^"]*)"')
  if not lit then return nil end
  local parts = {lit}
  while true do
    local _, e2, more = call:find('^%s*"([^"]*)"', e + 1)
    if not more then return table.concat(parts) end
    parts[#parts + 1], e = more, e2
  end
end

-- The text of each call of fn in src, from its name to the closing ");".
local function calls(src, fn)
  local list = {}
  for body in src:gmatch("[^%w_]" .. fn .. "(%b())") do list[#list + 1] = body end
  return list
end

-- The conversions in fmt ("%%" left out) that are not one of the
-- characters allowed, with flags, width and precision if flags is true.
local function bad_conversions(fmt, allowed, flags)
  local bad = {}
  for spec in fmt:gsub("%%%%", ""):gmatch("%%([^%%]*)") do
    local mods, conv = spec:match("^([%-+# 0]*%d*%.?%d*)(%a?)")
    if conv == "" or not allowed:find(conv, 1, true) or (mods ~= "" and not flags) then
      bad[#bad + 1] = "%" .. mods .. conv
    end
  end
  return bad
end

describe("format strings read by Lua", function()
  it("are checked by this spec", function()
    local call = calls('  luaL_error(L, "vector of %zu "\n   "entries (%s)", n, f(")"));', "luaL_error")
    assert.are.equal(1, #call)
    assert.are.equal("vector of %zu entries (%s)", c_format(call[1]))
    assert.are.same({"%z"}, bad_conversions(c_format(call[1]), "sfIpdcU", false))
    assert.are.same({"%5d", "%l"}, bad_conversions("%5d %% %I %ld", "sfIpdcU", false))
    assert.are.same({"%z"}, bad_conversions("%-5.2f%%%zu", "cdiouxXeEfgGqsaA", true))
  end)

  it("in the C binding use lua_pushfstring's conversions only", function()
    local found = {}
    for _, path in ipairs(files("bindings/lua/*.c bindings/cli/*.c")) do
      local src = h.read(path)
      for _, fn in ipairs{"lua_pushfstring", "luaL_error", "ms_lua_pending"} do
        for _, call in ipairs(calls(src, fn)) do
          local fmt = c_format(call)
          if fmt then
            -- lua_pushfstring: %% %s %f %I %p %d %c %U, no flags or sizes
            for _, bad in ipairs(bad_conversions(fmt, "sfIpdcU", false)) do
              found[#found + 1] = path .. ": " .. fn .. ' "' .. fmt .. '": ' .. bad
            end
          end
        end
      end
    end
    assert.are.same({}, found)
  end)

  it("in the Lua sources use string.format's conversions only", function()
    local found = {}
    local sources = files("lua/momsandbox/*.lua bindings/ffi/*.lua bindings/ffi/momsandbox/ffi_*.lua " ..
                          "scripts/*.lua scripts/*/*.lua bench/*.lua")
    for _, path in ipairs(sources) do
      local src = h.read(path)
      local fmts = {}
      for _, lit in src:gmatch('(["\'])([^"\'\n]-)%1%):format%(') do fmts[#fmts + 1] = lit end
      for _, lit in src:gmatch('format%((["\'])([^"\'\n]-)%1') do fmts[#fmts + 1] = lit end
      for _, fmt in ipairs(fmts) do
        for _, bad in ipairs(bad_conversions(fmt, "cdiouxXeEfgGqsaA", true)) do
          found[#found + 1] = path .. ': "' .. fmt .. '": ' .. bad
        end
      end
    end
    assert.are.same({}, found)
  end)

  it("make the message of a vector too large to allocate", function()
    local ok, err = pcall(ms.vec, 2^62)
    assert.is_false(ok)
    assert.are.equal("bad argument #1 to 'vec' (size must be <= 1073741824)", err)
  end)
end)
