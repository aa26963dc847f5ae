--- momsandbox.gnuplot: the backend that draws figures (momsandbox.plot's
-- tables, see there) with gnuplot.
--
--   gnuplot.draw(figure, {file = "out/x.svg", size = {640, 480}})
--
-- The format follows the file's extension: .svg, .png, .txt (a text
-- plot) or .sixel (an image for a terminal that shows sixel graphics).
-- With no file the figure goes to the screen (M.screen): as a sixel image
-- where the terminal shows them, else as a text plot sized to the
-- terminal ($COLUMNS x $LINES).
--
-- gnuplot runs without a shell (ms.util.run), reads the whole figure, data
-- included, on its stdin, and draws on its stdout: it never sees a file
-- name (its `set output '|…'` would run a shell).  The engine's writer
-- (ms.util.write) makes the file, whole or not at all.  Every string of
-- the figure (titles, labels) reaches gnuplot as a quoted literal and is
-- printed as is: no enhanced-text markup, so momentum{lr=0.6, beta=0.5}
-- stays readable.  Only figure.gnuplot, raw gnuplot commands for what a
-- figure cannot say, is passed through untouched.
local util = require("momsandbox").util

local M = {}

M.INSTALL = "gnuplot not found: install gnuplot-nox " ..
  "(apt-get install gnuplot-nox) to get figures"

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
    io.stderr:write(M.INSTALL, "\n")
  end
  return false
end

---------------------------------------------------------------- syntax

local function finite(x)
  return x == x and x ~= math.huge and x ~= -math.huge
end

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

