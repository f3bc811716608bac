"""The functional engine: numba kernels, layers, the Network, training algorithms and datasets.

``from accelsim.nn import Network`` is the entry point (see ``accelsim.nn.network``); training
loops live in ``accelsim.nn.train`` and datasets in ``accelsim.nn.datasets``.
"""

from accelsim.nn.network import Network

__all__ = ["Network"]
