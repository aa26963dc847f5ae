--- momsandbox.record: an objective written in Lua, run once on symbolic
-- inputs and recorded as an expression graph for the engine
-- (ms_objective_expr), the same under Lua 5.4 and LuaJIT.
--
-- f(x) is called with x[i] standing for the variables.  Arithmetic on them
-- (+ - * / ^ and unary -) and the math functions sin cos tan exp log sqrt
-- abs tanh atan atan2 pow min max make nodes; numbers and upvalues are
-- constants, read once; loops and helper functions unroll.  Equal
-- operations on equal operands make one node (hashed), so common
-- subexpressions are shared, and arithmetic on numbers alone is plain Lua:
-- constants come folded.  What cannot be recorded raises a refusal that
-- says why and where: a comparison of a value of x (a branch), % or //,
-- a value of x given to a function that takes numbers (one the recorder
-- does not know: a local copy of math.sin made before recording is one),
-- a result that is not a number, more than MS_EXPR_NODES_MAX nodes.
--
-- The math table's functions are swapped for recording ones while f runs
-- (restored whatever happens), so f sees them through `math` whether it
-- reads the global or holds the table as an upvalue.  Nothing recurses
-- over the graph: nodes are made in topological order, and printing walks
-- them in that order.
local native = require "momsandbox.native"

local M = {}

-- ms_expr_op, in the engine's order (core/include/momsandbox.h).
local OP = {}
for i, name in ipairs{"const", "var", "add", "sub", "mul", "div", "pow", "neg", "sqr", "powc",
                      "sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "atan",
                      "atan2", "min", "max"} do
  OP[name] = i - 1
end
M.OP = OP
local UNARY = {}
for _, name in ipairs{"neg", "sqr", "powc", "sin", "cos", "tan", "exp", "log", "sqrt", "abs",
                      "tanh", "atan"} do
  UNARY[OP[name]] = true
end

M.LIMIT = 1000000   -- MS_EXPR_NODES_MAX

local Sym = {}      -- the metatable of symbolic values: {id}
local Refusal = {}  -- the metatable of a refusal: {cause =, where =}
local rec           -- the recording under way: {op, a, b, c, n, memo, consts, vars}

local function is_sym(v) return getmetatable(v) == Sym end

local this_file = debug.getinfo(1, "S").source

--- "file:line" of the user's code running at the stack's top (the first
-- Lua frame from level on that is not this file), or nil.
local runner   -- the function of this file that calls f: where stops there
local function where(level)
  for l = level or 3, 200 do
    local i = debug.getinfo(l, "Slf")
    if i == nil or i.func == runner then return nil end
    if i.currentline and i.currentline > 0 and i.source ~= this_file then
      return ("%s:%d"):format(i.short_src, i.currentline)
    end
  end
end

--- The recording under way; a value kept from one that has ended is dead.
local function state()
  if rec == nil then
    error("a value of x kept from the recording of an objective's f is no longer valid", 3)
  end
  return rec
end

--- Raise a refusal, and remember it: f may catch it with pcall, which
-- does not make f recordable.
local function refuse(cause)
  local r = setmetatable({cause = cause, where = where(3)}, Refusal)
  state().refused = rec.refused or r
  error(r, 0)
end

------------------------------------------------------------ nodes

local function add_node(op, a, b, c)
  local n = state().n + 1
  if n > M.LIMIT then
    refuse(("f has more than %d operations (the engine's limit)"):format(M.LIMIT))
  end
  rec.n = n
  rec.op[n], rec.a[n], rec.b[n], rec.c[n] = op, a, b, c
  return setmetatable({n}, Sym)
end

--- The node of the constant v, one per value (0 and -0 apart).
local function const(v)
  state()
  local key = v
  if v ~= v then key = "nan" elseif v == 0 then key = 1 / v > 0 and "0" or "-0" end
  local s = rec.consts[key]
  if s == nil then
    s = add_node(OP.const, 0, 0, v)
    rec.consts[key] = s
  end
  return s
end

--- v as a node id: a symbolic value, or a number made a constant.
local function id(v, what)
  if is_sym(v) then return v[1] end
  local x = type(v) == "number" and v or type(v) == "string" and tonumber(v)
  if not x then refuse(("f %s a %s and a value of x"):format(what, type(v))) end
  return const(x)[1]
