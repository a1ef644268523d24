// ---- RemoteJwkSet ---------------------------------------------------------------------
// When to fetch is decided in Rust (wasm/src/remote.rs: Cache-Control max-age within
// bounds, one refetch per cooldown for an unknown kid, back-off after failures); this
// class only fetches. A token's `jku`/`x5u` is never looked at.

const KEYS_AT = Symbol('smartgate.keysAt');
const REFETCH = Symbol('smartgate.refetch');
const PLAN_USE_CACHED = 0;
const PLAN_FETCH = 1;

class RemoteJwkSet {
  #policy;
  #fetch;
  #set = null;
  #inflight = null;
  #lastError = null;

  /**
   * @param url the issuer's `jwks_uri` (https:, or http: to a loopback host)
   * @param options `{ defaultAge, minAge, maxAge, cooldown }` in seconds, `timeout` in
   *   milliseconds, `fetch` (defaults to globalThis.fetch)
   */
  constructor(url, options) {
    host.ready();
    const href = url instanceof URL ? url.href : str(url, 'url');
    const json = optionsJson(options, 'options');
    const f = options?.fetch ?? globalThis.fetch;
    if (typeof f !== 'function') throw invalid('options.fetch must be a function (or globalThis.fetch must exist)');
    try {
      this.#policy = new w.WasmRemotePolicy(href, json);
    } catch (e) {
      throw fromRust(e);
    }
    this.#fetch = f;
  }

  /** The URL keys are fetched from. */
  get url() {
    return this.#policy.url;
  }

  /** The current key set, or null before the first successful fetch. */
  get keySet() {
    return this.#set;
  }

  /** Fetches now (respecting nothing but in-flight deduplication); resolves to the set. */
  async refresh(now = nowSeconds()) {
    host.ready();
    return this.#refresh(now, true);
  }

  /** The keys to verify with at `now`, fetching when the policy says so. */
  async [KEYS_AT](now) {
    const plan = this.#policy.plan(now);
    if (plan === PLAN_USE_CACHED) return this.#set;
    if (plan === PLAN_FETCH) return this.#refresh(now, false);
    throw this.#failure();
  }

  /** After ERR_JWS_KEY_NOT_FOUND: the refreshed set, or null when not allowed now. */
  async [REFETCH](now) {
    if (this.#inflight) return this.#inflight;
    if (!this.#policy.mayRefetch(now)) return null;
    return this.#refresh(now, true);
  }

  #failure(cause) {
    const last = cause ?? this.#lastError;
    if (last instanceof SmartgateError) return last;
    return new SmartgateError(
      'ERR_JWKS_FETCH_FAILED',
      `could not fetch the JWKS from ${this.#policy.url}${last ? `: ${last.message ?? last}` : ''}`,
      last ? { cause: last } : undefined,
    );
  }

  #refresh(now, strict) {
    if (!this.#inflight) {
      this.#policy.attempt(now);
      this.#inflight = this.#load(now, strict).finally(() => {
        this.#inflight = null;
      });
    }
    return this.#inflight;
  }

  async #load(now, strict) {
    let response;
    let body;
    try {
      // A plain call: as a method of this object (this.#fetch(...)), a browser's
      // window.fetch throws "Illegal invocation".
      const fetchJwks = this.#fetch;
      response = await fetchJwks(this.#policy.url, {
        headers: { accept: 'application/jwk-set+json, application/json' },
        redirect: 'manual',
        signal: AbortSignal.timeout(this.#policy.timeoutMs),
      });
      body = await response.text();
    } catch (e) {
      this.#policy.failed(now);
      this.#lastError = e;
      return this.#staleOr(now, strict, this.#failure(e));
    }
    try {
      const inner = this.#policy.accept(now, response.status, response.headers.get('cache-control') ?? undefined, body);
      this.#set = new JwkSet(INTERNAL, inner);
      this.#lastError = null;
      return this.#set;
    } catch (e) {
      this.#lastError = fromRust(e);
      return this.#staleOr(now, strict, this.#lastError);
    }
  }

  #staleOr(now, strict, error) {
    if (!strict && this.#set && this.#policy.staleUsable(now)) return this.#set;
    throw error;
  }
}

async function verifyWithRemote(token, remote, v, now, mode) {
  const set = await remote[KEYS_AT](now);
  try {
    return await verifyWithSet(token, set, v, now, mode);
  } catch (e) {
    if (!(e instanceof SmartgateError) || e.code !== 'ERR_JWS_KEY_NOT_FOUND') throw e;
    let fresh;
    try {
      fresh = await remote[REFETCH](now);
    } catch {
      fresh = null; // the refetch failed: the token's key is still unknown
    }
    if (fresh === null || fresh === set) throw e;
    return verifyWithSet(token, fresh, v, now, mode);
  }
}
