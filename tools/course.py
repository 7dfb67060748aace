"""The conventions the course's tools and tests share: paths, _config.yml, notebooks."""

from __future__ import annotations

import argparse
import copy
import gzip
import hashlib
import json
import math
import re
import shutil
import tokenize
from pathlib import Path

import nbformat
import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
NOTEBOOK_DIR = REPO_ROOT / "notebooks"
# Development and CI machines have no internet: MNIST lies beside the repository (never
# committed).
SHARED_MNIST_DIR = REPO_ROOT.parent / "shared" / "data" / "mnist"
# Where `make notebooks` keeps datasets when COURSE_DATA_DIR is not set (git-ignored).
DEFAULT_DATA_DIR = REPO_ROOT / "data"

# The exact line every chapter uses to find its data (tests check that it is there,
# verbatim).
DATA_CONTRACT = 'DATA_DIR = os.environ.get("COURSE_DATA_DIR", "data")'

# Cell tags of the notebook template (see CONTRIBUTING.md).
TAG_CHAPTER_INFO = "chapter-info"
TAG_PARAMETERS = "parameters"
TAG_ANSWER = "exercise-answer"
TAG_SOLUTION = "exercise-solution"
TAG_CHECK = "exercise-check"
TAG_RESULTS = "results"
TAG_NBVAL_CHECK = "nbval-check-output"
# papermill adds this cell when parameters are passed; it is not part of the chapter's
# code.
TAG_INJECTED = "injected-parameters"

COLAB_BADGE_IMAGE = "https://colab.research.google.com/assets/colab-badge.svg"


def load_config() -> dict:
    """The book's _config.yml as a dict."""
    return yaml.safe_load((REPO_ROOT / "_config.yml").read_text(encoding="utf-8"))


