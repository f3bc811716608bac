"""Layer objects built from validated ``LayerSpec``s; one class per layer kind.

``build_layer`` maps a spec's ``kind`` to its class. Recurrent layers live in
``accelsim.nn.layers.recurrent`` (class ``Recurrent``) and are imported only when a workload
uses one, so a build without them still trains feed-forward networks and reports a clear
configuration error otherwise.
"""

from __future__ import annotations

import importlib

from accelsim.config.errors import ConfigError
from accelsim.config.workload import LayerSpec
from accelsim.nn.layers.base import Layer

# kind -> (module, class name); imported lazily so each kind pays only for its own kernels
LAYER_CLASSES: dict[str, tuple[str, str]] = {
    "linear": ("accelsim.nn.layers.linear", "Linear"),
    "conv": ("accelsim.nn.layers.conv", "Conv"),
    "pool": ("accelsim.nn.layers.pool", "Pool"),
    "flatten": ("accelsim.nn.layers.flatten", "Flatten"),
    "recurrent": ("accelsim.nn.layers.recurrent", "Recurrent"),
    "add": ("accelsim.nn.layers.graph", "Add"),
    "concat": ("accelsim.nn.layers.graph", "Concat"),
    "batchnorm": ("accelsim.nn.layers.graph", "BatchNorm"),
    "dropout": ("accelsim.nn.layers.graph", "Dropout"),
    "global_avgpool": ("accelsim.nn.layers.graph", "GlobalAvgPool"),
}


def build_layer(spec: LayerSpec, source: str | None = None, index: int | None = None) -> Layer:
    """The layer object for ``spec``; ``source``/``index`` name it in errors."""
    key = f"layers[{index}].type" if index is not None else "type"
    if spec.kind not in LAYER_CLASSES:
        raise ConfigError(source, key, "a layer kind implemented by accelsim.nn", spec.type)
    module_name, class_name = LAYER_CLASSES[spec.kind]
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError as err:
        if err.name != module_name:
            raise
        raise ConfigError(
            source,
            key,
            f"a layer type this build of accelsim.nn can train ({spec.type} "
            f"layers are not available)",
            spec.type,
        ) from None
    return getattr(module, class_name)(spec)


__all__ = ["LAYER_CLASSES", "Layer", "build_layer"]
