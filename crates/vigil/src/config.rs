//! Configuration: defaults < `vigil.toml` < `VIGIL_*` environment < flags.
//!
//! The file is `--config PATH`, else `$VIGIL_CONFIG`, else `./vigil.toml`
//! when it exists. Unknown keys in the file are refused with the key, line
//! and file named. Every key `a.b` can be set by the variable `VIGIL_A_B`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

/// The effective configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where Vigil keeps its database and files; created on first use.
    pub data_dir: PathBuf,
    pub database: DatabaseConfig,
    pub bus: BusConfig,
    pub log: LogConfig,
    pub server: ServerConfig,
    pub smtp: SmtpSettings,
    pub reports: ReportsConfig,
}

/// Service reports (docs/reports.md).
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ReportsConfig {
    /// Headless Chromium for PDF reports; empty: `chromium`,
    /// `chromium-browser` or `google-chrome` on `PATH`.
    pub browser: String,
}

impl ReportsConfig {
    /// The PDF printer these settings describe.
    pub fn printer(&self) -> vigil_service::PdfPrinter {
        let b = self.browser.trim();
        vigil_service::PdfPrinter::new((!b.is_empty()).then(|| PathBuf::from(b)))
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("./vigil-data"),
            database: DatabaseConfig::default(),
            bus: BusConfig::default(),
            log: LogConfig::default(),
            server: ServerConfig::default(),
            smtp: SmtpSettings::default(),
            reports: ReportsConfig::default(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite:PATH` (empty means `sqlite:<data_dir>/vigil.db`), or
    /// `postgres://user[:password]@host[:port]/database` for a PostgreSQL
    /// several Vigil processes share.
    pub url: String,
}

/// The intake → detection stream (docs/scale-out.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BusConfig {
    /// Empty: in-process (the store's detection queue, one detection
    /// worker). `nats://host:port`: NATS JetStream, shared by several
    /// `detect` processes.
    pub url: String,
    /// Seconds a detection batch may stay unacknowledged before NATS
    /// delivers it again (a worker died or hangs).
    pub ack_wait_secs: u64,
    /// Empty: the stream `VIGIL_EVENTS`. A name (letters, digits, `_`,
    /// `-`): `VIGIL_EVENTS_<name>` over `vigil.<name>.events.*`, so several
    /// deployments share one NATS server.
    pub namespace: String,
}

impl Default for BusConfig {
    fn default() -> Self {
        BusConfig {
            url: String::new(),
            ack_wait_secs: 30,
            namespace: String::new(),
        }
    }
}

/// The database a configuration names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Database {
    /// The embedded default: one SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL (it may hold a password: never print it as is).
    Postgres(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct LogConfig {
    /// A tracing filter: `info`, `debug`, `vigil=debug,sqlx=warn`.
    pub level: String,
    pub format: LogFormat,
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            level: "info".into(),
            format: LogFormat::Human,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Human,
    Json,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address `vigil serve` listens on.
    pub listen: String,
    /// Mark the portal's cookies `Secure`. Turn on when users reach Vigil
    /// over HTTPS (TLS ends at a proxy in front of it).
    pub secure_cookies: bool,
    /// Where people and customers' systems reach this server, e.g.
    /// `https://mdr.example`: links in notifications start with it and
    /// response connectors call back there. Empty (the default): `http://`
    /// and the listening address.
    pub public_url: String,
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: "127.0.0.1:8080".into(),
            secure_cookies: false,
            public_url: String::new(),
        }
    }
}

/// The SMTP server notification emails go through (`vigil serve`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SmtpSettings {
    /// Empty: no email is sent (email deliveries wait and retry).
    pub host: String,
    /// 0: the usual port of `security` (25, 587 or 465).
    pub port: u16,
    /// `starttls` (required upgrade), `tls` (implicit) or `none` (only for
    /// a relay on a trusted network).
    pub security: String,
    /// AUTH user name; no AUTH when empty.
    pub username: String,
    pub password: String,
    /// The sender: `vigil@mdr.example` or `Vigil <vigil@mdr.example>`.
    pub from: String,
    /// Seconds allowed to connect and for each SMTP command.
    pub timeout_secs: u64,
}

impl Default for SmtpSettings {
    fn default() -> Self {
        SmtpSettings {
            host: String::new(),
            port: 0,
            security: "starttls".into(),
            username: String::new(),
            password: String::new(),
            from: "Vigil <vigil@localhost>".into(),
            timeout_secs: 30,
        }
    }
}

