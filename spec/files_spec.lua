-- Every writer of the module -- tr:csv, res:csv of sweeps and training,
-- ms.util.write, figures of ms.plot, and the scripts' --out -- writes what
-- the user named and nothing else: no name reaches a shell or gnuplot's
-- pipe syntax; regular files are replaced whole, through symbolic links,
-- keeping their mode (and owner); devices and FIFOs are written in place,
-- or refused; a full disk says so.
local h = require "spec.helpers"
local ms = require "momsandbox"

local f = ms.objective.quadratic{0.2, 4}
local trace = ms.trace(f, ms.momentum{lr = 0.6, beta = 0.5}, {x0 = {-5, -2}, steps = 20})
local CSV_HEAD = "step,x1,x2,f\n0,-5,-2,10.5\n"

-- Every writer, as a function of the path: name, write(path).
local function writers()
  local sweep = ms.sweep{objective = f, rule = ms.momentum{lr = 0.1}, x0 = {-5, -2}, steps = 5,
                         grid = {lr = {0.1, 0.2}}}
  local d = ms.data.from{X = {{1, 2}, {-1, 0.5}, {3, -2}}, y = {1, -1, 2}}
  local train = ms.train{model = ms.model.linreg(2), data = d, rule = ms.gd{lr = 0.1},
                         batch = 3, epochs = 1}
  return {
    {"tr:csv", function(p) return trace:csv(p) end},
    {"sweep res:csv", function(p) return sweep:csv(p) end},
    {"train res:csv", function(p) return train:csv(p) end},
    {"ms.util.write", function(p) return ms.util.write(p, "text\n") end},
  }
end

local function shell_ok(cmd)
  return h.run(cmd) == 0
end

local function stat(fmt, path)
  local _, out = h.run("stat -c " .. h.shquote(fmt) .. " " .. h.shquote(path))
  return (out:gsub("\n$", ""))
end

