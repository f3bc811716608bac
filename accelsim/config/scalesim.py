"""SCALE-Sim v3 inputs: the .cfg architecture file and the conv or GEMM topology CSV.

Accepts what SCALE-Sim 3.0.0 accepts (``scale_config.read_conf_file``,
``topology_utils.load_arrays_conv`` / ``load_arrays_gemm``), but checks every value and fails
with a ConfigError naming the file, the section/key or row/column, and what was expected, where
SCALE-Sim would crash later or silently mis-read. Rows may end with a comma (SCALE-Sim needs it:
without one it drops the last column) or not; both read the same here.
"""

from __future__ import annotations

import configparser
from dataclasses import dataclass
from pathlib import Path

from accelsim.config.errors import ConfigError
from accelsim.hw.pe_array import DATAFLOWS, GemmShape, conv_as_gemm
from accelsim.hw.scalesim_calc import OperandFootprint, SramSizes, conv_footprint, gemm_footprint


@dataclass(frozen=True)
class ScaleSimConfig:
    """The parts of a SCALE-Sim .cfg that decide forward-pass timing."""

    run_name: str
    rows: int  # ArrayHeight
    cols: int  # ArrayWidth
    dataflow: str  # os | ws | is
    sram: SramSizes  # IfmapSramSzkB, FilterSramSzkB, OfmapSramSzkB
    interface_bandwidth: str  # CALC | USER
    bandwidth_words_per_cycle: tuple[int, ...]  # Bandwidth (USER mode only)
    offsets: tuple[int, int, int]  # IfmapOffset, FilterOffset, OfmapOffset


@dataclass(frozen=True)
class TopologyLayer:
    """One layer of a topology file, already lowered to SCALE-Sim's GEMM view."""

    name: str
    row: int  # 1-based line number in the CSV
    shape: GemmShape
    footprint: OperandFootprint  # distinct ifmap / filter addresses it reads


@dataclass(frozen=True)
class Topology:
    file: str
    gemm: bool
    layers: tuple[TopologyLayer, ...]


# -- .cfg ---------------------------------------------------------------------------------

_INT_KEYS_OPTIONAL = ("ReadRequestBuffer", "WriteRequestBuffer")
_LAYOUT_INT_KEYS = (
    "IfmapSRAMBankBandwidth",
    "IfmapSRAMBankNum",
    "IfmapSRAMBankPort",
    "FilterSRAMBankBandwidth",
    "FilterSRAMBankNum",
    "FilterSRAMBankPort",
)


# Largest integer either file accepts (2**31 - 1): the same bound for every .cfg key and every
# topology cell, far above any real array, SRAM or layer size.
MAX_INT = 2**31 - 1


def _parse_int(text: str) -> int | None:
    """An optionally signed run of ASCII digits as an int, else None (no unicode digits like
    '²' or '٣', no '1_000', no spaces inside; ``int()`` alone accepts some of these)."""
    digits = text[1:] if text[:1] in "+-" else text
    if not digits or not digits.isascii() or not digits.isdigit():
        return None
    if len(digits.lstrip("0")) > len(str(MAX_INT)):  # out of range; skip int()'s digit limit
        return -(MAX_INT + 1) if text[:1] == "-" else MAX_INT + 1
    return int(text)


class _Cfg:
    """Typed reads from a parsed .cfg; every error names file, [section] and key."""

    def __init__(self, parser: configparser.ConfigParser, file: str) -> None:
        self.parser = parser
        self.file = file

    def where(self, section: str, key: str) -> str:
        return f"[{section}] {key}"

    def has(self, section: str, key: str) -> bool:
        return self.parser.has_option(section, key)

    def raw(self, section: str, key: str, expected: str) -> str:
        if not self.parser.has_section(section):
            raise ConfigError(self.file, f"[{section}]", f"a [{section}] section", "missing")
        if not self.parser.has_option(section, key):
            raise ConfigError(self.file, self.where(section, key), f"{expected} (required)")
        return self.parser.get(section, key).strip()

    def integer(self, section: str, key: str, minimum: int) -> int:
        expected = (
            f"a positive integer <= {MAX_INT}"
            if minimum == 1
            else f"an integer from {minimum} to {MAX_INT}"
        )
        text = self.raw(section, key, expected)
        value = _parse_int(text)
        if value is None:
            raise ConfigError(self.file, self.where(section, key), expected, text)
        if not minimum <= value <= MAX_INT:
            raise ConfigError(
                self.file, self.where(section, key), expected, text if len(text) > 12 else value
            )
        return value

    def choice(self, section: str, key: str, choices: tuple[str, ...]) -> str:
        expected = "one of " + ", ".join(choices)
        text = self.raw(section, key, expected)
        if text not in choices:
            raise ConfigError(self.file, self.where(section, key), expected, text)
        return text

    def boolean(self, section: str, key: str) -> bool:
        text = self.raw(section, key, "True or False")
        if text.lower() not in ("true", "false"):
            raise ConfigError(self.file, self.where(section, key), "True or False", text)
        return text.lower() == "true"


