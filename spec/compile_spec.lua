-- Objectives written in Lua without grad, recorded and compiled by the
-- engine: gradients against closed forms worked out by hand, trajectories
-- against the built-ins, the Hessian, the printed expression, every
-- reason a function is not compiled, and the limit on its size.
local ms = require "momsandbox"
local h = require "spec.helpers"
local O = ms.objective

--- The largest difference between two vectors (tables or vecs), relative
-- to b's largest entry.
local function relerr(a, b)
  local worst, scale = 0, 0
  for i = 1, #b do
    scale = math.max(scale, math.abs(b[i]))
    if a[i] ~= b[i] then worst = math.max(worst, math.abs(a[i] - b[i])) end
  end
  if worst == 0 then return 0 end
  return worst / scale
end

-- The built-in test functions written in Lua as a user would, with their
-- gradients by hand.
local beale_c = {1.5, 2.25, 2.625}
local Q = {{2, 1, 0}, {1, 3, -0.5}, {0, -0.5, 4}}
local cases = {
  {name = "rosenbrock", dim = 2, builtin = O.rosenbrock(),
   f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end,
   g = function(x) return {-400 * x[1] * (x[2] - x[1]^2) - 2 * (1 - x[1]), 200 * (x[2] - x[1]^2)} end,
   at = {{-1.2, 1}, {0.5, 0.5}, {1.3, 1.7}}},
  {name = "rosenbrock, chained", dim = 5, builtin = O.rosenbrock{a = 2, b = 10, dim = 5},
   f = function(x)
     local s = 0
     for i = 1, #x - 1 do s = s + 10 * (x[i + 1] - x[i] * x[i])^2 + (2 - x[i])^2 end
     return s
   end,
   g = function(x)
     local g = {0, 0, 0, 0, 0}
     for i = 1, 4 do
       local u = x[i + 1] - x[i]^2
       g[i] = g[i] - 40 * x[i] * u - 2 * (2 - x[i])
       g[i + 1] = g[i + 1] + 20 * u
     end
     return g
   end,
   at = {{0.1, -0.3, 1.7, 0.4, 2.2}}},
  {name = "beale", dim = 2, builtin = O.beale(),
   f = function(x)
     local s = 0
     for k = 1, 3 do s = s + (beale_c[k] - x[1] + x[1] * x[2]^k)^2 end
     return s
   end,
   g = function(x)
     local gx, gy = 0, 0
     for k = 1, 3 do
       local r = beale_c[k] - x[1] + x[1] * x[2]^k
       gx = gx + 2 * r * (x[2]^k - 1)
       gy = gy + 2 * r * x[1] * k * x[2]^(k - 1)
     end
     return {gx, gy}
   end,
   at = {{1, 1}, {-2, 3.5}, {2.5, 0.2}}},
  {name = "booth", dim = 2, builtin = O.booth(),
   f = function(x) return (x[1] + 2 * x[2] - 7)^2 + (2 * x[1] + x[2] - 5)^2 end,
   g = function(x)
     local u, v = x[1] + 2 * x[2] - 7, 2 * x[1] + x[2] - 5
     return {2 * u + 4 * v, 4 * u + 2 * v}
   end,
   at = {{0, 0}, {-7, 4}}},
  {name = "himmelblau", dim = 2, builtin = O.himmelblau(),
   f = function(x) return (x[1]^2 + x[2] - 11)^2 + (x[1] + x[2]^2 - 7)^2 end,
   g = function(x)
     local u, v = x[1]^2 + x[2] - 11, x[1] + x[2]^2 - 7
     return {4 * x[1] * u + 2 * v, 2 * u + 4 * x[2] * v}
   end,
   at = {{0, 0}, {-4, 3.5}, {1.5, -2}}},
  {name = "quadratic", dim = 2, builtin = O.quadratic{0.2, 4},
   f = function(x) return 0.5 * 0.2 * x[1]^2 + 0.5 * 4 * x[2]^2 end,
   g = function(x) return {0.2 * x[1], 4 * x[2]} end,
   at = {{-5, -2}, {0.3, 0.7}}},
  {name = "quadratic form", dim = 3,
   builtin = O.quadratic_form{Q = Q, c = {1, -1, 0.5}, b = 5},
   f = function(x)
     local s = 5
     for i = 1, 3 do
       s = s + ({1, -1, 0.5})[i] * x[i]
       for j = 1, 3 do s = s + 0.5 * x[i] * Q[i][j] * x[j] end
     end
     return s
   end,
   g = function(x)
     local g = {}
     for i = 1, 3 do g[i] = ({1, -1, 0.5})[i] + Q[i][1] * x[1] + Q[i][2] * x[2] + Q[i][3] * x[3] end
     return g
   end,
   at = {{-0.8, 0.6, 2}, {3, -4, 1e-3}}},
}

