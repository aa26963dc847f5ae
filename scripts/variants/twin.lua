--- Shared by the scripts in this folder: run a rule written in Lua and its
-- built-in twin side by side on the chapter's quadratic and on Rosenbrock's
-- function, print the largest difference between the two trajectories, and
-- draw both.  Each script passes the two rules' constructors.
local ms = require "momsandbox"

local problems = {
  {name = "quadratic", f = ms.objective.quadratic{0.2, 4}, x0 = {-5, -2}, steps = 200},
  {name = "rosenbrock", f = ms.objective.rosenbrock(), x0 = {-1.5, 2}, steps = 200},
}

--- Largest |a - b| over every coordinate of every point of two traces.
local function max_difference(a, b)
  assert(#a == #b, "traces of different lengths")
  local worst = 0
  for i = 1, #a do
    local p, q = a[i], b[i]
    for j = 1, #p do worst = math.max(worst, math.abs(p[j] - q[j])) end
  end
  return worst
end

--- opts: name, lua (constructor of the Lua rule), builtin (of the C rule),
-- hyper = {quadratic = {...}, rosenbrock = {...}} and the script's arg.
local script = (arg and arg[0] or ""):match("[^/]*$")
if script == "twin.lua" then
  io.stderr:write("twin.lua is shared by the scripts beside it: run one of them, such as\n",
                  "  momsandbox scripts/variants/qhm.lua\n")
  os.exit(2)
end

return function(opts)
  local args = ms.args.parse(opts.arg, {
    usage = "momsandbox scripts/variants/" .. script .. " [options]",
    ms.args.OUT, ms.args.FORMAT,
  })
  ms.util.mkdir(args.out)
  for _, p in ipairs(problems) do
    local hyper = opts.hyper[p.name]
    local mine = ms.trace(p.f, opts.lua(hyper), {x0 = p.x0, steps = p.steps})
    local theirs = ms.trace(p.f, opts.builtin(hyper), {x0 = p.x0, steps = p.steps})
    print(("%-10s %-11s %d steps: max |Lua - C| = %g; C %s"):format(
      opts.name, p.name, p.steps, max_difference(mine, theirs), tostring(theirs)))
    if ms.plot.available() then
      ms.args.wrote(ms.plot.trace2d{f = p.f, traces = {mine, theirs},
                      labels = {"Lua: " .. mine.rule, "C: " .. theirs.rule},
                      title = opts.name .. " on " .. p.name,
                      file = ("%s/%s-%s.%s"):format(args.out, opts.name, p.name, args.format)})
    else
      ms.plot.notice()
    end
  end
end
