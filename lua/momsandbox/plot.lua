--- momsandbox.plot (ms.plot): figures as data, drawn by a backend.
--
--   ms.plot.trace2d{f = f, traces = {tr1, tr2}, file = "out/momentum.svg"}
--   ms.plot.lines{series = {{x = t, y = w, label = "beta = 0.9"}}, file = "out/w.png"}
--   ms.plot.heatmap{x = etas, y = betas, z = rates, file = "out/region.svg"}
--
-- Each of these builds a figure -- a plain Lua table, below -- and draws
-- it; ms.plot.figure.trace2d{...} (and .lines, .heatmap) returns the
-- figure without drawing it, and ms.plot.draw(figure, {file =, size =})
-- draws any figure, one made or changed by hand too.  gnuplot
-- (momsandbox.gnuplot) is the backend today; a figure says nothing of it
-- but its optional raw `gnuplot` commands.
--
--   figure = {
--     title, xlabel, ylabel, cblabel = strings (optional),
--     xrange, yrange = {min, max}, zrange = {min, max} (the colour scale),
--     logy = true for a logarithmic y axis,
--     key = "top left", "bottom right", "below", … or "off": the legend,
--     layers = {   -- drawn in order, the first at the back
--       {kind = "contour", x = {…}, y = {…}, z = {{…}, …}, levels = {…},
--        color = "#rrggbb", width = 1},
--       {kind = "image", x = {…}, y = {…}, z = {{…}, …}, palette = "viridis"},
--       {kind = "curve", x = {…}, y = {…}, label = "…",
--        style = "lines" | "linespoints" | "points", color = "#rrggbb",
--        width = 2, marker = 0.6, dashed = true},
--     },
--     gnuplot = {…},   -- raw commands for what the rest cannot say
--   }
--
-- In grids, z[i][j] is the value at (x[j], y[i]); a non-finite value is a
-- gap.  The format follows the file's extension: .svg, .png, .txt (a text
-- plot) or .sixel.  With no file the figure is shown on the screen, for
-- the REPL: as an image in a terminal that shows sixel graphics
-- (MOMSANDBOX_TERM=sixel or text chooses), else as a text plot sized to
-- the terminal.  Each function returns the name of the file it wrote
-- (nothing when it printed).
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
local backend = require "momsandbox.gnuplot"
local check = require "momsandbox.check"

local M = {}

-- d2l's window for the trajectory figures: x1 in [-5.5, 1], x2 in [-3, 1].
local DEFAULT_WINDOW = {-5.5, 1, -3, 1}

-- matplotlib's tab10 colours, the book's palette, from the orange of its
-- trajectory figures.
local PALETTE = {"#ff7f0e", "#1f77b4", "#2ca02c", "#d62728", "#9467bd",
                 "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"}
local CONTOUR_COLOUR = "#9fb6cd"   -- calm, behind the trajectories

-- One colour per run across the figures a script draws: a label keeps
-- the colour it was given first; a new label takes the next colour of the
-- palette that no curve of its figure has (taken: the figure's colours so
-- far), a curve without a label the first such colour.
local colours, used = {}, 0