end

-- ids stay below 2^21 (M.LIMIT < 2^21), so the key is exact
local function key(op, a, b) return (op * 2097152 + a) * 2097152 + b end

--- The node op(a, b) (ids; b = 0 for unary operations), shared with an
-- equal one made before.
local function make(op, a, b, c)
  local k = key(op, a, b)
  local s = state().memo[k]
  if s == nil then
    s = add_node(op, a, b, c or 0)
    rec.memo[k] = s
  end
  return s
end

--- a op b for op commutative: b op a, bit for bit, is the same node (made
-- in the order first met, for printing).
local function commutative(op, p, q, what)
  local a, b = id(p, what), id(q, what)
  local k = a < b and key(op, a, b) or key(op, b, a)
  local s = state().memo[k]
  if s == nil then
    s = add_node(op, a, b, 0)
    rec.memo[k] = s
  end
  return s
end

local function nonnumber(v) return type(v) ~= "number" end

Sym.__add = function(p, q)
  if q == 0 then return p elseif p == 0 then return q end   -- sums from 0
  return commutative(OP.add, p, q, "adds")
end
Sym.__mul = function(p, q)
  if q == 1 then return p elseif p == 1 then return q end   -- exact
  return commutative(OP.mul, p, q, "multiplies")
end
Sym.__sub = function(p, q)
  if q == 0 then return p end   -- x - 0 is x, -0 included
  return make(OP.sub, id(p, "subtracts"), id(q, "subtracts"))
end
Sym.__div = function(p, q)
  if q == 1 then return p end
  return make(OP.div, id(p, "divides"), id(q, "divides"))
end
Sym.__unm = function(p) return make(OP.neg, p[1], 0) end
Sym.__pow = function(p, q)
  if is_sym(q) or nonnumber(q) then return make(OP.pow, id(p, "raises"), id(q, "raises")) end
  if q == 1 then return p end
  if q == 2 then return make(OP.sqr, p[1], 0) end
  return make(OP.powc, p[1], const(q)[1], q)   -- b keys the exponent
end

local function refusal(text)
  return function() refuse(text) end
end
local compares = refusal("f compares a value of x: a branch on x cannot be recorded")
Sym.__lt, Sym.__le, Sym.__eq = compares, compares, compares
Sym.__mod = refusal("f uses % on a value of x, which has no derivative")
Sym.__idiv = refusal("f uses // on a value of x, which has no derivative")
for _, mm in ipairs{"__band", "__bor", "__bxor", "__shl", "__shr", "__bnot"} do
  Sym[mm] = refusal("f uses a bitwise operation on a value of x")
end
Sym.__concat = refusal("f uses a value of x as a string")
Sym.__len = refusal("f takes the length of a value of x")
Sym.__call = refusal("f calls a value of x")
Sym.__index = refusal("f indexes a value of x")
Sym.__newindex = Sym.__index

------------------------------------------------------------ math

local unary_fns = {sin = "sin", cos = "cos", tan = "tan", exp = "exp", sqrt = "sqrt",
                   abs = "abs", tanh = "tanh"}

--- The recording twins of the math functions (orig: the originals).
local function twins(orig)
  local t = {}
  for name, op in pairs(unary_fns) do
    t[name] = function(v, ...)
      if is_sym(v) then return make(OP[op], v[1], 0) end
      return orig[name](v, ...)
    end
  end
  t.log = function(v, base)
    if not is_sym(v) and not is_sym(base) then return orig.log(v, base) end
    local l = make(OP.log, id(v, "takes the log of"), 0)
    if base == nil then return l end
    if is_sym(base) then return l / make(OP.log, base[1], 0) end
    return l / orig.log(base)
  end
  t.atan = function(y, x)
    if not is_sym(y) and not is_sym(x) then return orig.atan(y, x) end
    if x == nil then return make(OP.atan, y[1], 0) end
    return make(OP.atan2, id(y, "takes atan of"), id(x, "takes atan of"))
  end
  t.atan2 = function(y, x)
    if not is_sym(y) and not is_sym(x) then return orig.atan2(y, x) end
    return make(OP.atan2, id(y, "takes atan2 of"), id(x, "takes atan2 of"))
  end
  t.pow = function(p, q)
    if not is_sym(p) and not is_sym(q) then return orig.pow(p, q) end
    if is_sym(p) then return Sym.__pow(p, q) end
    return make(OP.pow, id(p, "raises"), q[1])
  end
  -- as Lua's: the first of the smallest (largest), pairwise from the left
  for _, name in ipairs{"min", "max"} do
    t[name] = function(...)
      local n, m = select("#", ...), (...)
      local any = false
      for i = 1, n do any = any or is_sym((select(i, ...))) end
      if not any then return orig[name](...) end
      for i = 2, n do m = make(OP[name], id(m, "takes the " .. name .. " of"),
                               id((select(i, ...)), "takes the " .. name .. " of")) end
      return m
    end
  end
  return t
