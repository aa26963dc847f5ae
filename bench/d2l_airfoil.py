"""d2l's train_ch11 and train_concise_ch11 on the airfoil data, as the book
runs them (PyTorch, float32, d2l's code inlined), over seeds 1..SEEDS: the
reference for the statistics in docs/training.md and spec/airfoil_spec.lua.
It needs numpy and torch (Debian: python3-torch); momsandbox itself never
runs it.

    python3 bench/d2l_airfoil.py [PATH [SEEDS]]

prints, per run, the median, min and max final loss and the median training
time per epoch (evaluation excluded, one thread).
"""
import statistics
import sys
import time

import numpy as np
import torch
from torch import nn
from torch.utils import data as tud

path = sys.argv[1] if len(sys.argv) > 1 else 'data/airfoil_self_noise.dat'
seeds = int(sys.argv[2]) if len(sys.argv) > 2 else 10

raw = np.genfromtxt(path, dtype=np.float32, delimiter='\t')   # get_data_ch11
raw = torch.from_numpy((raw - raw.mean(axis=0)) / raw.std(axis=0))
features, labels = raw[:1500, :-1], raw[:1500, -1]


def data_iter():
    return tud.DataLoader(tud.TensorDataset(features, labels), 10, shuffle=True)


def evaluate_loss(net, it, loss):
    total, count = 0.0, 0
    for X, y in it:
        out = net(X)
        l = loss(out, y.reshape(out.shape))
        total += float(l.sum())
        count += l.numel()
    return total / count


def train_ch11(lr, momentum, epochs=2):
    it = data_iter()
    w = torch.normal(mean=0.0, std=0.01, size=(5, 1), requires_grad=True)
    b = torch.zeros((1), requires_grad=True)
    states = (torch.zeros((5, 1)), torch.zeros(1))
    net = lambda X: torch.matmul(X, w) + b
    loss = lambda y_hat, y: (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    n, last, timer = 0, None, 0.0
    start = time.perf_counter()
    for _ in range(epochs):
        for X, y in it:
            l = loss(net(X), y).mean()
            l.backward()
            for p, v in zip((w, b), states):
                with torch.no_grad():
                    v[:] = momentum * v + p.grad
                    p[:] -= lr * v
                p.grad.data.zero_()
            n += X.shape[0]
            if n % 200 == 0:
                timer += time.perf_counter() - start
                with torch.no_grad():
                    last = evaluate_loss(net, it, loss)
                start = time.perf_counter()
    timer += time.perf_counter() - start
    return last, timer / epochs


def train_concise_ch11(lr, momentum, epochs=4):
    it = data_iter()
    net = nn.Sequential(nn.Linear(5, 1))
    nn.init.normal_(net[0].weight, std=0.01)
    optimizer = torch.optim.SGD(net.parameters(), lr=lr, momentum=momentum)
    loss = nn.MSELoss(reduction='none')
    n, last, timer = 0, None, 0.0
    start = time.perf_counter()
    for _ in range(epochs):
        for X, y in it:
            optimizer.zero_grad()
            out = net(X)
            l = loss(out, y.reshape(out.shape))
            l.mean().backward()
            optimizer.step()
            n += X.shape[0]
            if n % 200 == 0:
                timer += time.perf_counter() - start
                with torch.no_grad():
                    last = evaluate_loss(net, it, loss) / 2
                start = time.perf_counter()
    timer += time.perf_counter() - start
    return last, timer / epochs


runs = [('momentum lr=0.02 beta=0.5', lambda: train_ch11(0.02, 0.5)),
        ('momentum lr=0.01 beta=0.9', lambda: train_ch11(0.01, 0.9)),
        ('momentum lr=0.005 beta=0.9', lambda: train_ch11(0.005, 0.9)),
        ('concise sgd lr=0.005 momentum=0.9', lambda: train_concise_ch11(0.005, 0.9))]
torch.set_num_threads(1)
for name, run in runs:
    losses, secs = [], []
    for s in range(1, seeds + 1):
        torch.manual_seed(s)
        l, t = run()
        losses.append(l)
        secs.append(t)
    print(f'{name:36s} median {statistics.median(losses):.4f} '
          f'min {min(losses):.4f} max {max(losses):.4f} '
          f'{statistics.median(secs) * 1e3:.1f} ms/epoch')
