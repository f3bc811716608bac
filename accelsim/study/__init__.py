"""Studies over many simulations: design-space sweeps and their result store.

A sweep spec (``spec``) names a chip, a workload, algorithms and the values to vary by dotted
path (``paths``); ``expand`` turns it into points, ``run`` plans and executes them on local
worker processes (``executor``) or a Dask cluster (``dask_executor``), and ``store`` keeps one
SQLite row per point so an interrupted sweep resumes. ``results`` turns stored rows into the
``accelsim results`` JSON/CSV rows.
"""
