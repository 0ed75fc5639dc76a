#!/usr/bin/env bash
# `npm start`: builds the library, registers the tslab kernel for this checkout (scripts/jupyter-env.sh)
# and opens the notebooks in JupyterLab if it is installed, else in the classic Jupyter Notebook.
# The model comes from GPT2_LAB_MODEL (see notebooks/README.md); extra arguments go to Jupyter.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "Building the library (dist/)..."
# tsc still writes dist/ when it reports type errors; show them, but open the notebooks anyway.
node node_modules/typescript/bin/tsc -p . || echo "tsc reported errors (above); the notebooks use what it emitted."

# shellcheck source=jupyter-env.sh
source "$ROOT/scripts/jupyter-env.sh"

root_flag=()
[ "$(id -u)" = "0" ] && root_flag=(--allow-root)

if "$GPT2_LAB_PYTHON" -c "import jupyterlab" >/dev/null 2>&1; then
  exec "$GPT2_LAB_PYTHON" -m jupyterlab --ServerApp.root_dir="$ROOT" --LabApp.default_url=/lab/tree/notebooks "${root_flag[@]}" "$@"
elif "$GPT2_LAB_PYTHON" -c "import notebook" >/dev/null 2>&1; then
  exec "$GPT2_LAB_PYTHON" -m notebook --notebook-dir="$ROOT" --NotebookApp.default_url=/tree/notebooks "${root_flag[@]}" "$@"
else
  cat >&2 <<'MSG'
Neither JupyterLab nor the Jupyter Notebook is installed for this Python.
Install one of them, then run `npm start` again:
  Debian/Ubuntu:  sudo apt-get install jupyter-notebook jupyter-client
  pip:            pip install jupyterlab        (or: pip install notebook)
If Jupyter lives in another Python, point GPT2_LAB_PYTHON at that interpreter.
MSG
  exit 1
fi
