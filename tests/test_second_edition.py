"""Each chapter carries what the course standard requires (CONTRIBUTING.md).

Fast: these tests read the notebooks and execute nothing. Running the wrong answers
against the checks is test_exercises.py's job, in the chapter's one execution.
"""

from __future__ import annotations

import difflib
import subprocess

import nbformat
import pytest

import example_chapter
from harness import chapter_params
from tools import course, sync_pages

KINDS = {"transfer", "debug", "predict"}
MIN_EXERCISES = 5
MIN_WRONG_ANSWERS = 2
WRONG_ANSWER_FIELDS = ("misconception", "expect", "source")
MIN_RIGHT_ANSWERS = 2
RIGHT_ANSWER_FIELDS = ("description", "source")
# Solutions and checks (which may reveal the answer) are hidden alike.
HIDDEN_CELLS = {
    "solution": (course.SOLUTION_TITLE, {course.TAG_SOLUTION, "hide-input"}),
    "check": (course.CHECK_TITLE, {course.TAG_CHECK, "hide-input"}),
}
MAX_CORRECTION_SHARE = 0.20
# "Not a copy" (CONTRIBUTING.md explains the choice): the share of what the learner
# writes (the solution's tokens less those of the stub it replaces) that an earlier code
# cell contains, counting only runs of at least COPY_MIN_RUN tokens in the same order.
COPY_MIN_RUN = 4
COPY_THRESHOLD = 0.6
# Fewer tokens than this written by the learner is too little to call a copy; and a
# `predict` exercise's answer is a literal, which may well appear in an earlier cell.
COPY_MIN_TOKENS = 8

# The last commit of the first edition, whose exercises 3.5 and 4.1-4.5 retype cells.
FIRST_EDITION = "e7e5deb5f0f1546058949934086328947a41085b"


def _minutes(path) -> int:
    return course.learner_minutes(course.read_notebook(path))


# ---------------------------------------------------------------- time


def minutes_problems(nb, stem: str) -> list[str]:
    stored, computed = course.chapter_meta(nb).get("time"), course.learner_time(nb)
    print(f"{stem}: {computed} by the formula (stored: {stored})")
    if stored != computed:
        return [
            f"metadata.course.time is {stored}, the formula gives {computed}: "
            f"run `make pages CHAPTERS={stem}` (or `make notebooks` if code changed)"
        ]
    return []


@pytest.mark.parametrize("path", chapter_params())
def test_stored_minutes_are_the_computed_ones(path):
    problems = minutes_problems(course.read_notebook(path), path.stem)
    assert not problems, f"{path.stem}: " + "\n".join(problems)


@pytest.mark.parametrize("path", chapter_params())
def test_chapter_fits_in_120_minutes(path):
    minutes = _minutes(path)
    print(f"{path.stem}: {minutes} minutes by the formula")
    assert minutes <= course.MAX_CHAPTER_MINUTES, (
        f"{path.stem} needs {minutes} minutes by the formula (prose words/150 + "
        f"code tokens/80 + 10 per exercise), more than {course.MAX_CHAPTER_MINUTES}: "
        "cut what a learner does not need, or split the chapter in two"
    )


def test_the_yardstick_counts_tokens_not_lines():
    """Packing code onto fewer lines does not lower the computed time."""
    spread = (
        "velocity = momentum * velocity + grad\nweights = weights - lr * velocity\n"
    )
    packed = (
        "velocity = momentum * velocity + grad; weights = weights - lr * velocity\n"
    )
    assert (
        len(course.code_tokens(spread)[0])
        == len(course.code_tokens(packed)[0]) - 1  # the ';'
    )
    assert course.code_tokens("x = 1  # three words here\n") == (["x", "=", "1"], 3)
    assert course.code_tokens('s = "a long string literal"\n')[0] == ["s", "=", "S"]


# ---------------------------------------------------------------- exercises


def check_meta(nb, cells: dict) -> dict:
    return nb.cells[cells["check"]].metadata.get("course", {})


def kind_problems(nb) -> list[str]:
    exercises = course.exercises(nb)
    kinds = {ex: check_meta(nb, cells).get("kind") for ex, cells in exercises.items()}
    problems = []
    if len(exercises) < MIN_EXERCISES:
        problems.append(
            f"{len(exercises)} exercises, at least {MIN_EXERCISES} are needed"
        )
    unknown = {ex: kind for ex, kind in kinds.items() if kind not in KINDS}
    if unknown:
        problems.append(
            f"the check cell's metadata.course.kind must be one of "
            f"{sorted(KINDS)}; found {unknown}"
        )
    for kind in ("debug", "predict"):
        if kind not in kinds.values():
            problems.append(f"no exercise of kind {kind!r} (kinds: {kinds})")
    return problems


