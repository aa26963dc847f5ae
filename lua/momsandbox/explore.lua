--- momsandbox.explore: ms.explore{objective =, rule =, x0 =, steps =, ...},
-- Distill's "Why Momentum Really Works" figure for any rule on any
-- objective: a page on 127.0.0.1 with a slider for each hyper-parameter of
-- the rule, the trajectory over the contours, the loss, and for quadratics
-- the error along the Hessian's eigenvectors and the spectral radius map.
-- Every redraw is an ms.trace of the user's own objects, run here, on the
-- thread that called ms.explore: the page (explore.html) only asks.  The
-- server is the engine's (server_* in primitives.lua), pulled from here.
local native = require "momsandbox.native"
local check = require "momsandbox.check"
local rule = require "momsandbox.rule"
local trace = require "momsandbox.trace"
local json = require "momsandbox.json"
local analysis = require "momsandbox.analysis"

local F = "explore"
local MAX_BODY = 65536       -- a request's body: a few numbers
local MAX_STEPS = 100000
local GRID = 60              -- contour grid: GRID x GRID values of f
local MAP = 48               -- spectral radius map: MAP x MAP settings
local known = {"axes", "compare", "file", "grid", "map", "objective", "open", "ranges", "rule",
               "serve", "steps", "window", "x0"}

---------------------------------------------------------------- the setup

