-- The `momsandbox` and `momsandbox-jit` commands: one `lua`-compatible
-- interpreter and REPL (bindings/cli/cli.c) over Lua 5.4 and over LuaJIT,
-- with the module as the global `ms`.  Each test runs the binary in a
-- shell with temp files for input, output and scripts.
local BIN = os.getenv("MOMSANDBOX_BIN") or "build/momsandbox"
local BUILD = os.getenv("MOMSANDBOX_BUILD") or "build"

local function q(s) return "'" .. s:gsub("'", "'\\''") .. "'" end

local function slurp(name)
  local f = assert(io.open(name, "rb"))
  local s = f:read("a")
  f:close()
  return s
end

local function spit(name, text)
  local f = assert(io.open(name, "wb"))
  f:write(text)
  f:close()
  return name
end

-- Absolute, so that tests may cd elsewhere.
local cwd = io.popen("pwd"):read("l")
local function absolute(path) return path:sub(1, 1) == "/" and path or cwd .. "/" .. path end

-- The commands under test.  LuaJIT keeps the engine's objects in memory
-- that LeakSanitizer does not scan: no leak report for it (as for the
-- spec.jit suite).
local COMMANDS = {{name = "momsandbox", path = absolute(BIN), interpreter = "Lua 5.4", env = ""}}
local jit_path = absolute(BUILD .. "/momsandbox-jit")
if io.open(jit_path) then
  COMMANDS[2] = {name = "momsandbox-jit", path = jit_path, interpreter = "LuaJIT",
                 env = "ASAN_OPTIONS=detect_leaks=0", jit = true}
end
local bin, command   -- the one under test

-- Run the shell command; return its stdout, stderr and exit code.
local function sh(cmd, stdin)
  local inf = spit(os.tmpname(), stdin or "")
  local errf = os.tmpname()
  local p = io.popen("(" .. cmd .. ") <" .. q(inf) .. " 2>" .. q(errf))
  local out = p:read("a")
  local _, _, code = p:close()
  local err = slurp(errf)
  os.remove(inf)
  os.remove(errf)
  return out, err, code
end

