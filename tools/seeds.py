"""Check that what each chapter claims holds for every seed and every thread count, not
just the default run.

Usage: python tools/seeds.py [01_tensors ...] [--seeds 0 1 2 3 4]
                             [--threads default 1 2]

Each chapter runs once per seed (papermill parameter SEED) and thread count through the
course's one execution path, in a fresh directory; its `results` are checked against
tests/claims/<chapter>.json. Floating-point results depend on the number of threads
(the order of a parallel sum changes its rounding), so a learner on another machine,
or on Colab, sees other numbers than the page: a claim must hold for all of them.
"default" leaves the thread count to torch (one per core); a number N runs the
kernel with OMP_NUM_THREADS=MKL_NUM_THREADS=N and torch.set_num_threads(N) before the
chapter's first cell. Prints one line per run and a table seed x threads of the
claims that failed; exits 1 when a claim fails for some run. Too slow for `make test`
(15 runs of every chapter): run `make seeds` after changing a chapter's experiments or
claims.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from pathlib import Path

import nbformat

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course, execution  # noqa: E402

DEFAULT_SEEDS = (0, 1, 2, 3, 4)
DEFAULT_THREADS = ("default", "1", "2")
THREAD_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")


def thread_count(value: str) -> str:
    if value != "default" and not (value.isdigit() and int(value) >= 1):
        raise argparse.ArgumentTypeError(
            f"threads must be 'default' or a positive number, not {value!r}"
        )
    return value


@contextlib.contextmanager
def threads_in_environment(threads: str):
    """The kernel inherits the environment: OMP/MKL thread counts meanwhile."""
    previous = {name: os.environ.get(name) for name in THREAD_VARIABLES}
    for name in THREAD_VARIABLES:
        if threads == "default":
            os.environ.pop(name, None)
        else:
            os.environ[name] = threads
    try:
        yield
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def torch_default_threads() -> int:
    """How many threads torch uses here when nothing sets them (a fresh process with the
    thread variables unset, as the kernel of a "default" run)."""
    import subprocess

    with threads_in_environment("default"):
        found = subprocess.run(
            [sys.executable, "-c", "import torch; print(torch.get_num_threads())"],
            capture_output=True,
            text=True,
            check=True,
        )
    return int(found.stdout)


def distinct(threads: list[str]) -> list[str]:
    """The thread counts without "default" where it is one of the numbers listed
    (on a 2-core machine torch's default is 2 threads: the run would repeat)."""
    if "default" not in threads:
        return threads
    default = str(torch_default_threads())
    if default not in threads:
        return threads
    print(f"torch's default here is {default} threads: 'default' runs as '{default}'")
    return [count for count in threads if count != "default"]


def with_threads(nb, threads: str):
    """The chapter with a first cell that fixes torch's thread count (a copy)."""
    nb = course.copy_notebook(nb)
    if threads != "default":
        nb.cells.insert(
            0,
            nbformat.v4.new_code_cell(
                f"import torch as __torch\n__torch.set_num_threads({int(threads)})\n"
                "del __torch"
            ),
        )
    return nb


def check_chapter(path: Path, seeds, threads, data_dir: Path) -> dict:
    """Run the chapter for each seed and thread count; print its claimed results.

    Returns (seed, threads) -> the failures of that run (empty when every claim held).
    """
    claims = course.claims_of(path)
    runs = {}
    for count in threads:
        for seed in seeds:
            with threads_in_environment(count):
                result = execution.execute(
                    with_threads(course.read_notebook(path), count),
                    data_dir,
                    parameters={"SEED": seed},
                    record_results=True,
                    raise_on_error=False,
                )
            label = f"{path.stem} seed {seed} threads {count}"
            if result.error is not None:
                runs[seed, count] = [f"the chapter failed: {result.error}"]
                print(f"{label}: FAILED to run", flush=True)
                continue
            results = course.results_of(result.notebook)
            shown = ", ".join(f"{key}={results.get(key)}" for key in claims)
            print(f"{label} ({result.seconds:.0f} s): {shown}", flush=True)
            runs[seed, count] = course.claim_failures(results, claims)
    return runs


def table(chapter: str, runs: dict, seeds, threads) -> str:
    """Markdown table seed x threads: 'ok' or the number of failed claims."""
    lines = [
        f"| {chapter}: seed | " + " | ".join(f"threads {t}" for t in threads) + " |",
        "|---|" + "---|" * len(threads),
    ]
    for seed in seeds:
        cells = []
        for count in threads:
            failures = runs.get((seed, count))
            cells.append(
                "not run"
                if failures is None
                else "ok"
                if not failures
                else f"{len(failures)} failed"
            )
        lines.append(f"| {seed} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    course.add_chapters_argument(parser)
    parser.add_argument(
        "--seeds",
        nargs="+",
        type=int,
        default=list(DEFAULT_SEEDS),
        help="seeds to run (default: 0 1 2 3 4)",
    )
    parser.add_argument(
        "--threads",
        nargs="+",
        type=thread_count,
        default=list(DEFAULT_THREADS),
        help="thread counts to run: 'default' (torch's choice) or numbers "
        "(default: default 1 2)",
    )
    args = parser.parse_args()
    args.threads = distinct(args.threads)
    paths = args.chapters or course.chapter_paths()
    data_dir = execution.prepare_data_dir()
    failures = []
    tables = []
    for path in paths:
        runs = check_chapter(path, args.seeds, args.threads, data_dir)
        tables.append(table(path.stem, runs, args.seeds, args.threads))
        failures += [
            f"{path.stem} seed {seed} threads {count}: {failure}"
            for (seed, count), found in runs.items()
            for failure in found
        ]
    print()
    print("\n\n".join(tables))
    print()
    for failure in failures:
        print(f"CLAIM FAILS: {failure}", file=sys.stderr)
    print(
        f"{len(paths)} chapter(s) x {len(args.seeds)} seed(s) x "
        f"{len(args.threads)} thread count(s): "
        f"{'every claim holds' if not failures else f'{len(failures)} failure(s)'}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
