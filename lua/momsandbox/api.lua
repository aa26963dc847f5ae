--- momsandbox.api: the module a user gets from require "momsandbox",
-- written once for Lua 5.4 and LuaJIT over the primitives of
-- "momsandbox.native" (primitives.lua lists them).
local native = require "momsandbox.native"

local ms = {}
-- what only one interpreter has: ms.ffi under LuaJIT
for name, value in pairs(native.extras) do ms[name] = value end

ms.version = native.version()
ms.rng = require "momsandbox.rng"
ms.vec = require "momsandbox.vec"
ms.schedule = require "momsandbox.schedule"
ms.util = require "momsandbox.util"
ms.sweep = require "momsandbox.sweep"
ms.train = require "momsandbox.train"
local objective = require "momsandbox.objective"
ms.objective, ms.gradcheck = objective.objective, objective.gradcheck
local rule = require "momsandbox.rule"
for name, constructor in pairs(rule.builtins) do ms[name] = constructor end
ms.rule = rule.define
ms.trace = require "momsandbox.trace"
ms.analysis = require "momsandbox.analysis"
ms.data = require "momsandbox.data"
ms.model = require "momsandbox.model"
ms.explore = require "momsandbox.explore"

-- Parts loaded on first use: ms.plot, ms.args, ms.help, ...
local lazy = {plot = true, gnuplot = true, args = true, show = true, help = true}

return setmetatable(ms, {
  parts = lazy,   -- for the REPL's completion, which loads them first
  __index = function(t, key)
    if not lazy[key] then return nil end
    local part = require("momsandbox." .. key)
    rawset(t, key, part)
    return part
  end,
})
