"""Time every chapter with its default parameters (median of N fresh runs), and its
kernel's peak memory.

Usage: python tools/benchmark.py [--runs 3] [--label cpu] [01_tensors ...]

Each run executes the notebook with papermill in a fresh empty directory, as a learner
would. Writes book/benchmarks/<label>.json (machine-readable) and
book/benchmarks/<label>.md (the table the book's benchmark page includes). Exits
non-zero when a chapter's median exceeds its budget (metadata.course.budget_seconds) by
more than 50 %, or the whole course exceeds its budget.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
from importlib import metadata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course, execution  # noqa: E402

RESULTS_DIR = course.REPO_ROOT / "book" / "benchmarks"
# every chapter with default parameters, one after the other
COURSE_BUDGET_SECONDS = 8 * 60
# a noisy machine may exceed a budget by 50 % before the benchmark fails
TOLERANCE = 1.5
PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "papermill")


def run_once(path: Path, data_dir: Path) -> tuple[float, float]:
    """(wall seconds, peak kernel memory in MB) of one run in a fresh directory."""
    result = execution.execute(
        course.read_notebook(path), data_dir, measure_memory=True
    )
    return result.seconds, result.peak_memory_mb


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    import torch

    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "gpu": gpu,
        "python": platform.python_version(),
        **{name: metadata.version(name) for name in PACKAGES},
    }


def render_table(report: dict) -> str:
    """The markdown table of a report (the book includes it; tested against JSON)."""
    m = report["machine"]
    runs = report["runs"]
    how = (
        "Each chapter was executed once, in a fresh directory (one run: no median, "
        "no spread)."
        if runs == 1
        else f"Each chapter was executed {runs} times, each in a fresh directory: the "
        "median, and the spread (max minus min)."
    )
    lines = [
        f"Measured on {report['date']}: {m['cpu']}, {m['cores']} cores, "
        f"GPU: {m['gpu']}; Python {m['python']}, torch {m['torch']}, "
        f"torchvision {m['torchvision']}. {how}",
        "",
        "| Chapter | Wall time | Spread | Peak memory | Budget |"
        if runs == 1
        else "| Chapter | Median wall time | Spread | Peak memory | Budget |",
        "|---|---|---|---|---|",
    ]
    for row in report["chapters"]:
        spread = "–" if runs == 1 else f"{row['spread_s']:.1f} s"
        lines.append(
            f"| {row['chapter']} | {row['median_s']:.1f} s | {spread} "
            f"| {row['peak_memory_mb']:.0f} MB | {row['budget_s']} s |"
        )
    lines.append(
        f"| **All chapters** | {report['total_median_s']:.1f} s | | "
        f"| {COURSE_BUDGET_SECONDS} s |"
    )
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    course.add_chapters_argument(parser)
    parser.add_argument(
        "--runs", type=int, default=3, help="executions per chapter (default 3)"
    )
    parser.add_argument(
        "--label", default="cpu", help="name of the result files (default: cpu)"
    )
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    paths = args.chapters or course.chapter_paths()
    data_dir = execution.prepare_data_dir()

    rows, over_budget = [], []
    for path in paths:
        budget = course.chapter_meta(course.read_notebook(path))["budget_seconds"]
        times, memory = [], []
        for run in range(args.runs):
            seconds, peak = run_once(path, data_dir)
            times.append(seconds)
            memory.append(peak)
            print(
                f"{path.stem} run {run + 1}/{args.runs}: "
                f"{seconds:.1f} s, {peak:.0f} MB",
                flush=True,
            )
        median = statistics.median(times)
        rows.append(
            {
                "chapter": path.stem,
                "median_s": round(median, 2),
                "spread_s": round(max(times) - min(times), 2),
                "runs_s": [round(t, 2) for t in times],
                "peak_memory_mb": round(max(memory)),
                "budget_s": budget,
            }
        )
        if median > TOLERANCE * budget:
            over_budget.append(
                f"{path.stem}: {median:.0f} s against a budget of {budget} s"
            )
    report = {
        "date": datetime.date.today().isoformat(),
        "runs": args.runs,
        "machine": machine(),
        "chapters": rows,
        "total_median_s": round(sum(r["median_s"] for r in rows), 2),
    }
    if (
        len(paths) == len(course.chapter_paths())
        and report["total_median_s"] > TOLERANCE * COURSE_BUDGET_SECONDS
    ):
        over_budget.append(
            f"all chapters: {report['total_median_s']:.0f} s "
            f"against {COURSE_BUDGET_SECONDS} s"
        )

    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{args.label}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS_DIR / f"{args.label}.md").write_text(render_table(report))
    print(render_table(report))
    for line in over_budget:
        print(
            f"OVER BUDGET (by more than {TOLERANCE - 1:.0%}): {line}", file=sys.stderr
        )
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main())
