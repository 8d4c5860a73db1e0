"""PDZ_WORKER_NICE really lowers a worker below the APIs, also where the kernel groups
processes by session (sched_autogroup) and each process of the devstack has a session of its
own: there ``os.nice`` alone changes nothing between them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    not Path("/proc/self/autogroup").exists(), reason="no sched_autogroup on this kernel"
)

CHILD = """
import os, sys
from pdz_shared.worker import lower_priority
lower_priority(7)
print(os.getpriority(os.PRIO_PROCESS, 0), open("/proc/self/autogroup").read().split()[-1])
"""


def test_a_worker_in_a_session_of_its_own_lowers_its_session_group() -> None:
    ours = Path("/proc/self/autogroup").read_text()
    out = subprocess.run(
        [sys.executable, "-c", CHILD],
        capture_output=True,
        text=True,
        check=True,
        start_new_session=True,  # as the devstack starts its processes
    ).stdout.split()
    assert out == ["7", "7"]
    # ours is untouched: the child's session is not this one
    assert Path("/proc/self/autogroup").read_text() == ours
