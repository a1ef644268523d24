//! A fixed one-minute window per client and endpoint (`[rate_limit]` in the
//! configuration). Over the limit the caller gets 429 with `Retry-After`.

use crate::state::AppState;

/// Counts one request of `client_id` to `endpoint`; `Err(retry_after_secs)` when it is
/// over the limit.
pub(crate) fn check(state: &AppState, endpoint: &'static str, client_id: &str) -> Result<(), u64> {
    let Some(limit) = &state.settings.config.rate_limit else {
        return Ok(());
    };
    let now = state.now();
    let mut store = state.store();
    let entry = store
        .rate
        .entry((endpoint, client_id.to_string()))
        .or_insert((now, 0));
    if now >= entry.0 + 60 || now < entry.0 {
        *entry = (now, 0);
    }
    if entry.1 >= limit.requests_per_minute {
        let retry_after = u64::try_from(entry.0 + 60 - now).unwrap_or(1).max(1);
        return Err(retry_after);
    }
    entry.1 += 1;
    Ok(())
}
