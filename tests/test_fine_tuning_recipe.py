"""Chapter 9's torchvision recipe runs without the ImageNet weights, which no test
machine can download.

By default the recipe is off (it downloads 45 MB). These tests switch it on through
papermill parameters, with the rest of the chapter shrunk to a few steps so that they
stay fast:
- with `RECIPE_WEIGHTS=None` on `torchvision.datasets.FakeData`, the recipe's code runs
  end to end, trains only layer4 and the new fc, and reloads its checkpoint;
- with the ImageNet weights and no network, it says so clearly and stops only its own
  section.
"""

from __future__ import annotations

import pytest

from tools import course, execution

CHAPTER = course.NOTEBOOK_DIR / "09_fine_tuning.ipynb"
SMALL = {  # the experiment cut to a minimum; only the recipe matters here
    "PRETRAIN_STEPS": 5,
    "SHOTS": [2, 3],
    "N_SEEDS": 2,
    "VALIDATION_PER_CLASS": 5,
    "BUDGETS": [1, 2],
    "PROBE_BUDGETS": [1, 2],
    "RECIPE_SHOTS": 2,
    "RECIPE_EPOCHS": 1,
    "RECIPE_TEST_IMAGES": 6,
}


def run_chapter(data_dir, tmp_path, parameters):
    """The chapter executed with `parameters` in tmp_path/workdir; the executed
    notebook."""
    (tmp_path / "workdir").mkdir()
    return execution.execute(
        course.read_notebook(CHAPTER),
        data_dir,
        parameters=parameters,
        timeout=600,
        workdir=tmp_path / "workdir",
    ).notebook


def stdout_of(notebook) -> str:
    return "\n".join(
        output.get("text", "")
        for cell in notebook.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
        if output.get("name") == "stdout"
    )


@pytest.mark.slow
def test_recipe_runs_with_random_weights_on_fake_data(course_data_dir, tmp_path):
    parameters = dict(
        SMALL, RUN_TORCHVISION_RECIPE=True, RECIPE_WEIGHTS=None, RECIPE_DATA="fake"
    )
    executed = run_chapter(course_data_dir, tmp_path, parameters)
    results = course.results_of(executed)
    assert results["recipe_status"] == "ran", results["recipe_status"]
    assert 0.0 <= results["recipe_test_accuracy"] <= 1.0
    assert (tmp_path / "workdir" / "resnet18_finetuned.pt").is_file(), (
        "the fine-tuned checkpoint was not saved"
    )
    printed = stdout_of(executed)
    assert "reloaded checkpoint, same accuracy: True" in printed, printed[-2000:]
    # ResNet-18 with 5 classes: layer4 has 8,393,728 parameters, the new fc 512 * 5 + 5
    assert "trainable: 8,396,293 of 11,179,077 parameters" in printed, (
        "only layer4 and the new fc should train"
    )


@pytest.mark.slow
def test_failed_weight_download_stops_only_the_recipe(
    course_data_dir, tmp_path, monkeypatch, no_network
):
    # no cached weights
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    parameters = dict(
        SMALL, RUN_TORCHVISION_RECIPE=True, RECIPE_WEIGHTS="DEFAULT", RECIPE_DATA="fake"
    )
    executed = run_chapter(course_data_dir, tmp_path, parameters)
    results = course.results_of(executed)  # the chapter ran to its end
    assert results["recipe_status"] == "download failed", results["recipe_status"]
    assert results["recipe_test_accuracy"] == -1.0  # the recipe did not run
    printed = stdout_of(executed)
    assert (
        "could not be downloaded" in printed and "This section stops here" in printed
    ), printed[-2000:]
    assert "Exercise 9.5: correct" in printed, (
        "the sections after the recipe did not run"
    )
