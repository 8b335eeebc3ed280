"""YAML reading that refuses a key given twice in one mapping.

PyYAML keeps the last of two equal keys without a word, so a second ``task:`` section silently
replaces the first. :func:`load_yaml` is ``yaml.safe_load`` with that case made a
:class:`~densepred.core.errors.ConfigError` naming the source, the key and both lines, at any
level of nesting. Merge keys (``<<: *anchor``) still work: a key given beside a merge overrides
the merged one, as YAML intends.
"""

from __future__ import annotations

from typing import Any

import yaml

from densepred.core.errors import ConfigError

MERGE_TAG = "tag:yaml.org,2002:merge"


class UniqueKeyLoader(yaml.SafeLoader):
    """``yaml.SafeLoader`` whose mappings refuse duplicate keys.

    Args:
        text: The YAML text.
        source: Where the text came from (a file name), for messages.
    """

    def __init__(self, text: str, source: str) -> None:
        super().__init__(text)
        self.source = source

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        if isinstance(node, yaml.MappingNode):
            seen: dict[Any, int] = {}
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: the base class names it
                    continue
                line = key_node.start_mark.line + 1
                if first is not None:
                    raise ConfigError(
                        f"{self.source}: line {line}: key '{key}' is given twice in the same "
                        f"mapping (first at line {first}); YAML would keep only the second and "
                        "silently drop the first. Remove one or merge them."
                    )
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_yaml(text: str, source: str) -> Any:
    """``yaml.safe_load(text)``, but a key given twice in one mapping is an error.

    Args:
        text: YAML text.
        source: Where it came from (file name, override), for messages.

    Raises:
        ConfigError: A duplicate key, naming ``source``, the key and both lines.
        yaml.YAMLError: The text is not valid YAML.
    """
    loader = UniqueKeyLoader(text, source)
    try:
        return loader.get_single_data()
    finally:
        loader.dispose()
