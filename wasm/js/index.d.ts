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
  | 'ERR_AUTHZ_RESPONSE_ISS_MISSING'
  | 'ERR_AUTHZ_RESPONSE_ISS_MISMATCH'
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
  | 'ERR_SCOPE_TOO_LONG'
  | 'ERR_DPOP_MALFORMED'
  | 'ERR_DPOP_TYP_MISMATCH'
  | 'ERR_DPOP_JWK_MISSING'
  | 'ERR_DPOP_CLAIM_MISSING'
  | 'ERR_DPOP_CLAIM_INVALID'
  | 'ERR_DPOP_HTM_MISMATCH'
  | 'ERR_DPOP_HTU_INVALID'
  | 'ERR_DPOP_HTU_MISMATCH'
  | 'ERR_DPOP_IAT_FUTURE'
  | 'ERR_DPOP_IAT_STALE'
  | 'ERR_DPOP_ATH_MISSING'
  | 'ERR_DPOP_ATH_MISMATCH'
  | 'ERR_DPOP_NONCE_MISSING'
  | 'ERR_DPOP_NONCE_INVALID'
  | 'ERR_DPOP_REPLAY'
  | 'ERR_DPOP_REPLAY_CACHE_FULL'
  | 'ERR_DPOP_REPLAY_STORE_UNAVAILABLE'
  | 'ERR_DPOP_CNF_INVALID'
  | 'ERR_DPOP_TOKEN_NOT_BOUND'
  | 'ERR_DPOP_JKT_MISMATCH'
  | 'ERR_GUARD_NO_CREDENTIALS'
  | 'ERR_GUARD_SCHEME_UNSUPPORTED'
  | 'ERR_GUARD_MULTIPLE_CREDENTIALS'
  | 'ERR_GUARD_AUTHORIZATION_MALFORMED'
  | 'ERR_GUARD_DPOP_PROOF_MISSING'
  | 'ERR_GUARD_DPOP_TOKEN_AS_BEARER'
  | 'ERR_GUARD_CNF_UNSUPPORTED'
  | 'ERR_GUARD_CERT_THUMBPRINT_MISSING'
  | 'ERR_GUARD_CERT_THUMBPRINT_MISMATCH'
  | 'ERR_GUARD_INSUFFICIENT_SCOPE';

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

/**
 * RFC 9207: throws unless the authorization response's `iss` is the issuer the request
 * was sent to (a mix-up defence). `serverSupportsIss` (default `true`): the server's
 * discovery says `authorization_response_iss_parameter_supported`, so a missing `iss`
 * is refused too.
 */
export declare function checkAuthorizationResponseIss(
  expected: string,
  iss: string | null | undefined,
  serverSupportsIss?: boolean,
): void;

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

// ---- DPoP -----------------------------------------------------------------------------

/**
 * Where DPoP proofs' `jti`s are remembered. `checkAndInsert` resolves to true the first
 * time `key` is seen (and keeps it until `expiresAt`, seconds since the epoch), false
 * after; a throw, a rejection or another answer refuses the request (fail closed).
 * `key` is base64url(SHA-256(jkt ":" jti)).
 */
export interface ReplayCache {
  checkAndInsert(key: string, expiresAt: number, now: number): boolean | Promise<boolean>;
}

/** The bounded in-process default (100 000 live entries; full: refused). */
export declare class MemoryReplayCache implements ReplayCache {
  constructor(options?: { capacity?: number });
  checkAndInsert(key: string, expiresAt: number, now?: number): boolean;
  readonly size: number;
}

export interface DpopProofCheck {
  /** The request method, as received (compared case-sensitively). */
  method: string;
  /** The absolute request URL (query and fragment are ignored). */
  url: string;
  /** The access token presented with the proof: `ath` becomes required. */
  accessToken?: string;
  /** The nonce the server handed out: the proof must carry it. */
  nonce?: string;
  /** Oldest accepted proof, seconds (60). */
  maxAge?: number;
  clockTolerance?: number;
  algorithms?: JwsAlgorithm[];
  now?: number;
  crypto?: CryptoChoice;
  /** Default: one MemoryReplayCache for the process. */
  replayCache?: ReplayCache;
}