local function listing(dir)
  local _, out = h.run("ls -A " .. h.shquote(dir))
  local names = {}
  for name in out:gmatch("[^\n]+") do names[#names + 1] = name end
  table.sort(names)
  return names
end

local is_root = (select(2, h.run("id -u")):match("^0")) ~= nil

describe("no file name reaches a shell", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("a figure named like a gnuplot pipe is a file of that name", function()
    if not ms.plot.available() then return pending("gnuplot is not installed") end
    -- a shell would run touch in the current folder
    for _, ext in ipairs{"svg", "png", "txt"} do
      local name = dir .. "/|touch pwned-" .. ext .. ";." .. ext
      assert.equal(name, ms.plot.lines{series = {{y = {1, 2}}}, file = name})
      assert.is_nil(h.read("pwned-" .. ext))
      assert.truthy(#h.read(name) > 100)
    end
    assert.equal(3, #listing(dir))
  end)

  it("a figure name with a newline or control characters is that exact name", function()
    if not ms.plot.available() then return pending("gnuplot is not installed") end
    local name = dir .. "/two\nlines\t\r'\".svg"
    ms.plot.lines{series = {{y = {1, 2}}}, file = name}
    assert.truthy(h.read(name):find("<svg", 1, true))
    local _, count = h.run("find " .. h.shquote(dir) .. " -mindepth 1 -printf x")
    assert.equal("x", count)
  end)

  it("scripts/trace2d.lua --out '|cmd;' makes a folder of that name", function()
    local out = dir .. "/|touch pwned;"
    local status = h.cli("scripts/trace2d.lua --out " .. h.shquote(out))
    assert.equal(0, status)
    assert.is_nil(h.read("pwned"))
    assert.truthy(h.read(out .. "/trace2d-gd-eta0.4.csv"):find("^step,x1,x2,f\n"))
  end)

  it("a zero byte in a file name is refused by every writer", function()
    for _, w in ipairs(writers()) do
      local ok, err = pcall(w[2], dir .. "/a\0b.csv")
      assert.is_false(ok, w[1])
      assert.truthy(err:find("contains a zero byte", 1, true), w[1] .. ": " .. err)
    end
    assert.error_matches(function() ms.util.mkdir(dir .. "/a\0b") end, "zero byte")
    assert.error_matches(function() ms.plot.lines{series = {{y = {1, 2}}}, file = dir .. "/a\0.svg"} end,
                         "ms.plot.lines: file must not contain a zero byte")
    assert.same({}, listing(dir))
  end)
end)

describe("writing a regular file", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("replaces it whole and keeps its mode", function()
    for _, w in ipairs(writers()) do
      local path = dir .. "/private"
      h.write(path, "old")
      assert(shell_ok("chmod 600 " .. h.shquote(path)))
      w[2](path)
      assert.are_not.equal("old", h.read(path), w[1])
      assert.equal("600", stat("%a", path), w[1])
      assert.same({"private"}, listing(dir), w[1])
      os.remove(path)
    end
  end)

  it("gives a new file the permissions of any new file", function()
    trace:csv(dir .. "/new.csv")
    assert(shell_ok("touch " .. h.shquote(dir .. "/touched")))
    assert.equal(stat("%a", dir .. "/touched"), stat("%a", dir .. "/new.csv"))
  end)

  it("refuses a file it may not write, though the folder would allow it", function()
    if is_root then return pending("root may write any file") end
    local path = dir .. "/read-only.csv"
    h.write(path, "old")
    assert(shell_ok("chmod 444 " .. h.shquote(path)))
    for _, w in ipairs(writers()) do
      local ok, err = pcall(w[2], path)
      assert.is_false(ok, w[1])
      assert.truthy(err:find("cannot write " .. path .. ": Permission denied", 1, true), err)
    end
    assert.equal("old", h.read(path))
    assert.same({"read-only.csv"}, listing(dir))
  end)

  it("says when the folder takes no temporary file, as /proc's", function()
    local fh = io.open("/proc/version")
    if fh == nil then return pending("no /proc/version here") end
    local before = fh:read("a")
    fh:close()
    local ok, err = pcall(trace.csv, trace, "/proc/version")
    assert.is_false(ok)
    assert.truthy(err:find("cannot write /proc/version: " .. (is_root and
      "no temporary file can be made beside it (No such file or directory)" or
      "Permission denied"), 1, true), err)
    assert.equal(before, h.read("/proc/version"))
  end)

  it("keeps the owner of the file it replaces, as root", function()
    if not is_root then return pending("only root can give a file away") end
    local path = dir .. "/owned.csv"
    h.write(path, "old")
    assert(shell_ok("chown 65534:65534 " .. h.shquote(path)))
    trace:csv(path)
    assert.equal("65534:65534", stat("%u:%g", path))
    assert.equal(CSV_HEAD, h.read(path):sub(1, #CSV_HEAD))
  end)

  it("writes the target of a symbolic link and keeps the link", function()
    for _, w in ipairs(writers()) do
      h.write(dir .. "/target", "old")
      assert(shell_ok("cd " .. h.shquote(dir) .. " && ln -s target link && ln -s link link2"))
      w[2](dir .. "/link2")
      assert.equal("symbolic link", stat("%F", dir .. "/link"), w[1])
      assert.equal("symbolic link", stat("%F", dir .. "/link2"), w[1])
      assert.are_not.equal("old", h.read(dir .. "/target"), w[1])
      assert.same({"link", "link2", "target"}, listing(dir), w[1])
      h.rmtree(dir)
      dir = h.tmpdir()
    end
  end)

  it("creates the missing target of a dangling link", function()
    assert(shell_ok("cd " .. h.shquote(dir) .. " && ln -s made.csv link"))
    trace:csv(dir .. "/link")
    assert.equal(CSV_HEAD, h.read(dir .. "/made.csv"):sub(1, #CSV_HEAD))
    assert.equal("symbolic link", stat("%F", dir .. "/link"))
  end)

  it("refuses a loop of links, a folder and a name ending in /", function()
    assert(shell_ok("cd " .. h.shquote(dir) .. " && ln -s a b && ln -s b a"))
    assert.error_matches(function() trace:csv(dir .. "/a") end, "cannot write .*/a: ")
    assert.error_matches(function() trace:csv(dir) end, "cannot write .*: it is a folder")
    assert.error_matches(function() trace:csv(dir .. "/new/") end, "cannot write .*/new/: it names a folder")
    assert.same({"a", "b"}, listing(dir))
  end)

  it("removes the temporary files of killed writes, but not of running ones", function()
    local path = dir .. "/x.csv"
    local stale, young, locked = path .. ".tmp-AbC123", path .. ".tmp-yoUng1", path .. ".tmp-lOcked"
    for _, p in ipairs{stale, young, locked} do h.write(p, "partial") end
    assert(shell_ok("touch -d '1 hour ago' " .. h.shquote(stale) .. " " .. h.shquote(locked)))
    -- young: written the moment before, however slowly this machine runs
    assert(shell_ok("touch -d '1 minute' " .. h.shquote(young)))
    -- a writer still at work holds the lock on its temporary file
    local marker = dir .. "/holding"
    assert(shell_ok("(flock " .. h.shquote(locked) .. " sh -c 'touch " .. h.shquote(marker) ..
                    "; sleep 3' &) ; while [ ! -e " .. h.shquote(marker) .. " ]; do sleep 0.02; done"))
    trace:csv(path)
    assert.is_nil(h.read(stale))
    assert.equal("partial", h.read(young))
    assert.equal("partial", h.read(locked))
    -- another file's temporaries are not this write's business
    h.write(dir .. "/y.csv.tmp-AbC123", "other")
    assert(shell_ok("touch -d '1 hour ago' " .. h.shquote(dir .. "/y.csv.tmp-AbC123")))
    trace:csv(path)
    assert.equal("other", h.read(dir .. "/y.csv.tmp-AbC123"))
  end)

  it("leaves the old file when a figure fails, with no temporary file", function()
    if not ms.plot.available() then return pending("gnuplot is not installed") end
    local path = dir .. "/kept.svg"
    h.write(path, "old")
    assert.has_error(function()
      ms.plot.lines{series = {{y = {1, 2}}}, file = path, commands = {"set xrange [1:"}}
    end)
    assert.equal("old", h.read(path))
    assert.same({"kept.svg"}, listing(dir))
  end)
end)

describe("writing a special file", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  it("writes /dev/null in place and leaves it a device", function()
    for _, w in ipairs(writers()) do
      w[2]("/dev/null")
      assert.equal("character special file", stat("%F", "/dev/null"), w[1])
    end
    assert.is_nil(io.open("/dev/null.tmp-", "r"))
  end)

  it("says a full disk is full", function()
    for _, w in ipairs(writers()) do
      local ok, err = pcall(w[2], "/dev/full")
      assert.is_false(ok, w[1])
      assert.truthy(err:find("cannot write /dev/full: No space left on device", 1, true), err)
      assert.equal("character special file", stat("%F", "/dev/full"), w[1])
    end
  end)

  it("writes a FIFO that a process reads, in place", function()
    local fifo, got = dir .. "/fifo", dir .. "/got"
    assert(shell_ok("mkfifo " .. h.shquote(fifo)))
    assert(shell_ok("(cat " .. h.shquote(fifo) .. " > " .. h.shquote(got) .. " &)"))
    -- refused at once until cat has opened its end
    local ok, err
    for _ = 1, 1500 do
      ok, err = pcall(trace.csv, trace, fifo)
      if ok or not err:find("no process reads", 1, true) then break end
      h.run("sleep 0.02")
    end
    assert.is_true(ok, err)
    assert(shell_ok("n=0; while [ ! -s " .. h.shquote(got) .. " ] && [ $n -lt 1500 ]; do sleep 0.02; n=$((n+1)); done"))
    assert.equal("fifo", stat("%F", fifo))
    assert.equal(CSV_HEAD, (h.read(got) or ""):sub(1, #CSV_HEAD))
  end)

  it("refuses a FIFO nobody reads at once, instead of waiting", function()
    local fifo = dir .. "/fifo"
    assert(shell_ok("mkfifo " .. h.shquote(fifo)))
    for _, w in ipairs(writers()) do
      local ok, err = pcall(w[2], fifo)
      assert.is_false(ok)
      assert.truthy(err:find("no process reads this FIFO", 1, true), err)
      assert.equal("fifo", stat("%F", fifo), w[1])
    end
  end)

  it("refuses a socket", function()
    if not shell_ok("command -v python3") then return pending("no python3 to make a socket") end
    local sock = dir .. "/sock"
    assert(shell_ok("python3 -c 'import socket,sys; socket.socket(socket.AF_UNIX).bind(sys.argv[1])' " ..
                    h.shquote(sock)))
    assert.error_matches(function() trace:csv(sock) end, "cannot write .*/sock: it is a socket")
    assert.equal("socket", stat("%F", sock))
  end)
end)

describe("ms.util's messages", function()
  local U = ms.util
  it("are the same under both interpreters, with zero bytes refused", function()
    assert.are.equal("bad argument #1 to 'mkdir' (contains a zero byte)", h.error_of(U.mkdir, "a\0b"))
    assert.are.equal("bad argument #1 to 'which' (empty program name)", h.error_of(U.which, ""))
    assert.are.equal("bad argument #1 to 'which' (contains a zero byte)", h.error_of(U.which, "sh\0"))
    assert.are.equal("bad argument #1 to 'isatty' (not a file descriptor)", h.error_of(U.isatty, -1))
    assert.are.equal("bad argument #1 to 'isatty' (number has no integer representation)",
                     h.error_of(U.isatty, 1.5))
    assert.are.equal("bad argument #1 to 'run' (argv must hold at least the program name)",
                     h.error_of(U.run, {}))
    assert.are.equal("bad argument #1 to 'run' (argv[2] must be a string without zero bytes)",
                     h.error_of(U.run, {"echo", "a\0b"}))
    assert.are.equal("bad argument #1 to 'run' (argv[2] must be a string without zero bytes)",
                     h.error_of(U.run, {"echo", 5}))
    assert.are.equal("bad argument #2 to 'run' (string expected, got table)",
                     h.error_of(U.run, {"echo"}, {}))
    assert.are.equal("bad argument #2 to 'write' (string expected, got nil)",
                     h.error_of(U.write, "/dev/null"))
    assert.are.equal("bad argument #1 to 'format' (number expected, got nil)", h.error_of(U.format))
    assert.are.equal("0.1", U.format(0.1))
  end)

  it("run reads argv raw and passes it to the program, not to a shell", function()
    local argv = setmetatable({"printf", "%s|", "$(echo no); x"},
                              {__len = function() return 1 end, __index = function() return "z" end})
    local ok, status, out = U.run(argv)
    assert.is_true(ok)
    assert.are.equal(0, status)
    assert.are.equal("$(echo no); x|", out)
    assert.is_nil(U.run{"/no/such/program"})
  end)

  it("sys lets no value crash it", function()
    local native = require "momsandbox.native"
    for _, args in ipairs{{"run", {}, ""}, {"run", {"x\0"}, ""}, {"run", "x", ""}, {"run", {"true"}},
                          {"isatty", 2^40}, {"write", "/dev/null"}, {"mkdir"}, {"which", 1},
                          {"nope"}, {nil}, {5}} do
      assert.is_false(pcall(native.sys, table.unpack(args, 1, 3)))
    end
    assert.is_true(native.sys("write", "/dev/null", "x"))
  end)
end)
