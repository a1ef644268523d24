// The web entry of smartgate (`smartgate/web`): browsers, Web Workers, Cloudflare
// Workers, Deno. Call `await init()` first (or `init(compiledModule)` where the runtime
// hands over a WebAssembly.Module, as Cloudflare Workers do; `initSync` for bytes or a
// module). Signatures are checked with crypto.subtle when the host has it, else with the
// built-in Rust provider.
import initBindgen, * as w from './bindgen-web.js';

let initialized = false;
const subtle = globalThis.crypto?.subtle ?? null;

const host = {
  mode: subtle ? 'webcrypto' : 'builtin',
  node: null,
  subtle,
  ready() {
    if (!initialized) {
      throw new SmartgateError('ERR_NOT_INITIALIZED', 'smartgate/web: call `await init()` before anything else');
    }
  },
};

// A WebAssembly.Module, URL, string, Response, BufferSource or Promise is passed as
// `module_or_path`; an object `{ module_or_path }` as it is.
function initArg(input) {
  if (input === undefined || (input !== null && Object.getPrototypeOf(input) === Object.prototype)) return input;
  return { module_or_path: input };
}

/** Loads the WebAssembly module (once; later calls resolve at once). */
async function init(input) {
  await initBindgen(initArg(input));
  initialized = true;
}

/** Instantiates synchronously from a WebAssembly.Module or the `.wasm` bytes. */
function initSync(input) {
  w.initSync(input !== undefined && Object.getPrototypeOf(input) === Object.prototype ? input : { module: input });
  initialized = true;
}
