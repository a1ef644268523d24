// Type declarations of the npm package `smartgate` (Node entry; `smartgate/web` adds
// `init`). Checked by `tsc --noEmit` over wasm/test/usage.ts in the test suite.

/** Every stable error code; `SmartgateError.code` is one of these. */
export type SmartgateErrorCode =
  | 'ERR_INVALID_ARGUMENT'
  | 'ERR_NOT_INITIALIZED'
  | 'ERR_RNG_UNAVAILABLE'
  | 'ERR_INPUT_TOO_LARGE'
  | 'ERR_SIGNING_FAILED'
  | 'ERR_BASE64_INVALID'
  | 'ERR_PKCE_VERIFIER_LENGTH'
  | 'ERR_PKCE_VERIFIER_CHARSET'
  | 'ERR_PKCE_METHOD_UNKNOWN'
  | 'ERR_PKCE_METHOD_UNSUPPORTED'
  | 'ERR_PKCE_MISMATCH'
  | 'ERR_JWK_MALFORMED'
  | 'ERR_JWK_PRIVATE_KEY'
  | 'ERR_JWK_KTY_UNSUPPORTED'
  | 'ERR_JWK_CRV_UNSUPPORTED'
  | 'ERR_JWK_COORDINATE_LENGTH'
  | 'ERR_JWK_POINT_INVALID'
  | 'ERR_JWK_RSA_TOO_SHORT'
  | 'ERR_JWK_RSA_TOO_LONG'
  | 'ERR_JWK_RSA_EXPONENT_INVALID'
  | 'ERR_JWK_USE_MISMATCH'
  | 'ERR_JWK_KEY_OPS_MISMATCH'
  | 'ERR_JWK_ALG_MISMATCH'
  | 'ERR_JWKS_MALFORMED'
  | 'ERR_JWKS_TOO_MANY_KEYS'
  | 'ERR_JWKS_FETCH_FAILED'
  | 'ERR_JWS_MALFORMED'
  | 'ERR_JWS_HEADER_INVALID'
  | 'ERR_JWS_ALG_NONE'
  | 'ERR_JWS_ALG_SYMMETRIC'
  | 'ERR_JWS_ALG_UNSUPPORTED'
  | 'ERR_JWS_ALG_NOT_ALLOWED'
  | 'ERR_JWS_CRIT_UNSUPPORTED'
  | 'ERR_JWS_KEY_NOT_FOUND'
  | 'ERR_JWS_KEY_ALG_MISMATCH'
  | 'ERR_JWS_SIGNATURE_MALFORMED'
  | 'ERR_JWS_SIGNATURE_INVALID'
  | 'ERR_JWT_MALFORMED'
  | 'ERR_JWT_CLAIM_MISSING'
  | 'ERR_JWT_CLAIM_INVALID'
  | 'ERR_JWT_EXPIRED'
  | 'ERR_JWT_NOT_YET_VALID'
  | 'ERR_JWT_IAT_FUTURE'
  | 'ERR_JWT_TOO_OLD'
  | 'ERR_JWT_ISSUER_MISMATCH'
  | 'ERR_JWT_AUDIENCE_MISMATCH'
  | 'ERR_JWT_TYP_MISMATCH'
  | 'ERR_SCOPE_MALFORMED'
  | 'ERR_SCOPE_CONTEXT_UNKNOWN'
  | 'ERR_SCOPE_RESOURCE_UNKNOWN'
  | 'ERR_SCOPE_PERMISSIONS_INVALID'
  | 'ERR_SCOPE_QUERY_INVALID'
  | 'ERR_SCOPE_INTERACTION_UNKNOWN'
  | 'ERR_SCOPE_TOO_MANY'
  | 'ERR_SCOPE_TOO_LONG';

/** Thrown (or rejected with) by every function of the package. */
export declare class SmartgateError extends Error {
  readonly name: 'SmartgateError';
  /** Stable; messages may change. */
  readonly code: SmartgateErrorCode;
  private constructor();
}

/** A JSON object (claims, headers, JWKs). */
export type JsonObject = { [member: string]: JsonValue };
export type JsonValue = string | number | boolean | null | JsonValue[] | JsonObject;

// ---- PKCE -----------------------------------------------------------------------------

export interface PkcePair {
  /** 43 characters from 256 random bits; keep it secret until the token request. */
  verifier: string;
  /** BASE64URL(SHA-256(verifier)). */
  challenge: string;
  method: 'S256';
}
export declare function createPkcePair(): PkcePair;
export declare function pkceChallenge(verifier: string): string;
/** A mismatch is `false`; a malformed verifier or a method other than S256 throws. */
export declare function verifyPkce(verifier: string, challenge: string, method?: 'S256'): boolean;

// ---- JWK Sets -------------------------------------------------------------------------

export type JwsAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'RS384' | 'RS512' | 'PS256' | 'PS384';

export interface JwkInfo {
  kid?: string;
  alg?: JwsAlgorithm;
  kty: 'EC' | 'RSA';
  crv?: 'P-256' | 'P-384';
  bits?: number;
  /** RFC 7638 SHA-256 thumbprint. */
  thumbprint: string;
}
export interface SkippedJwk {
  index: number;
  kid?: string;
  code: SmartgateErrorCode;
  message: string;
}

