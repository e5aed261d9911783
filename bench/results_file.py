"""bench/RESULTS.md holds one `## ` section per benchmark; each script rewrites only its own."""

from __future__ import annotations

from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"


def write_section(heading: str, text: str) -> Path:
    """Replace the text between `heading` and the next `## ` heading (append if absent)."""
    old = RESULTS.read_text() if RESULTS.exists() else "# Benchmarks\n"
    lines = old.splitlines(keepends=True)
    section = f"{heading}\n\n{text.rstrip()}\n\n"
    start = next((i for i, line in enumerate(lines) if line.rstrip() == heading), None)
    if start is None:
        new = old.rstrip() + "\n\n" + section
    else:
        end = next(
            (i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines)
        )
        new = "".join(lines[:start]) + section + "".join(lines[end:])
    RESULTS.write_text(new.rstrip() + "\n")
    return RESULTS