class _IniError(ConfigError):
    """A configparser error, kept whole (ConfigError shortens ``got`` to 80 characters)."""

    def __init__(self, file: str, problem: str) -> None:
        self.problem = problem
        super().__init__(file, None, "an INI file with [section] headers")

    @property
    def message(self) -> str:
        return f"{self.file}: expected {self.expected}, got: {self.problem}"


def load_scalesim_config(path: str | Path) -> ScaleSimConfig:
    """Parse and check a SCALE-Sim v3 .cfg file."""
    file = str(path)
    text = _read_text(path, "a SCALE-Sim .cfg file")
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text, source=file)
    except configparser.Error as err:
        message = " ".join(str(err).split())  # one line, nothing cut
        raise _IniError(file, message) from None
    cfg = _Cfg(parser, file)
    arch = "architecture_presets"
    run_name = cfg.raw("general", "run_name", "a run name")
    rows = cfg.integer(arch, "ArrayHeight", 1)
    cols = cfg.integer(arch, "ArrayWidth", 1)
    sram = SramSizes(
        # below 1 KiB SCALE-Sim's 100 address sets hold no address and it divides by zero
        ifmap_kb=cfg.integer(arch, "IfmapSramSzkB", 1),
        filter_kb=cfg.integer(arch, "FilterSramSzkB", 1),
        ofmap_kb=cfg.integer(arch, "OfmapSramSzkB", 1),
    )
    offsets = (
        cfg.integer(arch, "IfmapOffset", 0),
        cfg.integer(arch, "FilterOffset", 0),
        cfg.integer(arch, "OfmapOffset", 0),
    )
    dataflow = cfg.choice(arch, "Dataflow", DATAFLOWS)
    for key in _INT_KEYS_OPTIONAL:
        if cfg.has(arch, key):
            cfg.integer(arch, key, 1)
    mode = "CALC"
    if cfg.has("run_presets", "InterfaceBandwidth"):
        mode = cfg.choice("run_presets", "InterfaceBandwidth", ("CALC", "USER"))
    bandwidths: tuple[int, ...] = ()
    if mode == "USER" or cfg.has(arch, "Bandwidth"):
        bandwidths = _bandwidths(cfg, arch, required=mode == "USER")
    if cfg.has("run_presets", "UseRamulatorTrace") and cfg.boolean(
        "run_presets", "UseRamulatorTrace"
    ):
        raise ConfigError(
            file,
            cfg.where("run_presets", "UseRamulatorTrace"),
            "False (Ramulator DRAM traces are not modelled)",
            "True",
        )
    if cfg.has("sparsity", "SparsitySupport") and cfg.boolean("sparsity", "SparsitySupport"):
        raise ConfigError(
            file,
            cfg.where("sparsity", "SparsitySupport"),
            "false (SCALE-Sim's sparse mappings are not modelled)",
            "true",
        )
    if parser.has_section("layout"):
        for key in ("IfmapCustomLayout", "FilterCustomLayout"):
            if cfg.has("layout", key):
                cfg.boolean("layout", key)
        for key in _LAYOUT_INT_KEYS:
            if cfg.has("layout", key):
                cfg.integer("layout", key, 1)
    return ScaleSimConfig(
        run_name=run_name,
        rows=rows,
        cols=cols,
        dataflow=dataflow,
        sram=sram,
        interface_bandwidth=mode,
        bandwidth_words_per_cycle=bandwidths,
        offsets=offsets,
    )


def _bandwidths(cfg: _Cfg, section: str, required: bool) -> tuple[int, ...]:
    expected = f"a comma-separated list of positive integers <= {MAX_INT} (words per cycle)"
    if not required and not cfg.raw(section, "Bandwidth", expected):
        return ()
    text = cfg.raw(section, "Bandwidth", expected)
    values = tuple(_parse_int(part.strip()) for part in text.split(","))
    if any(value is None or not 1 <= value <= MAX_INT for value in values):
        raise ConfigError(cfg.file, cfg.where(section, "Bandwidth"), expected, text)
    return values  # type: ignore[return-value]


# -- topology CSV ---------------------------------------------------------------------------

_CONV_COLUMNS = (
    "IFMAP Height",
    "IFMAP Width",
    "Filter Height",
    "Filter Width",
    "Channels",
    "Num Filter",
    "Strides",
)
_GEMM_COLUMNS = ("M", "N", "K")


