// ---- DPoP (RFC 9449): checking proofs, making them, the replay cache -------------------

/**
 * The default replay cache: in this process only, bounded. A deployment with several
 * instances passes its own `replayCache` (Redis, Workers KV, a Durable Object) with the
 * same contract: `checkAndInsert(key, expiresAt, now)` resolves to true the first time
 * `key` is seen (and remembers it until `expiresAt`, seconds since the epoch), false
 * after. Keys are base64url SHA-256 hashes of the proof key's thumbprint and `jti`.
 */
class MemoryReplayCache {
  #entries = new Map();
  #capacity;

  constructor(options) {
    let capacity;
    try {
      capacity = options?.capacity ?? 100_000;
    } catch (e) {
      throw invalid('options cannot be read', e);
    }
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw invalid('options.capacity must be a whole number >= 1');
    this.#capacity = capacity;
  }

  checkAndInsert(key, expiresAt, now = nowSeconds()) {
    str(key, 'key');
    if (!Number.isSafeInteger(expiresAt) || !Number.isSafeInteger(now)) throw invalid('expiresAt and now must be whole seconds');
    const seen = this.#entries.get(key);
    if (seen !== undefined && seen >= now) return false;
    if (this.#entries.size >= this.#capacity) {
      for (const [k, exp] of this.#entries) if (exp < now) this.#entries.delete(k);
      if (this.#entries.size >= this.#capacity) {
        // Full of live entries: refuse (fail closed) rather than forget one.
        throw new SmartgateError('ERR_DPOP_REPLAY_CACHE_FULL', 'the DPoP replay cache is full of live entries');
      }
    }
    this.#entries.delete(key); // re-inserted last: Map order stays roughly by expiry
    this.#entries.set(key, expiresAt);
    return true;
  }

  get size() {
    return this.#entries.size;
  }
}

const DEFAULT_REPLAY_CACHE = new MemoryReplayCache();

function replayCacheArg(cache, name) {
  if (cache === undefined || cache === null) return undefined;
  let fn;
  try {
    fn = cache.checkAndInsert;
  } catch (e) {
    throw invalid(`${name}.checkAndInsert cannot be read`, e);
  }
  if (typeof fn !== 'function') throw invalid(`${name} must have a checkAndInsert(key, expiresAt, now) method`);
  return cache;
}

/**
 * The store's answer for the core: 1 first use, 0 seen before, -2 full (a thrown
 * SmartgateError ERR_DPOP_REPLAY_CACHE_FULL, as MemoryReplayCache throws), -1 no usable
 * answer (any other throw, a rejection, a non-boolean: ERR_DPOP_REPLAY_STORE_UNAVAILABLE).
 * Both negative answers refuse the proof (fail closed).
 */
async function askReplay(cache, key, expiresAt, now) {
  try {
    const first = await cache.checkAndInsert(key, expiresAt, now);
    return first === true ? 1 : first === false ? 0 : -1;
  } catch (e) {
    return isCacheFull(e) ? -2 : -1;
  }
}

function isCacheFull(e) {
  try {
    return e instanceof SmartgateError && e.code === 'ERR_DPOP_REPLAY_CACHE_FULL';
  } catch {
    return false; // a hostile throw (a Proxy, a throwing getter) is just a failed store
  }
}

/** Verifies a one-candidate job against an embedded public JWK (imported per call). */
async function verifyEmbedded(job, jwkJson, mode) {
  if (job.length === 0) return -1;
  if (mode === 'node') return verifyJobNode(job, (_i, alg) => nodeVerifyKey(JSON.parse(jwkJson), alg)) === 0 ? 1 : 0;
  return (await verifyJobSubtle(job, (_i, alg) => subtleVerifyKey(JSON.parse(jwkJson), alg))) === 0 ? 1 : 0;
}

function splitOption(obj, name, member) {
  if (obj === null || typeof obj !== 'object' || Array.isArray(obj)) throw invalid(`${name} must be an object, got ${typeOf(obj)}`);
  let value;
  let rest;
  try {
    ({ [member]: value, ...rest } = obj);
  } catch (e) {
    throw invalid(`${name} cannot be read`, e);
  }
  return [value, rest];
}

/**
 * Checks a DPoP proof against the request (RFC 9449 section 4.3), then its `jti`
 * against the replay cache. Resolves to `{ jkt, jti, iat, alg, jwk, nonce? }`.
 */
async function verifyDpopProof(proof, check) {
  host.ready();
  str(proof, 'proof');
  const [cache, rest] = splitOption(check, 'check', 'replayCache');
  const replayCache = replayCacheArg(cache, 'check.replayCache') ?? DEFAULT_REPLAY_CACHE;
  let step;
  try {
    step = w.dpopBegin(proof, optionsJson(rest, 'check'), nowSeconds());
  } catch (e) {
    throw fromRust(e);
  }
  try {
    const mode = cryptoMode(rest.crypto);
    const ok = mode === 'builtin' ? step.verifyBuiltin() : (await verifyEmbedded(step.packed(), step.hostJwk(), mode)) === 1;
    const { key, expiresAt } = JSON.parse(step.replay(ok));
    const first = await askReplay(replayCache, key, expiresAt, step.now);
    return JSON.parse(step.complete(ok, first));
  } catch (e) {
    throw fromRust(e);
  } finally {
    step.free();
  }
}

const ES256_SIGN = { name: 'ECDSA', hash: 'SHA-256' };
const P256 = { name: 'ECDSA', namedCurve: 'P-256' };

/**
 * A client's DPoP key (P-256, ES256). With WebCrypto (the default where the host has
 * it) the private key is a non-extractable CryptoKey: it never sits in JS-readable or
 * WebAssembly memory. `{ crypto: "builtin" }` keeps it in WebAssembly memory instead.
 */
class DpopKey {
  #privateKey = null;
  #builtin = null;
  #publicJwk;
  #thumbprint;