--- The sliders of rule r: one per hyper-parameter that holds a number or a
-- flag (a scheduled one keeps its schedule), with the rule's own range and
-- its value; rates (lr, and any whose name ends in lr or rate) and other
-- positive values without an upper bound on a log scale.  ranges[name] =
-- {lo, hi} replaces the range.
local function sliders(r, ranges, fname)
  local d = native.rule_op(r, "info")
  local list = {}
  for _, h in ipairs(d.class.hyper) do
    local v = d.values[h.name]
    local s = {name = h.name, value = v}
    if type(v) == "boolean" then
      s.flag = true
    elseif type(v) == "number" then
      local lo, hi = h.lo, h.hi
      local rate = h.name:match("lr$") or h.name:match("rate$") or h.name == "eta"
      s.log = (rate or (lo >= 0 and hi == math.huge)) and v > 0
      if s.log then
        lo, hi = math.max(lo, v / 100), math.min(hi, v * 100)
      elseif lo == -math.huge or hi == math.huge then
        local w = math.max(math.abs(v), 1)
        lo, hi = math.max(lo, v - 10 * w), math.min(hi, v + 10 * w)
      end
      -- an open bound is not a value: the slider stops a thousandth short
      if h.lo_open and lo == h.lo then lo = lo + (hi - lo) / 1000 end
      if h.hi_open and hi == h.hi then hi = hi - (hi - lo) / 1000 end
      local given = ranges and rawget(ranges, h.name)
      if given ~= nil then
        if type(given) ~= "table" or type(rawget(given, 1)) ~= "number" or
           type(rawget(given, 2)) ~= "number" or not (given[1] < given[2]) then
          check.argerror(1, fname, ("ranges.%s must be {lo, hi} with lo < hi"):format(h.name))
        end
        lo, hi = given[1], given[2]
        s.log = s.log and lo > 0
      end
      s.lo, s.hi = lo, hi
    end
    if s.flag or s.lo then list[#list + 1] = s end
  end
  return list
end

--- A rule option: its label, name and sliders.
local function describe_rule(r, ranges, fname)
  return {label = tostring(r), name = r.name, params = sliders(r, ranges, fname)}
end

--- The numbers of table t (n of them when n is given), as a plain table.
local function numbers(t, n, fname, what)
  local v = check.vector(t, 1, fname, what)
  local copy = {}
  for i = 1, #v do copy[i] = v[i] end
  if n and #copy ~= n then
    check.argerror(1, fname, ("%s must have %d entries, got %d"):format(what, n, #copy))
  end
  return copy
end

--- The Hessian's eigenvalues and the minimiser of a quadratic objective
-- (one that has one), or nil.
local function quadratic(f)
  if native.analysis("parts", f) == false then return nil end
  local ok, values = pcall(analysis.eigen, f)
  if not ok then return nil end
  local okm, xstar = pcall(analysis.minimize, f)
  if not okm then return nil end
  local q = {values = {}, xstar = {}}
  for i = 1, #values do q.values[i] = values[i] end
  for i = 1, #xstar do q.xstar[i] = xstar[i] end
  return q
end

--- The plot window of axes {i, j}: the option, the objective's own (2-D),
-- or a box around x0 and the minimiser (or the origin).
local function window(s)
  if s.window then return s.window end
  local w = s.objective.window
  if w and s.dim == 2 and s.axes[1] == 1 and s.axes[2] == 2 then return w end
  -- centred on the minimiser: momentum swings as far past it as x0 is
  local c = s.center
  local box = {}
  for k, a in ipairs(s.axes) do
    local half = math.max(1.25 * math.abs(s.x0[a] - c[a]), 0.5)
    box[2 * k - 1], box[2 * k] = c[a] - half, c[a] + half
  end
  return box
end

--- f over a GRID x GRID grid of the window in the plane of the axes
-- through the centre (rows along the second axis).
local function contours(s)
  local w = window(s)
  local x = {}
  for i = 1, s.dim do x[i] = s.center[i] end
  local values = {}
  for r = 0, GRID - 1 do
    x[s.axes[2]] = w[3] + (w[4] - w[3]) * r / (GRID - 1)
    for c = 0, GRID - 1 do
      x[s.axes[1]] = w[1] + (w[2] - w[1]) * c / (GRID - 1)
      local ok, v = pcall(s.objective.value, s.objective, x)
      values[#values + 1] = ok and v or 0 / 0
    end
  end
  return {window = w, n = GRID, values = values, axes = s.axes}
end

--- The rate ms.analysis.rate predicts for rule r on the quadratic f (the
-- largest spectral radius of r's iteration matrix over the eigenvalues of
-- f's Hessian), or nil for a rule that is not linear on it.
local function predicted(s, r)
  if not s.quadratic then return nil end
  local ok, rho = pcall(analysis.rate, r, s.objective)
  if ok and rho == rho then return rho end
  return nil
end

--- The slider's values across a map's side: n of them, on its scale.
local function side(p, n)
  local t = {}
  for k = 0, n - 1 do
    t[k + 1] = p.log and math.exp(math.log(p.lo) + (math.log(p.hi) - math.log(p.lo)) * k / (n - 1))
               or p.lo + (p.hi - p.lo) * k / (n - 1)
  end
  return t
end

--- The region map (ms.analysis.region) of the first rule over two of its
-- hyper-parameters (option map = {x, y}: names of its sliders; the first
-- two by default), the others as set, across the sliders' ranges, when the
-- objective is quadratic and the rule linear on it.
local function radius_map(s)
  if not predicted(s, s.rule) then return nil end
  local px, py
  for _, p in ipairs(s.a.params) do
    if not p.flag then
      if s.map and p.name == s.map[1] or not s.map and not px then px = p
      elseif s.map and p.name == s.map[2] or not s.map and not py then py = p end
    end
  end
  if not (px and py) then return nil end
  local ok, reg = pcall(analysis.region, {rule = s.rule, x = px.name, y = py.name, f = s.objective,
                                          grid = {[px.name] = side(px, MAP), [py.name] = side(py, MAP)}})
  if not ok then return nil end
  return {n = MAP, x = px, y = py, values = reg:column("radius")}   -- rows along y
end

--- What the page needs besides runs: the rules' sliders, the problem, the
-- contours, the theory's panes.
local function config(s)
  local q = s.quadratic
  return {
    a = s.a, b = s.b or json.null, x0 = s.x0, steps = s.steps, dim = s.dim,
    objective = s.objective.label, contours = contours(s),
    eigenvalues = q and q.values or json.null,
    fstar = q and s.objective:value(q.xstar) or json.null,
    map = radius_map(s) or json.null,
  }
end

------------------------------------------------------------------ the runs

--- A copy of rule r with the values of the table v (the page's sliders),
-- each checked as rule.name = value is.
local function with_values(r, v)
  local copy = r:clone()
  if v == nil then return copy end
  if type(v) ~= "table" then check.fail("the values must be an object") end
  for name, x in pairs(v) do
    if type(name) ~= "string" or (type(x) ~= "number" and type(x) ~= "boolean") then
      check.fail("values must be numbers or booleans")
    end
    local ok, err = pcall(function() copy[name] = x end)
    -- the check's own words, without the call it was made for
    if not ok then check.fail(tostring(err):match("%((.*)%)$") or tostring(err)) end
  end
  return copy
end

--- One run for the page: the trace of f with r from x0, its two plotted
-- coordinates and losses, and for quadratics the error along each
-- eigenvector (Distill's decomposition) and the rates.
local function run(s, r, values, x0, steps, axes)
  local copy = with_values(r, values)
  local tr = trace(s.objective, copy, {x0 = x0, steps = steps})
  local out = {label = tostring(copy), step = {}, f = {}, x = {}, y = {},
               diverged = tr.diverged or false, reason = tr.reason or json.null}
  for i = 1, #tr do
    local step, f, x = native.trace_get(tr, i)
    out.step[i], out.f[i] = step, f
    out.x[i], out.y[i] = x[axes[1]], x[axes[2]]
  end
  if s.quadratic then
    -- Distill's eigen view: the error along each eigenvector of the Hessian
    local c = tr:components()
    out.components = {}
    for k = 1, #c do out.components[k] = c[k].error end
    -- measured: the rate over the second half of the run, |e_T| = rate^(T/2) |e_T/2|
    -- (the eigenvectors are orthonormal: |e|^2 is the sum of the components')
    local function dist(i)
      local sum = 0
      for k = 1, #c do sum = sum + c[k].error[i] ^ 2 end
      return math.sqrt(sum)
    end
    local mid, last = math.floor(#tr / 2) + 1, #tr
    if c.steps[last] > c.steps[mid] and dist(mid) > 0 then
      out.measured = (dist(last) / dist(mid)) ^ (1 / (c.steps[last] - c.steps[mid]))
      out.measured_steps = {c.steps[mid], c.steps[last]}   -- short runs are still transient
    end
    out.predicted = predicted(s, copy)
  end
  native.close(tr)
  return out
end

--- The axes a request asks for: two different coordinates of x.
local function request_axes(s, a)
  local function coordinate(i) return check.is_integer(i) and i >= 1 and i <= s.dim end
  if type(a) ~= "table" or not (coordinate(a[1]) and coordinate(a[2])) or a[1] == a[2] or a[3] ~= nil then
    check.fail("axes must be two different coordinates")
  end
  return {a[1], a[2]}
end

--- The request "trace": {a = values, b = values, x0 = [...], steps = n,
-- axes = [i, j]} -> {a = run, b = run}.
local function compute(s, body)
  local req, why = json.decode(body)
  if type(req) ~= "table" or req[1] ~= nil then
    check.fail("bad JSON: " .. tostring(why or "not an object"))
  end
  local x0, steps, axes = s.x0, s.steps, s.axes
  if req.x0 ~= nil then
    if type(req.x0) ~= "table" or #req.x0 ~= s.dim then check.fail("x0 must have " .. s.dim .. " numbers") end
    for i = 1, s.dim do
      if type(req.x0[i]) ~= "number" then check.fail("x0 must have " .. s.dim .. " numbers") end
    end
    x0 = req.x0
  end
  if req.steps ~= nil then
    if not check.is_integer(req.steps) or req.steps < 1 or req.steps > MAX_STEPS then
      check.fail("steps must be an integer in [1, " .. MAX_STEPS .. "]")
    end
    steps = req.steps
  end
  if req.axes ~= nil then axes = request_axes(s, req.axes) end
  local res = {a = run(s, s.rule, req.a, x0, steps, axes)}
  if s.compare then res.b = run(s, s.compare, req.b, x0, steps, axes) end
  return res
end

--- The answer to one request: status, content type, body, and whether
-- the server stops after it.
local function answer(s, method, path, body)
  if method == "GET" and path == "/" then
    return 200, "text/html; charset=utf-8", s.page
  elseif method == "GET" and path == "/config" then
    return 200, "application/json", json.encode(config(s))
  elseif method == "POST" and path == "/trace" then
    return 200, "application/json", json.encode(compute(s, body))
  elseif method == "POST" and path == "/contours" then
    local req = json.decode(body)
    local saved = s.axes
    s.axes = request_axes(s, type(req) == "table" and req.axes)
    local ok, c = pcall(contours, s)
    s.axes = saved
    if not ok then error(c, 0) end
    return 200, "application/json", json.encode(c)
  elseif method == "POST" and path == "/close" then
    return 200, "application/json", '{"closed":true}', true
  end
  return 404, "text/plain; charset=utf-8", "not found\n"
end

--- Ctrl-C raised inside a run (the interpreter's "interrupted!").
local function interrupted(err)
  return type(err) == "string" and err:find("interrupted!?$") ~= nil
end

--- Serve until the page closes it or Ctrl-C.
local function loop(s, srv)
  while true do
    local id, method, path, body = native.server_next(srv, -1)
    if id == nil then check.fail(method) end
    if id then
      local ok, status, ctype, text, stop = pcall(answer, s, method, path, body)
      if not ok then
        if interrupted(status) then error(status, 0) end
        -- a Failure of the checks here, or the error of a run (the
        -- engine's refusal, the user's rule): the page shows it
        local msg = type(status) == "table" and rawget(status, "msg") or tostring(status)
        status, ctype = 400, "application/json"
        text = json.encode({error = msg})
      end
      native.server_reply(srv, id, status, ctype, text)
      if stop then return end
    end
  end
end

--- The words of one $BROWSER entry: split at blanks, except inside '...'
-- or "..." (a program in a folder whose name has a space), quotes removed;
-- every %s in a word is url.
local function browser_words(entry, url)
  local argv, word, quote, has_url = {}, nil, nil, false
  local function finish()
    if word == nil then return end
    local replaced, n = word:gsub("%%s", function() return url end)
    argv[#argv + 1], has_url, word = replaced, has_url or n > 0, nil
  end
  for c in entry:gmatch(".") do
    if quote then
      if c == quote then quote = nil else word = word .. c end
    elseif c == "'" or c == '"' then
      quote, word = c, word or ""
    elseif c:match("%s") then
      finish()
    else
      word = (word or "") .. c
    end
  end
  finish()
  if argv[1] and not has_url then argv[#argv + 1] = url end
  return argv
end

--- Open url with the browser $BROWSER names, if any: the first of its
-- colon-separated entries that starts, given the address as its last
-- argument (or in place of %s), started without a shell and not waited
-- for.  A browser that cannot start is said, not raised: the address is
-- printed.
local function open_browser(url)
  local failures = {}
  for entry in ((os.getenv("BROWSER") or "") .. ":"):gmatch("([^:]*):") do
    local argv = browser_words(entry, url)
    if argv[1] then
      local ok, msg = native.sys("start", argv)
      if ok then return end
      failures[#failures + 1] = msg
    end
  end
  if failures[1] then
    io.stderr:write("ms.explore: cannot open the page: ", table.concat(failures, "; "), "\n")
  end
end

local function serve(s)
  local srv, port, token = native.server_new(MAX_BODY)
  if srv == nil then check.fail(port) end
  local url = ("http://127.0.0.1:%d/%s/"):format(port, token)
  local ok, err = pcall(function()
    io.write(("ms.explore: %s (Ctrl-C or the page's close button stops it)\n"):format(url))
    io.flush()
    if s.open then open_browser(url) end
    loop(s, srv)
  end)
  native.close(srv)
  if not ok then error(err, 0) end
  return url
end

-------------------------------------------------------- the standalone page

--- The page with its data: the config, and the runs for a grid of slider
-- values (grid values per real slider, the flags as set), keyed by the
-- values' indices.
local function standalone(s, n)
  local data = {config = config(s), runs = {}, grid = {}}
  local params = {}
  for _, p in ipairs(s.a.params) do
    if not p.flag then
      local g = {}
      for k = 0, n - 1 do
        local t = k / (n - 1)
        g[k + 1] = p.log and math.exp(math.log(p.lo) + (math.log(p.hi) - math.log(p.lo)) * t)
                   or p.lo + (p.hi - p.lo) * t
      end
      -- the rule's own value is one of them, exactly
      local near = 1
      for k = 2, n do if math.abs(g[k] - p.value) < math.abs(g[near] - p.value) then near = k end end
      g[near] = p.value
      data.grid[p.name] = g
      params[#params + 1] = p.name
    end
  end
  local count = n ^ #params
  if count > 4096 then
    check.argerror(1, F, ("grid: %d runs for %d sliders; give fewer values (grid = n)"):format(
                   count, #params))
  end
  for index = 0, count - 1 do
    local values, key, rest = {}, {}, index
    for i, name in ipairs(params) do
      local k = rest % n
      rest = (rest - k) / n
      values[name], key[i] = data.grid[name][k + 1], ("%d"):format(k)
    end
    local ok, res = pcall(run, s, s.rule, values, s.x0, s.steps, s.axes)
    if not ok and interrupted(res) then error(res, 0) end
    data.runs[table.concat(key, ",")] = ok and res or {error = tostring(res)}
  end
  data.params = params
  local text = json.encode(data):gsub("</", "<\\/")
  local page = s.page:gsub("/%*MS_DATA%*/null", function() return text end)
  return page
end

------------------------------------------------------------------ options

local function explore(opts)
  check.options(opts, 1, F, known)
  local f, r, b = rawget(opts, "objective"), rawget(opts, "rule"), rawget(opts, "compare")
  if native.kind(f) ~= "objective" then
    check.argerror(1, F, "option 'objective' must be a momsandbox.objective, got " .. check.typename(f))
  end
  if not rule.is(r) then
    check.argerror(1, F, "option 'rule' must be a momsandbox.rule, got " .. check.typename(r))
  end
  if b ~= nil and not rule.is(b) then
    check.argerror(1, F, "option 'compare' must be a momsandbox.rule, got " .. check.typename(b))
  end
  local dim = f.dim
  if dim < 2 then check.argerror(1, F, "the objective must have at least 2 coordinates") end
  if rawget(opts, "x0") == nil then check.argerror(1, F, "option 'x0' (the starting point) is required") end
  local s = {objective = f, rule = r, compare = b, dim = dim,
             x0 = numbers(rawget(opts, "x0"), dim, F, "x0")}
  s.steps = check.optint(opts, 1, F, "steps", 100)
  if s.steps < 1 or s.steps > MAX_STEPS then
    check.argerror(1, F, ("option 'steps' must be in [1, %d], got %d"):format(MAX_STEPS, s.steps))
  end
  local axes = rawget(opts, "axes")
  s.axes = axes == nil and {1, 2} or numbers(axes, 2, F, "axes")
  for _, a in ipairs(s.axes) do
    if not check.is_integer(a) or a < 1 or a > dim then
      check.argerror(1, F, ("axes must be two coordinates in [1, %d]"):format(dim))
    end
  end
  if s.axes[1] == s.axes[2] then check.argerror(1, F, "axes must be two different coordinates") end
  if rawget(opts, "window") ~= nil then
    s.window = numbers(rawget(opts, "window"), 4, F, "window")
    if not (s.window[1] < s.window[2] and s.window[3] < s.window[4]) then
      check.argerror(1, F, "window must be {xmin, xmax, ymin, ymax} with xmin < xmax, ymin < ymax")
    end
  end
  local ranges = rawget(opts, "ranges")
  if ranges ~= nil then check.table(ranges, 1, F) end
  s.open = check.optbool(opts, 1, F, "open", true)
  local serve_it = check.optbool(opts, 1, F, "serve", true)
  local file = rawget(opts, "file")
  if file ~= nil then file = check.path(file, 1, F) end
  local n = check.optint(opts, 1, F, "grid", 9)
  if n < 2 or n > 64 then check.argerror(1, F, "option 'grid' must be in [2, 64]") end
  s.quadratic = quadratic(f)
  s.center = s.quadratic and s.quadratic.xstar or (f.minimizer and numbers(f.minimizer, dim, F,
             "minimizer")) or {}
  for i = 1, dim do s.center[i] = s.center[i] or 0 end
  local map = rawget(opts, "map")
  if map ~= nil then
    if type(map) ~= "table" or type(rawget(map, 1)) ~= "string" or type(rawget(map, 2)) ~= "string" or
       map[1] == map[2] then
      check.argerror(1, F, "map must name two hyper-parameters of the rule: {x, y}")
    end
    s.map = {map[1], map[2]}
  end
  s.a = describe_rule(r, ranges, F)
  if s.map then
    local found = {}
    for _, p in ipairs(s.a.params) do if not p.flag then found[p.name] = true end end
    for _, name in ipairs(s.map) do
      if not found[name] then
        check.argerror(1, F, ("map: the rule has no slider '%s'"):format(name))
      end
    end
  end
  s.b = b and describe_rule(b, ranges, F)
  s.page = require "momsandbox.explore_html"
  if file then
    check.ok(native.sys("write", file, standalone(s, n)))
  end
  if serve_it then return serve(s) end
  return file
end

return check.protect(explore)
