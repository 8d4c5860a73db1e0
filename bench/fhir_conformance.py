"""CPU per Bundle and memory of the FHIR conformance check: fhir.resources vs the element table.

``python -m bench.fhir_conformance [--rounds 15] [--per-round 200]``

Both run in this process, in alternating rounds, on the same Bundles; the figure is the median
of the rounds' CPU time (``time.process_time``) per Bundle, so other work on the machine weighs
on both alike. Memory: a fresh interpreter imports the check and validates the sample once; its
peak RSS above one that only reads the sample (the baseline), and the Python objects it keeps
(``tracemalloc``; pydantic's compiled validators live outside it, in Rust).
"""

from __future__ import annotations

import argparse
import copy
import json
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
SAMPLE = REPO / "services" / "casework" / "samples" / "dimissione-protetta-sebino.json"
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec.
PRINT_HIGH_WATER_MARK = (
    "print([line for line in open('/proc/self/status') if line.startswith('VmHWM')][0])"
)


def bundles() -> dict[str, dict[str, Any]]:
    sample: dict[str, Any] = json.loads(SAMPLE.read_text())
    large = copy.deepcopy(sample)
    for i in range(10):  # ten more needs, as a long discharge letter would list
        condition = copy.deepcopy(sample["entry"][4])
        condition["fullUrl"] = f"urn:uuid:6f1c2d3e-0001-4a5b-9c8d-1000000000{i:02d}"
        large["entry"].append(condition)
    other = copy.deepcopy(sample)
    other["entry"].append(
        {"resource": {"resourceType": "Practitioner", "name": [{"family": "Rossi"}]}}
    )
    return {
        "sample (6 entries)": sample,
        "sample + 10 Conditions": large,
        "sample + a Practitioner (fallback)": other,
    }


def fhir_resources(data: dict[str, Any]) -> bool:
    from fhir.resources.R4B.bundle import Bundle

    try:
        Bundle.model_validate(data)
    except ValueError:
        return False
    return True


def table_check(data: dict[str, Any]) -> bool:
    from pdz_casework.discharges.conformance import check

    return check(data) == []


def cpu_per_call(fn: Callable[[dict[str, Any]], bool], data: dict[str, Any], n: int) -> float:
    start = time.process_time()
    for _ in range(n):
        fn(data)
    return (time.process_time() - start) / n


def run_fresh(code: str) -> list[str]:
    prelude = f"import json, tracemalloc\ndata = json.load(open({str(SAMPLE)!r}))\n"
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", prelude + code], check=True, capture_output=True, text=True, cwd=REPO
    ).stdout.split()


def memory_mb(code: str) -> tuple[float, float]:
    """(peak RSS, Python objects kept) of a fresh interpreter that runs ``code``; two runs, since
    tracing allocations costs memory itself."""
    rss = int(run_fresh(f"{code}\n{PRINT_HIGH_WATER_MARK}")[-2]) / 1024
    traced = run_fresh(f"tracemalloc.start()\n{code}\nprint(tracemalloc.get_traced_memory()[0])")
    return rss, int(traced[-1]) / 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--per-round", type=int, default=200)
    args = parser.parse_args(argv)
    print(f"CPU per Bundle, median of {args.rounds} alternating rounds of {args.per_round}:")
    print(f"{'Bundle':36} {'fhir.resources':>15} {'table check':>12} {'ratio':>7}")
    for name, data in bundles().items():
        assert fhir_resources(data) and table_check(data)  # warm up, and both accept it
        slow: list[float] = []
        fast: list[float] = []
        for _ in range(args.rounds):
            slow.append(cpu_per_call(fhir_resources, data, args.per_round))
            fast.append(cpu_per_call(table_check, data, args.per_round))
        a, b = statistics.median(slow) * 1e3, statistics.median(fast) * 1e3
        print(f"{name:36} {a:12.3f} ms {b:9.3f} ms {a / b:6.1f}x")
    base, _ = memory_mb("pass")
    models = memory_mb("from fhir.resources.R4B.bundle import Bundle\nBundle.model_validate(data)")
    ours = memory_mb(
        "from pdz_casework.discharges.conformance import check\nassert not check(data)"
    )
    print("Memory after validating the sample once in a fresh interpreter:")
    for name, (rss, objects) in (("fhir.resources", models), ("table check", ours)):
        print(f"  {name:15} peak RSS +{rss - base:5.1f} MB, Python objects {objects:5.1f} MB")


if __name__ == "__main__":
    main()