  constructor(token, { privateKey, builtin, publicJwk }) {
    factoryOnly(token, 'use DpopKey.generate() or DpopKey.fromJwk(jwk)');
    this.#privateKey = privateKey ?? null;
    this.#builtin = builtin ?? null;
    this.#publicJwk = publicJwk;
    try {
      this.#thumbprint = w.jwkThumbprint(JSON.stringify(publicJwk));
    } catch (e) {
      throw fromRust(e);
    }
  }

  /** A fresh key. */
  static async generate(options) {
    host.ready();
    const mode = keyMode(options);
    if (mode === 'builtin') return DpopKey.#fromBuiltin(() => w.WasmDpopKey.generate());
    const pair = await host.subtle.generateKey(P256, false, ['sign', 'verify']);
    const { kty, crv, x, y } = await host.subtle.exportKey('jwk', pair.publicKey);
    return new DpopKey(INTERNAL, { privateKey: pair.privateKey, publicJwk: { kty, crv, x, y } });
  }

  /** A key from a private P-256 JWK (`kty` EC, `crv` P-256, `x`, `y`, `d`). */
  static async fromJwk(jwk, options) {
    host.ready();
    const json = jsonArg(jwk, 'jwk');
    const mode = keyMode(options);
    if (mode === 'builtin') return DpopKey.#fromBuiltin(() => w.WasmDpopKey.fromJwk(json));
    let kty, crv, x, y, d;
    try {
      ({ kty, crv, x, y, d } = JSON.parse(json) ?? {});
    } catch (e) {
      throw invalid('jwk is not a JSON object', e);
    }
    if (kty !== 'EC' || crv !== 'P-256' || typeof x !== 'string' || typeof y !== 'string' || typeof d !== 'string') {
      throw invalid('a DPoP key JWK must be a P-256 private key (kty EC, crv P-256, x, y, d)');
    }
    let privateKey;
    try {
      privateKey = await host.subtle.importKey('jwk', { kty, crv, x, y, d }, P256, false, ['sign']);
    } catch (e) {
      throw invalid('the JWK is not a usable P-256 private key', e);
    }
    const key = new DpopKey(INTERNAL, { privateKey, publicJwk: { kty, crv, x, y } });
    // The public half must be the private key's: sign once and check with it.
    const probe = await key.proof({ method: 'GET', url: 'https://smartgate.invalid/' });
    try {
      await verifyDpopProof(probe, { method: 'GET', url: 'https://smartgate.invalid/', replayCache: { checkAndInsert: () => true } });
    } catch (e) {
      throw invalid('the JWK public members do not match its private key', e);
    }
    return key;
  }

  static #fromBuiltin(make) {
    let builtin;
    try {
      builtin = make();
    } catch (e) {
      throw fromRust(e);
    }
    return new DpopKey(INTERNAL, { builtin, publicJwk: JSON.parse(builtin.publicJwk()) });
  }

  /** The public JWK (`kty`, `crv`, `x`, `y`). */
  get publicJwk() {
    return { ...this.#publicJwk };
  }

  /** The RFC 7638 thumbprint: what an access token bound to this key has as `cnf.jkt`. */
  get thumbprint() {
    return this.#thumbprint;
  }

  /** A proof for one request: `{ method, url, accessToken?, nonce?, now? }`. */
  async proof(request) {
    host.ready();
    const json = optionsJson(request, 'request') ?? '{}';
    try {
      if (this.#builtin) return this.#builtin.proof(json, nowSeconds());
      const input = w.dpopSigningInput(JSON.stringify(this.#publicJwk), json, nowSeconds());
      const signature = new Uint8Array(await host.subtle.sign(ES256_SIGN, this.#privateKey, new TextEncoder().encode(input)));
      return w.dpopProofFinish(input, signature);
    } catch (e) {
      throw fromRust(e);
    }
  }
}

function keyMode(options) {
  if (options === undefined || options === null) return host.subtle ? 'webcrypto' : 'builtin';
  if (typeof options !== 'object' || Array.isArray(options)) throw invalid('options must be an object');
  let crypto;
  let rest;
  try {
    ({ crypto, ...rest } = options);
  } catch (e) {
    throw invalid('options cannot be read', e);
  }
  if (Object.keys(rest).length) throw invalid(`options.${Object.keys(rest)[0]} is not an option (expected: crypto)`);
  if (crypto === undefined) return host.subtle ? 'webcrypto' : 'builtin';
  if (crypto === 'builtin') return 'builtin';
  if (crypto === 'webcrypto' && host.subtle) return 'webcrypto';
  throw invalid(crypto === 'webcrypto' ? 'crypto: "webcrypto" was asked for, but this host has no crypto.subtle' : 'options.crypto must be "webcrypto" or "builtin"');
}