local function colour_of(label, taken)
  local colour = label and colours[label]
  for k = 1, colour and 0 or #PALETTE do
    if label then used = used + 1 end
    colour = PALETTE[((label and used or k) - 1) % #PALETTE + 1]
    if not taken[colour] then break end
  end
  if label then colours[label] = colour end
  taken[colour] = true
  return colour
end

---------------------------------------------------------------- errors

-- A mistake in the caller's options is a Failure of check.lua: the public
-- functions (check.protect) raise it as "ms.plot.<function>: <message>",
-- blaming the call; other errors (say, the objective's) pass as they came.
local function fail(fmt, ...)
  check.fail(fmt:format(...))
end

local function public(name, impl)
  return check.protect(impl, "ms.plot." .. name .. ": ")
end

---------------------------------------------------------- availability

M.available = backend.available
M.notice = backend.notice

-------------------------------------------------------- option checks

local function check_options(opts, known)
  if type(opts) ~= "table" then
    fail("expected a table of options, got %s", type(opts))
  end
  local bad = check.unknown(opts, known)
  if bad ~= nil then
    fail("unknown option '%s' (expected one of: %s)", check.keyname(bad), table.concat(known, ", "))
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

------------------------------------------------------------ the legend

-- A number written with more than 4 significant digits, rounded to 4 and
-- written as %.4g would (0.0037585310908371094: 0.003759) -- by hand,
-- from its shortest digits, because the %g of Lua 5.4 and of LuaJIT round
-- exact ties (0.015625) differently.
local function four_digits(text)
  local sign, int, frac, exp = text:match("^(%-?)(%d*)%.?(%d*)e?([-+]?%d*)$")
  local lead = #(int .. frac):match("^0*")
  local digits = (int .. frac):sub(lead + 1)
  if digits == "" or #digits <= 4 then return text end
  local point = #int - lead + (tonumber(exp) or 0)   -- the number is 0.digits x 10^point
  local rounded = tonumber(digits:sub(1, 4)) + (digits:byte(5) >= 53 and 1 or 0)
  if rounded == 10000 then rounded, point = 1000, point + 1 end
  digits = (("%d"):format(rounded):gsub("0+$", ""))
  if point - 1 < -4 or point - 1 >= 4 then
    local mantissa = digits:sub(1, 1) .. (#digits > 1 and "." .. digits:sub(2) or "")
    return ("%s%se%s%02d"):format(sign, mantissa, point > 0 and "+" or "-", math.abs(point - 1))
  end
  if point <= 0 then return sign .. "0." .. ("0"):rep(-point) .. digits end
  if point >= #digits then return sign .. digits .. ("0"):rep(point - #digits) end
  return sign .. digits:sub(1, point) .. "." .. digits:sub(point + 1)
end

-- A legend entry with its numbers to 4 significant digits: a run's label
-- such as momentum{lr=0.0037585310908371094, beta=0.5} stays readable.
local function legend(label)
  if label == nil then return nil end
  return (label:gsub("%f[%w.][%d.]+[eE]?[-+]?%d*", function(token)
    local number, rest = token:match("^([%d.]+[eE][-+]?%d+)(.*)$")
    if not number then number, rest = token:match("^([%d.]+)(.*)$") end
    if not number:find("[.eE]") or not tonumber(number) then return token end   -- integers stay
    return four_digits(number) .. rest
  end))
end

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

-- The legend's place: where the caller said, else where it hides least.
local function key_place(key, points, labels)
  if #labels == 0 then return "off" end
  return key or best_key(points, labels)
end

------------------------------------------------------------ overlaps

-- Do curves a and b (points x, y) lie within dx, dy of each other at
-- every point?
local function close(ax, ay, bx, by, dx, dy)
  if #ax ~= #bx then return false end
  for k = 1, #ax do
    if not (math.abs(ax[k] - bx[k]) <= dx and math.abs(ay[k] - by[k]) <= dy) then return false end
  end
  return true
end

-- A curve that follows an earlier one to within 0.5 % of the plot at
-- every point (a rule written in Lua and its built-in twin, a schedule
-- that barely changes a run) would hide it: it is dashed, so that both
-- show.  xs, ys: the curves' points as plotted (log10 y on a log axis),
-- in box {x0, x1, y0, y1}; curve k is layers[first + k - 1].
local function dash_repeats(layers, first, xs, ys, box)
  local dx, dy = 0.005 * (box[2] - box[1]), 0.005 * (box[4] - box[3])
  if not (finite(dx) and finite(dy)) then dx, dy = 0, 0 end   -- no finite point
  for i = 2, #xs do
    for j = 1, i - 1 do
      if close(xs[i], ys[i], xs[j], ys[j], dx, dy) then layers[first + i - 1].dashed = true end
    end
  end
end

-------------------------------------------------------------- output

local function check_size(v)
  if v == nil then return nil end
  if type(v) ~= "table" or #v ~= 2 then fail("size must be {width, height}") end
  return {check_int(v[1], "size[1]", 10, 10000), check_int(v[2], "size[2]", 5, 10000)}
end

-- The format a file name asks for: its extension in lower case ("" when
-- it has none); without a file, the screen's ("txt" or "sixel"; nil and
-- why for a bad MOMSANDBOX_TERM).
local function format_of(file)
  if file == nil then return backend.screen() end
  return (tostring(file):match("%.(%w+)$") or ""):lower()
end

-- Where and how big to draw: opts.file (.svg, .png, .txt or .sixel; none:
-- the screen) and opts.size ({width, height}: pixels, default 640 x 480;
-- characters for text, 79 x 24, on screen $COLUMNS x $LINES).
local function check_target(opts)
  local file = check_string(opts.file, "file")
  if file and file:find("\0", 1, true) then fail("file must not contain a zero byte") end
  local format, err = format_of(file)
  if not format then fail("%s", err) end
  if not backend.formats[format] then
    fail("cannot tell the format of %s: use a name ending in .svg, .png, .txt or .sixel", file)
  end
  return {file = file, format = format, size = check_size(opts.size)}
end

-- Text plots draw each contour with a row of characters: fewer levels.
local function is_text(opts)
  return (format_of(opts.file) or "txt") == "txt"
end

-- Draw the figure for the target; returns the file's name, or nothing
-- when a text plot was printed (so the REPL does not print it twice).
local function draw(figure, target)
  if target.file and not backend.available() then fail("%s", backend.INSTALL) end
  local ok, err = backend.draw(figure, target)
  if not ok then fail("%s", err) end
  if target.file then return target.file end
end

-- The options every figure takes, besides its own:
--   file      output file: .svg, .png, .txt or .sixel; none: the screen
--   title     title above the plot
--   key       where the legend goes, in gnuplot's words ("top left",
--             "below", "off"); by default the corner that hides no data,
--             else below the plot
--   size      {width, height}: pixels (default 640 x 480), characters for
--             text (79 x 24; on screen $COLUMNS x $LINES)
--   commands  list of raw gnuplot commands, run just before the plot
--             command: not escaped, for what the options do not cover
local COMMON = {"file", "title", "key", "size", "commands"}

local function options(opts, own)
  local known = {}
  for _, k in ipairs(own) do known[#known + 1] = k end
  for _, k in ipairs(COMMON) do known[#known + 1] = k end
  check_options(opts, known)
end

-- A figure with what every kind shares: title, axis labels, raw commands.
local function new_figure(opts, xlabel, ylabel)
  return {title = check_string(opts.title, "title"), xlabel = xlabel, ylabel = ylabel,
          gnuplot = check_strings(opts.commands, "commands"), layers = {}}
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
  if t ~= "function" and t ~= "userdata" and t ~= "table" and t ~= "cdata" then
    fail("f must be an objective (or a function of {x1, x2}), got %s", t)
  end
  if t ~= "function" and f.dim ~= nil and f.dim ~= 2 then
    fail("f must be a 2-dimensional objective, got dim = %s", tostring(f.dim))
  end
  return f
end

-- f on a grid × grid lattice over the window: x, y, z (z[i][j] at
-- (x[j], y[i])) and the finite values, for the levels.
local function sample(f, window, grid)
  local x, y, z, values = {}, {}, {}, {}
  for j = 0, grid - 1 do x[j + 1] = window[1] + (window[2] - window[1]) * j / (grid - 1) end
  for i = 0, grid - 1 do y[i + 1] = window[3] + (window[4] - window[3]) * i / (grid - 1) end
  for i = 1, grid do
    local row = {}
    for j = 1, grid do
      local v = f{x[j], y[i]}
      if type(v) ~= "number" then
        fail("f returned %s at (%g, %g), expected a number", type(v), x[j], y[i])
      end
      if finite(v) then values[#values + 1] = v end
      row[j] = v
    end
    z[i] = row
  end
  return x, y, z, values
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
--   file, title, key, size, commands: as for every figure (see COMMON)
local function trace2d(opts)
  options(opts, {"f", "traces", "labels", "window", "levels", "grid"})
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

  local fig = new_figure(opts, "x1", "x2")
  local xs, ys, titles, curves, taken = {}, {}, {}, {}, {}
  for i, tr in ipairs(traces) do
    xs[i], ys[i] = tr:column(1), tr:column(2)
    titles[i] = legend(labels[i] or trace_label(tr, i))
    curves[i] = {kind = "curve", x = xs[i], y = ys[i], label = titles[i], style = "linespoints",
                 color = colour_of(titles[i], taken), width = 1.5, marker = marker_size(#xs[i])}
  end
  if not opts.window then window = grow(window, traces, xs, ys) end

  local gx, gy, gz, values = sample(f, window, grid)
  local levels = check_levels(opts.levels, values, is_text(opts) and 5 or 10)
  fig.layers[1] = {kind = "contour", x = gx, y = gy, z = gz, levels = levels,
                   color = CONTOUR_COLOUR, width = 1}
  for _, c in ipairs(curves) do fig.layers[#fig.layers + 1] = c end
  dash_repeats(fig.layers, 2, xs, ys, window)
  fig.xrange, fig.yrange = {window[1], window[2]}, {window[3], window[4]}
  fig.key = key_place(key, scaled_points(xs, ys, window), titles)
  return fig
end

----------------------------------------------------------------- lines

-- Width and marker size of each style, as in the book's figures.
local STYLES = {
  lines = {width = 2},
  linespoints = {width = 1.5, marker = 0.6},
  points = {marker = 0.6},
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

-- A series {x =, y =} as a curve layer with its legend entry (legend's),
-- style and colour.
local function curve(x, s, label, style, color)
  return {kind = "curve", x = x, y = s.y, label = label, style = style, color = color,
          width = STYLES[style].width, marker = STYLES[style].marker, dashed = s.dashed}
end

local function check_boolean(v, what)
  if v ~= nil and type(v) ~= "boolean" then fail("%s must be a boolean", what) end
end

-- What a series and a curve layer share: y, x when given (as many
-- numbers), label, style and dashed.
local function check_curve(s, name)
  check_numbers(s.y, name .. ".y")
  if s.x ~= nil and #check_numbers(s.x, name .. ".x") ~= #s.y then
    fail("%s.x has %d numbers but %s.y has %d", name, #s.x, name, #s.y)
  end
  check_string(s.label, name .. ".label")
  check_style(s.style, name .. ".style")
  check_boolean(s.dashed, name .. ".dashed")
end

local function check_series(series, what)
  if type(series) ~= "table" then fail("%s must be a table of series", what) end
  for i, s in ipairs(series) do
    local name = string.format("%s[%d]", what, i)
    if type(s) ~= "table" then fail("%s must be a table {x = ..., y = ...}", name) end
    check_curve(s, name)
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

-- The series as curve layers added to fig, in their style or this one,
-- the first in first_colour when given; returns their points as plotted
-- (log10 of y with logy) and their legend entries.
local function add_curves(fig, series, style, logy, first_colour)
  local xs, ys, titles, taken = {}, {}, {}, {}
  for i, s in ipairs(series) do
    xs[i], ys[i] = s.x or counting(#s.y), logy and log10s(s.y) or s.y
    local label = legend(s.label)
    if label then titles[#titles + 1] = label end
    local colour = i == 1 and first_colour or colour_of(label, taken)
    fig.layers[#fig.layers + 1] = curve(xs[i], s, label, s.style or style, colour)
  end
  return xs, ys, titles
end

--- ms.plot.lines{...}: curves y(x), such as loss curves or beta^t.
--   series    list of {y = {...}, x = {...} (default 0, 1, ...),
--             label = "...", style = ..., dashed = true (for a curve
--             that would hide one drawn before it)}
--   xlabel, ylabel, xrange = {min, max}, yrange = {min, max}
--   logy      true for a logarithmic y axis
--   style     "lines" (default), "linespoints" or "points"
--   file, title, key, size, commands: as for every figure (see COMMON)
local function lines(opts)
  options(opts, {"series", "xlabel", "ylabel", "xrange", "yrange", "logy", "style"})
  local series = check_series(opts.series, "series")
  if #series == 0 then fail("series must hold at least one series") end
  local xrange = opts.xrange and check_ranges(opts.xrange, "xrange", 1)
  local yrange = opts.yrange and check_ranges(opts.yrange, "yrange", 1)
  if opts.logy and yrange and yrange[1] <= 0 then fail("yrange must be positive with logy") end
  local style = check_style(opts.style, "style") or "lines"
  local key = check_key(opts.key)

  local fig = new_figure(opts, check_string(opts.xlabel, "xlabel"), check_string(opts.ylabel, "ylabel"))
  local xs, ys, titles = add_curves(fig, series, style, opts.logy)
  fig.xrange, fig.yrange, fig.logy = xrange, yrange, opts.logy and true or nil
  local box = data_box(xs, ys, xrange, yrange and (opts.logy and log10s(yrange) or yrange))
  dash_repeats(fig.layers, 1, xs, ys, box)
  fig.key = key_place(key, scaled_points(xs, ys, box), titles)
  return fig
end

--------------------------------------------------------------- heatmap

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
--   file, title, key, size, commands: as for every figure (see COMMON)
local function heatmap(opts)
  options(opts, {"x", "y", "z", "xlabel", "ylabel", "cblabel", "zrange", "lines"})
  local x = check_even(check_increasing(opts.x, "x"), "x")
  local y = check_even(check_increasing(opts.y, "y"), "y")
  local z = check_matrix(opts.z, #y, #x)
  local zrange = opts.zrange and check_ranges(opts.zrange, "zrange", 1)
  local overlay = check_series(opts.lines or {}, "lines")
  local key = check_key(opts.key)

  local fig = new_figure(opts, check_string(opts.xlabel, "xlabel"), check_string(opts.ylabel, "ylabel"))
  fig.cblabel = check_string(opts.cblabel, "cblabel")
  fig.layers[1] = {kind = "image", x = x, y = y, z = z, palette = "viridis"}
  -- the first curve in black, which stands out on every colour of viridis
  local xs, ys, titles = add_curves(fig, overlay, "lines", false, "#000000")
  local x0, x1 = image_range(x)
  local y0, y1 = image_range(y)
  dash_repeats(fig.layers, 2, xs, ys, {x0, x1, y0, y1})
  fig.xrange, fig.yrange, fig.zrange = {x0, x1}, {y0, y1}, zrange
  fig.key = key_place(key, scaled_points(xs, ys, {x0, x1, y0, y1}), titles)
  return fig
end

------------------------------------------------------------ the theory

--- ms.plot.components{trace = tr, ...}: Distill's eigen view of a run on a
-- quadratic: |error| along each eigenvector of its Hessian over the steps
-- (tr:components()), on a log scale; with rule = (a linear rule, default
-- none) the predicted decay radius(lambda_k)^t from the first point, dashed.
--   trace     a trace on a quadratic objective
--   rule      optional: the rule whose predicted decay to draw
--   xlabel, ylabel; file, title, key, size, commands (see COMMON)
-- An error of ms.analysis in the plot's words: without its position and
-- its "bad argument" frame.
local function analysis_error(err)
  return (tostring(err):gsub("^.-:%d+: ", ""):gsub("^bad argument #%d+ to '%w+' %((.*)%)$", "%1"))
end

local function components(opts)
  options(opts, {"trace", "rule", "xlabel", "ylabel"})
  if not is_trace(opts.trace) then fail("trace must be a trace (ms.trace) on a quadratic objective") end
  local comps = opts.trace:components()
  local series = {}
  for k, comp in ipairs(comps) do
    local y = {}
    for t = 1, #comp.error do y[t] = math.abs(comp.error[t]) end
    series[#series + 1] = {x = comps.steps, y = y, label = ("lambda_%d = %.4g"):format(k, comp.lambda)}
    if opts.rule ~= nil then
      local ok, rho = pcall(require("momsandbox.analysis").radius, opts.rule, comp.lambda)
      if not ok then fail("%s", analysis_error(rho)) end
      local p = {}
      for t = 1, #comps.steps do p[t] = y[1] * rho ^ (comps.steps[t] - comps.steps[1]) end
      series[#series + 1] = {x = comps.steps, y = p, dashed = true,
                             label = ("radius^t, %.4g"):format(rho)}
    end
  end
  return lines{series = series, logy = true, xlabel = opts.xlabel or "step",
               ylabel = opts.ylabel or "|error along the eigenvector|", file = opts.file,
               title = opts.title, key = opts.key, size = opts.size, commands = opts.commands}
end

--- ms.plot.eigenvalues{rule =, lambda = number or list, t =, ...}: the
-- eigenvalues of a linear rule's iteration matrix (what x sees) in the
-- complex plane, one set of points per lambda, with the unit circle: the
-- rule converges on lambda when they are all inside.
--   rule      a linear rule
--   lambda    an eigenvalue, or a list of them
--   t         the step (default: ms.analysis's)
--   file, title, key, size, commands (see COMMON)
local function eigenvalues(opts)
  options(opts, {"rule", "lambda", "t"})
  local lambdas = type(opts.lambda) == "number" and {opts.lambda} or check_numbers(opts.lambda, "lambda")
  if #lambdas == 0 then fail("lambda must hold at least one number") end
  local A = require "momsandbox.analysis"
  local circle = {x = {}, y = {}, label = "unit circle", style = "lines"}
  for i = 0, 200 do
    circle.x[i + 1], circle.y[i + 1] = math.cos(2 * math.pi * i / 200), math.sin(2 * math.pi * i / 200)
  end
  local series, big = {circle}, 1
  for _, lambda in ipairs(lambdas) do
    local s = {x = {}, y = {}, style = "points", label = ("lambda = %.4g"):format(lambda)}
    local got = {pcall(A.eigenvalues, opts.rule, lambda, opts.t and {t = opts.t} or nil)}
    if not got[1] then fail("%s", analysis_error(got[2])) end
    for i = 2, #got do
      local e = got[i]
      s.x[i - 1], s.y[i - 1], big = e.re, e.im, math.max(big, e.abs)
    end
    series[#series + 1] = s
  end
  big = 1.1 * big
  return lines{series = series, xlabel = "real part", ylabel = "imaginary part",
               xrange = {-big, big}, yrange = {-big, big}, file = opts.file, title = opts.title,
               key = opts.key, size = opts.size, commands = opts.commands or {"set size ratio -1"}}
end

local builders = {trace2d = trace2d, lines = lines, heatmap = heatmap, components = components,
                  eigenvalues = eigenvalues}

--- ms.plot.figure.<kind>{...}: the figure, as data, that ms.plot.<kind>
-- draws.
M.figure = {}
for name, build in pairs(builders) do
  M.figure[name] = public("figure." .. name, build)
  M[name] = public(name, function(opts)
    local target = check_target(type(opts) == "table" and opts or {})
    return draw(build(opts), target)
  end)
end

-- A figure made by hand is checked as the builders check their options:
-- every value reaches gnuplot as a number, a quoted string, or one of a
-- few words.
local LAYER_FIELDS = {
  contour = {"kind", "x", "y", "z", "levels", "color", "width"},
  image = {"kind", "x", "y", "z", "palette"},
  curve = {"kind", "x", "y", "label", "style", "color", "width", "marker", "dashed"},
}

local function check_color(v, what)
  if type(v) ~= "string" or not v:match("^#%x%x%x%x%x%x$") then
    fail("%s must be a colour '#rrggbb', got %s", what, tostring(v))
  end
end

local function check_positive(v, what)
  if v ~= nil and (type(v) ~= "number" or not finite(v) or v <= 0) then
    fail("%s must be a positive number, got %s", what, tostring(v))
  end
end

local function check_layer(l, what)
  if type(l) ~= "table" or not LAYER_FIELDS[l.kind] then
    fail("%s must be a layer {kind = 'contour', 'image' or 'curve', ...}", what)
  end
  check_options(l, LAYER_FIELDS[l.kind])
  check_numbers(l.x, what .. ".x")
  if l.kind == "curve" then
    check_curve(l, what)
    check_positive(l.marker, what .. ".marker")
  else
    check_matrix(l.z, #check_numbers(l.y, what .. ".y"), #l.x)
  end
  if l.kind == "contour" then check_numbers(l.levels, what .. ".levels") end
  if l.kind == "image" and (l.palette or "viridis") ~= "viridis" then
    fail("%s.palette must be 'viridis'", what)
  end
  if l.kind ~= "image" then check_color(l.color, what .. ".color") end
  check_positive(l.width, what .. ".width")
end

local function check_figure(fig)
  if type(fig) ~= "table" then fail("expected a figure (a table), got %s", type(fig)) end
  check_options(fig, {"title", "xlabel", "ylabel", "cblabel", "xrange", "yrange", "zrange",
                      "logy", "key", "layers", "gnuplot"})
  for _, k in ipairs{"title", "xlabel", "ylabel", "cblabel"} do check_string(fig[k], k) end
  for _, k in ipairs{"xrange", "yrange", "zrange"} do
    if fig[k] ~= nil then check_ranges(fig[k], k, 1) end
  end
  check_boolean(fig.logy, "logy")
  check_key(fig.key)
  if type(fig.layers) ~= "table" then fail("layers must be a table of layers") end
  for i, l in ipairs(fig.layers) do check_layer(l, string.format("layers[%d]", i)) end
  check_strings(fig.gnuplot, "gnuplot")
end

--- ms.plot.draw(figure [, {file =, size =}]): draw a figure, one of
-- ms.plot.figure's or one made by hand.
M.draw = public("draw", function(figure, opts)
  check_figure(figure)
  opts = opts or {}
  check_options(opts, {"file", "size"})
  local target = check_target(opts)
  return draw(figure, target)
end)

return M
