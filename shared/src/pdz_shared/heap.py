"""Garbage collection for long-running service processes."""

from __future__ import annotations

import gc


def settle() -> None:
    """Once a process has started: what startup loaded (modules, models, routes, the OpenAPI
    schema) is frozen out of the collector's sight, and young collections run every 10,000
    allocations instead of 700. Before, collections that kept re-scanning those long-lived
    objects took about 7 % of the CPU of a discharge intake."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(10_000, 10, 10)
