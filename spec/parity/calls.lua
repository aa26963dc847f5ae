-- The same calls under both interpreters: spec/parity_spec.lua runs this
-- script with momsandbox (Lua 5.4) and momsandbox-jit (LuaJIT) and
-- compares what they print, byte for byte.  Good calls print their
-- results, labels and tostrings; bad ones print their error messages.
-- Numbers are printed with ms.util.format (tostring differs: 1.0 and 1).
local fmt = ms.util.format
local count = 0

-- A value as text: numbers shortest round trip, tables with sorted keys,
-- momsandbox objects by their tostring.
local function show(v, depth)
  depth = depth or 0
  local t = type(v)
  if t == "number" then return fmt(v) end
  if t == "string" then return ("%q"):format(v) end
  if t == "table" and getmetatable(v) == nil and depth < 3 then
    local keys = {}
    for k in pairs(v) do keys[#keys + 1] = k end
    table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
    local parts = {}
    for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. show(v[k], depth + 1) end
    return "{" .. table.concat(parts, ", ") .. "}"
  end
  if t == "function" or t == "thread" then return t end
  return tostring(v)
end

-- call(name, f, ...): f(...) under pcall; prints "name -> results" or
-- "name !! message".
local function pack(...) return {n = select("#", ...), ...} end

local function call(name, f, ...)
  count = count + 1
  local res = pack(pcall(f, ...))
  local n = res.n
  if res[1] then
    local out = {}
    for i = 2, n do out[#out + 1] = show(res[i]) end
    print(name .. " -> " .. table.concat(out, ", "))
  else
    -- the message, not the traceback a callback's error carries: stack
    -- frames are the interpreters' own
    local msg = type(res[2]) == "string" and res[2]:match("^[^\n]*") or res[2]
    print(name .. " !! " .. show(msg))
  end
end

-- The same through a line of this file: the message carries its position.
-- (Not through a tail call: a native method of LuaJIT, being Lua, would
-- give up the caller's frame and its line; Lua 5.4's C methods keep it.)
local function at(name, f)
  count = count + 1
  local ok, err = pcall(function()
    local r = f()
    return r
  end)
  print(name .. (ok and " -> ok" or " !! " .. show(err)))
end

local f = ms.objective.quadratic{0.2, 4}
local hb = ms.momentum{lr = 0.6, beta = 0.5}

-- vectors
local v = ms.vec{1, 2, 3}
call("vec table", ms.vec, {1, 2, 3})
call("vec n fill", ms.vec, 3, 7)
call("vec copy", ms.vec, v)
call("vec negative", ms.vec, -1)
call("vec huge", ms.vec, 2^40)
call("vec float size", ms.vec, 1.5)
call("vec string", ms.vec, "x")
call("vec bad entry", ms.vec, {1, "x", 3})
call("vec hole", ms.vec, {1, nil, 3})
call("vec numeric string", ms.vec, {"1", "2"})
call("linspace", ms.vec.linspace, 0, 1, 5)
call("linspace bad", ms.vec.linspace, 0, 1, -1)
call("dot", v.dot, v, ms.vec{1, 1, 1})
call("dot size", v.dot, v, ms.vec{1, 1})
call("dot type", v.dot, v, "x")
call("axpy", function() return ms.vec{1, 2}:axpy(2, ms.vec{1, 1}) end)
call("axpy bad alpha", function() local r = ms.vec{1, 2}:axpy("x", ms.vec{1, 1}); return r end)
call("axpy bad x", function() local r = ms.vec{1, 2}:axpy(1, "x"); return r end)
call("axpy bad self", v.axpy, nil, 1, v)
call("norm sum mean", function() return v:norm(), v:sum(), v:mean(), v:max(), v:min() end)
call("clamp", function() return ms.vec{-2, 0, 2}:clamp(-1, 1) end)
call("clamp inverted", function() local r = ms.vec{-2, 0, 2}:clamp(1, -1); return r end)
call("index", function() return v[2] end)
call("index out", function() return v[4] end)
call("index float", function() return v[1.5] end)
call("newindex", function() local w = ms.vec{1}; w[1] = 5; return w end)
call("newindex bad value", function() local w = ms.vec{1}; w[1] = "x"; return w end)
call("newindex field", function() local w = ms.vec{1}; w.foo = 1; return w end)
call("len", function() return #v end)
call("arith", function() return v + v, v - v, v * 2, 2 * v, v / 2, -v end)
call("arith size", function() return v + ms.vec{1} end)
call("eq", function() return v == ms.vec{1, 2, 3}, v == ms.vec{1, 2}, v == f end)
call("totable", v.totable, v)
call("tostring long", function() return tostring(ms.vec(20, 0.5)) end)

-- objectives
call("quadratic", ms.objective.quadratic, {0.2, 4})
call("quadratic empty", ms.objective.quadratic, {})
call("quadratic bad", ms.objective.quadratic, {0.2, "x"})
call("quadratic_form", ms.objective.quadratic_form, {Q = {{2, 0}, {0, 1}}, c = {1, 1}, b = 3})
call("quadratic_form ragged", ms.objective.quadratic_form, {Q = {{2, 0}, {0}}})
call("quadratic_form unknown", ms.objective.quadratic_form, {Q = {{1}}, zz = 1, yy = 2})
call("rosenbrock", ms.objective.rosenbrock, {})
call("rosenbrock dim", ms.objective.rosenbrock, {dim = 4})
call("rosenbrock bad dim", ms.objective.rosenbrock, {dim = 1.5})
call("beale booth himmelblau", function()
  return ms.objective.beale(), ms.objective.booth(), ms.objective.himmelblau()
end)
call("rotated", ms.objective.rotated_quadratic, {kappa = 10, dim = 3, seed = 1})
call("value", function() return f:value{1, 1}, f{1, 1}, f(1, 1) end)
call("grad", function() return f:grad{1, 1} end)
call("eval", function() return f:eval{1, 1} end)
call("value wrong size", function() return f:value{1, 1, 1} end)
call("value bad", function() return f:value("x") end)
call("fields", function() return f.dim, f.name, f.window end)
call("lua objective", function()
  local g = ms.objective{dim = 2, f = function(x) return x[1]^2 + 3 * x[2]^2 end, name = "bowl"}
  return g, g:value{1, 1}, g.name
end)
call("lua objective bad return", function()
  local g = ms.objective{dim = 1, f = function() return "x" end}
  return g:value{1}
end)
call("lua objective dim", ms.objective, {dim = 0, f = function() return 0 end})
call("lua objective no f", ms.objective, {dim = 2})
call("gradcheck", function()
  local g = ms.objective{dim = 2, f = function(x) return x[1]^2 + x[2]^2 end,
                         grad = function(x, out) out[1] = 2 * x[1]; out[2] = 2 * x[2] end}
  local err, i = ms.gradcheck(g, {1, 2})
  return err < 1e-6, i
end)

-- schedules
call("constant", ms.schedule.constant, {base = 0.1})
call("step", ms.schedule.step, {base = 0.1, step_size = 10, gamma = 0.5})
call("step values", function() return ms.schedule.step{base = 0.1, step_size = 2, gamma = 0.5}:values(5) end)
call("multistep", ms.schedule.multistep, {base = 1, milestones = {2, 4}, gamma = 0.1})
call("multistep many", function()
  local m = {}
  for i = 1, 1000 do m[i] = i end
  local s = ms.schedule.multistep{base = 1, milestones = m, gamma = 0.999}
  return s(1000)
end)
call("multistep unsorted", ms.schedule.multistep, {base = 1, milestones = {4, 2}, gamma = 0.1})
call("exponential", ms.schedule.exponential, {base = 1, gamma = 0.9})
call("cosine", function() return ms.schedule.cosine{base = 1, steps = 10}(5) end)
call("linear", ms.schedule.linear, {base = 1, start = 1, ["end"] = 0, steps = 10})
call("polynomial", ms.schedule.polynomial, {base = 1, steps = 10, power = 2})
call("inverse_sqrt", ms.schedule.inverse_sqrt, {base = 1, warmup = 4})
call("schedule unknown", ms.schedule.step, {base = 1, step_size = 2, zz = 1, aa = 2})
call("schedule bad gamma", ms.schedule.exponential, {base = 1, gamma = "x"})
call("schedule call bad", function() return ms.schedule.constant{base = 1}("x") end)
call("schedule t 0", function() return ms.schedule.constant{base = 1}(0) end)
call("values too many", function() return ms.schedule.constant{base = 1}:values(1e8) end)
call("warmup", function()
  return ms.schedule.warmup{steps = 2, start = 0, after = ms.schedule.constant{base = 1}}:values(4)
end)

-- rules
call("momentum", ms.momentum, {lr = 0.6, beta = 0.5})
call("gd", ms.gd, {lr = 0.1})
call("gd missing lr", ms.gd, {})
call("gd negative lr", ms.gd, {lr = -1})
call("gd unknown", ms.gd, {lr = 1, zz = 1, bb = 2})
call("momentum two bad", ms.momentum, {lr = -1, beta = 2})
call("nesterov adam sgd", function()
  return ms.nesterov{lr = 0.1, momentum = 0.9}, ms.adam{lr = 0.01}, ms.sgd{lr = 0.1, momentum = 0.9}
end)
call("rule fields", function() return hb.lr, hb.beta, hb.name, hb.steps, hb.label end)
call("rule set", function() local r = ms.momentum{lr = 0.6, beta = 0.5}; r.lr = 0.3; return r end)
call("rule set bad", function() local r = ms.momentum{lr = 0.6, beta = 0.5}; r.lr = "x"; return r end)
call("rule set unknown", function() local r = ms.momentum{lr = 0.6, beta = 0.5}; r.zz = 1; return r end)
call("rule schedule", function()
  return ms.gd{lr = ms.schedule.exponential{base = 1, gamma = 0.5}}
end)
call("rule step", function()
  local r = ms.momentum{lr = 0.5, beta = 0.5}
  local x = ms.vec{1, 1}
  r:step(x, ms.vec{1, 2})
  return x, r.steps
end)
call("rule step size", function() return ms.gd{lr = 1}:step(ms.vec{1, 1}, ms.vec{1}) end)
call("rule hyper state", function()
  local r = ms.momentum{lr = 0.5, beta = 0.5}
  r:step(ms.vec{1}, ms.vec{1})
  return r:hyper(), r:state()
end)
call("rule clone reset", function()
  local r = ms.momentum{lr = 0.5, beta = 0.5}
  r:step(ms.vec{1}, ms.vec{1})
  local c = r:clone()
  r:reset()
  return c.steps, r.steps
end)
local quick = ms.rule{
  name = "quick", hyper = {lr = {default = 0.1, min = 0}}, state = {"v"},
  step = function(p, g, s, h) s.v:scale(0.5):add(g); p:axpy(-h.lr, s.v) end,
}
call("lua rule class", function() return quick end)
call("lua rule", function() return quick{lr = 0.2} end)
call("lua rule bad hyper", function() return quick{lr = -1} end)
call("lua rule bad def", ms.rule, {name = "q", hyper = {lr = {min = "x"}}, step = function() end})
call("lua rule no step", ms.rule, {name = "q"})
call("lua rule writes h", function()
  local bad = ms.rule{name = "w", hyper = {lr = {default = 1}},
                      step = function(p, g, s, h) h.lr = 2 end}
  return ms.trace(f, bad{}, {x0 = {1, 1}, steps = 1})
end)
call("lua rule many hypers", function()
  local hyper = {}
  for i = 1, 200 do hyper["h" .. i] = {default = i} end
  local big = ms.rule{name = "big", hyper = hyper, step = function() end}
  return #tostring(big{})
end)

-- traces
local tr = ms.trace(f, hb, {x0 = {-5, -2}, steps = 20})
call("trace", function() return tr end)
call("trace fields", function() return tr.steps, tr.dim, tr.diverged, #tr end)
call("trace point", function() return tr:point(1), tr:point(-1), tr:value(3), tr:step(2) end)
call("trace point out", function() return tr:point(100) end)
call("trace point bad", function() return tr:point("a") end)
call("trace column", function() return tr:column(1) end)
call("trace column bad", function() return tr:column(1.5) end)
call("trace index", function() return tr[2] end)
call("trace value alone", function() return tr:value(-1) end)
call("traces of two objectives in turn", function()
  local g, r = ms.objective.rosenbrock(), ms.momentum{lr = 0.001}
  local a, b = ms.trace(f, r, {x0 = {1, 1}, steps = 2}), ms.trace(g, r, {x0 = {1, 1}, steps = 2})
  r.beta = 0.5
  local c = ms.trace(f, r, {x0 = {1, 1}, steps = 2})
  return a.rule, a.objective, b.rule, b.objective, c.rule, c.objective
end)
call("trace no x0", ms.trace, f, hb, {steps = 5})
call("trace bad steps", ms.trace, f, hb, {x0 = {1, 1}, steps = -5})
call("trace wrong dim", ms.trace, f, hb, {x0 = {1, 1, 1}})
call("trace bad objective", ms.trace, "f", hb, {x0 = {1, 1}})
call("trace bad rule", ms.trace, f, "hb", {x0 = {1, 1}})
call("trace unknown", ms.trace, f, hb, {x0 = {1, 1}, zz = 1, aa = 2})
call("trace bad x0", ms.trace, f, hb, {x0 = {1, "a"}})
call("trace hole in x0", ms.trace, f, hb, {x0 = {1, nil, 1}})
call("trace label", function() return ms.trace(f, hb, {x0 = {1, 1}, steps = 1.0}).rule end)
call("trace diverges", function()
  local t = ms.trace(f, ms.gd{lr = 10}, {x0 = {1, 1}, steps = 1000})
  return t.diverged, t.reason
end)
call("trace lua rule", function()
  return ms.trace(f, quick{lr = 0.1}, {x0 = {1, 1}, steps = 10}):point(-1)
end)

-- data, models, training
call("synthetic", function()
  local d = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 10, seed = 1}
  return d, #d, d.features
end)
call("from", function() return ms.data.from{X = {{1, 2}, {3, 4}}, y = {1, 2}} end)
call("from ragged", ms.data.from, {X = {{1, 2}, {3}}, y = {1, 2}})
call("from sizes", ms.data.from, {X = {{1, 2}, {3, 4}}, y = {1}})
call("load missing", ms.data.load, "/nonexistent/file.dat")
call("load zero byte", ms.data.load, "a\0b")
call("linreg", function() return ms.model.linreg{features = 2} end)
call("linreg bad", ms.model.linreg, {features = 0})
call("train", function()
  local d = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 100, seed = 1}
  local m = ms.model.linreg{features = 2}
  local res = ms.train{model = m, data = d, rule = ms.sgd{lr = 0.03}, batch = 10, epochs = 3,
                       seed = 1}
  return res.epochs, res.steps, res.loss < 1
end)
call("train bad batch", function()
  local d = ms.data.synthetic{w = {2}, b = 0, n = 10, seed = 1}
  return ms.train{model = ms.model.linreg{features = 1}, data = d, rule = ms.sgd{lr = 0.1},
                  batch = 0}
end)

-- sweeps
call("sweep", function()
  local sw = ms.sweep{objective = f, rule = ms.momentum{lr = 0.1, beta = 0.5}, x0 = {-5, -2},
                      steps = 50, grid = {lr = {0.1, 0.2}, beta = {0, 0.5}}}
  return #sw, sw:best("loss")
end)
call("sweep unknown axis", function()
  return ms.sweep{objective = f, rule = ms.gd{lr = 0.1}, x0 = {1, 1}, steps = 5,
                  grid = {zz = {1, 2}}}
end)
call("sweep bad steps", function()
  return #ms.sweep{objective = f, rule = ms.gd{lr = 0.1}, x0 = {1, 1}, steps = -1,
                   grid = {lr = {0.1}}}
end)

-- analysis, rng, util
call("radius", ms.analysis.radius, 0.5, 0.1, 4)
call("converges", ms.analysis.converges, 0.5, 0.1, 4)
call("optimal", ms.analysis.optimal, f)
call("eigenvalues", ms.analysis.eigenvalues, 0.5, 0.1, 4)
call("radius bad", ms.analysis.radius, "x", 0.1, 4)
call("rule matrix", ms.analysis.matrix, ms.nag{lr = 0.1, momentum = 0.5}, 2)
call("rule matrix bad", ms.analysis.matrix, ms.adam{lr = 0.1}, 2)
call("rule radius", ms.analysis.radius, ms.momentum{lr = 0.6, beta = 0.5}, 4)
call("rule rate", ms.analysis.rate, ms.qhm{lr = 0.5, beta = 0.5}, f)
call("rule rate bad", ms.analysis.rate, ms.gd{lr = 0.1}, ms.objective.rosenbrock())
call("rule eigenvalues", ms.analysis.eigenvalues, ms.aggmo{lr = 0.1}, 1)
call("rule optimal", function()
  local o = ms.analysis.optimal(ms.nag{lr = 0.1}, f, {tune = {"lr", "momentum"}})
  return o.rate, o.values, o.method, o.rule
end)
call("rule optimal bad", ms.analysis.optimal, ms.momentum{lr = 0.1}, f, {tune = {"eta"}})
call("region", function()
  local reg = ms.analysis.region{rule = ms.momentum{lr = 0.1}, x = "lr", y = "beta", lambda = 1,
                                 grid = {lr = {0.5, 1}, beta = {0, 0.5}}}
  return reg, #reg, reg[2], reg:best()
end)
call("region bad", ms.analysis.region, {rule = ms.momentum{lr = 0.1}, x = "lr", y = "beta", lambda = 1})
-- of several unknown keys, the smallest is named (not the first pairs meets)
call("region grid keys", ms.analysis.region, {rule = ms.momentum{lr = 0.1}, x = "lr", y = "beta",
     lambda = 1, grid = {lr = {0.1}, beta = {0.5}, zz = 1, mm = 2, aa = 3}})
call("region range n", ms.analysis.region, {rule = ms.momentum{lr = 0.1}, x = "lr", y = "beta",
     lambda = 1, grid = {lr = {from = 0.1, to = 1, n = 2.5}, beta = {0.5}}})
call("optimal range keys", ms.analysis.optimal, ms.momentum{lr = 0.1}, f,
     {tune = {"lr"}, range = {zz = {0, 1}, mm = {0, 1}, aa = {0, 1}}})
call("plot keys", ms.plot.figure.lines, {series = {{y = {1, 2}}}, zz = 1, mm = 2, aa = 3})
call("components", function()
  return ms.trace(ms.objective.quadratic{0.5, 2}, ms.gd{lr = 0.4}, {x0 = {1, 1}, steps = 3}):components()
end)
call("rng", function() local g = ms.rng(42); return g, g:uniform(), g:below(10) end)
call("rng bad", ms.rng, 1.5)
call("rng shuffle", function() return ms.rng(1):shuffle{1, 2, 3, 4, 5} end)
call("format", ms.util.format, 1 / 3)
call("which none", ms.util.which, "no-such-program-here")
call("write zero byte", ms.util.write, "a\0b", "x")

-- messages at a line of this file
at("at vec", function() return ms.vec(-1) end)
at("at gd", function() return ms.gd{lr = -1} end)
at("at trace", function() return ms.trace(f, hb, {x0 = {1}}) end)
at("at axpy", function() local r = ms.vec{1}:axpy(1, "x"); return r end)
-- the checks of what a callback gave back are the callback's errors: raised
-- as they came, with no position of this file
local bad_f = ms.objective{dim = 1, f = function() return {} end}
local lazy = ms.objective{dim = 1, f = function(x) return x[1] end, grad = function() end}
local no_p = ms.rule{name = "no_p", step = function() return 1 end}
at("at f returned", function() return ms.trace(bad_f, ms.gd{lr = 0.1}, {x0 = {1}, steps = 1}) end)
at("at grad unset", function() return ms.trace(lazy, ms.gd{lr = 0.1}, {x0 = {1}, steps = 1}) end)
at("at step returned", function() return ms.trace(f, no_p{}, {x0 = {1, 1}, steps = 1}) end)
at("at rule:step returned", function() return no_p{}:step(ms.vec{1}, {1}) end)
-- an engine failure inside the loop (LuaJIT's, written in Lua) is the
-- call's error, at this line
at("at schedule value", function()
  return ms.trace(f, ms.gd{lr = function() return -1 end}, {x0 = {1, 1}, steps = 1})
end)

print(("%d calls"):format(count))
