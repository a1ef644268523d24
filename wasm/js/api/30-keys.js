// ---- JWK Sets and thumbprints ---------------------------------------------------------

/** A parsed JWK Set: parse once, verify many. Host keys are imported once per key. */
class JwkSet {
  constructor(token, inner) {
    factoryOnly(token, 'use JwkSet.parse(jwks)');
    setInner(this, inner);
    // Imported host keys, per key index and algorithm: node:crypto verify options and
    // Promises of WebCrypto CryptoKeys.
    Object.defineProperty(this, NODE_KEYS, { value: new Map() });
    Object.defineProperty(this, SUBTLE_KEYS, { value: new Map() });
  }

  /**
   * Parses a JWK Set (JSON text or object). Keys that cannot verify (encryption keys,
   * other curves, symmetric keys) are skipped and listed in `skipped`; a private key
   * refuses the whole set.
   */
  static parse(jwks) {
    host.ready();
    const json = jsonArg(jwks, 'jwks');
    try {
      return new JwkSet(INTERNAL, w.WasmJwkSet.parse(json));
    } catch (e) {
      throw fromRust(e);
    }
  }

  /** The usable keys: `{ kid?, alg?, kty, crv?, bits?, thumbprint }`. */
  get keys() {
    return describe(this).keys;
  }

  /** The skipped keys: `{ index, kid?, code, message }`. */
  get skipped() {
    return describe(this).skipped;
  }

  /** The usable keys as a public JWKS object. */
  toJSON() {
    return JSON.parse(this[INNER].toJson());
  }
}

const NODE_KEYS = Symbol('smartgate.nodeKeys');
const SUBTLE_KEYS = Symbol('smartgate.subtleKeys');
const DESCRIPTION = new WeakMap();

function describe(set) {
  let d = DESCRIPTION.get(set);
  if (d === undefined) {
    d = JSON.parse(set[INNER].describe());
    DESCRIPTION.set(set, d);
  }
  return d;
}

function hostJwk(set, index) {
  return JSON.parse(set[INNER].hostJwk(index));
}

function nodeKeyOf(set, index, alg) {
  const cache = set[NODE_KEYS];
  const slot = index * 8 + alg;
  let key = cache.get(slot);
  if (key === undefined) {
    try {
      key = nodeVerifyKey(hostJwk(set, index), alg);
    } catch {
      key = null; // the host refuses a key the core accepted: it verifies nothing
    }
    cache.set(slot, key);
  }
  return key;
}

function subtleKeyOf(set, index, alg) {
  const cache = set[SUBTLE_KEYS];
  const slot = index * 8 + alg;
  let key = cache.get(slot);
  if (key === undefined) {
    key = subtleVerifyKey(hostJwk(set, index), alg);
    key.catch(() => {}); // a refused import makes that candidate fail, where it is awaited
    cache.set(slot, key);
  }
  return key;
}

/** The RFC 7638 SHA-256 thumbprint of a public JWK (JSON text or object). */
function jwkThumbprint(jwk) {
  host.ready();
  const json = jsonArg(jwk, 'jwk');
  try {
    return w.jwkThumbprint(json);
  } catch (e) {
    throw fromRust(e);
  }
}
