"""What the tests share: the chapters as pytest parameters; the instrumented chapter."""

from __future__ import annotations

import re
import subprocess
import sys
import sysconfig
from html.parser import HTMLParser
from pathlib import Path

import nbformat
import pytest

from tools import course, execution

CHAPTERS = course.chapter_paths()


def chapter_params(**marks):
    """pytest.param per chapter notebook, named by its stem (01_tensors ...)."""
    return [pytest.param(path, id=path.stem, **marks) for path in CHAPTERS]


def wrong_answers(nb, exercise_id: str) -> list[dict]:
    """The wrong answers stored in an exercise's check cell (see CONTRIBUTING.md)."""
    check = nb.cells[course.exercises(nb)[exercise_id]["check"]]
    return list(check.metadata.get("course", {}).get("wrong_answers", []))


def right_answers(nb, exercise_id: str) -> list[dict]:
    """The other correct answers stored in an exercise's check cell."""
    check = nb.cells[course.exercises(nb)[exercise_id]["check"]]
    return list(check.metadata.get("course", {}).get("right_answers", []))


def learner_answer_source(exercise_id: str, answer_source: str) -> str:
    """Code that runs `answer_source` as a learner's answer cell would run, an error
    printed rather than raised (a learner pressing Shift+Enter goes on after it)."""
    return (
        "try:\n"
        f"    exec(compile(get_ipython().transform_cell({answer_source!r}), "
        f"'<a learner\\'s answer to exercise {exercise_id}>', 'exec'), globals())\n"
        "except Exception as __error:\n"
        "    print(f'the answer cell raised {type(__error).__name__}: {__error}')"
    )


def run_all_source(exercise_id: str, check_source: str) -> str:
    """The chapter's own check cell, run as "Run all" runs it, its printed verdict
    recorded under the label "run all", and the learner's names it added, removed or
    rebound under "names" (a check must leave them as they were)."""
    return (
        "import contextlib as __contextlib, io as __io\n"
        "__names_before = {k: id(v) for k, v in globals().items() "
        "if not k.startswith('_')}\n"
        "__printed = __io.StringIO()\n"
        "with __contextlib.redirect_stdout(__printed):\n"
        f"    exec(compile({check_source!r}, '<check cell of exercise {exercise_id}>', "
        "'exec'), globals())\n"
        "__names_after = {k: id(v) for k, v in globals().items() "
        "if not k.startswith('_')}\n"
        "__course_checks = globals().get('__course_checks', {})\n"
        f"__course_checks.setdefault({exercise_id!r}, {{}})['run all'] = "
        "['printed', __printed.getvalue()]\n"
        f"__course_checks[{exercise_id!r}]['names'] = ['changed', ', '.join(sorted("
        "k for k in __names_before.keys() | __names_after.keys() "
        "if __names_before.get(k) != __names_after.get(k)))]\n"
        "print(__printed.getvalue(), end='')"
    )


def instrument(nb, record: Path):
    """A copy of the chapter that records, as it runs, what the tests need to know.

    - Right after each answer cell (the blank stub a student starts from) the exercise's
      check runs on the stub: it must fail.
    - Then the exercise's first wrong answer replaces the stub, as a learner's answer,
      and the chapter's own check cell runs as "Run all" would run it: what it prints
      is recorded (it must not say "correct").
    - Right after the check cell the check runs again on the solution (it must pass),
      after each wrong answer stored in the check cell's metadata (each must be
      rejected) and after each right answer stored there (each must pass); then the
      chapter's solution cell runs, so later cells see it.
    - At the end, the `results` dict and every check's outcome are written to `record`
      (JSON).

    The chapter's other cells are unchanged, so nbval still compares their stored
    outputs.
    """
    probe_after: dict[int, list[str]] = {}
    replace: dict[int, str] = {}
    for exercise_id, parts in course.exercises(nb).items():
        check = nb.cells[parts["check"]].source
        solution = nb.cells[parts["solution"]].source
        after_answer = [execution.check_cell_source(exercise_id, check, "stub")]
        wrong = wrong_answers(nb, exercise_id)
        if wrong:
            after_answer.append(learner_answer_source(exercise_id, wrong[0]["source"]))
        probe_after[parts["answer"]] = after_answer
        replace[parts["check"]] = run_all_source(exercise_id, check)
        probes = [
            execution.check_cell_source(
                exercise_id, check, "solution", answer_source=solution
            )
        ]
        for number, answer in enumerate(wrong, start=1):
            probes.append(
                execution.check_cell_source(
                    exercise_id,
                    check,
                    f"wrong {number}",
                    answer_source=answer["source"],
                )
            )
        for number, answer in enumerate(right_answers(nb, exercise_id), start=1):
            probes.append(
                execution.check_cell_source(
                    exercise_id,
                    check,
                    f"right {number}",
                    answer_source=answer["source"],
                )
            )
        probe_after[parts["check"]] = probes
    probed = course.copy_notebook(nb)
    cells = ["__course_checks = {}"]
    for index, cell in enumerate(nb.cells):
        cells.append(replace.get(index, probed.cells[index]))
        cells += probe_after.get(index, [])
    cells.append(
        f"import json as __json\nwith open({str(record)!r}, 'w') as __file:\n"
        "    __json.dump({'results': results, 'checks': __course_checks}, __file)"
    )
    probed.cells = [
        nbformat.v4.new_code_cell(c) if isinstance(c, str) else c for c in cells
    ]
    return probed


class PageParser(HTMLParser):
    """What the tests read of a built page: its images and links (each link with its
    text, alt text of an image inside included, and whether it is in the article), the
    article's heading levels, and the article's prose (text outside code, math and
    scripts)."""

    NOT_PROSE = {"pre", "code", "script", "style", "math"}

    def __init__(self):
        super().__init__()
        self.images = []
        self.headings = []
        self.links = []
        self.text = []
        self._article = 0
        self._not_prose = []
        self._link = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "article":
            self._article += 1
        classes = (attrs.get("class") or "").split()
        if tag in self.NOT_PROSE or "math" in classes:
            self._not_prose.append(tag)
        if tag == "img":
            self.images.append(attrs)
            if self._link is not None:
                self._link["text"] += attrs.get("alt") or ""
        if self._article and re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        if tag == "a":
            self._link = {
                "href": attrs.get("href"),
                "text": attrs.get("aria-label") or attrs.get("title") or "",
                "in_article": bool(self._article),
            }

    def handle_endtag(self, tag):
        if tag == "article":
            self._article -= 1
        if self._not_prose and self._not_prose[-1] == tag:
            self._not_prose.pop()
        if tag == "a" and self._link is not None:
            self.links.append(self._link)
            self._link = None

    def handle_data(self, data):
        if self._link is not None:
            self._link["text"] += data
        if self._article and not self._not_prose:
            self.text.append(data)


def layered_venv(venv: Path, python: str = sys.executable) -> Path:
    """A new virtual environment made by `python` (no pip) that also sees this
    environment's packages, through a .pth file: a place to install a tool without
    touching this one, or an interpreter another user may run. Its Python."""
    subprocess.run([python, "-m", "venv", "--without-pip", str(venv)], check=True)
    new_python = venv / "bin" / "python"
    site = subprocess.run(
        [
            str(new_python),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    (Path(site) / "course-test-environment.pth").write_text(
        sysconfig.get_paths()["purelib"] + "\n"
    )
    return new_python