-- The rotated quadratic, its matrix read from the built-in's Hessian.
do
  local rq = O.rotated_quadratic{kappa = 50, dim = 4, seed = 3}
  local R = rq:hessian{0, 0, 0, 0}
  cases[#cases + 1] = {name = "rotated quadratic", dim = 4, builtin = rq,
    f = function(x)
      local s = 0
      for i = 1, 4 do for j = 1, 4 do s = s + 0.5 * x[i] * R[i][j] * x[j] end end
      return s
    end,
    g = function(x)
      local g = {}
      for i = 1, 4 do g[i] = R[i][1] * x[1] + R[i][2] * x[2] + R[i][3] * x[3] + R[i][4] * x[4] end
      return g
    end,
    at = {{1, 2, 3, 4}, {-0.5, 0.25, 7, -3}}}
end

describe("an objective written in Lua without grad", function()
  it("is compiled, with gradients equal to the analytic ones to 1e-12 (relative)", function()
    for _, case in ipairs(cases) do
      local f = ms.objective{dim = case.dim, f = case.f}
      assert.are.equal("compiled", f.gradient, case.name)
      assert.is_nil(f.note)
      for _, x in ipairs(case.at) do
        local fx, g = f:eval(x)
        local want = case.g(x)
        assert.is_true(relerr(g, want) <= 1e-12, ("%s at {%s}: %g"):format(
          case.name, table.concat(x, ", "), relerr(g, want)))
        assert.is_true(relerr({fx}, {case.builtin(x)}) <= 1e-12, case.name)
        assert.is_true(relerr(g, case.builtin:grad(x)) <= 1e-12, case.name)
        local err = ms.gradcheck(f, x)
        assert.is_true(err < 1e-6, case.name)
      end
    end
  end)

  it("follows the built-in Rosenbrock's heavy-ball trajectory to 1e-10 (relative)", function()
    local f = ms.objective{dim = 2, f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end}
    local rule = function() return ms.momentum{lr = 1e-3, beta = 0.9} end
    local a = ms.trace(f, rule(), {x0 = {-1.2, 1}, steps = 100})
    local b = ms.trace(O.rosenbrock(), rule(), {x0 = {-1.2, 1}, steps = 100})
    assert.are.equal(101, #a)
    for t = 1, 101 do
      assert.is_true(relerr(a[t]:totable(), b[t]:totable()) <= 1e-10, "step " .. t - 1)
    end
  end)

  it("runs in a sweep on every thread, as the built-in does", function()
    local f = ms.objective{dim = 2, f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end}
    local opts = {objective = f, rule = "momentum", x0 = {-1.2, 1}, steps = 200, threads = 2,
                  grid = {lr = {from = 1e-4, to = 1e-3, n = 4}, beta = {0, 0.5, 0.9}}}
    local compiled = ms.sweep(opts)
    assert.are.equal(2, compiled.threads)
    opts.objective = O.rosenbrock()
    local builtin = ms.sweep(opts)
    for i = 1, #builtin do
      assert.is_true(relerr({compiled[i].loss}, {builtin[i].loss}) <= 1e-10)
    end
  end)

  it("has an exact Hessian", function()
    local f = ms.objective{dim = 2, f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end}
    local x1, x2 = -1.2, 1
    local H = f:hessian{x1, x2}
    local want = {{1200 * x1^2 - 400 * x2 + 2, -400 * x1}, {-400 * x1, 200}}
    for i = 1, 2 do assert.is_true(relerr(H[i], want[i]) <= 1e-13) end
    local q = ms.objective{dim = 3, f = cases[7].f}   -- the quadratic form: Q itself
    assert.are.same(Q, q:hessian{7, -1, 0.5})
    assert.are.same({{0.2, 0}, {0, 4}}, O.quadratic{0.2, 4}:hessian{1, 1})
    assert.matches("no exact Hessian", h.error_of(function() return O.booth():hessian{1, 1} end))
  end)

  it("is a quadratic to the analysis when it is a polynomial of degree 2", function()
    local q = ms.objective{dim = 2, f = function(x) return 0.1 * x[1]^2 + 2 * x[2] * x[2] end}
    assert.are.same(ms.analysis.optimal(O.quadratic{0.2, 4}), ms.analysis.optimal(q))
    local shifted = ms.objective{dim = 2, f = function(x) return (x[1] - 1)^2 + x[1] * x[2] + 3 end}
    assert.are.same({{2, 1}, {1, 0}}, ms.analysis.eigen(shifted) and shifted:hessian{5, 5})
    local r = ms.objective{dim = 2, f = function(x) return x[1]^2 * x[2] end}
    assert.has_error(function() ms.analysis.optimal(r) end)
    local e = ms.objective{dim = 1, f = function(x) return math.exp(x[1]) end}
    assert.has_error(function() ms.analysis.optimal(e) end)
  end)

  it("prints the expression it compiled", function()
    local f = ms.objective{dim = 2, f = function(x) return 100 * (x[2] - x[1]^2)^2 + (1 - x[1])^2 end}
    assert.are.equal("100*(x2 - x1^2)^2 + (1 - x1)^2", f:expression())
    local function sq(v) return v * v end
    local g = ms.objective{dim = 3, f = function(x)
      local s = 0
      for i = 1, #x do s = s + sq(x[i] - i) end
      return math.sin(x[1]) * math.exp(-x[2]) / math.sqrt(x[3]) + math.max(x[1], 2 * 3) + s
    end}
    assert.are.equal("sin(x1)*exp(-x2)/sqrt(x3) + max(x1, 6) + " ..
                     "((x1 - 1)*(x1 - 1) + (x2 - 2)*(x2 - 2) + (x3 - 3)*(x3 - 3))", g:expression())
    assert.matches("is not compiled %(its gradient is numeric%)",
                   h.error_of(function() return ms.objective{dim = 1, compile = false,
                                                             f = function(x) return x[1] end}:expression() end))
  end)

  it("shares common subexpressions and reads the math functions it knows", function()
    local f = ms.objective{dim = 2, f = function(x)
      local u = (x[1] + x[2]) * (x[2] + x[1])   -- one sum, both orders
      return u + math.tan(x[1]) + math.abs(x[2]) + math.log(x[1]) + math.atan(x[2]) +
             math.min(x[1], x[2], 0.5) + (math.tanh or math.sin)(x[2]) + math.cos(x[1])
    end}
    assert.are.equal("compiled", f.gradient)
    assert.matches("^%(x1 %+ x2%)%*%(x1 %+ x2%) %+ tan", f:expression())
    local x = {0.7, -1.3}
    local t = math.tanh and (1 - math.tanh(x[2])^2) or math.cos(x[2])
    local want = {2 * (x[1] + x[2]) + 1 / math.cos(x[1])^2 + 1 / x[1] - math.sin(x[1]),
                  2 * (x[1] + x[2]) - 1 + 1 / (1 + x[2]^2) + 1 + t}
    assert.is_true(relerr(f:grad(x), want) <= 1e-12)
  end)
end)

describe("a function that cannot be recorded", function()
  local function numeric(f, dim)
    local o = ms.objective{dim = dim or 2, f = f}
    assert.are.equal("numeric", o.gradient)
    return o.note
  end

  it("falls back to finite differences and says why: a branch on x", function()
    local note = numeric(function(x) if x[1] > 0 then return x[1] end return x[2] end)
    assert.matches("^not compiled, finite differences instead: f compares a value of x: a branch " ..
                   "on x cannot be recorded %(at .*compile_spec.lua:%d+%)$", note)
    -- and gives the same values as before
    local o = ms.objective{dim = 2, f = function(x) if x[1] > 0 then return x[1]^2 end return x[2] end}
    assert.is_true(math.abs(o:grad{3, 1}[1] - 6) < 1e-8)
  end)

  it("a value of x given to a function that takes numbers, as a math function copied before", function()
    local sin = math.sin
    local note = numeric(function(x) return sin(x[1]) + 1 end)
    assert.matches("f gives a value of x to a function that takes numbers: .*bad argument #1 .*" ..
                   "number expected, got table.* a local copy of a math function made before " ..
                   "ms.objective is such a function", note)
    assert.matches("got table", numeric(function(x) return math.floor(x[1]) end))
    assert.are.equal(sin, math.sin)   -- the math table as it was
  end)

  it("% and //, a method of x, a result that is not a number", function()
    assert.matches("f uses %% on a value of x, which has no derivative %(at .*compile_spec.lua:%d+%)",
                   numeric(function(x) return x[1] % 2 end))
    assert.matches("f calls x:norm, which the recorder does not know",
                   numeric(function(x) return x:norm() end))
    assert.matches("f returned a string, not a number", numeric(function() return "1" end))
    assert.matches("f returned nil, not a number", numeric(function() end))
    assert.matches("f uses a value of x as a string", numeric(function(x) return #(x[1] .. "") end))
    assert.matches("f failed on symbolic x: .*boom", numeric(function() error("boom") end))
  end)

  it("a test the recorder cannot see: found at the check point", function()
    local calls = 0
    local note = numeric(function(x) calls = calls + 1 return calls * x[1] end)
    assert.are.equal(2, calls)   -- recorded, then checked
    assert.matches("^not compiled, finite differences instead: f gives 1.309[%d]* at x = " ..
                   "%(0.654[%d]*, ...%), its recording 0.654[%d]*: f tests a value of x in a way the " ..
                   "recorder cannot see %(== with a number, or as a truth value%), or its result " ..
                   "changes from call to call$", note)
    if not jit then   -- // is Lua 5.4's
      assert.matches("f uses // on a value of x", numeric(load("return function(x) return x[1] // 2 end")()))
    end
  end)

  it("more than the engine's limit of operations: refused with a clear message", function()
    local note = numeric(function(x)
      local s = x[1]
      for i = 1, 2e6 do s = s * 1.5 + x[1] end
      return s
    end, 1)
    assert.matches("f has more than 1000000 operations %(the engine's limit%)", note)
  end)

  it("is an error naming the cause and the line with compile = true", function()
    local err = h.error_of(ms.objective, {dim = 2, compile = true, f = function(x)
      return x[1] < x[2] and x[1] or x[2]
    end})
    assert.matches("bad argument #1 to 'objective' %(f cannot be compiled: f compares a value of x: " ..
                   "a branch on x cannot be recorded %(at .*compile_spec.lua:%d+%)%)", err)
    assert.matches("compile must be a boolean", h.error_of(ms.objective,
                   {dim = 1, compile = 1, f = function(x) return x[1] end}))
    assert.matches("compile = true with grad", h.error_of(ms.objective,
                   {dim = 1, compile = true, f = function(x) return x[1] end,
                    grad = function(x, out) out[1] = 1 end}))
  end)

  it("keeps finite differences with compile = false, and the given gradient with grad", function()
    local calls = 0
    local o = ms.objective{dim = 1, compile = false, f = function(x) calls = calls + 1 return x[1]^3 end}
    assert.are.equal(0, calls)   -- never recorded
    assert.are.equal("numeric", o.gradient)
    assert.is_nil(o.note)
    assert.is_true(math.abs(o:grad{2}[1] - 12) < 1e-8)
    local g = ms.objective{dim = 1, f = function(x) return x[1]^3 end,
                           grad = function(x, out) out[1] = 3 * x[1]^2 end}
    assert.are.equal("given", g.gradient)
    assert.are.equal("given", O.booth().gradient)
  end)
end)

describe("the primitive objective_compile", function()
  local native = require "momsandbox.native"
  local V = function(t) return native.vec_from(t) end

  it("refuses malformed graphs with the engine's message, and no value crashes it", function()
    local function engine_error(dim, code)
      local o, msg, kind = native.objective_compile(dim, V(code))
      assert.is_nil(o)
      assert.are.equal("EINVAL", kind)
      return msg
    end
    assert.are.equal("node 1: variable 3 is not in [0, 1)", engine_error(1, {1, 3, 0, 0}))
    assert.are.equal("node 1: unknown operation 22", engine_error(1, {22, 0, 0, 0}))
    assert.are.equal("node 1: an operand is not an earlier node", engine_error(1, {2, 0, 0, 0}))
    assert.are.equal("an expression needs at least one node", engine_error(1, {}))
    local function arg_error(dim, code)
      local ok, err = pcall(native.objective_compile, dim, code)
      assert.is_false(ok)
      return err
    end
    assert.matches("a node's op, a and b must be integers in range", arg_error(1, V{0 / 0, 0, 0, 0}))
    assert.matches("a node's op, a and b must be integers in range", arg_error(1, V{1, 2^40, 0, 0}))
    assert.matches("a node's op, a and b must be integers in range", arg_error(1, V{-1, 0, 0, 0}))
    assert.matches("code must hold 4 numbers a node", arg_error(1, V{1, 0, 0}))
    assert.matches("dim must be in %[1, 2%^30%]", arg_error(0, V{1, 0, 0, 0}))
    for _, v in ipairs{1, "x", {}, print, true, 0 / 0, -1, 2^53} do
      pcall(native.objective_compile, v, V{1, 0, 0, 0})
      pcall(native.objective_compile, 1, v)
    end
    local f = native.objective_compile(1, V{1, 0, 0, 0, 8, 0, 0, 0})   -- x1^2
    assert.are.equal(9, native.objective_call(f, "value", V{3}))
    assert.are.same({2}, native.objective_call(f, "hessian", V{3}):totable())
  end)
end)