@pytest.mark.parametrize("path", chapter_params())
def test_exercises_are_enough_and_of_every_kind(path):
    problems = kind_problems(course.read_notebook(path))
    assert not problems, f"{path.stem}:\n" + "\n".join(problems)


def wrong_answer_problems(nb) -> list[str]:
    problems = []
    for ex, cells in course.exercises(nb).items():
        wrong = check_meta(nb, cells).get("wrong_answers")
        solution = nb.cells[cells["solution"]].source.strip()
        if not isinstance(wrong, list) or len(wrong) < MIN_WRONG_ANSWERS:
            problems.append(
                f"exercise {ex}: metadata.course.wrong_answers of its check cell "
                f"needs at least {MIN_WRONG_ANSWERS} entries, has "
                f"{len(wrong) if isinstance(wrong, list) else 'none'}"
            )
            continue
        for number, answer in enumerate(wrong, 1):
            empty = [
                f
                for f in WRONG_ANSWER_FIELDS
                if not isinstance(answer, dict)
                or not isinstance(answer.get(f), str)
                or not answer[f].strip()
            ]
            if empty:
                problems.append(
                    f"exercise {ex}, wrong answer {number}: empty or missing "
                    f"{', '.join(empty)}"
                )
            elif answer["source"].strip() == solution:
                problems.append(f"exercise {ex}, wrong answer {number} is the solution")
    return problems


@pytest.mark.parametrize("path", chapter_params())
def test_checks_carry_wrong_answers(path):
    problems = wrong_answer_problems(course.read_notebook(path))
    assert not problems, f"{path.stem}:\n" + "\n".join(problems)


def hiding_problems(nb) -> list[str]:
    problems = []
    for ex, cells in course.exercises(nb).items():
        for role, (title, wanted_tags) in HIDDEN_CELLS.items():
            cell = nb.cells[cells[role]]
            first = cell.source.split("\n", 1)[0].rstrip()
            if first != title:
                problems.append(
                    f"exercise {ex}, {role}: first line is {first!r}, not {title!r} "
                    "(Colab's form view)"
                )
            if cell.metadata.get("cellView") != "form":
                problems.append(
                    f"exercise {ex}, {role}: metadata.cellView is not 'form' (Colab)"
                )
            if cell.metadata.get("jupyter", {}).get("source_hidden") is not True:
                problems.append(
                    f"exercise {ex}, {role}: metadata.jupyter.source_hidden is not "
                    "true (JupyterLab)"
                )
            missing = wanted_tags - set(course.tags(cell))
            if missing:
                problems.append(
                    f"exercise {ex}, {role}: tags lack {sorted(missing)} (the site)"
                )
        check = nb.cells[cells["check"]].source
        if check != course.render_check(ex, course.check_body(check)):
            problems.append(
                f"exercise {ex}: the check cell is not in its template "
                "(run `make pages`)"
            )
    return problems


@pytest.mark.parametrize("path", chapter_params())
def test_solutions_and_checks_are_hidden_three_ways(path):
    problems = hiding_problems(course.read_notebook(path))
    assert not problems, f"{path.stem}:\n" + "\n".join(problems)


def right_answer_problems(nb) -> list[str]:
    problems = []
    for ex, cells in course.exercises(nb).items():
        right = check_meta(nb, cells).get("right_answers")
        solution = nb.cells[cells["solution"]].source
        if not isinstance(right, list) or len(right) < MIN_RIGHT_ANSWERS:
            problems.append(
                f"exercise {ex}: metadata.course.right_answers of its check cell "
                f"needs at least {MIN_RIGHT_ANSWERS} correct answers written "
                "differently from the solution, has "
                f"{len(right) if isinstance(right, list) else 'none'}"
            )
            continue
        for number, answer in enumerate(right, 1):
            empty = [
                f
                for f in RIGHT_ANSWER_FIELDS
                if not isinstance(answer, dict)
                or not isinstance(answer.get(f), str)
                or not answer[f].strip()
            ]
            if empty:
                problems.append(
                    f"exercise {ex}, right answer {number}: empty or missing "
                    f"{', '.join(empty)}"
                )
            elif code_tokens(answer["source"]) == code_tokens(solution):
                problems.append(
                    f"exercise {ex}, right answer {number} is the solution again"
                )
    return problems


