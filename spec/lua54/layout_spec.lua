-- The source files of the engine and its bindings are named so that a
-- name alone (in a traceback, a profile, a message) tells which file it is,
-- and each file of a native layer names its twin in its first comment.
local h = require "spec.helpers"

--- The tracked files under the folders given, as a list of paths.
local function tracked(folders)
  local ok, out = h.run("git ls-files " .. folders)
  assert(ok, "git ls-files failed: " .. tostring(out))
  local paths = {}
  for path in out:gmatch("[^\n]+") do paths[#paths + 1] = path end
  return paths
end

describe("the source tree", function()
  it("has no two engine or binding files of the same name", function()
    local seen, twice = {}, {}
    for _, path in ipairs(tracked("core bindings lua")) do
      local name = path:match("([^/]+)$")
      if name:match("%.[ch]$") or name:match("%.lua$") or name:match("%.in$") then
        if seen[name] then twice[#twice + 1] = seen[name] .. " and " .. path end
        seen[name] = path
      end
    end
    assert.same({}, twice)
  end)

  it("names each native file's twin in its first comment", function()
    local missing = {}
    for _, path in ipairs(tracked("bindings/lua bindings/ffi/momsandbox")) do
      local head = (h.read(path) or ""):sub(1, 800)
      local twin = path:match("l_([%w_]+)%.c$") and "ffi_" .. path:match("l_([%w_]+)%.c$") .. ".lua"
                   or path:match("ffi_([%w_]+)%.lua$") and "l_" .. path:match("ffi_([%w_]+)%.lua$") .. ".c"
      if twin and h.read((twin:match("^l_") and "bindings/lua/" or "bindings/ffi/momsandbox/") .. twin)
         and not head:find(twin, 1, true) then
        missing[#missing + 1] = path .. " (" .. twin .. ")"
      end
    end
    assert.same({}, missing)
  end)
end)
