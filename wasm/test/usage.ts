// Type-checked by `tsc --noEmit -p test/tsconfig.json` (never run): the declarations as
// they ship, through the package's "exports". Each @ts-expect-error line proves a type is
// not `any`: if it were, the expected error would be missing and tsc would fail.
import {
  JwkSet,
  RemoteJwkSet,
  ScopeSet,
  SmartgateError,
  checkAuthorizationResponseIss,
  createPkcePair,
  jwkThumbprint,
  pkceChallenge,
  supportedAlgorithms,
  verifyJwt,
  verifyPkce,
  verifyDpopProof,
  DpopKey,
  MemoryReplayCache,
  ResourceGuard,
  type GuardResult,
  type ReplayCache,
  type VerifiedDpopProof,
  type JwsAlgorithm,
  type ScopeDecision,
  type SmartgateErrorCode,
  type VerifiedJwt,
} from 'smartgate';
import init, { initSync, verifyJwt as webVerifyJwt } from 'smartgate/web';

const pair = createPkcePair();
const method: 'S256' = pair.method;
const challenge: string = pkceChallenge(pair.verifier);
const ok: boolean = verifyPkce(pair.verifier, challenge, method);
// @ts-expect-error plain is not offered
verifyPkce(pair.verifier, challenge, 'plain');
// @ts-expect-error the verifier is a string
pkceChallenge(43);

const keys: JwkSet = JwkSet.parse({ keys: [] });
const kid: string | undefined = keys.keys[0]?.kid;
const skippedCode: SmartgateErrorCode = keys.skipped[0]!.code;
const thumbprint: string = jwkThumbprint({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y' });
// @ts-expect-error JwkSet is made by JwkSet.parse
new JwkSet();

const remote = new RemoteJwkSet(new URL('https://ehr.example/jwks'), { cooldown: 30, timeout: 2000 });
const current: JwkSet | null = remote.keySet;
// @ts-expect-error options are checked
new RemoteJwkSet('https://ehr.example/jwks', { ttl: 5 });

async function jwt(token: string): Promise<string> {
  const verified: VerifiedJwt = await verifyJwt(token, keys, {
    issuer: 'https://ehr.example',
    audience: ['https://ehr.example/fhir'],
    algorithms: ['ES256'],
    clockTolerance: 5,
    maxTokenAge: 300,
    typ: 'at+jwt',
    requiredClaims: ['scope'],
    now: 1_800_000_000,
    crypto: 'builtin',
  });
  const alg: JwsAlgorithm = verified.header.alg;
  await verifyJwt(token, remote, { issuer: 'i', audience: 'a' });
  // @ts-expect-error issuer and audience are required
  await verifyJwt(token, keys, { issuer: 'i' });
  // @ts-expect-error crypto takes "webcrypto" or "builtin"
  await verifyJwt(token, keys, { issuer: 'i', audience: 'a', crypto: 'native' });
  try {
    await webVerifyJwt(token, keys, { issuer: 'i', audience: 'a' });
  } catch (e) {
    if (e instanceof SmartgateError) {
      const code: SmartgateErrorCode = e.code;
      const name: 'SmartgateError' = e.name;
      return code + name + alg;
    }
  }
  return String(verified.claims.scope);
}

const scopes = ScopeSet.parse('patient/Observation.rs');
const permitted: boolean = scopes.permits({ resourceType: 'Observation', interaction: 'search', context: 'patient', params: { code: 'x' } });
const decision: ScopeDecision = scopes.authorize({ resourceType: 'Observation', interaction: 'read' });
if (decision.ok) {
  const filter: 'filter' | 'check' = decision.enforcement;
  void filter;
} else {
  const missing: string[] = decision.requiredScopes;
  void missing;
}
// @ts-expect-error interactions are a closed set
scopes.permits({ resourceType: 'Observation', interaction: 'readd' });
const lenient = ScopeSet.parseLenient('x');
const v2: string = lenient.scopes.toV2();
const algs: JwsAlgorithm[] = supportedAlgorithms();

async function web(module: WebAssembly.Module): Promise<void> {
  await init();
  await init(module);
  await init({ module_or_path: module });
  initSync(module);
}

async function dpop(): Promise<string> {
  const key = await DpopKey.generate();
  const alsoKey: DpopKey = await DpopKey.fromJwk({ kty: 'EC', crv: 'P-256', x: 'x', y: 'y', d: 'd' }, { crypto: 'builtin' });
  const proof: string = await key.proof({ method: 'GET', url: 'https://ehr.example/fhir/Patient', accessToken: 't' });
  const shared: ReplayCache = { checkAndInsert: async (k: string, exp: number, now: number) => k.length + exp + now > 0 };
  const verified: VerifiedDpopProof = await verifyDpopProof(proof, { method: 'GET', url: 'https://x/', replayCache: shared });
  // @ts-expect-error method and url are required
  await verifyDpopProof(proof, { accessToken: 't' });
  const guard = new ResourceGuard({ jwks: keys, issuer: 'i', audience: 'a', dpop: 'required', replayCache: new MemoryReplayCache() });
  const r: GuardResult = await guard.check({ method: 'GET', url: new URL('https://x/'), authorization: null, dpop: undefined });
  if (r.ok) {
    const p: boolean = r.scopes.permits({ resourceType: 'Patient', interaction: 'read' });
    const denied = guard.insufficientScope(r, 'patient/Patient.r');
    const status: 400 | 401 | 403 | 503 = denied.status;
    return String(p) + status + alsoKey.thumbprint;
  }
  // @ts-expect-error dpop takes three modes
  new ResourceGuard({ jwks: keys, issuer: 'i', audience: 'a', dpop: 'yes' });
  const header: string = r.wwwAuthenticate;
  return header + verified.jkt + key.publicJwk.crv;
}

void [ok, kid, thumbprint, current, jwt, permitted, v2, algs, web, dpop];

// RFC 9207 (mix-up defence).
checkAuthorizationResponseIss('https://ehr.example.org', new URLSearchParams('iss=x').get('iss'));
// @ts-expect-error serverSupportsIss is a boolean
checkAuthorizationResponseIss('https://ehr.example.org', 'x', 'yes');
