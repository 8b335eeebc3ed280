"""Backbone ablation sweeps: a grid of configs trained, evaluated, measured and ranked.

- :mod:`~densepred.ablation.sweep`: sweep file schema, grid expansion with seeds, stable trial ids
- :mod:`~densepred.ablation.trial`: :func:`run_trial`, one trial as a pure function
- :mod:`~densepred.ablation.runner`: local sequential / parallel execution, resume
- :mod:`~densepred.ablation.timing`: the grid points' latency, timed interleaved in one process
- :mod:`~densepred.ablation.uncertainty`: ranks, intervals and separability over resamples
- :mod:`~densepred.ablation.score`: the configurable challenge score
- :mod:`~densepred.ablation.report`: results.csv, points.csv, ranking.json, results.md, pareto.png
"""
