// ---- the host's crypto: only math happens here ----------------------------------------
// Rust hands over a packed signature job (layout in wasm/src/sigjob.rs): algorithm,
// candidate keys with the result of the core's shape check (CVE-2022-21449), signing
// input, signature. These functions do the math with the host's native crypto and report
// which candidate verified; Rust decides what that means.

// Index = position in Algorithm::ALL.
const ALG_NAMES = ['ES256', 'ES384', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384'];
const NODE_HASH = ['sha256', 'sha384', 'sha256', 'sha384', 'sha512', 'sha256', 'sha384'];
const SUBTLE_IMPORT = [
  { name: 'ECDSA', namedCurve: 'P-256' },
  { name: 'ECDSA', namedCurve: 'P-384' },
  { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' },
  { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-384' },
  { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-512' },
  { name: 'RSA-PSS', hash: 'SHA-256' },
  { name: 'RSA-PSS', hash: 'SHA-384' },
];
const SUBTLE_PARAMS = [
  { name: 'ECDSA', hash: 'SHA-256' },
  { name: 'ECDSA', hash: 'SHA-384' },
  { name: 'RSASSA-PKCS1-v1_5' },
  { name: 'RSASSA-PKCS1-v1_5' },
  { name: 'RSASSA-PKCS1-v1_5' },
  // RFC 7518 section 3.5: the salt is as long as the hash.
  { name: 'RSA-PSS', saltLength: 32 },
  { name: 'RSA-PSS', saltLength: 48 },
];

/** `node:crypto` verify options for a public JWK (kty/crv/x/y or kty/n/e) and algorithm. */
function nodeVerifyKey(jwk, alg) {
  const key = host.node.createPublicKey({ key: jwk, format: 'jwk' });
  if (alg <= 1) return { key, dsaEncoding: 'ieee-p1363' };
  const { constants } = host.node;
  if (alg <= 4) return { key, padding: constants.RSA_PKCS1_PADDING };
  return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: alg === 5 ? 32 : 48 };
}

function subtleVerifyKey(jwk, alg) {
  return host.subtle.importKey('jwk', jwk, SUBTLE_IMPORT[alg], false, ['verify']);
}

// Offsets into a packed job.
function jobParts(job) {
  const k = job[1];
  const at = 2 + 2 * k;
  const m = job[at] | (job[at + 1] << 8);
  return { k, data: job.subarray(at + 2, at + 2 + m), sig: job.subarray(at + 2 + m) };
}

/**
 * Synchronous `node:crypto` verification. `keyFor(index, alg)` returns cached verify
 * options (or null when the host could not import the key). Returns the position of the
 * first candidate that verifies, or -1.
 */
function verifyJobNode(job, keyFor) {
  const alg = job[0];
  const { k, data, sig } = jobParts(job);
  for (let c = 0; c < k; c++) {
    if (job[3 + 2 * c] !== 1) continue; // the core's shape check refused it
    const key = keyFor(job[2 + 2 * c], alg);
    if (key === null) continue;
    let ok = false;
    try {
      ok = host.node.verify(NODE_HASH[alg], data, key, sig);
    } catch {
      ok = false;
    }
    if (ok) return c;
  }
  return -1;
}

/** `crypto.subtle` verification; `keyFor` returns a (cached) Promise of a CryptoKey. */
async function verifyJobSubtle(job, keyFor) {
  const alg = job[0];
  const { k, data, sig } = jobParts(job);
  for (let c = 0; c < k; c++) {
    if (job[3 + 2 * c] !== 1) continue;
    let ok = false;
    try {
      const key = await keyFor(job[2 + 2 * c], alg);
      ok = await host.subtle.verify(SUBTLE_PARAMS[alg], key, sig, data);
    } catch {
      ok = false;
    }
    if (ok) return c;
  }
  return -1;
}

/** The crypto to use: `options.crypto` as Rust validated it, else the host's default. */
function cryptoMode(requested) {
  if (requested === 'builtin') return 'builtin';
  if (requested === 'webcrypto') {
    if (!host.subtle) throw invalid('crypto: "webcrypto" was asked for, but this host has no crypto.subtle');
    return 'webcrypto';
  }
  return host.mode;
}