def load_topology(path: str | Path, gemm: bool = False) -> Topology:
    """Parse a SCALE-Sim topology CSV: conv format, or ``Layer, M, N, K`` with ``gemm=True``.

    The first line is a header (as in SCALE-Sim); blank lines are skipped. A conv layer whose
    name contains ``DP`` is depth-wise and becomes one single-channel layer per channel, named
    ``<name>Channel_<i>``, as SCALE-Sim does. An optional last column holds an N:M sparsity
    ratio, which only matters with SparsitySupport (not modelled) and is checked, then ignored.
    """
    file = str(path)
    lines = _read_text(path, "a SCALE-Sim topology CSV").splitlines()
    columns = _GEMM_COLUMNS if gemm else _CONV_COLUMNS
    layout = "Layer, " + ", ".join(columns)
    header_seen = False
    layers: list[TopologyLayer] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        cells = _cells(line)
        if not header_seen:
            header_seen = True
            if len(cells) > 1 and all(_is_int(cell) for cell in cells[1:]):
                raise ConfigError(
                    file, f"row {number}", f"a header row ({layout}) before the layers", line
                )
            continue
        layers.extend(_topology_row(file, number, cells, columns, gemm, layout))
    if not layers:
        raise ConfigError(file, None, f"a header row and at least one layer row ({layout})")
    return Topology(file=file, gemm=gemm, layers=tuple(layers))


def _topology_row(
    file: str, number: int, cells: list[str], columns: tuple[str, ...], gemm: bool, layout: str
) -> list[TopologyLayer]:
    if len(cells) not in (len(columns) + 1, len(columns) + 2):
        hint = "" if gemm or len(cells) not in (4, 5) else "; GEMM rows need --gemm"
        raise ConfigError(
            file,
            f"row {number}",
            f"{len(columns) + 1} columns ({layout}[, Sparsity N:M]{hint})",
            len(cells),
        )
    name = cells[0]
    if not name:
        raise ConfigError(file, f"row {number}, column 1 (Layer name)", "a non-empty name")
    values = []
    for index, column in enumerate(columns, start=2):
        cell = cells[index - 1]
        value = _parse_int(cell)
        if value is None or not 1 <= value <= MAX_INT:
            raise ConfigError(
                file,
                f"row {number}, column {index} ({column})",
                f"a positive integer <= {MAX_INT}",
                cell,
            )
        values.append(value)
    if len(cells) == len(columns) + 2:
        _check_sparsity(file, number, len(cells), cells[-1])
    if gemm:
        m, n, k = values
        shape = GemmShape(m=m, k=k, n=n)
        return [TopologyLayer(name, number, shape, gemm_footprint(shape))]
    ifmap_h, ifmap_w, filt_h, filt_w, channels, filters, stride = values
    for index, (filt, size) in ((4, (filt_h, ifmap_h)), (5, (filt_w, ifmap_w))):
        if filt > size:
            raise ConfigError(
                file,
                f"row {number}, column {index} ({columns[index - 2]})",
                f"at most the IFMAP {'Height' if index == 4 else 'Width'} ({size})",
                filt,
            )
    conv = (ifmap_h, ifmap_w, filt_h, filt_w)
    if "DP" in name:
        return [
            TopologyLayer(
                f"{name}Channel_{channel}",
                number,
                conv_as_gemm(*conv, 1, filters, stride, stride),
                conv_footprint(*conv, 1, filters, stride, stride),
            )
            for channel in range(channels)
        ]
    return [
        TopologyLayer(
            name,
            number,
            conv_as_gemm(*conv, channels, filters, stride, stride),
            conv_footprint(*conv, channels, filters, stride, stride),
        )
    ]


def _check_sparsity(file: str, number: int, column: int, cell: str) -> None:
    parts = [_parse_int(part.strip()) for part in cell.split(":")]
    ok = len(parts) == 2 and None not in parts
    if not ok or not 1 <= parts[0] <= parts[1] <= MAX_INT:  # type: ignore[operator]
        raise ConfigError(
            file,
            f"row {number}, column {column} (Sparsity)",
            "a ratio N:M with 1 <= N <= M",
            cell,
        )


def _cells(line: str) -> list[str]:
    cells = [cell.strip() for cell in line.split(",")]
    # SCALE-Sim rows end with a comma; accept rows with or without it
    if len(cells) > 1 and cells[-1] == "":
        cells.pop()
    return cells


def _is_int(text: str) -> bool:
    return _parse_int(text) is not None


def _read_text(path: str | Path, what: str) -> str:
    file = str(path)
    path = Path(path)
    if not path.exists():
        raise ConfigError(file, None, f"an existing file ({what})", "no such file")
    if path.is_dir():
        raise ConfigError(file, None, what, "a directory")
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise ConfigError(file, None, f"a readable UTF-8 text file ({what})", str(err)) from None