-- Rows "x y z" of a grid, z[i][j] at (x[j], y[i]), one scan of x per y.
local function grid_rows(x, y, z)
  local rows = {}
  for i = 1, #y do
    for j = 1, #x do rows[#rows + 1] = num(x[j]) .. " " .. num(y[i]) .. " " .. num(z[i][j]) end
    rows[#rows + 1] = ""   -- a blank line ends each scan of the grid
  end
  return rows
end

local function range(axis, r)
  return string.format("set %srange [%s:%s]", axis, num(r[1]), num(r[2]))
end

local STYLES = {
  lines = "with lines",
  linespoints = "with linespoints pt 7",
  points = "with points pt 7",
}

local PALETTES = {
  -- viridis, from dark blue (low) to yellow (high)
  viridis = "set palette defined (0 '#440154', 1 '#3b528b', 2 '#21908d', " ..
            "3 '#5dc963', 4 '#fde725')",
}

------------------------------------------------------------- layers

-- Each kind of layer: the commands it needs first (data blocks,
-- settings), and its element of the plot command.
local layers = {}

function layers.contour(l, i, body)
  if #l.levels == 0 then return nil end
  local levels = {}
  for k, v in ipairs(l.levels) do levels[k] = num(v) end
  body[#body + 1] = datablock("grid" .. i, grid_rows(l.x, l.y, l.z))
  for _, cmd in ipairs{"set contour base", "unset surface",
                       "set cntrparam levels discrete " .. table.concat(levels, ","),
                       "set table $contours" .. i,
                       "splot $grid" .. i .. " using 1:2:3 with lines notitle",
                       "unset table", "unset contour"} do
    body[#body + 1] = cmd
  end
  return string.format("$contours%d using 1:2 with lines lc rgb '%s' lw %g notitle",
                       i, l.color, l.width or 1)
end

function layers.image(l, i, body)
  body[#body + 1] = datablock("image" .. i, grid_rows(l.x, l.y, l.z))
  body[#body + 1] = PALETTES[l.palette or "viridis"]
  return string.format("$image%d using 1:2:3 with image notitle", i)
end

function layers.curve(l, i, body)
  body[#body + 1] = datablock("curve" .. i, xy_rows(l.x, l.y))
  local style = STYLES[l.style or "lines"]
  if l.style ~= "points" then style = style .. string.format(" lw %g", l.width or 2) end
  if l.style ~= "lines" then style = style .. string.format(" ps %g", l.marker or 0.6) end
  if l.dashed then style = style .. " dt 2" end
  return string.format("$curve%d using 1:2 %s lc rgb '%s' %s", i, style, l.color,
                       l.label and "title " .. quote(l.label) or "notitle")
end

-- The legend: where the figure put it, boxed when inside the plot so that
-- it hides what lies under it, with room to spare around the text (PNG's
-- fonts are wider than gnuplot reckons).
local function key_command(key, has_labels)
  if not has_labels or key == "off" then return "unset key" end
  local inside = not (key:find("below") or key:find("above") or key:find("outside"))
  return "set key " .. key .. " Left reverse samplen 2" ..
         (inside and " opaque box lc rgb '#d0d0d0' width 2 height 0.5" or "")
end

--- The gnuplot commands that draw the figure (after the terminal's).
function M.script(figure)
  local body, plots, has_labels = {}, {}, false
  for i, l in ipairs(figure.layers) do
    plots[#plots + 1] = layers[l.kind](l, i, body)
    has_labels = has_labels or l.label ~= nil
  end
  if #plots == 0 then plots[1] = "NaN notitle" end   -- nothing to draw: the axes
  for _, axis in ipairs{"title", "xlabel", "ylabel", "cblabel"} do
    if figure[axis] then body[#body + 1] = "set " .. axis .. " " .. quote(figure[axis]) end
  end
  for _, axis in ipairs{"x", "y", "z"} do
    local r = figure[axis .. "range"]
    if r then body[#body + 1] = range(axis == "z" and "cb" or axis, r) end
  end
  -- an autoscaled y leaves a margin, so that no curve (a constant one,
  -- say) lies on the frame, hidden; that margin only (yfix), not one
  -- grown to the next tick (beta^t drawn down to -0.2)
  if not figure.yrange then
    body[#body + 1] = "set autoscale yfix"
    body[#body + 1] = "set offsets 0, 0, graph 0.05, graph 0.05"
  end
  if figure.logy then
    -- ticks labelled 0.001, 1e-05 (not 0.000010), without the minor
    -- ticks that turn dozens of decades into a black comb
    for _, cmd in ipairs{"set logscale y", "set format y '%g'", "set mytics 1"} do
      body[#body + 1] = cmd
    end
  end
  body[#body + 1] = key_command(figure.key or "top right", has_labels)
  for _, cmd in ipairs(figure.gnuplot or {}) do body[#body + 1] = cmd end
  body[#body + 1] = "plot " .. table.concat(plots, ", \\\n     ")
  return table.concat(body, "\n") .. "\n"
end

------------------------------------------------------------- drawing

-- The terminal's size: one column and line short, so the terminal never
-- wraps and the prompt fits.
local function screen_size()
  local w = tonumber(os.getenv("COLUMNS") or "")
  local h = tonumber(os.getenv("LINES") or "")
  return w and math.max(w - 1, 20) or 79, h and math.max(h - 1, 10) or 24
end

local function text_terminal(w, h)
  return string.format("set terminal dumb size %d,%d noenhanced", w, h)
end

-- Terminals known to show sixel graphics, by $TERM.
local SIXEL_TERMS = {"^foot", "^mlterm", "^yaft", "^contour", "^wezterm", "sixel"}

--- How a figure without a file is shown: "sixel" (an image in place) or
-- "txt" (a text plot); nil and a message for a bad MOMSANDBOX_TERM.
-- MOMSANDBOX_TERM=sixel or text chooses; otherwise sixel when stdout is a
-- terminal that $TERM names as one showing sixel graphics.  (Asking the
-- terminal itself would mean reading its answer from stdin, which a
-- script may be reading.)
function M.screen()
  local chosen = os.getenv("MOMSANDBOX_TERM") or ""
  if chosen == "sixel" then return "sixel" end
  if chosen == "text" then return "txt" end
  if chosen ~= "" then
    return nil, "MOMSANDBOX_TERM must be 'sixel' or 'text', got '" .. chosen .. "'"
  end
  if util.isatty(1) then
    local term = os.getenv("TERM") or ""
    for _, pattern in ipairs(SIXEL_TERMS) do
      if term:find(pattern) then return "sixel" end
    end
  end
  return "txt"
end

-- Terminal commands per file extension; size in pixels (characters for txt).
M.formats = {
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
  sixel = {640, 480, function(w, h)
    return string.format("set terminal sixelgd size %d,%d truecolor font 'DejaVu Sans,10' " ..
                         "noenhanced", w, h)
  end},
}

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

-- Run gnuplot on the script; returns its stdout, or nil and a message.
-- gnuplot reads the script from its stdin as a script file named
-- /dev/stdin, not as its interactive input: that way it reads in blocks
-- rather than byte by byte (ten times faster with a grid of data) and stops
-- at the first error.
local function run(script)
  if not M.available() then return nil, M.INSTALL end
  local ok, status, out, err = util.run({gnuplot_path, "/dev/stdin"}, script)
  if ok == nil then return nil, status end
  if not ok then return nil, string.format("gnuplot failed (status %d):\n%s", status, complaint(err)) end
  return out
end

-- A text plot as gnuplot prints it, without its form feed and the blanks
-- that pad each line to the full width.
local function text_plot(script)
  local out, err = run(script)
  if not out then return nil, err end
  return (out:gsub("^\f", ""):gsub(" +\n", "\n"):gsub(" +$", ""))
end

--- Draw the figure into target.file in target.format (a key of
-- M.formats, checked by the caller), or print it when there is no file
-- (format M.screen()'s).  target.size = {w, h} in pixels (characters for
-- text).  Returns true, or nil and a message.
function M.draw(figure, target)
  local file, ext = target.file, target.format
  local format = M.formats[ext]
  local w, h = format[1], format[2]
  if not file and ext == "txt" then w, h = screen_size() end
  if target.size then w, h = target.size[1], target.size[2] end
  local script = "set encoding utf8\n" .. format[3](w, h) .. "\n" .. M.script(figure)
  local out, err
  if ext == "txt" then out, err = text_plot(script) else out, err = run(script) end
  if not out then return nil, err end
  if not file then
    io.write(out, "\n")
    return true
  end
  local ok, werr = pcall(util.write, file, ext == "txt" and out .. "\n" or out)
  if not ok then return nil, tostring(werr) end
  return true
end

return M
