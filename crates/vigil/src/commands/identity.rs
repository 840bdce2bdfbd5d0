//! `vigil user`, `vigil token`, `vigil ingest-key`.

use std::io::{IsTerminal, Read};

use serde_json::json;
use vigil_core::identity::{Role, TokenId, User};
use vigil_core::tenant::parse_duration;
use vigil_service::{Principal, Service};

use crate::cli::{IngestKeyCommand, SpecError, TokenCommand, UserCommand};
use crate::output::{emit, emit_json};

fn user_json(u: &User) -> serde_json::Value {
    serde_json::to_value(u).unwrap_or_default()
}

/// 24 random bytes as 32 URL-safe characters.
fn generated_password() -> anyhow::Result<String> {
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_";
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("cannot generate a password: {e}"))?;
    Ok(bytes
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(*b) % ALPHABET.len()]))
        .collect())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        if first != again {
            anyhow::bail!(SpecError {
                flag: "password",
                value: String::new(),
                reason: "the two entries differ".into(),
            });
        }
        Ok(first)
    } else {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text.trim_end_matches(['\n', '\r']).to_owned())
    }
}

pub async fn user(command: UserCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    match command {
        UserCommand::Create {
            email,
            role,
            tenant,
            generate,
            out,
        } => {
            let role: Role = role.parse().map_err(|e| SpecError {
                flag: "--role",
                value: role.clone(),
                reason: format!("{e}"),
            })?;
            let password = if generate {
                generated_password()?
            } else {
                read_password()?
            };
            let u = svc
                .create_user(p, &email, role, tenant.as_deref(), &password)
                .await?;
            let shown = generate.then_some(password);
            if out.json {
                let mut v = user_json(&u);
                if let Some(pw) = shown {
                    v["password"] = json!(pw);
                }
                emit_json(&v)
            } else {
                let mut text = format!("created {} ({})", u.email, u.role);
                if let Some(pw) = shown {
                    text.push_str(&format!("\npassword (shown once): {pw}"));
                }
                emit(&text)
            }
        }
        UserCommand::List { tenant, out } => {
            let users = svc.list_users(p, tenant.as_deref()).await?;
            if out.json {
                return emit_json(&json!(users.iter().map(user_json).collect::<Vec<_>>()));
            }
            if users.is_empty() {
                return emit("no users");
            }
            let mut text = String::new();
            for u in &users {
                text.push_str(&format!(
                    "{:<40} {:<20} {}\n",
                    u.email,
                    u.role.as_str(),
                    u.id
                ));
            }
            emit(&text)
        }
    }
}

pub async fn token(command: TokenCommand, svc: &Service, p: &Principal) -> anyhow::Result<()> {
    match command {
        TokenCommand::Create {
            user,
            name,
            expires_in,
            out,
        } => {
            let ttl = expires_in
                .as_deref()
                .map(|t| {
                    parse_duration(t).map_err(|reason| SpecError {
                        flag: "--expires-in",
                        value: t.to_owned(),
                        reason,
                    })
                })
                .transpose()?;
            let (secret, token) = svc.create_token(p, &user, &name, ttl).await?;
            if out.json {
                emit_json(&json!({
                    "id": token.id,
                    "user": user,
                    "name": token.name,
                    "expires_at": token.expires_at,
                    "token": secret.expose(),
                }))
            } else {
                emit(&format!(
                    "token {} for {user} (shown once; send as `Authorization: Bearer <token>`):\n{}",
                    token.id,
                    secret.expose()
                ))
            }
        }
        TokenCommand::Revoke { user, id } => {
            let id: TokenId = id.parse().map_err(|e| SpecError {
                flag: "ID",
                value: id.clone(),
                reason: format!("{e}"),
            })?;
            svc.revoke_token(p, &user, id).await?;
            emit(&format!("revoked token {id}"))
        }
    }
}

pub async fn ingest_key(
    command: IngestKeyCommand,
    svc: &Service,
    p: &Principal,
) -> anyhow::Result<()> {
    match command {
        IngestKeyCommand::Create { tenant, name, out } => {
            let (secret, key) = svc.create_ingest_key(p, &tenant, &name).await?;
            if out.json {
                emit_json(&json!({
                    "id": key.id,
                    "tenant": tenant,
                    "name": key.name,
                    "key": secret.expose(),
                }))
            } else {
                emit(&format!(
                    "ingest key {} for {tenant} (shown once; it can only send telemetry):\n{}",
                    key.id,
                    secret.expose()
                ))
            }
        }
    }
}
