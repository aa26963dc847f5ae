--- momsandbox.help (ms.help; the global help of the momsandbox CLIs) shows
-- docs/api.md, the one source of the API's documentation: help(ms.momentum)
-- (by value), help "trace" (by name or topic; else a search), help() (the
-- topics); help.text(x) returns the text.  A rule's signature, defaults,
-- ranges and equations come from the engine (native.rule_classes).
local native = require "momsandbox.native"

local doc, rules   -- read on first use

-- "## topic" (its text) and "### ms.name<signature>" sections (their text).
local function load()
  if doc then return end
  doc, rules = {lines = {}, topics = {}, sections = {}, byname = {}}, {}
  local at, topic = doc, nil
  for line in (require("momsandbox.api_md"):gsub("<!%-%-.-%-%->\n?", "")):gmatch("([^\n]*)\n") do
    local t, s = line:match("^## (.+)$"), line:match("^### (.+)$")
    if t then
      topic = {name = t:lower(), lines = {}, sections = {}}
      doc.topics[#doc.topics + 1], at = topic, topic
    elseif s then
      at = {title = s, name = s:match("^[%w_.]+"), lines = {}}
      topic.sections[#topic.sections + 1], doc.sections[#doc.sections + 1] = at, at
      doc.byname[at.name] = at
    elseif not line:match("^# ") then
      at.lines[#at.lines + 1] = line
    end
  end
  for _, c in ipairs(native.rule_classes()) do rules["ms." .. c.name] = c end
end

local function default(h)
  if h.flag then return h.def ~= 0 and "true" or "false" end
  return h.def ~= h.def and "required" or native.format(h.def)
end

-- The heading; a rule's from the registry: ms.adam{lr = 0.001, ...}.
local function title(s)
  local c, parts = rules[s.name], {}
  if not c then return s.title end
  for i, h in ipairs(c.hyper) do parts[i] = h.name .. (h.def ~= h.def and "" or " = " .. default(h)) end
  return s.name .. "{" .. table.concat(parts, ", ") .. "}"
end

-- Markdown for a terminal: code blocks indented, without their fences.
local function block(lines)
  local out, code = {}, false
  for _, line in ipairs(lines) do
    if line:match("^```") then code = not code else out[#out + 1] = (code and "    " or "") .. line end
  end
  return (table.concat(out, "\n"):gsub("^\n+", ""):gsub("\n+$", ""))
end

local function rule_text(c)
  local rows, w = {}, 0
  for _, h in ipairs(c.hyper) do w = math.max(w, #h.name) end
  for i, h in ipairs(c.hyper) do
    rows[i] = ("  %-" .. w .. "s  %-8s  %s"):format(h.name, default(h), h.flag and "true or false" or
      (h.lo_open and "(" or "[") .. native.format(h.lo) .. ", " .. native.format(h.hi) .. (h.hi_open and ")" or "]"))
  end
  return ("\n\nHyper-parameters (default, range):\n%s\nState: %s\n\nUpdate (core/src/rules/%s.c):\n%s"):format(
    table.concat(rows, "\n"), #c.state > 0 and table.concat(c.state, ", ") or "none", c.name,
    (c.doc or "(none)"):gsub("\n$", ""):gsub("[^\n]+", "  %0"))
end

local function section_text(s)
  return title(s) .. "\n\n" .. block(s.lines) .. (rules[s.name] and rule_text(rules[s.name]) or "") .. "\n"
end

local function listing(head, sections)
  local out = {head}
  for i, s in ipairs(sections) do out[i + 1] = "  " .. title(s) end
  return #sections > 0 and table.concat(out, "\n") .. "\n" or nil
end

-- The value at ms.a.b, or nil (loading the lazy parts on the way).
local function resolve(path)
  local ok, v = pcall(function()
    local v = require "momsandbox"
    for part in path:gmatch("%.([%w_]+)") do v = v[part] end
    return v
  end)
  return ok and v or nil
end

-- The sections under the table at prefix (ms.schedule, ms.plot).
local function under(prefix)
  local hits = {}
  for _, s in ipairs(doc.sections) do
    if s.name:sub(1, #prefix + 1) == prefix .. "." then hits[#hits + 1] = s end
  end
  return listing(prefix .. ": help \"name\" for one of", hits)
end

local function by_name(q)
  for _, t in ipairs(doc.topics) do
    if t.name == q:lower() then return block(t.lines) .. "\n\n" .. listing(t.name .. ":", t.sections) end
  end
  local exact = doc.byname[q] or doc.byname["ms." .. q]
  if exact then return section_text(exact) end
  local text = under(q:match("^ms%.") and q or "ms." .. q)
  if text then return text end
  local last, hits = {}, {}   -- ms.*.q, else a search: the sections that speak of q
  for _, s in ipairs(doc.sections) do
    if s.name:match("[^.]+$") == q then last[#last + 1] = s end
    if (s.title .. "\n" .. table.concat(s.lines, "\n")):find(q, 1, true) then hits[#hits + 1] = s end
  end
  hits = #last == 1 and last or hits
  return #hits == 1 and section_text(hits[1]) or listing(("'%s' appears in:"):format(q), hits)
end

local function by_value(x)
  for _, s in ipairs(doc.sections) do
    if resolve(s.name) == x then return section_text(s) end
    local prefix = s.name:match("^(.+)%.")
    if prefix and resolve(prefix) == x then return under(prefix) end
  end
  local mt = getmetatable(x)   -- an object: its kind's section (a rule: its class's)
  local kind = native.kind(x) or type(mt) == "table" and type(mt.__name) == "string" and
               mt.__name:match("^momsandbox%.(%w+)$")
  local ok, class = pcall(function() return x.name end)
  return kind and by_name(kind == "rule" and ok and rules["ms." .. tostring(class)] and class or kind)
end

local function text(x)
  load()
  if x == nil then
    local out = {block(doc.lines), "", "Topics (help \"topic\"):"}
    for _, t in ipairs(doc.topics) do out[#out + 1] = ("  %-15s %s"):format(t.name, block(t.lines):match("^[^\n]*")) end
    return table.concat(out, "\n") .. "\n"
  end
  return (type(x) == "string" and by_name(x) or by_value(x)) or ("no help for %s: help() lists the topics\n"):format(
    type(x) == "string" and "'" .. x .. "'" or "this value")
end

return setmetatable({text = text}, {__call = function(_, x) io.write(text(x)) end})
