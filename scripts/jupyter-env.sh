#!/usr/bin/env bash
# Sets up Jupyter for this checkout, to be sourced by the other scripts: picks the Python whose Jupyter
# runs the notebooks, registers tslab's TypeScript kernel (`tslab`, and `jslab`) under build/jupyter
# rather than in ~/.local, and exports JUPYTER_PATH so that Jupyter finds it. The kernel spec points at
# this checkout's tslab (through bin/tslab-kernel.js), so `require("tslab")` in lib/display.ts talks to the kernel.
# The Python: $GPT2_LAB_PYTHON if set; for `npm start` (called with --user-jupyter), a `jupyter` on PATH
# whose JupyterLab is 4 or newer; else the project's own .venv (scripts/python-env.sh), made on first use.

# shellcheck source=python-env.sh
source "$(dirname "${BASH_SOURCE[0]}")/python-env.sh"

# The Python behind a `jupyter` on PATH, if its JupyterLab is 4 or newer.
gpt2_lab_user_jupyter() {
  local jupyter_bin shebang python
  jupyter_bin="$(command -v jupyter 2>/dev/null)" || return 1
  shebang="$(head -n 1 "$jupyter_bin" 2>/dev/null)"
  case "$shebang" in "#!"*python*) python="${shebang#\#!}" ;; *) return 1 ;; esac
  # shellcheck disable=SC2086 # a shebang may carry arguments (`/usr/bin/env python3`)
  $python -c 'import sys, jupyterlab, jupyter_client; sys.exit(int(jupyterlab.__version__.split(".")[0]) < 4)' >/dev/null 2>&1 || return 1
  echo "$python"
}

if [ -n "${GPT2_LAB_PYTHON:-}" ]; then
  if ! "$GPT2_LAB_PYTHON" -c "import jupyter_client" >/dev/null 2>&1; then
    echo "GPT2_LAB_PYTHON=$GPT2_LAB_PYTHON cannot import jupyter_client: install Jupyter there, or unset it to use the project's own." >&2
    return 1 2>/dev/null || exit 1
  fi
elif [ "${1:-}" = "--user-jupyter" ] && GPT2_LAB_PYTHON="$(gpt2_lab_user_jupyter)"; then
  echo "Using the Jupyter of $GPT2_LAB_PYTHON (set GPT2_LAB_PYTHON to choose another)." >&2
elif ! GPT2_LAB_PYTHON="$(gpt2_lab_venv_python)"; then
  return 1 2>/dev/null || exit 1
fi
export GPT2_LAB_PYTHON
# Keeps debugpy (imported by ipykernel's tools) from printing a warning on every Jupyter command.
export PYDEVD_DISABLE_FILE_VALIDATION=1

if [ ! -x "$GPT2_LAB_ROOT/node_modules/.bin/tslab" ]; then
  echo "tslab is missing from node_modules: run \`npm install\` in $GPT2_LAB_ROOT first." >&2
  return 1 2>/dev/null || exit 1
fi

# Register the kernels with tslab's own installer, into a prefix inside build/ (rewritten every time,
# so a moved checkout still points at its own tslab). Jupyter starts them through bin/tslab-kernel.js:
# tslab with its sockets bound in an order that loses no request.
GPT2_LAB_JUPYTER_PREFIX="$GPT2_LAB_ROOT/build/jupyter"
if ! "$GPT2_LAB_ROOT/node_modules/.bin/tslab" install --python="$GPT2_LAB_PYTHON" \
  --binary="$GPT2_LAB_ROOT/bin/tslab-kernel.js" --prefix="$GPT2_LAB_JUPYTER_PREFIX" >/dev/null; then
  echo "Could not register the tslab kernel with $GPT2_LAB_PYTHON (see the error above)." >&2
  return 1 2>/dev/null || exit 1
fi
export JUPYTER_PATH="$GPT2_LAB_JUPYTER_PREFIX/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
