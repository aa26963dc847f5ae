-- A sweep's CSV is RFC 4180 whatever the names of its hyper-parameters: a
-- rule written in Lua may name them anything, commas, quotes and line
-- breaks included.
local ms = require "momsandbox"
local h = require "spec.helpers"

--- The records of RFC 4180 text, each a list of fields.
local function parse_csv(text)
  local records, record, field, i = {}, {}, {}, 1
  local quoted = false
  while i <= #text do
    local c = text:sub(i, i)
    if quoted then
      if c == '"' and text:sub(i + 1, i + 1) == '"' then
        field[#field + 1] = '"'
        i = i + 1
      elseif c == '"' then
        quoted = false
      else
        field[#field + 1] = c
      end
    elseif c == '"' then
      assert(#field == 0, "a quote inside an unquoted field")
      quoted = true
    elseif c == "," or c == "\n" then
      record[#record + 1] = table.concat(field)
      field = {}
      if c == "\n" then
        records[#records + 1] = record
        record = {}
      end
    else
      assert(c ~= "\r", "a bare carriage return")
      field[#field + 1] = c
    end
    i = i + 1
  end
  assert(not quoted and #field == 0 and #record == 0, "the text ends inside a record")
  return records
end

describe("a sweep's CSV", function()
  it("quotes the names that need it", function()
    local names = {'a,b', 'say "hi"', "two\nlines", "cr\rhere", "plain"}
    local hyper, grid = {}, {}
    for i, name in ipairs(names) do
      hyper[name] = 0.1
      grid[name] = {0.1 * i, 0.2 * i}
    end
    local r = ms.rule{name = "odd", hyper = hyper,
                      step = function(p, g) p:axpy(-0.1, g) end}
    local res = ms.sweep{objective = ms.objective.quadratic{1}, rule = r{}, x0 = {1},
                         steps = 3, grid = grid}
    local dir = h.tmpdir()
    res:csv(dir .. "/sweep.csv")
    local records = parse_csv(h.read(dir .. "/sweep.csv"))
    h.rmtree(dir)
    assert.are.equal(1 + 2 ^ #names, #records)
    local header = records[1]
    assert.are.equal(#names + 2, #header)
    local seen = {}
    for k = 1, #names do seen[header[k]] = true end
    for _, name in ipairs(names) do assert.is_true(seen[name], name) end
    assert.are.same({"loss", "diverged"}, {header[#names + 1], header[#names + 2]})
    for k = 2, #records do assert.are.equal(#header, #records[k]) end
  end)

  it("leaves plain names as they are", function()
    local res = ms.sweep{objective = ms.objective.quadratic{1}, rule = "momentum", x0 = {1},
                         steps = 3, grid = {lr = {0.1}, beta = {0.5}}}
    local dir = h.tmpdir()
    res:csv(dir .. "/sweep.csv")
    local text = h.read(dir .. "/sweep.csv")
    h.rmtree(dir)
    assert.matches("^%a+,%a+,loss,diverged\n", text)
  end)
end)
