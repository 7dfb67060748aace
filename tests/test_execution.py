"""Every chapter runs top to bottom in an empty directory; its results match what the chapter claims.

What a chapter claims lives in tests/claims/<chapter>.json: for each key of its `results` cell,
an exact value, or {"min": a, "max": b} for a measured quantity.
"""
from __future__ import annotations

import json

import pytest

from conftest import chapter_params
from tools import course

CLAIMS_DIR = course.REPO_ROOT / "tests" / "claims"


def claims_of(path) -> dict:
    return json.loads((CLAIMS_DIR / f"{path.stem}.json").read_text())


def test_every_chapter_has_claims():
    assert sorted(p.stem for p in CLAIMS_DIR.glob("*.json")) == [p.stem for p in course.chapter_paths()]


@pytest.mark.parametrize("path", chapter_params())
def test_claims_name_stored_results(path):
    """Claims and the committed results cell agree on keys, and the stored values satisfy them."""
    check_results(course.results_of(course.read_notebook(path)), claims_of(path))


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_fresh_results_match_claims(path, executions):
    execution = executions(path)
    assert execution.record is not None, f"the chapter did not run to its end.\n{execution.failure()}"
    check_results(execution.record["results"], claims_of(path))


def check_results(results: dict, claims: dict) -> None:
    for key, value in results.items():
        assert isinstance(value, (int, float, str)), f"results[{key!r}] is a {type(value).__name__}"
    for key, claim in claims.items():
        assert key in results, f"the results cell has no {key!r}"
        if isinstance(claim, dict):
            assert claim["min"] <= results[key] <= claim["max"], (
                f"{key} = {results[key]}, claimed between {claim['min']} and {claim['max']}")
        else:
            assert results[key] == claim, f"{key} = {results[key]!r}, claimed {claim!r}"
