--- momsandbox.help (ms.help; the global help of the momsandbox CLIs): the
-- reference docs/api.md, the one source of every function's documentation.
--   help(ms.momentum)   by value: a function or table of ms
--   help "trace"        by name, or a topic ("rules"); else a search
--   help()              the topics
-- A rule's signature, hyper-parameters and update equations come from the
-- engine at run time (native.rule_classes), never from the text.
-- help.text(x) returns what help(x) prints.
local native = require "momsandbox.native"

local doc, rules   -- read on first use

-- "# title", text, then "## topic" (text) and "### ms.name<signature>"
-- sections; <!-- comments --> are for the maintainers.
local function parse(text)
  local d = {lines = {}, topics = {}, sections = {}, byname = {}}
  local topic, section
  for line in (text:gsub("<!%-%-.-%-%->\n?", "") .. "\n"):gmatch("([^\n]*)\n") do
    local t, s = line:match("^## (.+)$"), line:match("^### (.+)$")
    if t then
      topic, section = {name = t:lower(), lines = {}, sections = {}}, nil
      d.topics[#d.topics + 1] = topic
    elseif s then
      section = {title = s, name = s:match("^[%w_.]+"), lines = {}}
      topic.sections[#topic.sections + 1], d.sections[#d.sections + 1] = section, section
      d.byname[section.name] = section
    elseif not line:match("^# ") then
      local to = section or topic or d
      to.lines[#to.lines + 1] = line
    end
  end
  return d
end

local function load()
  if doc then return end
  doc, rules = parse(require "momsandbox.api_md"), {}
  for _, c in ipairs(native.rule_classes()) do rules["ms." .. c.name] = c end
end

local function num(x)
  return x == math.huge and "inf" or x == -math.huge and "-inf" or native.format(x)
end

local function default(h)
  if h.flag then return h.def ~= 0 and "true" or "false" end
  return h.def ~= h.def and "required" or num(h.def)
end

-- ms.adam{lr = 0.001, beta1 = 0.9, ...} from the registry.
local function title(s)
  local c = rules[s.name]
  if not c then return s.title end
  local parts = {}
  for i, h in ipairs(c.hyper) do
    parts[i] = default(h) == "required" and h.name or h.name .. " = " .. default(h)
  end
  return s.name .. "{" .. table.concat(parts, ", ") .. "}"
end

local function block(lines)
  local out, code = {}, false
  for _, line in ipairs(lines) do
    if line:match("^```") then code = not code
    else out[#out + 1] = (code and "    " or "") .. line end
  end
  return (table.concat(out, "\n"):gsub("^\n+", ""):gsub("\n+$", ""))
end

local function rule_text(c)
  local rows, w = {}, 0
  for _, h in ipairs(c.hyper) do w = math.max(w, #h.name) end
  for i, h in ipairs(c.hyper) do
    local range = h.flag and "true or false" or ("%s%s, %s%s"):format(h.lo_open and "(" or "[", num(h.lo),
                                                                     num(h.hi), h.hi_open and ")" or "]")
    rows[i] = ("  %-" .. w .. "s  %-8s  %s"):format(h.name, default(h), range)
  end
  return ("\n\nHyper-parameters (default, range):\n%s\nState: %s\n\nUpdate (core/src/rules/%s.c):\n  %s"):format(
    table.concat(rows, "\n"), #c.state > 0 and table.concat(c.state, ", ") or "none", c.name,
    (c.doc or "(none)"):gsub("\n$", ""):gsub("[^\n]+", "  %0"):sub(3))
end

local function section_text(s)
  local c = rules[s.name]
  return title(s) .. "\n\n" .. block(s.lines) .. (c and rule_text(c) or "") .. "\n"
end

local function listing(head, sections)
  local out = {head}
  for i, s in ipairs(sections) do out[i + 1] = "  " .. title(s) end
  return table.concat(out, "\n") .. "\n"
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
  return #hits > 0 and listing(prefix .. ": help \"name\" for one of", hits) or nil
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
  if #last == 1 then hits = last end
  if #hits == 1 then return section_text(hits[1]) end
  if #hits > 0 then return listing(("'%s' appears in:"):format(q), hits) end
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
  if kind == "rule" and ok and rules["ms." .. tostring(class)] then kind = class end
  return kind and by_name(kind)
end

local function text(x)
  load()
  if x == nil then
    local out = {block(doc.lines), "", "Topics (help \"topic\"):"}
    for _, t in ipairs(doc.topics) do out[#out + 1] = ("  %-15s %s"):format(t.name, block(t.lines):match("^[^\n]*")) end
    return table.concat(out, "\n") .. "\n"
  end
  return (type(x) == "string" and by_name(x) or by_value(x)) or
         ("no help for %s: help() lists the topics\n"):format(type(x) == "string" and "'" .. x .. "'" or
                                                              "this value")
end

return setmetatable({text = text}, {__call = function(_, x) io.write(text(x)) end})
