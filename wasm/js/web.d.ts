// `smartgate/web`: the same API as the Node entry, after `await init()`.
export * from './index.js';

/** What `init` accepts: nothing (fetch the .wasm next to this file), a URL, a Response, bytes, or a compiled module. */
export type InitInput =
  | RequestInfo
  | URL
  | Response
  | BufferSource
  | WebAssembly.Module
  | Promise<Response | BufferSource | WebAssembly.Module>;

/** Loads the WebAssembly module (once). */
export declare function init(input?: InitInput | { module_or_path: InitInput }): Promise<void>;
export default init;
/** Instantiates synchronously from the `.wasm` bytes or a compiled module. */
export declare function initSync(input: BufferSource | WebAssembly.Module | { module: BufferSource | WebAssembly.Module }): void;
