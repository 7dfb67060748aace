"""The GitHub workflow files validate against GitHub's workflow schema, offline.

They cannot run here, so this is what keeps them trustworthy: check-jsonschema's
vendored copy of the schema (`--builtin-schema vendor.github-workflows`, no network)
catches a misspelt key, a wrong type or a missing `runs-on`; the self-test below proves
that it does.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
import yaml

from tools import course

WORKFLOW_DIR = course.REPO_ROOT / ".github" / "workflows"
WORKFLOWS = sorted(WORKFLOW_DIR.glob("*.yml"))


def validate(*paths) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            *map(str, paths),
        ],
        check=False,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_the_workflows_are_there():
    assert {path.name for path in WORKFLOWS} >= {
        "ci.yml",
        "colab.yml",
        "linkcheck.yml",
        "pages.yml",
    }


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_workflow_matches_githubs_schema(path):
    run = validate(path)
    assert run.returncode == 0, (
        f"{path.name} does not validate:\n{run.stdout}\n{run.stderr}"
    )


def test_the_schema_check_catches_a_misspelt_key(tmp_path):
    """runs-on misspelt as run-on: the validator must reject it, or checks nothing."""
    text = (WORKFLOW_DIR / "ci.yml").read_text()
    assert "runs-on:" in text
    broken = tmp_path / "ci.yml"
    broken.write_text(text.replace("runs-on:", "run-on:", 1))
    run = validate(broken)
    assert run.returncode != 0, "a workflow with 'run-on' passed the schema check"
    assert "run-on" in run.stdout + run.stderr


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda path: path.name)
def test_actions_are_pinned_to_a_major_version(path):
    for step in _steps(yaml.safe_load(path.read_text())):
        if "uses" in step:
            assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", step["uses"]), (
                f"{path.name}: {step['uses']!r} is not pinned to a major version "
                "(owner/action@vN)"
            )


def test_ci_runs_what_the_readme_says():
    steps = list(_steps(yaml.safe_load((WORKFLOW_DIR / "ci.yml").read_text())))
    assert any(step.get("run", "").strip() == "bash .ci/run" for step in steps)


@pytest.mark.parametrize("name", ["colab.yml", "linkcheck.yml"])
def test_scheduled_checks_open_an_issue_on_failure(name):
    workflow = yaml.safe_load((WORKFLOW_DIR / name).read_text())
    # YAML 1.1 reads `on` as True
    triggers = workflow[True] if True in workflow else workflow["on"]
    assert "schedule" in triggers
    report = workflow["jobs"]["report"]
    assert report["if"] == "failure()" and report["permissions"] == {"issues": "write"}
    assert "gh issue create" in report["steps"][-1]["run"]


def test_pages_builds_the_site_and_pdf_on_main_and_publishes_them():
    """pages.yml: on pushes to main, `make pdf` (the PDF, then the site linking to it),
    then GitHub Pages' official actions publish _build/html."""
    workflow = yaml.safe_load((WORKFLOW_DIR / "pages.yml").read_text())
    triggers = workflow[True] if True in workflow else workflow["on"]
    assert triggers["push"] == {"branches": ["main"]}, triggers
    build, deploy = workflow["jobs"]["build"], workflow["jobs"]["deploy"]
    uses = [step.get("uses", "").split("@")[0] for step in build["steps"]]
    runs = [step.get("run", "").strip() for step in build["steps"]]
    assert "make pdf" in runs, "the site and the PDF are not built as `make pdf` does"
    assert uses.index("actions/configure-pages") < runs.index("make pdf")
    upload = build["steps"][uses.index("actions/upload-pages-artifact")]
    assert upload["with"]["path"] == "_build/html" and runs.index("make pdf") < (
        uses.index("actions/upload-pages-artifact")
    )
    assert deploy["needs"] == "build"
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert [s["uses"].split("@")[0] for s in deploy["steps"]] == [
        "actions/deploy-pages"
    ]
    assert workflow["permissions"] == {"contents": "read"}, (
        "only the deploy job may write to Pages"
    )


def test_colab_script_is_valid_bash():
    script = course.REPO_ROOT / ".github" / "colab" / "run_chapters.sh"
    run = subprocess.run(
        ["bash", "-n", str(script)], check=False, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr


def _steps(workflow):
    for job in workflow["jobs"].values():
        yield from job.get("steps", [])