end

--- Run fn with the math table's functions swapped for recording twins,
-- restoring them whatever happens; fn's result, or its error raised.
local function with_math(fn)
  local orig = {}
  for name in pairs(twins({})) do orig[name] = rawget(math, name) end
  for name, f in pairs(twins(orig)) do
    if orig[name] ~= nil then rawset(math, name, f) end
  end
  local ok, r = pcall(fn)
  for name, f in pairs(orig) do rawset(math, name, f) end
  if not ok then error(r, 0) end
  return r
end

------------------------------------------------------------ recording

--- The symbolic x of dim variables: x[i], #x.  Under LuaJIT a userdata
-- (its tables ignore __len); nodes are made when first read.
local function symbolic_x(dim)
  local mt = {
    __len = function() return dim end,
    __index = function(_, i)
      state()
      if type(i) ~= "number" or i ~= math.floor(i) or i < 1 or i > dim then
        if type(i) == "string" then refuse(("f calls x:%s, which the recorder does not know"):format(i)) end
        refuse(("f reads x[%s], outside 1..%d"):format(tostring(i), dim))
      end
      local s = state().vars[i]
      if s == nil then
        s = add_node(OP.var, i - 1, 0, 0)
        rec.vars[i] = s
      end
      return s
    end,
    __newindex = function() refuse("f assigns to x") end,
  }
  if newproxy then
    local x = newproxy(true)
    for k, v in pairs(mt) do getmetatable(x)[k] = v end
    return x
  end
  return setmetatable({}, mt)
end

--- A refusal's text, with where it happened.
local function explain(err, tb_where)
  if getmetatable(err) == Refusal then
    return err.cause .. (err.where and (" (at " .. err.where .. ")") or "")
  end
  local msg = tostring(err)
  if msg:find("attempt to compare") then   -- LuaJIT: number with table
    return ("f compares a value of x: a branch on x cannot be recorded (at %s)"):format(tb_where)
  end
  if msg:find("got table") or msg:find("got userdata") then
    return ("f gives a value of x to a function that takes numbers: %s%s; a local copy " ..
            "of a math function made before ms.objective is such a function"):format(
            msg, tb_where and (" (at " .. tb_where .. ")") or "")
  end
  return ("f failed on symbolic x: %s%s"):format(msg, tb_where and not msg:find(tb_where, 1, true)
                                                  and (" (at " .. tb_where .. ")") or "")
end

--- Record f of dim variables: the graph {op, a, b, c (arrays), n} whose
-- last node is f, or nil and why not.
function M.record(f, dim)
  if rec ~= nil then return nil, "f was being recorded already (an objective defined inside f)" end
  rec = {op = {}, a = {}, b = {}, c = {}, n = 0, memo = {}, consts = {}, vars = {}}
  local graph = rec
  local err_where
  local function handler(e)
    if getmetatable(e) ~= Refusal then err_where = where(2) end
    return e
  end
  local x = symbolic_x(dim)
  runner = function()
    local done, v = xpcall(f, handler, x)
    if not done then error(v, 0) end
    return v
  end
  local ok, r = pcall(with_math, runner)
  if ok and rec.refused then ok, r = false, rec.refused end
  rec = nil
  if ok then
    if type(r) == "number" then
      rec = graph
      ok, r = pcall(const, r)
      rec = nil
    elseif not is_sym(r) then
      return nil, ("f returned %s, not a number"):format(r == nil and "nil" or "a " .. type(r))
    end
  end
  if not ok then
    local i = debug.getinfo(f, "S")
    return nil, explain(r, err_where or ("%s:%d, where f is defined"):format(i.short_src, i.linedefined))
  end
  -- the nodes after f's are not f's operands: they go
  local last = r[1]
  for i = last + 1, graph.n do graph.op[i], graph.a[i], graph.b[i], graph.c[i] = nil, nil, nil, nil end
  graph.n = last
  graph.memo, graph.consts, graph.vars = nil, nil, nil
  return graph
