#!/usr/bin/env bash
# Runs inside Colab's runtime image (.github/workflows/colab.yml), from the repository root:
#   docker run --rm --entrypoint bash -v "$PWD:/course" -w /course \
#     us-docker.pkg.dev/colab-images/public/runtime:latest -l .github/colab/run_chapters.sh
# Every chapter runs with papermill in an empty folder, as a learner runs it in Colab; then the
# tests re-execute them to compare outputs, check claims and probe the exercises.
# Executed notebooks and Colab's versions go to colab-run/. Exits non-zero if anything failed.
set -uo pipefail
mkdir -p colab-run
python --version | tee colab-run/versions.txt
# Colab's versions of the packages the chapters import: installing the test tools must not move them.
pip list --format=freeze \
  | grep -iE '^(torch|torchvision|numpy|matplotlib|scikit-learn|tqdm)==' \
  | tee -a colab-run/versions.txt > /tmp/colab-constraints.txt
grep -E '^(papermill|nbformat|nbval|pytest|PyYAML)==' requirements.txt > /tmp/test-tools.txt
pip install --quiet --constraint /tmp/colab-constraints.txt -r /tmp/test-tools.txt || exit 1

export COURSE_DATA_DIR="$PWD/data"  # torchvision downloads MNIST here once
status=0
for notebook in notebooks/*.ipynb; do
  echo "::group::papermill $notebook"
  if ! papermill --cwd "$(mktemp -d)" --kernel python3 "$notebook" "colab-run/$(basename "$notebook")"; then
    echo "::error::$notebook failed on Colab's runtime"
    status=1
  fi
  echo "::endgroup::"
done

python -m pytest -m slow tests/test_nbval.py tests/test_execution.py tests/test_exercises.py || status=1
exit $status
