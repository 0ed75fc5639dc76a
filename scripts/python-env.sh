#!/usr/bin/env bash
# The project's Python environments, each a virtual environment (ignored by git) with the exact
# packages of a lock file, made on first use and again when the lock file changes:
#   .venv            requirements/jupyter.txt: JupyterLab 4, Notebook 7, nbclient, nbconvert (hashes checked)
#   .venv-reference  requirements/reference.txt: transformers and PyTorch's CPU build, for the parity tests
# To be sourced: defines gpt2_lab_venv_python and gpt2_lab_reference_python, which print the
# environment's python (or fail, saying why). `rm -rf .venv .venv-reference` removes them.

GPT2_LAB_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
GPT2_LAB_VENV="$GPT2_LAB_ROOT/.venv"
GPT2_LAB_LOCK="$GPT2_LAB_ROOT/requirements/jupyter.txt"

# A Python 3.10 or newer (JupyterLab 4.6 needs it): python3, then versioned names.
gpt2_lab_base_python() {
  local python
  for python in python3 python3.14 python3.13 python3.12 python3.11 python3.10 python; do
    if command -v "$python" >/dev/null 2>&1 &&
      "$python" -c 'import sys, venv; sys.exit(sys.version_info < (3, 10))' >/dev/null 2>&1; then
      command -v "$python"
      return 0
    fi
  done
  return 1
}

gpt2_lab_no_python() {
  cat >&2 <<'MSG'
Jupyter needs Python 3.10 or newer with its venv module, and none was found (tried python3, python3.1x, python).
  Debian/Ubuntu:  sudo apt-get install python3 python3-venv
  Fedora:         sudo dnf install python3
  macOS:          brew install python   (or the installer from python.org)
  Windows:        winget install Python.Python.3.12   (then run npm start from Git Bash or WSL)
Then run `npm start` again. A Python that has Jupyter already can be named with GPT2_LAB_PYTHON=/path/to/python.
MSG
}

# gpt2_lab_make_venv DIR LOCK WHAT [PIP OPTION...]: the python of DIR, installing LOCK first when needed.
gpt2_lab_make_venv() {
  local venv="$1" lock="$2" what="$3" stamp="$1/gpt2-lab-lock.sha256" want base
  shift 3
  want="$(sha256sum "$lock" 2>/dev/null | cut -d' ' -f1 || shasum -a 256 "$lock" | cut -d' ' -f1)"
  if [ -x "$venv/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "$venv/bin/python"
    return 0
  fi
  if ! base="$(gpt2_lab_base_python)"; then
    gpt2_lab_no_python
    return 1
  fi
  local started=$SECONDS
  echo "Installing $what into $venv from ${lock#"$GPT2_LAB_ROOT"/}; the first time takes a minute or two," >&2
  echo "  later runs reuse it (rm -rf ${venv#"$GPT2_LAB_ROOT"/} removes it)..." >&2
  if [ ! -x "$venv/bin/python" ]; then
    "$base" -m venv "$venv" || { echo "Could not create $venv with $base (Debian/Ubuntu: sudo apt-get install python3-venv)." >&2; return 1; }
  fi
  rm -f "$stamp"
  if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$@" -r "$lock" >&2; then
    echo "Installing $what from ${lock#"$GPT2_LAB_ROOT"/} failed (see above); PyPI must be reachable the first time." >&2
    return 1
  fi
  echo "$want" >"$stamp"
  echo "$what installed in $((SECONDS - started)) s." >&2
  echo "$venv/bin/python"
}

# Jupyter (about 260 MB).
gpt2_lab_venv_python() {
  gpt2_lab_make_venv "$GPT2_LAB_VENV" "$GPT2_LAB_LOCK" "Jupyter (JupyterLab 4, Notebook 7, about 260 MB)" --require-hashes
}

# transformers 4.46 and PyTorch 2.13 (CPU build, about 700 MB): the reference of the parity tests.
gpt2_lab_reference_python() {
  gpt2_lab_make_venv "$GPT2_LAB_ROOT/.venv-reference" "$GPT2_LAB_ROOT/requirements/reference.txt" "transformers and PyTorch (CPU)"
}
