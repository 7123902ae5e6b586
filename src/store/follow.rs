//! Email followers of proposals (V12): subscribing with double opt-in, the confirm and
//! unsubscribe tokens (random, stored as SHA-256), the status mails enqueued in the transaction
//! of a status change, the outbox the mail sender claims from, and the sweep that forgets
//! addresses no longer needed (docs/privacy.md "Email followers").
//!
//! An address is read only by the sender ([`Due`]); nothing here hands one to the API.
//!
//! Sending one mail: [`next_due`] finds a candidate, [`store_tokens`] commits the tokens of its
//! links (so a link works the moment the mail arrives; no lock is held yet, so this cannot wait
//! on an unsubscribe that waits on the sender), [`claim`] locks the row for the sender's
//! transaction, and [`mark_sent`] or [`mark_failed`] (with [`drop_tokens`]) ends it.

use std::time::Duration;

use chrono::{DateTime, Utc};
use deadpool_postgres::{GenericClient, Transaction};

use super::{Context, StoreError};
use crate::domain::ProposalStatus;

/// Days an unconfirmed address is kept before it is deleted (and its confirm link stops working).
pub const UNCONFIRMED_DAYS: i32 = 7;
/// A repeated follow request for an unconfirmed address queues a new confirmation mail only when
/// the last one is older than this (so a form cannot be used to flood someone's inbox).
pub const CONFIRM_RESEND_AFTER: Duration = Duration::from_secs(10 * 60);

/// What a follow request did. The API answers every case alike: whether an address already
/// follows is never told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subscribed {
    /// A new follower, with its confirmation mail queued.
    New,
    /// An unconfirmed follower asked again: its expiry starts anew; `resent` when another
    /// confirmation mail was queued.
    Pending { resent: bool },
    /// The address already follows, confirmed: nothing changes.
    AlreadyConfirmed,
}

/// Adds (or refreshes) an unconfirmed follower of `proposal_id` and queues its confirmation
/// mail, in `tx`.
pub async fn subscribe(
    tx: &Transaction<'_>,
    proposal_id: i64,
    email: &str,
    lang: &str,
) -> Result<Subscribed, StoreError> {
    let inserted = tx
        .query_opt(
            "INSERT INTO proposal_follower (proposal_id, email, lang) VALUES ($1, $2, $3)
             ON CONFLICT (proposal_id, lower(email)) DO NOTHING RETURNING id",
            &[&proposal_id, &email, &lang],
        )
        .await
        .context("adding a follower")?;
    if let Some(row) = inserted {
        let id: i64 = row.get(0);
        queue_confirmation(tx, id).await?;
        return Ok(Subscribed::New);
    }
    // The address is there: lock it (a concurrent request for it waits here).
    let row = tx
        .query_one(
            "SELECT id, confirmed_at IS NOT NULL,
                    EXISTS (SELECT 1 FROM mail_outbox o
                            WHERE o.follower_id = f.id AND o.kind = 'confirm'
                              AND (o.sent_at IS NULL AND o.failed_at IS NULL
                                   OR o.created_at > now() - make_interval(secs => $3)))
             FROM proposal_follower f
             WHERE proposal_id = $1 AND lower(email) = lower($2) FOR UPDATE",
            &[&proposal_id, &email, &(CONFIRM_RESEND_AFTER.as_secs_f64())],
        )
        .await
        .context("reading a follower")?;
    let id: i64 = row.get(0);
    if row.get::<_, bool>(1) {
        return Ok(Subscribed::AlreadyConfirmed);
    }
    tx.execute(
        "UPDATE proposal_follower SET created_at = now(), lang = $2 WHERE id = $1",
        &[&id, &lang],
    )
    .await
    .context("refreshing a follower")?;
    let recent: bool = row.get(2);
    if !recent {
        queue_confirmation(tx, id).await?;
    }
    Ok(Subscribed::Pending { resent: !recent })
}

async fn queue_confirmation(tx: &Transaction<'_>, follower_id: i64) -> Result<(), StoreError> {
    tx.execute(
        "INSERT INTO mail_outbox (follower_id, kind) VALUES ($1, 'confirm')",
        &[&follower_id],
    )
    .await
    .context("queueing a confirmation mail")?;
    Ok(())
}

