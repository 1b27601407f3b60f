"""A port an app owns (docs/architecture.md, "Floors"): where a lower app must reach a higher
one, it calls `port()`, which answers with the implementation a higher app registered in its
`AppConfig.ready()` (aliyun registers the cloud's), else with the app's own local one."""

from __future__ import annotations


class Port[T]:
    def __init__(self, local: T) -> None:
        self._implementation = local

    def register(self, implementation: T) -> None:
        """Answer with `implementation` from now on."""
        self._implementation = implementation

    def __call__(self) -> T:
        return self._implementation
