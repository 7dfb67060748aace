"""Write the student edition of every chapter (solutions removed) into dist/student/.

Usage: python tools/student_copies.py [--branch student] [--out dist/student]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tools import course  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--out",
        type=Path,
        default=course.REPO_ROOT / "dist" / "student",
        help="output folder (default: dist/student, git-ignored)",
    )
    parser.add_argument(
        "--branch",
        help="point the Colab badges at this branch (where you publish the copies)",
    )
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for path in course.chapter_paths():
        copy = course.student_copy(course.read_notebook(path), branch=args.branch)
        course.write_notebook(copy, args.out / path.name)
        print(f"wrote {args.out / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
