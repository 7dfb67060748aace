"""Student copies hide every solution; the autograder grades what students really hand
in, in a sandbox that contains hostile hand-ins while it grades the honest ones right.
"""

from __future__ import annotations

import ast
import csv
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

from harness import chapter_params, layered_venv
from tools import course, execution, grade, student_copies

FIRST_CHAPTER = course.chapter_paths()[0]


def solution_lines(nb) -> set[str]:
    """Lines of code that appear in solutions and nowhere else in the chapter."""
    parts = course.exercises(nb)
    solutions = {p["solution"] for p in parts.values()}
    elsewhere = {
        line.strip()
        for i, c in enumerate(nb.cells)
        if i not in solutions
        for line in c.source.splitlines()
    }
    return {
        line.strip()
        for i in solutions
        for line in nb.cells[i].source.splitlines()
        if line.strip()
        and not line.strip().startswith("#")
        and line.strip() not in elsewhere
    }


@pytest.mark.parametrize("path", chapter_params())
def test_student_copy_has_no_solution_text(path):
    nb = course.read_notebook(path)
    student = course.student_copy(nb)
    student_lines = {
        line.strip() for cell in student.cells for line in cell.source.splitlines()
    }
    assert not any(course.TAG_SOLUTION in course.tags(cell) for cell in student.cells)
    leaked = sorted(solution_lines(nb) & student_lines)
    assert not leaked, f"solution lines left in the student copy: {leaked}"
    kept = [c for c in nb.cells if course.TAG_SOLUTION not in course.tags(c)]
    assert [c.source for c in student.cells] == [c.source for c in kept], (
        "the rest must stay identical"
    )


def test_student_copy_branch_rewrites_badges():
    student = course.student_copy(course.read_notebook(FIRST_CHAPTER), branch="student")
    badge = next(
        c.source for c in student.cells if course.COLAB_BADGE_IMAGE in c.source
    )
    assert f"/blob/student/notebooks/{FIRST_CHAPTER.name}" in badge


@pytest.mark.parametrize("path", chapter_params())
def test_student_edition_is_ready_to_publish(path):
    """Badges point at the instructor's repository and branch, a hand-in note comes
    first, and no text promises the solutions the copy does not have."""
    edition = student_copies.student_edition(
        course.read_notebook(path), "a-teacher/their-course", "term-1"
    )
    badges = [c.source for c in edition.cells if course.COLAB_BADGE_IMAGE in c.source]
    assert badges and all(
        f"github/a-teacher/their-course/blob/term-1/notebooks/{path.name}" in b
        for b in badges
    ), badges
    note = edition.cells[1]
    assert note.cell_type == "markdown" and "Handing in" in note.source
    assert "not graded" in note.source and "answer cell" in note.source
    text = "\n".join(c.source for c in edition.cells if c.cell_type == "markdown")
    promises = re.findall(
        r"folded \W*solution|solutions are folded|solution\W* (?:cell )?replaces", text
    )
    assert not promises, promises
    assert course.exercises(edition, student=True)


def test_one_list_of_statuses_everywhere():
    """The grader's statuses, the instructor guide's and the syllabus's are one list."""
    listed = ", ".join(f"`{status}`" for status in grade.STATUSES)
    for page in ("instructors.md", "syllabus.md"):
        text = " ".join((course.REPO_ROOT / "book" / page).read_text().split())
        assert listed in text, f"book/{page} does not list the statuses {listed}"
    guide = (course.REPO_ROOT / "book" / "instructors.md").read_text()
    for status in grade.STATUSES:
        assert f"| `{status}` |" in guide, f"the guide's table lacks {status}"
    assert "STATUSES" in grade.__doc__


CHECK_TEMPLATE = """#@title Check your answer to exercise 1.2 (run this cell)
try:
    assert x == 1, "expected 1"
    assert helper(x), "helper says no"
except NotImplementedError as missing:
    print(f"Exercise 1.2: not answered yet. {missing}")
except AssertionError as problem:
    print(f"Exercise 1.2: not correct yet. {problem}")
else:
    print("Exercise 1.2: correct")
"""


