"""Chapter 9's torchvision recipe runs without the ImageNet weights, which no test
machine can download.

The recipe runs on every execution of the chapter, with random weights by default
(`IMAGENET_WEIGHTS = False`). These tests run the chapter through papermill with the
experiment shrunk to a few steps, so that they stay fast:
- with random weights, the recipe's code runs end to end on MNIST, trains only layer4
  and the new fc, and reloads its checkpoint, which gives the same outputs;
- asked for the ImageNet weights without a network, it says clearly that they could not
  be downloaded, continues with random weights, and the chapter runs to its end.
"""

from __future__ import annotations

import pytest

from tools import course, execution

CHAPTER = course.NOTEBOOK_DIR / "09_fine_tuning.ipynb"
SMALL = {  # the experiment cut to a minimum; only the recipe matters here
    "PRETRAIN_STEPS": 5,
    "SHOTS": [2, 3],
    "N_RUNS": 2,
    "RATES": [1e-2],  # one learning rate, nothing to widen to
    "FIRST_RATES": [0, 0],
    "EVAL_EVERY": 2,
    "PATIENCE": 1,
    "MAX_STEPS": 4,
    "RECIPE_TRAIN_IMAGES": 4,
    "RECIPE_TEST_IMAGES": 4,
    "RECIPE_EPOCHS": 1,
}
# ResNet-18 with 10 classes: layer4 has 8,393,728 parameters, the new fc 512 * 10 + 10
TRAINABLE = "trainable: 8,398,858 of 11,181,642 parameters"


def run_chapter(data_dir, tmp_path, parameters):
    """The chapter executed with `parameters` in tmp_path/workdir; the executed
    notebook."""
    (tmp_path / "workdir").mkdir()
    return execution.execute(
        course.read_notebook(CHAPTER),
        data_dir,
        parameters=parameters,
        timeout=600,
        record_results=True,
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
def test_recipe_runs_with_random_weights(course_data_dir, tmp_path):
    executed = run_chapter(course_data_dir, tmp_path, dict(SMALL))
    results = course.results_of(executed)
    assert 0.0 <= results["recipe_test_accuracy"] <= 1.0
    assert (tmp_path / "workdir" / "resnet18_digits.pt").is_file(), (
        "the fine-tuned checkpoint was not saved"
    )
    printed = stdout_of(executed)
    assert "pretrained weights: False" in printed, printed[-2000:]
    assert "reloaded, same outputs: True" in printed, printed[-2000:]
    assert TRAINABLE in printed, "only layer4 and the new fc should train"


@pytest.mark.slow
def test_failed_weight_download_falls_back_to_random_weights(
    course_data_dir, tmp_path, monkeypatch, no_network
):
    # no cached weights
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "empty-torch-home"))
    parameters = dict(SMALL, IMAGENET_WEIGHTS=True)
    executed = run_chapter(course_data_dir, tmp_path, parameters)
    results = course.results_of(executed)  # the chapter ran to its end
    assert 0.0 <= results["recipe_test_accuracy"] <= 1.0
    printed = stdout_of(executed)
    assert (
        "could not be downloaded" in printed
        and "continues with random weights" in printed
    ), printed[-2000:]
    assert TRAINABLE in printed, "the recipe did not go on after the failed download"
