"""Time ``accelsim scalesim``'s model on one LLM FFN GEMM (M=131072, N=11008, K=4096).

Prints the best of a few runs per dataflow on the example 32x32 array with its SRAM sizes
(examples/scalesim/scale.cfg). Before the closed-form ofmap drain this took 7 s (os) and about
12 minutes (ws, is) per layer; the target is under 10 ms. Usage: python benchmarks/scalesim_speed.py
"""

from __future__ import annotations

import time

from accelsim.hw.pe_array import GemmShape
from accelsim.hw.scalesim_calc import SramSizes, layer_report

SHAPE = GemmShape(m=131072, k=4096, n=11008)
SRAM = SramSizes(ifmap_kb=256, filter_kb=256, ofmap_kb=128)


def main() -> None:
    print(f"GEMM M={SHAPE.m} N={SHAPE.n} K={SHAPE.k}, 32x32 array, SRAM 256/256/128 KiB")
    for dataflow in ("os", "ws", "is"):
        best = float("inf")
        for _ in range(5):
            start = time.perf_counter()
            report = layer_report(SHAPE, 32, 32, dataflow, SRAM)
            best = min(best, time.perf_counter() - start)
        print(
            f"{dataflow}: {best * 1e3:.3f} ms  total {report.total_cycles:,} cycles, "
            f"incl. prefetch {report.cycles_incl_prefetch:,}, stalls {report.stall_cycles}"
        )


if __name__ == "__main__":
    main()
