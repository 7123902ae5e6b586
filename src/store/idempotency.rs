//! Idempotency keys: claiming a key for a request, storing the response it got, reading it back
//! for a retry, and deleting expired keys.

use tokio_postgres::Client;

use super::{Context, StoreError};

/// A stored first response.
#[derive(Debug, Clone)]
pub struct Stored {
    pub request_hash: Vec<u8>,
    /// `None` while the first request is still running.
    pub status: Option<i16>,
    pub content_type: Option<String>,
    pub location: Option<String>,
    pub body: Vec<u8>,
}

/// Takes `(scope, key)` for a new request. True when this request owns the key and must run;
/// false when another request has (or had) it: read it with [`get`].
pub async fn claim(
    client: &Client,
    scope: &[u8],
    key: &str,
    request_hash: &[u8],
    expiry_s: f64,
    abandoned_s: f64,
) -> Result<bool, StoreError> {
    let row = client
        .query_opt(
            include_str!("../../sql/queries/idempotency_claim.sql"),
            &[&scope, &key, &request_hash, &expiry_s, &abandoned_s],
        )
        .await
        .context("claiming an idempotency key")?;
    Ok(row.is_some())
}

pub async fn get(client: &Client, scope: &[u8], key: &str) -> Result<Option<Stored>, StoreError> {
    let row = client
        .query_opt(
            "SELECT request_hash, status, content_type, location, body
             FROM idempotency_key WHERE scope = $1 AND key = $2",
            &[&scope, &key],
        )
        .await
        .context("reading an idempotency key")?;
    Ok(row.map(|r| Stored {
        request_hash: r.get(0),
        status: r.get(1),
        content_type: r.get(2),
        location: r.get(3),
        body: r.get::<_, Option<Vec<u8>>>(4).unwrap_or_default(),
    }))
}

/// Stores the response of the request that owns the key.
pub async fn complete(
    client: &Client,
    scope: &[u8],
    key: &str,
    status: i16,
    content_type: Option<&str>,
    location: Option<&str>,
    body: &[u8],
) -> Result<(), StoreError> {
    client
        .execute(
            "UPDATE idempotency_key SET status = $3, content_type = $4, location = $5, body = $6
             WHERE scope = $1 AND key = $2 AND status IS NULL",
            &[&scope, &key, &status, &content_type, &location, &body],
        )
        .await
        .context("storing an idempotent response")?;
    Ok(())
}

/// Gives the key back (the request failed in a way a retry may fix).
pub async fn release(client: &Client, scope: &[u8], key: &str) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM idempotency_key WHERE scope = $1 AND key = $2 AND status IS NULL",
            &[&scope, &key],
        )
        .await
        .context("releasing an idempotency key")?;
    Ok(())
}

/// Deletes keys older than `expiry_s` seconds; returns how many.
pub async fn delete_expired(client: &Client, expiry_s: f64) -> Result<u64, StoreError> {
    client
        .execute(
            "DELETE FROM idempotency_key WHERE created_at < now() - make_interval(secs => $1)",
            &[&expiry_s],
        )
        .await
        .context("deleting expired idempotency keys")
}
