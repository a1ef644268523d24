#!/usr/bin/env bash
# Builds the npm package `smartgate` into wasm/pkg/ (idempotent; the test command runs it).
#
#   wasm/build.sh            every algorithm (ES256, ES384, RS256/384/512, PS256/384)
#   wasm/build.sh --es256    the ES256-only package, into wasm/pkg-es256/
#
# One cargo build (profile wasm-release: LTO, codegen-units = 1, opt-level "s",
# panic = "abort"), then wasm-bindgen twice over the same .wasm: the `nodejs` glue (CJS,
# synchronous instantiation, no init call) and the `web` glue (ESM, `await init()`). Both
# targets emit byte-identical .wasm files (checked below), so the package ships one.
# The public API (js/api/*.js) is written once and concatenated into both entries.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)

features=()
out="$here/pkg"
if [ "${1:-}" = "--es256" ]; then
  features=(--no-default-features)
  out="$here/pkg-es256"
fi

cd "$root"
cargo build --profile wasm-release --target wasm32-unknown-unknown -p smartgate-wasm "${features[@]}"
target_dir=${CARGO_TARGET_DIR:-$root/target}
wasm="$target_dir/wasm32-unknown-unknown/wasm-release/smartgate_wasm.wasm"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
wasm-bindgen --target nodejs --remove-name-section --remove-producers-section --out-dir "$tmp/node" --out-name smartgate "$wasm"
wasm-bindgen --target web --remove-name-section --remove-producers-section --out-dir "$tmp/web" --out-name smartgate "$wasm"
cmp "$tmp/node/smartgate_bg.wasm" "$tmp/web/smartgate_bg.wasm"

rm -rf "$out"
mkdir -p "$out"
cp "$tmp/web/smartgate_bg.wasm" "$out/smartgate_bg.wasm"
cp "$tmp/node/smartgate.js" "$out/bindgen-node.cjs"
cp "$tmp/web/smartgate.js" "$out/bindgen-web.js"

mapfile -t names <"$here/js/exports.txt"
list=$(IFS=,; echo "${names[*]}" | sed 's/,/, /g')
api() { cat "$here"/js/api/*.js; }

{ cat "$here/js/host-node.cjs"; echo; api; echo; echo "module.exports = { $list };"; } >"$out/node.cjs"
{
  echo "// ESM entry for Node: the same instance as require('smartgate')."
  echo "import api from './node.cjs';"
  echo
  echo "export const { $list } = api;"
} >"$out/node.mjs"
{ cat "$here/js/host-web.js"; echo; api; echo; echo "export { init as default, init, initSync, $list };"; } >"$out/web.js"

cp "$here/js/index.d.ts" "$out/index.d.ts"
cp "$here/js/index.d.ts" "$out/index.d.cts"
cp "$here/js/web.d.ts" "$out/web.d.ts"
version=$(awk -F'"' '/^version = /{print $2; exit}' "$root/Cargo.toml")
sed "s/\"version\": \"0.0.0\"/\"version\": \"$version\"/" "$here/js/package.json" >"$out/package.json"
cp "$here/README.md" "$out/README.md"

node --check "$out/node.cjs"
node --check "$out/web.js"

# Tests and benchmarks import the package by name, through its "exports" map.
if [ "$out" = "$here/pkg" ] && [ -d "$here/node_modules" ]; then
  ln -sfn ../pkg "$here/node_modules/smartgate"
fi
printf 'built %s: %s bytes of wasm, %s gzip -9\n' "${out#"$root"/}" \
  "$(wc -c <"$out/smartgate_bg.wasm")" "$(gzip -9 -c "$out/smartgate_bg.wasm" | wc -c)"
