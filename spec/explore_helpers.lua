--- What the explorer's specs share: a script serving ms.explore in a
-- process of the interpreter under test, and HTTP over luasocket.
local h = require "spec.helpers"
local socket = require "socket"

local M = {}

-- The objects of the runs, made the same way in the spec and the server:
-- a quadratic, heavy ball written in Lua, and the built-in one.
M.SETUP = [[
local ms = ...
local f = ms.objective.quadratic{0.2, 4}
local hb = ms.rule{name = "hb", hyper = {lr = {default = 0.4, min = 0}, beta = {default = 0.5, min = 0, max = 1}},
  state = {"v"}, step = function(p, g, s, h)
    s.v:scale(h.beta):add(g)
    p:axpy(-h.lr, s.v)
  end}
return f, hb{lr = 0.4, beta = 0.5}, ms.momentum{lr = 0.3, beta = 0.25}
]]

M.sleep = socket.sleep

local started = {}   -- every pid start gave, for stop_all

--- Start the script (after SETUP's objects as f, a, b) in dir, with the
-- environment's assignments env (quoted) if given; returns the pid and
-- the address it printed.
function M.start(dir, script, env)
  h.write(dir .. "/setup.lua", M.SETUP)
  h.write(dir .. "/run.lua", "local f, a, b = loadfile('setup.lua')(ms)\n" .. script)
  local p = io.popen(("cd %s && { %s %s run.lua >out 2>err & echo $!; }"):format(h.shquote(dir),
                     env and "env " .. env or "", h.shquote(h.abs(h.bin))))
  local pid = p:read("*l")
  p:close()
  started[#started + 1] = pid
  for _ = 1, 500 do
    local url = (h.read(dir .. "/out") or ""):match("(http://%S+)")
    if url then return pid, url end
    socket.sleep(0.02)
  end
  error("no address printed: " .. tostring(h.read(dir .. "/err")))
end

function M.alive(pid)
  return h.run("kill -0 " .. pid) == 0
end

--- Wait up to 10 s for the process to end (then kill it): whether it ended.
function M.wait_gone(pid)
  for _ = 1, 500 do
    if not M.alive(pid) then return true end
    socket.sleep(0.02)
  end
  h.run("kill -KILL " .. pid)
  return false
end

--- Kill every process start gave and pid (a browser a server started)
-- that still runs: a spec that failed half-way must not leave a server
-- behind, holding its port and the descriptors it inherited.
function M.stop_all(...)
  for _, pid in ipairs{...} do started[#started + 1] = pid end
  for _, pid in ipairs(started) do
    if M.alive(pid) then h.run("kill -KILL " .. pid) end
  end
  started = {}
end

--- One HTTP exchange of the raw request text on 127.0.0.1:port: status,
-- body (Content-Length bytes of it, or all until the server closes).
function M.exchange(port, text)
  local c = assert(socket.tcp())
  c:settimeout(60)   -- a first Chromium session on a cold machine takes a while
  assert(c:connect("127.0.0.1", port))
  assert(c:send(text))
  local status, length
  while true do
    local line, err = c:receive("*l")
    if not line then
      c:close()
      assert(err == "closed", err)
      return status
    end
    status = status or tonumber(line:match("^HTTP/1%.%d (%d+)"))
    length = length or tonumber(line:lower():match("^content%-length:%s*(%d+)"))
    if line == "" then break end
  end
  local body, err, partial = c:receive(length or "*a")
  c:close()
  if length then assert(body, err) end
  return status, body or partial
end

--- A request to path (after the token, for an ms.explore address; or the
-- whole path for another base) with Host 127.0.0.1:port unless given.
function M.request(url, method, path, body, host)
  local port, prefix = url:match("^http://127%.0%.0%.1:(%d+)(/.*)$")
  local text = ("%s %s%s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n"):format(method, prefix,
               path, host or ("127.0.0.1:" .. port))
  if body then
    text = text .. ("Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"):format(#body, body)
  else
    text = text .. "\r\n"
  end
  return M.exchange(tonumber(port), text)
end

--- Does nothing listen on the address's port any more?
function M.port_closed(url)
  local port = tonumber(url:match(":(%d+)/"))
  local c = socket.tcp()
  c:settimeout(2)
  local ok, err = c:connect("127.0.0.1", port)
  c:close()
  return ok == nil and err == "connection refused"
end

--- A port nothing listens on now (the system's choice).
function M.free_port()
  local s = assert(socket.bind("127.0.0.1", 0))
  local _, port = s:getsockname()
  s:close()
  return tonumber(port)
end

return M
