// A Cloudflare Worker in front of a FHIR API: DPoP-bound SMART access tokens only.
import init, { ResourceGuard } from 'smartgate/web';
import wasm from 'smartgate/smartgate_bg.wasm';

let guard;
export default {
  async fetch(request, env) {
    await init(wasm);
    guard ??= new ResourceGuard({ jwks: env.JWKS, issuer: env.ISSUER, audience: env.FHIR_BASE, dpop: 'required' });
    const h = request.headers;
    const r = await guard.check({ method: request.method, url: request.url, authorization: h.get('authorization'), dpop: h.get('dpop') });
    if (!r.ok) return new Response(r.errorDescription, { status: r.status, headers: { 'WWW-Authenticate': r.wwwAuthenticate } });
    return Response.json({ patient: r.patient, scopes: r.scopes.toString() }); // hand over to the FHIR handler here
  },
};
