#!/usr/bin/env python3
"""Makes dpop_jwcrypto.json: DPoP proofs (RFC 9449) made by an independent
implementation, Python's jwcrypto (on pyca/cryptography), for core/tests/core/dpop.rs.

    pip install jwcrypto==1.6.1
    python3 core/tests/data/make_dpop_fixtures.py > core/tests/data/dpop_jwcrypto.json

Keys are fixed (P-256 and P-384 scalars derived from labels, the RSA key of RFC 7515
appendix A.2), and so are every iat and jti; ECDSA and PSS signatures are randomized,
so a re-run changes the signatures and nothing else. Each case names the request it
was made for and the expected outcome: "ok", or the core's error code.
"""

import base64
import hashlib
import json
import os
import sys

from importlib.metadata import version
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwcrypto import jwk, jws

NOW = 1_700_000_000
HERE = os.path.dirname(os.path.abspath(__file__))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64int(s: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)), "big")


def ec_key(label: str, curve) -> jwk.JWK:
    order = {
        "P-256": 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
        "P-384": int(
            "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
            "581a0db248b0a77aecec196accc52973",
            16,
        ),
    }[curve.name == "secp256r1" and "P-256" or "P-384"]
    d = int.from_bytes(hashlib.sha512(label.encode()).digest(), "big") % (order - 1) + 1
    return jwk.JWK.from_pyca(ec.derive_private_key(d, curve))


def rfc7515_rsa_key() -> jwk.JWK:
    with open(os.path.join(HERE, "rfc7515_a2_rs256.json")) as f:
        v = json.load(f)
    n, e, d = b64int(v["jwk"]["n"]), b64int(v["jwk"]["e"]), b64int(v["d"])
    p, q = rsa.rsa_recover_prime_factors(n, e, d)
    numbers = rsa.RSAPrivateNumbers(
        p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q),
        rsa.RSAPublicNumbers(e, n),
    )
    return jwk.JWK.from_pyca(numbers.private_key())


def sign(key: jwk.JWK, alg: str, header: dict, claims: dict) -> str:
    token = jws.JWS(json.dumps(claims, separators=(",", ":")).encode())
    token.add_signature(key, alg=alg, protected=json.dumps(dict(header, alg=alg)))
    return token.serialize(compact=True)


def raw(header: dict, claims: dict, signature: bytes = b"") -> str:
    enc = lambda o: b64(json.dumps(o, separators=(",", ":")).encode())
    return f"{enc(header)}.{enc(claims)}.{b64(signature)}"


def ath(token: str) -> str:
    return b64(hashlib.sha256(token.encode()).digest())


P256 = ec_key("smartgate dpop fixture client p256", ec.SECP256R1())
P256_OTHER = ec_key("smartgate dpop fixture other p256", ec.SECP256R1())
P384 = ec_key("smartgate dpop fixture client p384", ec.SECP384R1())
RSA = rfc7515_rsa_key()
AS_KEY = ec_key("smartgate dpop fixture authorization server", ec.SECP256R1())

TOKEN_URL = "https://as.example.org/token"
FHIR = "https://fhir.example.org/r4"
OPAQUE_AT = "Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU"


def pub(key: jwk.JWK) -> dict:
    return key.export_public(as_dict=True)


def header(key: jwk.JWK, **extra) -> dict:
    return dict({"typ": "dpop+jwt", "jwk": pub(key)}, **extra)


def claims(htm: str, htu: str, jti: str, iat: int = NOW, **extra) -> dict:
    return dict({"jti": jti, "htm": htm, "htu": htu, "iat": iat}, **extra)


cases = []


def case(name, proof, method, url, expect, key=None, access_token=None, nonce=None, now=NOW):
    cases.append({
        "name": name,
        "proof": proof,
        "method": method,
        "url": url,
        "access_token": access_token,
        "server_nonce": nonce,
        "now": now,
        "expect": expect,
        "jkt": key.thumbprint() if key is not None and expect == "ok" else None,
    })


