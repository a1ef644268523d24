// Type-checked by `tsc --noEmit -p test/tsconfig.json` (never run): the declarations as
// they ship, through the package's "exports". Each @ts-expect-error line proves a type is
// not `any`: if it were, the expected error would be missing and tsc would fail.
import {
  JwkSet,
  RemoteJwkSet,
  ScopeSet,
  SmartgateError,
  createPkcePair,
  jwkThumbprint,
  pkceChallenge,
  supportedAlgorithms,
  verifyJwt,
  verifyPkce,
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

void [ok, kid, thumbprint, current, jwt, permitted, v2, algs, web];