def test_the_grader_runs_the_assertions_of_either_check_form():
    """Checks in the new template (assertions in try, verdict printed) are graded on
    their assertions, which must raise; the old form is taken as it is."""
    body = grade.check_body(CHECK_TEMPLATE)
    assert body.splitlines() == [
        'assert x == 1, "expected 1"',
        'assert helper(x), "helper says no"',
    ], body
    old_form = 'assert x == 1, "expected 1"\nprint("Exercise 1.2: correct")'
    assert grade.check_body(old_form) == old_form
    read, bound = grade._names(body)
    assert {"x", "helper"} <= read and not bound


def test_grading_works_whatever_the_order_of_check_and_solution():
    """Exercises reordered to answer, check, solution (the check reports on the
    learner's own answer) are graded the same: by course.exercises' indices."""
    official = course.read_notebook(FIRST_CHAPTER)
    reordered = course.copy_notebook(official)
    for parts in sorted(
        course.exercises(official).values(), key=lambda p: -p["solution"]
    ):
        solution = reordered.cells.pop(parts["solution"])
        reordered.cells.insert(parts["check"], solution)  # after its check
    try:
        parts = course.exercises(reordered)
    except ValueError as error:
        pytest.skip(f"course.exercises does not accept this order yet: {error}")
    answers = {i: "x = 1" for i in parts}
    for nb in (official, reordered):
        graded, cells, seal = grade.grading_notebook(nb, answers, Path("/seal"))
        sources = "\n".join(c.source for c in graded.cells)
        assert "#@title Solution" not in sources
        assert list(cells) == list(parts)
        assert set(seal["exercises"]) == set(parts)
    assert grade.seal_exercises(official, answers) == grade.seal_exercises(
        reordered, answers
    )


def test_grading_parameters_name_real_chapters_and_parameters():
    """tools/grading_parameters.json: smaller lesson parameters for grading, each one
    a knob of its chapter's parameters cell, of the same type."""
    table = json.loads(grade.GRADING_PARAMETERS.read_text())
    chapters = {p.stem: p for p in course.chapter_paths()}
    assert table and set(table) <= set(chapters), set(table) - set(chapters)
    for stem, parameters in table.items():
        nb = course.read_notebook(chapters[stem])
        cell = next(c for c in nb.cells if course.TAG_PARAMETERS in course.tags(c))
        defaults = {}
        for node in ast.parse(cell.source).body:
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    names = target.elts if isinstance(target, ast.Tuple) else [target]
                    for name in names:
                        if isinstance(name, ast.Name):
                            defaults[name.id] = node.value
        for name, value in parameters.items():
            assert name in defaults, f"{stem} has no parameter {name}"
            default = ast.literal_eval(defaults[name])
            assert isinstance(value, type(default)) or (
                isinstance(default, tuple) and isinstance(value, list)
            ), f"{stem}.{name}: {value!r} is not like its default {default!r}"


@pytest.mark.slow
def test_chapter_9_official_solutions_pass_with_the_grading_parameters(
    tmp_path, course_data_dir
):
    """The smaller lesson of chapter 9 still gives every exercise what it needs."""
    path = course.chapter_paths()[-1]
    official = course.read_notebook(path)
    parts = course.exercises(official)
    solved = with_answers(
        course.student_copy(official),
        {i: official.cells[p["solution"]].source for i, p in parts.items()},
    )
    nbformat.write(solved, str(tmp_path / f"{path.stem}.ipynb"))
    run = run_grader(
        tmp_path / f"{path.stem}.ipynb",
        tmp_path / "out",
        "--cell-timeout",
        "900",  # correctness here, not speed: a busy machine must not fail it
        timeout=1800,
        env={**os.environ, "COURSE_DATA_DIR": str(course_data_dir)},
    )
    assert run.returncode == 0, run.stdout + run.stderr
    rows = json.loads((tmp_path / "out" / "grades.json").read_text())
    assert [r["status"] for r in rows] == ["pass"] * len(parts), [
        (r["exercise"], r["status"], r["message"]) for r in rows
    ]
    print(f"chapter 9 hand-in graded in {rows[0]['seconds']} s")


