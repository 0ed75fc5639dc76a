#!/usr/bin/env bash
# The project's own Jupyter: a virtual environment in .venv (ignored by git) with the exact packages of
# requirements/jupyter.txt (JupyterLab 4, Notebook 7, nbclient, nbconvert), installed with their hashes
# checked. Made on first use and again when the lock file changes; `rm -rf .venv` removes it all.
# To be sourced: defines gpt2_lab_venv_python, which prints the environment's python (or fails, saying why).

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

gpt2_lab_venv_python() {
  local stamp="$GPT2_LAB_VENV/gpt2-lab-lock.sha256" want base
  want="$(sha256sum "$GPT2_LAB_LOCK" 2>/dev/null | cut -d' ' -f1 || shasum -a 256 "$GPT2_LAB_LOCK" | cut -d' ' -f1)"
  if [ -x "$GPT2_LAB_VENV/bin/python" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    echo "$GPT2_LAB_VENV/bin/python"
    return 0
  fi
  if ! base="$(gpt2_lab_base_python)"; then
    gpt2_lab_no_python
    return 1
  fi
  local started=$SECONDS
  echo "Installing Jupyter into $GPT2_LAB_VENV (JupyterLab 4 and Notebook 7 from requirements/jupyter.txt, about 260 MB;" >&2
  echo "  the first time takes a minute or two, later starts reuse it; rm -rf .venv removes it)..." >&2
  if [ ! -x "$GPT2_LAB_VENV/bin/python" ]; then
    "$base" -m venv "$GPT2_LAB_VENV" || { echo "Could not create $GPT2_LAB_VENV with $base (Debian/Ubuntu: sudo apt-get install python3-venv)." >&2; return 1; }
  fi
  rm -f "$stamp"
  if ! "$GPT2_LAB_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --require-hashes -r "$GPT2_LAB_LOCK" >&2; then
    echo "Installing Jupyter from requirements/jupyter.txt failed (see above); PyPI must be reachable for the first start." >&2
    return 1
  fi
  echo "$want" >"$stamp"
  echo "Jupyter installed in $((SECONDS - started)) s." >&2
  echo "$GPT2_LAB_VENV/bin/python"
}