def toc_files() -> list[str]:
    """Every page of the book, as _toc.yml lists them (without suffix), in order."""
    toc = yaml.safe_load((REPO_ROOT / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc["parts"]:
        files += [entry["file"] for entry in part["chapters"]]
    return files


def chapter_paths() -> list[Path]:
    """Chapter notebooks, in order: notebooks/NN_name.ipynb."""
    return sorted(p for p in NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def colab_url(notebook: Path) -> str:
    """The Colab URL of a notebook, derived from `repository` in _config.yml."""
    repo = load_config()["repository"]
    match = re.fullmatch(r"https://github\.com/([^/]+)/([^/]+?)/?", repo["url"])
    if not match:
        raise ValueError(
            f"repository.url in _config.yml is not a GitHub URL: {repo['url']!r}"
        )
    owner, name = match.groups()
    book = repo.get("path_to_book", "").strip("/")
    rel = (
        notebook.resolve()
        .relative_to(REPO_ROOT / book if book else REPO_ROOT)
        .as_posix()
    )
    prefix = f"{book}/" if book else ""
    return f"https://colab.research.google.com/github/{owner}/{name}/blob/{repo['branch']}/{prefix}{rel}"


def colab_badge(notebook: Path) -> str:
    """Markdown for the notebook's "Open in Colab" badge."""
    return f"[![Open In Colab]({COLAB_BADGE_IMAGE})]({colab_url(notebook)})"


def copy_notebook(nb) -> nbformat.NotebookNode:
    """An independent copy of a notebook (changing it leaves `nb` as it is)."""
    return copy.deepcopy(nb)


def add_chapters_argument(
    parser: argparse.ArgumentParser,
    help: str = "notebook names such as 01_tensors (default: all)",
) -> None:
    """A tool's positional `chapters`: parsed into paths, an unknown name a usage error.

    `args.chapters` is then the list of paths, empty when none was named (use
    `args.chapters or chapter_paths()` for all).
    """
    parser.add_argument("chapters", nargs="*", type=_chapter_argument, help=help)


def _chapter_argument(name: str) -> Path:
    """The chapter named `01_tensors` or `01_tensors.ipynb` (a path is allowed)."""
    paths = {p.stem: p for p in chapter_paths()}
    stem = Path(name).name.removesuffix(".ipynb")
    if stem not in paths:
        raise argparse.ArgumentTypeError(
            f"no such chapter: {stem} (chapters: {', '.join(paths)})"
        )
    return paths[stem]


def read_notebook(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(str(path), as_version=4)


def write_notebook(nb: nbformat.NotebookNode, path: Path) -> None:
    nbformat.validate(nb)
    nbformat.write(nb, str(path))


def tags(cell) -> list[str]:
    return list(cell.get("metadata", {}).get("tags", []))


def code_cells(nb) -> list:
    """The chapter's own code cells (papermill's injected parameters excluded)."""
    return [
        c for c in nb.cells if c.cell_type == "code" and TAG_INJECTED not in tags(c)
    ]


SOLUTION_TITLE = "#@title Solution"
CHECK_TITLE = "#@title Check your answer (run this cell after yours)"
RESULTS_TITLE = "#@title Values the course's own tests read (nothing to learn here)"


def hide_cell(cell, title: str, hide_output: bool = False) -> None:
    """Hide a code cell wherever the notebook is opened (idempotent).

    Colab folds a code cell in form view (`cellView: form` and a `#@title` first line),
    JupyterLab collapses it (`jupyter.source_hidden`), the site folds it (tag
    `hide-input`). An older `#@title` first line is replaced by `title`.
    """
    lines = cell.source.split("\n")
    if lines and lines[0].startswith("#@title"):
        lines = lines[1:]
    cell.source = "\n".join([title, *lines])
    cell.metadata["cellView"] = "form"
    jupyter = cell.metadata.setdefault("jupyter", {})
    jupyter["source_hidden"] = True
    if hide_output:
        jupyter["outputs_hidden"] = True
    cell.metadata.setdefault("tags", [])
    if "hide-input" not in cell.metadata["tags"]:
        cell.metadata["tags"].append("hide-input")


def hide_solution(cell) -> None:
    """Hide a solution cell in Colab, JupyterLab and on the site (see hide_cell)."""
    hide_cell(cell, SOLUTION_TITLE)


def hide_results(cell) -> None:
    """The `results` cell exists for the tests: removed from the site, folded (code and
    output) in Colab and JupyterLab."""
    hide_cell(cell, RESULTS_TITLE, hide_output=True)
    if "remove-cell" not in cell.metadata["tags"]:
        cell.metadata["tags"].append("remove-cell")


# A check cell is generated around its assertions (the "body"), so that running it never
# raises: on the blank stub it says the exercise is not answered yet, on a wrong answer
# it prints the assertion's message, on a right one "correct". The body runs inside a
# function that the cell then deletes, so that a check leaves the learner's names as
# they were (no helper or variable of the check is left behind or overwritten). The
# tests, the autograder and the nbgrader export run the same function (check_program),
# where a failure raises.
_CHECK_FUNCTION = "def {name}():\n{body}"
_CHECK_TEMPLATE = """{title}
{function}
try:
    {name}()
except NotImplementedError as missing:
    print(f"Exercise {exercise_id}: not answered yet. {{missing}}")
except AssertionError as problem:
    print(f"Exercise {exercise_id}: not correct yet. {{problem}}")
else:
    print("Exercise {exercise_id}: correct")
finally:
    del {name}"""


def check_function_name(exercise_id: str) -> str:
    """The name of the function a check cell defines, calls and deletes."""
    return "_check_exercise_" + exercise_id.replace(".", "_")


def _check_function(exercise_id: str, body: str) -> str:
    indented = "\n".join(
        f"    {line}" if line.strip() else "" for line in body.strip("\n").split("\n")
    )
    return _CHECK_FUNCTION.format(name=check_function_name(exercise_id), body=indented)


def render_check(exercise_id: str, body: str) -> str:
    """The check cell's source around its assertions (see _CHECK_TEMPLATE)."""
    return _CHECK_TEMPLATE.format(
        title=CHECK_TITLE,
        function=_check_function(exercise_id, body),
        name=check_function_name(exercise_id),
        exercise_id=exercise_id,
    )


def check_program(exercise_id: str, body: str) -> str:
    """The check's assertions as the check cell runs them (in a function, called once,
    then deleted), with nothing caught: a rejection raises."""
    name = check_function_name(exercise_id)
    return (
        f"{_check_function(exercise_id, body)}\n"
        f"try:\n    {name}()\nfinally:\n    del {name}"
    )


def check_body(source: str) -> str:
    """The assertions of a check cell (the body of its check function), dedented.

    The cell's earlier form (the assertions inside a top-level `try:`) is read too; a
    source in neither form, as an author may write it, is its own body (less a
    `#@title` first line).
    """
    import textwrap

    lines = source.split("\n")
    if lines and lines[0].startswith("#@title"):
        lines = lines[1:]
    if lines and lines[0].startswith("def _check_exercise_") and "try:" in lines:
        end = lines.index("try:")
        return textwrap.dedent("\n".join(lines[1:end])).strip("\n")
    if not lines or lines[0] != "try:":
        return "\n".join(lines).strip("\n")
    end = next(
        (
            i
            for i, line in enumerate(lines)
            if line.startswith("except NotImplementedError")
        ),
        None,
    )
    if end is None:
        raise ValueError("a check cell's try: has no `except NotImplementedError`")
    return textwrap.dedent("\n".join(lines[1:end])).strip("\n")


def hide_check(cell, exercise_id: str) -> None:
    """Put a check cell in its template and hide it like a solution (idempotent)."""
    cell.source = render_check(exercise_id, check_body(cell.source))
    hide_cell(cell, CHECK_TITLE)


def code_hash(nb) -> str:
    """SHA-256 of the chapter's code, recorded when the notebook is executed."""
    sources = [c.source for c in code_cells(nb)]
    return hashlib.sha256(json.dumps(sources, ensure_ascii=False).encode()).hexdigest()


def chapter_meta(nb) -> dict:
    """The chapter's metadata (title, time, objectives...): notebook.metadata.course."""
    return nb.metadata["course"]


# The yardstick for a learner's time (CONTRIBUTING.md, "The course standard"): what a
# reader reads and runs, so that packing code onto fewer lines cannot lower it.
WORDS_PER_MINUTE = 150
CODE_TOKENS_PER_MINUTE = 80
MINUTES_PER_EXERCISE = 10
MAX_CHAPTER_MINUTES = 120


def learner_code_cells(nb) -> list:
    """The code a learner reads and runs: every code cell but the hidden ones (checks,
    solutions, the results cell the tests read)."""
    hidden = {TAG_SOLUTION, TAG_CHECK, TAG_RESULTS}
    return [c for c in code_cells(nb) if not hidden & set(tags(c))]


# Token types that are layout, not code a reader reads (comments count as words).
LAYOUT_TOKEN_TYPES = frozenset(
    {
        tokenize.COMMENT,
        tokenize.NL,
        tokenize.NEWLINE,
        tokenize.INDENT,
        tokenize.DEDENT,
        tokenize.ENDMARKER,
    }
)


def code_tokens(source: str) -> tuple[list[str], int]:
    """The Python tokens of a cell's code (names, operators, literals, each string
    literal as "S"; no comments, newlines or indentation) and the number of words of its
    comments: what the time yardstick counts and what the not-a-copy test compares.

    Lines IPython would run as magics or shell commands (`%...`, `!...`) give their
    whitespace-separated words as tokens. Raises ValueError on code that does not
    tokenize.
    """
    import io

    plain, magic_words = [], []
    for line in source.split("\n"):
        if line.lstrip().startswith(("%", "!")):
            magic_words += line.split()
            plain.append("")
        else:
            plain.append(line)
    tokens, comment_words = [], 0
    try:
        for token in tokenize.generate_tokens(io.StringIO("\n".join(plain)).readline):
            if token.type == tokenize.COMMENT:
                comment_words += len(token.string.lstrip("#").split())
            elif token.type == tokenize.STRING:
                tokens.append("S")
            elif token.type not in LAYOUT_TOKEN_TYPES:
                tokens.append(token.string)
    except (tokenize.TokenError, SyntaxError) as error:
        raise ValueError(f"cannot tokenize a code cell ({error}):\n{source}") from None
    return magic_words + tokens, comment_words


def learner_time(nb) -> dict[str, int]:
    """A learner's minutes, computed: {"total", "reading", "exercises"}.

    reading = prose words / 150 + code tokens / 80, where prose is the markdown cells'
    words plus the comments of the code a learner reads, and code tokens are the Python
    tokens of that code (learner_code_cells); exercises = 10 per exercise. The total is
    rounded up to 5 minutes; "reading" is the total less the exercises.
    """
    words = sum(len(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    tokens = 0
    for cell in learner_code_cells(nb):
        cell_tokens, comment_words = code_tokens(cell.source)
        tokens += len(cell_tokens)
        words += comment_words
    exercise_minutes = MINUTES_PER_EXERCISE * len(exercises(nb))
    raw = words / WORDS_PER_MINUTE + tokens / CODE_TOKENS_PER_MINUTE + exercise_minutes
    total = 5 * math.ceil(raw / 5)
    return {
        "total": total,
        "reading": total - exercise_minutes,
        "exercises": exercise_minutes,
    }


def learner_minutes(nb) -> int:
    """The chapter's computed time in minutes (learner_time's total)."""
    return learner_time(nb)["total"]


def render_chapter_info(meta: dict) -> str:
    """The "at a glance" cell every chapter shows, generated from its metadata."""
    gpu = {
        "no": "not needed",
        "helps": "helpful, not required",
        "yes": "strongly recommended",
    }
    time = meta["time"]
    lines = [
        "| Estimated time | Prerequisites | GPU |",
        "|---|---|---|",
        f"| about {time['total']} minutes: {time['reading']} reading and running, "
        f"{time['exercises']} exercises | {meta['prerequisites']} "
        f"| {gpu[meta['gpu']]} |",
        "",
    ]
    executed = meta.get("executed_with")
    if executed:
        packages = ", ".join(
            f"{name} {version}"
            for name, version in sorted(executed["packages"].items())
        )
        lines += [
            f"The outputs below were produced on {executed['date']} with Python "
            f"{executed['python']}, {packages}, on a CPU; your numbers may differ "
            "slightly (other versions, thread counts or a GPU).",
            "",
        ]
    lines += ["**Learning objectives.** By the end of this chapter you can:", ""]
    lines += [f"- {objective}" for objective in meta["objectives"]]
    return "\n".join(lines)


def exercises(nb, student: bool = False) -> dict[str, dict[str, int]]:
    """Exercise id -> {"answer": i, "check": i, "solution": i}, cell indices, in order.

    Raises ValueError when an exercise lacks one of its three cells or has them out of
    order. A student copy (`student=True`) has no solution cells.
    """
    roles = {TAG_ANSWER: "answer", TAG_SOLUTION: "solution", TAG_CHECK: "check"}
    found: dict[str, dict[str, int]] = {}
    for index, cell in enumerate(nb.cells):
        for tag in tags(cell):
            if tag in roles:
                exercise_id = cell.metadata.get("course", {}).get("exercise")
                if not exercise_id:
                    raise ValueError(
                        f"cell {index} is tagged {tag} "
                        "but has no metadata.course.exercise"
                    )
                parts = found.setdefault(exercise_id, {})
                if roles[tag] in parts:
                    raise ValueError(
                        f"exercise {exercise_id} has two {roles[tag]} cells"
                    )
                parts[roles[tag]] = index
    expected = ["answer", "check"] if student else ["answer", "check", "solution"]
    for exercise_id, parts in found.items():
        missing = set(expected) - parts.keys()
        if missing:
            raise ValueError(
                f"exercise {exercise_id} has no {', '.join(sorted(missing))} cell"
            )
        if student and "solution" in parts:
            raise ValueError(
                f"exercise {exercise_id} of a student copy has a solution cell"
            )
        if [parts[role] for role in expected] != sorted(
            parts[role] for role in expected
        ):
            raise ValueError(
                f"exercise {exercise_id}: cells must come as answer, check, solution "
                "(the check reports on the learner's answer before the solution can "
                "replace it)"
            )
    return found


def imported_modules(source: str) -> set[str]:
    """The top-level modules a cell's code imports (absolute imports only)."""
    import ast

    modules = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


COLAB_RUNTIME = REPO_ROOT / "requirements-colab.txt"
# A distribution whose module is not its name with "-" as "_".
MODULE_OF_DISTRIBUTION = {"scikit-learn": "sklearn"}


def colab_runtime_packages() -> list[str]:
    """The distributions requirements-colab.txt pins: the packages chapters import."""
    return [
        line.split("==")[0].strip()
        for line in COLAB_RUNTIME.read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.lstrip().startswith("#")
    ]


def chapter_packages(nb) -> list[str]:
    """The pinned Colab packages this chapter's code imports, sorted: the versions its
    "at a glance" cell names (a chapter that never imports torchvision does not name
    it; one that imports sklearn names scikit-learn)."""
    imported = set()
    for cell in code_cells(nb):
        imported |= imported_modules(
            "\n".join(
                line
                for line in cell.source.splitlines()
                if not line.lstrip().startswith(("%", "!"))
            )
        )
    return sorted(
        name
        for name in colab_runtime_packages()
        if MODULE_OF_DISTRIBUTION.get(name, name.replace("-", "_")) in imported
    )


def results_cell(nb):
    """The last code cell, tagged `results`: `results = {...}`, showing nothing."""
    cells = [c for c in code_cells(nb) if TAG_RESULTS in tags(c)]
    if len(cells) != 1:
        raise ValueError(
            f"expected one code cell tagged {TAG_RESULTS!r}, found {len(cells)}"
        )
    return cells[0]


# The results cell shows nothing (a learner never meets it). A run that records results
# (execution.execute(..., record_results=True)) appends this cell to the copy it runs,
# reads the line it prints and stores the dict in the results cell's metadata.
RESULTS_MARKER = "COURSE-RESULTS "
REPORT_RESULTS_CELL = f"print({RESULTS_MARKER!r} + repr(globals().get('results')))"


def record_results(nb, results: dict) -> None:
    """Store a run's results where the tests read them and no reader sees them."""
    results_cell(nb).metadata.setdefault("course", {})["results"] = results


def results_of(nb) -> dict:
    """The results recorded by the chapter's last run (see record_results)."""
    recorded = results_cell(nb).metadata.get("course", {}).get("results")
    if recorded is None:
        raise ValueError(
            "the results cell has no recorded results: run the chapter with "
            "tools/run_notebooks.py (make notebooks)"
        )
    return dict(recorded)


CLAIMS_DIR = REPO_ROOT / "tests" / "claims"


def claims_of(path: Path) -> dict:
    """What a chapter claims about its results: tests/claims/<chapter>.json."""
    return json.loads(
        (CLAIMS_DIR / f"{Path(path).stem}.json").read_text(encoding="utf-8")
    )


def claim_failures(results: dict, claims: dict) -> list[str]:
    """Each way `results` breaks `claims` (empty when every claim holds).

    A claim is an exact value, or {"min": a, "max": b} for a measured quantity.
    """
    failures = [
        f"results[{key!r}] is a {type(value).__name__}, not a number or string"
        for key, value in results.items()
        if not isinstance(value, (int, float, str))
    ]
    for key, claim in claims.items():
        if key not in results:
            failures.append(f"the results cell has no {key!r}")
        elif isinstance(claim, dict):
            if not claim["min"] <= results[key] <= claim["max"]:
                failures.append(
                    f"{key} = {results[key]}, claimed between "
                    f"{claim['min']} and {claim['max']}"
                )
        elif results[key] != claim:
            failures.append(f"{key} = {results[key]!r}, claimed {claim!r}")
    return failures


def seed_mnist(data_dir: Path, source: Path = SHARED_MNIST_DIR) -> Path:
    """Decompress the offline MNIST into <data_dir>/MNIST/raw/, checked by MD5SUMS.raw.

    torchvision's `datasets.MNIST(data_dir, download=True)` then finds the files and
    does not try the network. Files already there with the right checksum are kept.
    """
    sums_file = source / "MD5SUMS.raw"
    if not sums_file.is_file():
        raise FileNotFoundError(
            f"no offline MNIST at {source} (expected MD5SUMS.raw there)"
        )
    raw = Path(data_dir) / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    for line in sums_file.read_text().split("\n"):
        if not line.strip():
            continue
        expected, name = line.split()
        target = raw / name
        if target.is_file() and _md5(target) == expected:
            continue
        with (
            gzip.open(source / f"{name}.gz", "rb") as zipped,
            open(target, "wb") as out,
        ):
            shutil.copyfileobj(zipped, out)
        if _md5(target) != expected:
            target.unlink()
            raise ValueError(
                f"{source / name}.gz decompresses to the wrong MD5 "
                f"(expected {expected})"
            )
    return Path(data_dir)


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def student_copy(nb, branch: str | None = None):
    """The student edition of a chapter: solutions and the checks' wrong answers gone,
    exercise cells' outputs cleared.

    Everything else is identical. With `branch`, the Colab badge points at that branch.
    """
    student = copy_notebook(nb)
    parts = exercises(student)
    solutions = {p["solution"] for p in parts.values()}
    for index in {p[role] for p in parts.values() for role in ("answer", "check")}:
        student.cells[index].outputs = []
        student.cells[index].execution_count = None
        student.cells[index].metadata.get("course", {}).pop("wrong_answers", None)
        student.cells[index].metadata.get("course", {}).pop("right_answers", None)
    student.cells = [
        cell for index, cell in enumerate(student.cells) if index not in solutions
    ]
    student.metadata["course"].pop("executed_code_sha256", None)
    student.metadata["course"]["edition"] = "student"
    if branch:
        for cell in student.cells:
            if cell.cell_type == "markdown" and COLAB_BADGE_IMAGE in cell.source:
                cell.source = re.sub(
                    r"(colab\.research\.google\.com/github/[^/]+/[^/]+/blob/)[^/]+/",
                    rf"\g<1>{branch}/",
                    cell.source,
                )
    return student
