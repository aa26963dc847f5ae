-- ms.explore's page in a real browser: headless Chromium (Debian's
-- chromium), driven through chromedriver's WebDriver protocol over HTTP.
-- Keys pressed on a slider move it through the page's own input events;
-- once the page has redrawn, the trajectory it drew (the polyline's pixel
-- coordinates) must be the engine's trace for the slider's values, mapped
-- to the plot as the page maps them.  Clicking the plot sets x0.  Skipped
-- only where chromium or chromedriver is not installed (setup.sh installs
-- both).
local ms = require "momsandbox"
local h = require "spec.helpers"
local x = require "spec.explore_helpers"
local cjson = require "cjson"

local ELEMENT = "element-6066-11e4-a52e-4f735466cecf"   -- WebDriver's element key

--- The program's path, or nil.
local function which(name)
  local status, out = h.run("command -v " .. name)
  return status == 0 and out:match("[^\n]+") or nil
end

--- A WebDriver command: the value of its answer.
local function wd(base, method, path, body)
  if type(body) == "table" then body = cjson.encode(body) end
  local status, text = x.request(base, method, path, body)
  local answer = cjson.decode(text)
  assert(status == 200, ("%s %s: %s %s"):format(method, path, tostring(status), text))
  return answer.value
end

local f, rule_a = load(x.SETUP)(ms)

