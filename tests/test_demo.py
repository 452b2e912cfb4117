"""The demo is part of the product: it must run end to end and pass its own checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_demo_runs_the_whole_scenario_and_exits_zero() -> None:
    proc = subprocess.run([sys.executable, "-m", "domovoy", "demo"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-2000:]
    assert "all checks passed" in proc.stdout
    assert "A-1001" in proc.stdout
