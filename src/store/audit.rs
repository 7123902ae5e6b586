//! The append-only audit log: one row per write, in the transaction of that write. The table's
//! triggers refuse UPDATE, DELETE and TRUNCATE, so nothing here can change an entry.

use deadpool_postgres::GenericClient;
use serde_json::Value;

use super::{Context, StoreError};

/// Who made a write: an account, or an anonymous visitor.
#[derive(Debug, Clone)]
pub struct Actor {
    pub id: Option<i64>,
    /// The username, or `anonymous`, or `cli` for the command line.
    pub label: String,
}

impl Actor {
    pub fn anonymous() -> Actor {
        Actor {
            id: None,
            label: "anonymous".to_owned(),
        }
    }
}

/// Appends one entry. Call it with the transaction of the write it records.
pub async fn record<C: GenericClient>(
    client: &C,
    actor: &Actor,
    action: &str,
    target_type: &str,
    target_id: &str,
    before: Option<Value>,
    after: Option<Value>,
) -> Result<(), StoreError> {
    let stmt = client
        .prepare_cached(
            "INSERT INTO audit_log (actor_id, actor_label, action, target_type, target_id, before, after)
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .await
        .context("preparing the audit insert")?;
    client
        .execute(
            &stmt,
            &[
                &actor.id,
                &actor.label,
                &action,
                &target_type,
                &target_id,
                &before,
                &after,
            ],
        )
        .await
        .context("writing the audit log")?;
    Ok(())
}

/// The newest entries first, each as a JSON object; `before_id` pages backwards.
pub async fn list<C: GenericClient>(
    client: &C,
    limit: i64,
    before_id: Option<i64>,
) -> Result<Vec<Value>, StoreError> {
    let rows = client
        .query(
            "SELECT json_build_object('id', id, 'at', at, 'actor_id', actor_id, 'actor', actor_label,
                    'action', action, 'target_type', target_type, 'target_id', target_id,
                    'before', before, 'after', after)
             FROM audit_log WHERE ($2::bigint IS NULL OR id < $2)
             ORDER BY id DESC LIMIT $1",
            &[&limit, &before_id],
        )
        .await
        .context("reading the audit log")?;
    Ok(rows.iter().map(|r| r.get(0)).collect())
}
