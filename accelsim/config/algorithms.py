"""Names of the training algorithms and presets accepted by ``--algorithm`` and workload files.

The functional engine (``accelsim.nn``) defines the maths of each, the lowering defines its cost;
docs/algorithms.md writes both down. ``pdfa`` trains as DFA with the weight-update delay of its
pipeline; on the chip it overlaps the backward work of one iteration with the next forward pass.
"""

ALGORITHMS = ("bp", "fa", "dfa", "pdfa", "sparse-dfa", "modular-dfa", "hybrid-dfa")