impl SmtpSettings {
    /// The sender's settings, or `None` when no host is configured.
    pub fn sender(&self) -> Result<Option<vigil_notify::SmtpConfig>, ConfigError> {
        if self.host.trim().is_empty() {
            return Ok(None);
        }
        let security = self
            .security
            .parse()
            .map_err(|message| ConfigError::Value {
                key: "smtp.security".into(),
                source_name: "configuration".into(),
                message,
            })?;
        Ok(Some(vigil_notify::SmtpConfig {
            host: self.host.trim().to_owned(),
            port: (self.port != 0).then_some(self.port),
            security,
            username: self.username.clone(),
            password: self.password.clone(),
            from: self.from.clone(),
            timeout: std::time::Duration::from_secs(self.timeout_secs.max(1)),
        }))
    }
}

/// Every configuration key, in `section.key` form.
pub const KEYS: &[&str] = &[
    "data_dir",
    "database.url",
    "bus.url",
    "bus.ack_wait_secs",
    "bus.namespace",
    "log.level",
    "log.format",
    "server.listen",
    "server.secure_cookies",
    "server.public_url",
    "smtp.host",
    "smtp.port",
    "smtp.security",
    "smtp.username",
    "smtp.password",
    "smtp.from",
    "smtp.timeout_secs",
    "reports.browser",
];

/// Keys whose values are URLs that may embed a password.
const SECRET_KEYS: &[&str] = &["database.url", "bus.url"];
/// Keys whose values are secrets, shown only as redacted.
const PASSWORD_KEYS: &[&str] = &["smtp.password"];

/// Variables starting with `VIGIL_` that are not configuration keys.
const OTHER_VARIABLES: &[&str] = &["VIGIL_CONFIG", "VIGIL_CORPUS"];

/// The environment variable that sets `key`.
pub fn env_name(key: &str) -> String {
    format!("VIGIL_{}", key.replace('.', "_").to_ascii_uppercase())
}

/// A configuration problem, named precisely.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read configuration file {path}")]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    #[error("invalid value for {key} from {source_name}: {message}")]
    Value {
        key: String,
        source_name: String,
        message: String,
    },
}

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase", tag = "from", content = "name")]
pub enum Source {
    Default,
    File(PathBuf),
    Env(String),
    Flag(String),
}

impl Source {
    /// `default`, `file PATH`, `env NAME`, `flag NAME`.
    pub fn describe(&self) -> String {
        match self {
            Source::Default => "default".to_owned(),
            Source::File(p) => format!("file {}", p.display()),
            Source::Env(n) => format!("env {n}"),
            Source::Flag(f) => format!("flag {f}"),
        }
    }
}

/// The configuration and where each key's value came from.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub config: Config,
    pub file: Option<PathBuf>,
    pub sources: BTreeMap<&'static str, Source>,
    /// Things worth a warning once logging is up.
    pub warnings: Vec<String>,
}

/// Values given as command-line flags, by key.
pub type FlagValues = Vec<(&'static str, &'static str, String)>;

/// Load the configuration. `env` is the process environment (passed in so
/// tests need not mutate it); `flags` holds (key, flag name, value).
pub fn load(
    explicit_file: Option<&Path>,
    env: &BTreeMap<String, String>,
    flags: &FlagValues,
) -> Result<Loaded, ConfigError> {
    let mut table = toml::Table::try_from(Config::default()).map_err(|e| ConfigError::File {
        path: PathBuf::from("<defaults>"),
        message: e.to_string(),
    })?;
    let mut sources: BTreeMap<&'static str, Source> =
        KEYS.iter().map(|k| (*k, Source::Default)).collect();
    let mut warnings = Vec::new();

    let file = match explicit_file {
        Some(p) => Some(p.to_owned()),
        None => Some(PathBuf::from("vigil.toml")).filter(|p| p.is_file()),
    };
    if let Some(path) = &file {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.clone(),
            source,
        })?;
        // Deserialising the file alone names unknown keys and bad values
        // with their line.
        toml::from_str::<Config>(&text).map_err(|e| ConfigError::File {
            path: path.clone(),
            message: one_line(&e.to_string()),
        })?;
        let file_table: toml::Table = toml::from_str(&text).map_err(|e| ConfigError::File {
            path: path.clone(),
            message: one_line(&e.to_string()),
        })?;
        for key in KEYS {
            if let Some(v) = lookup(&file_table, key) {
                set(&mut table, key, v.clone());
                sources.insert(key, Source::File(path.clone()));
            }
        }
    }

    for (name, value) in env {
        if !name.starts_with("VIGIL_") {
            continue;
        }
        match KEYS.iter().find(|k| env_name(k) == *name) {
            Some(key) => {
                let v = typed_value(&table, key, value);
                check_alone(key, v.clone(), name)?;
                set(&mut table, key, v);
                sources.insert(key, Source::Env(name.clone()));
            }
            None if OTHER_VARIABLES.contains(&name.as_str()) => {}
            None => warnings.push(format!(
                "ignoring environment variable {name}: not a configuration key (keys: {})",
                KEYS.iter()
                    .map(|k| env_name(k))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }
    }

    for (key, flag, value) in flags {
        let v = typed_value(&table, key, value);
        check_alone(key, v.clone(), flag)?;
        set(&mut table, key, v);
        sources.insert(key, Source::Flag((*flag).to_owned()));
    }

    let config: Config = table
        .try_into()
        .map_err(|e: toml::de::Error| ConfigError::Value {
            key: "configuration".into(),
            source_name: "merged layers".into(),
            message: one_line(&e.to_string()),
        })?;
    Ok(Loaded {
        config,
        file,
        sources,
        warnings,
    })
}

fn one_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && *l != "|")
        .collect::<Vec<_>>()
        .join(" ")
}