def test_student_copies_refuse_a_repository_that_is_not_one():
    with pytest.raises(ValueError, match="not a GitHub repository"):
        student_copies.repository_slug("not a repository")
    assert student_copies.repository_slug("https://github.com/a/b.git") == "a/b"


def with_answers(nb, sources: dict[str, str]):
    """A copy of `nb` whose answer cells hold the given sources."""
    answered = course.copy_notebook(nb)
    for exercise_id, parts in course.exercises(answered, student=True).items():
        if exercise_id in sources:
            answered.cells[parts["answer"]].source = sources[exercise_id]
    return answered


SECRET = f"INSTRUCTOR-SECRET-{uuid.uuid4().hex}"
LONG_MESSAGE = "I gave up " + "because " * 60 + "the end"
STUDENT_FOLDER = "Ada Lovelace"


def forgeries(ids: list[str]) -> dict[str, dict[str, str]]:
    """Hand-ins that try to earn passes by changing the checking machinery, each with
    stub answers (or wrong ones) that the checks, honestly run, reject.

    Against the grader that ran each check in the student's interpreter (before the
    seal), json_dumps and builtin_print scored 5/5, torch_allclose and helper
    redefined passed exercise 1.4, and the answer calling sys.exit(0) cost the
    exercises after it their grades.
    """
    wrong_distances = (
        "def pairwise_squared_distances(p, q):\n"
        "    return torch.zeros(p.shape[0], q.shape[0])\n"
    )
    return {
        # every recorded outcome rewritten to "pass" on its way out
        "forges_json_dumps": {
            ids[0]: "import json\n_dumps = json.dumps\n"
            "def _forged(o, *a, **k):\n"
            "    if isinstance(o, dict) and 'outcome' in o:\n"
            "        o = {**o, 'outcome': ['pass', '']}\n"
            "    return _dumps(o, *a, **k)\n"
            "json.dumps = _forged"
        },
        # the same through a builtin: print rewrites every failure into a pass
        "forges_builtin_print": {
            ids[0]: "import builtins\n_print = builtins.print\n"
            "def _forged(*args, **kwargs):\n"
            "    args = [a.replace('\"fail\"', '\"pass\"')"
            ".replace('\"answer-error\"', '\"pass\"') if isinstance(a, str) "
            "else a for a in args]\n"
            "    _print(*args, **kwargs)\n"
            "builtins.print = _forged"
        },
        # the comparisons the checks use always say yes
        "forges_torch_allclose": {
            ids[3]: "torch.allclose = lambda *a, **k: True\n"
            "torch.equal = lambda *a, **k: True\n" + wrong_distances
        },
        # the check's helper (here: the name torch) replaced by a lenient one
        "forges_helper": {
            ids[3]: "import torch as _torch\n"
            "class _Lenient:\n"
            "    def __getattr__(self, name):\n"
            "        if name in ('allclose', 'equal'):\n"
            "            return lambda *a, **k: True\n"
            "        return getattr(_torch, name)\n"
            "torch = _Lenient()\n" + wrong_distances.replace("torch.", "_torch.")
        },
    }


# Limits of the grading run below: the memory hog and the endless submission meet them
# soon (the endless one waits 25 s in each of its 5 answers: under the cell limit, over
# the total). A correct hand-in of chapter 1 takes about 16 s on an idle 2-core machine.
MEMORY_MB = 2048
TIME_LIMIT = 100
CELL_TIMEOUT = 40
ENDLESS_WAIT = 25
# `sleep 4242.5`: the process the endless submission leaves behind
ORPHAN_SLEEP = "4242.5"


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the host's loopback that records whatever connects to it."""
    server = socket.create_server(("127.0.0.1", 0))
    received = []

    def serve():
        while True:
            try:
                connection, _ = server.accept()
            except OSError:
                return
            with connection:
                received.append(connection.recv(100) or b"(connected)")

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1], received
    server.close()


