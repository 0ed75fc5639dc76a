#!/usr/bin/env bash
# `npm run test:notebooks`: executes every notebook headless (test/notebooks/run-notebooks.py: nbclient,
# tslab kernel, HTML export to build/notebooks/), runs each exercise with wrong answers
# (test/notebooks/wrong-answers.py), executes the notebooks again on two random models, checks that a
# kernel slow to bind its sockets answers its first request (test/notebooks/kernel-start.py), interrupts
# the kernel in every common cell shape
# (test/notebooks/interrupt-kernel.py), then runs the notebooks in JupyterLab 4 and Notebook 7 in Chromium
# (test/notebooks/lab-check.mjs); screenshots in build/screenshots/. Jupyter comes from the project's
# .venv (scripts/jupyter-env.sh), made on first use. Exits non-zero if any check fails.
# `--no-browser` skips the interrupt and browser parts.
# Model: GPT2_LAB_MODEL if set, else the built-in `shakespeare` model if its files are present, else a tiny
# random GPT-2 made once in build/tiny-model (fast; its text is gibberish but every cell runs).
set -uo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

browser=1
notebooks=()
for arg in "$@"; do
  case "$arg" in
    --no-browser) browser=0 ;;
    *) notebooks+=("$arg") ;;
  esac
done

start=$(date +%s)
node node_modules/typescript/bin/tsc -p . >/dev/null || echo "tsc reported type errors; testing with what it emitted (run \`npm run build\` to see them)."
# shellcheck source=jupyter-env.sh
source "$ROOT/scripts/jupyter-env.sh" || exit 1
echo "Jupyter: $GPT2_LAB_PYTHON"

if [ -z "${GPT2_LAB_MODEL:-}" ]; then
  if [ -f "$ROOT/models/shakespeare/config.json" ]; then
    GPT2_LAB_MODEL=shakespeare
  else
    GPT2_LAB_MODEL="$ROOT/build/tiny-model"
    if [ ! -f "$GPT2_LAB_MODEL/config.json" ]; then
      node bin/gpt2-lab.js make-model --shape tiny --out "$GPT2_LAB_MODEL" || exit 1
    fi
  fi
fi
export GPT2_LAB_MODEL

status=0
"$GPT2_LAB_PYTHON" test/notebooks/run-notebooks.py "${notebooks[@]}" || status=1
"$GPT2_LAB_PYTHON" test/notebooks/wrong-answers.py || status=1
"$GPT2_LAB_PYTHON" test/notebooks/kernel-start.py || status=1
# The notebooks again on two random models (the `tiny` shape and GPT-2's own, seeded), so that a
# sentence true only of the built-in model, or a self-check that only it passes, fails here.
for shape in tiny gpt2; do
  random_model="$ROOT/build/random-$shape-seed-3"
  if [ ! -f "$random_model/config.json" ]; then
    node bin/gpt2-lab.js make-model --shape "$shape" --seed 3 --out "$random_model" --force >/dev/null || exit 1
  fi
  GPT2_LAB_MODEL="$random_model" "$GPT2_LAB_PYTHON" test/notebooks/run-notebooks.py --out "build/notebooks-random-$shape" "${notebooks[@]}" || status=1
done
if [ "$browser" = 1 ]; then
  # A random model at GPT-2's own shape, made once: converting and inspecting it takes long enough to interrupt.
  big_model="$ROOT/build/gpt2-random"
  if [ ! -f "$big_model/config.json" ]; then
    node bin/gpt2-lab.js make-model --shape gpt2 --seed 0 --out "$big_model" >/dev/null || exit 1
  fi
  "$GPT2_LAB_PYTHON" test/notebooks/interrupt-kernel.py "$big_model" || status=1
  node test/notebooks/lab-check.mjs "${notebooks[@]}" || status=1
fi
echo "notebook tests took $(( $(date +%s) - start )) s"
exit "$status"
