// ---- ResourceGuard: the resource-server check in one call ------------------------------

/**
 * `new ResourceGuard({ jwks, issuer, audience, algorithms?, dpop?, clockTolerance?, ... })`;
 * `await guard.check({ method, url, authorization, dpop, now? })` answers
 * `{ ok: true, claims, scopes, subject?, clientId?, patient?, encounter?, fhirUser?, jkt? }`
 * or `{ ok: false, status, error, errorDescription, wwwAuthenticate, dpopNonce?, code }`.
 * Every decision is the core's (smartgate_core::guard); this class moves the signatures
 * to the host's crypto and the proof's `jti` to the replay cache.
 */
class ResourceGuard {
  #inner;
  #keys;
  #replay;
  #mode;

  constructor(options) {
    host.ready();
    const [jwks, withoutJwks] = splitOption(options, 'options', 'jwks');
    const [cache, rest] = splitOption(withoutJwks, 'options', 'replayCache');
    if (jwks instanceof RemoteJwkSet) throw invalid('options.jwks: a RemoteJwkSet is not supported here; pass a JwkSet (refresh it by making a new guard)');
    this.#keys = jwks instanceof JwkSet ? jwks : JwkSet.parse(jwks);
    this.#replay = replayCacheArg(cache, 'options.replayCache') ?? new MemoryReplayCache();
    try {
      this.#inner = new w.WasmGuard(this.#keys[INNER], optionsJson(rest, 'options'));
    } catch (e) {
      throw fromRust(e);
    }
    this.#mode = cryptoMode(rest.crypto);
  }

  /** Checks one request's credentials. Never rejects for a refused request: it answers. */
  async check(request) {
    host.ready();
    const { method, url, authorization, dpop, certificate, now } = requestArg(request);
    let step;
    try {
      step = this.#inner.begin(method, url, authorization, dpop, certificate, now ?? nowSeconds());
    } catch (e) {
      throw fromRust(e);
    }
    try {
      const rejected = step.rejected;
      if (rejected !== undefined) return JSON.parse(rejected);
      const inner = this.#inner;
      let token;
      let proof = -1;
      if (this.#mode === 'builtin') {
        token = step.verifyTokenBuiltin(inner);
        if (token >= 0) proof = step.verifyProofBuiltin(inner);
      } else {
        const set = this.#keys;
        token =
          this.#mode === 'node'
            ? verifyJobNode(step.tokenJob(), (i, alg) => nodeKeyOf(set, i, alg))
            : await verifyJobSubtle(step.tokenJob(), (i, alg) => subtleKeyOf(set, i, alg));
        // A bad token is refused whatever the proof says: its signature is not checked.
        if (token >= 0) proof = await verifyEmbedded(step.proofJob(), step.proofJwk(), this.#mode);
      }
      let out = JSON.parse(step.finish(inner, token, proof));
      if (out.replay) {
        const first = await askReplay(this.#replay, out.replay.key, out.replay.expiresAt, step.now);
        out = JSON.parse(step.complete(inner, token, proof, first));
      }
      return out.ok ? authorized(out) : out;
    } catch (e) {
      throw fromRust(e);
    } finally {
      step.free();
    }
  }

  /** The 403 `insufficient_scope` answer for an authorized result, naming `scope`. */
  insufficientScope(result, scope) {
    host.ready();
    let claims;
    let jkt;
    try {
      if (result === null || typeof result !== 'object' || result.ok !== true) throw new TypeError('not allowed');
      ({ claims, jkt } = result);
    } catch (e) {
      throw invalid('result must be an allowed check result', e);
    }
    optStr(scope, 'scope');
    optStr(jkt, 'result.jkt');
    try {
      return JSON.parse(this.#inner.insufficientScope(toJson(claims ?? {}, 'result.claims'), jkt ?? undefined, scope ?? undefined));
    } catch (e) {
      throw fromRust(e);
    }
  }
}

function headerArg(value, name) {
  if (value === undefined || value === null) return undefined;
  // Node gives repeated headers as arrays: joined, as RFC 9110 section 5.3 does, and then
  // refused by the core as more than one credential or proof.
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return sized(value.join(', '), name);
  return str(value, name);
}

const REQUEST_MEMBERS = ['method', 'url', 'authorization', 'dpop', 'clientCertificateThumbprint', 'now'];

function requestArg(request) {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) throw invalid(`request must be an object, got ${typeOf(request)}`);
  let r;
  try {
    r = { ...request };
  } catch (e) {
    throw invalid('request cannot be read', e);
  }
  for (const k of Object.keys(r)) {
    if (!REQUEST_MEMBERS.includes(k)) throw invalid(`request.${k} is not a member (expected ${REQUEST_MEMBERS.join(', ')})`);
  }
  const url = r.url instanceof URL ? r.url.href : str(r.url, 'request.url');
  if (r.now !== undefined && r.now !== null && !Number.isSafeInteger(r.now)) throw invalid('request.now must be whole seconds since the Unix epoch');
  return {
    method: str(r.method, 'request.method'),
    url,
    authorization: headerArg(r.authorization, 'request.authorization'),
    dpop: headerArg(r.dpop, 'request.dpop'),
    certificate: optStr(r.clientCertificateThumbprint, 'request.clientCertificateThumbprint'),
    now: r.now ?? undefined,
  };
}

function authorized(out) {
  const { scopes } = ScopeSet.parseLenient(out.scope);
  const result = { ok: true, claims: out.claims, scopes };
  for (const k of ['subject', 'clientId', 'patient', 'encounter', 'fhirUser', 'jkt']) {
    if (out[k] !== undefined) result[k] = out[k];
  }
  return result;
}
