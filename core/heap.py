"""What a long-running process (the notify worker, each gunicorn worker) does with the objects its
start-up made."""

from __future__ import annotations

import gc


def freeze_startup_objects() -> None:
    """Move every object alive now out of the cyclic collector's sight (`gc.freeze`).

    What a process has made by the end of its start-up (modules, classes, Django's app
    registry, URL patterns, settings, templates) lives as long as the process, yet every full
    collection walked all of it again: about 145,000 objects in a worker, a pause of a
    millisecond or more each time, several times a second in a worker's batch thread and once
    or twice per Contact Management page. Frozen objects are never freed, which costs nothing
    for objects that live until the process ends; what is made later is collected as usual.
    Measured on one worker sending 3,000 messages to robots answering after 100 ms: 344-357
    deliveries a second before, 391-400 after."""
    gc.collect()  # garbage from start-up is freed, not frozen
    gc.freeze()
