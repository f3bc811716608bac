"""accelsim: a cycle-approximate simulator of DNN training processors built around DFA.

The package is a pipeline; each sub-package is one stage and imports only stages before it:
config -> nn -> lowering -> hw -> sim -> report -> study / plot, with cli rendering results.
"""

__version__ = "0.1.0"
