"""Shared by the benchmark scripts: the load average line and section-wise RESULTS.md updates.

Each script owns one "## " section of benchmarks/RESULTS.md and replaces only that section (or
appends it), so running one benchmark never drops another's results.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
TITLE = "# Benchmark results"


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, for the record beside the ratios."""
    if not hasattr(os, "getloadavg"):
        return "unknown"
    return ", ".join(f"{v:.2f}" for v in os.getloadavg())


def write_section(path: str | Path, heading: str, body: str) -> None:
    """Replace the section that starts with ``heading`` (a "## " line) by ``body``, or append it."""
    if not heading.startswith("## ") or not body.startswith(heading):
        raise ValueError("body must start with its '## ' heading")
    path = Path(path)
    text = path.read_text(encoding="utf-8") if path.exists() else TITLE + "\n"
    pattern = re.compile(re.escape(heading) + r".*?(?=^## |\Z)", re.S | re.M)
    block = body.rstrip("\n") + "\n\n"
    if pattern.search(text):
        text = pattern.sub(lambda _: block, text)
    else:
        text = text.rstrip("\n") + "\n\n" + block
    path.write_text(text.rstrip("\n") + "\n", encoding="utf-8")
