"""Layer 0: errors, the name registry, atomic file writing, the strict schema base and the
measuring helpers (parameters, MACs, latency). Imports nothing else of the package."""
