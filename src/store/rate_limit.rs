//! Fleet-wide rate limits (V13): one GCRA step per request in PostgreSQL, so every SIGAP process
//! of a fleet shares one count per client. See docs/operations.md "Fleet" for why PostgreSQL and
//! not Redis.

use deadpool_postgres::Client;

use super::{Context, StoreError};

const TAKE_SQL: &str = include_str!("../../sql/queries/rate_limit_take.sql");

/// Takes one request from `key`'s allowance of `per_minute` a minute (also the burst); false when
/// the allowance is spent.
pub async fn take(client: &Client, key: &str, per_minute: u32) -> Result<bool, StoreError> {
    let interval_s = 60.0 / f64::from(per_minute.max(1));
    let period_s = 60.0_f64;
    let stmt = client
        .prepare_cached(TAKE_SQL)
        .await
        .context("preparing a rate limit check")?;
    let rows = client
        .query(&stmt, &[&key, &interval_s, &period_s])
        .await
        .context("checking a rate limit")?;
    Ok(!rows.is_empty())
}

/// Forgets keys whose allowance has fully recovered.
pub async fn prune(client: &Client) -> Result<u64, StoreError> {
    client
        .execute("DELETE FROM rate_limit WHERE tat < now()", &[])
        .await
        .context("pruning rate limits")
}
