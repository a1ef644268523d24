// Runs a Worker in workerd through miniflare, on 127.0.0.1 and a free port, with the web
// build registered under the names an application imports: `smartgate/web` and
// `smartgate/smartgate_bg.wasm` (a CompiledWasm module, as wrangler bundles it).
import { readFileSync } from 'node:fs';
import { Miniflare } from 'miniflare';

const pkg = new URL('../pkg/', import.meta.url);

export async function startWorker(source, bindings = {}) {
  const mf = new Miniflare({
    modules: [
      { type: 'ESModule', path: '/w/worker.js', contents: source },
      { type: 'ESModule', path: '/w/smartgate/web', contents: readFileSync(new URL('web.js', pkg), 'utf8') },
      { type: 'ESModule', path: '/w/smartgate/bindgen-web.js', contents: readFileSync(new URL('bindgen-web.js', pkg), 'utf8') },
      { type: 'CompiledWasm', path: '/w/smartgate/smartgate_bg.wasm', contents: readFileSync(new URL('smartgate_bg.wasm', pkg)) },
    ],
    modulesRoot: '/w',
    bindings,
    compatibilityDate: '2026-04-01',
    host: '127.0.0.1',
    port: 0,
  });
  const url = await mf.ready;
  return { url, dispose: () => mf.dispose() };
}