def hostile_answers(folder, port: int) -> dict[str, str]:
    """Answers (to the first exercise, unless said) that attack the grader's machine."""
    targets = [
        folder / "pwned.txt",
        folder.parent / "pwned.txt",
        course.REPO_ROOT / "pwned-by-a-student.txt",
    ]
    return {
        # writes next to the submissions, above them and into the repository
        "writes_outside": "import os\n"
        + "".join(f"open({str(t)!r}, 'w').write('PWNED')\n" for t in targets)
        + "os.system('echo PWNED > ../pwned.txt')",
        # reads a file of the instructor's and shows it in the grade table
        "reads_secret": (
            f"raise ValueError(open({str(folder.parent / 'secret.txt')!r}).read())"
        ),
        # sends data to a server on the grader's machine
        "opens_network": (
            "import socket\n"
            f"socket.create_connection(('127.0.0.1', {port}), timeout=10)"
            ".sendall(b'LEAKED')"
        ),
        # forks without end; each child keeps its process
        "fork_bomb": (
            "import os, time\nwhile True:\n    if os.fork() == 0:\n"
            "        time.sleep(600)\n        os._exit(0)"
        ),
        # allocates (and touches) memory without end
        "memory_hog": (
            "def hog():\n    chunks = []\n    while True:\n"
            "        chunks.append(bytearray(b'x' * (256 << 20)))\nhog()"
        ),
    }


@pytest.fixture(scope="module")
def submissions(tmp_path_factory, course_data_dir, listener):
    """The official solutions, the blank student copy, broken and hostile hand-ins, as
    students send them."""
    folder = tmp_path_factory.mktemp("submissions")
    (folder.parent / "secret.txt").write_text(SECRET)
    official = course.read_notebook(FIRST_CHAPTER)
    parts = course.exercises(official)
    ids = list(parts)
    solutions = {i: official.cells[p["solution"]].source for i, p in parts.items()}
    blank = course.student_copy(official)
    cases = {
        "solved": with_answers(blank, solutions),
        "blank": blank,
        # raises in the first answer; the other answers are right and must still be
        # graded
        "raises_early": with_answers(
            blank, {**solutions, ids[0]: f"raise ValueError({LONG_MESSAGE!r})"}
        ),
        # loops forever in the second answer: the time limit stops it
        "infinite_loop": with_answers(
            blank, {**solutions, ids[1]: "while True:\n    pass"}
        ),
        # prints a fake success instead of answering
        "prints_pass": with_answers(
            blank, {**solutions, ids[0]: f"print('Exercise {ids[0]}: correct')"}
        ),
        # prints the grader's own record of a pass for every exercise, then kills its
        # kernel
        "forges_records": with_answers(
            blank,
            {
                ids[0]: "\n".join(
                    f"print({execution.CHECK_MARKER!r} + {json.dumps(forged)!r})"
                    for forged in (
                        {"exercise": i, "label": "submission", "outcome": ["pass", ""]}
                        for i in ids
                    )
                )
                + "\nimport os\nos._exit(1)"
            },
        ),
    }
    for name, answers in forgeries(ids).items():
        cases[name] = with_answers(blank, answers)
    # leaves in the middle: the exercises after it are graded all the same
    cases["exits"] = with_answers(
        blank, {**solutions, ids[1]: "import sys\nsys.exit(0)"}
    )
    # the third check cell deleted, the fourth answer cell's tags removed
    tampered = with_answers(blank, solutions)
    tampered.cells = [
        c
        for c in tampered.cells
        if not (
            course.TAG_CHECK in course.tags(c)
            and c.metadata["course"]["exercise"] == ids[2]
        )
    ]
    for cell in tampered.cells:
        if (
            course.TAG_ANSWER in course.tags(cell)
            and cell.metadata["course"]["exercise"] == ids[3]
        ):
            cell.metadata["tags"] = []
    cases["tampered"] = tampered
    port, _ = listener
    for name, answer in hostile_answers(folder, port).items():
        cases[name] = with_answers(blank, {**solutions, ids[0]: answer})
    # never ends: leaves a process behind, then each answer waits just under the cell
    # limit
    endless = {
        i: f"import time\ntime.sleep({ENDLESS_WAIT})\n{solutions[i]}" for i in ids
    }
    endless[ids[0]] = (
        f"import subprocess\nsubprocess.Popen(['sleep', {ORPHAN_SLEEP!r}], "
        f"start_new_session=True)\n{endless[ids[0]]}"
    )
    cases["never_ends"] = with_answers(blank, endless)
    for name, nb in cases.items():
        nbformat.write(nb, str(folder / f"{FIRST_CHAPTER.stem}_{name}.ipynb"))
    (folder / "malformed.ipynb").write_text("{ this is not json")
    # as a learning management system exports them: one subfolder per student
    own = folder / STUDENT_FOLDER / "attempt 1"
    own.mkdir(parents=True)
    nbformat.write(cases["solved"], str(own / f"{FIRST_CHAPTER.stem}.ipynb"))
    return folder, ids


