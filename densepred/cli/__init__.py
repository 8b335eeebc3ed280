"""Layer 5, the front end: the ``densepred`` command (:mod:`densepred.cli.main`) and its
subcommands, one module per group; ``tools/*.py`` are shims that call it."""
