"""kloss under `torch.distributed` (gloo, 2 processes) with a Keras model (KERAS_BACKEND=torch).

Run: KERAS_BACKEND=torch PYTHONPATH=. python tests/distributed/torch_ddp.py [out.json]

A Keras model on the torch backend is a `torch.nn.Module`. For each case the main process
trains it for `STEPS` SGD steps on the full batch; then `torch.multiprocessing.spawn` starts
2 processes that each take half of the batch, wrap the model (same initial weights) in
`DistributedDataParallel` (which averages the gradients over the processes), and take the
same steps. The JSON holds the weights after the steps of both runs, the per-step losses
(the distributed one is the mean over processes) and the world size, ranks and shard shapes
that the processes report.

In-batch losses (TripletSemiHard, InfoNCE): each process mines within its own shard (the
loss of the first step is the mean of the per-shard losses); the user-side recipe
`gather_rows` (docs/distributed.md) all-gathers the embeddings with `AllGather`, an
autograd function whose backward pass all-reduces the incoming gradients, and its weights
match the full-batch run. (`torch.distributed.nn.functional.all_gather` gave wrong gradients
for TripletSemiHard with gloo in torch 2.13; making the incoming gradients contiguous fixed
them, see docs/distributed.md.)
"""

import datetime
import os
import sys
import tempfile
import time

os.environ["KERAS_BACKEND"] = "torch"

import keras  # noqa: E402
import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _common as C  # noqa: E402

import kloss  # noqa: E402

WORLD = 2
STEPS = 3
JOIN_TIMEOUT = 240
LR = 0.1
CASES = ("Huber", "SparseCategoricalCrossentropy", "Dice", "CTC", "TripletSemiHard", "InfoNCE")
# In-batch losses: name -> (kloss function, hyperparameters of the case's loss).
GATHERED = {
    "TripletSemiHard": (kloss.triplet_semi_hard, dict(margin=0.5)),
    "InfoNCE": (kloss.info_nce, dict(temperature=0.2)),
}


def _cases():
    return {c["name"]: c for c in C.cases() if c["name"] in CASES}


class AllGather(torch.autograd.Function):
    """All-gathers equal shards along axis 0; the backward pass sums the incoming gradients
    over the processes (all-reduce) and returns this process's slice."""

    @staticmethod
    def forward(ctx, x):
        parts = [torch.empty_like(x) for _ in range(dist.get_world_size())]
        dist.all_gather(parts, x.contiguous())
        ctx.rows = x.shape[0]
        return torch.cat(parts)

    @staticmethod
    def backward(ctx, grad):
        grad = grad.contiguous().clone()
        dist.all_reduce(grad)
        start = dist.get_rank() * ctx.rows
        return grad[start : start + ctx.rows]


def gather_rows(fn, y_true, y_pred, **kwargs):
    """User-side recipe: the mean over this process's rows of `fn` on the global batch.

    Labels and embeddings are all-gathered (`AllGather`, whose backward pass sums the
    gradients from every process); `DistributedDataParallel` then averages the parameter
    gradients over the processes: the gradient of the global-batch loss.
    """
    local = y_pred.shape[0]
    start = dist.get_rank() * local
    rows = fn(AllGather.apply(y_true), AllGather.apply(y_pred), **kwargs)
    return keras.ops.mean(rows[start : start + local])


def _steps(model, params, loss_of, x, y):
    """`STEPS` SGD steps of `loss_of(y, model(x))`; returns the losses before each step."""
    opt = torch.optim.SGD(params, lr=LR)
    losses = []
    for _ in range(STEPS):
        opt.zero_grad()
        loss = loss_of(y, model(x))
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
    return losses


def _tensor(a):
    return torch.as_tensor(a)


