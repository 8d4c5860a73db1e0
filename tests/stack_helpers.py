"""Helpers for the cross-service tests (they talk to the running stack over HTTP only)."""

import asyncio
from typing import Any


async def processed_discharge(
    http: Any, location: str, headers: dict[str, str], timeout: float = 60.0
) -> dict[str, Any]:
    """The discharge at ``location`` once the casework processor has applied it (a 202 means
    accepted: the case is opened a moment later)."""
    async with asyncio.timeout(timeout):
        while True:
            r = await http.get(f"http://127.0.0.1:8003{location}", headers=headers)
            if r.status_code == 200 and r.json()["status"] != "accepted":
                return dict(r.json())
            await asyncio.sleep(0.1)
