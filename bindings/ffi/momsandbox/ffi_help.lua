--- momsandbox.ffi_help: the primitive that lua/momsandbox/help.lua reads
-- the engine's registry of rules with, for LuaJIT.  Twin of
-- bindings/lua/l_help.c.
local ffi = require "ffi"
local C = require("momsandbox.ffi_core").C

local function text(p)
  return p ~= nil and ffi.string(p) or nil
end

--- native.rule_classes(): a descriptor of each built-in class, in registry
-- order (contract in lua/momsandbox/primitives.lua).
local function rule_classes()
  local list = {}
  for i = 0, C.ms_rule_class_count() - 1 do
    local c = C.ms_rule_class_at(i)
    local d = {name = text(c.name), doc = text(C.ms_rule_doc(c.name)), lookahead = c.lookahead ~= nil,
               hyper = {}, state = {}}
    for j = 0, c.nhyper - 1 do
      local h = c.hyper[j]
      d.hyper[j + 1] = {name = text(h.name), def = h.def, lo = h.lo, hi = h.hi, lo_open = h.lo_open ~= 0,
                        hi_open = h.hi_open ~= 0, flag = h.kind == C.MS_HYPER_FLAG}
    end
    for j = 0, c.nstate - 1 do d.state[j + 1] = text(c.state_names[j]) end
    list[i + 1] = d
  end
  return list
end

return {rule_classes = rule_classes}
