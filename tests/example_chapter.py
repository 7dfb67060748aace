"""A small chapter that meets the course standard's contract, for the tests' own tests.

The checks of test_second_edition.py and test_pages.py must pass on it, and each must
fail on a copy of it with the one defect that check is about.
"""

from __future__ import annotations

import copy

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from tools import course

CORRECTION = {
    "id": "example-tensor-strings",
    "articles": ["003"],
    "section": "2.2.1",
    "quote": "可以存储不同类型的数据，包括整数、浮点数、字符串",
    "gloss": "tensors can store strings and binary data",
    "severity": "false claim",
}
KINDS = ["transfer", "debug", "predict", "transfer", "transfer"]
# (stub, solution, check): five exercises that retype no earlier cell.
EXERCISES = [
    (
        "def double(x):\n    ...",
        "def double(x):\n    return x * 2",
        "assert double(torch.tensor(3)) == 6, 'double the input'",
    ),
    (
        "def mean_of(t):\n    return t.sum() / t.numel() + 1",
        "def mean_of(t):\n    return t.sum() / t.numel()",
        "assert mean_of(torch.ones(4)) == 1, 'no +1 in a mean'",
    ),
    (
        "predicted_shape = None",
        "predicted_shape = (2, 3)",
        "assert predicted_shape == (2, 3), 'broadcast (2, 1) with (3,)'",
    ),
    (
        "def last_row(m):\n    ...",
        "def last_row(m):\n    return m[-1]",
        "assert last_row(torch.eye(2)).tolist() == [0, 1], 'the last row, not column'",
    ),
    (
        "def flat(t):\n    ...",
        "def flat(t):\n    return t.flatten()",
        "assert flat(torch.ones(2, 2)).shape == (4,), 'one dimension'",
    ),
]


def _cell(maker, source, tags=(), **metadata):
    cell = maker(source)
    if tags:
        cell.metadata["tags"] = list(tags)
    cell.metadata.update(metadata)
    return cell


def compliant_chapter(number: int = 1) -> nbformat.NotebookNode:
    md, code = new_markdown_cell, new_code_cell
    cells = [
        _cell(md, "# An example chapter\n\nWords that a learner reads."),
        _cell(md, "## Setup"),
        _cell(code, "import torch"),
        _cell(md, "## Tensors\n\nA tensor holds numbers of one dtype."),
        _cell(code, "x = torch.arange(6).reshape(2, 3)\nprint(x)"),
        _cell(code, "print(x.dtype)"),
        _cell(md, "## What the source got wrong"),
        _cell(
            md,
            "### Tensors can store strings\n\nThey cannot:",
            course={"corrections": [copy.deepcopy(CORRECTION)]},
        ),
        _cell(
            code,
            "try:\n    torch.tensor(['cat'])\nexcept (TypeError, ValueError) as e:"
            "\n    print(e)",
        ),
        _cell(md, "## Exercises"),
    ]
    for k, ((stub, solution, check), kind) in enumerate(zip(EXERCISES, KINDS), 1):
        ex = f"{number}.{k}"
        cells += [
            _cell(md, f"### Exercise {ex}: number {k}"),
            _cell(code, stub, [course.TAG_ANSWER], course={"exercise": ex}),
            _cell(
                code,
                course.render_check(ex, check),
                [course.TAG_CHECK, "hide-input"],
                course={
                    "exercise": ex,
                    "kind": kind,
                    "wrong_answers": [
                        {
                            "misconception": f"misconception {i}",
                            "expect": "input",
                            "source": f"{stub}  # wrong {i}",
                        }
                        for i in (1, 2)
                    ],
                    "right_answers": [
                        {
                            "description": f"written another way ({i})",
                            "source": f"{solution}  # another way {i}\nprint({i})",
                        }
                        for i in (1, 2)
                    ],
                },
                cellView="form",
                jupyter={"source_hidden": True},
            ),
            _cell(
                code,
                "#@title Solution\n" + solution,
                [course.TAG_SOLUTION, "hide-input"],
                course={"exercise": ex},
                cellView="form",
                jupyter={"source_hidden": True},
            ),
        ]
    cells += [_cell(md, "## Summary\n\nWhat was learnt.")]
    nb = new_notebook(cells=cells)
    nb.metadata["course"] = {
        "chapter": number,
        "title": "An example chapter",
        "summary": "An example.",
        "gpu": "no",
        "prerequisites": "none",
        "objectives": ["a", "b", "c"],
        "budget_seconds": 10,
    }
    nb.metadata["course"]["time"] = course.learner_time(nb)
    return nb