/// The proposal a link was about, for the page the link opens.
#[derive(Debug, Clone)]
pub struct Followed {
    pub tracking_code: String,
    pub lang: String,
}

/// Confirms the follower behind a confirm token (again: a second click changes nothing). `None`
/// when the token is unknown, or the follower expired unconfirmed or was deleted.
pub async fn confirm<C: GenericClient>(
    client: &C,
    token_hash: &[u8],
) -> Result<Option<Followed>, StoreError> {
    let row = client
        .query_opt(
            "UPDATE proposal_follower f SET confirmed_at = coalesce(f.confirmed_at, now())
             FROM follower_token t, proposal p
             WHERE t.token_hash = $1 AND t.purpose = 'confirm'
               AND f.id = t.follower_id AND p.id = f.proposal_id
               AND (f.confirmed_at IS NOT NULL OR f.created_at > now() - make_interval(days => $2))
             RETURNING p.tracking_code, f.lang",
            &[&token_hash, &UNCONFIRMED_DAYS],
        )
        .await
        .context("confirming a follower")?;
    Ok(row.map(|r| Followed {
        tracking_code: r.get(0),
        lang: r.get(1),
    }))
}

/// Deletes the follower behind an unsubscribe token, with its tokens and queued mails. `None`
/// when there is none (already gone: the link works any number of times).
pub async fn unsubscribe<C: GenericClient>(
    client: &C,
    token_hash: &[u8],
) -> Result<Option<Followed>, StoreError> {
    let row = client
        .query_opt(
            "DELETE FROM proposal_follower f USING follower_token t, proposal p
             WHERE t.token_hash = $1 AND t.purpose = 'unsubscribe'
               AND f.id = t.follower_id AND p.id = f.proposal_id
             RETURNING p.tracking_code, f.lang",
            &[&token_hash],
        )
        .await
        .context("deleting a follower")?;
    Ok(row.map(|r| Followed {
        tracking_code: r.get(0),
        lang: r.get(1),
    }))
}

/// Queues one status mail per confirmed follower of the proposal for the event `event_id`, in
/// the transaction that changed the status. Returns how many.
pub async fn enqueue_status(
    tx: &Transaction<'_>,
    proposal_id: i64,
    event_id: i64,
) -> Result<u64, StoreError> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO mail_outbox (follower_id, kind, event_id)
             SELECT f.id, 'status', $2 FROM proposal_follower f
             WHERE f.proposal_id = $1 AND f.confirmed_at IS NOT NULL
             ORDER BY f.id",
        )
        .await
        .context("preparing the status mail queue")?;
    tx.execute(&stmt, &[&proposal_id, &event_id])
        .await
        .context("queueing status mails")
}

/// How many confirmed followers a proposal has (for staff; never who).
pub async fn follower_count<C: GenericClient>(
    client: &C,
    proposal_id: i64,
) -> Result<i64, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT count(*) FROM proposal_follower
             WHERE proposal_id = $1 AND confirmed_at IS NOT NULL",
        )
        .await
        .context("preparing the follower count")?;
    Ok(client
        .query_one(&stmt, &[&proposal_id])
        .await
        .context("counting followers")?
        .get(0))
}

// ---------------------------------------------------------------------------------------------
// The sender's side

/// Which mail an outbox row is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    Confirm,
    Status,
}

/// A due mail, claimed (row-locked) in the sender's transaction, with what its text needs.
#[derive(Debug, Clone)]
pub struct Due {
    pub outbox_id: i64,
    pub kind: MailKind,
    pub attempts: i32,
    pub follower_id: i64,
    pub email: String,
    pub lang: String,
    pub tracking_code: String,
    pub title: String,
    /// The event of a status mail.
    pub from_status: Option<String>,
    pub to_status: Option<String>,
    pub note: Option<String>,
    pub event_at: Option<DateTime<Utc>>,
    /// The proposal's cycle year now (a carry-over names the new one).
    pub cycle_year: i32,
    /// The tracking code of the proposal this one was merged into.
    pub merged_into_code: Option<String>,
}

