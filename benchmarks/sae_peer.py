"""The peers' way of training SAEs, in plain PyTorch: one SAE at a time, a Python loop over steps.

Each SAE: activations h = F x (F: G random unit directions in d dims, x: feature i present with probability p_i
proportional to 0.9^i, sum p_i = 2, value U[0, 1)), z = ReLU(W_enc (h - b_dec) + b_enc), h' = W_dec z + b_dec,
loss = mean((h' - h)^2) + l1 * mean_batch sum_j z_j, Adam lr 1e-3, decoder columns renormalised after every step,
batch 1024 (the settings of python -m sweep.sae, sweep/sae/model.py). Run it in an environment with torch (not a
project dependency), with -P (benchmarks/profile.py would shadow the standard library's profile that torch imports):
python -P benchmarks/sae_peer.py D G LATENTS SAES STEPS [THREADS (default 1)]. Prints SAEs/s.
"""
import sys
import time

import torch

d, G, L, n_saes, steps = map(int, sys.argv[1:6])
torch.set_num_threads(int(sys.argv[6]) if len(sys.argv) > 6 else 1)
torch.manual_seed(0)
B = 1024
p = 0.9 ** torch.arange(G, dtype=torch.float32)
p = torch.clamp(p * 2.0 / p.sum(), max=1.0)
F = torch.nn.functional.normalize(torch.randn(d, G), dim=0)


def train(l1: float) -> float:
    W_dec = torch.nn.functional.normalize(torch.randn(d, L), dim=0)
    params = [torch.nn.Parameter(W_dec.T.clone()), torch.nn.Parameter(torch.zeros(L)),
              torch.nn.Parameter(W_dec.clone()), torch.nn.Parameter(torch.zeros(d))]
    W_enc, b_enc, W_dec, b_dec = params
    opt = torch.optim.Adam(params, lr=1e-3)
    for _ in range(steps):
        u = torch.rand(B, G)
        x = torch.where(u < p, u / p, torch.zeros(()))
        h = x @ F.T
        z = torch.relu((h - b_dec) @ W_enc.T + b_enc)
        loss = ((z @ W_dec.T + b_dec - h) ** 2).mean() + l1 * z.sum(-1).mean()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        with torch.no_grad():
            W_dec /= W_dec.norm(dim=0, keepdim=True).clamp_min(1e-12)
    return loss.item()


start = time.perf_counter()
for i in range(n_saes):
    train(1e-3 * 3 ** (i % 5))
seconds = time.perf_counter() - start
print(f"torch one at a time: {n_saes} SAEs (d={d}, G={G}, L={L}) x {steps} steps in {seconds:.1f} s: "
      f"{n_saes / seconds:.3f} SAEs/s")
