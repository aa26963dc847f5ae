--- momsandbox.plot (ms.plot): figures through gnuplot.
--
--   ms.plot.trace2d{f = f, traces = {tr1, tr2}, file = "out/momentum.svg"}
--   ms.plot.lines{series = {{x = t, y = w, label = "beta = 0.9"}}, file = "out/w.png"}
--   ms.plot.heatmap{x = etas, y = betas, z = rates, file = "out/region.svg"}
--
-- The format follows the file's extension: .svg, .png or .txt (a text
-- plot).  With no file, a text plot sized to the terminal ($COLUMNS x $LINES)
-- is printed, for the REPL.  Each function returns the name of the file it
-- wrote (nothing when it printed).
--
-- Figures need the `gnuplot` program (Debian: apt-get install gnuplot-nox);
-- without it the plot functions raise an error saying so.  A script whose
-- numbers matter more than its figures guards its plots:
--
--   if ms.plot.available() then
--     ms.plot.trace2d{...}
--   else
--     ms.plot.notice()   -- tells, once per process, how to get figures
--   end
--
-- gnuplot runs without a shell (ms.util.run) and reads the whole figure,
-- data included, on its stdin.  Every string from the caller (titles,
-- labels) reaches it as a quoted literal and is printed as is:
-- no enhanced-text markup, so momentum{lr=0.6, beta=0.5} stays readable.
-- Only the `commands` option, raw gnuplot commands for the cases the
-- options do not cover, is passed through untouched.
--
-- gnuplot never sees a file name: it draws on its stdout, and the
-- engine's writer (ms.util.write) makes the file whole or not at all --
-- a failed figure leaves the old file as it was.
local ms = require "momsandbox"
local util = ms.util

local M = {}

local INSTALL = "gnuplot not found: install gnuplot-nox " ..
  "(apt-get install gnuplot-nox) to get figures"

-- d2l's window for the trajectory figures: x1 in [-5.5, 1], x2 in [-3, 1].
local DEFAULT_WINDOW = {-5.5, 1, -3, 1}

-- matplotlib's tab10 colours, the book's palette.
local PALETTE = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}
local CONTOUR_COLOUR = "#9fb6cd"   -- calm, behind the trajectories

---------------------------------------------------------------- errors

-- A mistake in the caller's options travels inside the module as a Failure
-- and leaves it as "ms.plot.<function>: <message>", blaming the call.
local Failure = {}

local function fail(fmt, ...)
  error(setmetatable({msg = string.format(fmt, ...)}, Failure))
end

local function public(name, impl)
  return function(opts)
    local ok, res = pcall(impl, opts)
    if ok then return res end
    if getmetatable(res) == Failure then
      error("ms.plot." .. name .. ": " .. res.msg, 2)
    end
    error(res, 0)   -- not ours (say, raised by the objective): as it came
  end
end

---------------------------------------------------------- availability

local gnuplot_path   -- nil: not looked for yet; false: not found

--- Is gnuplot installed?  (Looked up once per process.)
function M.available()
  if gnuplot_path == nil then gnuplot_path = util.which("gnuplot") or false end
  return gnuplot_path ~= false
end

local noticed = false

--- Say on stderr, once per process, how to get figures; returns false.
function M.notice()
  if not noticed then
    noticed = true
    io.stderr:write(INSTALL, "\n")
  end
  return false
end

-------------------------------------------------------- option checks

local function check_options(opts, known)
  if type(opts) ~= "table" then
    fail("expected a table of options, got %s", type(opts))
  end
  local set = {}
  for _, k in ipairs(known) do set[k] = true end
  for k in pairs(opts) do
    if not set[k] then
      fail("unknown option '%s' (expected one of: %s)", tostring(k),
           table.concat(known, ", "))
    end
  end
end

local function check_string(v, what)
  if v ~= nil and type(v) ~= "string" then
    fail("%s must be a string, got %s", what, type(v))
  end
  return v
end

local function check_numbers(v, what)
  if type(v) ~= "table" or #v == 0 then
    fail("%s must be a table of numbers, got %s", what,
         type(v) == "table" and "an empty table" or type(v))
  end
  for i = 1, #v do
    if type(v[i]) ~= "number" then
      fail("%s must be a table of numbers (item %d is a %s)", what, i, type(v[i]))
    end
  end
  return v
