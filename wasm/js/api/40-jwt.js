// ---- verifyJwt ------------------------------------------------------------------------

// Validations parsed by Rust, by the JSON text of their options: a caller that passes an
// equal options object each time pays one JSON.stringify, not a parse. Bounded; never
// freed by hand (an in-flight verification may hold one; the FinalizationRegistry frees).
const VALIDATIONS = new Map();
const MAX_VALIDATIONS = 64;

function validationFor(options) {
  if (options === undefined || options === null) return parseValidation(undefined, '');
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalid(`options must be an object, got ${typeOf(options)}`);
  }
  // The cache key is the plain JSON text (no replacer: cheaper). A text holding `null`
  // may hide a NaN or Infinity (JSON writes them as null), so it is never looked up: it
  // goes through optionsJson, which turns them into errors.
  let plain;
  try {
    plain = JSON.stringify(options);
  } catch {
    plain = undefined;
  }
  if (typeof plain !== 'string' || plain.includes('null')) {
    return parseValidation(optionsJson(options, 'options'), undefined);
  }
  return VALIDATIONS.get(plain) ?? parseValidation(sized(plain, 'options'), plain);
}

function parseValidation(json, cacheKey) {
  let v;
  try {
    v = w.WasmValidation.parse(json);
  } catch (e) {
    throw fromRust(e);
  }
  if (cacheKey !== undefined) {
    if (VALIDATIONS.size >= MAX_VALIDATIONS) VALIDATIONS.clear();
    VALIDATIONS.set(cacheKey, v);
  }
  return v;
}

/**
 * Verifies a JWT: signature (with the host's native crypto, or the built-in provider),
 * then claims. Resolves to `{ header, claims }`; rejects with a SmartgateError.
 */
async function verifyJwt(token, keys, options) {
  host.ready();
  str(token, 'token');
  const v = validationFor(options);
  const now = v.now ?? nowSeconds();
  const mode = cryptoMode(v.crypto);
  if (keys instanceof JwkSet) return verifyWithSet(token, keys, v, now, mode);
  if (keys instanceof RemoteJwkSet) return verifyWithRemote(token, keys, v, now, mode);
  throw invalid(`keys must be a JwkSet or a RemoteJwkSet, got ${typeOf(keys)}`);
}

function verifyWithSet(token, set, v, now, mode) {
  const inner = set[INNER];
  let step;
  try {
    step = w.jwtBegin(token, inner, v);
  } catch (e) {
    throw fromRust(e);
  }
  if (mode === 'node') {
    try {
      const pos = verifyJobNode(step.packed(), (i, alg) => nodeKeyOf(set, i, alg));
      return JSON.parse(step.finish(pos, v, now));
    } catch (e) {
      throw fromRust(e);
    } finally {
      step.free();
    }
  }
  if (mode === 'builtin') {
    try {
      return JSON.parse(step.finish(step.verifyBuiltin(inner), v, now));
    } catch (e) {
      throw fromRust(e);
    } finally {
      step.free();
    }
  }
  return finishSubtle(step, set, v, now);
}

async function finishSubtle(step, set, v, now) {
  try {
    const pos = await verifyJobSubtle(step.packed(), (i, alg) => subtleKeyOf(set, i, alg));
    return JSON.parse(step.finish(pos, v, now));
  } catch (e) {
    throw fromRust(e);
  } finally {
    step.free();
  }
}

/** The JWS algorithms this build verifies (the ES256-only build: `["ES256"]`). */
function supportedAlgorithms() {
  host.ready();
  return w.supportedAlgorithms().split(',');
}