fn lookup<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    match key.split_once('.') {
        None => table.get(key),
        Some((section, rest)) => table.get(section)?.as_table()?.get(rest),
    }
}

fn set(table: &mut toml::Table, key: &str, value: toml::Value) {
    match key.split_once('.') {
        None => {
            table.insert(key.to_owned(), value);
        }
        Some((section, rest)) => {
            let entry = table
                .entry(section.to_owned())
                .or_insert_with(|| toml::Value::Table(toml::Table::new()));
            if let Some(t) = entry.as_table_mut() {
                t.insert(rest.to_owned(), value);
            }
        }
    }
}

/// Environment and flag values are text; give them the type the key has.
fn typed_value(defaults: &toml::Table, key: &str, raw: &str) -> toml::Value {
    match lookup(defaults, key) {
        Some(toml::Value::Integer(_)) => raw
            .parse()
            .map_or_else(|_| toml::Value::String(raw.into()), toml::Value::Integer),
        Some(toml::Value::Boolean(_)) => raw
            .parse()
            .map_or_else(|_| toml::Value::String(raw.into()), toml::Value::Boolean),
        _ => toml::Value::String(raw.to_owned()),
    }
}

/// Check one value against the schema on its own, to name its source.
fn check_alone(key: &str, value: toml::Value, source_name: &str) -> Result<(), ConfigError> {
    let mut t = toml::Table::new();
    set(&mut t, key, value);
    t.try_into::<Config>()
        .map(|_| ())
        .map_err(|e: toml::de::Error| ConfigError::Value {
            key: key.to_owned(),
            source_name: source_name.to_owned(),
            message: one_line(e.message()),
        })
}

impl Config {
    /// The NATS URL `bus.url` names, if any (`None`: in-process).
    pub fn nats_url(&self) -> Result<Option<&str>, ConfigError> {
        let url = self.bus.url.trim();
        if url.is_empty() {
            return Ok(None);
        }
        if url.starts_with("nats://") || url.starts_with("tls://") {
            return Ok(Some(url));
        }
        Err(ConfigError::Value {
            key: "bus.url".into(),
            source_name: "configuration".into(),
            message: format!(
                "{} is not a bus Vigil knows; leave it empty (in-process) or use nats://host:port",
                redact_url(url)
            ),
        })
    }

    /// Which database `database.url` names.
    pub fn database(&self) -> Result<Database, ConfigError> {
        let url = self.database.url.trim();
        if url.is_empty() {
            return Ok(Database::Sqlite(self.data_dir.join("vigil.db")));
        }
        if let Some(path) = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
        {
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Database::Postgres(url.to_owned()));
        }
        Err(ConfigError::Value {
            key: "database.url".into(),
            source_name: "configuration".into(),
            message: format!(
                "{} is not a database Vigil knows; use sqlite:PATH or postgres://user@host/database",
                redact_url(url)
            ),
        })
    }

    /// The embedded store's file, for the commands that work on the file
    /// itself (backup, restore); a PostgreSQL database is refused with the
    /// tool to use instead.
    pub fn database_path(&self) -> Result<PathBuf, ConfigError> {
        match self.database()? {
            Database::Sqlite(path) => Ok(path),
            Database::Postgres(url) => Err(ConfigError::Value {
                key: "database.url".into(),
                source_name: "configuration".into(),
                message: format!(
                    "{} is a PostgreSQL database: vigil backup and restore work on the embedded SQLite store; back PostgreSQL up with pg_dump and pg_restore",
                    redact_url(&url)
                ),
            }),
        }
    }

    /// The configuration as TOML with secrets redacted.
    pub fn redacted(&self) -> toml::Table {
        let mut t = toml::Table::try_from(self).unwrap_or_default();
        for key in SECRET_KEYS {
            if let Some(toml::Value::String(s)) = lookup(&t, key) {
                let shown = redact_url(s);
                set(&mut t, key, toml::Value::String(shown));
            }
        }
        for key in PASSWORD_KEYS {
            if let Some(toml::Value::String(s)) = lookup(&t, key)
                && !s.is_empty()
            {
                set(&mut t, key, toml::Value::String("<redacted>".into()));
            }
        }
        t
    }
}

