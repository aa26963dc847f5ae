--- Shared by the benchmarks: the short runs and the machine-readable
-- figures that bench/compare.sh asks for through the environment.
--
--   MS_BENCH_QUICK=1    quick(long, short) is short: the benchmark's
--                       defaults for a run of about a second; otherwise long
--   MS_BENCH_RESULTS=1  result(...) prints, besides the usual output, a line
--                       per figure:
--     RESULT <name> <value> <unit> lower|higher [baseline]
--                       lower or higher: which is better; baseline: a
--                       figure that does not depend on the engine (a loop in
--                       pure Lua), which shows how noisy the machine is but
--                       is never counted as a regression.
--
-- Without them nothing changes: the defaults and the output are the usual
-- ones.  A benchmark that runs under one interpreter only says so in a
-- header line "-- compare: momsandbox-jit" (or momsandbox).
local M = {}

local function set(name)
  local v = os.getenv(name)
  return v ~= nil and v ~= "" and v ~= "0"
end

M.quick_mode = set("MS_BENCH_QUICK")
local report = set("MS_BENCH_RESULTS")

function M.quick(long, short)
  if M.quick_mode then return short end
  return long
end

function M.result(name, value, unit, better, baseline)
  assert(better == "lower" or better == "higher", "better: lower or higher")
  assert(not name:find("%s") and not unit:find("%s"), "no spaces in a name or a unit")
  if report then
    print(("RESULT %s %.6g %s %s%s"):format(name, value, unit, better,
                                            baseline and " baseline" or ""))
  end
end

return M
