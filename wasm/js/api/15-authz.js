// ---- Authorization responses (RFC 9207) -------------------------------------------------

/**
 * Throws unless `iss` (the `iss` query parameter of the authorization response) is the
 * issuer the request was sent to. With `serverSupportsIss` (the server's discovery
 * document says `authorization_response_iss_parameter_supported`; SMART servers do) a
 * missing `iss` is refused too.
 */
function checkAuthorizationResponseIss(expected, iss, serverSupportsIss = true) {
  host.ready();
  str(expected, 'expected');
  optStr(iss, 'iss');
  if (typeof serverSupportsIss !== 'boolean') {
    throw invalid('serverSupportsIss must be a boolean');
  }
  try {
    w.checkAuthorizationResponseIss(expected, iss ?? undefined, serverSupportsIss);
  } catch (e) {
    throw fromRust(e);
  }
}