impl Due {
    /// True when this is the last mail its proposal will cause (a final status).
    pub fn is_final(&self) -> bool {
        self.to_status
            .as_deref()
            .and_then(ProposalStatus::parse)
            .is_some_and(ProposalStatus::is_final)
    }
}

/// The oldest due mail nobody holds: (outbox id, follower id, kind). Its row lock ends with the
/// statement; [`claim`] takes it for the sending.
pub async fn next_due<C: GenericClient>(
    client: &C,
) -> Result<Option<(i64, i64, MailKind)>, StoreError> {
    let stmt = client
        .prepare_cached(
            "SELECT o.id, o.follower_id, o.kind = 'confirm' FROM mail_outbox o
             WHERE o.sent_at IS NULL AND o.failed_at IS NULL AND o.next_attempt_at <= now()
             ORDER BY o.next_attempt_at, o.id
             LIMIT 1
             FOR UPDATE SKIP LOCKED",
        )
        .await
        .context("preparing the outbox look-up")?;
    Ok(client
        .query_opt(&stmt, &[])
        .await
        .context("looking for a due mail")?
        .map(|r| {
            let kind = if r.get::<_, bool>(2) {
                MailKind::Confirm
            } else {
                MailKind::Status
            };
            (r.get(0), r.get(1), kind)
        }))
}

/// Claims the mail `outbox_id` if it is still due and nobody holds it, locking its row until
/// `tx` ends (other senders skip it), with what its text needs.
pub async fn claim(tx: &Transaction<'_>, outbox_id: i64) -> Result<Option<Due>, StoreError> {
    let stmt = tx
        .prepare_cached(
            "SELECT o.id, o.kind, o.attempts, f.id, f.email, f.lang, p.tracking_code, p.title,
                    e.from_status, e.to_status, e.note, e.at, p.cycle_year, m.tracking_code
             FROM mail_outbox o
             JOIN proposal_follower f ON f.id = o.follower_id
             JOIN proposal p ON p.id = f.proposal_id
             LEFT JOIN proposal_event e ON e.id = o.event_id
             LEFT JOIN proposal m ON m.id = p.merged_into
             WHERE o.id = $1 AND o.sent_at IS NULL AND o.failed_at IS NULL
               AND o.next_attempt_at <= now()
             FOR UPDATE OF o SKIP LOCKED",
        )
        .await
        .context("preparing the outbox claim")?;
    let row = tx
        .query_opt(&stmt, &[&outbox_id])
        .await
        .context("claiming a due mail")?;
    Ok(row.map(|r| {
        let kind: String = r.get(1);
        Due {
            outbox_id: r.get(0),
            kind: if kind == "confirm" {
                MailKind::Confirm
            } else {
                MailKind::Status
            },
            attempts: r.get(2),
            follower_id: r.get(3),
            email: r.get(4),
            lang: r.get(5),
            tracking_code: r.get(6),
            title: r.get(7),
            from_status: r.get(8),
            to_status: r.get(9),
            note: r.get(10),
            event_at: r.get(11),
            cycle_year: r.get(12),
            merged_into_code: r.get(13),
        }
    }))
}

/// A link token of a mail: its SHA-256 and what it does.
pub struct NewToken {
    pub hash: Vec<u8>,
    pub purpose: &'static str,
}

/// Stores the tokens of a mail's links, committed before the mail leaves, so that a link works
/// the moment the mail arrives. `false` when the follower is gone meanwhile (unsubscribed).
pub async fn store_tokens<C: GenericClient>(
    client: &C,
    follower_id: i64,
    tokens: &[NewToken],
) -> Result<bool, StoreError> {
    let hashes: Vec<&[u8]> = tokens.iter().map(|t| t.hash.as_slice()).collect();
    let purposes: Vec<&str> = tokens.iter().map(|t| t.purpose).collect();
    match client
        .execute(
            "INSERT INTO follower_token (token_hash, follower_id, purpose)
             SELECT h, $1, p FROM unnest($2::bytea[], $3::text[]) AS t (h, p)",
            &[&follower_id, &hashes, &purposes],
        )
        .await
    {
        Ok(_) => Ok(true),
        Err(e) if e.code() == Some(&tokio_postgres::error::SqlState::FOREIGN_KEY_VIOLATION) => {
            Ok(false)
        }
        Err(source) => Err(StoreError::Postgres {
            context: "storing link tokens",
            source,
        }),
    }
}

