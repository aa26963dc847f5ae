-- help: docs/api.md is the one source of the API's documentation.  Every
-- public function of ms has its section there, every section a function,
-- every example runs, the README's tables agree with it, and a rule's
-- defaults, ranges and equations come from the engine -- under both
-- interpreters, with the same text.
local ms = require "momsandbox"
local native = require "momsandbox.native"
local helpers = require "spec.helpers"

local function slurp(path) return assert(helpers.read(path)) end

-- The sections of docs/api.md, read here on their own: name -> {title, body}.
local sections, order, current = {}, {}, nil
for line in io.lines("docs/api.md") do
  local title = line:match("^### (.+)$")
  if title then
    current = {title = title, body = ""}
    order[#order + 1] = title:match("^[%w_.]+")
    sections[order[#order]] = current
  elseif line:match("^##? ") then
    current = nil
  elseif current then
    current.body = current.body .. line .. "\n"
  end
end

-- The options table of a section: key -> default.
local function defaults(name)
  local t = {}
  for key, default in sections[name].body:gmatch("\n| `([^`]+)` | ([^|]-) |") do t[key] = default end
  return t
end

-- Every function (or callable table) reachable from ms, by its dotted name.
local function public()
  local found, seen = {}, {}
  local function walk(t, prefix)
    if seen[t] then return end
    seen[t] = true
    for key, v in pairs(t) do
      local name = prefix .. "." .. key
      local mt = type(v) == "table" and getmetatable(v)
      if type(v) == "function" or mt and mt.__call then found[#found + 1] = name end
      if type(v) == "table" then walk(v, name) end
    end
  end
  -- the parts loaded on first use, and not ms.gnuplot: the backend of ms.plot
  for _, part in ipairs{"plot", "args", "show", "help"} do assert.is_not_nil(ms[part]) end
  for key, v in pairs(ms) do
    if type(v) == "function" then found[#found + 1] = "ms." .. key
    elseif type(v) == "table" and key ~= "gnuplot" then
      local mt = getmetatable(v)
      if mt and mt.__call then found[#found + 1] = "ms." .. key end
      walk(v, "ms." .. key)
    end
  end
  table.sort(found)
  return found
end

local function resolve(name)
  local v = ms
  for part in name:gmatch("%.([%w_]+)") do v = type(v) == "table" and v[part] or nil end
  return v
end

describe("help", function()
  it("has a section for every public function of ms", function()
    local missing = {}
    for _, name in ipairs(public()) do
      if not sections[name] then missing[#missing + 1] = name end
    end
    assert.same({}, missing)
  end)

  it("has a section for every rule of the engine's registry, with its C file's equations", function()
    for _, c in ipairs(native.rule_classes()) do
      assert.is_truthy(sections["ms." .. c.name], c.name)
      -- the first comment of the C file, read here without the build's help
      local comment = slurp("core/src/rules/" .. c.name .. ".c"):match("^/%*\n(.-)\n %*/")
      local first = comment:match("^ %* ([^\n]+)")
      assert.is_truthy(ms.help.text(ms[c.name]):find("\n  " .. first .. "\n", 1, true), c.name)
      assert.equal("ms." .. c.name .. "{…}", sections["ms." .. c.name].title)
    end
  end)

  it("documents nothing that is not there, each with Returns and an example", function()
    for _, name in ipairs(order) do
      if not name:match("^ms%.ffi%.") or native.layer == "luajit" then
        assert.is_not_nil(resolve(name), name)
      end
      assert.is_truthy(sections[name].body:find("\nReturns: ", 1, true) or
                       sections[name].body:find("^Returns: "), name)
      assert.is_truthy(sections[name].body:find("\n```lua\n", 1, true), name)
    end
  end)

  it("runs every example", function()
    local quiet = setmetatable({print = function() end}, {__index = _G})
    local write = io.write
    io.write = function() end   -- luacheck: ignore 122
    for _, name in ipairs(order) do
      local code = sections[name].body:match("```lua\n(.-)```")
      local chunk = assert(load(code, "=" .. name, "t", quiet))
      local ok, err = pcall(chunk)
      if not ok then io.write = write end   -- luacheck: ignore 122
      assert(ok, name .. ": " .. tostring(err))
    end
    io.write = write   -- luacheck: ignore 122
  end)

  it("is the global help of the command, and ms.help", function()
    assert.equal(ms.help, help)
    -- at the prompt of the command's REPL (momsandbox, momsandbox-jit)
    local input = os.tmpname()
    local f = assert(io.open(input, "w"))
    f:write('help "gd"\n')
    f:close()
    local status, out = helpers.run(helpers.shquote(helpers.bin) .. " -i <" .. input)
    os.remove(input)
    assert.equal(0, status)
    assert.is_truthy(out:find("ms.gd{lr}\n\nPlain gradient descent.\n", 1, true), out)
    if native.layer == "lua54" then
      local code, usage = helpers.cli("-h")
      assert.equal(0, code)
      assert.is_truthy(usage:find("help() lists the topics", 1, true))
    end
  end)

  it("shows a rule with its registry's hyper-parameters and its file's equations", function()
    assert.equal([[
ms.momentum{lr, beta = 0.9}

Heavy-ball momentum in d2l's form (v₀ = 0).

Returns: a rule.

    local hb = ms.momentum{lr = 0.6, beta = 0.5}
    print(ms.trace(ms.objective.quadratic{0.2, 4}, hb, {x0 = {-5, -2}}))
    --> epoch 20, x1: 0.007188, x2: 0.002553

Hyper-parameters (default, range):
  lr    required  [0, inf)
  beta  0.9       [0, 1)
State: v

Update (core/src/rules/momentum.c):
  momentum.c -- heavy-ball momentum in the form of d2l (ch. 11.6):

    v_t = beta v_{t-1} + g_t,     v_0 = 0
    x_t = x_{t-1} - lr v_t

  The arithmetic is the one of sgd{momentum = beta} (PyTorch), so both give
  bit-identical trajectories.
]], ms.help.text(ms.momentum))
    assert.equal(ms.help.text(ms.momentum), ms.help.text("momentum"))
    assert.equal(ms.help.text(ms.momentum), ms.help.text(ms.momentum{lr = 0.1}))
    assert.equal("ms.sgd{lr, momentum = 0, dampening = 0, nesterov = false, weight_decay = 0, maximize = false}",
                 ms.help.text(ms.sgd):match("^[^\n]*"))
    assert.is_truthy(ms.help.text("adam"):find("\n  eps           1e-08     (0, inf)\n", 1, true))
  end)

  it("shows a function by value and by name", function()
    local constant = [[
ms.schedule.constant{lr}

The value lr at every step.

| option | default | range | meaning |
|---|---|---|---|
| `lr` | required | number | the value (or `base`) |

Returns: a schedule.

    print(ms.schedule.constant{lr = 0.1}(5))     --> 0.1
]]
    assert.equal(constant, ms.help.text(ms.schedule.constant))
    assert.equal(constant, ms.help.text("ms.schedule.constant"))
    assert.equal(constant, ms.help.text("schedule.constant"))
    assert.equal(constant, ms.help.text("constant"))
    assert.equal("ms.trace(f, rule, opts)\n", ms.help.text("trace"):match("^[^\n]*\n"))
    assert.equal("ms.plot.lines{series, xlabel, ylabel, xrange, yrange, logy, style}\n",
                 ms.help.text(ms.plot.lines):match("^[^\n]*\n"))
    assert.equal("ms.rng(seed)\n", ms.help.text(ms.rng(1)):match("^[^\n]*\n"))
  end)

  it("lists the topics, a topic, a table's functions, and what it does not know", function()
    assert.equal([[
Topics (help "topic"):
  objectives      Functions to minimise: quadratics, test functions, your own in Lua.
  rules           Update rules: gradient descent, momentum and its variants, PyTorch's optimisers, your own.
  schedules       Values that change with the step t: PyTorch's learning-rate schedules, for any hyper-parameter.
  traces          Full-batch runs of a rule on an objective, recorded step by step (d2l's train_2d).
  explorer        Distill's "Why Momentum Really Works" figure for any rule on any objective, in the browser.
  sweeps          Grids of hyper-parameters, run on every core, with their loss, rate or steps to a tolerance.
  training        Minibatch training of linear and logistic regression (d2l's train_ch11).
  data            Data sets: the airfoil set the project ships, text files, tables, synthetic data.
  analysis        The chapter's theory as functions: the momentum matrix R(β, η, λ), rates, optimal settings.
  plotting        Figures (SVG, PNG, or in the terminal: an image or text) through gnuplot; figures as data.
  script options  Command-line options of scripts: parsed and checked before the script runs (ms.args).
  util            Vectors, random numbers, files and processes, timing, formatting, help.
]], ms.help.text():match("\nTopics.*$"):sub(2))
    assert.equal([[
traces:
  ms.trace(f, rule, opts)
]], ms.help.text("traces"):match("\n\n(traces:.*)$"))
    assert.equal([[
ms.analysis: help "name" for one of
  ms.analysis.R(beta, eta, lambda)
  ms.analysis.eigenvalues(beta, eta, lambda)
  ms.analysis.matrix(rule, lambda, opts)
  ms.analysis.radius(beta, eta, lambda)
  ms.analysis.rate(rule, f, opts)
  ms.analysis.converges(beta, eta, lambda)
  ms.analysis.gd_rate(eta, lambda)
  ms.analysis.optimal(mu, L)
  ms.analysis.region(opts)
  ms.analysis.eigen(Q)
  ms.analysis.minimize(h)
]], ms.help.text(ms.analysis))
    assert.equal(ms.help.text(ms.analysis), ms.help.text("ms.analysis"))
    assert.equal("no help for 'nosuch': help() lists the topics\n", ms.help.text("nosuch"))
    assert.equal("no help for this value: help() lists the topics\n", ms.help.text(42))
    assert.equal("'milestones' appears in:\n  ms.schedule.multistep{lr, milestones, gamma}\n" ..
                 "  ms.schedule.sequence{s1, s2, …, milestones}\n", ms.help.text("milestones"))
  end)
end)

-- The README's tables quote signatures and defaults: they must be the
-- reference's (objectives, schedules) and the engine's (rules).
describe("README's API tables", function()
  local readme = slurp("README.md")
  local function table_of(heading)
    local part = readme:match("\n### " .. heading .. "\n(.-)\n#")
    local rows = {}
    for cell in part:gmatch("\n| (`[^|]-) |") do rows[#rows + 1] = cell end
    assert.is_true(#rows > 0, heading)
    return rows
  end

  -- `ms.a.b{key = value, ...}` -> name, {key = value} for literal values
  local function parse(code, prefix)
    local name, args = code:match("^([%w_.]+)(.*)$")
    if name:sub(1, 1) == "." then name = prefix .. name:sub(2) end
    if not name:match("^ms%.") then name = prefix .. name end
    local given = {}
    for key, value in (args:match("^[{(](.*)[})]$") or ""):gmatch("([%w_]+) = ([^,{}]+)") do
      value = value:gsub("%s+$", "")
      -- literals only: 2, 1e-3, π/6, 1/3, true, "zero" (not `dim = n`, `f = function ...`)
      if value:match("^[-%d.eπ/]+$") or value:match('^".*"$') or value == "true" or value == "false" then
        given[key] = value
      end
    end
    return name, given
  end

  local function check(heading, prefix)
    local checked = 0
    for _, cell in ipairs(table_of(heading)) do
      for code in cell:gmatch("`([^`]+)`") do
        if not code:match("%*$") then   -- the header's ms.schedule.*
          local name, given = parse(code, prefix)
          assert.is_truthy(sections[name], name)
          local documented = defaults(name)
          for key, value in pairs(given) do
            assert.equal(documented[key], value, name .. " " .. key)
            checked = checked + 1
          end
        end
      end
    end
    return checked
  end

  it("quote the objectives and schedules as docs/api.md does", function()
    assert.equal(7, check("Objectives", "ms.objective."))   -- the defaults the README quotes
    assert.equal(12, check("Schedules", "ms.schedule."))
  end)

  it("quote every rule of the registry with its defaults", function()
    local classes, seen = {}, {}
    for _, c in ipairs(native.rule_classes()) do classes["ms." .. c.name] = c end
    for _, cell in ipairs(table_of("Update rules")) do
      local name, given = parse(cell:match("`([^`]+)`"), "ms.")
      local c = assert(classes[name], name)
      seen[name] = true
      assert.is_truthy(sections[name], name)
      for key, value in pairs(given) do
        local h
        for _, hyper in ipairs(c.hyper) do if hyper.name == key then h = hyper end end
        assert.is_truthy(h, name .. " has no " .. key)
        local want = h.flag and (h.def ~= 0 and "true" or "false") or h.def
        assert.equal(want, h.flag and value or tonumber(value), name .. " " .. key)
      end
    end
    for name in pairs(classes) do assert.is_true(seen[name], name .. " is not in the README") end
  end)
end)
