//! Accounts, sessions and API tokens. Passwords arrive here already hashed (argon2id); session
//! ids and tokens arrive as their SHA-256, so no credential is ever stored in the clear.

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use serde::Serialize;
use serde_json::json;
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;

use super::audit::{self, Actor};
use super::{Context, StoreError};
use crate::domain::Role;

/// An account as the API shows it (never the password hash).
#[derive(Debug, Clone, Serialize)]
pub struct User {
    pub id: i64,
    pub username: String,
    pub display_name: Option<String>,
    pub role: Role,
    pub area_code: Option<String>,
    pub home_kelurahan_code: Option<String>,
    /// The partner a `mitra` account works for (only that role has one).
    pub partner_code: Option<String>,
}

const USER_COLUMNS: &str =
    "u.id, u.username, u.display_name, u.role, u.area_code, u.home_kelurahan_code, u.partner_code";

fn user_from_row(row: &Row) -> User {
    let role: String = row.get(3);
    User {
        id: row.get(0),
        username: row.get(1),
        display_name: row.get(2),
        // The CHECK constraint admits only the roles of `Role`.
        role: Role::parse(&role).unwrap_or(Role::Resident),
        area_code: row.get(4),
        home_kelurahan_code: row.get(5),
        partner_code: row.get(6),
    }
}

/// A new account.
#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub password_hash: String,
    pub role: Role,
    pub area_code: Option<String>,
    pub display_name: Option<String>,
    pub phone: Option<String>,
    pub home_kelurahan_code: Option<String>,
    /// Required for `mitra`, absent for every other role.
    pub partner_code: Option<String>,
}

/// Why an account could not be created or changed.
#[derive(Debug, thiserror::Error)]
pub enum UserError {
    #[error("username already taken")]
    UsernameTaken,
    #[error("unknown area or kelurahan code")]
    UnknownArea,
    #[error("user not found")]
    NotFound,
    #[error("unknown partner code")]
    UnknownPartner,
    #[error("a mitra account needs a partner, and only a mitra account has one")]
    PartnerMismatch,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// True when `code` names a kecamatan or kelurahan of the loaded region.
pub async fn area_exists<C: GenericClient>(client: &C, code: &str) -> Result<bool, StoreError> {
    let row = client
        .query_one(
            "SELECT EXISTS (SELECT 1 FROM kecamatan WHERE code = $1)
                 OR EXISTS (SELECT 1 FROM kelurahan WHERE code = $1)",
            &[&code],
        )
        .await
        .context("checking an area code")?;
    Ok(row.get(0))
}

/// Creates an account and records it in the audit log, in the caller's transaction.
pub async fn create<C: GenericClient>(
    tx: &C,
    new: &NewUser,
    actor: &Actor,
) -> Result<User, UserError> {
    if let Some(area) = &new.area_code {
        if !area_exists(tx, area).await? {
            return Err(UserError::UnknownArea);
        }
    }
    check_partner(tx, new.role, new.partner_code.as_deref()).await?;
    let result = tx
        .query_one(
            &format!(
                "INSERT INTO app_user AS u (username, password_hash, role, area_code, display_name,
                                           phone, home_kelurahan_code, partner_code)
                 VALUES (lower($1), $2, $3, $4, $5, $6, $7, $8) RETURNING {USER_COLUMNS}"
            ),
            &[
                &new.username,
                &new.password_hash,
                &new.role.as_str(),
                &new.area_code,
                &new.display_name,
                &new.phone,
                &new.home_kelurahan_code,
                &new.partner_code,
            ],
        )
        .await;
    let row = match result {
        Ok(row) => row,
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            return Err(UserError::UsernameTaken)
        }
        Err(e) if e.code() == Some(&SqlState::FOREIGN_KEY_VIOLATION) => {
            return Err(UserError::UnknownArea)
        }
        Err(source) => {
            return Err(StoreError::Postgres {
                context: "creating an account",
                source,
            }
            .into())
        }
    };
    let user = user_from_row(&row);
    audit::record(
        tx,
        actor,
        "user.create",
        "user",
        &user.id.to_string(),
        None,
        Some(
            json!({"username": user.username, "role": user.role, "area_code": user.area_code,
                    "partner_code": user.partner_code}),
        ),
    )
    .await?;
    Ok(user)
}

/// An account with its password hash, for login.
pub async fn find_for_login<C: GenericClient>(
    client: &C,
    username: &str,
) -> Result<Option<(User, String)>, StoreError> {
    let row = client
        .query_opt(
            &format!(
                "SELECT {USER_COLUMNS}, u.password_hash FROM app_user u
                 WHERE lower(u.username) = lower($1) AND u.disabled_at IS NULL"
            ),
            &[&username],
        )
        .await
        .context("looking up an account")?;
    Ok(row.map(|r| (user_from_row(&r), r.get(7))))
}

/// The password hash of an account.
pub async fn password_hash<C: GenericClient>(
    client: &C,
    user_id: i64,
) -> Result<Option<String>, StoreError> {
    let row = client
        .query_opt(
            "SELECT password_hash FROM app_user WHERE id = $1",
            &[&user_id],
        )
        .await
        .context("reading a password hash")?;
    Ok(row.map(|r| r.get(0)))
}

/// Replaces a password and ends every other session of the account.
pub async fn set_password<C: GenericClient>(
    tx: &C,
    user_id: i64,
    hash: &str,
    keep_session: Option<&[u8]>,
    actor: &Actor,
) -> Result<(), StoreError> {
    tx.execute(
        "UPDATE app_user SET password_hash = $2 WHERE id = $1",
        &[&user_id, &hash],
    )
    .await
    .context("changing a password")?;
    tx.execute(
        "DELETE FROM app_session WHERE user_id = $1 AND ($2::bytea IS NULL OR id_hash <> $2)",
        &[&user_id, &keep_session],
    )
    .await
    .context("ending the other sessions")?;
    audit::record(
        tx,
        actor,
        "user.password",
        "user",
        &user_id.to_string(),
        None,
        None,
    )
    .await
}

