"""ruff passes on the tools, the tests and every chapter (configured in pyproject.toml);
the chapters' code has one idea per line.

Lines of at most 88 characters, so that code reads on the page without scrolling;
pyflakes and import order, and one statement per line (E701, E702); in the notebooks
only F811 is allowed, for the solution cell that redefines what its exercise's stub
defined.
What ruff has no rule for, `packed_lines` checks: no tuple assignment of unrelated
values, no chained assignment, no assignment expression, no conditional expression
holding more than simple values.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import nbformat
import pytest

import example_chapter
from tools import course

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which(
    "ruff"
)


def ruff(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    if RUFF is None:
        pytest.fail(
            "ruff is not installed: it is pinned in requirements.txt (make installs it)"
        )
    return subprocess.run(
        [RUFF, "check", "--no-cache", "--output-format", "concise", *args],
        cwd=course.REPO_ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        check=False,
    )


def lint_targets() -> list:
    return [
        pytest.param(folder, id=folder) for folder in ("tools", "tests", "book/_ext")
    ] + [
        pytest.param(f"notebooks/{path.name}", id=path.stem)
        for path in course.chapter_paths()
    ]


@pytest.mark.parametrize("target", lint_targets())
def test_ruff_passes(target):
    result = ruff(target)
    assert result.returncode == 0, (
        f"ruff check {target}:\n{result.stdout}{result.stderr}"
    )


def test_the_notebooks_are_exempt_from_redefinitions_only():
    config = tomllib.loads((course.REPO_ROOT / "pyproject.toml").read_text())["tool"][
        "ruff"
    ]
    assert config["line-length"] == 88
    assert "*.ipynb" in config["extend-include"]
    assert config["lint"]["per-file-ignores"] == {"notebooks/*.ipynb": ["F811"]}
    assert not config["lint"].get("ignore"), "no rule is ignored everywhere"


def test_ruff_sees_a_long_line_but_not_an_exercise_redefinition():
    nb = example_chapter.compliant_chapter()
    as_json = nbformat.writes(nb)
    assert (
        ruff(
            "--stdin-filename", "notebooks/99_example.ipynb", "-", stdin=as_json
        ).returncode
        == 0
    )
    nb.cells[4].source += "\nprint(" + " + ".join(["x"] * 40) + ")"
    result = ruff(
        "--stdin-filename", "notebooks/99_example.ipynb", "-", stdin=nbformat.writes(nb)
    )
    assert result.returncode == 1 and "E501" in result.stdout, result.stdout


# ---------------------------------------------------------------- one idea per line


def _simple(node: ast.AST) -> bool:
    """A value read at a glance: a name, a literal, an attribute, or a call whose
    arguments are all of those."""
    if isinstance(node, (ast.Name, ast.Constant)):
        return True
    if isinstance(node, ast.Attribute):
        return _simple(node.value)
    if isinstance(node, ast.UnaryOp):
        return _simple(node.operand)
    if isinstance(node, ast.Call):
        return _simple(node.func) and all(
            _simple(a) for a in [*node.args, *(k.value for k in node.keywords)]
        )
    return False


def _names(node: ast.AST) -> list[str]:
    return sorted(ast.unparse(element) for element in node.elts)


def packed_lines(source: str) -> list[str]:
    """Lines of `source` that pack several ideas into one statement."""
    import IPython.core.inputtransformer2 as transformer

    code = transformer.TransformerManager().transform_cell(source)
    found = []
    for node in ast.walk(ast.parse(code)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Assign) and len(node.targets) > 1:
            found.append(f"line {line}: chained assignment (a = b = ...)")
        elif (
            isinstance(node, ast.Assign)
            and isinstance(node.targets[0], ast.Tuple)
            and isinstance(node.value, ast.Tuple)
            and len(node.value.elts) > 1
            and _names(node.targets[0]) != _names(node.value)  # a swap is one idea
        ):
            found.append(
                f"line {line}: tuple assignment of several values (a, b = x, y)"
            )
        elif isinstance(node, ast.NamedExpr):
            found.append(f"line {line}: assignment expression (:=)")
        elif isinstance(node, ast.IfExp) and not (
            _simple(node.body) and _simple(node.orelse)
        ):
            found.append(
                f"line {line}: conditional expression over computations "
                "(write an if statement)"
            )
    return sorted(set(found))


@pytest.mark.parametrize(
    "path", [pytest.param(p, id=p.stem) for p in course.chapter_paths()]
)
def test_one_idea_per_line(path):
    nb = course.read_notebook(path)
    found = [
        f"cell {index}, {problem}"
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code"
        for problem in packed_lines(cell.source)
    ]
    assert not found, f"{path.stem}: packed lines:\n" + "\n".join(found)


def test_packed_lines_are_recognised_and_plain_ones_pass():
    packed = {
        "a, b = 1, 2": "tuple assignment",
        "a = b = 0": "chained assignment",
        "if (n := len(x)) > 3:\n    pass": "assignment expression",
        "v = m * v + g if state else g.clone()": "conditional expression",
    }
    for source, problem in packed.items():
        assert problem in " ".join(packed_lines(source)), source
    plain = [
        "a, b = b, a",
        "images, labels = batch",
        "low, high = torch.aminmax(x)",
        'device = torch.device("cuda" if torch.cuda.is_available() else "cpu")',
        "%matplotlib inline\nx = 1",
        "name = 'relu' if relu else 'tanh'",
    ]
    for source in plain:
        assert packed_lines(source) == [], source
