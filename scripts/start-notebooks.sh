#!/usr/bin/env bash
# `npm start`: builds the library, sets up Jupyter and the tslab kernel for this checkout
# (scripts/jupyter-env.sh: a JupyterLab 4 you have, or the project's own in .venv, installed on first
# use) and opens the notebooks in JupyterLab. The model comes from GPT2_LAB_MODEL (see
# notebooks/README.md); extra arguments go to JupyterLab.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

echo "Building the library (dist/)..."
# tsc still writes dist/ when it reports type errors; show them, but open the notebooks anyway.
node node_modules/typescript/bin/tsc -p . || echo "tsc reported errors (above); the notebooks use what it emitted."

# shellcheck source=jupyter-env.sh
source "$ROOT/scripts/jupyter-env.sh" --user-jupyter

root_flag=()
[ "$(id -u)" = "0" ] && root_flag=(--allow-root)

if ! "$GPT2_LAB_PYTHON" -c "import jupyterlab" >/dev/null 2>&1; then
  echo "$GPT2_LAB_PYTHON has no JupyterLab: pip install jupyterlab there, or unset GPT2_LAB_PYTHON to use the project's own." >&2
  exit 1
fi
echo "Opening JupyterLab on notebooks/ (Ctrl+C here stops it)."
exec "$GPT2_LAB_PYTHON" -m jupyterlab --ServerApp.root_dir="$ROOT" --LabApp.default_url=/lab/tree/notebooks "${root_flag[@]}" "$@"
