//! Mail to the email followers of proposals: the sender task `sigap serve` starts (like the live
//! gap refresher), and the texts ([`text`]).
//!
//! The outbox (`mail_outbox`, V12) is the queue: a status change writes its mails in its own
//! transaction, a follow request its confirmation mail. The task claims one due row at a time
//! with `FOR UPDATE SKIP LOCKED`, sends it over SMTP (lettre), and in the same transaction marks
//! it sent or records the failure and when to try again (exponential backoff, up to an hour; a
//! permanent 5xx refusal is not retried). The tokens of the mail's links are committed just
//! before the claim, so a link works the moment the mail arrives; a mail that does not go takes
//! them back. So any number
//! of servers may run the task: a row is never in two hands, a sent row is never taken again,
//! and a crash before the commit leaves the row due. The one window left: the SMTP server took
//! the mail and the process died before the commit; then it goes again, with the same
//! Message-ID so mail systems can drop the copy.
//!
//! Without `SIGAP_SMTP_URL` and `SIGAP_MAIL_FROM` nothing is sent and the outbox holds the mails
//! until a server with them starts. The task also sweeps, with or without SMTP: unconfirmed
//! addresses expire, and followers of a proposal in a final status go after their last mail
//! (docs/privacy.md "Email followers").

pub mod text;

use std::time::{Duration, Instant};

use deadpool_postgres::Pool;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::Mailbox;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};

use crate::config::ServeConfig;
use crate::domain::credentials::{new_secret, secret_digest};
use crate::store::follow::{self, Due, MailKind, NewToken};
use crate::store::{Context as _, StoreError};

/// How often the sweep deletes addresses no longer needed.
const SWEEP_EVERY: Duration = Duration::from_secs(10 * 60);
/// The longest wait between two attempts at one mail.
const RETRY_MAX: Duration = Duration::from_secs(3600);
/// How long one SMTP conversation may take.
const SMTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why the sender could not do its work (logged; the task goes on).
#[derive(Debug, thiserror::Error)]
pub enum MailError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("invalid SIGAP_SMTP_URL: {0}")]
    SmtpUrl(lettre::transport::smtp::Error),
    #[error("invalid SIGAP_MAIL_FROM {0:?}: give an address, e.g. 'SIGAP <sigap@example.go.id>'")]
    From(String),
}

/// What the sender needs: the SMTP transport, the sender address, the base of links.
pub struct Sender {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    base_url: String,
    retry: Duration,
}

/// The absolute base of the links in mails: `SIGAP_PUBLIC_URL`, or the listen address. Never a
/// request's Host header, which a caller could set to another site.
pub fn base_url(cfg: &ServeConfig) -> String {
    match &cfg.public_url {
        Some(u) => u.trim_end_matches('/').to_owned(),
        None => format!("http://{}", cfg.addr),
    }
}

