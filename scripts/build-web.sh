#!/usr/bin/env bash
# Builds the browser bundle into dist/pkg: the app for wasm32 with feature `web`, then
# wasm-bindgen. The server embeds dist/ when it is compiled, so run this before building it.
set -euo pipefail
cd "$(dirname "$0")/.."
target_dir=${CARGO_TARGET_DIR:-target}
toolchain=$(cat target/.wasm-toolchain 2>/dev/null || echo rustup)

args=(build --profile wasm-release --target wasm32-unknown-unknown -p otelscope-app --features split)
# The flame graph and profile pages are split into a wasm file of their own (`views::lazy`):
# wasm-split-cli finds their code by the relocations the linker keeps with --emit-relocs.
# getrandom (span ids of the UI's own spans, `uitrace`) takes the browser's crypto only with this cfg.
relocs='-Clink-args=--emit-relocs --cfg getrandom_backend="wasm_js"'
if [ "$toolchain" = debian ]; then
  PATH=/usr/bin:$PATH RUSTC=/usr/bin/rustc RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_LINKER=wasm-ld-19 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$relocs" \
    /usr/bin/cargo "${args[@]}" -Zbuild-std=std,panic_abort
elif [ "$toolchain" = rustup-build-std ]; then
  # The budget is 320 KB gzipped. std rebuilt for size, with panics that abort at once (no
  # message formatting) and no file/line strings in panics: about 11% smaller. (Not
  # `-Zfmt-debug=none`: Dioxus builds JavaScript with `{:?}`.) These are unstable flags, hence
  # RUSTC_BOOTSTRAP, as the Debian fallback above uses too.
  RUSTC_BOOTSTRAP=1 \
    CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="-Zlocation-detail=none -Zunstable-options -Cpanic=immediate-abort $relocs" \
    cargo "${args[@]}" -Zbuild-std=std,panic_abort -Zbuild-std-features=optimize_for_size
else
  CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUSTFLAGS="$relocs" cargo "${args[@]}"
fi

out=dist/pkg
# Generate beside dist/, not in it: touching dist/ would make the server's build script rerun.
fresh=target/web-pkg.new
rm -rf "$fresh"
split=target/web-split
rm -rf "$split"
mkdir -p target dist "$split"
# Splits the linked wasm into the main module (otelscope_app.wasm), one split_<module>.wasm per
# split module, chunk_<n>.wasm for code split modules share, and __wasm_split.js, the loader
# (installed, pinned, by scripts/setup.sh).
wasm-split-cli "$target_dir/wasm32-unknown-unknown/wasm-release/otelscope-app.wasm" "$split" \
  --target web --out-name otelscope_app >/dev/null
# --keep-lld-exports: the split files import the main module's functions through those exports.
wasm-bindgen --target web --no-typescript --remove-name-section --remove-producers-section \
  --keep-lld-exports --out-name otelscope_app --out-dir "$fresh" "$split/otelscope_app.wasm"
# Smaller code for the browser to compile (binaryen's wasm-opt, installed by scripts/setup.sh);
# the features are the ones rustc enables for wasm32 by default. Flattening and re-running the
# relooper before -Oz gives ~1% less gzipped code than -Oz alone (measured 2026-11-27).
wasm_opt() {
  target/node/node_modules/.bin/wasm-opt "$@" --enable-bulk-memory --enable-nontrapping-float-to-int \
    --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue
}
wasm_opt --flatten --rereloop -Oz -Oz --converge "$fresh/otelscope_app_bg.wasm" -o "$fresh/otelscope_app_bg.wasm"
for part in "$split"/split_*.wasm "$split"/chunk_*.wasm; do
  [ -e "$part" ] || continue
  wasm_opt -Oz "$part" -o "$fresh/$(basename "$part")"
done
# The loader takes a split page's files from one pack (scripts/split-pack.js says why): its
# fetches and instantiations go through the pack's two functions.
loader=target/web-split.loader.js
sed -e 's|fetch(new URL("\./\([a-z_0-9]*\.wasm\)", import\.meta\.url))|__packed("\1")|' \
  -e 's|WebAssembly\.instantiateStreaming(src, imports)|__instantiate(src, imports)|' \
  "$split/__wasm_split.js" >"$loader"
files=$(grep -c '^export const __wasm_split_load_\|^const __chunk_' "$loader")
for call in '__packed("' '__instantiate(src, imports)'; do
  if [ "$(grep -cF "$call" "$loader")" -ne "$files" ]; then
    echo "wasm-split's loader changed: not every file goes through $call (scripts/split-pack.js)" >&2
    exit 1
  fi
done
cat scripts/split-pack.js >>"$loader"
target/node/node_modules/.bin/terser "$loader" --module --compress --mangle \
  -o "$fresh/__wasm_split.js"
# Which chunks each split module needs (`<module> <n>,<n>,...` per line), read from the loader
# before minifying: the server packs exactly these for a split page (`web::split_pack`).
awk '/^export const __wasm_split_load_/ { name = $3; sub(/^__wasm_split_load_/, "", name); next }
     name != "" && /^, \[/ { deps = $0; gsub(/__chunk_/, "", deps); gsub(/[^0-9,]/, "", deps)
                              print name, deps; name = "" }' "$split/__wasm_split.js" >"$fresh/split-deps.txt"
# wasm-bindgen's JS glue, minified (terser, installed by scripts/setup.sh): 11.4 → 9.1 KB gzipped.
target/node/node_modules/.bin/terser "$fresh/otelscope_app.js" --module --compress --mangle \
  -o "$fresh/otelscope_app.min.js"
mv "$fresh/otelscope_app.min.js" "$fresh/otelscope_app.js"
# Replace only when changed, so an unchanged bundle does not force the server to recompile.
if ! diff -rq "$fresh" "$out" >/dev/null 2>&1; then
  rm -rf "$out" && mv "$fresh" "$out"
else
  rm -rf "$fresh"
fi
raw=$(stat -c %s "$out/otelscope_app_bg.wasm")
# The budget counts what the first paint of any page needs: the main wasm and the two scripts.
gz=$(cat "$out/otelscope_app_bg.wasm" "$out/otelscope_app.js" "$out/__wasm_split.js" | gzip -9 | wc -c)
echo "web bundle: wasm $raw bytes raw; wasm+js $gz bytes gzipped" >&2
budget=320000
if [ "$gz" -gt "$budget" ]; then
  echo "web bundle over its budget: $gz > $budget bytes gzipped (make a page lazy: src/views/lazy.rs)" >&2
  exit 1
fi
for part in "$out"/split_*.wasm "$out"/chunk_*.wasm; do
  [ -e "$part" ] || continue
  echo "  loaded on demand: $(basename "$part") $(gzip -9 <"$part" | wc -c) bytes gzipped" >&2
done
