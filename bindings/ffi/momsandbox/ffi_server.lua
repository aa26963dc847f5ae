--- momsandbox.ffi_server: the HTTP server of ms.explore for LuaJIT: the
-- kind "server" and the primitives server_new, server_next, server_reply
-- over core/src/server.c.  Twin of bindings/lua/l_server.c; user:
-- lua/momsandbox/explore.lua.  Lua pulls the requests: the server runs
-- only inside server_next, on the calling thread.
local ffi = require "ffi"
local core = require "momsandbox.ffi_core"

local C = core.C
local Server = core.handle_type("server", "ms_server", C.ms_server_free)

local function close(h)
  if h.ptr ~= nil then
    Server.release(h)
  end
end

--- The server at 1 of fname, or nil once closed.
local function toserver(h, fname)
  core.checkkind(h, "server", 1, fname)
  return h.ptr ~= nil and h.ptr or nil
end

local M = {}
local outbox = ffi.new("ms_server *[1]")
local req = ffi.new("ms_request")

--- native.server_new(max_body) -> server, port, token: see l_server.c.
function M.server_new(max)
  max = core.checkinteger(max, 1, "server_new")
  if max < 0 or max > 2^30 then core.argerror(1, "server_new", "max_body must be in [0, 2^30]") end
  local st = C.ms_server_new(max, outbox)
  if st ~= 0 then return core.failed(st) end
  local h = Server.own(outbox[0])
  return h, C.ms_server_port(h.ptr), ffi.string(C.ms_server_token(h.ptr))
end

local function next_request(s, ms)
  return C.ms_server_next(s, ms, req)
end

--- native.server_next(srv, timeout_ms) -> id, method, path, body; false
-- when the time is up: see l_server.c.  Ctrl-C ends the wait.
function M.server_next(h, ms)
  local s = toserver(h, "server_next")
  ms = core.checkinteger(ms, 2, "server_next")
  if ms < -1 or ms > 0x7fffffff then
    core.argerror(2, "server_next", "timeout must be in [-1, 2^31 - 1]")
  end
  if s == nil then return core.closed("server") end
  local st = core.with_sigint(1, next_request, s, ms)
  if st ~= 0 then return core.failed(st) end
  if req.id == 0 then return false end
  return tonumber(req.id), ffi.string(req.method), ffi.string(req.path),
         ffi.string(req.body, req.body_len)
end

--- native.server_reply(srv, id, status, content_type, body) -> true, or
-- nil, msg, code: see l_server.c.
function M.server_reply(h, id, status, ctype, body)
  local F = "server_reply"
  local s = toserver(h, F)
  id = core.checkinteger(id, 2, F)
  status = core.checkinteger(status, 3, F)
  if type(ctype) ~= "string" or ctype:find("\0", 1, true) then
    core.argerror(4, F, "string without zero bytes expected")
  end
  if type(body) ~= "string" then core.typeerror(5, F, "string", body) end
  if s == nil then return core.closed("server") end
  if id < 0 or id > 0xffffffff then id = 0 end               -- no such request
  if status < 0 or status > 0x7fffffff then status = 0 end   -- no such status
  return core.status(C.ms_server_reply(s, id, status, ctype, body, #body))
end

core.kind("server", Server.ctype, nil, close)

return M