def run_grader(
    target: Path,
    out: Path,
    *options: str,
    python: str = sys.executable,
    as_user: tuple[str, ...] = (),
    timeout: int,
    env: dict[str, str],
) -> subprocess.CompletedProcess:
    """`tools/grade.py target --out out *options`, as the instructor runs it (`as_user`:
    a command prefix that runs it as another user)."""
    return subprocess.run(
        [*as_user, python, "tools/grade.py", str(target), "--out", str(out), *options],
        cwd=course.REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        env=env,
    )


def python_under_tmp(folder) -> str:
    """This environment's Python, reached through a symlink under /tmp (issue #35: a
    .venv under /tmp used to vanish behind the sandbox's private /tmp)."""
    link = folder / "env under tmp"
    link.symlink_to(os.path.realpath(sys.prefix))
    python = link / "bin" / Path(sys.executable).name
    assert str(python).startswith("/tmp/"), python
    return str(python)


@pytest.fixture(scope="module")
def grades(submissions, tmp_path_factory):
    folder, ids = submissions
    out = tmp_path_factory.mktemp("grades")
    temporary = tmp_path_factory.mktemp("grader tmp")
    run = run_grader(
        folder,
        out,
        "--cell-timeout",
        str(CELL_TIMEOUT),
        "--jobs",
        "2",
        "--memory-mb",
        str(MEMORY_MB),
        "--time-limit",
        str(TIME_LIMIT),
        python=python_under_tmp(tmp_path_factory.mktemp("venv link")),
        timeout=1500,
        env={**os.environ, "TMPDIR": str(temporary)},
    )
    assert run.returncode == 2, (
        f"a malformed file must make the exit status 2:\n{run.stdout}\n{run.stderr}"
    )
    rows = json.loads((out / "grades.json").read_text())
    table = {}
    for row in rows:
        table.setdefault(row["student"].removeprefix(f"{FIRST_CHAPTER.stem}_"), {})[
            row["exercise"]
        ] = (row["status"], row["message"])
    return (
        table,
        ids,
        run.stdout + (out / "grades.json").read_text(),
        {
            "out": out,
            "rows": rows,
            "output": run.stdout + run.stderr,
            "tmp": temporary,
        },
    )


def statuses(table, case):
    return [status for status, _ in table[case].values()]


@pytest.mark.slow
def test_official_solutions_pass(grades):
    table, ids, *_ = grades
    assert statuses(table, "solved") == ["pass"] * len(ids)


@pytest.mark.slow
def test_blank_student_copy_fails_every_check(grades):
    table, ids, *_ = grades
    assert statuses(table, "blank") == ["fail"] * len(ids)
    for status, message in table["blank"].values():
        assert message.startswith(("AssertionError", "NotImplementedError")), message


@pytest.mark.slow
def test_an_early_error_is_reported_and_later_answers_still_graded(grades):
    table, ids, *_ = grades
    status, message = table["raises_early"][ids[0]]
    assert status == "answer-error" and "I gave up" in message
    assert statuses(table, "raises_early")[1:] == ["pass"] * (len(ids) - 1)


@pytest.mark.slow
def test_an_infinite_loop_hits_the_time_limit_and_costs_only_its_exercise(grades):
    table, ids, *_ = grades
    assert table["infinite_loop"][ids[0]][0] == "pass"
    status, message = table["infinite_loop"][ids[1]]
    assert status == "answer-error" and f"{CELL_TIMEOUT} s" in message, message
    assert statuses(table, "infinite_loop")[2:] == ["pass"] * (len(ids) - 2)


