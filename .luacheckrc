-- luacheck over every Lua file of the project (make check, CI).  The code
-- runs under Lua 5.4 and LuaJIT: the standard is the union of both.
std = "max"
max_line_length = 120
-- callbacks have the signatures the engine gives them (p, g, s, h, t)
unused_args = false
-- the momsandbox CLI and momsandbox-jit give scripts the module as `ms`
-- and its help as `help`
read_globals = {"ms", "help", "jit"}
-- not (x < y) is how the code says "or NaN": a NaN fails every comparison
ignore = {"581"}

-- specs name the helpers `h`, as rules name their hyper-parameters
files["spec/**/*_spec.lua"] = {std = "+busted", ignore = {"431/h"}}
files["spec/helpers.lua"] = {globals = {"table.unpack", "math.type"}}
