#!/usr/bin/env bash
# Sets up Jupyter for this checkout, to be sourced by the other scripts: finds a Python that has
# Jupyter, registers tslab's TypeScript kernel (`tslab`, and `jslab`) under build/jupyter rather than in
# ~/.local, and exports JUPYTER_PATH so that Jupyter finds it. The kernel spec points at this
# checkout's node_modules/.bin/tslab, so `require("tslab")` in lib/display.ts talks to the running kernel.
# Leaves out: installing Jupyter itself (see notebooks/README.md).

GPT2_LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# A Python that can import jupyter_client: $GPT2_LAB_PYTHON, the one behind `jupyter`, python3, /usr/bin/python3.
gpt2_lab_find_python() {
  local candidates=()
  [ -n "${GPT2_LAB_PYTHON:-}" ] && candidates+=("$GPT2_LAB_PYTHON")
  local jupyter_bin shebang
  jupyter_bin="$(command -v jupyter 2>/dev/null || true)"
  if [ -n "$jupyter_bin" ]; then
    shebang="$(head -n 1 "$jupyter_bin" 2>/dev/null || true)"
    case "$shebang" in "#!"*python*) candidates+=("${shebang#\#!}") ;; esac
  fi
  candidates+=(python3 /usr/bin/python3)
  local python
  for python in "${candidates[@]}"; do
    # shellcheck disable=SC2086 # a shebang may carry arguments (`/usr/bin/env python3`)
    if $python -c "import jupyter_client" >/dev/null 2>&1; then
      echo "$python"
      return 0
    fi
  done
  return 1
}

if ! GPT2_LAB_PYTHON="$(gpt2_lab_find_python)"; then
  echo "No Python with Jupyter found (tried \$GPT2_LAB_PYTHON, jupyter's own, python3, /usr/bin/python3)." >&2
  echo "Install Jupyter, e.g. on Debian/Ubuntu: sudo apt-get install jupyter-notebook jupyter-nbconvert python3-nbclient jupyter-client" >&2
  echo "or with pip: pip install notebook nbclient nbconvert (then set GPT2_LAB_PYTHON to that python)." >&2
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
# so a moved checkout still points at its own tslab).
GPT2_LAB_JUPYTER_PREFIX="$GPT2_LAB_ROOT/build/jupyter"
if ! "$GPT2_LAB_ROOT/node_modules/.bin/tslab" install --python="$GPT2_LAB_PYTHON" \
  --binary="$GPT2_LAB_ROOT/node_modules/.bin/tslab" --prefix="$GPT2_LAB_JUPYTER_PREFIX" >/dev/null; then
  echo "Could not register the tslab kernel with $GPT2_LAB_PYTHON (see the error above)." >&2
  return 1 2>/dev/null || exit 1
fi
export JUPYTER_PATH="$GPT2_LAB_JUPYTER_PREFIX/share/jupyter${JUPYTER_PATH:+:$JUPYTER_PATH}"