/// Checks the partner of a new or changed account: a `mitra` names an existing partner, no
/// other role names one.
async fn check_partner<C: GenericClient>(
    client: &C,
    role: Role,
    partner_code: Option<&str>,
) -> Result<(), UserError> {
    match (role == Role::Mitra, partner_code) {
        (true, Some(code)) => {
            let found = client
                .query_opt("SELECT 1 FROM partner WHERE code = $1", &[&code])
                .await
                .context("checking a partner code")?;
            found.map(|_| ()).ok_or(UserError::UnknownPartner)
        }
        (false, None) => Ok(()),
        _ => Err(UserError::PartnerMismatch),
    }
}

/// Changes the role, area and partner of an account, with before and after in the audit log.
pub async fn set_role<C: GenericClient>(
    tx: &C,
    user_id: i64,
    role: Role,
    area_code: Option<&str>,
    partner_code: Option<&str>,
    actor: &Actor,
) -> Result<User, UserError> {
    if let Some(area) = area_code {
        if !area_exists(tx, area).await? {
            return Err(UserError::UnknownArea);
        }
    }
    check_partner(tx, role, partner_code).await?;
    let before = tx
        .query_opt(
            "SELECT role, area_code, partner_code FROM app_user WHERE id = $1 FOR UPDATE",
            &[&user_id],
        )
        .await
        .context("locking an account")?
        .ok_or(UserError::NotFound)?;
    let (old_role, old_area, old_partner): (String, Option<String>, Option<String>) =
        (before.get(0), before.get(1), before.get(2));
    let row = tx
        .query_one(
            &format!(
                "UPDATE app_user AS u SET role = $2, area_code = $3, partner_code = $4 WHERE id = $1
                 RETURNING {USER_COLUMNS}"
            ),
            &[&user_id, &role.as_str(), &area_code, &partner_code],
        )
        .await
        .context("changing a role")?;
    let user = user_from_row(&row);
    audit::record(
        tx,
        actor,
        "user.role",
        "user",
        &user_id.to_string(),
        Some(json!({"role": old_role, "area_code": old_area, "partner_code": old_partner})),
        Some(json!({"role": user.role, "area_code": user.area_code,
                    "partner_code": user.partner_code})),
    )
    .await?;
    Ok(user)
}

/// Opens a session (stored by the hash of its id), dropping the account's expired ones.
pub async fn create_session<C: GenericClient>(
    client: &C,
    user_id: i64,
    id_hash: &[u8],
    csrf_token: &str,
    expires_at: DateTime<Utc>,
) -> Result<(), StoreError> {
    client
        .execute(
            "DELETE FROM app_session WHERE user_id = $1 AND expires_at <= now()",
            &[&user_id],
        )
        .await
        .context("dropping expired sessions")?;
    client
        .execute(
            "INSERT INTO app_session (id_hash, user_id, csrf_token, expires_at) VALUES ($1, $2, $3, $4)",
            &[&id_hash, &user_id, &csrf_token, &expires_at],
        )
        .await
        .context("opening a session")?;
    Ok(())
}

/// The account and CSRF token of a live session.
pub async fn session_user<C: GenericClient>(
    client: &C,
    id_hash: &[u8],
) -> Result<Option<(User, String)>, StoreError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS}, s.csrf_token FROM app_session s JOIN app_user u ON u.id = s.user_id
             WHERE s.id_hash = $1 AND s.expires_at > now() AND u.disabled_at IS NULL"
        ))
        .await
        .context("preparing the session lookup")?;
    let row = client
        .query_opt(&stmt, &[&id_hash])
        .await
        .context("looking up a session")?;
    Ok(row.map(|r| (user_from_row(&r), r.get(7))))
}

/// Ends a session.
pub async fn delete_session<C: GenericClient>(
    client: &C,
    id_hash: &[u8],
) -> Result<(), StoreError> {
    client
        .execute("DELETE FROM app_session WHERE id_hash = $1", &[&id_hash])
        .await
        .context("ending a session")?;
    Ok(())
}

/// The account an API token belongs to.
pub async fn token_user<C: GenericClient>(
    client: &C,
    token_hash: &[u8],
) -> Result<Option<User>, StoreError> {
    let stmt = client
        .prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM api_token t JOIN app_user u ON u.id = t.user_id
             WHERE t.token_hash = $1 AND u.disabled_at IS NULL"
        ))
        .await
        .context("preparing the token lookup")?;
    let row = client
        .query_opt(&stmt, &[&token_hash])
        .await
        .context("looking up an API token")?;
    Ok(row.map(|r| user_from_row(&r)))
}

/// Stores a new API token (by its hash) and audits it.
pub async fn create_token<C: GenericClient>(
    tx: &C,
    user_id: i64,
    name: &str,
    token_hash: &[u8],
    actor: &Actor,
) -> Result<i64, StoreError> {
    let id: i64 = tx
        .query_one(
            "INSERT INTO api_token (user_id, name, token_hash) VALUES ($1, $2, $3) RETURNING id",
            &[&user_id, &name, &token_hash],
        )
        .await
        .context("storing an API token")?
        .get(0);
    audit::record(
        tx,
        actor,
        "token.create",
        "api_token",
        &id.to_string(),
        None,
        Some(json!({"user_id": user_id, "name": name})),
    )
    .await?;
    Ok(id)
}
