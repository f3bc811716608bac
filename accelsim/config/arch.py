"""Chip description files: compute units, buffers, memories and energy settings, validated.

``load_arch`` reads YAML (or a dict), checks every key once and returns a frozen ``Arch``. A chip
is a set of units (PE arrays that run GEMM tasks, vector units that run element-wise tasks), each
listing the task kinds it may run, plus a global buffer, a DRAM channel (bandwidth in GB/s or in
bytes per core cycle, latency in ns) and an energy table choice. Checks that need a workload and
an algorithm (a unit for every task kind, a feedback store large enough for B) live in
``check_arch_for`` and run once the algorithm is chosen. docs/simulate.md lists every key.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from accelsim.config.errors import ConfigError
from accelsim.config.fields import Section
from accelsim.config.yaml_io import load_yaml_mapping

DATAFLOWS = ("os", "ws", "is")
UNIT_KINDS = ("pe_array", "vector")
TASK_KINDS = ("fp", "ep", "wg", "wu", "loss", "dfa_ep")
PE_TASKS = ("fp", "ep", "wg", "dfa_ep")  # GEMM work
VECTOR_TASKS = ("wu", "loss")  # element-wise work
FEEDBACK_SOURCES = ("prng", "sram", "dram")
ENERGY_TABLES = ("horowitz45",)
# ITRS device types of on-chip SRAM for leakage (CACTI 7 cells + periphery); see docs/energy.md.
# lstp: low standby power (edge / low-power chips, the default); hp: high performance.
SRAM_CELLS = ("lstp", "hp")
NUMBER_FORMATS = ("int", "fp")
# Per-action energy overrides (pJ, applied after node scaling); see accelsim/hw/energy.py.
# Physical upper bounds (lower ones for the clock): generous enough for any real chip, tight
# enough that no product of them overflows a float or drives a latency to zero.
MAX_CLOCK_MHZ = 1e5  # 100 GHz
MIN_CLOCK_MHZ = 1e-3  # 1 kHz
MAX_NODE_NM = 1e4  # 10 um
MAX_VOLTAGE_V = 10.0
MAX_ARRAY_DIM = 65536  # PE rows or cols
MAX_LANES = 2**20
MAX_KB = 1e7  # any one on-chip SRAM: 10 GB
MAX_BYTES_PER_CYCLE = 1e15  # tests use 1e12 for "no limit"
MAX_GB_PER_S = 1e9  # 1 EB/s
MAX_LATENCY_NS = 1e9  # 1 s
MAX_PJ_PER_ACTION = 1e6  # 1 uJ per MAC, add, byte moved, ...
MAX_PJ_PER_CYCLE = 1e9  # leakage: 1 mJ per cycle
MAX_PIPELINE_DEPTH = 64
ENERGY_OVERRIDES = (
    "mac_pj",
    "add_pj",
    "vector_op_pj",
    "prng_pj_per_value",
    "sram_pj_per_byte",
    "global_buffer_pj_per_byte",
    "leakage_pj_per_cycle",
    "sram_leakage_pj_per_cycle",
)


@dataclass(frozen=True)
class Precision:
    """Bits per number. ``format`` picks the int or floating-point rows of the energy table."""

    activation: int = 16
    weight: int = 16
    error: int = 16
    accumulator: int = 32
    format: str = "int"


@dataclass(frozen=True)
class Buffers:
    """Private SRAM of a PE array, one buffer per GEMM operand (KB)."""

    ifmap_kb: float = 64.0
    weight_kb: float = 64.0
    ofmap_kb: float = 32.0


@dataclass(frozen=True)
class FeedbackStore:
    """Where a unit finds the fixed random feedback matrices B (DFA/FA).

    ``prng``: regenerated on the fly by an LFSR (no storage, no traffic); ``sram``: a private
    SRAM of ``size_kb``; ``dram``: streamed from external memory like weights. ``fallback: dram``
    lets an SRAM store that is too small keep the overflow in DRAM.
    """

    source: str = "dram"
    bits: int = 16
    density: float = 1.0
    size_kb: float = 0.0
    fallback: str = "none"  # none | dram


@dataclass(frozen=True)
class Unit:
    name: str
    kind: str  # pe_array | vector
    tasks: tuple[str, ...]
    rows: int = 0
    cols: int = 0
    dataflow: str = ""
    lanes: int = 0
    buffers: Buffers = Buffers()
    feedback: FeedbackStore | None = None
    index: int = 0  # position in units[] (for error messages)
    # skips MACs whose activation/error operand is zero, given measured zero fractions
    # (accelsim/hw/sparsity.py); without them the unit runs dense
    zero_skipping: bool = False

    @property
    def pes(self) -> int:
        return self.rows * self.cols if self.kind == "pe_array" else self.lanes


@dataclass(frozen=True)
class GlobalBuffer:
    size_kb: float = 512.0
    bandwidth_bytes_per_cycle: float = 64.0


@dataclass(frozen=True)
class Dram:
    """The external memory channel, in core-clock units for the simulator.

    A file gives the bandwidth either in physical units (``bandwidth_gb_per_s``, 1 GB = 1e9 B,
    kept here as given) or per core cycle (``bandwidth_bytes_per_cycle``). Either way
    ``bandwidth_bytes_per_cycle`` is the effective value the simulator uses:
    ``gb_per_s * 1e9 / (clock_mhz * 1e6)`` B/cycle when GB/s is given, so a faster core clock
    leaves fewer bytes per cycle. ``latency_ns`` is a fixed access latency per transfer (default
    0: none); ``latency_cycles = latency_ns * clock_mhz / 1000`` (not rounded).
    """

    bandwidth_bytes_per_cycle: float = 16.0
    energy_pj_per_byte: float | None = None  # None: the energy table's default
    bandwidth_gb_per_s: float | None = None  # as given in the file; None: given per cycle
    latency_ns: float = 0.0
    latency_cycles: float = 0.0


@dataclass(frozen=True)
class EnergySpec:
    table: str = "horowitz45"
    scale_to_nm: float | None = None  # None: the chip's technology_nm
    voltage_v: float | None = None  # None: the table's reference voltage
    sram_cells: str = "lstp"  # ITRS device type for SRAM leakage: lstp | hp
    overrides: tuple[tuple[str, float], ...] = ()

    def override(self, key: str) -> float | None:
        return dict(self.overrides).get(key)


@dataclass(frozen=True)
class Fusion:
    """Producer/consumer pairs the chip runs tile by tile, so the tensor between them is never
    materialised (no DRAM traffic, no global-buffer space): ``wg_wu``, each weight gradient
    accumulated by its WG and applied by its WU; ``dfa_error_stream``, each DFA error ``B_l e``
    formed tile by tile inside the weight gradient that consumes it."""

    wg_wu: bool = True
    dfa_error_stream: bool = False


@dataclass(frozen=True)
class Arch:
    name: str
    source: str  # file label used in messages
    clock_mhz: float
    technology_nm: float
    precision: Precision
    units: tuple[Unit, ...]
    global_buffer: GlobalBuffer
    dram: Dram
    energy: EnergySpec
    double_buffered: bool = True
    pipeline_depth: int = 2  # iterations in flight under the pdfa schedule
    fusion: Fusion = Fusion()

    def unit(self, name: str) -> Unit:
        for unit in self.units:
            if unit.name == name:
                return unit
        raise KeyError(name)

    def units_for(self, task_kind: str) -> tuple[Unit, ...]:
        return tuple(unit for unit in self.units if task_kind in unit.tasks)


def load_arch(source: str | Path | dict[str, Any], label: str | None = None) -> Arch:
    """Read and validate a chip description; errors name the file, the key and the expectation."""
    data, label = load_yaml_mapping(source, label)
    root = Section(data, label)
    root.reject_unknown(
        (
            "name",
            "description",
            "clock_mhz",
            "technology_nm",
            "precision",
            "units",
            "global_buffer",
            "dram",
            "energy",
            "double_buffered",
            "pipeline_depth",
            "fusion",
        )
    )
    name = root.get_str("name", default=Path(label).stem if label != "<dict>" else "arch")
    clock = root.get_float("clock_mhz", minimum=MIN_CLOCK_MHZ, maximum=MAX_CLOCK_MHZ)
    node = root.get_float(
        "technology_nm", default=45.0, minimum=0.0, maximum=MAX_NODE_NM, exclusive_minimum=True
    )
    precision = _parse_precision(root.get_section("precision", default=None))
    units = _parse_units(root)
    gb = root.get_section("global_buffer", default=None)
    gb.reject_unknown(("size_kb", "bandwidth_bytes_per_cycle"))
    global_buffer = GlobalBuffer(
        size_kb=gb.get_float(
            "size_kb", default=512.0, minimum=0.0, maximum=MAX_KB, exclusive_minimum=True
        ),
        bandwidth_bytes_per_cycle=gb.get_float(
            "bandwidth_bytes_per_cycle",
            default=64.0,
            minimum=0.0,
            maximum=MAX_BYTES_PER_CYCLE,
            exclusive_minimum=True,
        ),
    )
    dram = _parse_dram(root.get_section("dram", default=None), clock)
    energy = _parse_energy(root.get_section("energy", default=None))
    return Arch(
        name=name,
        source=label,
        clock_mhz=clock,
        technology_nm=node,
        precision=precision,
        units=units,
        global_buffer=global_buffer,
        dram=dram,
        energy=energy,
        double_buffered=root.get_bool("double_buffered", default=True),
        pipeline_depth=root.get_int(
            "pipeline_depth", default=2, minimum=1, maximum=MAX_PIPELINE_DEPTH
        ),
        fusion=_parse_fusion(root.get_section("fusion", default=None)),
    )


def _parse_fusion(s: Section) -> Fusion:
    s.reject_unknown(("wg_wu", "dfa_error_stream"))
    return Fusion(
        wg_wu=s.get_bool("wg_wu", default=Fusion.wg_wu),
        dfa_error_stream=s.get_bool("dfa_error_stream", default=Fusion.dfa_error_stream),
    )


DRAM_KEYS = ("bandwidth_gb_per_s", "bandwidth_bytes_per_cycle", "latency_ns", "energy_pj_per_byte")


def _parse_dram(s: Section, clock_mhz: float) -> Dram:
    """Bandwidth in GB/s or in bytes per core cycle (not both), latency in ns -> core cycles."""
    s.reject_unknown(DRAM_KEYS)
    if s.has("bandwidth_gb_per_s") and s.has("bandwidth_bytes_per_cycle"):
        raise s.error(
            "bandwidth_bytes_per_cycle",
            f"either {s.key_path('bandwidth_gb_per_s')} (GB/s) or "
            f"{s.key_path('bandwidth_bytes_per_cycle')} (bytes per core cycle), not both",
            "both given",
        )
    gb_per_s = s.get_float(
        "bandwidth_gb_per_s",
        default=None,
        minimum=0.0,
        maximum=MAX_GB_PER_S,
        exclusive_minimum=True,
    )
    if gb_per_s is not None:
        per_cycle = gb_per_s * 1e9 / (clock_mhz * 1e6)
    else:
        per_cycle = s.get_float(
            "bandwidth_bytes_per_cycle",
            default=16.0,
            minimum=0.0,
            maximum=MAX_BYTES_PER_CYCLE,
            exclusive_minimum=True,
        )
    latency_ns = s.get_float("latency_ns", default=0.0, minimum=0.0, maximum=MAX_LATENCY_NS)
    return Dram(
        bandwidth_bytes_per_cycle=per_cycle,
        energy_pj_per_byte=s.get_float(
            "energy_pj_per_byte", default=None, minimum=0.0, maximum=MAX_PJ_PER_ACTION
        ),
        bandwidth_gb_per_s=gb_per_s,
        latency_ns=latency_ns,
        latency_cycles=latency_ns * clock_mhz / 1000,
    )


def _parse_precision(s: Section) -> Precision:
    s.reject_unknown(("activation", "weight", "error", "accumulator", "format"))
    bits = {
        key: s.get_int(key, default=getattr(Precision, key), minimum=1, maximum=64)
        for key in ("activation", "weight", "error", "accumulator")
    }
    return Precision(**bits, format=s.get_choice("format", NUMBER_FORMATS, default="int"))


def _parse_units(root: Section) -> tuple[Unit, ...]:
    raw = root.get_list("units")
    units: list[Unit] = []
    seen: set[str] = set()
    for index, item in enumerate(raw):
        s = Section(item, root.file, f"units[{index}]")
        kind = s.get_choice("kind", UNIT_KINDS, default="pe_array")
        name = s.get_str("name")
        if name in seen:
            raise s.error("name", "a unit name used only once", name)
        seen.add(name)
        tasks = _parse_tasks(s, kind)
        if kind == "vector":
            s.reject_unknown(("name", "kind", "lanes", "tasks"))
            lanes = s.get_int("lanes", minimum=1, maximum=MAX_LANES)
            units.append(Unit(name, kind, tasks, lanes=lanes, index=index))
            continue
        s.reject_unknown(
            (
                "name",
                "kind",
                "rows",
                "cols",
                "dataflow",
                "tasks",
                "buffers_kb",
                "feedback",
                "zero_skipping",
            )
        )
        buffers = _parse_buffers(s.get_section("buffers_kb", default=None))
        feedback = None
        if s.has("feedback"):
            feedback = _parse_feedback(s.get_section("feedback"))
        units.append(
            Unit(
                name,
                kind,
                tasks,
                rows=s.get_int("rows", minimum=1, maximum=MAX_ARRAY_DIM),
                cols=s.get_int("cols", minimum=1, maximum=MAX_ARRAY_DIM),
                dataflow=s.get_choice("dataflow", DATAFLOWS),
                buffers=buffers,
                feedback=feedback,
                index=index,
                zero_skipping=s.get_bool("zero_skipping", default=False),
            )
        )
    return tuple(units)


def _parse_tasks(s: Section, kind: str) -> tuple[str, ...]:
    allowed = PE_TASKS if kind == "pe_array" else VECTOR_TASKS
    tasks = s.get_list("tasks")
    for task in tasks:
        if task not in allowed:
            raise s.error("tasks", f"task kinds a {kind} runs: one of " + ", ".join(allowed), task)
    if len(set(tasks)) != len(tasks):
        raise s.error("tasks", "each task kind listed once", tasks)
    return tuple(tasks)


def _parse_buffers(s: Section) -> Buffers:
    s.reject_unknown(("ifmap", "weight", "ofmap"))
    return Buffers(
        *(
            s.get_float(
                key,
                default=getattr(Buffers, f"{key}_kb"),
                minimum=0.0,
                maximum=MAX_KB,
                exclusive_minimum=True,
            )
            for key in ("ifmap", "weight", "ofmap")
        )
    )


def _parse_feedback(s: Section) -> FeedbackStore:
    s.reject_unknown(("source", "bits", "density", "size_kb", "fallback"))
    source = s.get_choice("source", FEEDBACK_SOURCES)
    size_kb = 0.0
    if source == "sram":
        size_kb = s.get_float("size_kb", minimum=0.0, maximum=MAX_KB, exclusive_minimum=True)
    elif s.has("size_kb"):
        raise s.error("size_kb", "no size_kb unless source is sram")
    return FeedbackStore(
        source=source,
        bits=s.get_int("bits", default=16, minimum=1, maximum=32),
        density=s.get_float(
            "density", default=1.0, minimum=0.0, maximum=1.0, exclusive_minimum=True
        ),
        size_kb=size_kb,
        fallback=s.get_choice("fallback", ("none", "dram"), default="none"),
    )


def _parse_energy(s: Section) -> EnergySpec:
    s.reject_unknown(("table", "scale_to_nm", "voltage_v", "sram_cells", *ENERGY_OVERRIDES))
    overrides = tuple(
        (key, s.get_float(key, minimum=0.0, maximum=_override_maximum(key)))
        for key in ENERGY_OVERRIDES
        if s.has(key)
    )
    return EnergySpec(
        table=s.get_choice("table", ENERGY_TABLES, default="horowitz45"),
        scale_to_nm=s.get_float(
            "scale_to_nm", default=None, minimum=0.0, maximum=MAX_NODE_NM, exclusive_minimum=True
        ),
        voltage_v=s.get_float(
            "voltage_v", default=None, minimum=0.0, maximum=MAX_VOLTAGE_V, exclusive_minimum=True
        ),
        sram_cells=s.get_choice("sram_cells", SRAM_CELLS, default="lstp"),
        overrides=overrides,
    )


def _override_maximum(key: str) -> float:
    return MAX_PJ_PER_CYCLE if key.endswith("_per_cycle") else MAX_PJ_PER_ACTION


def check_task_kinds(arch: Arch, kinds: Iterable[str], algorithm: str) -> None:
    """Raise if the chip has no unit for a task kind the algorithm needs."""
    for kind in sorted(set(kinds), key=TASK_KINDS.index):
        if not arch.units_for(kind):
            raise ConfigError(
                arch.source,
                "units[].tasks",
                f"a unit that can run task '{kind}', which algorithm {algorithm} needs",
                "none listed",
            )


def feedback_error(arch: Arch, unit: Unit, needed_kb: float) -> ConfigError:
    return ConfigError(
        arch.source,
        f"units[{unit.index}].feedback.size_kb",
        f"at least {needed_kb:.1f} KB to hold B, or fallback: dram",
        unit.feedback.size_kb,
    )
