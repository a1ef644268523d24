// A DPoP replay cache shared by every instance of a resource server, on Redis.
//
// The contract smartgate calls: checkAndInsert(key, expiresAt, now) resolves to true the
// first time `key` is seen, false after. `key` is base64url(SHA-256(jkt ":" jti)), 43
// characters, no secret in it; `expiresAt` (seconds since the epoch) is when the proof
// would be refused as stale anyway, so the entry can expire with it. SET NX is atomic:
// of two instances racing on one proof, exactly one gets 'OK'. A rejected promise (Redis
// down) makes the guard refuse the request: it fails closed, with status 503 and
// ERR_DPOP_REPLAY_STORE_UNAVAILABLE.
export function redisReplayCache(client, { prefix = 'smartgate:dpop:' } = {}) {
  return {
    async checkAndInsert(key, expiresAt, now) {
      const reply = await client.set(prefix + key, '1', {
        condition: 'NX',
        expiration: { type: 'EXAT', value: Math.max(expiresAt, now) + 1 },
      });
      return reply === 'OK';
    },
  };
}
