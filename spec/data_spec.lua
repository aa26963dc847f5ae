-- ms.data: data sets from text files, tables and d2l's synthetic data;
-- malformed files are errors naming file:line:column; and ms.rng, the
-- engine's random numbers.
local ms = require "momsandbox"
local h = require "spec.helpers"

describe("ms.data.load", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  local function file(name, text) return h.write(dir .. "/" .. name, text) end

  it("reads tab-, comma- and blank-separated numbers, with any line ends", function()
    for name, text in pairs{
      ["tabs.dat"] = "1\t2\t3\r\n4\t5\t6\r\n",            -- the airfoil file's form
      ["commas.csv"] = "1, 2,3\n4,5 ,6",
      ["blanks.txt"] = "# comment\n  1  2   3\n\n4 5 6  # trailing\n",
      ["cr.dat"] = "1 2 3\r4 5 6\r",
    } do
      local d = ms.data.load(file(name, text))
      assert.are.equal(2, #d, name)
      assert.are.equal(2, d.features)
      assert.are.same({1, 2}, d[1].x:totable())
      assert.are.equal(3, d[1].y)
      assert.are.same({4, 5}, d:x(2):totable())
      assert.are.equal(6, d:y(-1))
      assert.are.same({2, 5}, d:column(2))
      assert.are.same({3, 6}, d:labels())
      assert.are.same({3, 6}, d:column(3))
      assert.are.equal(dir .. "/" .. name, d.path)
      assert.is_nil(d.mean)
      assert.is_nil(d.names)
    end
  end)

  it("takes a header, a label column by number or name, and the first rows", function()
    local path = file("h.csv", "temp,y,rain\n20,1,0.5\n25,0,0.25\n30,1,0\n")
    local d = ms.data.load(path, {header = true, label = "y", rows = 2})
    assert.are.equal(2, #d)
    assert.are.same({"temp", "rain", "y"}, d.names)       -- the label last
    assert.are.same({25, 0.25}, d[2].x:totable())
    assert.are.equal(0, d[2].y)
    d = ms.data.load(path, {header = true, label = 1})
    assert.are.same({1, 0.5}, d[1].x:totable())
    assert.are.equal(20, d[1].y)
    d = ms.data.load(path, {header = true, label = -2})
    assert.are.equal(1, d[1].y)
    assert.are.equal(("data{3 examples, 2 features, from %s}"):format(path), tostring(d))
  end)

  it("standardises every column over all rows read, then keeps the first rows", function()
    local d = ms.data.load(file("s.dat", "1 10 0\n2 20 0\n3 30 0\n6 40 4\n"),
                           {standardize = true, rows = 2})
    assert.are.equal(2, #d)
    assert.are.same({3, 25, 1}, d.mean)
    assert.is_true(h.near(d.std, {math.sqrt(3.5), math.sqrt(125), math.sqrt(3)}, 1e-15))
    assert.is_true(h.near(d[1].x:totable(), {-2 / math.sqrt(3.5), -15 / math.sqrt(125)}, 1e-15))
    assert.is_true(h.near(d[2].y, -1 / math.sqrt(3), 1e-15))
    assert.matches("standardized", tostring(d))
  end)

  it("says what is wrong with a file, and where", function()
    local function err(text, opts) return h.error_of(ms.data.load, file("bad.dat", text), opts) end
    local bad = dir .. "/bad.dat"
    assert.are.equal(bad .. ": no data (the file is empty)", err(""))
    assert.are.equal(bad .. ": no data (the file is empty)", err("# nothing\n\n"))
    assert.are.equal(bad .. ":3:4: 2 values, expected 3 as on line 1", err("1 2 3\n4 5 6\n7 8\n"))
    assert.are.equal(bad .. ":2:7: 4 values, expected 3 as on line 1", err("1 2 3\n4 5 6 7\n"))
    assert.are.equal(bad .. ":2:3: 'five' is not a number", err("1\t2\r\n4\tfive\r\n"))
    assert.matches("^" .. bad:gsub("%p", "%%%0") .. ":1:1: 'x' is not a number %(if the first line " ..
                   "names the columns, load with header = true%)$", err("x,y\n1,2\n"))
    assert.are.equal(bad .. ":2:3: 'NaN' is not a finite number", err("1 2\n3 NaN\n"))
    assert.are.equal(bad .. ":1:1: 'inf' is not a finite number", err("inf 2\n"))
    assert.are.equal(bad .. ":1:3: '-1e400' is out of range", err("1 -1e400\n"))
    assert.are.equal(bad .. ":1:3: empty cell", err("1,,2\n"))
    assert.are.equal(bad .. ": one column only; a data set needs at least one feature and a label",
                     err("1\n2\n"))
  end)

  it("refuses to standardise a constant column", function()
    assert.matches("column 2 %('b'%) is constant %(every value is 7%): it has no spread",
                   h.error_of(ms.data.load, file("c.csv", "a,b,y\n1,7,1\n2,7,2\n"),
                              {header = true, standardize = true}))
    -- without standardisation it is just a column
    assert.are.equal(2, #ms.data.load(dir .. "/c.csv", {header = true}))
  end)

  it("rejects rows beyond the file and bad options, naming them", function()
    local path = file("ok.dat", "1 2\n3 4\n")
    local function err(opts) return h.error_of(ms.data.load, path, opts) end
    local function bad(msg) return "bad argument #2 to 'load' (" .. msg .. ")" end
    assert.are.equal(bad("rows = 3, but " .. path .. " has only 2 examples"), err{rows = 3})
    assert.are.equal(bad("rows must be >= 0 (0: all), got -1"), err{rows = -1})
    assert.are.equal(bad(path .. ": label = 3, but there are 2 columns (1 .. 2, or -1 for the " ..
                         "last)"), err{label = 3})
    assert.are.equal(bad(path .. ": a label by name ('y') needs a header"), err{label = "y"})
    assert.are.equal(bad("label must be a column number (negative: from the end) or, with a " ..
                         "header, a column name"), err{label = 1.5})
    assert.are.equal(bad("unknown option 'standardise' (expected one of: header, label, " ..
                         "standardize, rows, max_bytes)"), err{standardise = true, zz = 1})
    assert.are.equal(bad("option 'header' must be a boolean, got number"), err{header = 1})
    assert.are.equal(bad("option 'rows' must be an integer, got 1.5"), err{rows = 1.5})
    assert.are.equal("bad argument #1 to 'load' (string expected, got nil)",
                     h.error_of(ms.data.load))
    assert.are.equal("bad argument #1 to 'load' (contains a zero byte)",
                     h.error_of(ms.data.load, "a\0b"))
    assert.are.equal("bad argument #1 to 'airfoil' (string expected, got boolean)",
                     h.error_of(ms.data.airfoil, {path = true}))
    assert.are.equal("bad argument #1 to 'airfoil' (contains a zero byte)",
                     h.error_of(ms.data.airfoil, {path = "a\0b"}))
    assert.are.equal("bad argument #1 to 'airfoil' (unknown option 'row' (expected one of: " ..
                     "path, rows, standardize))", h.error_of(ms.data.airfoil, {row = 1}))
  end)

  it("reports a missing or unreadable file, and where the airfoil data comes from", function()
    assert.are.equal("cannot open " .. dir .. "/none.dat: No such file or directory",
                     h.error_of(ms.data.load, dir .. "/none.dat"))
    assert.matches("cannot open .*/airfoil_self_noise.dat: No such file or directory; it is the " ..
                   "\"Airfoil Self%-Noise\" data set of the UCI Machine Learning Repository " ..
                   "%(https://archive.ics.uci.edu/dataset/291/airfoil%+self%+noise%)",
                   h.error_of(ms.data.load, dir .. "/airfoil_self_noise.dat"))
    assert.are.equal("cannot load " .. dir .. ": it is a directory, not a regular file",
                     h.error_of(ms.data.load, dir))
    local secret = file("secret.dat", "1 2\n")
    os.execute("chmod 000 " .. h.shquote(secret))
    if h.run("cat " .. h.shquote(secret)) ~= 0 then   -- not root: really unreadable
      assert.matches("cannot open .*secret.dat: Permission denied", h.error_of(ms.data.load, secret))
    end
  end)
end)

describe("ms.data.load of what is not a plain file", function()
  local dir
  before_each(function() dir = h.tmpdir() end)
  after_each(function() h.rmtree(dir) end)

  -- Run script (which prints what it wants checked) in a child process,
  -- so that a load which blocks or reads without end fails the test.
  local function child(script)
    h.write(dir .. "/child.lua", script)
    local status, out, err = h.run("timeout 30 " .. h.shquote(h.abs(h.bin)) .. " " ..
                                   h.shquote(dir .. "/child.lua"))
    assert.are.equal(0, status, err)
    return out
  end

  it("refuses devices and FIFOs at once, naming the file and what it is", function()
    assert(os.execute("mkfifo " .. h.shquote(dir .. "/fifo")))
    local out = child([[
      local ms = require "momsandbox"
      for _, path in ipairs{"/dev/zero", "/dev/null", ]] .. ("%q"):format(dir .. "/fifo") .. [[} do
        print(select(2, pcall(ms.data.load, path)))
      end
    ]])
    assert.are.equal("cannot load /dev/zero: it is a character device, not a regular file\n" ..
                     "cannot load /dev/null: it is a character device, not a regular file\n" ..
                     "cannot load " .. dir .. "/fifo: it is a FIFO, not a regular file\n", out)
  end)

  it("refuses a socket", function()
    local sock = dir .. "/sock"
    if h.run("python3 -c " .. h.shquote("import socket, sys; socket.socket(socket.AF_UNIX)" ..
                                         ".bind(sys.argv[1])") .. " " .. h.shquote(sock)) ~= 0 then
      pending("no python3 here to make a socket")
      return
    end
    assert.are.equal("cannot load " .. sock .. ": it is a socket, not a regular file",
                     h.error_of(ms.data.load, sock))
  end)

  it("refuses files over max_bytes (1 GiB by default) before reading them", function()
    local path = h.write(dir .. "/t.dat", "1 2\n3 4\n")    -- 8 bytes
    assert.are.equal("cannot load " .. path .. ": it has 8 bytes, more than max_bytes = 7; " ..
                     "pass a larger max_bytes to load it",
                     h.error_of(ms.data.load, path, {max_bytes = 7}))
    assert.are.equal(2, #ms.data.load(path, {max_bytes = 8}))
    assert.are.equal(2, #ms.data.load(path, {max_bytes = 2^62}))
    local big = dir .. "/big.dat"   -- sparse: 1 GiB of zero bytes and one more
    if h.run("truncate -s 1073741825 " .. h.shquote(big)) ~= 0 then
      pending("cannot make a sparse file here")
      return
    end
    local out = child(([[
      local ms = require "momsandbox"
      print(select(2, pcall(ms.data.load, %q)))
    ]]):format(big))
    assert.are.equal("cannot load " .. big .. ": it has 1073741825 bytes, more than max_bytes = " ..
                     "1073741824 (the default, 1 GiB); pass a larger max_bytes to load it\n", out)
    assert.matches("^bad argument #2 to '[^']*' %(max_bytes must be >= 1, got 0%)$",
                   h.error_of(ms.data.load, path, {max_bytes = 0}))
    assert.matches("^bad argument #2 to '[^']*' %(max_bytes must be >= 1, got %-5%)$",
                   h.error_of(ms.data.load, path, {max_bytes = -5}))
    assert.matches("bad argument #2 to '[^']*' %(option 'max_bytes' must be an integer, got 1.5%)",
                   h.error_of(ms.data.load, path, {max_bytes = 1.5}))
  end)

  it("refuses a file whose size is not what it held when opened", function()
    -- /proc files say they are empty and hold text: as a file that grew
    assert.are.equal("cannot load /proc/self/status: it grew while it was read (more than the " ..
                     "0 bytes it had): load it again once it is written",
                     h.error_of(ms.data.load, "/proc/self/status"))
    -- sysfs files say 4096 bytes and hold a line: as a file that shrank
    local _, out = h.run("stat -c %s /sys/devices/system/cpu/online")
    if out ~= "4096\n" then
      pending("no sysfs here")
      return
    end
    assert.matches("^cannot load /sys/devices/system/cpu/online: it shrank while it was read " ..
                   "%(4096 bytes, then only %d+%): load it again once it is written$",
                   h.error_of(ms.data.load, "/sys/devices/system/cpu/online"))
  end)
end)

describe("ms.data.from and ms.data.synthetic", function()
  it("builds a data set from rows of features and labels", function()
    local d = ms.data.from{X = {{1, 2}, ms.vec{3, 4}, {5, 6}}, y = {7, 8, 9}}
    assert.are.equal(3, #d)
    assert.are.equal(2, d.features)
    assert.are.same({3, 4}, d[2].x:totable())
    assert.are.equal(9, d[3].y)
    assert.are.equal("data{3 examples, 2 features}", tostring(d))
    assert.matches("example 4 out of range %(3 examples%)", h.error_of(function() return d[4] end))
  end)

  it("checks the rows and labels", function()
    local from = ms.data.from
    assert.matches("X%[2%] has 1 numbers, expected 2 as X%[1%]", h.error_of(from, {X = {{1, 2}, {3}}, y = {1, 2}}))
    assert.matches("X has 2 rows but y has 3 labels", h.error_of(from, {X = {{1}, {2}}, y = {1, 2, 3}}))
    assert.matches("X%[1%]%[2%] is a string, not a number", h.error_of(from, {X = {{1, "a"}}, y = {1}}))
    assert.matches("y%[2%] is a boolean, not a number", h.error_of(from, {X = {{1}, {2}}, y = {1, true}}))
    assert.matches("X%[2%]%[1%] is not finite", h.error_of(from, {X = {{1}, {0 / 0}}, y = {1, 2}}))
    assert.matches("y%[1%] is not finite", h.error_of(from, {X = {{1}}, y = {math.huge}}))
    assert.matches("y %(the labels%) is required", h.error_of(from, {X = {{1}}}))
    assert.matches("at least one example", h.error_of(from, {X = {}, y = {}}))
    assert.matches("unknown option 'Y'", h.error_of(from, {X = {{1}}, Y = {1}}))
  end)

  it("draws d2l's synthetic linear-regression data from a seed", function()
    local a = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 50, noise = 0, seed = 3}
    local b = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 50, seed = 3}
    local c = ms.data.synthetic{w = {2, -3.4}, b = 4.2, n = 50, seed = 4}
    assert.are.equal(50, #a)
    for i = 1, 50 do
      local x = a[i].x
      assert.are.equal(x[1] * 2 + x[2] * -3.4 + 4.2, a[i].y)
      assert.are.same(x:totable(), b[i].x:totable())
      assert.is_true(math.abs(b[i].y - a[i].y) < 0.05)
    end
    assert.are_not.equal(a[1].x[1], c[1].x[1])
    assert.matches("w %(the true weights%) is required", h.error_of(ms.data.synthetic, {n = 5}))
    assert.matches("noise must be a finite number >= 0", h.error_of(ms.data.synthetic, {w = {1}, noise = -1}))
    assert.matches("n must be >= 1", h.error_of(ms.data.synthetic, {w = {1}, n = 0}))
  end)
end)

describe("ms.data.airfoil", function()
  -- the CLI, by an absolute path: these run from another folder
  local bin = h.bin:sub(1, 1) == "/" and h.bin or io.popen("pwd"):read("l") .. "/" .. h.bin

  it("finds the project's own copy from any folder, without any setting", function()
    local dir = h.tmpdir()
    h.write(dir .. "/find.lua", "local d = ms.data.airfoil(); print(#d, d.features, d.path)")
    local status, out, err = h.run("cd " .. h.shquote(dir) .. " && env -u MOMSANDBOX_DATA " ..
                                   h.shquote(bin) .. " find.lua")
    h.rmtree(dir)
    assert.are.equal(0, status, err)
    local n, d, path = out:match("^(%d+)\t(%d+)\t(.-)\n$")
    assert.same({"1500", "5"}, {n, d})
    assert.truthy(path:match("/data/airfoil_self_noise%.dat$"), path)
    -- the file as UCI publishes it: 1503 rows of 6 numbers
    local text = h.read(path)
    assert.equal(1503, select(2, text:gsub("\r\n", "")))
    assert.truthy(text:find("^800\t0\t0%.3048\t71%.3\t0%.00266337\t126%.201\r\n"))
  end)

  it("explains where the data set comes from when MOMSANDBOX_DATA names nothing", function()
    local dir = h.tmpdir()
    h.write(dir .. "/find.lua", "ms.data.airfoil()")
    local status, _, err = h.run("cd " .. h.shquote(dir) .. " && MOMSANDBOX_DATA=/nonexistent " ..
                                 h.shquote(bin) .. " find.lua")
    h.rmtree(dir)
    assert.are_not.equal(0, status)
    assert.matches("airfoil_self_noise.dat not found %(looked for /nonexistent%)", err)
    assert.matches("UCI Machine Learning Repository", err)
    assert.matches("set MOMSANDBOX_DATA", err)
  end)

  it("takes MOMSANDBOX_DATA as the file or its folder", function()
    local dir = h.tmpdir()
    h.write(dir .. "/airfoil_self_noise.dat", "1\t2\r\n3\t5\r\n4\t7\r\n")
    h.write(dir .. "/find.lua", "local d = ms.data.airfoil{rows = 2}; print(#d, d.path)")
    for _, env in ipairs{dir, dir .. "/airfoil_self_noise.dat"} do
      local status, out, err = h.run("cd " .. h.shquote(dir) .. " && MOMSANDBOX_DATA=" ..
                                     h.shquote(env) .. " " .. h.shquote(bin) .. " find.lua")
      assert.are.equal(0, status, err)
      assert.are.equal("2\t" .. dir .. "/airfoil_self_noise.dat\n", (out:gsub("//", "/")))
    end
    h.rmtree(dir)
  end)
end)

describe("ms.rng", function()
  it("gives the same stream for the same seed", function()
    local a, b, c = ms.rng(7), ms.rng(7), ms.rng(8)
    for _ = 1, 10 do
      local x = a:uniform()
      assert.are.equal(x, b:uniform())
      assert.is_true(x >= 0 and x < 1)
    end
    assert.are_not.equal(a:next(), c:next())
    b:next()
    assert.are.equal(a:normal(), b:normal())
    local k = a:below(10)
    assert.are.equal(k, b:below(10))
    assert.is_true(k >= 0 and k < 10 and math.type(k) == "integer")
    assert.matches("n must be >= 1", h.error_of(a.below, a, 0))
  end)

  it("shuffles as the engine does, and draws the engine's initial weights", function()
    local t = {}
    for i = 1, 100 do t[i] = i end
    ms.rng(3):shuffle(t)
    local sorted = {table.unpack(t)}
    table.sort(sorted)
    for i = 1, 100 do assert.are.equal(i, sorted[i]) end
    local rng, u = ms.rng(3), {}
    for i = 1, 100 do u[i] = i end
    for i = 100, 2, -1 do             -- Fisher-Yates from the last position down
      local j = rng:below(i) + 1
      u[i], u[j] = u[j], u[i]
    end
    assert.are.same(u, t)
    local init, g = ms.model.linreg(3):init(5), ms.rng(5)
    for j = 1, 3 do assert.are.equal(0.01 * g:normal(), init[j]) end
    assert.are.equal(0, init[4])
  end)
end)
