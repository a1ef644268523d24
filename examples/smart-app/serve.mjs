// A static server for the example app (node:http, no dependencies):
//
//   /launch, /launch.html    launch.html     (the app's launch URL)
//   /callback, /, /index.html index.html     (the app's redirect URI)
//   /app.js, /config.json    this folder
//   /fhir-client.js          fhirclient's prebuilt browser bundle
//   /smartgate/...           the smartgate package (wasm/pkg: web.js, bindgen-web.js, .wasm)
//
// By hand: node examples/smart-app/serve.mjs [--port 3000] [--host localhost]
// Tests import startServer and pass their own config (a client registered for the port).
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { dirname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..', '..');

/** Where this repository keeps the two packages; a copy of the app passes its own. */
export const DEFAULTS = {
  fhirclient: join(root, 'tests', 'browser', 'node_modules', 'fhirclient', 'build', 'fhir-client.js'),
  smartgate: join(root, 'wasm', 'pkg'),
};

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
};

const PAGES = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/callback': 'index.html',
  '/launch': 'launch.html',
  '/launch.html': 'launch.html',
  '/app.js': 'app.js',
  '/config.json': 'config.json',
};

/**
 * Starts the server; resolves with { origin, close() }. `config` (an object) replaces
 * config.json when given.
 */
export async function startServer({ host = '127.0.0.1', port = 0, config, fhirclient = DEFAULTS.fhirclient, smartgate = DEFAULTS.smartgate } = {}) {
  const smartgateDir = resolve(smartgate);
  const server = createServer(async (req, res) => {
    try {
      const { pathname } = new URL(req.url, 'http://localhost');
      let file;
      if (pathname === '/config.json' && config) {
        return send(res, 200, TYPES['.json'], JSON.stringify(config));
      } else if (PAGES[pathname]) {
        file = join(here, PAGES[pathname]);
      } else if (pathname === '/fhir-client.js') {
        file = fhirclient;
      } else if (pathname.startsWith('/smartgate/')) {
        file = normalize(join(smartgateDir, decodeURIComponent(pathname.slice('/smartgate/'.length))));
        if (!file.startsWith(smartgateDir + sep)) return send(res, 404, 'text/plain', 'not found');
      } else {
        return send(res, 404, 'text/plain', 'not found');
      }
      const type = TYPES[file.slice(file.lastIndexOf('.'))] ?? 'application/octet-stream';
      send(res, 200, type, await readFile(file));
    } catch (e) {
      send(res, e.code === 'ENOENT' ? 404 : 500, 'text/plain', e.code === 'ENOENT' ? 'not found' : 'error');
    }
  });
  await new Promise((ok, fail) => {
    server.once('error', fail);
    server.listen(port, host, ok);
  });
  const { port: bound } = server.address();
  return {
    origin: `http://${host}:${bound}`,
    close: () => new Promise((ok) => { server.closeAllConnections(); server.close(ok); }),
  };
}

function send(res, status, type, body) {
  res.writeHead(status, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const option = (name, fallback) => {
    const i = args.indexOf(name);
    return i >= 0 && args[i + 1] ? args[i + 1] : fallback;
  };
  const { origin } = await startServer({
    host: option('--host', 'localhost'),
    port: Number(option('--port', '3000')),
  });
  console.log(`SMART example app at ${origin}/launch (redirect URI ${origin}/callback)`);
}
