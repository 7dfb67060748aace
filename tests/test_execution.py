"""Every chapter runs top to bottom in a fresh directory; its results match what the chapter claims."""
from __future__ import annotations

import pytest

from conftest import chapter_params
from tools import course

# What each chapter claims, checked against the `results` cell of a fresh execution: an exact
# value, or a (low, high) range for measured quantities. A new chapter adds its entry here.
CLAIMS = {
    "01_tensors": {
        "default_dtype": "torch.float32",
        "broadcast_shape": "3x4",
        "matmul_matches_formula": True,
        "mnist_test_images": 10_000,
        "digit_shape": "28x28",
        "digit_label": 7,
        "digit_bright_fraction": (0.05, 0.2),
    },
}


def test_every_chapter_has_claims():
    assert sorted(CLAIMS) == [path.stem for path in course.chapter_paths()]


@pytest.mark.slow
@pytest.mark.parametrize("path", chapter_params())
def test_results_match_claims(path, probed_executions):
    results = course.results_of(probed_executions(path).notebook)
    for key, value in results.items():
        assert isinstance(value, (int, float, str)), f"results[{key!r}] is a {type(value).__name__}"
    for key, claim in CLAIMS[path.stem].items():
        assert key in results, f"the results cell has no {key!r}"
        if isinstance(claim, tuple):
            low, high = claim
            assert low <= results[key] <= high, f"{key} = {results[key]}, claimed in [{low}, {high}]"
        else:
            assert results[key] == claim, f"{key} = {results[key]!r}, claimed {claim!r}"

