// ---- errors and argument checks -------------------------------------------------------
// (Fragment of the smartgate API: build.sh concatenates js/api/*.js into the Node (CJS)
// and web (ESM) entries. `w` is the wasm-bindgen module, `host` the entry's crypto host.)

/** Every error the package throws or rejects with. `code` is stable; see the README. */
class SmartgateError extends Error {
  constructor(code, message, options) {
    super(message, options);
    this.name = 'SmartgateError';
    this.code = code;
  }
}

function invalid(message, cause) {
  return new SmartgateError('ERR_INVALID_ARGUMENT', message, cause === undefined ? undefined : { cause });
}

// Rust reports failures as "<CODE> <message>" strings; anything else (a JS TypeError from
// a host API, a RuntimeError) passes through unchanged.
function fromRust(e) {
  if (typeof e === 'string') {
    const space = e.indexOf(' ');
    return new SmartgateError(e.slice(0, space), e.slice(space + 1));
  }
  return e;
}

// No input of the core is larger than 256 KiB; strings beyond this never enter WebAssembly
// memory (which would grow for good), whatever the core would have said about them.
const MAX_STRING = 1 << 20;

function str(value, name) {
  if (typeof value !== 'string') throw invalid(`${name} must be a string, got ${typeOf(value)}`);
  return sized(value, name);
}

function sized(text, name) {
  if (typeof text !== 'string') throw invalid(`${name} cannot be read as JSON`); // toJSON() gave undefined
  if (text.length > MAX_STRING) {
    throw new SmartgateError('ERR_INPUT_TOO_LARGE', `${name} is longer than ${MAX_STRING} characters`);
  }
  return text;
}

function optStr(value, name) {
  return value === undefined || value === null ? undefined : str(value, name);
}

function typeOf(v) {
  return v === null ? 'null' : Array.isArray(v) ? 'an array' : typeof v;
}

// Non-finite numbers would become `null` in JSON (read as "absent" by Rust: a NaN
// maxTokenAge must not silently switch the check off), so they become a value no member
// accepts.
const NON_FINITE = Object.freeze({ nonFiniteNumber: true });
function jsonReplacer(_key, value) {
  return typeof value === 'number' && !Number.isFinite(value) ? NON_FINITE : value;
}

/** An options object (or undefined/null) as the JSON text the Rust side reads. */
function optionsJson(value, name) {
  if (value === undefined || value === null) return undefined;
  if (typeof value !== 'object' || Array.isArray(value)) {
    throw invalid(`${name} must be an object, got ${typeOf(value)}`);
  }
  return toJson(value, name);
}

function toJson(value, name) {
  let text;
  try {
    text = JSON.stringify(value, jsonReplacer);
  } catch (e) {
    // BigInt, cycles, throwing getters.
    throw invalid(`${name} cannot be read as JSON: ${e && e.message}`, e);
  }
  return sized(text, name);
}

/** A JSON text given as a string or as an object to stringify. */
function jsonArg(value, name) {
  if (typeof value === 'string') return sized(value, name);
  if (value === null || typeof value !== 'object') {
    throw invalid(`${name} must be a JSON string or an object, got ${typeOf(value)}`);
  }
  return toJson(value, name);
}

function nowSeconds() {
  return Math.floor(Date.now() / 1000);
}

// A value only this module can produce: guards the constructors of classes that must be
// made through their factories.
const INTERNAL = Symbol('smartgate.internal');
const INNER = Symbol('smartgate.inner');

function setInner(obj, inner) {
  Object.defineProperty(obj, INNER, { value: inner });
}

function factoryOnly(token, what) {
  if (token !== INTERNAL) throw new TypeError(`${what}`);
}
