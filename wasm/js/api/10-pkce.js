// ---- PKCE (RFC 7636) -------------------------------------------------------------------

/** A fresh verifier (43 characters, 256 random bits) and its S256 challenge. */
function createPkcePair() {
  host.ready();
  try {
    const verifier = w.pkceVerifier();
    return { verifier, challenge: w.pkceChallenge(verifier), method: 'S256' };
  } catch (e) {
    throw fromRust(e);
  }
}

/** The S256 challenge of a verifier (its syntax checked first). */
function pkceChallenge(verifier) {
  host.ready();
  str(verifier, 'verifier');
  try {
    return w.pkceChallenge(verifier);
  } catch (e) {
    throw fromRust(e);
  }
}

/** Whether `verifier` matches `challenge`; only `S256` (`plain` is refused). */
function verifyPkce(verifier, challenge, method) {
  host.ready();
  str(verifier, 'verifier');
  str(challenge, 'challenge');
  optStr(method, 'method');
  try {
    return w.verifyPkce(verifier, challenge, method ?? undefined);
  } catch (e) {
    throw fromRust(e);
  }
}
