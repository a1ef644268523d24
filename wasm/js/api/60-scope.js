// ---- SMART scopes ---------------------------------------------------------------------

class ScopeSet {
  constructor(token, inner) {
    factoryOnly(token, 'use ScopeSet.parse(scopes)');
    setInner(this, inner);
  }

  /** Parses a space-separated scope string; any malformed scope refuses the whole. */
  static parse(scopes) {
    host.ready();
    str(scopes, 'scopes');
    try {
      return new ScopeSet(INTERNAL, w.WasmScopeSet.parse(scopes));
    } catch (e) {
      throw fromRust(e);
    }
  }

  /**
   * Parses leniently, as a server reads a token's `scope`: malformed scopes are dropped
   * and reported. Returns `{ scopes, dropped: [{ scope, code, message }] }`.
   */
  static parseLenient(scopes) {
    host.ready();
    str(scopes, 'scopes');
    let lenient;
    try {
      lenient = w.WasmScopeSet.parseLenient(scopes);
    } catch (e) {
      throw fromRust(e);
    }
    try {
      return { scopes: new ScopeSet(INTERNAL, lenient.takeSet()), dropped: JSON.parse(lenient.dropped()) };
    } finally {
      lenient.free();
    }
  }

  /** Whether `{ resourceType, interaction, context?, params? }` is permitted. */
  permits(request) {
    const json = requestJson(request);
    try {
      return this[INNER].permits(json);
    } catch (e) {
      throw fromRust(e);
    }
  }

  /** The decision with the constraint to apply, or what is missing. */
  authorize(request) {
    const json = requestJson(request);
    try {
      return JSON.parse(this[INNER].authorize(json));
    } catch (e) {
      throw fromRust(e);
    }
  }

  /** The scopes, in order. */
  get scopes() {
    return JSON.parse(this[INNER].scopes());
  }

  /** The scope string (v1 scopes keep their spelling). */
  toString() {
    return this[INNER].toString();
  }

  /** The scope string with every clinical scope in v2 syntax. */
  toV2() {
    return this[INNER].toV2();
  }

  toJSON() {
    return this.toString();
  }
}

function requestJson(request) {
  if (request === null || typeof request !== 'object' || Array.isArray(request)) {
    throw invalid(`request must be an object, got ${typeOf(request)}`);
  }
  let params;
  try {
    params = request.params;
  } catch (e) {
    throw invalid('request.params cannot be read', e);
  }
  if (typeof URLSearchParams === 'function' && params instanceof URLSearchParams) {
    return toJson({ ...request, params: [...params] }, 'request');
  }
  return toJson(request, 'request');
}
