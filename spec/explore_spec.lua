-- ms.explore: the page's server, run by the interpreter under test in a
-- process of its own, asked over HTTP (luasocket) as the page asks.  Every
-- run it returns is ms.trace's, bit for bit, for a rule written in Lua and
-- a built-in one; what is not the page's is refused and never stops it;
-- the page's close and Ctrl-C stop it with its port closed.
local ms = require "momsandbox"
local h = require "spec.helpers"
local ex = require "spec.explore_helpers"
local cjson = require "cjson"

local f, rule_a, rule_b = load(ex.SETUP)(ms)
local start, alive, wait_gone, exchange, request = ex.start, ex.alive, ex.wait_gone, ex.exchange, ex.request
local port_closed = ex.port_closed

-- whatever fails, no server outlives the spec
teardown(function() ex.stop_all() end)

--- ms.trace of rule r with the values of the table v.
local function expected(r, v, x0, steps)
  local copy = r:clone()
  for name, x in pairs(v) do copy[name] = x end
  return ms.trace(f, copy, {x0 = x0, steps = steps})
end

local function same_run(run, tr)
  assert.equal(#tr, #run.x)
  local x, y, fv = {}, {}, {}
  for i = 1, #tr do
    local p = tr:point(i)
    x[i], y[i], fv[i] = p[1], p[2], tr:value(i)
  end
  assert.is_true(h.same_bits(x, run.x), "x")
  assert.is_true(h.same_bits(y, run.y), "y")
  assert.is_true(h.same_bits(fv, run.f), "f")
  assert.equal(tostring(tr.rule), run.label)
end

describe("ms.explore's server", function()
  local dir, pid, url
  setup(function()
    dir = h.tmpdir()
    pid, url = start(dir, [[
      ms.explore{objective = f, rule = a, compare = b, x0 = {-5, -2}, steps = 40, open = false}
      io.open("done", "w"):close()]])
  end)
  teardown(function()
    if alive(pid) then h.run("kill -KILL " .. pid) end
    h.rmtree(dir)
  end)

  it("serves the page and its setup", function()
    local status, body = request(url, "GET", "")
    assert.equal(200, status)
    assert.truthy(body:find("momsandbox explorer", 1, true))
    local cfg
    status, body = request(url, "GET", "config")
    assert.equal(200, status)
    cfg = cjson.decode(body)
    assert.equal("hb", cfg.a.name)
    assert.equal("momentum", cfg.b.name)
    assert.same({"lr", "beta"}, {cfg.a.params[1].name, cfg.a.params[2].name})
    assert.equal(0.4, cfg.a.params[1].value)
    assert.is_true(cfg.a.params[1].log)
    assert.same({-5, -2}, cfg.x0)
    assert.same({0.2, 4}, cfg.eigenvalues)
    assert.equal(60 * 60, #cfg.contours.values)
    -- the map of the rate the theory predicts, over the Lua rule's lr and beta
    local m = cfg.map
    assert.same({"lr", "beta", 48 * 48}, {m.x.name, m.y.name, #m.values})
    local r = rule_a:clone()
    for _, rc in ipairs{{0, 0}, {10, 20}, {47, 47}, {30, 5}} do
      local lo, hi = math.log(m.x.lo), math.log(m.x.hi)
      r.lr = math.exp(lo + (hi - lo) * rc[2] / 47)
      r.beta = m.y.lo + (m.y.hi - m.y.lo) * rc[1] / 47
      assert.equal(ms.analysis.rate(r, f), m.values[rc[1] * 48 + rc[2] + 1])
    end
  end)

  it("answers every slider setting with ms.trace's runs, bit for bit", function()
    local settings = {
      {a = {lr = 0.4, beta = 0.5}, b = {lr = 0.3, beta = 0.25}},
      {a = {lr = 0.123456789, beta = 0.9}, b = {lr = 0.05, beta = 0.99}, steps = 100},
      {a = {lr = 1e-3, beta = 0}, x0 = {3.25, -0.1}, steps = 7},
      {a = {lr = 0.61, beta = 0.5}, b = {lr = 0.6, beta = 0.5}, steps = 25},
    }
    for _, s in ipairs(settings) do
      local body = cjson.encode(s)
      local status, text = request(url, "POST", "trace", body)
      assert.equal(200, status, text)
      local res = cjson.decode(text)
      local x0, steps = s.x0 or {-5, -2}, s.steps or 40
      local tra = expected(rule_a, s.a, x0, steps)
      same_run(res.a, tra)
      -- Distill's eigen view, as tr:components() has it
      local comp = tra:components()
      for k = 1, #comp do assert.is_true(h.same_bits(comp[k].error, res.a.components[k])) end
      local ra = rule_a:clone()
      for name, v in pairs(s.a) do ra[name] = v end
      assert.equal(ms.analysis.rate(ra, f), res.a.predicted)
      -- measured over the second half of the run: f's minimiser is 0, so the
      -- error is x itself
      local half = math.floor((steps + 1) / 2)
      assert.same({half, steps}, res.a.measured_steps)
      local function norm(p) return math.sqrt(p[1] ^ 2 + p[2] ^ 2) end
      local want = (norm(tra:point(-1)) / norm(tra:point(half + 1))) ^ (1 / (steps - half))
      assert.is_true(math.abs(want - res.a.measured) <= 1e-12 * want, res.a.measured)
      same_run(res.b, expected(rule_b, s.b or {}, x0, steps))
    end
  end)

  it("refuses requests without the token, from another Host, and malformed ones", function()
    local port = tonumber(url:match(":(%d+)/"))
    assert.equal(403, (exchange(port, "GET / HTTP/1.1\r\nHost: 127.0.0.1:" .. port ..
                                      "\r\nConnection: close\r\n\r\n")))
    local token = url:match("/(%x+)/$")
    local wrong = (token:sub(1, 1) == "a" and "b" or "a") .. token:sub(2)
    assert.equal(403, (exchange(port, "GET /" .. wrong .. "/ HTTP/1.1\r\nHost: 127.0.0.1:" ..
                                      port .. "\r\nConnection: close\r\n\r\n")))
    assert.equal(403, (request(url, "GET", "", nil, "attacker.example:" .. port)))
    assert.equal(403, (request(url, "GET", "", nil, "127.0.0.1:1")))
    assert.equal(405, (request(url, "PUT", "trace", "{}")))
    assert.equal(413, (request(url, "POST", "trace", ("x"):rep(70000))))
    assert.equal(404, (request(url, "GET", "nothing")))
    local status, text = exchange(port, "\1\2 nonsense\r\n\r\n")
    assert.equal(400, status, text)
    for _, bad in ipairs{"{", "[1, 2]", '{"a": {"lr": "x"}}', '{"a": {"lr": -1}}',
                         '{"a": {"nu": 1}}', '{"x0": [1]}', '{"steps": 0}', '{"steps": 1.5}',
                         '{"axes": [1, 9]}', ('['):rep(100) .. (']'):rep(100)} do
      status, text = request(url, "POST", "trace", bad)
      assert.equal(400, status, bad)
      assert.is_string(cjson.decode(text).error, bad)
    end
    assert.matches("lr must be in", cjson.decode(select(2, request(url, "POST", "trace",
                                                  '{"a": {"lr": -1}}'))).error)
    -- and it still serves
    status = request(url, "POST", "trace", '{"a": {"lr": 0.2, "beta": 0.1}}')
    assert.equal(200, status)
  end)

  it("stops when the page closes it, its port closed", function()
    assert.equal(200, (request(url, "POST", "close", "")))
    assert.is_true(wait_gone(pid))
    assert.truthy(h.read(dir .. "/done"))
    assert.is_true(port_closed(url))
  end)
end)

describe("ms.explore in three dimensions", function()
  it("plots the pair of coordinates the page picks: runs and contours", function()
    local dir = h.tmpdir()
    local pid, url = start(dir, [[
      local g = ms.objective.quadratic{0.5, 2, 8}
      ms.explore{objective = g, rule = a, x0 = {1, -2, 3}, steps = 30, open = false}]])
    finally(function() ex.stop_all() h.rmtree(dir) end)
    local g = ms.objective.quadratic{0.5, 2, 8}
    local tr = ms.trace(g, rule_a:clone(), {x0 = {1, -2, 3}, steps = 30})
    local status, text = request(url, "POST", "trace", '{"axes": [3, 1]}')
    assert.equal(200, status, text)
    local run = cjson.decode(text).a
    for i = 1, #tr do
      local p = tr:point(i)
      assert.equal(p[3], run.x[i])
      assert.equal(p[1], run.y[i])
    end
    -- f in the plane of x2 and x3 through the minimiser 0: (2 x2^2 + 8 x3^2) / 2
    status, text = request(url, "POST", "contours", '{"axes": [2, 3]}')
    assert.equal(200, status, text)
    local c = cjson.decode(text)
    assert.same({2, 3}, c.axes)
    local w, n = c.window, c.n
    for r = 0, n - 1, 7 do
      for col = 0, n - 1, 5 do
        local x2 = w[1] + (w[2] - w[1]) * col / (n - 1)
        local x3 = w[3] + (w[4] - w[3]) * r / (n - 1)
        local want = (2 * x2 ^ 2 + 8 * x3 ^ 2) / 2
        assert.is_true(math.abs(c.values[r * n + col + 1] - want) <= 1e-12 * math.max(1, want))
      end
    end
    for _, bad in ipairs{'{"axes": [2, 2]}', '{"axes": [0, 1]}', '{"axes": [1, 4]}', '{"axes": [1, 2, 3]}',
                         '{"axes": [1.5, 2]}', '{"axes": "12"}'} do
      for _, path in ipairs{"trace", "contours"} do
        status, text = request(url, "POST", path, bad)
        assert.equal(400, status, path .. " " .. bad)
        assert.truthy(text:find("axes must be two different coordinates", 1, true), text)
      end
    end
    assert.equal(200, (request(url, "POST", "close", "")))
    assert.is_true(wait_gone(pid))
  end)
end)

describe("ms.explore after Ctrl-C", function()
  it("returns to the caller with the server gone", function()
    local dir = h.tmpdir()
    local pid, url = start(dir, [[
      local ok, err = pcall(ms.explore, {objective = f, rule = a, x0 = {1, 1}, open = false})
      print("returned", ok, err)
      io.stdout:flush()
      while not io.open("finish") do os.execute("sleep 0.05") end]])
    h.run("kill -INT " .. pid)
    local out
    for _ = 1, 500 do
      out = h.read(dir .. "/out")
      if out:find("returned", 1, true) then break end
      ex.sleep(0.02)
    end
    -- the process lives on, and nothing answers on the port
    assert.matches("returned\tfalse\t.*interrupted", out)
    assert.is_true(alive(pid))
    assert.is_true(port_closed(url))
    h.write(dir .. "/finish", "")
    assert.is_true(wait_gone(pid))
    h.rmtree(dir)
  end)
end)

describe("ms.explore with $BROWSER", function()
  it("opens the page there, without waiting for the browser", function()
    local dir = h.tmpdir()
    -- a browser that keeps running, as one does, after it wrote down what
    -- it was asked to open
    h.write(dir .. "/browser", "#!/bin/sh\necho \"$$ $1 $2\" >opened.tmp && mv opened.tmp opened\n" ..
            "exec sleep 30\n")
    os.execute("chmod +x " .. h.shquote(dir .. "/browser"))
    local pid, url = start(dir, [[
      ms.explore{objective = f, rule = a, x0 = {1, 1}}]],
      "BROWSER=" .. h.shquote(dir .. "/browser --new-window"))
    local opened
    for _ = 1, 500 do
      opened = h.read(dir .. "/opened")
      if opened then break end
      ex.sleep(0.02)
    end
    assert.truthy(opened, "the browser was not started")
    local browser, arg1, arg2 = opened:match("^(%d+) (%S+) (%S+)")
    assert.equal("--new-window", arg1)
    assert.equal(url, arg2)
    -- the server serves while the browser runs, and stops without it
    assert.equal(200, (request(url, "POST", "trace", "{}")))
    assert.equal(200, (request(url, "POST", "close", "")))
    assert.is_true(wait_gone(pid))
    assert.is_true(alive(browser))
    h.run("kill " .. browser)
    h.rmtree(dir)
  end)

  it("tries its entries in turn, with quoted words and %s", function()
    local dir = h.tmpdir()
    local program = dir .. "/my browser"   -- a space in its name
    h.write(program, "#!/bin/sh\necho \"$1 $2 $3\" >\"$(dirname \"$0\")/opened.tmp\" && " ..
            "mv \"$(dirname \"$0\")/opened.tmp\" \"$(dirname \"$0\")/opened\"\n")
    os.execute("chmod +x " .. h.shquote(program))
    local pid, url = start(dir, [[
      ms.explore{objective = f, rule = a, x0 = {1, 1}}]],
      "BROWSER=" .. h.shquote("no-such-browser-here:'" .. program .. "' --url=%s \"two words\""))
    local opened
    for _ = 1, 500 do
      opened = h.read(dir .. "/opened")
      if opened then break end
      ex.sleep(0.02)
    end
    assert.equal("--url=" .. url .. " two words \n", opened)
    assert.equal(200, (request(url, "POST", "close", "")))
    assert.is_true(wait_gone(pid))
    assert.equal("", h.read(dir .. "/err") or "")
    h.rmtree(dir)
  end)

  it("says so when the browser cannot start, and serves all the same", function()
    local dir = h.tmpdir()
    local pid, url = start(dir, [[
      ms.explore{objective = f, rule = a, x0 = {1, 1}}]], "BROWSER=no-such-browser-here")
    assert.equal(200, (request(url, "POST", "close", "")))
    assert.is_true(wait_gone(pid))
    assert.matches("ms.explore: cannot open the page: no%-such%-browser%-here: not found",
                   h.read(dir .. "/err"))
    h.rmtree(dir)
  end)
end)

describe("ms.explore's options", function()
  it("are checked before anything is served", function()
    local x0 = {1, 1}
    local cases = {
      {{objective = f, rule = rule_a, x0 = x0, bogus = 1}, "unknown option 'bogus'"},
      {{rule = rule_a, x0 = x0}, "option 'objective' must be a momsandbox.objective, got nil"},
      {{objective = f, rule = 1, x0 = x0}, "option 'rule' must be a momsandbox.rule, got number"},
      {{objective = f, rule = rule_a, x0 = x0, compare = {}}, "option 'compare' must be a momsandbox.rule"},
      {{objective = f, rule = rule_a}, "option 'x0' (the starting point) is required"},
      {{objective = f, rule = rule_a, x0 = {1, 2, 3}}, "x0 must have 2 entries, got 3"},
      {{objective = f, rule = rule_a, x0 = x0, steps = 0}, "option 'steps' must be in [1, 100000], got 0"},
      {{objective = f, rule = rule_a, x0 = x0, axes = {1, 1}}, "axes must be two different coordinates"},
      {{objective = f, rule = rule_a, x0 = x0, window = {1, 0, 0, 1}}, "window must be {xmin, xmax"},
      {{objective = f, rule = rule_a, x0 = x0, ranges = {lr = {1, 0}}}, "ranges.lr must be {lo, hi}"},
      {{objective = f, rule = rule_a, x0 = x0, open = 1}, "option 'open' must be a boolean"},
      {{objective = f, rule = rule_a, x0 = x0, grid = 1}, "option 'grid' must be in [2, 64]"},
      {{objective = f, rule = rule_a, x0 = x0, map = {"lr", "lr"}}, "map must name two hyper-parameters"},
      {{objective = f, rule = rule_a, x0 = x0, map = {"lr", "nu"}}, "map: the rule has no slider 'nu'"},
      {{objective = ms.objective.quadratic{1}, rule = rule_a, x0 = {1}}, "at least 2 coordinates"},
    }
    for _, c in ipairs(cases) do
      local err = h.error_of(ms.explore, c[1])
      assert.truthy(err:find("bad argument #1 to 'explore' (", 1, true), err)
      assert.truthy(err:find(c[2], 1, true), err)
    end
    assert.matches("table expected, got nil", h.error_of(ms.explore))
  end)
end)

describe("ms.explore's standalone page", function()
  it("holds ms.trace's runs for a grid of slider values", function()
    local dir = h.tmpdir()
    local path = dir .. "/explore.html"
    local r = ms.momentum{lr = 0.4, beta = 0.5}
    assert.equal(path, ms.explore{objective = f, rule = r, x0 = {-5, -2}, steps = 30, grid = 3,
                                  file = path, serve = false})
    local page = h.read(path)
    h.rmtree(dir)
    local data = cjson.decode(page:match("const MS_DATA = (.-);\n"))
    assert.same({"lr", "beta"}, data.params)
    assert.equal(9, (function() local n = 0 for _ in pairs(data.runs) do n = n + 1 end return n end)())
    for key, run in pairs(data.runs) do
      local i, j = key:match("^(%d+),(%d+)$")
      local v = {lr = data.grid.lr[i + 1], beta = data.grid.beta[j + 1]}
      same_run(run, expected(r, v, {-5, -2}, 30))
    end
    assert.falsy(page:find("/*MS_DATA*/", 1, true))
  end)
end)
