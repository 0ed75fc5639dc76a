#!/usr/bin/env bash
# Builds JupyterLab 3.6.8 for the browser check (test/jupyterlab: npm ci, then webpack) unless a build of
# the same sources is cached, and prints the folder that holds it. The cache is keyed by a hash of the
# lockfile and the build's sources: $GPT2_LAB_JUPYTERLAB_CACHE, else ~/.cache/gpt2-lab/jupyterlab.
# Needs the npm registry the first time; about 30 s to install and 45 s to build on 2 cores.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
APP="$ROOT/test/jupyterlab"
key="$(cat "$APP/package-lock.json" "$APP/index.js" "$APP/webpack.config.js" | sha256sum | cut -c1-16)"
cache="${GPT2_LAB_JUPYTERLAB_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/gpt2-lab/jupyterlab}/$key"
if [ ! -f "$cache/bundle.js" ]; then
  echo "Building JupyterLab for the browser check (cached in $cache)" >&2
  (cd "$APP" && npm ci --no-audit --no-fund --loglevel=error >&2 && npm run build --silent >&2)
  # Copied whole under a temporary name, then renamed: a cache entry is complete or absent.
  mkdir -p "$(dirname "$cache")"
  rm -rf "$cache.partial"
  cp -r "$APP/build" "$cache.partial"
  mv "$cache.partial" "$cache"
fi
echo "$cache"
