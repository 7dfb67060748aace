"""Check that what each chapter claims holds for every seed, not just the default one.

Usage: python tools/seeds.py [01_tensors ...] [--seeds 0 1 2 3 4]

Each chapter runs once per seed (papermill parameter SEED) through the course's one
execution path, in a fresh directory; its `results` are checked against
tests/claims/<chapter>.json. Prints a table of the claimed results per seed; exits 1
when a claim fails for some seed. Too slow for `make test` (five runs of every chapter):
run `make seeds` after changing a chapter's experiments or claims.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course, execution  # noqa: E402

DEFAULT_SEEDS = (0, 1, 2, 3, 4)


def check_chapter(path: Path, seeds, data_dir: Path) -> list[str]:
    """Run the chapter with each seed; print its claimed results; return failures."""
    claims = course.claims_of(path)
    failures = []
    for seed in seeds:
        result = execution.execute(
            course.read_notebook(path),
            data_dir,
            parameters={"SEED": seed},
            raise_on_error=False,
        )
        if result.error is not None:
            failures.append(
                f"{path.stem} seed {seed}: the chapter failed: {result.error}"
            )
            print(f"{path.stem} seed {seed}: FAILED to run", flush=True)
            continue
        results = course.results_of(result.notebook)
        shown = ", ".join(f"{key}={results.get(key)}" for key in claims)
        print(f"{path.stem} seed {seed} ({result.seconds:.0f} s): {shown}", flush=True)
        failures += [
            f"{path.stem} seed {seed}: {failure}"
            for failure in course.claim_failures(results, claims)
        ]
    return failures


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
    args = parser.parse_args()
    paths = args.chapters or course.chapter_paths()
    data_dir = execution.prepare_data_dir()
    failures = [f for path in paths for f in check_chapter(path, args.seeds, data_dir)]
    for failure in failures:
        print(f"CLAIM FAILS: {failure}", file=sys.stderr)
    print(
        f"{len(paths)} chapter(s) x {len(args.seeds)} seeds: "
        f"{'every claim holds' if not failures else f'{len(failures)} failure(s)'}"
    )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