# Valid proofs.
case("es256_token_request",
     sign(P256, "ES256", header(P256), claims("POST", TOKEN_URL, "jti-es256-1")),
     "POST", TOKEN_URL, "ok", key=P256)
case("es256_resource_with_ath_and_nonce",
     sign(P256, "ES256", header(P256),
          claims("GET", FHIR + "/Patient/123", "jti-es256-2", ath=ath(OPAQUE_AT), nonce="n-2023")),
     "GET", FHIR + "/Patient/123", "ok", key=P256, access_token=OPAQUE_AT, nonce="n-2023")
case("es256_htu_normalised",
     sign(P256, "ES256", header(P256),
          claims("GET", "HTTPS://FHIR.Example.org:443/r4/%7ealice/./Observation", "jti-es256-3")),
     "GET", FHIR + "/~alice/Observation?code=1234-5#top", "ok", key=P256)
case("es256_ipv6_host",
     sign(P256, "ES256", header(P256), claims("PUT", "http://[0:0::1]:8080/fhir", "jti-es256-4")),
     "PUT", "http://[::1]:8080/fhir", "ok", key=P256)
case("es384",
     sign(P384, "ES384", header(P384), claims("POST", TOKEN_URL, "jti-es384-1")),
     "POST", TOKEN_URL, "ok", key=P384)
case("ps256_rfc7515_key",
     sign(RSA, "PS256", header(RSA), claims("POST", TOKEN_URL, "jti-ps256-1")),
     "POST", TOKEN_URL, "ok", key=RSA)
case("rs256_rfc7515_key",
     sign(RSA, "RS256", header(RSA), claims("DELETE", FHIR + "/Observation/9", "jti-rs256-1")),
     "DELETE", FHIR + "/Observation/9", "ok", key=RSA)

# Refused proofs.
case("typ_jwt",
     sign(P256, "ES256", dict(header(P256), typ="JWT"), claims("POST", TOKEN_URL, "jti-bad-1")),
     "POST", TOKEN_URL, "ERR_DPOP_TYP_MISMATCH")
case("typ_missing",
     sign(P256, "ES256", {"jwk": pub(P256)}, claims("POST", TOKEN_URL, "jti-bad-2")),
     "POST", TOKEN_URL, "ERR_DPOP_TYP_MISMATCH")
case("jwk_missing",
     sign(P256, "ES256", {"typ": "dpop+jwt"}, claims("POST", TOKEN_URL, "jti-bad-3")),
     "POST", TOKEN_URL, "ERR_DPOP_JWK_MISSING")
case("jwk_with_private_d",
     sign(P256, "ES256", {"typ": "dpop+jwt", "jwk": P256.export_private(as_dict=True)},
          claims("POST", TOKEN_URL, "jti-bad-4")),
     "POST", TOKEN_URL, "ERR_JWK_PRIVATE_KEY")
oct_key = jwk.JWK.from_json(json.dumps({"kty": "oct", "k": b64(b"0123456789abcdef0123456789abcdef")}))
case("hs256_symmetric",
     sign(oct_key, "HS256", {"typ": "dpop+jwt", "jwk": oct_key.export(as_dict=True)},
          claims("POST", TOKEN_URL, "jti-bad-5")),
     "POST", TOKEN_URL, "ERR_JWS_ALG_SYMMETRIC")
case("alg_none",
     raw(dict(header(P256), alg="none"), claims("POST", TOKEN_URL, "jti-bad-6")),
     "POST", TOKEN_URL, "ERR_JWS_ALG_NONE")
case("signed_by_another_key",
     sign(P256_OTHER, "ES256", header(P256), claims("POST", TOKEN_URL, "jti-bad-7")),
     "POST", TOKEN_URL, "ERR_JWS_SIGNATURE_INVALID")
case("htm_lower_case",
     sign(P256, "ES256", header(P256), claims("post", TOKEN_URL, "jti-bad-8")),
     "POST", TOKEN_URL, "ERR_DPOP_HTM_MISMATCH")
