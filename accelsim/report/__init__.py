"""Reports: metrics of a simulation, comparison against the BP baseline, JSON and Chrome traces."""