@pytest.mark.slow
def test_printed_success_is_not_trusted(grades):
    table, ids, *_ = grades
    assert table["prints_pass"][ids[0]][0] == "fail"


@pytest.mark.slow
def test_forged_check_records_are_not_trusted(grades):
    table, ids, *_ = grades
    assert "pass" not in statuses(table, "forges_records"), table["forges_records"]


@pytest.mark.slow
def test_deleted_check_and_untagged_answer_are_reported_not_passed(grades):
    table, ids, *_ = grades
    assert table["tampered"][ids[2]][0] == "check-removed"
    assert table["tampered"][ids[3]][0] == "missing"
    assert statuses(table, "tampered")[:2] == ["pass", "pass"]


@pytest.mark.slow
def test_malformed_file_gets_a_clear_error(grades):
    table, _, stdout, _ = grades
    ((status, message),) = table["malformed"].values()
    assert status == "invalid" and "not a readable notebook" in message
    assert "malformed.ipynb" in stdout


@pytest.mark.slow
@pytest.mark.parametrize(
    "case",
    [
        "forges_json_dumps",
        "forges_builtin_print",
        "forges_torch_allclose",
        "forges_helper",
    ],
)
def test_a_changed_checking_machinery_never_scores_a_pass(grades, case):
    table, ids, *_ = grades
    found = table[case]
    assert "pass" not in statuses(table, case), found
    if case != "forges_helper":  # the helper was a name of the student's own
        assert "review" in statuses(table, case), found
    assert ids[3] in found and found[ids[3]][0] in ("fail", "review"), found


@pytest.mark.slow
def test_sys_exit_in_an_answer_costs_only_that_exercise(grades):
    table, ids, *_ = grades
    status, message = table["exits"][ids[1]]
    assert status == "answer-error" and "SystemExit" in message, message
    others = [s for i, (s, _) in table["exits"].items() if i != ids[1]]
    assert others == ["pass"] * (len(ids) - 1), table["exits"]


@pytest.mark.slow
def test_one_subfolder_per_student_is_graded_under_the_students_name(grades):
    table, ids, *_ = grades
    assert statuses(table, STUDENT_FOLDER) == ["pass"] * len(ids)


@pytest.mark.slow
def test_reports_have_full_messages_totals_and_no_leftovers(grades):
    table, ids, _, run = grades
    out, rows = run["out"], run["rows"]
    with open(out / "grades.csv", newline="") as handle:
        csv_rows = list(csv.DictReader(handle))
    assert [r["message"] for r in csv_rows] == [r["message"] for r in rows]
    assert any(LONG_MESSAGE in r["message"] for r in csv_rows), "message cut short"
    with open(out / "totals.csv", newline="") as handle:
        totals = {r["student"]: r for r in csv.DictReader(handle)}
    solved = totals[f"{FIRST_CHAPTER.stem}_solved"]
    assert (solved["points"], solved["out_of"]) == (str(len(ids)), str(len(ids)))
    assert float(solved["seconds"]) > 0
    assert totals[STUDENT_FOLDER]["points"] == str(len(ids))
    assert "Ctrl-C will not work" not in run["output"], "the kernel's banner leaked"
    left = sorted(p.name for p in run["tmp"].iterdir())
    assert not [n for n in left if n.startswith("course-")], left


def running_commands() -> list[str]:
    """The command line of every process on the machine."""
    commands = []
    for entry in os.listdir("/proc"):
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as handle:
                commands.append(
                    handle.read().replace(b"\0", b" ").decode(errors="replace")
                )
        except OSError:
            continue
    return commands


@pytest.mark.slow
def test_honest_submissions_graded_alongside_hostile_ones_are_right(grades):
    table, ids, *_ = grades
    assert statuses(table, "solved") == ["pass"] * len(ids)
    assert statuses(table, "blank") == ["fail"] * len(ids)


