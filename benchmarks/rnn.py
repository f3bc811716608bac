"""Speed of the recurrent kernels against torch CPU: LSTM and GRU training steps, same shapes.

For each case it times, alternating ours and torch's runs and keeping the fastest of
``--repeats``: (1) the recurrent layer alone, forward + backward through time with a gradient
at every step; (2) a whole training step of a small network (recurrent layer + linear read-out
+ softmax cross-entropy, forward and backward) via ``Network.loss_and_grads`` against
torch.nn.LSTM/GRU + Linear + cross_entropy + backward. Both libraries use ``--threads``
threads. Writes the table into the ``rnn`` section of docs/performance.md.

    python benchmarks/rnn.py                 # 2 threads, 7 repeats
    python benchmarks/rnn.py --no-docs
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

from _common import read_section, write_section

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "performance.md"
SECTION = "rnn"

# (label, cell, N, T, F, H, output, classes)
CASES = [
    ("GRU MNIST-1D (gru_mnist1d)", "gru", 100, 40, 1, 128, "last", 10),
    ("LSTM char-LM (lstm_shakespeare)", "lstm", 64, 64, 63, 128, "sequence", 63),
    ("LSTM large", "lstm", 64, 100, 65, 256, "sequence", 65),
    ("GRU large", "gru", 64, 100, 65, 256, "last", 10),
]


CLOCK = time.perf_counter  # --cpu-time: time.process_time (robust on a loaded machine)


def _best(fun, repeats: int) -> float:
    fun()
    best = float("inf")
    for _ in range(repeats):
        start = CLOCK()
        fun()
        best = min(best, CLOCK() - start)
    return best * 1e3


def measure(repeats: int) -> list[tuple]:
    rows = []
    for label, cell, n, t, f, h, output, classes in CASES:
        funs = _callables(cell, n, t, f, h, output, classes)
        times: dict[str, float] = {}
        for _ in range(2):  # alternate so both see the same machine load
            for key, fun in funs.items():
                times[key] = min(times.get(key, float("inf")), _best(fun, repeats))
        rows.append((label, f"{n}x{t}x{f}, H={h}", times))
    return rows


def _callables(cell: str, n: int, t: int, f: int, h: int, output: str, classes: int) -> dict:
    """Our and torch's layer pass and training step for one case."""
    import numpy as np
    import torch

    from accelsim.nn import Network
    from accelsim.nn.kernels.rnn import recurrent_backward, recurrent_forward

    rng = np.random.default_rng(0)
    spec = {
        "name": "bench",
        "dataset": {"name": "synthetic", "input_shape": [t, f], "num_classes": classes},
        "layers": [
            {"name": "rnn", "type": cell, "hidden_size": h, "output": output},
            {"name": "fc", "type": "linear", "out_features": classes},
        ],
    }
    net = Network.from_spec(spec)
    x = rng.standard_normal((n, t, f)).astype(np.float32)
    y = rng.integers(0, classes, size=(n, t) if output == "sequence" else n)
    p = {k.split(".", 1)[1]: v for k, v in net.params.items() if k.startswith("rnn.")}
    dh = rng.standard_normal((n, t, h)).astype(np.float32)

    def ours_layer():
        out, saved = recurrent_forward(
            cell, x, p["weight_ih"], p["weight_hh"], p["bias_ih"], p["bias_hh"]
        )
        recurrent_backward(cell, dh, saved, p["weight_ih"], p["weight_hh"])

    def ours_step():
        net.loss_and_grads(x, y, "bp")

    module = {"lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell](f, h, batch_first=True)
    head = torch.nn.Linear(h, classes)
    xt, dht = torch.tensor(x), torch.tensor(dh)
    yt = torch.tensor(y).reshape(-1)

    def torch_layer():
        xt.grad = None
        module.zero_grad()
        out, _ = module(xt.requires_grad_())
        out.backward(dht)

    def torch_step():
        module.zero_grad()
        head.zero_grad()
        out, _ = module(xt)
        z = head(out if output == "sequence" else out[:, -1])
        torch.nn.functional.cross_entropy(z.reshape(-1, classes), yt).backward()

    return {
        "ours_layer": ours_layer,
        "torch_layer": torch_layer,
        "ours_step": ours_step,
        "torch_step": torch_step,
    }


def render(rows: list[tuple], threads: int, cpu_time: bool) -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    clock = "process CPU time" if cpu_time else "wall time"
    flag = " --cpu-time" if cpu_time else ""
    lines = [
        f"`python benchmarks/rnn.py --threads {threads}{flag}` ({threads} "
        f"thread{'s' if threads != 1 else ''} for numba and "
        f"torch; {clock}, fastest of the repeats, ms; machine load average at the end "
        f"{load:.1f} on 2 cores). Layer = "
        "forward + BPTT of the recurrent layer with a gradient at every step; step = "
        "recurrent layer + linear read-out + cross-entropy, forward and backward "
        "(`Network.loss_and_grads(..., 'bp')` vs torch autograd).",
        "",
        "| case | N x T x F, H | layer ours | layer torch | ratio | step ours | step torch "
        "| ratio |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for label, shape, t in rows:
        lines.append(
            f"| {label} | {shape} | {t['ours_layer']:.1f} | {t['torch_layer']:.1f} | "
            f"{t['ours_layer'] / t['torch_layer']:.2f}x | {t['ours_step']:.1f} | "
            f"{t['torch_step']:.1f} | {t['ours_step'] / t['torch_step']:.2f}x |"
        )
    return "\n".join(lines)


def append_section(text: str) -> None:
    """Replace the table of the same command line, keep tables of other settings."""
    body = read_section(DOC, SECTION)
    blocks = [b for b in (body.split("\n\n\n") if body is not None else []) if b.strip()]
    command = text.split("`")[1]
    blocks = [b for b in blocks if f"`{command}`" not in b] + [text]
    write_section(DOC, SECTION, "\n\n\n".join(blocks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument(
        "--cpu-time",
        action="store_true",
        help="time with process CPU time (use with --threads 1 under load)",
    )
    parser.add_argument("--no-docs", action="store_true")
    args = parser.parse_args()
    global CLOCK
    if args.cpu_time:
        CLOCK = time.process_time
    os.environ["NUMBA_NUM_THREADS"] = str(args.threads)
    import torch

    torch.set_num_threads(args.threads)
    text = render(measure(args.repeats), args.threads, args.cpu_time)
    print(text)
    if not args.no_docs:
        append_section(text)


if __name__ == "__main__":
    main()