case("htu_other_port",
     sign(P256, "ES256", header(P256), claims("POST", "https://as.example.org:8443/token", "jti-bad-9")),
     "POST", TOKEN_URL, "ERR_DPOP_HTU_MISMATCH")
case("htu_userinfo",
     sign(P256, "ES256", header(P256), claims("POST", "https://user@as.example.org/token", "jti-bad-10")),
     "POST", TOKEN_URL, "ERR_DPOP_HTU_INVALID")
no_jti = claims("POST", TOKEN_URL, "x")
del no_jti["jti"]
case("jti_missing", sign(P256, "ES256", header(P256), no_jti), "POST", TOKEN_URL, "ERR_DPOP_CLAIM_MISSING")
case("iat_string",
     sign(P256, "ES256", header(P256), claims("POST", TOKEN_URL, "jti-bad-11", iat=str(NOW))),
     "POST", TOKEN_URL, "ERR_DPOP_CLAIM_INVALID")
case("iat_stale",
     sign(P256, "ES256", header(P256), claims("POST", TOKEN_URL, "jti-bad-12", iat=NOW - 61)),
     "POST", TOKEN_URL, "ERR_DPOP_IAT_STALE")
case("iat_future",
     sign(P256, "ES256", header(P256), claims("POST", TOKEN_URL, "jti-bad-13", iat=NOW + 6)),
     "POST", TOKEN_URL, "ERR_DPOP_IAT_FUTURE")
case("ath_missing",
     sign(P256, "ES256", header(P256), claims("GET", FHIR + "/Patient", "jti-bad-14")),
     "GET", FHIR + "/Patient", "ERR_DPOP_ATH_MISSING", access_token=OPAQUE_AT)
case("ath_of_another_token",
     sign(P256, "ES256", header(P256), claims("GET", FHIR + "/Patient", "jti-bad-15", ath=ath("other"))),
     "GET", FHIR + "/Patient", "ERR_DPOP_ATH_MISMATCH", access_token=OPAQUE_AT)
case("nonce_missing",
     sign(P256, "ES256", header(P256), claims("POST", TOKEN_URL, "jti-bad-16")),
     "POST", TOKEN_URL, "ERR_DPOP_NONCE_MISSING", nonce="n-2023")
case("nonce_old",
     sign(P256, "ES256", header(P256), claims("POST", TOKEN_URL, "jti-bad-17", nonce="n-2022")),
     "POST", TOKEN_URL, "ERR_DPOP_NONCE_INVALID", nonce="n-2023")

# A DPoP-bound JWT access token (RFC 9068 at+jwt, cnf.jkt of P256) and a proof for it,
# both from jwcrypto, for the guard.
at_claims = {
    "iss": "https://as.example.org", "aud": FHIR, "sub": "Practitioner/7",
    "client_id": "app-1", "scope": "patient/Observation.rs launch/patient",
    "patient": "123", "iat": NOW - 30, "exp": NOW + 300, "jti": "at-1",
    "cnf": {"jkt": P256.thumbprint()},
}
access_token = sign(AS_KEY, "ES256", {"typ": "at+jwt", "kid": "as-1"}, at_claims)
guard = {
    "jwks": {"keys": [dict(pub(AS_KEY), kid="as-1", alg="ES256", use="sig")]},
    "issuer": at_claims["iss"],
    "audience": FHIR,
    "access_token": access_token,
    "authorization": "DPoP " + access_token,
    "dpop": sign(P256, "ES256", header(P256),
                 claims("GET", FHIR + "/Observation", "jti-guard-1", ath=ath(access_token))),
    "method": "GET",
    "url": FHIR + "/Observation?patient=123",
    "now": NOW,
    "jkt": P256.thumbprint(),
}

json.dump({
    "source": "made by core/tests/data/make_dpop_fixtures.py with jwcrypto "
              + version("jwcrypto") + " (Python " + sys.version.split()[0] + ")",
    "now": NOW,
    "cases": cases,
    "guard": guard,
}, sys.stdout, indent=1)
sys.stdout.write("\n")
