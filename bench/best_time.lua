--- Shared by the benchmarks: best_time(fn, repeats) runs fn that many
-- times, each after a full garbage collection, and returns the shortest
-- wall time in seconds and fn's last result.  The best of several runs is
-- the least disturbed by the rest of the machine.
local ms = require "momsandbox"

return function(fn, repeats)
  local best, result = math.huge, nil
  for _ = 1, repeats do
    collectgarbage("collect")
    local t0 = ms.util.clock()
    result = fn()
    best = math.min(best, ms.util.clock() - t0)
  end
  return best, result
end
