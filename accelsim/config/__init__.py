"""Config loading and validation: YAML in, frozen typed objects out, one error type."""

from accelsim.config.errors import ConfigError
from accelsim.config.workload import LayerSpec, Workload, load_workload

__all__ = ["ConfigError", "LayerSpec", "Workload", "load_workload"]
