"""Layer 4, the applications: config loading with every reference resolved, training,
evaluation and prediction, baselines and the framework-overhead measurement."""