export interface VerifiedDpopProof {
  /** RFC 7638 thumbprint of the proof key: what `cnf.jkt` must equal. */
  jkt: string;
  jti: string;
  iat: number;
  alg: JwsAlgorithm;
  jwk: JsonObject;
  nonce?: string;
}

export declare function verifyDpopProof(proof: string, check: DpopProofCheck): Promise<VerifiedDpopProof>;

export interface DpopProofRequest {
  method: string;
  url: string;
  /** Adds `ath`. */
  accessToken?: string;
  nonce?: string;
  /** `iat`, seconds since the epoch (default: the clock). */
  now?: number;
}

/** A client's DPoP key (P-256, ES256); non-extractable WebCrypto key by default. */
export declare class DpopKey {
  private constructor();
  static generate(options?: { crypto?: CryptoChoice }): Promise<DpopKey>;
  /** From a private P-256 JWK (kty EC, crv P-256, x, y, d). */
  static fromJwk(jwk: string | JsonObject, options?: { crypto?: CryptoChoice }): Promise<DpopKey>;
  readonly publicJwk: { kty: 'EC'; crv: 'P-256'; x: string; y: string };
  readonly thumbprint: string;
  proof(request: DpopProofRequest): Promise<string>;
}

// ---- ResourceGuard --------------------------------------------------------------------

export interface ResourceGuardOptions {
  jwks: JwkSet | string | JsonObject;
  issuer: string | string[];
  audience: string | string[];
  /** Token algorithms (default: every supported one). */
  algorithms?: JwsAlgorithm[];
  typ?: string;
  requiredClaims?: string[];
  maxTokenAge?: number;
  /** "allowed" (default): DPoP-bound tokens with proofs and unbound Bearer tokens. */
  dpop?: 'required' | 'allowed' | 'off';
  /** Proof algorithms, also advertised as `algs` in the DPoP challenge. */
  dpopAlgorithms?: JwsAlgorithm[];
  /** Oldest accepted proof, seconds (60). */
  dpopMaxAge?: number;
  /** Seconds of clock skew for the token and the proof. */
  clockTolerance?: number;
  realm?: string;
  /** Server nonces (RFC 9449 section 9): HMAC-derived, rotating every `period` seconds. */
  nonce?: { secret: string; period: number };
  /** Default: a MemoryReplayCache per guard. Share one (Redis, KV) across instances. */
  replayCache?: ReplayCache;
  crypto?: CryptoChoice;
}

export interface GuardRequest {
  method: string;
  url: string | URL;
  /** The Authorization header (repeated headers as an array are refused). */
  authorization?: string | string[] | null;
  /** The DPoP header. */
  dpop?: string | string[] | null;
  /** SHA-256 thumbprint of the TLS client certificate (RFC 8705), base64url or hex. */
  clientCertificateThumbprint?: string;
  now?: number;
}

export interface GuardAllowed {
  ok: true;
  claims: JwtClaims;
  /** The token's scopes (parsed leniently). */
  scopes: ScopeSet;
  subject?: string;
  clientId?: string;
  patient?: string;
  encounter?: string;
  fhirUser?: string;
  /** The proof key's thumbprint, for a DPoP-bound token. */
  jkt?: string;
}

export interface GuardDenied {
  ok: false;
  /** 503 when the replay cache could not record the proof (full, or the store failed). */
  status: 400 | 401 | 403 | 503;
  /** The OAuth error; null when the request carried no usable credentials, and for a 503. */
  error: 'invalid_request' | 'invalid_token' | 'invalid_dpop_proof' | 'use_dpop_nonce' | 'insufficient_scope' | null;
  errorDescription: string;
  /** Send as the WWW-Authenticate header. */
  wwwAuthenticate: string;
  /** Send as the DPoP-Nonce header, for use_dpop_nonce. */
  dpopNonce?: string;
  code: SmartgateErrorCode;
}

export type GuardResult = GuardAllowed | GuardDenied;

export declare class ResourceGuard {
  constructor(options: ResourceGuardOptions);
  /** Never rejects for a refused request: it answers with `ok: false`. */
  check(request: GuardRequest): Promise<GuardResult>;
  /** The 403 insufficient_scope answer for an allowed request that needs `scope`. */
  insufficientScope(result: GuardAllowed, scope?: string): GuardDenied;
}