end

local function finite(x)
  return x == x and x ~= math.huge and x ~= -math.huge
end

local function check_int(v, what, lo, hi)
  if type(v) ~= "number" or v ~= math.floor(v) then
    fail("%s must be an integer, got %s", what, tostring(v))
  end
  if v < lo or v > hi then
    fail("%s must be between %d and %d, got %s", what, lo, hi, tostring(v))
  end
  return v
end

-- {min, max, min, max, ...}: n finite pairs with min < max.
local function check_ranges(v, what, n)
  if type(v) ~= "table" or #v ~= 2 * n then
    fail("%s must be a table of %d numbers", what, 2 * n)
  end
  for i = 1, 2 * n, 2 do
    if type(v[i]) ~= "number" or type(v[i + 1]) ~= "number" or
       not finite(v[i]) or not finite(v[i + 1]) or v[i] >= v[i + 1] then
      fail("%s must hold finite numbers, each minimum below its maximum", what)
    end
  end
  return v
end

local function check_strings(v, what)
  if v == nil then return {} end
  if type(v) ~= "table" then fail("%s must be a table of strings", what) end
  for i = 1, #v do check_string(v[i], string.format("%s[%d]", what, i)) end
  return v
end

-- The key position: gnuplot's words (top left, below, outside right, off).
local function check_key(v)
  if v ~= nil and (type(v) ~= "string" or not v:match("^[%a ]+$")) then
    fail("key must be a position such as 'top left', 'below' or 'off'")
  end
  return v
end

------------------------------------------------------ gnuplot's syntax

