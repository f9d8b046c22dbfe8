"""Run by ``tests/test_torchrun.py``, alone or under ``torchrun``: one update of every stage of a tiny
config, each from the same initial weights, through the modules ``train`` calls (``stage_modules``).

``python tests/torchrun_worker.py OUT CONFIG grads`` saves (rank 0) the gradients each update
applied, averaged over the processes; ``... OUT CONFIG nan`` gives rank 1 a NaN batch, and every
process must stop with ``NonFiniteLoss`` instead of waiting for the others.
"""

import os
import sys

import torch
import torch.distributed as dist

from hifigan_edu import config, hifigan, train

out, name, mode = sys.argv[1:]
c = config.load(name, ["data.batch_size=4"])
processes = train.join_processes(c)
device = torch.device("cpu")
data = train.batches(c, 0, device, processes.rank, processes.world)
degraded, clean = next(data)
if mode == "nan" and processes.rank == 1:
    degraded = degraded * float("nan")
grads = {}
try:
    for stage in c.stage_names:
        torch.manual_seed(0)
        G, D = hifigan.build(c)
        generator_loss, discriminators = train.stage_modules(G, D, stage, c, train.autocast_for(c, device), processes, device)
        frozen = torch.optim.SGD([p for p in G.parameters() if p.requires_grad], lr=0.0)  # keeps the gradients, not a step
        train.update(generator_loss(degraded, clean), frozen)
        grads[stage] = {n: p.grad.clone() for n, p in G.named_parameters() if p.grad is not None}
        if stage == "adversarial":
            train.discriminator_step(G, discriminators, degraded, clean, torch.optim.SGD(D.parameters(), lr=0.0), c.loss.adversarial)
            grads["discriminators"] = {n: p.grad.clone() for n, p in D.named_parameters()}
except train.NonFiniteLoss as err:
    sys.exit(f"rank {processes.rank}: {err}")
finally:
    if processes.joined:  # as train() does (not enough by itself: see the os._exit below)
        dist.destroy_process_group()
if processes.lead:
    torch.save(grads, out)
sys.stdout.flush()
os._exit(0)  # skip the interpreter's teardown, where a C++ thread of the gloo/DDP stack sometimes aborts the process