@pytest.mark.slow
def test_writing_outside_the_sandbox_fails(grades, submissions):
    table, ids, *_ = grades
    folder, _ = submissions
    for target in (
        folder / "pwned.txt",
        folder.parent / "pwned.txt",
        course.REPO_ROOT / "pwned-by-a-student.txt",
    ):
        assert not target.exists(), f"a submission wrote {target}"
    status, message = table["writes_outside"][ids[0]]
    assert status == "answer-error" and "No such file or directory" in message, message
    assert statuses(table, "writes_outside")[1:] == ["pass"] * (len(ids) - 1)


@pytest.mark.slow
def test_a_file_outside_the_sandbox_cannot_be_read(grades):
    table, ids, text, _ = grades
    assert SECRET not in text, "the instructor's secret reached the grade table"
    status, message = table["reads_secret"][ids[0]]
    assert status == "answer-error" and message.startswith("FileNotFoundError"), message


@pytest.mark.slow
def test_the_network_is_unreachable(grades, listener):
    table, ids, *_ = grades
    _, received = listener
    assert received == [], f"a submission reached the grader's machine: {received}"
    status, message = table["opens_network"][ids[0]]
    assert status == "answer-error" and "no network" in message, message


@pytest.mark.slow
def test_a_fork_bomb_meets_the_process_limit(grades):
    table, ids, *_ = grades
    status, message = table["fork_bomb"][ids[0]]
    assert status == "answer-error" and "processes and threads" in message, message
    assert not [c for c in running_commands() if "course-kernel-" in c], (
        "sandboxed processes survived"
    )


@pytest.mark.slow
def test_a_memory_hog_meets_the_memory_limit(grades):
    table, ids, *_ = grades
    status, message = table["memory_hog"][ids[0]]
    assert status == "answer-error" and "memory limit" in message, message
    assert statuses(table, "memory_hog")[1:] == ["pass"] * (len(ids) - 1)


@pytest.mark.slow
def test_an_endless_submission_is_killed_with_everything_it_started(grades):
    table, ids, *_ = grades
    found = statuses(table, "never_ends")
    assert "not-reached" in found, table["never_ends"]
    assert set(found) <= {"pass", "not-reached"}, table["never_ends"]
    reasons = [
        message
        for status, message in table["never_ends"].values()
        if status == "not-reached"
    ]
    assert all(f"total time limit ({TIME_LIMIT} s)" in m for m in reasons), reasons
    assert not [c for c in running_commands() if f"sleep {ORPHAN_SLEEP}" in c], (
        "a process it started survived"
    )


def test_grading_refuses_to_run_without_a_sandbox(tmp_path):
    """Where bubblewrap is missing, nothing is run unless the instructor says it is
    unsafe."""
    nbformat.write(
        course.student_copy(course.read_notebook(FIRST_CHAPTER)),
        str(tmp_path / f"{FIRST_CHAPTER.stem}.ipynb"),
    )
    run = run_grader(
        tmp_path,
        tmp_path / "out",
        timeout=120,
        env={**os.environ, "COURSE_BWRAP": "/nonexistent/bwrap"},
    )
    assert run.returncode == 3, run.stdout + run.stderr
    assert (
        "bubblewrap" in run.stderr
        and "--unsafe-no-sandbox" in run.stderr
        and "unsafe" in run.stderr
    )
    assert not (tmp_path / "out").exists()


