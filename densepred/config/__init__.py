"""Layer 1, the one home of the config schemas: every section of a run config as a pydantic model,
the typed :class:`~densepred.config.run.Config`, the task specs that name each task's sections, and
the YAML / override parsing.

Nothing here imports torch, Lightning, timm or smp, so a config is parsed and its keys and types
checked in a fraction of a second (``parse_config`` without references). Names that point into
the component registries (encoders, decoders, losses, data formats, ...) and the ``*_args`` meant
for them are checked in a second pass that is given a :class:`~densepred.config.refs.References`
implementation (:mod:`densepred.tasks.references`).
"""
