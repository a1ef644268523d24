// The Node entry of smartgate (CommonJS; `import` goes through node.mjs, the same
// instance). No init call: the wasm-bindgen glue instantiates the module synchronously
// on require. Signatures are checked with node:crypto's synchronous verify and cached
// KeyObjects (the host's native crypto, no key math in JS); `{ crypto: "webcrypto" }`
// uses crypto.subtle instead, `{ crypto: "builtin" }` the Rust provider.
'use strict';

const w = require('./bindgen-node.cjs');
const nodeCrypto = require('node:crypto');

const host = {
  mode: 'node',
  node: nodeCrypto,
  subtle: globalThis.crypto?.subtle ?? nodeCrypto.webcrypto?.subtle ?? null,
  ready() {},
};
