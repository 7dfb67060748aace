"""The outputs committed with each chapter are complete, error-free and made by its
current code.

These tests read the stored notebooks without executing them; `make notebooks`
regenerates them.
"""

from __future__ import annotations

import re

import pytest

from harness import chapter_params
from tools import course

MAX_OUTPUT_LINES = 40
MIN_NBVAL_CELLS = 5
# Signs of a warning in an output: a warning is a bug to fix, not to hide.
WARNING_TEXT = re.compile(r"\b\w*Warning\b|\bwarn(ing)?:", re.IGNORECASE)
# Paths that betray the machine the notebook ran on.
MACHINE_PATHS = re.compile(r"/tmp/|/work/|/home/|/root/|\b[A-Z]:\\")
# The only thing allowed on stderr: tqdm progress bars
# ("100%|#####| 5/5 [00:01<00:00, ...]").
PROGRESS_BAR = re.compile(r"^\s*(\w[^|]*: )?\d+%\|.*\|.*\]$")


def output_text(output) -> str:
    if output.output_type == "stream":
        return output.text
    if output.output_type == "error":
        return "\n".join(output.traceback)
    return output.get("data", {}).get("text/plain", "")


@pytest.mark.parametrize("path", chapter_params())
def test_every_code_cell_ran_once_in_order(path):
    counts = [
        cell.execution_count for cell in course.code_cells(course.read_notebook(path))
    ]
    assert None not in counts, (
        "some code cells were never executed: run `make notebooks`"
    )
    assert counts == list(range(1, len(counts) + 1)), (
        "cells were not executed top to bottom"
    )


@pytest.mark.parametrize("path", chapter_params())
def test_outputs_were_made_by_the_current_code(path):
    nb = course.read_notebook(path)
    recorded = nb.metadata["course"].get("executed_code_sha256")
    assert recorded == course.code_hash(nb), (
        "the code changed since the stored outputs were made: run `make notebooks`"
    )


@pytest.mark.parametrize("path", chapter_params())
def test_no_errors_warnings_or_machine_paths_in_outputs(path):
    for cell in course.code_cells(course.read_notebook(path)):
        for output in cell.outputs:
            assert output.output_type != "error", f"error output in:\n{cell.source}"
            text = output_text(output)
            if output.get("name") == "stderr":
                for line in filter(str.strip, re.split(r"[\r\n]+", text)):
                    assert PROGRESS_BAR.match(line), (
                        f"stderr output that is not a progress bar:\n{line}"
                    )
            assert not WARNING_TEXT.search(text), (
                f"a warning in the output of:\n{cell.source}\n{text}"
            )
            assert not MACHINE_PATHS.search(text), (
                f"a machine-specific path in:\n{text}"
            )


@pytest.mark.parametrize("path", chapter_params())
def test_outputs_are_short(path):
    for cell in course.code_cells(course.read_notebook(path)):
        lines = sum(output_text(o).count("\n") for o in cell.outputs)
        assert lines <= MAX_OUTPUT_LINES, (
            f"{lines} lines of output from:\n{cell.source}"
        )


@pytest.mark.parametrize("path", chapter_params())
def test_results_are_plain_values(path):
    results = course.results_of(course.read_notebook(path))
    assert results, "the results cell shows an empty dict"
    for key, value in results.items():
        assert isinstance(key, str) and isinstance(value, (int, float, str)), (
            key,
            value,
        )


@pytest.mark.parametrize("path", chapter_params())
def test_nbval_compares_enough_cells(path):
    marked = [
        c
        for c in course.code_cells(course.read_notebook(path))
        if course.TAG_NBVAL_CHECK in course.tags(c)
    ]
    assert len(marked) >= MIN_NBVAL_CELLS, (
        f"only {len(marked)} cells tagged {course.TAG_NBVAL_CHECK}"
    )
    for cell in marked:
        assert cell.outputs, (
            f"a cell marked for nbval has no output to compare:\n{cell.source}"
        )


@pytest.mark.parametrize("path", chapter_params())
def test_the_page_says_what_produced_its_outputs(path):
    """The "at a glance" cell names the date and versions of the stored outputs' run
    (recorded by `make notebooks`), so a reader comparing with their own run knows what
    they compare with."""
    nb = course.read_notebook(path)
    executed = course.chapter_meta(nb).get("executed_with")
    assert executed, "no metadata.course.executed_with: run `make notebooks`"
    assert {"date", "python", "packages"} <= executed.keys()
    assert sorted(executed["packages"]) == course.chapter_packages(nb), (
        "the versions recorded are not those of the packages the chapter imports: "
        "run `make pages`"
    )
    info = next(c for c in nb.cells if course.TAG_CHAPTER_INFO in course.tags(c))
    assert f"produced on {executed['date']}" in info.source, (
        "the at-a-glance cell does not state the run: run `make pages`"
    )
    for name, version in executed["packages"].items():
        assert f"{name} {version}" in info.source, (
            f"the at-a-glance cell does not name {name} {version}: run `make pages`"
        )