-- Run the binary with the arguments (a list) and options
-- {stdin = text, env = {NAME = value}}; LUA_INIT and LUA_PATH are unset
-- unless env gives them.
local function run(args, opts)
  opts = opts or {}
  local cmd = {"env -u LUA_INIT -u LUA_INIT_5_4 -u LUA_PATH -u LUA_PATH_5_4", command.env}
  for k, v in pairs(opts.env or {}) do cmd[#cmd + 1] = k .. "=" .. q(v) end
  cmd[#cmd + 1] = q(bin)
  for _, a in ipairs(args) do cmd[#cmd + 1] = q(a) end
  return sh(table.concat(cmd, " "), opts.stdin)
end

local tmpdir
local function tmp(name, text) return spit(tmpdir .. "/" .. name, text) end

-- Run the binary under a pseudo-terminal fed by `feed`, a shell command
-- writing the keystrokes (with pauses where needed); returns the output
-- (terminal echo included) and the exit code.  In env, false unsets.
-- (A container or chroot may have `script` but no /dev/pts: try it.)
-- script runs the command through $SHELL -c; exec, or a shell that forks
-- (dash) would sit in the terminal's process group and die of Ctrl-C.
local has_script = os.execute("script -qec true /dev/null >/dev/null 2>&1")
local function pty(feed, env)
  local vars = {"TERM=dumb", command.env}
  for k, v in pairs(env or {}) do   -- env takes -u before assignments
    table.insert(vars, v and #vars + 1 or 1, v and k .. "=" .. q(v) or "-u " .. k)
  end
  local out, _, code = sh("(" .. feed .. ") | env " .. table.concat(vars, " ") ..
                          " timeout 30 script -qec " .. q("exec " .. q(bin)) .. " /dev/null")
  return out:gsub("\r", ""), code
end

for _, cmd in ipairs(COMMANDS) do
  describe(cmd.name .. " CLI", function()
    before_each(function()
      bin, command = cmd.path, cmd
      tmpdir = os.tmpname()
      os.remove(tmpdir)
      assert(os.execute("mkdir " .. q(tmpdir)))
    end)
    after_each(function() os.execute("rm -rf " .. q(tmpdir)) end)

    describe("arguments", function()
      it("builds arg like lua, with ... in the main chunk", function()
        local script = tmp("args.lua", [[
          local t = {}
          for i = -3, 3 do t[#t + 1] = i .. "=" .. tostring(arg[i]) end
          print(table.concat(t, " "))
          print(select("#", ...), ...)]])
        local out, err, code = run({"-e", "x=1", script, "a", "b c"})
        assert.are.equal("", err)
        assert.are.equal(0, code)
        assert.are.equal("-3=" .. bin .. " -2=-e -1=x=1 0=" .. script ..
                         " 1=a 2=b c 3=nil\n2\ta\tb c\n", out)
      end)

      it("puts the program at arg[0] and options above it without a script", function()
        local out = run({"-e", "print(arg[-1], arg[0], arg[1], arg[2])"})
        assert.are.equal("nil\t" .. bin .. "\t-e\tprint(arg[-1], arg[0], arg[1], arg[2])\n", out)
      end)

      it("runs -e chunks in order", function()
        local out, _, code = run({"-e", "x = 20", "-ex = x + 1", "-e", "print(x * 2)"})
        assert.are.equal(0, code)
        assert.are.equal("42\n", out)
      end)

      it("requires -l modules into globals, with g=mod renaming", function()
        tmp("tinymod.lua", "return {answer = 42}")
        local env = {LUA_PATH = tmpdir .. "/?.lua"}
        assert.are.equal("42\n", (run({"-l", "tinymod", "-e", "print(tinymod.answer)"}, {env = env})))
        assert.are.equal("42\tnil\n",
                         (run({"-lt=tinymod", "-e", "print(t.answer, tinymod)"}, {env = env})))
      end)

      it("stops at the first failing -l or -e", function()
        local out, err, code = run({"-l", "no_such_module_here", "-e", "print('ran')"})
        assert.are.equal(1, code)
        assert.are.equal("", out)
        assert.matches("module 'no_such_module_here' not found", err)
      end)

      it("prints both versions with -v", function()
        local version = run({"-e", "io.write(ms.version)"})
        assert.matches("^%d+%.%d+%.%d+$", version)
        local out, _, code = run({"-v"})
        assert.are.equal(0, code)
        assert.matches("momsandbox " .. version:gsub("%.", "%%."), out)
        assert.matches(command.interpreter, out, 1, true)
      end)

      it("runs stdin for -", function()
        local out = run({"-", "x", "y"}, {stdin = "print(arg[0], ...)"})
        assert.are.equal("-\tx\ty\n", out)
      end)

      it("stops handling options at --", function()
        local script = tmp("s.lua", "print(arg[-1], arg[0], ...)")
        local out = run({"--", script, "-e", "--"})
        assert.are.equal("--\t" .. script .. "\t-e\t--\n", out)
      end)

      it("runs LUA_INIT (Lua 5.4: LUA_INIT_5_4 first), and @file", function()
        local env = {LUA_INIT = "print('init')"}
        assert.are.equal("init\nmain\n", (run({"-e", "print('main')"}, {env = env})))
        env.LUA_INIT_5_4 = "print('init54')"
        assert.are.equal(command.jit and "init\nmain\n" or "init54\nmain\n",
                         (run({"-e", "print('main')"}, {env = env})))
        local file = tmp("init.lua", "print('from file')")
        assert.are.equal("from file\n", (run({"-e", ""}, {env = {LUA_INIT = "@" .. file}})))
      end)

      it("ignores LUA_INIT and LUA_PATH with -E", function()
        local env = {LUA_INIT = "print('init')", LUA_PATH = "/nowhere/?.lua"}
        local out = run({"-E", "-e", "print(package.path:find('/nowhere', 1, true))"}, {env = env})
        assert.are.equal("nil\n", out)
        out = run({"-e", "print(package.path:find('/nowhere', 1, true) ~= nil)"}, {env = env})
        assert.are.equal("init\ntrue\n", out)
      end)

      it("turns warnings on with -W", function()
        if command.jit then return pending("LuaJIT has no warnings: -W is accepted and does nothing") end
        local _, err = run({"-e", "warn('quiet')"})
        assert.are.equal("", err)
        _, err = run({"-W", "-e", "warn('loud')"})
        assert.matches("Lua warning: loud", err)
      end)

      it("prints the usage for a bad option", function()
        for _, args in ipairs{{"-x"}, {"-e"}, {"-vx"}} do
          local out, err, code = run(args)
          assert.are.equal(1, code)
          assert.are.equal("", out)
          assert.matches("usage: .*%[options%] %[script %[args%]%]", err)
          assert.matches(args[1], err, 1, true)
        end
      end)

      it("prints its help for -h and --help, and leaves a script's --help to the script", function()
        for _, args in ipairs{{"-h"}, {"--help"}, {"-v", "--help"}} do
          local out, err, code = run(args)
          assert.are.equal(0, code)
          assert.are.equal("", err)
          assert.matches(command.interpreter .. " with the momsandbox module as the global `ms`",
                         out, 1, true)
          assert.matches("usage: .*%[options%] %[script %[args%]%]", out)
          assert.matches("-h        show this help (also --help)", out, 1, true)
        end
        local out, _, code = run({"scripts/trace2d.lua", "--help"})
        assert.are.equal(0, code)
        assert.matches("^usage: momsandbox scripts/trace2d.lua %[options%]", out)
      end)
    end)

    describe("the module", function()
      it("is the global ms and what require returns", function()
        local out = run({"-e", "print(type(ms), rawequal(ms, require 'momsandbox'), " ..
                               "rawequal(help, ms.help))"})
        assert.are.equal("table\ttrue\ttrue\n", out)
      end)

      it("is there for scripts, LUA_INIT and stdin chunks", function()
        local script = tmp("s.lua", "print(ms.vec{1, 2})")
        assert.are.equal("vec{1, 2}\n", (run({script})))
        assert.are.equal("vec{3}\n", (run({"-e", ""}, {env = {LUA_INIT = "print(ms.vec{3})"}})))
        assert.are.equal("vec{4}\n", (run({}, {stdin = "print(ms.vec{4})"})))
      end)
    end)

    describe("exit status", function()
      it("is 1 with a traceback for a failing script", function()
        local script = tmp("fail.lua", "local x = 1\n\nerror('it broke')\n")
        local out, err, code = run({script})
        assert.are.equal(1, code)
        assert.are.equal("", out)
        assert.truthy(err:find(script .. ":3: it broke", 1, true))
        assert.matches("stack traceback:", err)
      end)

      it("shows one traceback, from inside the callback, for an error in a Lua objective", function()
        local script = tmp("cb.lua", "local f = ms.objective{dim = 1,\n" ..
                                     "  f = function(x) error('in f') end}\n" ..
                                     "ms.trace(f, ms.gd{lr = 0.1}, {x0 = {1}})\n")
        local _, err, code = run({script})
        assert.are.equal(1, code)
        assert.truthy(err:find(script .. ":2: in f", 1, true))
        assert.truthy(err:find(script .. ":2: in function", 1, true))   -- the callback's frame
        assert.truthy(err:find(script .. ":3: in main chunk", 1, true))
        assert.are.equal(1, select(2, err:gsub("stack traceback:", "")))
      end)

      it("is 1 for a syntax error, a missing file, or a failing stdin chunk", function()
        assert.are.equal(1, select(3, run({tmp("bad.lua", "x = = 1")})))
        assert.are.equal(1, select(3, run({tmpdir .. "/missing.lua"})))
        local _, err, code = run({}, {stdin = "error('from stdin')"})
        assert.are.equal(1, code)
        assert.matches("stdin:1: from stdin", err)
      end)

      it("is what os.exit asks", function()
        assert.are.equal(3, select(3, run({"-e", "os.exit(3)"})))
        assert.are.equal(0, select(3, run({"-e", "os.exit(true)"})))
        assert.are.equal(1, select(3, run({"-e", "os.exit(false)"})))
        assert.are.equal(5, select(3, run({tmp("x.lua", "os.exit(5, true)")})))
      end)

      it("reports non-string errors", function()
        local _, err, code = run({"-e", "error({})"})
        assert.are.equal(1, code)
        assert.matches("error object is a table value", err)
        _, err = run({"-e", "error(setmetatable({}, {__tostring = function() return 'mine' end}))"})
        assert.matches("mine", err)
      end)

      it("propagates through busted --lua", function()
        tmp("pass_spec.lua", "it('passes', function() assert.are.equal('table', type(ms)) end)")
        tmp("fail_spec.lua", "it('fails', function() assert.are.equal(1, 2) end)")
        local cd = "cd " .. q(tmpdir) .. " && env " .. command.env .. " busted --lua=" .. q(bin) .. " "
        local out, _, code = sh(cd .. "pass_spec.lua")
        assert.are.equal(0, code, out)
        out, _, code = sh(cd .. "fail_spec.lua")
        assert.are_not.equal(0, code, out)
      end)
    end)

    describe("Ctrl-C", function()
      -- The CLI installs its own handler while code runs; timeout passes
      -- the signal on (and ends a run that ignores it).  --foreground: to
      -- the CLI alone, as a terminal does; without it timeout signals its
      -- process group too, and a second Ctrl-C kills, as in lua.
      local function interrupt(chunk)
        return sh("env -u LUA_INIT " .. command.env .. " timeout --foreground 20 " .. q(bin) ..
                  " -e " .. q(chunk) ..
                  " & pid=$!; sleep 1; kill -INT $pid; wait $pid")
      end

      it("stops running Lua code with 'interrupted!'", function()
        -- (LuaJIT's compiled loops run no hooks: a second Ctrl-C kills them)
        local _, err, code = interrupt((command.jit and "jit.off() " or "") .. "while true do end")
        assert.are.equal(1, code)
        assert.matches("interrupted!", err)
      end)

      it("stops the engine's C loops", function()
        local _, err, code = interrupt("ms.trace(ms.objective.quadratic{0.2, 4}, ms.gd{lr = 0.1}, " ..
                                       "{x0 = {-5, -2}, steps = 9000000000, every = 9000000000})")
        assert.are.equal(1, code)
        assert.matches("interrupted", err)
      end)
    end)

    describe("REPL", function()
      it("prints expressions, takes multi-line input and survives errors", function()
        local input = table.concat({
          "1+1", "ms.vec{1,2}", "function f()", "  return 40", "end", "f() + 2",
          "error('boom')", "return 1, nil, 'three'", "=ms.version == require('momsandbox').version",
          "print('after')", ""}, "\n")
        local out, err, code = run({"-i"}, {stdin = input})
        assert.are.equal(0, code)
        assert.matches("ms%.%* is loaded; try: ms%.trace", out)
        assert.matches("\n> 2\n", out, 1, true)
        assert.matches("> vec{1, 2}\n", out, 1, true)
        assert.matches("> >> >> > 42\n", out, 1, true)
        assert.matches("> 1\tnil\tthree\n", out, 1, true)
        assert.matches("> true\n", out, 1, true)
        assert.matches("> after\n", out, 1, true)
        assert.matches("^stdin:1: boom\nstack traceback:", err)
      end)

      it("shows tables with their contents and elides long ones, vectors too", function()
        local input = table.concat({
          "ms.momentum{lr = 0.1}:hyper()", "ms.vec.linspace(1, 1e6, 1e6)",
          "local t = {} for i = 1, 50 do t[i] = i end return t",
          "ms.plot.lines{series = {{y = {1, 2}}}, size = {30, 8}}", "'x'", ""}, "\n")
        local out, _, code = run({"-i"}, {stdin = input})
        assert.are.equal(0, code)
        assert.matches("> {beta = 0.9, lr = 0.1}\n", out, 1, true)
        assert.matches("> vec{1, 2, 3, …, 1000000} (1000000)\n", out, 1, true)
        assert.matches("> {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, … (50 items)}\n", out, 1, true)
        assert.is_nil(out:find("table: 0x", 1, true))
        -- a text plot, then the next prompt: no nil after it
        assert.matches("\n\n> x\n", out, 1, true)
        assert.is_nil(out:find("nil", 1, true))
      end)

      it("runs the hint of its banner", function()
        local out = run({"-i"}, {stdin = "ms.trace(ms.objective.quadratic{0.2, 4}, " ..
                                         "ms.momentum{lr=0.6, beta=0.5}, {x0={-5,-2}})\n"})
        assert.matches("epoch 20, x1: 0.007188, x2: 0.002553", out, 1, true)
      end)

      it("reports an unfinished statement at end of input", function()
        local _, err, code = run({"-i"}, {stdin = "for i = 1, 2 do\n"})
        assert.are.equal(0, code)
        assert.matches("'end' expected", err)
      end)

      it("honours _PROMPT and _PROMPT2", function()
        local out = run({"-i"}, {stdin = "_PROMPT = 'P: '\n_PROMPT2 = 'Q: '\nif true then\nend\n"})
        assert.matches("> P: P: Q: P: \n$", out)
      end)

      it("starts after the script with -i", function()
        local script = tmp("s.lua", "from_script = 6 * 7")
        local out = run({"-i", script}, {stdin = "from_script\n"})
        assert.matches("> 42\n", out, 1, true)
      end)
    end)

    describe("REPL on a terminal", function()
      -- without a pseudo-terminal (a minimal container has no /dev/pts) the
      -- terminal specs are pending, not failing
      local it = has_script and it or function(name)
        pending(name .. " (no pseudo-terminal here: util-linux `script` and /dev/pts)")
      end

      it("saves the history to $MOMSANDBOX_HISTORY and reads it back", function()
        local hist = tmpdir .. "/history"
        local out, code = pty([[printf 'zz_hist = 6 * 7\nos.exit(0)\n']], {MOMSANDBOX_HISTORY = hist})
        assert.are.equal(0, code, out)
        assert.are.equal("zz_hist = 6 * 7\nos.exit(0)\n", slurp(hist))
        -- Ctrl-P brings back the previous line, from the file.
        out = pty([[printf '\020\020\n=zz_hist\n\004']], {MOMSANDBOX_HISTORY = hist})
        assert.matches("\n42\n", out, 1, true)
      end)

      it("works when the history cannot be written or HOME is unset", function()
        local out, code = pty([[printf '20 + 22\n\004']],
                              {MOMSANDBOX_HISTORY = tmpdir .. "/no/such/dir/history"})
        assert.are.equal(0, code)
        assert.matches("\n42\n", out, 1, true)
        out, code = pty([[printf '20 + 22\n\004']], {HOME = false, MOMSANDBOX_HISTORY = false})
        assert.are.equal(0, code)
        assert.matches("\n42\n", out, 1, true)
      end)

      it("completes globals, fields and __index fields with TAB", function()
        local out = pty([[printf 'zz_probe = 40\nzz_pr\t + 2\nms.mome\t == ms.momentum\n]] ..
                        [[t = setmetatable({}, {__index = {hello = 7}})\nt.hel\t\n\004']],
                        {MOMSANDBOX_HISTORY = tmpdir .. "/h"})
        assert.matches("> zz_probe + 2\n42\n", out, 1, true)
        assert.matches("> ms.momentum == ms.momentum\ntrue\n", out, 1, true)
        assert.matches("> t.hello\n7\n", out, 1, true)
      end)

      it("completes the methods of objects and the parts of ms not used yet", function()
        local out = pty([[printf 'zz_f = ms.objective.quadratic{1}\nzz_f:numg\t{1}\n]] ..
                        [[zz_v = ms.vec{3}\nzz_v:nor\t()\nms.plot.trace2\t == nil\n\004']],
                        {MOMSANDBOX_HISTORY = tmpdir .. "/h"})
        assert.matches("> zz_f:numgrad{1}\n", out, 1, true)
        assert.matches("> zz_v:norm()\n" .. (command.jit and "3" or "3.0") .. "\n", out, 1, true)
        assert.matches("> ms.plot.trace2d == nil\nfalse\n", out, 1, true)
      end)

      it("completes the methods of every kind of object", function()
        local out = pty([[printf 'zz_t = ms.trace(ms.objective.quadratic{1}, ms.gd{lr = 0.5}, ]] ..
                        [[{x0 = {1}, steps = 2})\nzz_t:colu\t(1)\nzz_r = ms.gd{lr = 0.1}\n]] ..
                        [[zz_r:hyp\t()\nzz_s = ms.schedule.step{lr = 1, step_size = 1}\n]] ..
                        [[zz_s:valu\t(2)\nzz_m = ms.model.linreg(2)\nzz_m.predic\t ~= nil\n\004']],
                        {MOMSANDBOX_HISTORY = tmpdir .. "/h"})
        assert.matches("> zz_t:column(1)\n{1", out, 1, true)
        assert.matches("> zz_r:hyper()\n{lr = 0.1}\n", out, 1, true)
        assert.matches("> zz_s:values(2)\n", out, 1, true)
        assert.matches("> zz_m.predict ~= nil\ntrue\n", out, 1, true)
      end)

      it("shows help and values for a person to read", function()
        local out, code = pty([[printf 'help(ms.momentum)\nms.momentum{lr = 0.1}:hyper()\n]] ..
                              [[ms.vec.linspace(1, 1e6, 1e6)\n\004']],
                              {MOMSANDBOX_HISTORY = tmpdir .. "/h"})
        assert.are.equal(0, code)
        assert.matches("> help(ms.momentum)\nms.momentum{lr, beta = 0.9}\n\n" ..
                       "Heavy-ball momentum in d2l's form", out, 1, true)
        assert.matches("> ms.momentum{lr = 0.1}:hyper()\n{beta = 0.9, lr = 0.1}\n", out, 1, true)
        assert.matches("\nvec{1, 2, 3, …, 1000000} (1000000)\n", out, 1, true)
      end)

      it("drops the input on Ctrl-C and goes on", function()
        local out, code = pty([[sleep 1; printf 'for i = 1, 3 do\n'; sleep 1; printf '\003';
                                sleep 1; printf 'print(\047still here\047)\n\004']],
                              {MOMSANDBOX_HISTORY = tmpdir .. "/h"})
        assert.are.equal(0, code)
        assert.matches(">> ^C\n> print('still here')\nstill here\n", out, 1, true)
        assert.is_nil(out:find("expected", 1, true))
      end)

      it("stops a running chunk on Ctrl-C and still drops input on the next one", function()
        -- (LuaJIT's compiled loops run no hooks: the loop is interpreted)
        local loop = command.jit and "jit.off() while true do end" or "while true do end"
        local out, code = pty([[sleep 1; printf ']] .. loop .. [[\n'; sleep 1; printf '\003';
                                sleep 1; printf 'for i = 1, 3 do\n'; sleep 1; printf '\003';
                                sleep 1; printf 'print(6 * 7)\n\004']],
                              {MOMSANDBOX_HISTORY = tmpdir .. "/h"})
        assert.are.equal(0, code)
        assert.matches("interrupted!", out, 1, true)
        assert.matches(">> ^C\n> print(6 * 7)\n42\n", out, 1, true)
      end)
    end)
  end)
end
