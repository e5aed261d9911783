"""Benchmark: what the plugin's `.pth` start-up hook costs every Python start (target < 2 ms).

Run against an environment the plugin is installed into the way users install it
(non-editable, `pip install .`):

    python3 -m venv /tmp/venv-hookbench && /tmp/venv-hookbench/bin/pip install .
    .venv/bin/python bench/bench_startup.py --python /tmp/venv-hookbench/bin/python

Runs `<python> -X importtime -c pass` `--runs` times and adds up the cumulative
microseconds of the plugin's outermost import lines (the `.pth` imports the package and its
hook module: both lines count, with everything they pulled in that Python had not loaded
yet). Prints min / median / max and the modules the hook imported. Prints only: the before
and after figures live side by side in bench/RESULTS.md ("Start-up hook").
"""

from __future__ import annotations

import argparse
import re
import statistics
import subprocess
import sys

PLUGIN = "freqtrade_quant_plugin"
LINE = re.compile(r"import time:\s+(\d+) \|\s+(\d+) \|( +)(\S+)")


def plugin_imports(stderr: str) -> tuple[int, list[str]]:
    """(cumulative µs of the plugin's outermost lines, every module imported under them)."""
    rows = [
        (len(indent), name, int(cumulative))
        for _self, cumulative, indent, name in LINE.findall(stderr)
    ]
    plugin_rows = [i for i, (_depth, name, _us) in enumerate(rows) if name.startswith(PLUGIN)]
    if not plugin_rows:
        raise SystemExit(f"no {PLUGIN} import in the output: is the plugin installed there?")
    top = min(rows[i][0] for i in plugin_rows)
    total, modules = 0, []
    for i in plugin_rows:
        depth, _name, cumulative = rows[i]
        if depth != top:
            continue
        total += cumulative
        # importtime prints a module's imports before it, one level deeper
        j = i - 1
        while j >= 0 and rows[j][0] > top:
            modules.append(rows[j][1])
            j -= 1
        modules.append(rows[i][1])
    return total, modules


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--python", default=sys.executable, help="interpreter to measure")
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    figures, modules = [], []
    for _ in range(args.runs):
        completed = subprocess.run(
            [args.python, "-X", "importtime", "-c", "pass"],
            capture_output=True,
            text=True,
            check=True,
        )
        total, modules = plugin_imports(completed.stderr)
        figures.append(total / 1000)
    print(
        f"{args.python}: plugin start-up imports over {args.runs} runs: "
        f"min {min(figures):.2f} ms, median {statistics.median(figures):.2f} ms, "
        f"max {max(figures):.2f} ms"
    )
    print(f"modules imported by the hook ({len(modules)}): {', '.join(sorted(modules))}")


if __name__ == "__main__":
    main()
