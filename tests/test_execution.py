"""Every chapter runs top to bottom in an empty directory; its results match its claims.

What a chapter claims lives in tests/claims/<chapter>.json: for each key of its
`results` cell, an exact value, or {"min": a, "max": b} for a measured quantity (see
course.claim_failures). The claims must also hold for seeds 0 to 4: `make seeds` checks
that, outside `make test`.
"""

from __future__ import annotations

import pytest

from harness import chapter_params
from tools import course


def test_every_chapter_has_claims():
    assert sorted(p.stem for p in course.CLAIMS_DIR.glob("*.json")) == [
        p.stem for p in course.chapter_paths()
    ]


@pytest.mark.parametrize("path", chapter_params())
def test_claims_and_stored_results_agree(path):
    """Claims and the stored results cell name the same keys; the stored values hold."""
    results = course.results_of(course.read_notebook(path))
    claims = course.claims_of(path)
    assert not course.claim_failures(results, claims), course.claim_failures(
        results, claims
    )
    unclaimed = sorted(set(results) - set(claims))
    assert not unclaimed, (
        f"results {unclaimed} are claimed nothing about: add them to "
        f"tests/claims/{path.stem}.json (a range is enough) or drop them from the "
        "results cell"
    )


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_fresh_results_match_claims(path, executions):
    run = executions(path)
    assert run.record is not None, (
        f"the chapter did not run to its end.\n{run.failure()}"
    )
    failures = course.claim_failures(run.record["results"], course.claims_of(path))
    assert not failures, "\n".join(failures)


def test_make_seeds_does_not_run_the_default_thread_count_twice(monkeypatch):
    """`make seeds` runs "default", 1 and 2 threads; where torch's default is one of
    the numbers (2 on a 2-core machine) the same run would be made twice."""
    from tools import seeds

    monkeypatch.setattr(seeds, "torch_default_threads", lambda: 2)
    assert seeds.distinct(["default", "1", "2"]) == ["1", "2"]
    monkeypatch.setattr(seeds, "torch_default_threads", lambda: 8)
    assert seeds.distinct(["default", "1", "2"]) == ["default", "1", "2"]
    assert seeds.distinct(["1"]) == ["1"]
