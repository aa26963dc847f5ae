-- The rules that say they are PyTorch's optimizers, against a real PyTorch
-- run where one is installed (Debian's python3-torch: ./setup.sh --bench).
-- Both sides take the same gradients: on the quadratic each is given
-- lambda_i x_i, on Rosenbrock PyTorch's autograd computes its own.
--
-- PyTorch's x86-64 kernels round a*b + c once (fused multiply-add) where
-- the engine rounds twice, so the spec asks PyTorch for its portable
-- kernels (ATEN_CPU_CAPABILITY=default).  Then torch.optim.SGD in all its
-- forms is followed bit for bit; the others to 1e-12 (PyTorch 1.13 and 2.x
-- order Adam's and centred RMSprop's operations differently; the engine
-- follows 2.x).
local ms = require "momsandbox"
local h = require "spec.helpers"
local json = require "momsandbox.json"

local STEPS = 60

-- {rule, its hyper-parameters, torch.optim class, its keywords, bit for bit?}
local CASES = {
  {"sgd", {lr = 0.1}, "SGD", {lr = 0.1}, true},
  {"sgd", {lr = 0.1, momentum = 0.9}, "SGD", {lr = 0.1, momentum = 0.9}, true},
  {"sgd", {lr = 0.05, momentum = 0.9, dampening = 0.3}, "SGD",
   {lr = 0.05, momentum = 0.9, dampening = 0.3}, true},
  {"sgd", {lr = 0.05, momentum = 0.8, nesterov = true, weight_decay = 0.01, maximize = true}, "SGD",
   {lr = 0.05, momentum = 0.8, nesterov = true, weight_decay = 0.01, maximize = true}, true},
  {"nesterov", {lr = 0.07, momentum = 0.6}, "SGD", {lr = 0.07, momentum = 0.6, nesterov = true}, true},
  {"adam", {lr = 0.1}, "Adam", {lr = 0.1}},
  {"adam", {lr = 0.01, beta1 = 0.5, beta2 = 0.9, eps = 1e-6, maximize = true}, "Adam",
   {lr = 0.01, betas = {0.5, 0.9}, eps = 1e-6, maximize = true}},
  {"adam", {lr = 0.01, weight_decay = 0.1, amsgrad = true}, "Adam",
   {lr = 0.01, weight_decay = 0.1, amsgrad = true}},
  {"adamw", {lr = 0.1}, "AdamW", {lr = 0.1}},
  {"adamw", {lr = 0.02, weight_decay = 0.3, amsgrad = true, beta1 = 0.8}, "AdamW",
   {lr = 0.02, weight_decay = 0.3, amsgrad = true, betas = {0.8, 0.999}}},
  {"rmsprop", {lr = 0.01, maximize = true, eps = 1e-3}, "RMSprop", {lr = 0.01, maximize = true, eps = 1e-3}},
  {"rmsprop", {lr = 0.01, centered = true, momentum = 0.5, alpha = 0.9, weight_decay = 0.1}, "RMSprop",
   {lr = 0.01, centered = true, momentum = 0.5, alpha = 0.9, weight_decay = 0.1}},
  {"adagrad", {lr = 0.5}, "Adagrad", {lr = 0.5}},
  {"adagrad", {lr = 0.5, lr_decay = 0.1, weight_decay = 0.05, initial_accumulator_value = 0.2, eps = 1e-5,
               maximize = true}, "Adagrad",
   {lr = 0.5, lr_decay = 0.1, weight_decay = 0.05, initial_accumulator_value = 0.2, eps = 1e-5,
    maximize = true}},
}

-- Rosenbrock's curvature near x0 is ~1000: its runs take lr / 100
local LAMBDA, QX0, RX0, RLR = {0.2, 4, 1.5}, {-5, -2, 3}, {-1.2, 1}, 0.01

-- Reads the cases as JSON on stdin; prints, per case, the quadratic's and
-- Rosenbrock's trajectories as lines of %.17g numbers.
local PYTHON = [[
import json, sys, torch
torch.set_default_dtype(torch.float64)
spec = json.load(sys.stdin)
lam = torch.tensor(spec["lambda"])
def rosenbrock(x): return 100 * (x[1] - x[0] ** 2) ** 2 + (1 - x[0]) ** 2
for c in spec["cases"]:
    for x0, quad in ((spec["qx0"], True), (spec["rx0"], False)):
        x = torch.tensor([float(v) for v in x0], requires_grad=True)
        kw = dict(c[3])
        if not quad: kw["lr"] = kw["lr"] * spec["rlr"]
        if "betas" in kw: kw["betas"] = tuple(kw["betas"])
        opt = getattr(torch.optim, c[2])([x], foreach=False, **kw)
        out = ["%.17g" % v for v in x.tolist()]
        for _ in range(spec["steps"]):
            opt.zero_grad()
            if quad: x.grad = lam * x.detach()
            else: rosenbrock(x).backward()
            opt.step()
            out += ["%.17g" % v for v in x.tolist()]
        print(" ".join(out))
]]

--- A python3 that imports torch ("python3" first, then Debian's), or nil.
local function python()
  for _, py in ipairs{"python3", "/usr/bin/python3"} do
    if h.run("env -u LD_PRELOAD " .. py .. " -c 'import torch'") == 0 then return py end
  end
end

local function numbers(line)
  local t = {}
  for v in line:gmatch("%S+") do t[#t + 1] = tonumber(v) end
  return t
end

--- The engine's trajectory of case c from x0 on f, flattened, with lr
-- times scale.
local function ours(c, f, x0, scale)
  local hyper = {}
  for k, v in pairs(c[2]) do hyper[k] = v end
  hyper.lr = hyper.lr * scale
  local tr = ms.trace(f, ms[c[1]](hyper), {x0 = x0, steps = STEPS})
  assert(not tr.diverged, c[1] .. " diverges")
  local t = {}
  for i = 1, #tr do
    for _, v in ipairs(tr:point(i):totable()) do t[#t + 1] = v end
  end
  return t
end

describe("the PyTorch optimizers' twins", function()
  local py = python()
  if not py then
    it("need PyTorch", function()
      pending("no python3 imports torch (Debian: python3-torch; ./setup.sh --bench installs it)")
    end)
    return
  end

  it("follow a real PyTorch run step by step", function()
    local dir = h.tmpdir()
    h.write(dir .. "/run.py", PYTHON)
    h.write(dir .. "/cases.json", json.encode{cases = CASES, lambda = LAMBDA, qx0 = QX0, rx0 = RX0,
                                              rlr = RLR, steps = STEPS})
    local status, out, err = h.run(("cd %s && env -u LD_PRELOAD -u ASAN_OPTIONS " ..
                                    "ATEN_CPU_CAPABILITY=default %s run.py <cases.json"):format(
                                   h.shquote(dir), py))
    h.rmtree(dir)
    assert.equal(0, status, err)
    local lines = {}
    for line in out:gmatch("[^\n]+") do lines[#lines + 1] = line end
    assert.equal(2 * #CASES, #lines)
    local quad, rosen = ms.objective.quadratic(LAMBDA), ms.objective.rosenbrock()
    for i, c in ipairs(CASES) do
      local name = ("%s %s"):format(c[1], json.encode(c[2]))
      for k, run in ipairs{{quad, QX0, 1}, {rosen, RX0, RLR}} do
        -- (climbing Rosenbrock overflows within a few steps: the quadratic
        -- alone shows maximize)
        if k == 2 and c[2].maximize then break end
        local a, b = ours(c, run[1], run[2], run[3]), numbers(lines[2 * i - 2 + k])
        assert.equal(#b, #a, name)
        if c[5] then
          assert.is_true(h.same_bits(a, b), name .. ": not bit for bit")
        else
          for j = 1, #a do
            assert.is_true(math.abs(a[j] - b[j]) <= 1e-12 * math.max(1, math.abs(b[j])),
                           ("%s: %.17g against PyTorch's %.17g"):format(name, a[j], b[j]))
          end
        end
      end
    end
  end)
end)