impl Sender {
    /// The sender of `cfg`, `Ok(None)` when SMTP is not configured.
    pub fn from_config(cfg: &ServeConfig) -> Result<Option<Sender>, MailError> {
        let Some(url) = cfg.smtp_url.as_deref().filter(|u| !u.trim().is_empty()) else {
            return Ok(None);
        };
        let from_text = cfg.mail_from.clone().unwrap_or_default();
        let from: Mailbox = from_text
            .parse()
            .map_err(|_| MailError::From(from_text.clone()))?;
        let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url.trim())
            .map_err(MailError::SmtpUrl)?
            .timeout(Some(SMTP_TIMEOUT))
            .build();
        Ok(Some(Sender {
            transport,
            from,
            base_url: base_url(cfg),
            retry: Duration::from_millis(cfg.mail_retry_ms.max(1)),
        }))
    }

    /// The wait after the `attempts`-th failure (1-based): base × 2^(attempts−1), at most
    /// [`RETRY_MAX`].
    pub fn backoff(base: Duration, attempts: i32) -> Duration {
        let exp = u32::try_from(attempts.saturating_sub(1))
            .unwrap_or(0)
            .min(20);
        base.saturating_mul(1u32 << exp).min(RETRY_MAX)
    }

    fn links(&self, due: &Due, confirm: Option<&str>, unsubscribe: &str) -> text::Links {
        let base = &self.base_url;
        text::Links {
            tracking: format!("{base}/#usulan/{}", due.tracking_code),
            merged_into: due
                .merged_into_code
                .as_ref()
                .map(|c| format!("{base}/#usulan/{c}")),
            confirm: confirm.map(|t| format!("{base}/api/follow/confirm?token={t}")),
            unsubscribe: format!("{base}/api/follow/unsubscribe?token={unsubscribe}"),
        }
    }

    fn message(&self, due: &Due, links: &text::Links) -> Result<Message, String> {
        let mail = text::compose(due, links);
        let to: Mailbox = due
            .email
            .parse()
            .map_err(|e| format!("the stored address does not parse: {e}"))?;
        let header = |name: &'static str, value: String| {
            HeaderValue::new(HeaderName::new_from_ascii_str(name), value)
        };
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(mail.subject)
            // The same id on every attempt: a copy sent again after a crash can be recognised.
            .message_id(Some(format!(
                "<sigap-outbox-{}@{}>",
                due.outbox_id,
                self.from.email.domain()
            )))
            .raw_header(header(
                "List-Unsubscribe",
                format!("<{}>", links.unsubscribe),
            ))
            .raw_header(header(
                "List-Unsubscribe-Post",
                "List-Unsubscribe=One-Click".to_owned(),
            ))
            // RFC 3834: no out-of-office replies to a notification.
            .raw_header(header("Auto-Submitted", "auto-generated".to_owned()))
            .raw_header(header("Content-Language", due.lang.clone()))
            .header(ContentType::TEXT_PLAIN)
            .body(mail.body)
            .map_err(|e| e.to_string())
    }

    /// Claims, sends and marks one due mail. `Ok(false)` when none is due.
    pub async fn send_one(&self, pool: &Pool) -> Result<bool, MailError> {
        let mut client = pool.get().await.map_err(StoreError::from)?;
        let Some((outbox_id, follower_id, kind)) = follow::next_due(&client).await? else {
            return Ok(false);
        };
        let unsubscribe = new_secret();
        let confirm = new_secret();
        let mut tokens = vec![NewToken {
            hash: secret_digest(&unsubscribe),
            purpose: "unsubscribe",
        }];
        if kind == MailKind::Confirm {
            tokens.push(NewToken {
                hash: secret_digest(&confirm),
                purpose: "confirm",
            });
        }
        // Committed before the mail can leave (a link works the moment the mail arrives), and
        // before any lock is taken; taken back below if the mail does not go.
        if !follow::store_tokens(&client, follower_id, &tokens).await? {
            return Ok(true); // the follower is gone (unsubscribed), and its mails with it
        }
        let tx = client
            .transaction()
            .await
            .context("starting the mail transaction")?;
        let Some(due) = follow::claim(&tx, outbox_id).await? else {
            // Another sender took it first: look again.
            follow::drop_tokens(&tx, &tokens).await?;
            tx.commit().await.context("dropping unused tokens")?;
            return Ok(true);
        };
        let confirm = (due.kind == MailKind::Confirm).then_some(confirm.as_str());
        let links = self.links(&due, confirm, &unsubscribe);
        let sent = match self.message(&due, &links) {
            Ok(message) => self.transport.send(message).await.map_err(|e| {
                let retry =
                    (!e.is_permanent()).then(|| Self::backoff(self.retry, due.attempts + 1));
                (e.to_string(), retry)
            }),
            // An address that passed the API's check but not lettre's: no retry can help.
            Err(e) => Err((e, None)),
        };
        match sent {
            Ok(_) => {
                follow::mark_sent(&tx, &due).await?;
                tracing::info!(outbox_id = due.outbox_id, kind = ?due.kind, "mail sent");
            }
            Err((error, retry)) => {
                tracing::warn!(
                    outbox_id = due.outbox_id,
                    attempts = due.attempts + 1,
                    retry_in_s = retry.map(|r| r.as_secs_f64()),
                    %error,
                    "mail not sent"
                );
                follow::drop_tokens(&tx, &tokens).await?;
                follow::mark_failed(&tx, &due, &error, retry).await?;
            }
        }
        tx.commit().await.context("committing a sent mail")?;
        Ok(true)
    }
}

/// Starts the mail task (call inside a Tokio runtime): the sweep always, the sender when SMTP is
/// configured.
pub fn spawn(pool: Pool, cfg: &ServeConfig) {
    let sender = match Sender::from_config(cfg) {
        Ok(Some(s)) => Some(s),
        Ok(None) => {
            tracing::info!("SIGAP_SMTP_URL is not set: follower mails stay in the outbox");
            None
        }
        Err(e) => {
            tracing::error!(error = %e, "the mail sender is off: follower mails stay in the outbox");
            None
        }
    };
    let poll = Duration::from_millis(cfg.mail_poll_ms.max(10));
    tokio::spawn(async move {
        let mut last_sweep: Option<Instant> = None;
        loop {
            if last_sweep.is_none_or(|t| t.elapsed() >= SWEEP_EVERY) {
                match sweep(&pool).await {
                    Ok(s) if s != follow::Swept::default() => {
                        tracing::info!(
                            expired = s.expired,
                            closed = s.closed,
                            "deleted follower addresses no longer needed"
                        )
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "follower sweep failed"),
                }
                last_sweep = Some(Instant::now());
            }
            if let Some(sender) = &sender {
                loop {
                    match sender.send_one(&pool).await {
                        Ok(true) => continue,
                        Ok(false) => break,
                        Err(e) => {
                            tracing::warn!(error = %e, "mail sender cannot reach the database");
                            break;
                        }
                    }
                }
            }
            tokio::time::sleep(poll).await;
        }
    });
}

async fn sweep(pool: &Pool) -> Result<follow::Swept, StoreError> {
    let client = pool.get().await?;
    follow::sweep(&client).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_up_to_an_hour() {
        let base = Duration::from_secs(30);
        assert_eq!(Sender::backoff(base, 1), Duration::from_secs(30));
        assert_eq!(Sender::backoff(base, 2), Duration::from_secs(60));
        assert_eq!(Sender::backoff(base, 4), Duration::from_secs(240));
        assert_eq!(Sender::backoff(base, 12), RETRY_MAX);
        assert_eq!(Sender::backoff(base, 10_000), RETRY_MAX);
    }

    #[test]
    fn links_use_the_configured_base_never_a_request() {
        let cfg = ServeConfig {
            public_url: Some("https://sigap.example/".into()),
            ..ServeConfig::default()
        };
        assert_eq!(base_url(&cfg), "https://sigap.example");
        assert_eq!(base_url(&ServeConfig::default()), "http://127.0.0.1:8080");
    }
}
