"""A small name -> implementation registry, the way timm and smp select models by name."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any, Generic, TypeVar

from densepred.core.errors import ConfigError, unknown_name_message

T = TypeVar("T")


def check_kwargs(
    fn: Callable[..., Any],
    kwargs: Mapping[str, Any],
    where: str,
    internal: Collection[str] = (),
) -> None:
    """Fail with a clear message if ``kwargs`` holds a key that ``fn`` does not accept.

    Args:
        fn: The callable (function or class) the keyword arguments are meant for.
        kwargs: The keyword arguments, usually straight from a config file.
        where: The config key they came from, used in the message (e.g. ``"model.decoder_args"``).
        internal: Parameters densepred fills in itself (e.g. a decoder's ``encoder_channels``):
            never offered as valid keys, and an error when ``kwargs`` sets them.
    """
    for key in kwargs:
        if key in internal:
            raise ConfigError(
                f"{where}.{key} is set by densepred from the rest of the config; remove it."
            )
    params = inspect.signature(fn).parameters
    if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()):
        return
    valid = [
        n
        for n, p in params.items()
        if p.kind is not inspect.Parameter.VAR_POSITIONAL and n not in internal
    ]
    for key in kwargs:
        if key not in valid:
            raise ConfigError(f"{where}: " + unknown_name_message("key", key, valid))


class Registry(Generic[T]):
    """Maps names to builders (classes or functions).

    Args:
        kind: What the registry holds, used in error messages (e.g. ``"decoder"``).
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str | None = None) -> Callable[[T], T]:
        """Decorator that registers a builder under ``name`` (default: its ``__name__``)."""

        def deco(obj: T) -> T:
            key = name or getattr(obj, "__name__", None)
            if not key:
                raise ValueError(f"a {self.kind} needs a name to be registered")
            if key in self._items:
                raise ValueError(f"{self.kind} '{key}' is registered twice")
            self._items[key] = obj
            return obj

        return deco

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` under ``name`` (for entries that are not decorated callables)."""
        return self.register(name)(obj)

    def get(self, name: str) -> T:
        """Return the builder registered as ``name`` or raise ``ConfigError`` with close matches."""
        if name not in self._items:
            raise ConfigError(unknown_name_message(self.kind, name, self._items))
        return self._items[name]

    def build(
        self,
        name: str,
        where: str = "",
        internal: Mapping[str, Any] | None = None,
        **kwargs: Any,
    ) -> Any:
        """Look up ``name`` and call it with ``internal`` and ``kwargs``, checking the keys of
        ``kwargs`` against its signature.

        Args:
            name: Registered name.
            where: Config key the kwargs came from, for messages.
            internal: Arguments densepred fills in (e.g. a decoder's ``encoder_channels``); not
                offered to users, who may not set them (see :func:`check_kwargs`).
            **kwargs: Arguments from the config.
        """
        fn: Any = self.get(name)
        internal = dict(internal or {})
        check_kwargs(fn, kwargs, where or f"{self.kind} '{name}'", internal=internal)
        return fn(**internal, **kwargs)

    def names(self) -> list[str]:
        """Registered names, sorted."""
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)