def test_a_fresh_setup_without_the_data_refuses_to_grade(tmp_path):
    """No offline MNIST beside the checkout, no network: grading stops before any
    hand-in runs, names the folder, and exits non-zero (it used to score every
    exercise that needs MNIST as the student's failure)."""
    fresh = tmp_path / "fresh clone"
    for name in ("tools", "notebooks"):
        shutil.copytree(course.REPO_ROOT / name, fresh / name)
    shutil.copy(course.REPO_ROOT / "_config.yml", fresh / "_config.yml")
    folder = tmp_path / "hand-ins"
    folder.mkdir()
    nbformat.write(
        course.student_copy(course.read_notebook(FIRST_CHAPTER)),
        str(folder / f"{FIRST_CHAPTER.stem}.ipynb"),
    )
    no_network = "http://127.0.0.1:9"  # nothing listens there: downloads fail at once
    env = {
        **os.environ,
        "http_proxy": no_network,
        "https_proxy": no_network,
        "HTTP_PROXY": no_network,
        "HTTPS_PROXY": no_network,
    }
    env.pop("COURSE_DATA_DIR", None)
    run = subprocess.run(
        [
            sys.executable,
            str(fresh / "tools" / "grade.py"),
            str(folder),
            "--out",
            str(tmp_path / "out"),
            "--unsafe-no-sandbox",  # nothing may run anyway: the data comes first
        ],
        cwd=fresh,
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
    )
    assert run.returncode == 4, run.stdout + run.stderr
    assert "refusing to grade" in run.stderr and "MNIST" in run.stderr, run.stderr
    assert str(fresh / "data" / "MNIST" / "raw") in run.stderr, run.stderr
    assert not (tmp_path / "out").exists()


def userns_allowed_for(user: str) -> bool:
    probe = subprocess.run(
        [
            "setpriv",
            f"--reuid={user}",
            "--regid=nogroup",
            "--clear-groups",
            "bwrap",
            "--unshare-all",
            "--unshare-user",
            "--ro-bind",
            "/",
            "/",
            "true",
        ],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def python_for_everyone(venv: Path) -> str:
    """A Python the user nobody may run, with this environment's packages.

    This environment's interpreter may live where only root can read it (pyenv under
    /root); the system's Python of the same minor version, in a virtual environment
    layered on this one's site-packages (harness.layered_venv), can run the
    grader for anyone."""
    for candidate in (sys.executable, "/usr/bin/python3", "/usr/local/bin/python3"):
        real = os.path.realpath(candidate)
        if not os.path.exists(real):
            continue
        version = subprocess.run(
            [real, "-c", "import sys; print(sys.version_info[:2])"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        readable = all(
            os.stat(parent).st_mode & 0o005 == 0o005
            for parent in Path(real).parents
            if str(parent) != "/"
        )
        if version == str(sys.version_info[:2]) and readable:
            return str(layered_venv(venv, real))
    pytest.skip("no Python interpreter of this version that the user nobody may run")


@pytest.mark.slow
def test_grading_as_an_ordinary_user(course_data_dir):
    """Run as root, the test grades the official solutions as the user nobody: where
    the kernel lets ordinary users create user namespaces they pass; where it does
    not, grading refuses and says why."""
    if os.geteuid() != 0 or not shutil.which("setpriv") or not shutil.which("bwrap"):
        pytest.skip("needs root (to become nobody), setpriv and bwrap")
    base = Path(tempfile.mkdtemp(prefix="course nobody ", dir="/tmp"))
    try:
        shutil.copytree(course_data_dir / "MNIST", base / "data" / "MNIST")
        folder = base / "hand ins"
        folder.mkdir()
        official = course.read_notebook(FIRST_CHAPTER)
        parts = course.exercises(official)
        solved = with_answers(
            course.student_copy(official),
            {i: official.cells[p["solution"]].source for i, p in parts.items()},
        )
        nbformat.write(solved, str(folder / f"{FIRST_CHAPTER.stem}.ipynb"))
        for name in ("home", "tmp", "out"):
            (base / name).mkdir()
        python = python_for_everyone(base / "venv")
        subprocess.run(["chmod", "-R", "a+rwX", str(base)], check=True)
        run = run_grader(
            folder,
            base / "out",
            python=python,
            as_user=("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"),
            timeout=900,
            env={
                "PATH": os.environ["PATH"],
                "HOME": str(base / "home"),
                "TMPDIR": str(base / "tmp"),
                "COURSE_DATA_DIR": str(base / "data"),
            },
        )
        if not userns_allowed_for("nobody"):
            assert run.returncode == 3, run.stdout + run.stderr
            assert "user namespaces" in run.stderr, run.stderr
            return
        assert run.returncode == 0, run.stdout + run.stderr
        rows = json.loads((base / "out" / "grades.json").read_text())
        assert [r["status"] for r in rows] == ["pass"] * len(parts), rows
    finally:
        shutil.rmtree(base, ignore_errors=True)
