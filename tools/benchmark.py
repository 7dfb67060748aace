"""Time every chapter with its default parameters (median of N fresh runs) and its kernel's peak memory.

Usage: python tools/benchmark.py [--runs 3] [--label cpu] [01_tensors ...]

Each run executes the notebook with papermill in a fresh empty directory, as a learner would.
Writes book/benchmarks/<label>.json (machine-readable) and book/benchmarks/<label>.md (the table
the book's benchmark page includes). Exits non-zero when a chapter's median exceeds its budget
(metadata.course.budget_seconds) by more than 50 %, or the whole course exceeds its budget.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

import nbformat
import papermill

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402
from tools.run_notebooks import data_dir_for_run  # noqa: E402

RESULTS_DIR = course.REPO_ROOT / "book" / "benchmarks"
COURSE_BUDGET_SECONDS = 8 * 60  # every chapter with default parameters, one after the other
TOLERANCE = 1.5  # a noisy machine may exceed a budget by 50 % before the benchmark fails
PACKAGES = ("torch", "torchvision", "numpy", "matplotlib", "papermill")
PEAK_MEMORY_MARKER = "PEAK-RSS-MB "
# Appended to the executed copy only: the kernel's own peak resident memory (Linux: kB).
PEAK_MEMORY_CELL = (
    "import resource as __resource\n"
    f"print({PEAK_MEMORY_MARKER!r} + str(__resource.getrusage(__resource.RUSAGE_SELF).ru_maxrss / 1024))"
)


def run_once(path: Path) -> tuple[float, float]:
    """(wall seconds, peak kernel memory in MB) of one execution in a fresh directory."""
    nb = course.read_notebook(path)
    nb.cells.append(nbformat.v4.new_code_cell(PEAK_MEMORY_CELL))
    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        workdir, source = Path(tmp) / "work", Path(tmp) / path.name
        workdir.mkdir()
        course.write_notebook(nb, source)
        start = time.perf_counter()
        executed = papermill.execute_notebook(
            str(source), str(Path(tmp) / "out.ipynb"), cwd=str(workdir),
            kernel_name="python3", progress_bar=False, log_output=False)
        seconds = time.perf_counter() - start
    text = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
    return seconds, float(text.split(PEAK_MEMORY_MARKER)[1].split()[0])


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
    return {"cpu": cpu, "cores": os.cpu_count(), "gpu": gpu, "python": platform.python_version(),
            **{name: metadata.version(name) for name in PACKAGES}}


def render_table(report: dict) -> str:
    """The markdown table of a report (the book includes it; tests check it matches the JSON)."""
    m = report["machine"]
    lines = [
        f"Measured on {report['date']}: {m['cpu']}, {m['cores']} cores, GPU: {m['gpu']}; "
        f"Python {m['python']}, torch {m['torch']}, torchvision {m['torchvision']}. "
        f"Median of {report['runs']} runs in a fresh directory; spread is max minus min.",
        "",
        "| Chapter | Median wall time | Spread | Peak memory | Budget |",
        "|---|---|---|---|---|",
    ]
    for row in report["chapters"]:
        lines.append(f"| {row['chapter']} | {row['median_s']:.1f} s | {row['spread_s']:.1f} s "
                     f"| {row['peak_memory_mb']:.0f} MB | {row['budget_s']} s |")
    lines.append(f"| **All chapters** | {report['total_median_s']:.1f} s | | | {COURSE_BUDGET_SECONDS} s |")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", help="notebook names such as 01_tensors (default: all)")
    parser.add_argument("--runs", type=int, default=3, help="executions per chapter (default 3)")
    parser.add_argument("--label", default="cpu", help="name of the result files (default: cpu)")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    paths = course.chapter_paths()
    if args.chapters:
        unknown = set(args.chapters) - {p.stem for p in paths}
        if unknown:
            parser.error(f"no such chapter: {', '.join(sorted(unknown))} (see notebooks/)")
        paths = [p for p in paths if p.stem in args.chapters]
    os.environ["COURSE_DATA_DIR"] = data_dir_for_run()

    rows, over_budget = [], []
    for path in paths:
        budget = course.chapter_meta(course.read_notebook(path))["budget_seconds"]
        times, memory = [], []
        for run in range(args.runs):
            seconds, peak = run_once(path)
            times.append(seconds)
            memory.append(peak)
            print(f"{path.stem} run {run + 1}/{args.runs}: {seconds:.1f} s, {peak:.0f} MB", flush=True)
        median = statistics.median(times)
        rows.append({"chapter": path.stem, "median_s": round(median, 2),
                     "spread_s": round(max(times) - min(times), 2), "runs_s": [round(t, 2) for t in times],
                     "peak_memory_mb": round(max(memory)), "budget_s": budget})
        if median > TOLERANCE * budget:
            over_budget.append(f"{path.stem}: {median:.0f} s against a budget of {budget} s")
    report = {"date": datetime.date.today().isoformat(), "runs": args.runs, "machine": machine(),
              "chapters": rows, "total_median_s": round(sum(r["median_s"] for r in rows), 2)}
    if len(paths) == len(course.chapter_paths()) and report["total_median_s"] > TOLERANCE * COURSE_BUDGET_SECONDS:
        over_budget.append(f"all chapters: {report['total_median_s']:.0f} s against {COURSE_BUDGET_SECONDS} s")

    RESULTS_DIR.mkdir(exist_ok=True)
    (RESULTS_DIR / f"{args.label}.json").write_text(json.dumps(report, indent=2) + "\n")
    (RESULTS_DIR / f"{args.label}.md").write_text(render_table(report))
    print(render_table(report))
    for line in over_budget:
        print(f"OVER BUDGET (by more than {TOLERANCE - 1:.0%}): {line}", file=sys.stderr)
    return 1 if over_budget else 0


if __name__ == "__main__":
    sys.exit(main())