end

--- The graph as the engine's code: 4 numbers a node, 0-based operands.
function M.code(g)
  local t, op, a, b, c = {}, g.op, g.a, g.b, g.c
  for i = 1, g.n do
    local o = op[i]
    local k = 4 * (i - 1)
    t[k + 1] = o
    if o == OP.var then
      t[k + 2], t[k + 3] = a[i], 0
    elseif o == OP.const then
      t[k + 2], t[k + 3] = 0, 0
    else
      t[k + 2], t[k + 3] = a[i] - 1, UNARY[o] and 0 or b[i] - 1
    end
    t[k + 4] = c[i]
  end
  return t
end

------------------------------------------------------------ printing

-- Precedence: 1 sums, 2 products, 2.5 negation (and negative numbers:
-- bracketed after * or /, not before), 4 powers, 5 atoms.
local INFIX = {[OP.add] = {" + ", 1}, [OP.sub] = {" - ", 1}, [OP.mul] = {"*", 2},
               [OP.div] = {"/", 2}, [OP.pow] = {"^", 4}}
local CALL = {}
for _, name in ipairs{"sin", "cos", "tan", "exp", "log", "sqrt", "abs", "tanh", "atan",
                      "min", "max"} do
  CALL[OP[name]] = name
end
CALL[OP.atan2] = "atan"

local MAXCHARS = 100000   -- longer texts are cut, with "..."

local function paren(s, p, min)
  if p < min then return "(" .. s .. ")" end
  return s
end

local function cut(s)
  if #s > MAXCHARS then return s:sub(1, MAXCHARS) .. "..." end
  return s
end

--- The expression g computes, as text: x1, x2, ... for the variables.
-- Nodes in order, each text made of its operands' and dropped when its
-- last user has it.
function M.text(g)
  local fmt = native.format
  local op, a, b, c = g.op, g.a, g.b, g.c
  local uses = {}
  for i = 1, g.n do
    if op[i] ~= OP.var and op[i] ~= OP.const then
      uses[a[i]] = (uses[a[i]] or 0) + 1
      if not UNARY[op[i]] then uses[b[i]] = (uses[b[i]] or 0) + 1 end
    end
  end
  local text, prec = {}, {}
  local function take(j)
    local s, p = text[j], prec[j]
    uses[j] = uses[j] - 1
    if uses[j] == 0 then text[j] = nil end
    return s, p
  end
  for i = 1, g.n do
    local o, p = op[i], 5
    local s
    if o == OP.var then
      s = "x" .. (a[i] + 1)
    elseif o == OP.const then
      s = fmt(c[i])
      if c[i] < 0 or (c[i] == 0 and 1 / c[i] < 0) then p = 2.5 end
    elseif INFIX[o] then
      local sym, q = INFIX[o][1], INFIX[o][2]
      local sa, pa = take(a[i])
      local sb, pb = take(b[i])
      if o == OP.pow then
        s = paren(sa, pa, 5) .. sym .. paren(sb, pb, 5)
      else
        s = paren(sa, pa, q) .. sym .. paren(sb, pb, q + 1)
      end
      p = q
    elseif o == OP.neg then
      local sa, pa = take(a[i])
      s, p = "-" .. paren(sa, pa, 4), 2.5
    elseif o == OP.sqr or o == OP.powc then
      local sa, pa = take(a[i])
      local e = o == OP.sqr and "2" or fmt(c[i])
      if o == OP.powc and c[i] < 0 then e = "(" .. e .. ")" end
      s, p = paren(sa, pa, 5) .. "^" .. e, 4
    elseif UNARY[o] then
      s = CALL[o] .. "(" .. take(a[i]) .. ")"
    else   -- atan2, min, max
      local sa = take(a[i])
      s = CALL[o] .. "(" .. sa .. ", " .. take(b[i]) .. ")"
    end
    text[i], prec[i] = cut(s), p
  end
  return text[g.n]
end

return M
