"""Every benchmark, one after the other (``make bench``): their figures, each one's time and the total.

    .venv/bin/python bench/run_all.py [NAME ...]      (names: sms_cost startup inbound_sms inbound_telegram broadcast)

Each benchmark is its own process, as when run alone, and prints the machine it ran on. Run them
when the machine is otherwise idle: the load average is printed before and after.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
ORDER = ("sms_cost", "startup", "inbound_sms", "inbound_telegram", "broadcast")


def load() -> str:
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def main() -> int:
    names = sys.argv[1:] or list(ORDER)
    unknown = sorted(set(names) - set(ORDER))
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; known: {', '.join(ORDER)}", file=sys.stderr)
        return 2
    print(f"load average before (1, 5, 15 min): {load()}", flush=True)
    began = time.monotonic()
    took: list[tuple[str, float, int]] = []
    for name in names:
        print(flush=True)
        started = time.monotonic()
        code = subprocess.run([sys.executable, str(BENCH / f"{name}.py")], check=False).returncode  # noqa: S603
        took.append((name, time.monotonic() - started, code))
    total = time.monotonic() - began
    print()
    print("== make bench: time per benchmark")
    for name, seconds, code in took:
        print(f"   {name:<18}{seconds:7.1f} s" + ("" if code == 0 else f"   FAILED (exit {code})"))
    print(f"   {'total':<18}{total:7.1f} s ({total / 60:.1f} min)")
    print(f"load average after (1, 5, 15 min): {load()}")
    return 1 if any(code for _, _, code in took) else 0


if __name__ == "__main__":
    sys.exit(main())