def worker(rank, rendezvous, weights_by_case, out_dir):
    dist.init_process_group(
        "gloo",
        init_method=f"file://{rendezvous}",
        rank=rank,
        world_size=WORLD,
        timeout=datetime.timedelta(seconds=60),  # a failed peer ends the run, no hang
    )
    report = dict(rank=dist.get_rank(), world_size=dist.get_world_size(), cases={})
    for name, case in _cases().items():
        size = len(case["x"]) // WORLD
        part = slice(rank * size, (rank + 1) * size)
        x, y = _tensor(case["x"][part]), _tensor(case["y"][part])
        variants = {"local": case["loss"]()}
        if name in GATHERED:
            fn, kwargs = GATHERED[name]
            variants["gathered"] = lambda t, p, fn=fn, kw=kwargs: gather_rows(fn, t, p, **kw)
        for variant, loss_of in variants.items():
            model = case["model"]()
            model.set_weights(weights_by_case[name])
            ddp = torch.nn.parallel.DistributedDataParallel(model)
            losses = _steps(ddp, ddp.parameters(), loss_of, x, y)
            print(f"rank {rank}: {name}/{variant} done", file=sys.stderr, flush=True)
            mean = torch.tensor(losses)
            dist.all_reduce(mean)  # the step losses, averaged over the processes
            report["cases"][f"{name}/{variant}"] = dict(
                shard_shape=list(x.shape),
                losses=(mean / WORLD).tolist(),
                weights=[w.tolist() for w in model.get_weights()],
            )
            # Free the DDP wrapper while the process group is still registered. Its C++
            # Reducer holds a reference to the group, and its Python binding is freed with the
            # GIL held: if it dropped the last reference (after `destroy_process_group`, e.g.
            # when this frame exits), `~ProcessGroupGloo` would join gloo's worker thread while
            # that thread waits for the GIL to free a finished all-reduce's tensors, a deadlock
            # (about 1 run in 5 here; pytorch/pytorch#56297).
            del ddp
    np.save(os.path.join(out_dir, f"rank{rank}.npy"), report, allow_pickle=True)
    dist.destroy_process_group()


def _spawn_and_join(fn, args):
    """`mp.spawn` with a bounded join: a process still running after `JOIN_TIMEOUT` seconds
    (a run takes about 12 s here) is killed, and the script fails saying which rank hung and
    whether it had written its report, instead of waiting for the test's timeout."""
    ctx = mp.start_processes(fn, args=args, nprocs=WORLD, join=False, start_method="spawn")
    deadline = time.monotonic() + JOIN_TIMEOUT
    while not ctx.join(timeout=5):  # raises if a process failed
        if time.monotonic() > deadline:
            hung = [rank for rank, p in enumerate(ctx.processes) if p.is_alive()]
            written = [os.path.exists(os.path.join(args[-1], f"rank{r}.npy")) for r in hung]
            for p in ctx.processes:
                p.kill()
            sys.exit(
                f"torch_ddp: ranks {hung} still running after {JOIN_TIMEOUT} s "
                f"(report written: {written})"
            )


def main():
    keras.utils.set_random_seed(0)
    result = dict(engine="torch.distributed (gloo) + DistributedDataParallel", cases={})
    result.update(rtol=C.RTOL, atol=C.ATOL, batch=C.BATCH, steps=STEPS)
    weights_by_case, single = {}, {}
    for name, case in _cases().items():
        model = case["model"]()
        weights_by_case[name] = model.get_weights()
        # Before the first step: the loss on the whole batch and the mean of the per-shard
        # losses, from the initial weights (those of both runs).
        pred = keras.ops.convert_to_numpy(model(case["x"]))
        first = dict(
            initial_global=C.loss_value(case["loss"](), case["y"], pred),
            initial_shards=C.shard_mean(case["loss"](), case["y"], pred, WORLD),
        )
        x, y = _tensor(case["x"]), _tensor(case["y"])
        losses = _steps(model, model.parameters(), case["loss"](), x, y)
        single[name] = dict(losses=losses, weights=[w.tolist() for w in model.get_weights()])
        single[name].update(first)
    with tempfile.TemporaryDirectory() as tmp:
        _spawn_and_join(worker, (os.path.join(tmp, "rdv"), weights_by_case, tmp))
        reports = [
            np.load(os.path.join(tmp, f"rank{r}.npy"), allow_pickle=True).item()
            for r in range(WORLD)
        ]
    result["ranks"] = [r["rank"] for r in reports]
    result["world_sizes"] = [r["world_size"] for r in reports]
    for key, entry in reports[0]["cases"].items():
        name, variant = key.split("/")
        case = _cases()[name]
        result["cases"][key] = dict(
            family=case["family"],
            in_batch=case["in_batch"],
            shard_shapes=[r["cases"][key]["shard_shape"] for r in reports],
            distributed_losses=entry["losses"],
            single_losses=single[name]["losses"],
            distributed_weights=entry["weights"],
            # DDP keeps the replicas in sync: rank 1 ends with the weights of rank 0.
            rank1_weights=reports[1]["cases"][key]["weights"],
            single_weights=single[name]["weights"],
            initial_global=single[name]["initial_global"],
            initial_shards=single[name]["initial_shards"],
        )
    C.emit(result)


if __name__ == "__main__":
    main()