-- A string as a gnuplot string expression that prints it as it is.
-- Single-quoted literals, where nothing is special (double quotes would
-- run backquotes as shell commands), joined by the quote character where
-- the string has one: gnuplot misreads a literal that starts with a
-- doubled '', and a quote between double quotes would confuse its
-- scanner for @macros.  A control character would end the command: it
-- becomes a blank.
local QUOTE_CHAR = ".sprintf('%c', 39)."
local function quote(s)
  local parts = {}
  for piece in (tostring(s):gsub("%c", " ") .. "'"):gmatch("([^']*)'") do
    parts[#parts + 1] = "'" .. piece .. "'"
  end
  return table.concat(parts, QUOTE_CHAR)
end

-- Every bit of a double; non-finite values are NaN, which gnuplot treats
-- as a missing point.
local function num(x)
  if not finite(x) then return "NaN" end
  return string.format("%.17g", x)
end

local function datablock(name, rows)
  return string.format("$%s << EOD\n%s\nEOD", name, table.concat(rows, "\n"))
end

-- Rows "x y" of two columns of the same length.
local function xy_rows(x, y)
  local rows = {}
  for i = 1, #y do rows[i] = num(x[i]) .. " " .. num(y[i]) end
  return rows
end

------------------------------------------------------------ the legend

-- The characters of a UTF-8 string: its bytes but the continuation bytes
-- (Lua 5.4's utf8.len, which LuaJIT lacks).
local function characters(s)
  return select(2, s:gsub("[^\128-\191]", ""))
end

-- Where the key hides the fewest points: a corner of the plot, or below it
-- when every corner covers some.  points holds {u, v} in [0, 1]² (the
-- plot's area); the key takes about as much room as its labels need.
local function best_key(points, labels)
  local longest = 0
  for _, s in ipairs(labels) do longest = math.max(longest, characters(s)) end
  local w = math.min(0.9, 0.1 + 0.015 * longest)
  local h = math.min(0.9, 0.04 + 0.07 * #labels)
  local best, fewest = "below", math.huge
  for _, corner in ipairs{{"top right", 1, 1}, {"top left", 0, 1},
                          {"bottom right", 1, 0}, {"bottom left", 0, 0}} do
    local count = 0
    for _, p in ipairs(points) do
      if math.abs(p[1] - corner[2]) < w and math.abs(p[2] - corner[3]) < h then
        count = count + 1
      end
    end
    if count < fewest then best, fewest = corner[1], count end
  end
  return fewest == 0 and best or "below"
end

-- The points of the polylines (xs[k], ys[k]) in the box [x0, x1] x [y0, y1],
-- scaled to [0, 1]², with a few along each segment so that a line crossing
-- a corner counts even where it has no point.
local function scaled_points(xs, ys, box)
  local points = {}
  local function add(x, y)
    local u = (x - box[1]) / (box[2] - box[1])
    local v = (y - box[3]) / (box[4] - box[3])
    if finite(u) and finite(v) then points[#points + 1] = {u, v} end
  end
  for k = 1, #xs do
    local x, y = xs[k], ys[k]
    for i = 1, #y do
      add(x[i], y[i])
      if i < #y then
        for s = 1, 4 do
          add(x[i] + (x[i + 1] - x[i]) * s / 5, y[i] + (y[i + 1] - y[i]) * s / 5)
        end
      end
    end
  end
  return points
end

local function key_commands(key, points, labels)
  if #labels == 0 or key == "off" then return {"unset key"} end
  key = key or best_key(points, labels)
  -- matplotlib's look: the sample before its label, in a box that hides
  -- what lies under it, unless the key sits outside the plot
  local inside = not (key:find("below") or key:find("above") or key:find("outside"))
  return {"set key " .. key .. " Left reverse samplen 2" ..
          (inside and " opaque box lc rgb '#d0d0d0'" or "")}
end

-------------------------------------------------------------- output

local function screen_size()
  local w = tonumber(os.getenv("COLUMNS") or "")
  local h = tonumber(os.getenv("LINES") or "")
  -- one column and line short, so the terminal never wraps and the prompt fits
  return w and math.max(w - 1, 20) or 79, h and math.max(h - 1, 10) or 24
end

local function text_terminal(w, h)
  return string.format("set terminal dumb size %d,%d noenhanced", w, h)
end

-- Terminal commands per file extension; size in pixels (characters for txt).
local formats = {
  svg = {640, 480, function(w, h)
    return string.format("set terminal svg size %d,%d font 'DejaVu Sans,12' " ..
                         "noenhanced background rgb 'white'", w, h)
  end},
  -- pngcairo draws smoother lines; the plain libgd png terminal is the
  -- fallback for gnuplot builds without cairo.
  png = {640, 480, function(w, h)
    local term = "set terminal %s size %d,%d font 'DejaVu Sans,10' noenhanced"
    return string.format("if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n  " ..
                         term .. "\n} else {\n  " .. term .. "\n}",
                         "pngcairo", w, h, "png", w, h)
  end},
  txt = {79, 24, text_terminal},
}

local function check_size(v, default_w, default_h)
  if v == nil then return default_w, default_h end
  if type(v) ~= "table" or #v ~= 2 then fail("size must be {width, height}") end
  return check_int(v[1], "size[1]", 10, 10000), check_int(v[2], "size[2]", 5, 10000)
end

-- gnuplot's first complaint, for an error message.
local function complaint(stderr)
  local lines = {}
  for line in stderr:gmatch("[^\n]+") do
    -- the script's name is ours, not the caller's: its line number will do
    if line:find("%S") then lines[#lines + 1] = line:gsub('^"/dev/stdin" ', "") end
    if #lines == 6 then break end
  end
  return #lines > 0 and table.concat(lines, "\n") or "(no message)"
end

-- Run gnuplot on the script; returns its stdout.  gnuplot reads the script
-- from its stdin as a script file named /dev/stdin, not as its interactive
-- input: that way it reads in blocks rather than byte by byte (ten times
-- faster with a grid of data) and stops at the first error.
local function gnuplot(script)
  if not M.available() then fail("%s", INSTALL) end
  local ok, status, out, err = util.run({gnuplot_path, "/dev/stdin"}, script)
  if ok == nil then fail("%s", status) end
  if not ok then fail("gnuplot failed (status %d):\n%s", status, complaint(err)) end
  return out
end

-- A text plot as gnuplot prints it, without its form feed and the blanks
-- that pad each line to the full width.
local function text_plot(script)
  return (gnuplot(script):gsub("^\f", ""):gsub(" +\n", "\n"):gsub(" +$", ""))
end

-- Draw the figure described by the gnuplot commands body (a table of
-- lines) into opts.file, or as text on stdout.  The options every figure
-- takes:
--   file      output file: .svg, .png or .txt; none: print a text plot
--             (and return nothing, so the REPL does not print it twice)
--   title     title above the plot
--   key       where the legend goes, in gnuplot's words ("top left",
--             "below", "off"); by default the corner that hides no data,
--             else below the plot
--   size      {width, height}: pixels (default 640 x 480), characters for
--             text (79 x 24; on screen $COLUMNS x $LINES)
--   commands  list of raw gnuplot commands, run just before the plot
--             command: not escaped, for what the options do not cover
local function render(opts, body)
  body = table.concat(body, "\n") .. "\n"
  local file = check_string(opts.file, "file")
  if file and file:find("\0", 1, true) then fail("file must not contain a zero byte") end
  if file == nil then
    local w, h = check_size(opts.size, screen_size())
    local text = text_plot("set encoding utf8\n" .. text_terminal(w, h) .. "\n" .. body)
    io.write(text, "\n")
    return
  end
  local ext = (file:match("%.(%w+)$") or ""):lower()
  local format = formats[ext] or
    fail("cannot tell the format of %s: use a name ending in .svg, .png or .txt", file)
  local w, h = check_size(opts.size, format[1], format[2])
  local script = "set encoding utf8\n" .. format[3](w, h) .. "\n" .. body
  -- gnuplot draws on its stdout and never sees the file's name (its
  -- `set output '|…'` would run a shell); the engine's writer makes the
  -- file whole or not at all, through links, devices in place
  local figure = ext == "txt" and text_plot(script) .. "\n" or gnuplot(script)
  local ok, err = pcall(util.write, file, figure)
  if not ok then fail("%s", tostring(err)) end
  return file
end

-- The commands every figure shares: title and axis labels.
local function common(opts, xlabel, ylabel)
  local cmds = {}
  local title = check_string(opts.title, "title")
  if title then cmds[#cmds + 1] = "set title " .. quote(title) end
  if xlabel then cmds[#cmds + 1] = "set xlabel " .. quote(xlabel) end
  if ylabel then cmds[#cmds + 1] = "set ylabel " .. quote(ylabel) end
  return cmds
end

local function append(list, more)
  for _, v in ipairs(more) do list[#list + 1] = v end
  return list
end

local function range(axis, lo, hi)
  return string.format("set %srange [%s:%s]", axis, num(lo), num(hi))
end

-- Finish the figure: the caller's raw commands, which may override any
-- setting, then the plot command with its elements; draw it.
local function draw(opts, body, plots)
  append(body, check_strings(opts.commands, "commands"))
  body[#body + 1] = "plot " .. table.concat(plots, ", \\\n     ")
  return render(opts, body)
end

--------------------------------------------------------------- trace2d

-- A step of 1, 2, 2.5 or 5 times a power of ten, near span / n.
local function nice_step(span, n)
  local raw = span / n
  local p = 10 ^ math.floor(math.log(raw, 10))
  for _, m in ipairs{1, 2, 2.5, 5, 10} do
    if m * p >= raw then return m * p end
  end
end

-- n contour levels for the sampled values.  Evenly spaced at round numbers,
-- as matplotlib draws them; but when more than half of the window lies
-- below the first such level (Rosenbrock's steep walls around its flat
-- valley), spaced geometrically from the minimum instead, so the valley
-- gets lines too.
local function auto_levels(values, n)
  table.sort(values)
  local lo, hi = values[1], values[#values]
  if lo == nil or hi <= lo then return {} end
  local levels = {}
  local median = values[math.floor((#values + 1) / 2)]
  if median - lo >= (hi - lo) / n then
    local step = nice_step(hi - lo, n)
    for k = math.floor(lo / step) + 1, math.ceil(hi / step) - 1 do
      levels[#levels + 1] = k * step
    end
  else
    local first = math.max(values[math.max(1, math.floor(#values / 50))] - lo, (hi - lo) * 1e-6)
    local ratio = (hi - lo) / first
    for k = 0, n - 1 do levels[#levels + 1] = lo + first * ratio ^ (k / n) end
  end
  return levels
end

local function check_levels(v, values, default)
  if v == nil then return auto_levels(values, default) end
  if type(v) == "number" then return auto_levels(values, check_int(v, "levels", 1, 100)) end
  local levels = {}
  for i, l in ipairs(check_numbers(v, "levels")) do
    if not finite(l) then fail("levels must be finite numbers") end
    levels[i] = l
  end
  table.sort(levels)
  return levels
end

-- A trace is a userdata under Lua 5.4, a cdata under LuaJIT.
local function is_trace(v)
  return type(v) == "userdata" or type(v) == "cdata"
end

local function check_traces(traces)
  if is_trace(traces) then traces = {traces} end
  if traces == nil then return {} end
  if type(traces) ~= "table" then fail("traces must be a table of traces") end
  for i, tr in ipairs(traces) do
    if not is_trace(tr) and type(tr) ~= "table" then
      fail("traces[%d] must be a trace (ms.trace), got %s", i, type(tr))
    end
    if tr.dim ~= 2 then
      fail("traces[%d] must be a 2-dimensional trace, got dim = %s", i, tostring(tr.dim))
    end
  end
  return traces
end

local function check_objective(f)
  local t = type(f)
  if t ~= "function" and t ~= "userdata" and t ~= "table" then
    fail("f must be an objective (or a function of {x1, x2}), got %s", t)
  end
  if t ~= "function" and f.dim ~= nil and f.dim ~= 2 then
    fail("f must be a 2-dimensional objective, got dim = %s", tostring(f.dim))
  end
  return f
end

-- f on a grid × grid lattice over the window: a datablock for splot and the
-- finite values, for the levels.
local function sample(f, window, grid)
  local rows, values = {}, {}
  for i = 0, grid - 1 do
    local x2 = window[3] + (window[4] - window[3]) * i / (grid - 1)
    for j = 0, grid - 1 do
      local x1 = window[1] + (window[2] - window[1]) * j / (grid - 1)
      local z = f{x1, x2}
      if type(z) ~= "number" then
        fail("f returned %s at (%g, %g), expected a number", type(z), x1, x2)
      end
      if finite(z) then values[#values + 1] = z end
      rows[#rows + 1] = string.format("%s %s %s", num(x1), num(x2), num(z))
    end
    rows[#rows + 1] = ""   -- a blank line ends each scan of the grid
  end
  return rows, values
end

-- The default window, grown to take in the trajectories, as matplotlib's
-- autoscaling shows them in the book (gradient descent with eta = 0.6
-- zigzags far out of d2l's window).  Runs that diverged are left out:
-- their last points, near overflow, would squash the picture into a line.
local function grow(window, traces, xs, ys)
  local view = {(table.unpack or unpack)(window)}
  for axis, cols in ipairs{xs, ys} do
    local lo, hi = 2 * axis - 1, 2 * axis
    for i, col in ipairs(cols) do
      for _, v in ipairs(traces[i].diverged and {} or col) do
        if finite(v) then view[lo], view[hi] = math.min(view[lo], v), math.max(view[hi], v) end
      end
    end
    local margin = 0.03 * (view[hi] - view[lo])
    if view[lo] < window[lo] then view[lo] = view[lo] - margin end
    if view[hi] > window[hi] then view[hi] = view[hi] + margin end
  end
  return view
end

local function trace_label(tr, i)
  local label = tostring(tr.rule or ("trace " .. i))
  if tr.diverged then label = label .. " (diverged at step " .. tr.diverged .. ")" end
  return label
end

-- Markers small enough that a long run stays a line, not a smear.
local function marker_size(points)
  return points <= 50 and 0.8 or points <= 200 and 0.5 or 0.3
end

-- Text plots draw each contour with a row of characters: fewer levels.
local function is_text(opts)
  return opts.file == nil or tostring(opts.file):lower():match("%.txt$") ~= nil
end

--- ms.plot.trace2d{...}: d2l's trajectory figure (show_trace_2d): contour
-- lines of f and each trace as points joined by lines.
--   f         objective of 2 variables, called as f{x1, x2} (default: the
--             first trace's objective)
--   traces    list of 2-dimensional traces (ms.trace), or one trace
--   labels    legend entries (default: each trace's rule, e.g.
--             momentum{lr=0.6, beta=0.5}, and where it diverged)
--   window    {x1min, x1max, x2min, x2max}, shown as given; without it,
--             f.window or d2l's {-5.5, 1, -3, 1}, grown to show the runs
--             that did not diverge
--   levels    number of contour levels (default 10, 5 in text) or a list
--   grid      points per side where f is evaluated (default 80)
--   file, title, key, size, commands: as for every figure (see render)
local function trace2d(opts)
  check_options(opts, {"f", "traces", "labels", "window", "levels", "grid",
                       "file", "title", "key", "size", "commands"})
  local traces = check_traces(opts.traces)
  local f = opts.f
  if f == nil and traces[1] then f = traces[1].objective end
  if f == nil then fail("needs f (the objective) or at least one trace") end
  check_objective(f)
  local window = opts.window and check_ranges(opts.window, "window", 2) or
    check_ranges(type(f) ~= "function" and f.window or DEFAULT_WINDOW, "f.window", 2)
  local grid = check_int(opts.grid or 80, "grid", 2, 1000)
  local labels = check_strings(opts.labels, "labels")
  local key = check_key(opts.key)

  local xs, ys, titles, body, plots = {}, {}, {}, {}, {}
  for i, tr in ipairs(traces) do
    xs[i], ys[i] = tr:column(1), tr:column(2)
    titles[i] = labels[i] or trace_label(tr, i)
    body[#body + 1] = datablock("trace" .. i, xy_rows(xs[i], ys[i]))
    plots[#plots + 1] = string.format(
      "$trace%d using 1:2 with linespoints lc rgb '%s' lw 1.5 pt 7 ps %g title %s",
      i, PALETTE[i % #PALETTE + 1],   -- orange first, as in the book
      marker_size(#xs[i]), quote(titles[i]))
  end
  if not opts.window then window = grow(window, traces, xs, ys) end

  local grid_rows, values = sample(f, window, grid)
  local levels = check_levels(opts.levels, values, is_text(opts) and 5 or 10)
  body[#body + 1] = datablock("grid", grid_rows)
  if #levels > 0 then
    local spec = {}
    for i, l in ipairs(levels) do spec[i] = num(l) end
    append(body, {"set contour base", "unset surface",
                  "set cntrparam levels discrete " .. table.concat(spec, ","),
                  "set table $contours",
                  "splot $grid using 1:2:3 with lines notitle",
                  "unset table", "unset contour"})
    table.insert(plots, 1, string.format(
      "$contours using 1:2 with lines lc rgb '%s' lw 1 notitle", CONTOUR_COLOUR))
  end
  if #plots == 0 then plots[1] = "NaN notitle" end   -- a constant f, no traces

  append(body, common(opts, "x1", "x2"))
  append(body, {range("x", window[1], window[2]), range("y", window[3], window[4])})
  append(body, key_commands(key, scaled_points(xs, ys, window), titles))
  return draw(opts, body, plots)
end

----------------------------------------------------------------- lines

local STYLES = {
  lines = "with lines lw 2",
  linespoints = "with linespoints lw 1.5 pt 7 ps 0.6",
  points = "with points pt 7 ps 0.6",
}

local function check_style(v, what)
  if v ~= nil and not STYLES[v] then
    fail("%s must be 'lines', 'linespoints' or 'points', got %s", what, tostring(v))
  end
  return v
end

-- 0, 1, ..., n-1: the x of a series given without one.
local function counting(n)
  local x = {}
  for i = 1, n do x[i] = i - 1 end
  return x
end

local function check_series(series, what)
  if type(series) ~= "table" then fail("%s must be a table of series", what) end
  for i, s in ipairs(series) do
    local name = string.format("%s[%d]", what, i)
    if type(s) ~= "table" then fail("%s must be a table {x = ..., y = ...}", name) end
    check_numbers(s.y, name .. ".y")
    if s.x ~= nil and #check_numbers(s.x, name .. ".x") ~= #s.y then
      fail("%s.x has %d numbers but %s.y has %d", name, #s.x, name, #s.y)
    end
    check_string(s.label, name .. ".label")
    check_style(s.style, name .. ".style")
  end
  return series
end

-- The box that the key placement should consider: the given ranges, else
-- the data's extent; log10 of y on a log scale.
local function data_box(xs, ys, xrange, yrange)
  local box = {math.huge, -math.huge, math.huge, -math.huge}
  for k = 1, #xs do
    for i = 1, #ys[k] do
      local x, y = xs[k][i], ys[k][i]
      if finite(x) and finite(y) then
        box[1], box[2] = math.min(box[1], x), math.max(box[2], x)
        box[3], box[4] = math.min(box[3], y), math.max(box[4], y)
      end
    end
  end
  if xrange then box[1], box[2] = xrange[1], xrange[2] end
  if yrange then box[3], box[4] = yrange[1], yrange[2] end
  return box
end

local function log10s(y)
  local out = {}
  for i = 1, #y do out[i] = y[i] > 0 and math.log(y[i], 10) or 0 / 0 end
  return out
end

--- ms.plot.lines{...}: curves y(x), such as loss curves or beta^t.
--   series    list of {y = {...}, x = {...} (default 0, 1, ...),
--             label = "...", style = ...}
--   xlabel, ylabel, xrange = {min, max}, yrange = {min, max}
--   logy      true for a logarithmic y axis
--   style     "lines" (default), "linespoints" or "points"
--   file, title, key, size, commands: as for every figure (see render)
local function lines(opts)
  check_options(opts, {"series", "file", "title", "xlabel", "ylabel", "xrange",
                       "yrange", "logy", "style", "key", "size", "commands"})
  local series = check_series(opts.series, "series")
  if #series == 0 then fail("series must hold at least one series") end
  local xrange = opts.xrange and check_ranges(opts.xrange, "xrange", 1)
  local yrange = opts.yrange and check_ranges(opts.yrange, "yrange", 1)
  if opts.logy and yrange and yrange[1] <= 0 then fail("yrange must be positive with logy") end
  local style = check_style(opts.style, "style") or "lines"
  local key = check_key(opts.key)

  local body, plots, xs, ys, titles = {}, {}, {}, {}, {}
  for i, s in ipairs(series) do
    xs[i] = s.x or counting(#s.y)
    ys[i] = opts.logy and log10s(s.y) or s.y
    if s.label then titles[#titles + 1] = s.label end
    body[#body + 1] = datablock("series" .. i, xy_rows(xs[i], s.y))
    plots[i] = string.format("$series%d using 1:2 %s lc rgb '%s' %s", i,
                             STYLES[s.style or style], PALETTE[(i - 1) % #PALETTE + 1],
                             s.label and "title " .. quote(s.label) or "notitle")
  end
  append(body, common(opts, check_string(opts.xlabel, "xlabel"),
                      check_string(opts.ylabel, "ylabel")))
  if xrange then body[#body + 1] = range("x", xrange[1], xrange[2]) end
  if yrange then body[#body + 1] = range("y", yrange[1], yrange[2]) end
  if opts.logy then body[#body + 1] = "set logscale y" end
  local box = data_box(xs, ys, xrange, yrange and (opts.logy and log10s(yrange) or yrange))
  append(body, key_commands(key, scaled_points(xs, ys, box), titles))
  return draw(opts, body, plots)
end

--------------------------------------------------------------- heatmap

-- viridis, from dark blue (low) to yellow (high)
local VIRIDIS = "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21908d', " ..
                "3 '#5dc963', 4 '#fde725')"

local function check_increasing(v, what)
  check_numbers(v, what)
  for i = 1, #v do
    if not finite(v[i]) or (i > 1 and v[i] <= v[i - 1]) then
      fail("%s must be finite numbers in increasing order", what)
    end
  end
  return v
end

local function check_matrix(z, nrows, ncols)
  if type(z) ~= "table" or #z ~= nrows then
    fail("z must be a table of %d rows (one per y)", nrows)
  end
  for i = 1, nrows do
    local name = string.format("z[%d]", i)
    if #check_numbers(z[i], name) ~= ncols then
      fail("%s must hold %d numbers (one per x), got %d", name, ncols, #z[i])
    end
  end
  return z
end

-- A grid that gnuplot's image draws as it is: cells of one width.  (A
-- range's rounding leaves steps a few ulps apart: tolerated.)
local function check_even(v, what)
  local step = #v > 1 and (v[#v] - v[1]) / (#v - 1)
  for i = 2, #v do
    if math.abs(v[i] - v[i - 1] - step) > 1e-6 * step then
      fail("%s must be evenly spaced (%s[%d] - %s[%d] = %.6g, the mean step is %.6g): " ..
           "for a geometric grid, give the log10 of its values", what, what, i, what, i - 1,
           v[i] - v[i - 1], step)
    end
  end
  return v
end

-- [first - half a cell, last + half a cell]: the extent of the image.
local function image_range(v)
  local half = #v > 1 and (v[#v] - v[1]) / (#v - 1) / 2 or 0.5
  return v[1] - half, v[#v] + half
end

--- ms.plot.heatmap{...}: a colour map of z over a regular grid, with
-- curves on top.  Text plots show only the curves and axes.
--   x, y      increasing, evenly spaced coordinates of the columns and rows
--   z         rows of numbers: z[i][j] is the value at (x[j], y[i]); NaN
--             (or inf) leaves a cell blank
--   xlabel, ylabel, cblabel (the colour bar), zrange = {min, max}
--   lines     curves drawn on top, as lines' series
--   file, title, key, size, commands: as for every figure (see render)
local function heatmap(opts)
  check_options(opts, {"x", "y", "z", "file", "title", "xlabel", "ylabel", "cblabel",
                       "zrange", "lines", "key", "size", "commands"})
  local x = check_even(check_increasing(opts.x, "x"), "x")
  local y = check_even(check_increasing(opts.y, "y"), "y")
  local z = check_matrix(opts.z, #y, #x)
  local zrange = opts.zrange and check_ranges(opts.zrange, "zrange", 1)
  local overlay = check_series(opts.lines or {}, "lines")
  local key = check_key(opts.key)

  local rows = {}
  for i = 1, #y do
    for j = 1, #x do rows[#rows + 1] = num(x[j]) .. " " .. num(y[i]) .. " " .. num(z[i][j]) end
    rows[#rows + 1] = ""
  end
  local body = {datablock("map", rows)}
  local plots = {"$map using 1:2:3 with image notitle"}
  local xs, ys, titles = {}, {}, {}
  for i, l in ipairs(overlay) do
    xs[i], ys[i] = l.x or counting(#l.y), l.y
    if l.label then titles[#titles + 1] = l.label end
    body[#body + 1] = datablock("line" .. i, xy_rows(xs[i], ys[i]))
    -- the first in black, which stands out on every colour of viridis
    plots[#plots + 1] = string.format("$line%d using 1:2 %s lc rgb '%s' %s", i,
      STYLES[l.style or "lines"], i == 1 and "#000000" or PALETTE[(i - 1) % #PALETTE + 1],
      l.label and "title " .. quote(l.label) or "notitle")
  end
  local x0, x1 = image_range(x)
  local y0, y1 = image_range(y)
  append(body, common(opts, check_string(opts.xlabel, "xlabel"),
                      check_string(opts.ylabel, "ylabel")))
  local cblabel = check_string(opts.cblabel, "cblabel")
  if cblabel then body[#body + 1] = "set cblabel " .. quote(cblabel) end
  if zrange then body[#body + 1] = range("cb", zrange[1], zrange[2]) end
  append(body, {VIRIDIS, range("x", x0, x1), range("y", y0, y1)})
  append(body, key_commands(key, scaled_points(xs, ys, {x0, x1, y0, y1}), titles))
  return draw(opts, body, plots)
end

M.trace2d = public("trace2d", trace2d)
M.lines = public("lines", lines)
M.heatmap = public("heatmap", heatmap)

return M
