"""Execute chapter notebooks top to bottom with papermill and store their outputs in place.

Usage: python tools/run_notebooks.py [01_tensors ...]   (no argument: every chapter)

Before executing, the generated markdown (Colab badge, "at a glance" table) is refreshed from
_config.yml and the notebook's metadata. Each notebook runs in a fresh empty directory, as in
Colab, with COURSE_DATA_DIR pointing at the datasets (seeded from ../shared when it exists).
The hash of the code that produced the outputs is recorded, so tests can spot stale outputs.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import papermill

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402

# Per-run bookkeeping that would make every execution differ from the last one.
VOLATILE_CELL_METADATA = ("papermill", "execution")


def refresh_generated_markdown(nb, path: Path) -> None:
    """Rewrite the badge and the chapter-info cell from their single sources of truth."""
    info = [c for c in nb.cells if course.TAG_CHAPTER_INFO in course.tags(c)]
    if len(info) != 1:
        raise ValueError(f"{path.name}: expected one cell tagged {course.TAG_CHAPTER_INFO!r}")
    info[0].source = course.render_chapter_info(course.chapter_meta(nb))
    badge_cells = [c for c in nb.cells if c.cell_type == "markdown" and course.COLAB_BADGE_IMAGE in c.source]
    if len(badge_cells) != 1:
        raise ValueError(f"{path.name}: expected one markdown cell with the Colab badge")
    lines = badge_cells[0].source.split("\n")
    badge_cells[0].source = "\n".join(
        course.colab_badge(path) if course.COLAB_BADGE_IMAGE in line else line for line in lines
    )


def tidy_executed(nb) -> None:
    """Drop papermill's timings and temporary paths; record the hash of the executed code."""
    nb.metadata.pop("papermill", None)
    for cell in nb.cells:
        for key in VOLATILE_CELL_METADATA:
            cell.metadata.pop(key, None)
    nb.metadata["course"]["executed_code_sha256"] = course.code_hash(nb)


def data_dir_for_run() -> str:
    """COURSE_DATA_DIR if set, else ./data with MNIST seeded from ../shared when it is there."""
    if os.environ.get("COURSE_DATA_DIR"):
        return os.environ["COURSE_DATA_DIR"]
    if course.SHARED_MNIST_DIR.is_dir():
        course.seed_mnist(course.DEFAULT_DATA_DIR)
    return str(course.DEFAULT_DATA_DIR)


def run(path: Path, data_dir: str) -> float:
    nb = course.read_notebook(path)
    refresh_generated_markdown(nb, path)
    with tempfile.TemporaryDirectory(prefix="course-run-") as workdir:
        source = Path(workdir) / "input.ipynb"
        course.write_notebook(nb, source)
        os.environ["COURSE_DATA_DIR"] = data_dir
        start = time.perf_counter()
        executed = papermill.execute_notebook(
            str(source), str(Path(workdir) / "output.ipynb"), cwd=workdir,
            kernel_name="python3", progress_bar=False, log_output=False,
            coalesce_streams=True,  # keep only the final state of progress bars
        )
        seconds = time.perf_counter() - start
    tidy_executed(executed)
    course.write_notebook(executed, path)
    return seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("chapters", nargs="*", help="notebook names such as 01_tensors (default: all)")
    args = parser.parse_args()
    paths = course.chapter_paths()
    if args.chapters:
        wanted = {name.removesuffix(".ipynb") for name in args.chapters}
        unknown = wanted - {p.stem for p in paths}
        if unknown:
            parser.error(f"no such chapter: {', '.join(sorted(unknown))} (see notebooks/)")
        paths = [p for p in paths if p.stem in wanted]
    data_dir = data_dir_for_run()
    for path in paths:
        print(f"executing {path.name} ...", flush=True)
        print(f"  done in {run(path, data_dir):.1f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
