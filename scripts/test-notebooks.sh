#!/usr/bin/env bash
# `npm run test:notebooks`: executes every notebook headless (test/notebooks/run-notebooks.py: nbclient,
# tslab kernel, HTML export to build/notebooks/), then runs them again from the browser UI and opens the
# HTML exports (test/notebooks/browser-check.mjs), and in real JupyterLab (test/notebooks/jupyterlab-check.mjs,
# on a build from scripts/jupyterlab-build.sh); screenshots in build/screenshots/. Exits non-zero if any
# notebook fails a check. `--no-browser` skips the browser part.
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
if [ "$browser" = 1 ]; then
  node test/notebooks/browser-check.mjs "${notebooks[@]}" || status=1
  # The same notebooks in real JupyterLab (built once, then cached).
  if lab_build="$(bash scripts/jupyterlab-build.sh)"; then
    GPT2_LAB_JUPYTERLAB_BUILD="$lab_build" node test/notebooks/jupyterlab-check.mjs "${notebooks[@]}" || status=1
  else
    echo "JupyterLab could not be built for the browser check (see above)"
    status=1
  fi
fi
echo "notebook tests took $(( $(date +%s) - start )) s"
exit "$status"