@pytest.mark.parametrize("path", chapter_params())
def test_checks_carry_right_answers(path):
    problems = right_answer_problems(course.read_notebook(path))
    assert not problems, f"{path.stem}:\n" + "\n".join(problems)


def code_tokens(source: str) -> list[str]:
    """A cell's code as tokens (course.code_tokens); broken code (a debug stub) as its
    words."""
    try:
        return course.code_tokens(source)[0]
    except ValueError:
        return source.split()


def learner_tokens(solution: str, stub: str) -> list[str]:
    """The solution's tokens less those it shares, in order, with its stub."""
    solution_tokens, stub_tokens = code_tokens(solution), code_tokens(stub)
    given = set()
    matcher = difflib.SequenceMatcher(
        None, solution_tokens, stub_tokens, autojunk=False
    )
    for block in matcher.get_matching_blocks():
        given.update(range(block.a, block.a + block.size))
    return [t for i, t in enumerate(solution_tokens) if i not in given]


def contained_share(tokens: list[str], other: list[str]) -> float:
    """Share of `tokens` found in `other` in runs of at least COPY_MIN_RUN tokens."""
    if not tokens:
        return 0.0
    matcher = difflib.SequenceMatcher(None, tokens, other, autojunk=False)
    found = sum(b.size for b in matcher.get_matching_blocks() if b.size >= COPY_MIN_RUN)
    return found / len(tokens)


def copies(nb) -> list[str]:
    """Each solution that an earlier code cell (not its own stub or check) already
    shows."""
    found = []
    for ex, cells in course.exercises(nb).items():
        written = learner_tokens(
            nb.cells[cells["solution"]].source, nb.cells[cells["answer"]].source
        )
        if (
            check_meta(nb, cells).get("kind") == "predict"
            or len(written) < COPY_MIN_TOKENS
        ):
            continue
        earlier = [
            (contained_share(written, code_tokens(cell.source)), index)
            for index, cell in enumerate(nb.cells[: cells["solution"]])
            if cell.cell_type == "code"
            and index not in (cells["answer"], cells["check"])
        ]
        share, index = max(earlier, default=(0.0, None))
        if share > COPY_THRESHOLD:
            first = nb.cells[index].source.strip().split("\n", 1)[0][:60]
            found.append(
                f"exercise {ex}: {share:.0%} of what its solution adds to the stub "
                f"is in cell {index} ({first!r} ...)"
            )
    return found


@pytest.mark.parametrize("path", chapter_params())
def test_solutions_are_not_copies_of_earlier_cells(path):
    found = copies(course.read_notebook(path))
    assert not found, (
        f"{path.stem}: an exercise must apply the concept to a new case, not retype a "
        f"cell (threshold {COPY_THRESHOLD:.0%}):\n" + "\n".join(found)
    )


# ---------------------------------------------------------------- corrections


def correction_section_cells(nb) -> range:
    """Indices of the cells of `## What the source got wrong`, up to the next `##`."""
    start = end = None
    for heading in sync_pages.notebook_headings(nb):
        if (
            start is None
            and heading["level"] == 2
            and heading["text"].strip() == sync_pages.CORRECTIONS_SECTION
        ):
            start = heading["source"]
        elif start is not None and heading["level"] <= 2 and heading["source"] > start:
            end = heading["source"]
            break
    assert start is not None, f"no '## {sync_pages.CORRECTIONS_SECTION}' section"
    return range(start, len(nb.cells) if end is None else end)


def share_problems(nb) -> list[str]:
    cells = correction_section_cells(nb)
    share = len(cells) / len(nb.cells)
    if share > MAX_CORRECTION_SHARE:
        return [
            f"'## {sync_pages.CORRECTIONS_SECTION}' has {len(cells)} of the chapter's "
            f"{len(nb.cells)} cells ({share:.0%}), at most {MAX_CORRECTION_SHARE:.0%}: "
            "keep the errors whose home is this chapter, link the rest"
        ]
    return []


@pytest.mark.parametrize("path", chapter_params())
def test_corrections_take_at_most_a_fifth_of_the_chapter(path):
    problems = share_problems(course.read_notebook(path))
    assert not problems, f"{path.stem}: " + "\n".join(problems)


def correction_metadata_problems(nb) -> list[str]:
    problems = []
    for section in sync_pages.correction_sections(nb):
        where = f"cell {section['cell']} ('### {section['headings'][0]['text']}')"
        if len(section["headings"]) > 1:
            problems.append(
                f"{where}: one ### heading per cell (its metadata is its home's)"
            )
        entries = section["corrections"]
        if not isinstance(entries, list) or not entries:
            problems.append(f"{where}: no metadata.course.corrections")
            continue
        for entry in entries:
            for problem in sync_pages.correction_problems(entry):
                name = entry.get("id", "?") if isinstance(entry, dict) else "?"
                problems.append(f"{where}, correction {name!r}: {problem}")
    return problems


