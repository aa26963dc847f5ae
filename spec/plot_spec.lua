-- ms.util's process services and ms.plot's figures through gnuplot.
-- Run from the repository root: busted --lua=build/momsandbox spec/plot_spec.lua
local ms = require "momsandbox"
local h = require "spec.helpers"
local util = ms.util

local PNG_SIGNATURE = "\137PNG\r\n\26\n"

-- The names in a folder, sorted, so a test can see that nothing was left.
local function listing(dir)
  local p = assert(io.popen("ls -A " .. h.shquote(dir)))
  local names = {}
  for name in p:lines() do names[#names + 1] = name end
  p:close()
  table.sort(names)
  return names
end

-- A path as a Lua pattern that matches it literally.
local function literally(s)
  return (s:gsub("%p", "%%%0"))
end

-- The interpreter running this spec (the momsandbox CLI, or a stock lua
-- with the module on its cpath), as a path that needs no PATH lookup.
local function interpreter()
  local bin = os.getenv("MOMSANDBOX_BIN") or arg[-1]
  return bin:find("/") and bin or assert(util.which(bin))
end

-- Run Lua code in a fresh interpreter whose PATH holds no programs at all;
-- returns what it printed on stdout and stderr together.
local function run_without_path(dir, code)
  local script = dir .. "/child.lua"
  h.write(script, code)
  local cmd = string.format("env PATH=/nonexistent LUA_CPATH=%s %s %s 2>&1",
                            h.shquote(package.cpath), h.shquote(interpreter()),
                            h.shquote(script))
  local p = assert(io.popen(cmd))
  local out = p:read("a")
  p:close()
  return out
end

local function quadratic_trace()
  local f = ms.objective.quadratic{0.2, 4}
  return f, ms.trace(f, ms.momentum{lr = 0.6, beta = 0.5}, {x0 = {-5, -2}, steps = 20})
end

describe("ms.util.run", function()
  it("writes its input to the program and returns what it printed", function()
    local ok, status, out, err = util.run({"cat"}, "hello\nworld\n")
    assert.is_true(ok)
    assert.equal(0, status)
    assert.equal("hello\nworld\n", out)
    assert.equal("", err)
  end)

  it("keeps stdout and stderr apart", function()
    local ok, _, out, err = util.run({"sh", "-c", "echo out; echo err >&2"})
    assert.is_true(ok)
    assert.equal("out\n", out)
    assert.equal("err\n", err)
  end)

  it("reports a non-zero exit status", function()
    local ok, status = util.run({"sh", "-c", "exit 3"})
    assert.is_false(ok)
    assert.equal(3, status)
  end)

  it("reports death by a signal as minus the signal number", function()
    local ok, status = util.run({"sh", "-c", "kill -9 $$"})
    assert.is_false(ok)
    assert.equal(-9, status)
  end)

  it("returns nil and a message for a program that does not exist", function()
    local ok, msg = util.run({"no-such-program-momsandbox"}, "input")
    assert.is_nil(ok)
    assert.equal("no-such-program-momsandbox: not found", msg)
  end)

  it("passes arguments literally, without a shell", function()
    local ok, _, out = util.run({"printf", "%s", "$(echo hi);*"})
    assert.is_true(ok)
    assert.equal("$(echo hi);*", out)
    ok, _, out = util.run({"printf", "%s|", "a b", "'q'", "\"d\"", "`x`", "$HOME"})
    assert.is_true(ok)
    assert.equal("a b|'q'|\"d\"|`x`|$HOME|", out)
  end)

  it("moves a megabyte through a pipe both ways", function()
    local big = string.rep("0123456789abcdef", 65536) .. "end"
    local ok, _, out = util.run({"cat"}, big)
    assert.is_true(ok)
    assert.equal(#big, #out)
    assert.is_true(out == big)
  end)

  it("does not deadlock when the program writes much before it reads", function()
    local big = string.rep("x", 2^20)
    local ok, _, out, err = util.run(
      {"sh", "-c", "head -c 2000000 /dev/zero >&2; cat"}, big)
    assert.is_true(ok)
    assert.equal(2000000, #err)
    assert.equal(#big, #out)
  end)

  it("survives a program that does not read its input", function()
    local ok, status = util.run({"true"}, string.rep("x", 2^20))
    assert.is_true(ok)
    assert.equal(0, status)
  end)

  it("rejects bad arguments", function()
    assert.has_error(function() util.run("cat") end)
    assert.error_matches(function() util.run({}) end, "program name")
    assert.error_matches(function() util.run({"cat", {}}) end, "argv%[2%] must be a string")
    assert.error_matches(function() util.run({"cat", "a\0b"}) end, "argv%[2%]")
    assert.has_error(function() util.run({"cat"}, {}) end)
  end)
end)

describe("ms.util", function()
  local dir
  setup(function() dir = h.tmpdir() end)
  teardown(function() h.rmtree(dir) end)

  it("which finds programs on PATH", function()
    local sh = util.which("sh")
    assert.is_string(sh)
    assert.truthy(sh:match("^/.*/sh$"))
    assert.is_nil(util.which("no-such-program-momsandbox"))
    assert.equal(sh, util.which(sh))
    assert.is_nil(util.which(dir))   -- a folder is no program
    assert.has_error(function() util.which("") end)
  end)

  it("isatty tells a pipe from a terminal", function()
    local code = "io.write(tostring(require('momsandbox').util.isatty(0)))"
    local script = dir .. "/isatty.lua"
    h.write(script, code)
    local ok, _, out = util.run({"env", "LUA_CPATH=" .. package.cpath, interpreter(), script}, "")
    assert.is_true(ok)
    assert.equal("false", out)
    assert.is_false(util.isatty(999))
    assert.has_error(function() util.isatty(-1) end)
    assert.has_error(function() util.isatty("x") end)
  end)

  it("csv writes RFC 4180: fields quoted where they must be, numbers exact", function()
    local path = dir .. "/runs.csv"
    assert.equal(path, util.csv(path, {{"run", "rate"}, {"gd, chapter", 0.1 + 0.2},
                                       {'say "hi"', 1 / 3}, {"two\nlines", 2}, {"plain", 1e-300}}))
    assert.equal('run,rate\n"gd, chapter",0.30000000000000004\n"say ""hi""",0.3333333333333333\n' ..
                 '"two\nlines",2\nplain,1e-300\n', h.read(path))
    assert.error_matches(function() util.csv(path, {{"a", true}}) end,
                         "bad argument #2 to 'csv' %(rows%[1%]%[2%] must be a number or a string, got boolean%)")
    assert.error_matches(function() util.csv(path, {"a,b"}) end,
                         "bad argument #2 to 'csv' %(rows%[1%] must be a table%)")
    assert.equal("plain", h.read(path):match("\n(plain)"))   -- a refused call left the file
  end)
end)

describe("ms.plot", function()
  local dir   -- a fresh folder for each test: what it holds is checked
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("finds gnuplot (the figure tests need it)", function()
    assert.is_true(ms.plot.available())
  end)

  describe("trace2d", function()
    it("draws d2l's trajectory figure as SVG", function()
      local f, tr = quadratic_trace()
      local file = dir .. "/momentum.svg"
      assert.equal(file, ms.plot.trace2d{f = f, traces = {tr}, file = file})
      local svg = h.read(file)
      assert.truthy(svg:find("<svg", 1, true))
      assert.truthy(svg:find("<text>x1</text>", 1, true))
      assert.truthy(svg:find("<text>x2</text>", 1, true))
      assert.truthy(svg:find("momentum{lr=0.6, beta=0.5}", 1, true))
      assert.truthy(select(2, svg:gsub("<path", "")) > 5)   -- contours, trace
      assert.same({"momentum.svg"}, listing(dir))
    end)

    it("takes the objective from the trace and labels from labels", function()
      local _, tr = quadratic_trace()
      local file = dir .. "/labelled.svg"
      ms.plot.trace2d{traces = {tr}, labels = {"heavy_ball^2"}, file = file}
      local svg = h.read(file)
      assert.truthy(svg:find("heavy_ball^2", 1, true))
      assert.falsy(svg:find("momentum{", 1, true))
    end)

    it("writes PNG", function()
      local f, tr = quadratic_trace()
      local file = dir .. "/momentum.png"
      ms.plot.trace2d{f = f, traces = {tr}, file = file, size = {320, 240}}
      assert.equal(PNG_SIGNATURE, h.read(file):sub(1, 8))
    end)

    it("writes a text plot to a .txt file", function()
      local f, tr = quadratic_trace()
      local file = dir .. "/momentum.txt"
      ms.plot.trace2d{f = f, traces = {tr}, file = file, title = "heavy ball"}
      local text = h.read(file)
      assert.truthy(text:find("heavy ball", 1, true))
      assert.falsy(text:find("\f", 1, true))
    end)

    it("prints a text plot when given no file, and returns nothing", function()
      local f, tr = quadratic_trace()
      local printed = {}
      local write = io.write
      io.write = function(...)   -- luacheck: ignore
        for _, s in ipairs{...} do printed[#printed + 1] = s end
      end
      local function pack(...) return {n = select("#", ...), ...} end
      local results = pack(pcall(ms.plot.trace2d, {f = f, traces = {tr}, title = "in the REPL"}))
      io.write = write           -- luacheck: ignore
      assert.is_true(results[1], results[2])
      -- no value at all, not even nil: the REPL would print it after the plot
      assert.equal(1, results.n)
      local text = table.concat(printed)
      assert.truthy(text:find("in the REPL", 1, true))
      assert.truthy(text:find("x1", 1, true))
    end)

    it("prints every string literally, whatever gnuplot would make of it", function()
      local f, tr = quadratic_trace()
      local file = dir .. "/it's {odd}.svg"
      ms.plot.trace2d{f = f, traces = {tr}, file = file,
                      title = "it's \"quoted\" \\ {braces}_x^2 @y\nline two",
                      labels = {"a & b <c>"}}
      local svg = h.read(file)
      assert.truthy(svg:find("<text>it's \"quoted\" \\ {braces}_x^2 @y line two</text>", 1, true))
      assert.truthy(svg:find("a &amp; b &lt;c>", 1, true))
    end)

    it("prints quotes wherever they are, and runs nothing a title holds", function()
      local f, tr = quadratic_trace()
      local file = dir .. "/quotes.svg"
      for _, s in ipairs{"'", "''", "'''x", "it's @y", "x'", "'; system('touch pwned') #",
                         "`touch pwned`", "\\'", "'\"'\" @x"} do
        ms.plot.trace2d{f = f, traces = {tr}, file = file, grid = 10, title = s, labels = {s .. "!"}}
        local svg = h.read(file):gsub("&#39;", "'"):gsub("&apos;", "'"):gsub("&quot;", '"')
        assert.truthy(svg:find("<text>" .. s .. "</text>", 1, true), s)
        assert.truthy(svg:find(s .. "!<", 1, true), s)
      end
      assert.is_nil(h.read("pwned"))
    end)

    it("uses the objective's window", function()
      local g = ms.objective{dim = 2, window = {-1, 1, -1, 1},
                             f = function(x) return x[1]^2 + x[2]^2 end}
      local file = dir .. "/window.svg"
      ms.plot.trace2d{f = g, file = file, grid = 10}
      local svg = h.read(file)
      assert.truthy(svg:find("<text>-0.5</text>", 1, true))
      assert.falsy(svg:find("<text>-5</text>", 1, true))
    end)

    it("grows the default window to show a run that strays a little", function()
      local f, tr = quadratic_trace()   -- its second point has x2 = 2.8
      local file = dir .. "/grown.svg"
      ms.plot.trace2d{f = f, traces = {tr}, file = file}
      assert.truthy(h.read(file):find("<text> 2</text>", 1, true))
      ms.plot.trace2d{f = f, traces = {tr}, file = file, window = {-5.5, 1, -3, 1}}
      assert.falsy(h.read(file):find("<text> 2</text>", 1, true))
    end)

    it("keeps the window for a run that diverged, and says it did", function()
      local f = ms.objective.quadratic{0.2, 4}
      local tr = ms.trace(f, ms.gd{lr = 3}, {x0 = {-5, -2}, steps = 1000})
      assert.truthy(tr.diverged)
      local file = dir .. "/diverged.svg"
      ms.plot.trace2d{f = f, traces = {tr}, file = file}
      local svg = h.read(file)
      assert.truthy(svg:find("<text>-3</text>", 1, true))
      assert.truthy(svg:find("<text> 1</text>", 1, true))
      assert.truthy(svg:find("gd{lr=3} (diverged at step " .. tr.diverged .. ")", 1, true))
    end)

    it("copes with objectives that are not finite everywhere", function()
      local g = function(x) return x[1] > 0 and 0 / 0 or x[1]^2 + x[2]^2 end
      local file = dir .. "/nan.svg"
      assert.equal(file, ms.plot.trace2d{f = g, file = file})
      assert.equal(file, ms.plot.trace2d{f = function() return 1 end, file = file})
    end)

    it("checks its options", function()
      local f, tr = quadratic_trace()
      assert.error_matches(function() ms.plot.trace2d{f = f, grid = -3} end,
                           "ms.plot.trace2d: grid must be between 2 and 1000, got %-3")
      assert.error_matches(function() ms.plot.trace2d{f = f, colour = "red"} end,
                           "unknown option 'colour'")
      assert.error_matches(function() ms.plot.trace2d{f = f, window = {1, 0, 0, 1}} end,
                           "window must hold")
      assert.error_matches(function() ms.plot.trace2d{traces = {tr, 3}} end,
                           "traces%[2%] must be a trace")
      local tr3 = ms.trace(ms.objective.quadratic{1, 2, 3}, ms.gd{lr = 0.1},
                           {x0 = {1, 1, 1}, steps = 2})
      assert.error_matches(function() ms.plot.trace2d{traces = {tr3}} end,
                           "traces%[1%] must be a 2%-dimensional trace")
      assert.error_matches(function() ms.plot.trace2d{f = f, file = dir .. "/x.pdf"} end,
                           "use a name ending in .svg, .png, .txt or .sixel")
      assert.error_matches(function() ms.plot.trace2d{} end, "needs f")
      assert.error_matches(function() ms.plot.trace2d{f = function() return "x" end} end,
                           "f returned string")
      assert.same({}, listing(dir))
    end)

    it("passes errors of the objective through unchanged", function()
      assert.error_matches(function()
        ms.plot.trace2d{f = function() error("objective broke") end}
      end, "objective broke")
    end)
  end)

  describe("on the screen", function()
    -- a figure without a file, drawn by a fresh interpreter with env set:
    -- its stdout and stderr, and its exit status
    local function screen(env)
      local script = dir .. "/screen.lua"
      h.write(script, "ms.plot.lines{series = {{y = {1, 2, 3}}}, size = {64, 48}}")
      local status, out, err = h.cli(h.shquote(script), "env " .. env)
      return out, err, status
    end

    it("is a text plot where stdout is no terminal, whatever $TERM says", function()
      for _, env in ipairs{"TERM=dumb", "TERM=foot", "TERM=xterm-sixel"} do
        local out, err, status = screen("-u MOMSANDBOX_TERM " .. env)
        assert.equal(0, status, err)
        assert.is_nil(out:find("\27", 1, true))
        assert.truthy(out:find("*", 1, true), out)   -- the curve, in characters
      end
    end)

    it("is a sixel image or text as MOMSANDBOX_TERM chooses", function()
      local out, err, status = screen("MOMSANDBOX_TERM=sixel")
      assert.equal(0, status, err)
      assert.equal("\27Pq", out:sub(1, 3))
      assert.truthy(out:find('"1;1;64;48', 1, true))
      out = screen("MOMSANDBOX_TERM=text TERM=foot")
      assert.is_nil(out:find("\27", 1, true))
    end)

    it("refuses a MOMSANDBOX_TERM it does not know", function()
      local out, err, status = screen("MOMSANDBOX_TERM=kitty")
      assert.equal(1, status)
      assert.equal("", out)
      assert.truthy(err:find("ms.plot.lines: MOMSANDBOX_TERM must be 'sixel' or 'text', got 'kitty'",
                             1, true), err)
    end)
  end)

  describe("output files", function()
    it("are not made in a folder that does not exist", function()
      local f = quadratic_trace()
      local file = dir .. "/missing/x.svg"
      assert.error_matches(function() ms.plot.trace2d{f = f, file = file} end,
                           "ms.plot.trace2d: cannot write .*" .. literally(dir) .. "/missing")
      assert.same({}, listing(dir))
    end)

    it("are not made where the folder is a file", function()
      local f = quadratic_trace()
      local plain = dir .. "/plain"
      h.write(plain, "")
      assert.error_matches(function() ms.plot.trace2d{f = f, file = plain .. "/x.svg"} end,
                           "cannot write .*/plain")
      assert.same({"plain"}, listing(dir))
    end)

    it("are not made in a folder without write permission", function()
      local f = quadratic_trace()
      local locked = util.mkdir(dir .. "/locked")
      os.execute("chmod 555 " .. h.shquote(locked))
      local probe = io.open(locked .. "/probe", "w")
      if probe then   -- root writes anyway: nothing to test
        probe:close()
        pending("permissions do not apply to this user")
        return
      end
      assert.error_matches(function() ms.plot.trace2d{f = f, file = locked .. "/x.svg"} end,
                           "cannot write .*/locked")
      assert.same({}, listing(locked))
    end)


    it("are left alone, and no temporary file stays, when gnuplot fails", function()
      local f, tr = quadratic_trace()
      local file = dir .. "/kept.svg"
      h.write(file, "old")
      local ok, err = pcall(ms.plot.trace2d, {f = f, traces = {tr}, file = file,
                                              commands = {"set xrange [1:"}})
      assert.is_false(ok)
      assert.truthy(err:find("ms.plot.trace2d: gnuplot failed", 1, true))
      assert.truthy(err:find("set xrange [1:", 1, true))   -- gnuplot's own words
      assert.equal("old", h.read(file))
      assert.same({"kept.svg"}, listing(dir))
    end)

    it("are sixel images for a name ending in .sixel", function()
      local file = dir .. "/x.sixel"
      ms.plot.lines{series = {{y = {1, 2, 3}}}, file = file, size = {64, 48}}
      local image = h.read(file)
      assert.equal("\27Pq", image:sub(1, 3))           -- a DCS sixel sequence...
      assert.equal("\27\\", image:sub(-2))            -- ...and its end
      assert.truthy(image:find('"1;1;64;48', 1, true))   -- 64 x 48 pixels
    end)

    it("replace an existing file whole", function()
      local f = quadratic_trace()
      local file = dir .. "/replaced.svg"
      h.write(file, "old")
      ms.plot.trace2d{f = f, file = file, grid = 10}
      assert.truthy(h.read(file):find("<svg", 1, true))
      assert.same({"replaced.svg"}, listing(dir))
    end)
  end)

  describe("lines", function()
    it("draws curves with their labels", function()
      local series = {}
      for _, beta in ipairs{0.95, 0.9, 0.6, 0} do
        local y = {}
        for t = 0, 39 do y[#y + 1] = beta ^ t end
        series[#series + 1] = {y = y, label = "beta = " .. beta}
      end
      local file = dir .. "/weights.svg"
      assert.equal(file, ms.plot.lines{series = series, file = file, title = "effective weight",
                                       xlabel = "time", ylabel = "weight"})
      local svg = h.read(file)
      for _, s in ipairs{"beta = 0.95", "beta = 0", "effective weight", "time", "weight"} do
        assert.truthy(svg:find("<text>" .. s .. "</text>", 1, true), s)
      end
    end)

    it("takes x, ranges, a log scale, styles and gaps", function()
      local file = dir .. "/loss.png"
      ms.plot.lines{series = {{x = {0.5, 1, 1.5, 2}, y = {0.3, 0.25, 0 / 0, 0.243},
                               label = "momentum", style = "linespoints"},
                              {y = {0.34, 0.30, 0.26, math.huge}}},
                    xrange = {0, 2}, yrange = {0.22, 0.35}, logy = true, style = "points",
                    file = file}
      assert.equal(PNG_SIGNATURE, h.read(file):sub(1, 8))
    end)

    it("checks its options", function()
      assert.error_matches(function()
        ms.plot.lines{series = {{y = {1, 2}}, {y = {1, "2"}}}}
      end, "ms.plot.lines: series%[2%]%.y must be a table of numbers")
      assert.error_matches(function()
        ms.plot.lines{series = {{x = {1}, y = {1, 2}}}}
      end, "series%[1%]%.x has 1 numbers but series%[1%]%.y has 2")
      assert.error_matches(function() ms.plot.lines{series = {}} end, "at least one series")
      assert.error_matches(function() ms.plot.lines{series = {{y = {1}}}, style = "dots"} end,
                           "style must be")
      assert.error_matches(function() ms.plot.lines{series = {{y = {1}}}, xrange = {2, 1}} end,
                           "xrange must hold")
      assert.error_matches(function() ms.plot.lines{series = {{y = {1}}}, title = 3} end,
                           "title must be a string")
      assert.error_matches(function() ms.plot.lines{series = {{y = {1}}}, key = "top; system"} end,
                           "key must be a position")
    end)
  end)

  describe("heatmap", function()
    local function region()
      local x, y, z = {}, {}, {}
      for j = 1, 21 do x[j] = (j - 1) * 0.2 end
      for i = 1, 11 do y[i] = (i - 1) * 0.1 end
      for i = 1, #y do
        z[i] = {}
        for j = 1, #x do z[i][j] = x[j] < 2 + 2 * y[i] and x[j] / (2 + 2 * y[i]) or 0 / 0 end
      end
      return x, y, z
    end

    it("draws a colour map with curves on top", function()
      local x, y, z = region()
      local boundary = {}
      for i = 1, #y do boundary[i] = 2 + 2 * y[i] end
      local file = dir .. "/region.svg"
      assert.equal(file, ms.plot.heatmap{x = x, y = y, z = z, file = file, title = "region",
                                         xlabel = "eta lambda", ylabel = "beta", cblabel = "rate",
                                         zrange = {0, 1},
                                         lines = {{x = boundary, y = y, label = "2 + 2 beta"}}})
      local svg = h.read(file)
      for _, s in ipairs{"region", "eta lambda", "beta", "rate", "2 + 2 beta"} do
        assert.truthy(svg:find("<text>" .. s .. "</text>", 1, true), s)
      end
      assert.truthy(svg:find("<image", 1, true))
    end)

    it("checks its options", function()
      local x, y, z = region()
      assert.error_matches(function() ms.plot.heatmap{x = x, y = y, z = {z[1]}} end,
                           "z must be a table of 11 rows")
      z[3][4] = nil
      assert.error_matches(function() ms.plot.heatmap{x = x, y = y, z = z} end,
                           "z%[3%]")
      assert.error_matches(function() ms.plot.heatmap{x = {1, 1}, y = y, z = z} end,
                           "x must be finite numbers in increasing order")
      local x2, y2, z2 = region()
      y2[2] = 0.15   -- an image has cells of one height
      assert.error_matches(function() ms.plot.heatmap{x = x2, y = y2, z = z2} end,
                           "y must be evenly spaced %(y%[2%] %- y%[1%] = 0.15, the mean step is 0.1%)")
      -- a range's rounding is no unevenness
      for j = 1, #x2 do x2[j] = 0.1 * (j - 1) end
      ms.plot.heatmap{x = x2, y = y, z = z2, file = dir .. "/even.svg"}
    end)
  end)

  describe("figures as data", function()
    it("are plain tables that draw as the plot functions draw", function()
      local opts = {series = {{y = {1, 4, 9}, label = "squares"}, {x = {0, 1, 2}, y = {3, 2, 1}}},
                    title = "t", xlabel = "step", logy = true}
      local fig = ms.plot.figure.lines(opts)
      assert.same({"curve", "curve"}, {fig.layers[1].kind, fig.layers[2].kind})
      assert.same({0, 1, 2}, fig.layers[1].x)   -- 0, 1, … where no x was given
      assert.same({1, 4, 9}, fig.layers[1].y)
      assert.equal("squares", fig.layers[1].label)
      assert.is_nil(fig.layers[2].label)
      assert.same({"t", "step", true}, {fig.title, fig.xlabel, fig.logy})
      assert.same({}, listing(dir))   -- nothing drawn
      opts.file = dir .. "/direct.svg"
      ms.plot.lines(opts)
      assert.equal(dir .. "/drawn.svg", ms.plot.draw(fig, {file = dir .. "/drawn.svg"}))
      assert.equal(h.read(dir .. "/direct.svg"), h.read(dir .. "/drawn.svg"))
    end)

    it("hold the contours and trajectories of trace2d and the image of heatmap", function()
      local f, tr = quadratic_trace()
      local fig = ms.plot.figure.trace2d{f = f, traces = {tr}, grid = 5, levels = {1, 2}}
      local contour, run = fig.layers[1], fig.layers[2]
      assert.equal("contour", contour.kind)
      assert.same({1, 2}, contour.levels)
      assert.equal(5, #contour.x)
      -- z[i][j] is f at (x[j], y[i])
      assert.equal(f{contour.x[2], contour.y[4]}, contour.z[4][2])
      assert.same({"curve", 21}, {run.kind, #run.x})
      assert.equal(tr[21][1], run.x[21])
      local map = ms.plot.figure.heatmap{x = {1, 2}, y = {0, 1, 2}, z = {{1, 2}, {3, 4}, {5, 6}}}
      assert.same({"image", {{1, 2}, {3, 4}, {5, 6}}}, {map.layers[1].kind, map.layers[1].z})
    end)

    it("write the numbers of legends to 4 significant digits, as %.4g would", function()
      local labels = {
        ["momentum{lr=0.0037585310908371094, beta=0.5}"] = "momentum{lr=0.003759, beta=0.5}",
        ["lr=0.015625"] = "lr=0.01563",     -- an exact tie: up, under both interpreters
        ["x=123456.7"] = "x=1.235e+05", ["b=1.23456e-07"] = "b=1.235e-07",
        ["c=9.99995"] = "c=10", ["e=-0.000123456"] = "e=-0.0001235", ["j=1234.567"] = "j=1235",
        ["steps=10000, x1"] = "steps=10000, x1",   -- integers and names stay
        ["beta = 0.9"] = "beta = 0.9", ["0.5-0.6"] = "0.5-0.6",
      }
      for label, want in pairs(labels) do
        local fig = ms.plot.figure.lines{series = {{y = {1, 2}, label = label}}}
        assert.equal(want, fig.layers[1].label)
      end
      local f, tr = quadratic_trace()
      local fig = ms.plot.figure.trace2d{f = f, traces = {tr}, grid = 5, labels = {"lr=0.123456"}}
      assert.equal("lr=0.1235", fig.layers[2].label)
    end)

    it("dash a curve that asks, and check the option", function()
      local fig = ms.plot.figure.lines{series = {{y = {1, 2}}, {y = {1, 2}, dashed = true}}}
      assert.same({nil, true}, {fig.layers[1].dashed, fig.layers[2].dashed})
      local script = require("momsandbox.gnuplot").script(fig)
      assert.equal(1, select(2, script:gsub(" dt 2", "")))   -- the second curve only
      assert.error_matches(function()
        ms.plot.figure.lines{series = {{y = {1}, dashed = "yes"}}}
      end, "series%[1%]%.dashed must be a boolean")
      -- a curve within 0.5 % of the plot of an earlier one is dashed: y
      -- spans 1 .. 3 here, so 0.009 apart hides, 0.011 does not
      local repeats = ms.plot.figure.lines{series = {{y = {1, 2}}, {y = {1, 2}}, {y = {1, 3}},
                                                     {y = {1.009, 2}}, {y = {1.02, 2}}}}
      local dashed = {}
      for k = 1, 5 do dashed[k] = repeats.layers[k].dashed or false end
      assert.same({false, true, false, true, false}, dashed)
      local f, tr = quadratic_trace()
      local twins = ms.plot.figure.trace2d{f = f, traces = {tr, tr}, grid = 5}
      assert.same({nil, true}, {twins.layers[2].dashed, twins.layers[3].dashed})
    end)

    it("give a run one colour in every figure, the one its label got first", function()
      local a, b = "run a " .. os.time(), "run b " .. os.time()   -- labels no figure had yet
      local one = ms.plot.figure.lines{series = {{y = {1, 2}, label = a}, {y = {2, 1}, label = b}}}
      local two = ms.plot.figure.lines{series = {{y = {1, 2}, label = b}, {y = {3, 1}},
                                                 {y = {2, 1}, label = a}}}
      assert.equal(one.layers[1].color, two.layers[3].color)
      assert.equal(one.layers[2].color, two.layers[1].color)
      assert.are_not.equal(one.layers[1].color, one.layers[2].color)
      -- a new label never takes a colour its figure shows already, even
      -- when the palette's ten have all been given out before
      for k = 1, 12 do ms.plot.figure.lines{series = {{y = {1}, label = a .. k}}} end
      local three = ms.plot.figure.lines{series = {{y = {1, 2}, label = a},
                                                   {y = {2, 1}, label = "new " .. os.time()}}}
      assert.are_not.equal(three.layers[1].color, three.layers[2].color)
      local f, tr = quadratic_trace()
      local contour = ms.plot.figure.trace2d{f = f, traces = {tr}, grid = 5}
      local loss = ms.plot.figure.lines{series = {{y = tr:values(), label = tostring(tr.rule)}}}
      assert.equal(contour.layers[2].color, loss.layers[1].color)
    end)

    it("made by hand are drawn, and checked like options", function()
      local fig = {title = "by hand", layers = {
        {kind = "curve", x = {0, 1}, y = {1, 0}, color = "#123456", label = "down"}}}
      local file = ms.plot.draw(fig, {file = dir .. "/hand.svg"})
      assert.truthy(h.read(file):find("<text>down</text>", 1, true))
      local function err(f, o) return h.error_of(ms.plot.draw, f, o) end
      fig.layers[1].color = "#000000' lw 1; system('touch pwned') #"
      assert.matches("ms.plot.draw: layers%[1%].color must be a colour '#rrggbb'", err(fig))
      fig.layers[1].color = "#000000"
      fig.layers[1].y = {1}
      assert.matches("layers%[1%].x has 2 numbers but layers%[1%].y has 1", err(fig))
      assert.matches("layers%[1%] must be a layer", err({layers = {{kind = "pie"}}}))
      assert.matches("unknown option 'colour'",
                     err({layers = {{kind = "curve", x = {1}, y = {1}, colour = "#000000"}}}))
      assert.matches("key must be a position", err({layers = {}, key = "top; system('x')"}))
      assert.matches("expected a figure", err("figure"))
      assert.matches("unknown option 'files'", err({layers = {}}, {files = "x.svg"}))
      assert.is_nil(h.read("pwned"))
    end)
  end)

  describe("without gnuplot", function()
    it("says so once, and plot functions say how to install it", function()
      local out = run_without_path(dir, [[
        local ms = require "momsandbox"
        print("available", ms.plot.available())
        print("notice", ms.plot.notice())
        ms.plot.notice()
        local ok, err = pcall(ms.plot.lines, {series = {{y = {1, 2}}},
                                              file = ]] .. string.format("%q", dir .. "/none.svg") .. [[})
        print("plot", ok, err)
      ]])
      assert.truthy(out:find("available\tfalse", 1, true), out)
      assert.truthy(out:find("notice\tfalse", 1, true), out)
      local _, notices = out:gsub("gnuplot not found: install gnuplot%-nox %(apt%-get install gnuplot%-nox%)", "")
      assert.equal(2, notices, out)   -- the notice once, and the error
      assert.truthy(out:find("plot\tfalse\tms.plot.lines: gnuplot not found: install gnuplot-nox", 1, true), out)
      assert.is_nil(h.read(dir .. "/none.svg"))
    end)
  end)
end)