/** A parsed JWK Set: parse once, verify many. */
export declare class JwkSet {
  private constructor();
  /** Keys that cannot verify are skipped (see `skipped`); a private key refuses the set. */
  static parse(jwks: string | JsonObject | { keys: unknown[] }): JwkSet;
  readonly keys: JwkInfo[];
  readonly skipped: SkippedJwk[];
  toJSON(): { keys: JsonObject[] };
}

/** RFC 7638 SHA-256 thumbprint of a public JWK. */
export declare function jwkThumbprint(jwk: string | JsonObject): string;

export interface RemoteJwkSetOptions {
  /** Seconds to keep keys when the response has no Cache-Control max-age (600). */
  defaultAge?: number;
  /** Bounds on max-age, seconds (60 and 86400). */
  minAge?: number;
  maxAge?: number;
  /** Seconds between refetches for unknown `kid`s, and after a failed fetch (30). */
  cooldown?: number;
  /** Milliseconds to wait for the response (5000). */
  timeout?: number;
  /** The fetch to use (globalThis.fetch). */
  fetch?: (url: string, init: RequestInit) => Promise<Response>;
}

/** An issuer's JWKS, fetched on use and cached per Cache-Control (policy decided in Rust). */
export declare class RemoteJwkSet {
  constructor(url: string | URL, options?: RemoteJwkSetOptions);
  readonly url: string;
  /** The current keys, or null before the first successful fetch. */
  readonly keySet: JwkSet | null;
  /** Fetches now. */
  refresh(now?: number): Promise<JwkSet>;
}

// ---- JWT ------------------------------------------------------------------------------

export type CryptoChoice = 'webcrypto' | 'builtin';

export interface VerifyJwtOptions {
  /** Accepted `iss` values (required). */
  issuer: string | string[];
  /** Accepted `aud` values (required). */
  audience: string | string[];
  /** Allow-list, checked before any key is used (default: every supported one). */
  algorithms?: JwsAlgorithm[];
  /** Seconds of clock skew tolerated on exp, nbf, iat and maxTokenAge. */
  clockTolerance?: number;
  /** Refuse tokens whose iat is older than this many seconds (iat becomes required). */
  maxTokenAge?: number;
  /** Required header `typ`, such as "at+jwt" (compared as a media type). */
  typ?: string;
  /** Claims that must be present. */
  requiredClaims?: string[];
  /** Seconds since the epoch (default: the clock). */
  now?: number;
  /**
   * Default: the host's native crypto (node:crypto in Node, crypto.subtle elsewhere, the
   * built-in provider without either). "webcrypto": crypto.subtle. "builtin": Rust.
   */
  crypto?: CryptoChoice;
}

export interface JwtClaims extends JsonObject {}

export interface VerifiedJwt {
  header: JsonObject & { alg: JwsAlgorithm; kid?: string; typ?: string };
  claims: JwtClaims;
}

export declare function verifyJwt(
  token: string,
  keys: JwkSet | RemoteJwkSet,
  options: VerifyJwtOptions,
): Promise<VerifiedJwt>;

/** The algorithms this build verifies. */
export declare function supportedAlgorithms(): JwsAlgorithm[];

// ---- SMART scopes ---------------------------------------------------------------------

export type FhirInteraction =
  | 'read'
  | 'vread'
  | 'history'
  | 'history-type'
  | 'search'
  | 'create'
  | 'update'
  | 'patch'
  | 'delete'
  | '$export';
export type ScopeContext = 'patient' | 'user' | 'system';

export interface ScopeRequest {
  /** A FHIR R4 resource type, such as "Observation". */
  resourceType: string;
  interaction: FhirInteraction;
  /** Only scopes of this context may grant it (a patient/ scope never grants user or system). */
  context?: ScopeContext;
  /** Decoded search parameters. */
  params?: Record<string, string> | Array<[string, string]> | URLSearchParams;
}

export interface ScopeConstraint {
  /** For a patient/ scope: the resource must be in the in-context patient's compartment. */
  patientCompartment: { resourceType: string; params: string[]; byId: boolean } | null;
  /** Query parameters the resource must match (for a search: the ones to add). */
  query: Array<[string, string]>;
}

export type ScopeDecision =
  | {
      ok: true;
      /** Granted with no constraint at all. */
      unrestricted: boolean;
      /** "filter": add a constraint to the search; "check": check each resource. */
      enforcement: 'filter' | 'check';
      /** Any one of these suffices; empty when unrestricted. */
      constraints: ScopeConstraint[];
    }
  | {
      ok: false;
      /** The v2 permission letters no covering scope holds. */
      missing: string;
      /** Scopes any one of which would grant it. */
      requiredScopes: string[];
      outsidePatientCompartment: boolean;
      message: string;
    };

export interface DroppedScope {
  scope: string;
  code: SmartgateErrorCode;
  message: string;
}

export declare class ScopeSet {
  private constructor();
  static parse(scopes: string): ScopeSet;
  static parseLenient(scopes: string): { scopes: ScopeSet; dropped: DroppedScope[] };
  permits(request: ScopeRequest): boolean;
  authorize(request: ScopeRequest): ScopeDecision;
  readonly scopes: string[];
  toString(): string;
  toV2(): string;
  toJSON(): string;
}