@pytest.mark.parametrize("path", chapter_params())
def test_each_correction_section_carries_its_errata_entries(path):
    problems = correction_metadata_problems(course.read_notebook(path))
    assert not problems, f"{path.stem} (CONTRIBUTING.md, 'Corrections'):\n" + "\n".join(
        problems
    )


# ---------------------------------------------------------------- the checks' own tests


def all_problems(nb) -> list[str]:
    return (
        minutes_problems(nb, "example")
        + kind_problems(nb)
        + wrong_answer_problems(nb)
        + right_answer_problems(nb)
        + hiding_problems(nb)
        + copies(nb)
        + share_problems(nb)
        + correction_metadata_problems(nb)
    )


def test_a_chapter_that_meets_the_contract_passes_every_check():
    nb = example_chapter.compliant_chapter()
    assert course.learner_minutes(nb) <= course.MAX_CHAPTER_MINUTES
    assert all_problems(nb) == []


def _exercise(nb, number: int, role: str):
    return nb.cells[list(course.exercises(nb).values())[number - 1][role]]


def _no_predict(nb):
    _exercise(nb, 3, "check").metadata["course"]["kind"] = "transfer"


def _one_wrong_answer(nb):
    _exercise(nb, 2, "check").metadata["course"]["wrong_answers"].pop()


def _no_form_view(nb):
    del _exercise(nb, 4, "solution").metadata["cellView"]


def _visible_check(nb):
    _exercise(nb, 1, "check").metadata["tags"].remove("hide-input")


def _one_right_answer(nb):
    _exercise(nb, 3, "check").metadata["course"]["right_answers"].pop()


def _retyped_cell(nb):
    _exercise(
        nb, 5, "solution"
    ).source = "#@title Solution\nx = torch.arange(6).reshape(2, 3)"


def _no_corrections(nb):
    nb.cells[7].metadata["course"]["corrections"] = []


def _bad_severity(nb):
    nb.cells[7].metadata["course"]["corrections"][0]["severity"] = "serious"


def _stale_minutes(nb):
    nb.metadata["course"]["time"]["total"] += 5


def _long_corrections(nb):
    nb.cells[8:8] = [nbformat.v4.new_code_cell(f"print({i})") for i in range(20)]


@pytest.mark.parametrize(
    "defect, check",
    [
        (_no_predict, kind_problems),
        (_one_wrong_answer, wrong_answer_problems),
        (_no_form_view, hiding_problems),
        (_visible_check, hiding_problems),
        (_one_right_answer, right_answer_problems),
        (_retyped_cell, copies),
        (_no_corrections, correction_metadata_problems),
        (_bad_severity, correction_metadata_problems),
        (_long_corrections, share_problems),
        (_stale_minutes, lambda nb: minutes_problems(nb, "example")),
    ],
)
def test_each_check_catches_its_defect(defect, check):
    nb = example_chapter.compliant_chapter()
    defect(nb)
    assert check(nb), f"{check.__name__} did not see {defect.__name__}"


def in_third_edition_order(nb):
    """An older chapter (answer, solution, check) with each check moved before its
    solution, as course.exercises expects."""
    for index in range(len(nb.cells) - 1):
        here, after = nb.cells[index], nb.cells[index + 1]
        if course.TAG_SOLUTION in course.tags(here) and course.TAG_CHECK in course.tags(
            after
        ):
            nb.cells[index], nb.cells[index + 1] = after, here
    return nb


def test_the_first_editions_copies_are_caught():
    """Exercises 3.5, 4.1, 4.4 and 4.5 of the first edition retype a cell."""
    for stem, flagged in (("03_layers", {"3.5"}), ("04_losses", {"4.1", "4.4", "4.5"})):
        shown = subprocess.run(
            ["git", "show", f"{FIRST_EDITION}:notebooks/{stem}.ipynb"],
            cwd=course.REPO_ROOT,
            capture_output=True,
            text=True,
            check=False,
        )
        if shown.returncode != 0:
            pytest.skip(f"the first edition ({FIRST_EDITION}) is not in this clone")
        found = copies(
            in_third_edition_order(nbformat.reads(shown.stdout, as_version=4))
        )
        assert flagged <= {line.split(":")[0].split()[1] for line in found}, found
