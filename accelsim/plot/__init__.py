"""Paper figures: one module per figure family, one shared style, every figure saved with its data.

Each ``*_figure`` function takes plain data (simulate/compare JSON dicts, sweep store rows),
returns a matplotlib ``Figure`` and the ``Table`` of numbers it draws; ``save_figure`` writes the
picture (PNG, PDF, SVG) and the table as CSV beside it. Rendering uses the Agg canvas directly
(no pyplot, no GUI, no global backend switch).
"""
