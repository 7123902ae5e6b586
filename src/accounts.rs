//! Creating accounts outside HTTP: `sigap user add`, with the same rules as the admin route.

use anyhow::{bail, Context as _};
use deadpool_postgres::Pool;

use crate::domain::credentials::{hash_password, new_password, normalize_username};
use crate::domain::{AreaCode, AreaLevel, Role};
use crate::store::audit::Actor;
use crate::store::users::{self, NewUser, User, UserError};

/// The created account, and the password when SIGAP generated it (shown once).
pub struct Added {
    pub user: User,
    pub generated_password: Option<String>,
}

/// Creates an account with `role` (and `area` for scoped staff, `partner` for a mitra), audited
/// as actor `cli`.
pub async fn add_user(
    pool: &Pool,
    name: &str,
    role: &str,
    area: Option<&str>,
    partner: Option<&str>,
    display_name: Option<String>,
    password: Option<String>,
) -> anyhow::Result<Added> {
    let username = normalize_username(name).with_context(|| {
        format!("'{name}' is not a valid username (3–40 of a-z 0-9 . _ -, starting with a letter or digit)")
    })?;
    let role = Role::parse(role).with_context(|| {
        format!("unknown role '{role}' (resident, moderator, planner, official, admin or mitra)")
    })?;
    let area = match area {
        Some(a) => {
            let code: AreaCode = a.parse()?;
            if code.level() == AreaLevel::Region {
                bail!("an area scope is a kecamatan or kelurahan code, not the region");
            }
            if !role.may_have_area() {
                bail!("only moderators, planners and officials can be limited to an area");
            }
            Some(code.to_string())
        }
        None => None,
    };
    if (role == Role::Mitra) != partner.is_some() {
        bail!("a mitra account needs --partner CODE, and only a mitra account takes one");
    }
    if let Some(pw) = &password {
        let n = pw.chars().count();
        if !(8..=256).contains(&n) {
            bail!("a password has at least 8 and at most 256 characters");
        }
    }
    let generated = password.is_none().then(new_password);
    let plain = password.or_else(|| generated.clone()).unwrap_or_default();
    let password_hash = tokio::task::spawn_blocking(move || hash_password(&plain))
        .await?
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    let mut client = pool.get().await.context("cannot connect to the database")?;
    let tx = client.transaction().await?;
    let new = NewUser {
        username,
        password_hash,
        role,
        area_code: area,
        display_name,
        phone: None,
        home_kelurahan_code: None,
        partner_code: partner.map(str::to_owned),
    };
    let actor = Actor {
        id: None,
        label: "cli".to_owned(),
    };
    let user = match users::create(&tx, &new, &actor).await {
        Ok(u) => u,
        Err(UserError::UsernameTaken) => bail!("the username '{}' is already taken", new.username),
        Err(UserError::UnknownArea) => bail!(
            "no kecamatan or kelurahan has the code {}",
            new.area_code.unwrap_or_default()
        ),
        Err(UserError::UnknownPartner) => bail!(
            "no partner has the code {} (list them with GET /api/partners)",
            new.partner_code.unwrap_or_default()
        ),
        Err(e) => return Err(e.into()),
    };
    tx.commit().await?;
    Ok(Added {
        user,
        generated_password: generated,
    })
}
