// Appended by scripts/build-web.sh to wasm-split's loader (`__wasm_split.js`), whose fetches of
// `split_<module>.wasm` and `chunk_<n>.wasm` it rewrites into `__packed(name)` and whose
// `instantiateStreaming` into `__instantiate`. A split page's SSR head preloads one pack of its
// module's files (`/pkg/pack/<module>`, server `web::split_pack`) instead of some fifty files:
// over HTTP/1.1 the browser fetched them six at a time, ahead of the page's own data. The pack's
// files are compiled as soon as it is in, while the main module is still loading; a file the pack
// lacks (another page's module, visited later) is fetched alone, as wasm-split would.

let packFiles;

// The compiled files of this page's pack by name (empty without a pack, or if it failed).
function pack() {
  if (packFiles === undefined) {
    const link = typeof document === "undefined" ? null
      : document.querySelector('link[rel="preload"][href^="/pkg/pack/"]');
    packFiles = link === null ? Promise.resolve(new Map())
      : fetch(link.href)
        .then((answer) => (answer.ok ? answer.arrayBuffer() : new ArrayBuffer(0)))
        .then(unpack)
        .catch(() => new Map());
  }
  return packFiles;
}

// `(u32 LE name length, name, u32 LE length, bytes)*` into compiling modules by name. A file
// whose compile fails is left out (fetched alone later); a cut-short pack keeps what came whole.
function unpack(buffer) {
  const files = new Map();
  const view = new DataView(buffer);
  const text = new TextDecoder();
  let at = 0;
  while (at + 4 <= buffer.byteLength) {
    const nameLength = view.getUint32(at, true);
    if (at + 4 + nameLength + 4 > buffer.byteLength) break;
    const name = text.decode(new Uint8Array(buffer, at + 4, nameLength));
    at += 4 + nameLength;
    const length = view.getUint32(at, true);
    if (at + 4 + length > buffer.byteLength) break;
    const compiled = WebAssembly.compile(new Uint8Array(buffer, at + 4, length));
    compiled.catch(() => {});
    files.set(name, compiled);
    at += 4 + length;
  }
  return files;
}

// The file `name`: its compiled module from the pack, else the server's answer for it alone.
function __packed(name) {
  const alone = () => fetch(new URL("./" + name, import.meta.url));
  return pack().then((files) => {
    const compiled = files.get(name);
    return compiled === undefined ? alone() : compiled.catch(alone);
  });
}

// Instantiates what `__packed` gave: a compiled module, or an answer to compile as it streams.
function __instantiate(src, imports) {
  return src.then((file) => (file instanceof WebAssembly.Module
    ? WebAssembly.instantiate(file, imports).then((instance) => ({ module: file, instance }))
    : WebAssembly.instantiateStreaming(file, imports)));
}

// Started with the page, not when the app first asks for a split module.
pack();