/// Takes back the tokens of a mail that was not sent.
pub async fn drop_tokens<C: GenericClient>(
    client: &C,
    tokens: &[NewToken],
) -> Result<(), StoreError> {
    let hashes: Vec<&[u8]> = tokens.iter().map(|t| t.hash.as_slice()).collect();
    client
        .execute(
            "DELETE FROM follower_token WHERE token_hash = ANY($1)",
            &[&hashes],
        )
        .await
        .context("dropping unused link tokens")?;
    Ok(())
}

/// Records a claimed mail as sent. After the last mail of a proposal in a final status, the
/// follower is deleted with everything of theirs, unless another mail of theirs still waits
/// (then the sweep deletes it once that one went).
pub async fn mark_sent(tx: &Transaction<'_>, due: &Due) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE mail_outbox SET sent_at = now(), attempts = attempts + 1, last_error = NULL
         WHERE id = $1",
        &[&due.outbox_id],
    )
    .await
    .context("marking a mail sent")?;
    if due.is_final() {
        tx.execute(
            "DELETE FROM proposal_follower f WHERE f.id = $1
               AND NOT EXISTS (SELECT 1 FROM mail_outbox o
                               WHERE o.follower_id = f.id AND o.sent_at IS NULL
                                 AND o.failed_at IS NULL)",
            &[&due.follower_id],
        )
        .await
        .context("forgetting a follower after the last mail")?;
    }
    Ok(())
}

/// Records a failed attempt: tried again after `retry_in`, or never (`None`: the server refused
/// the mail for good).
pub async fn mark_failed(
    tx: &Transaction<'_>,
    due: &Due,
    error: &str,
    retry_in: Option<Duration>,
) -> Result<(), StoreError> {
    let error: String = error.chars().take(500).collect();
    match retry_in {
        Some(wait) => tx
            .execute(
                "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2,
                        next_attempt_at = now() + make_interval(secs => $3)
                 WHERE id = $1",
                &[&due.outbox_id, &error, &wait.as_secs_f64()],
            )
            .await
            .context("recording a failed mail")?,
        None => tx
            .execute(
                "UPDATE mail_outbox SET attempts = attempts + 1, last_error = $2, failed_at = now()
                 WHERE id = $1",
                &[&due.outbox_id, &error],
            )
            .await
            .context("recording a refused mail")?,
    };
    Ok(())
}

/// What a sweep deleted.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Swept {
    /// Unconfirmed followers older than [`UNCONFIRMED_DAYS`].
    pub expired: u64,
    /// Followers of proposals in a final status with no mail left to send.
    pub closed: u64,
}

/// Deletes the addresses no longer needed: unconfirmed ones past their days, and every follower
/// of a proposal in a final status once nothing is left to send them.
pub async fn sweep<C: GenericClient>(client: &C) -> Result<Swept, StoreError> {
    let expired = client
        .execute(
            "DELETE FROM proposal_follower
             WHERE confirmed_at IS NULL AND created_at <= now() - make_interval(days => $1)",
            &[&UNCONFIRMED_DAYS],
        )
        .await
        .context("deleting expired followers")?;
    let closed = client
        .execute(
            "DELETE FROM proposal_follower f USING proposal p
             WHERE p.id = f.proposal_id AND p.status = ANY($1)
               AND NOT EXISTS (SELECT 1 FROM mail_outbox o
                               WHERE o.follower_id = f.id AND o.sent_at IS NULL
                                 AND o.failed_at IS NULL)",
            &[&ProposalStatus::FINAL],
        )
        .await
        .context("deleting followers of closed proposals")?;
    Ok(Swept { expired, closed })
}