/// Hide the password in `scheme://user:password@host/...`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    // The userinfo ends at the last '@' (a password may hold '/' or '@').
    match rest.rsplit_once('@') {
        Some((userinfo, host_and_path)) => match userinfo.split_once(':') {
            Some((user, _password)) => format!("{scheme}://{user}:<redacted>@{host_and_path}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    fn write(dir: &Path, text: &str) -> PathBuf {
        let p = dir.join("vigil.toml");
        std::fs::write(&p, text).expect("write config");
        p
    }

    #[test]
    fn every_default_key_is_listed_and_settable_from_the_environment() {
        let mut cfg = Config::default();
        cfg.database.url = "sqlite:x".into();
        let table = toml::Table::try_from(&cfg).expect("table");
        let mut found = Vec::new();
        for (k, v) in &table {
            match v.as_table() {
                Some(section) => found.extend(section.keys().map(|s| format!("{k}.{s}"))),
                None => found.push(k.clone()),
            }
        }
        found.sort();
        let mut keys: Vec<String> = KEYS.iter().map(|k| (*k).to_owned()).collect();
        keys.sort();
        assert_eq!(found, keys);
        assert_eq!(env_name("log.format"), "VIGIL_LOG_FORMAT");
    }

    #[test]
    fn defaults_apply_without_file_env_or_flags() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(dir.path(), "");
        let loaded = load(Some(&path), &env(&[]), &vec![]).expect("load");
        assert_eq!(loaded.config, Config::default());
        assert_eq!(loaded.sources["data_dir"], Source::Default);
    }

    #[test]
    fn file_overrides_defaults_env_overrides_file_and_flags_override_env() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(
            dir.path(),
            "data_dir = \"/from/file\"\n[log]\nlevel = \"debug\"\nformat = \"json\"\n",
        );
        let e = env(&[("VIGIL_LOG_LEVEL", "warn"), ("VIGIL_DATA_DIR", "/from/env")]);
        let flags: FlagValues = vec![("data_dir", "--data-dir", "/from/flag".into())];
        let loaded = load(Some(&path), &e, &flags).expect("load");
        assert_eq!(loaded.config.data_dir, PathBuf::from("/from/flag"));
        assert_eq!(loaded.config.log.level, "warn", "env beats file");
        assert_eq!(
            loaded.config.log.format,
            LogFormat::Json,
            "file beats default"
        );
        assert_eq!(loaded.config.server.listen, "127.0.0.1:8080");
        assert_eq!(
            loaded.sources["data_dir"],
            Source::Flag("--data-dir".into())
        );
        assert_eq!(
            loaded.sources["log.level"],
            Source::Env("VIGIL_LOG_LEVEL".into())
        );
        assert_eq!(loaded.sources["log.format"], Source::File(path));
    }

    #[test]
    fn an_unknown_key_in_the_file_is_refused_with_the_key_and_file_named() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(dir.path(), "[log]\nlevel = \"info\"\nverbosity = 3\n");
        let err = load(Some(&path), &env(&[]), &vec![]).expect_err("unknown key");
        let msg = err.to_string();
        assert!(msg.contains("verbosity"), "{msg}");
        assert!(msg.contains(&path.display().to_string()), "{msg}");
        assert!(!msg.contains('\n'), "one line: {msg}");
    }

    #[test]
    fn malformed_toml_is_refused_with_the_file_named() {
        let dir = tempfile::tempdir().expect("dir");
        let path = write(dir.path(), "data_dir = \n[log\n");
        let err = load(Some(&path), &env(&[]), &vec![]).expect_err("malformed");
        assert!(
            err.to_string().contains("invalid configuration file"),
            "{err}"
        );
    }

    #[test]
    fn a_bad_environment_value_names_the_variable() {
        let err = load(None, &env(&[("VIGIL_LOG_FORMAT", "xml")]), &vec![]).expect_err("bad");
        let msg = err.to_string();
        assert!(
            msg.contains("VIGIL_LOG_FORMAT") && msg.contains("log.format"),
            "{msg}"
        );
    }

    #[test]
    fn unknown_vigil_variables_are_warned_about_not_fatal() {
        let loaded = load(
            None,
            &env(&[("VIGIL_DATADIR", "/x"), ("VIGIL_CORPUS", "/c")]),
            &vec![],
        )
        .expect("load");
        assert_eq!(loaded.warnings.len(), 1);
        assert!(loaded.warnings[0].contains("VIGIL_DATADIR"));
    }

    #[test]
    fn a_missing_explicit_file_is_an_error() {
        let err = load(
            Some(Path::new("/nonexistent/vigil.toml")),
            &env(&[]),
            &vec![],
        )
        .expect_err("missing");
        assert!(err.to_string().contains("/nonexistent/vigil.toml"));
    }

    #[test]
    fn a_bus_url_is_empty_for_in_process_or_names_nats_and_anything_else_is_refused() {
        let mut cfg = Config::default();
        assert_eq!(cfg.nats_url().expect("default"), None);
        cfg.bus.url = "nats://127.0.0.1:4222".into();
        assert_eq!(cfg.nats_url().expect("nats"), Some("nats://127.0.0.1:4222"));
        cfg.bus.url = "kafka://u:secret@broker:9092".into();
        let err = cfg.nats_url().expect_err("unknown scheme");
        let text = format!("{err} {err:?}");
        assert!(text.contains("bus.url"), "{text}");
        assert!(!text.contains("secret"), "the password is redacted: {text}");
    }

    #[test]
    fn passwords_in_database_urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://vigil:s3cret@db.example:5432/vigil"),
            "postgres://vigil:<redacted>@db.example:5432/vigil"
        );
        assert_eq!(
            redact_url("sqlite:/var/lib/vigil.db"),
            "sqlite:/var/lib/vigil.db"
        );
        assert_eq!(
            redact_url("postgres://vigil:pa/ss@db/vigil"),
            "postgres://vigil:<redacted>@db/vigil"
        );
        assert_eq!(
            redact_url("postgres://vigil@db/vigil"),
            "postgres://vigil@db/vigil"
        );
        let mut cfg = Config::default();
        cfg.database.url = "postgres://u:pw@h/db".into();
        let shown = cfg.redacted().to_string();
        assert!(!shown.contains("pw@"), "{shown}");
        cfg.smtp.password = "hunter2-smtp".into();
        let shown = cfg.redacted().to_string();
        assert!(!shown.contains("hunter2-smtp"), "{shown}");
    }

    #[test]
    fn a_database_url_names_sqlite_or_postgres_and_anything_else_is_refused() {
        let mut cfg = Config::default();
        assert_eq!(
            cfg.database().expect("default"),
            Database::Sqlite(cfg.data_dir.join("vigil.db"))
        );
        cfg.database.url = "sqlite:/var/lib/vigil/v.db".into();
        assert_eq!(
            cfg.database().expect("sqlite"),
            Database::Sqlite(PathBuf::from("/var/lib/vigil/v.db"))
        );
        cfg.database.url = "postgres://vigil:pw@db:5432/vigil".into();
        assert_eq!(
            cfg.database().expect("postgres"),
            Database::Postgres("postgres://vigil:pw@db:5432/vigil".into())
        );
        cfg.database.url = "mysql://u:secret@db/vigil".into();
        let err = cfg.database().expect_err("unknown scheme").to_string();
        assert!(err.contains("database.url"), "{err}");
        assert!(!err.contains("secret"), "the password is not shown: {err}");
    }

    #[test]
    fn smtp_settings_become_a_sender_only_with_a_host_and_a_known_security() {
        let mut s = SmtpSettings::default();
        assert_eq!(s.sender().expect("no host"), None);
        s.host = "mail.mdr.example".into();
        let sender = s.sender().expect("sender").expect("configured");
        assert_eq!(sender.security, vigil_notify::SmtpSecurity::StartTls);
        assert_eq!(sender.port, None);
        s.security = "ssl3".into();
        let err = s.sender().expect_err("unknown security").to_string();
        assert!(
            err.contains("smtp.security") && err.contains("ssl3"),
            "{err}"
        );
        let loaded = load(
            None,
            &env(&[
                ("VIGIL_SMTP_PORT", "2525"),
                ("VIGIL_SERVER_PUBLIC_URL", "https://vigil.example"),
            ]),
            &vec![],
        )
        .expect("load");
        assert_eq!(loaded.config.smtp.port, 2525);
        assert_eq!(loaded.config.server.public_url, "https://vigil.example");
    }
}