--- The points of an SVG polyline's points attribute.
local function points(attr)
  local t = {}
  for px, py in attr:gmatch("([^ ,]+),([^ ,]+)") do t[#t + 1] = {tonumber(px), tonumber(py)} end
  return t
end

--- The page's pixel of (u, v): its frame's map (M.l + (u - x0) / (x1 - x0)
-- * W, and for y from the bottom), in the same operations.
local function pixel(frame, window, u, v)
  local l, t, W, H = frame[1], frame[2], frame[3], frame[4]
  return l + (u - window[1]) / (window[2] - window[1]) * W,
         t + H - (v - window[3]) / (window[4] - window[3]) * H
end

local function numbers(s)
  local t = {}
  for w in s:gmatch("%S+") do t[#t + 1] = tonumber(w) end
  return t
end

describe("ms.explore's page in headless Chromium", function()
  if not (which("chromium") and which("chromedriver")) then
    it("needs chromium and chromedriver", function()
      pending("chromium or chromedriver is not installed (Debian: chromium chromium-driver; " ..
              "setup.sh installs them)")
    end)
    return
  end

  local dir, pid, url, driver, base, session
  setup(function()
    dir = h.tmpdir()
    pid, url = x.start(dir, [[
      ms.explore{objective = f, rule = a, x0 = {-5, -2}, steps = 40, open = false}]])
    local port = x.free_port()
    -- (without the sanitizer's runtime, which the LuaJIT suite preloads
    -- into everything it starts under AddressSanitizer)
    local p = io.popen(("cd %s && { env -u LD_PRELOAD -u ASAN_OPTIONS chromedriver --port=%d " ..
                        ">driver.log 2>&1 & echo $!; }"):format(
                       h.shquote(dir), port))
    driver = p:read("*l")
    p:close()
    base = ("http://127.0.0.1:%d/"):format(port)
    for _ = 1, 500 do
      local ok, status = pcall(x.request, base, "GET", "status")
      if ok and status == 200 then break end
      x.sleep(0.02)
    end
    session = wd(base, "POST", "session", {capabilities = {alwaysMatch = {
      ["goog:chromeOptions"] = {binary = which("chromium"),
                                args = {"--headless=new", "--no-sandbox", "--disable-gpu",
                                        "--disable-dev-shm-usage", "--window-size=1400,1000"}}}}})
      .sessionId
  end)

  teardown(function()
    if session then pcall(wd, base, "DELETE", "session/" .. session) end
    if driver then h.run("kill " .. driver) end
    if url then pcall(x.request, url, "POST", "close", "") end
    if pid then x.wait_gone(pid) end
    x.stop_all(driver)
    h.rmtree(dir)
  end)

  local function js(script)
    return wd(base, "POST", "session/" .. session .. "/execute/sync",
              '{"args": [], "script": ' .. cjson.encode(script) .. '}')
  end

  --- Wait until the page has drawn more than `after` times and asks nothing:
  -- what it shows then.
  local function drawn(after)
    for _ = 1, 1000 do
      local s = js([[
        const b = document.body.dataset, svg = document.getElementById("contour");
        const line = document.getElementById("traj-a");
        if (!b.rendered || b.pending || !line) return null;
        return {rendered: +b.rendered, points: line.getAttribute("points"),
                window: svg.dataset.window, frame: svg.dataset.frame,
                lr: document.getElementById("value-a-lr").dataset.value,
                beta: document.getElementById("value-a-beta").dataset.value,
                x0: b.x0, status: document.getElementById("status").textContent}]])
      if s ~= cjson.null and s.rendered > after then return s end
      x.sleep(0.02)
    end
    error("the page did not redraw")
  end

  --- The trajectory drawn is the engine's for the values and x0 shown.
  local function check(s, x0)
    assert.equal("", s.status)
    local r = rule_a:clone()
    r.lr, r.beta = tonumber(s.lr), tonumber(s.beta)
    local tr = ms.trace(f, r, {x0 = x0, steps = 40})
    local drawn_points = points(s.points)
    assert.equal(#tr, #drawn_points)
    local window, frame = numbers(s.window), numbers(s.frame)
    for i = 1, #tr do
      local p = tr[i]
      local px, py = pixel(frame, window, p[1], p[2])
      -- the same operations on the same doubles: the same pixel, to the bit
      assert.equal(px, drawn_points[i][1], "x of point " .. i)
      assert.equal(py, drawn_points[i][2], "y of point " .. i)
    end
    return tr
  end

  it("redraws the engine's trajectory when a slider moves", function()
    wd(base, "POST", "session/" .. session .. "/url", {url = url})
    local first = drawn(0)
    assert.equal("0.4", first.lr)
    check(first, {-5, -2})
    local slider = wd(base, "POST", "session/" .. session .. "/element",
                      {using = "css selector", value = "#slider-a-lr"})[ELEMENT]
    -- ArrowRight three times: the range input's own keyboard handling
    wd(base, "POST", ("session/%s/element/%s/value"):format(session, slider),
       {text = ("\238\128\148"):rep(3)})   -- U+E014, WebDriver's ArrowRight
    local s = drawn(first.rendered)
    for _ = 1, 50 do   -- until the last key's redraw
      local again = js("return document.body.dataset.pending ? null : " ..
                       "document.getElementById('value-a-lr').dataset.value")
      if again == s.lr then break end
      s = drawn(s.rendered)
    end
    assert.are_not.equal("0.4", s.lr)
    assert.is_true(tonumber(s.lr) > 0.4)
    assert.equal("0.5", s.beta)
    check(s, {-5, -2})
  end)

  it("starts from the point clicked on the plot", function()
    local before = drawn(0)
    local plot = wd(base, "POST", "session/" .. session .. "/element",
                    {using = "css selector", value = "#contour"})[ELEMENT]
    -- a click 60 px right of and 40 px above the plot's centre
    wd(base, "POST", "session/" .. session .. "/actions", {actions = {{
      type = "pointer", id = "mouse", parameters = {pointerType = "mouse"}, actions = {
        {type = "pointerMove", origin = {[ELEMENT] = plot}, x = 60, y = -40},
        {type = "pointerDown", button = 0}, {type = "pointerUp", button = 0}}}}})
    local s = drawn(before.rendered)
    local start = points(s.points)[1]
    local tr = check(s, numbers(s.x0))
    assert.are_not.same({-5, -2}, {tr[1][1], tr[1][2]})
    -- the start is where the click was (the svg is 480 x 400)
    assert.is_true(math.abs(start[1] - (240 + 60)) < 1.5, tostring(start[1]))
    assert.is_true(math.abs(start[2] - (200 - 40)) < 1.5, tostring(start[2]))
  end)
end)
