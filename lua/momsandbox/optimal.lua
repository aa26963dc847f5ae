--- momsandbox.optimal: the hyper-parameters of a linear rule that minimise
-- its rate on a quadratic (ms.analysis.optimal(rule, f, {tune = ...})):
-- the closed form where one is known, else a search -- a grid over the
-- tuned hyper-parameters, refined around its best point until the box is
-- at rounding level.  A grid, unlike a descent, is not misled by the
-- rate's kinks: the optimum of heavy ball and Nesterov sits where real
-- and complex eigenvalues meet, a corner of the rate, not a smooth valley.
local native = require "momsandbox.native"
local check = require "momsandbox.check"

local M = {}
local FNAME = "optimal"

-- Points per tuned hyper-parameter: in the first round over the whole
-- box (fine enough not to step over a stable interval of the learning
-- rate, a factor of about 4 wide, in 10 decades), then in each round
-- around a best point (fewer for more of them: points ^ count evaluations).
local FIRST = {201, 61, 25, 11}
local POINTS = {21, 15, 11, 7}
local STARTS = 3   -- the best points of the first round refined, apart
local MAX_ROUNDS = 80
local KEEP = 3   -- cells kept on each side of the best point

local function bad(fmt, ...)
  check.argerror(3, FNAME, fmt:format(...))
end

--- The descriptors of r's hyper-parameters by name.
local function descriptors(r)
  local by = {}
  for _, h in ipairs(native.rule_op(r, "info").class.hyper) do by[h.name] = h end
  return by
end

