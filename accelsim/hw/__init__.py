"""Hardware cost models: PE-array timing, memory, energy tables, feedback-weight store."""
