// The token and key every benchmark uses: one ES256 key, one access token (RFC 9068
// shape), made with jose so that no code under test made them.
import * as jose from 'jose';

export const ISSUER = 'https://ehr.example.org';
export const AUDIENCE = 'https://ehr.example.org/fhir';

export async function es256Fixture() {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
  const now = Math.floor(Date.now() / 1000);
  const claims = {
    scope: 'launch/patient patient/Observation.rs patient/Patient.r openid fhirUser',
    patient: 'Patient/123',
    fhirUser: 'Practitioner/456',
    client_id: 'app',
    jti: 'b9a1c3f0-7a31-4b1c-9a1e-0f6c2d9d4e11',
  };
  const token = await new jose.SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' })
    .setIssuer(ISSUER)
    .setAudience(AUDIENCE)
    .setSubject('Practitioner/456')
    .setIssuedAt(now)
    .setExpirationTime(now + 3600)
    .sign(privateKey);
  return { publicKey, privateKey, jwk, token, jwks: { keys: [jwk] } };
}