--- The list of names to tune, checked against the rule's descriptors.
local function tuned_names(tune, by, class)
  if type(tune) ~= "table" then bad("option 'tune' (the hyper-parameters to tune) must be a list of names") end
  local n, names, seen = check.rawlen(tune), {}, {}
  if n == 0 then bad("option 'tune' must not be empty") end
  for i = 1, n do
    local name = rawget(tune, i)
    if type(name) ~= "string" then bad("tune[%d] must be a string, got %s", i, check.typename(name)) end
    if by[name] == nil then
      local all = {}
      for k in pairs(by) do all[#all + 1] = k end
      table.sort(all)
      bad("tune: %s has no hyper-parameter '%s' (it takes: %s)", class, name, table.concat(all, ", "))
    end
    if by[name].flag then bad("tune: %s is a flag (0 or 1), not a number to tune", name) end
    if seen[name] then bad("tune names %s twice", name) end
    seen[name], names[i] = true, name
  end
  return names
end

--- The search interval of hyper-parameter h: {lo, hi, log} from range
-- (a {lo, hi} given) or from its bounds; an unbounded one is searched over
-- [1e-6 / L, 1e4 / L] (learning rates, weight decay: on the scale 1 / L).
local function interval(h, given, L)
  if given ~= nil then
    if type(given) ~= "table" or type(rawget(given, 1)) ~= "number" or type(rawget(given, 2)) ~= "number" then
      bad("range.%s must be {lo, hi}, two numbers", h.name)
    end
    local lo, hi = rawget(given, 1), rawget(given, 2)
    if not (lo < hi) or lo == -math.huge or hi == math.huge then
      bad("range.%s must be finite with lo < hi, got {%s, %s}", h.name, native.format(lo), native.format(hi))
    end
    return {lo = lo, hi = hi, log = lo > 0 and hi / lo > 100}
  end
  if h.lo == -math.huge then bad("range.%s is needed: its values are unbounded below", h.name) end
  if h.hi == math.huge then
    return {lo = math.max(h.lo, 1e-6 / L), hi = 1e4 / L, log = true}
  end
  local width = h.hi - h.lo
  return {lo = h.lo + (h.lo_open and 1e-9 * width or 0), hi = h.hi - (h.hi_open and 1e-9 * width or 0), log = false}
end

--- The rate of the working rule at values v (a list in names' order), or
-- math.huge where the values are not allowed (out of range, a constraint
-- between hyper-parameters); a rule that is not linear is an error.
local function rate_at(work, names, v, lambdas, t)
  for i, name in ipairs(names) do
    if not native.rule_set(work, name, v[i]) then return math.huge end
  end
  local rho, msg = native.analysis("rule_radius", work, lambdas, t)
  if rho then return rho end
  if msg:find(" is not linear on ", 1, true) then check.argerror(1, FNAME, msg) end
  return math.huge
end

local function copy(list)
  local c = {}
  for i = 1, #list do c[i] = list[i] end
  return c
end

--- Every point of a grid of G points a side over the box (lo, hi), as
-- (values, index) to visit, the first index fastest.
local function each_point(boxes, lo, hi, G, visit)
  local k, v, idx = #boxes, {}, {}
  for i = 1, k do idx[i] = 0 end
  repeat
    for i = 1, k do
      local c = lo[i] + (hi[i] - lo[i]) * idx[i] / (G - 1)
      v[i] = boxes[i].log and math.exp(c) or c
    end
    visit(v, idx)
    local i = 1
    while i <= k do
      idx[i] = idx[i] + 1
      if idx[i] < G then break end
      idx[i], i = 0, i + 1
    end
  until i > k
end

--- The centre (search coordinates) of index idx of a grid of G points.
local function coords(lo, hi, G, idx)
  local c = {}
  for i = 1, #lo do c[i] = lo[i] + (hi[i] - lo[i]) * idx[i] / (G - 1) end
  return c
end

--- Refine around the point c (search coordinates, a cell of width cell
-- a side) until the box is at rounding level: the best values and rate.
local function refine(work, names, boxes, outer_lo, outer_hi, c, cell, lambdas, t)
  local k, G = #names, POINTS[#names] or 5
  local lo, hi, best, best_rate = {}, {}, nil, math.huge
  for i = 1, k do
    lo[i], hi[i] = math.max(outer_lo[i], c[i] - KEEP * cell[i]), math.min(outer_hi[i], c[i] + KEEP * cell[i])
  end
  for _ = 1, MAX_ROUNDS do
    local at, rate = nil, math.huge
    each_point(boxes, lo, hi, G, function(v, idx)
      local rho = rate_at(work, names, v, lambdas, t)
      if rho < rate then rate, at = rho, copy(idx) end
    end)
    if at == nil then break end
    local small, centre = true, coords(lo, hi, G, at)
    for i = 1, k do
      local w = (hi[i] - lo[i]) / (G - 1)
      lo[i], hi[i] = math.max(outer_lo[i], centre[i] - KEEP * w), math.min(outer_hi[i], centre[i] + KEEP * w)
      if hi[i] - lo[i] > 1e-13 * math.max(1, math.abs(centre[i])) then small = false end
    end
    if rate <= best_rate then
      best_rate, best = rate, {}
      for i = 1, k do best[i] = boxes[i].log and math.exp(centre[i]) or centre[i] end
    end
    if small then break end
  end
  return best, best_rate
end

--- The grid search: the best values (a list) and their rate.  The first
-- round's best points, if apart, are each refined: one of them may sit in
-- a basin that is not the deepest.
local function search(work, names, boxes, lambdas, t)
  local k, G = #names, FIRST[#names] or 7
  local lo, hi, cell = {}, {}, {}
  for i, b in ipairs(boxes) do
    lo[i], hi[i] = b.log and math.log(b.lo) or b.lo, b.log and math.log(b.hi) or b.hi
    cell[i] = (hi[i] - lo[i]) / (G - 1)
  end
  local found = {}
  each_point(boxes, lo, hi, G, function(v, idx)
    local rho = rate_at(work, names, v, lambdas, t)
    if rho < math.huge then found[#found + 1] = {rho, copy(idx)} end
  end)
  table.sort(found, function(a, b) return a[1] < b[1] end)
  local starts = {}
  for _, p in ipairs(found) do
    local apart = true
    for _, s in ipairs(starts) do
      local near = true
      for i = 1, k do near = near and math.abs(s[i] - p[2][i]) <= 2 * KEEP end
      apart = apart and not near
    end
    if apart then starts[#starts + 1] = p[2] end
    if #starts == STARTS then break end
  end
  local best, best_rate = nil, math.huge
  for _, s in ipairs(starts) do
    local v, rate = refine(work, names, boxes, lo, hi, coords(lo, hi, G, s), cell, lambdas, t)
    if v and rate < best_rate then best, best_rate = v, rate end
  end
  return best, best_rate
end

--- The closed form for rule r (class name, values) tuning names on [mu,
-- L], or nil: gradient descent's 2 / (mu + L); heavy ball's Polyak
-- (momentum, and sgd without dampening, weight decay or maximize);
-- Nesterov's (nag, nesterov, sgd with nesterov) on quadratics: lr = 4 /
-- (3 L + mu), momentum = (sqrt(3 kappa + 1) - 2) / (sqrt(3 kappa + 1) + 2),
-- rate 1 - 2 / sqrt(3 kappa + 1) (Lessard, Recht and Packard, "Analysis
-- and design of optimization algorithms via integral quadratic
-- constraints", SIAM J. Optim. 2016, section 4).
local function closed_form(class, values, names, mu, L)
  local set = table.concat(names, ",")
  local sgd_plain = class == "sgd" and values.dampening == 0 and values.weight_decay == 0 and
                    not values.maximize
  if (class == "gd" or (sgd_plain and values.momentum == 0)) and set == "lr" then
    return {lr = 2 / (mu + L)}, "closed form: 2 / (mu + L)"
  end
  local a, b = math.sqrt(L), math.sqrt(mu)
  if (class == "momentum" and (set == "lr,beta" or set == "beta,lr")) or
     (sgd_plain and not values.nesterov and (set == "lr,momentum" or set == "momentum,lr")) then
    local beta = ((a - b) / (a + b)) ^ 2
    return {lr = 4 / (a + b) ^ 2, [class == "sgd" and "momentum" or "beta"] = beta},
           "closed form: Polyak's heavy ball"
  end
  if (class == "nag" or class == "nesterov" or (sgd_plain and values.nesterov)) and
     (set == "lr,momentum" or set == "momentum,lr") then
    local s = math.sqrt(3 * L / mu + 1)
    return {lr = 4 / (3 * L + mu), momentum = (s - 2) / (s + 2)}, "closed form: Nesterov's on quadratics"
  end
end

--- optimal(r, lambdas (a list, ascending), opts, t): {rate, values, rule,
-- method, mu, L, kappa}.
function M.optimal(r, lambdas, opts, t)
  local mu, L = lambdas[1], lambdas[#lambdas]
  local info = native.rule_op(r, "info")
  local by = descriptors(r)
  local names = tuned_names(rawget(opts, "tune"), by, info.class.name)
  local range = rawget(opts, "range")
  if range ~= nil and type(range) ~= "table" then bad("option 'range' must be a table {name = {lo, hi}}") end
  local other = check.unknown(range or {}, names)
  if other ~= nil then bad("range.%s: %s is not tuned", check.keyname(other), check.keyname(other)) end
  local method = rawget(opts, "method") or "auto"
  if method ~= "auto" and method ~= "search" then
    bad("option 'method' must be 'auto' or 'search', got %s", tostring(method))
  end
  local boxes = {}
  for i, name in ipairs(names) do boxes[i] = interval(by[name], range and rawget(range, name), L) end
  local lvec = check.vec(lambdas, 2, FNAME)
  local values, how
  if method == "auto" and range == nil then values, how = closed_form(info.class.name, info.values, names, mu, L) end
  local tuned = r:clone()
  if values == nil then
    local work = r:clone()
    local best, rate = search(work, names, boxes, lvec, t)
    native.close(work)
    if best == nil or rate == math.huge then
      check.argerror(1, FNAME, "no values in the search ranges are allowed for " .. info.class.name)
    end
    values, how = {}, "search"
    for i, name in ipairs(names) do values[name] = best[i] end
  end
  for _, name in ipairs(names) do tuned[name] = values[name] end
  local rho, msg = native.analysis("rule_radius", tuned, lvec, t)
  if rho == nil then check.argerror(1, FNAME, msg) end
  return {rate = rho, values = values, rule = tuned, method = how, mu = mu, L = L, kappa = L / mu}
end

return M
