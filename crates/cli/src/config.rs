//! Effective configuration: command-line flags override `SWITCHYARD_*` environment variables
//! (clap reads both), which override the TOML file, which overrides the defaults.

use anyhow::{Context, Result, bail};
use clap::Args;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use switchyard_server::secrets::MasterKey;

/// Options every command that touches the database shares.
#[derive(Debug, Clone, Args)]
pub struct GlobalArgs {
    /// Configuration file (TOML); default `switchyard.toml` if it exists.
    #[arg(long, env = "SWITCHYARD_CONFIG", global = true)]
    pub config: Option<PathBuf>,
    /// `sqlite://PATH` or `postgres://…` (default `sqlite://./switchyard.db`).
    #[arg(long, env = "SWITCHYARD_DATABASE_URL", global = true)]
    pub database_url: Option<String>,
    /// File holding the master key (generated with mode 0600 on first run of the embedded
    /// default). `SWITCHYARD_MASTER_KEY` (64 hex digits or base64) takes precedence.
    #[arg(long, env = "SWITCHYARD_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,
    /// Log filter, e.g. `info` or `switchyard=debug`.
    #[arg(long, env = "SWITCHYARD_LOG", global = true)]
    pub log: Option<String>,
}

/// The file's contents; every key optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    listen: Option<String>,
    database_url: Option<String>,
    master_key_file: Option<PathBuf>,
    log: Option<String>,
    max_upload_mb: Option<usize>,
    log_decisions: Option<bool>,
    public_url: Option<String>,
    sandbox: Option<bool>,
    sandbox_seed: Option<u64>,
    sandbox_speed: Option<f64>,
}

/// Where a value came from, for `config show`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// A flag or environment variable.
    Override,
    /// The configuration file.
    File,
    /// The built-in default.
    Default,
}

impl Source {
    fn label(self) -> &'static str {
        match self {
            Source::Override => "flag or environment",
            Source::File => "config file",
            Source::Default => "default",
        }
    }
}

/// The resolved configuration.
#[derive(Debug, Clone)]
pub struct Config {
    pub file: Option<PathBuf>,
    pub listen: (String, Source),
    pub database_url: (String, Source),
    pub master_key_file: (PathBuf, Source),
    pub log: (String, Source),
    pub max_upload_bytes: usize,
    pub log_decisions: bool,
    /// Where providers reach this server (webhooks); `None`: the listening address.
    pub public_url: Option<String>,
    /// Whether the built-in sandbox carrier runs inside `serve`.
    pub sandbox: bool,
    /// The sandbox's seed.
    pub sandbox_seed: u64,
    /// The sandbox's clock speed.
    pub sandbox_speed: f64,
}

fn pick<T>(over: Option<T>, file: Option<T>, default: impl FnOnce() -> T) -> (T, Source) {
    match (over, file) {
        (Some(v), _) => (v, Source::Override),
        (None, Some(v)) => (v, Source::File),
        (None, None) => (default(), Source::Default),
    }
}

impl Config {
    /// Resolves flags, environment, file and defaults.
    pub fn load(args: &GlobalArgs, listen: Option<String>) -> Result<Config> {
        let path = args.config.clone().or_else(|| {
            Path::new("switchyard.toml")
                .exists()
                .then(|| PathBuf::from("switchyard.toml"))
        });
        let file: FileConfig = match &path {
            Some(p) => {
                let text = std::fs::read_to_string(p)
                    .with_context(|| format!("cannot read config file {}", p.display()))?;
                toml::from_str(&text)
                    .with_context(|| format!("config file {} is invalid", p.display()))?
            }
            None => FileConfig::default(),
        };
        let database_url = pick(args.database_url.clone(), file.database_url, || {
            "sqlite://./switchyard.db".into()
        });
        let key_default = || default_key_file(&database_url.0);
        Ok(Config {
            file: path,
            listen: pick(listen, file.listen, || "127.0.0.1:8080".into()),
            master_key_file: pick(
                args.master_key_file.clone(),
                file.master_key_file,
                key_default,
            ),
            log: pick(args.log.clone(), file.log, || "info".into()),
            database_url,
            max_upload_bytes: file.max_upload_mb.unwrap_or(256) << 20,
            log_decisions: file.log_decisions.unwrap_or(true),
            public_url: file.public_url,
            sandbox: file.sandbox.unwrap_or(true),
            sandbox_seed: file.sandbox_seed.unwrap_or(1),
            sandbox_speed: file.sandbox_speed.unwrap_or(1.0),
        })
    }

    /// Whether this is the embedded SQLite default (which may create its key file).
    fn is_sqlite(&self) -> bool {
        self.database_url.0.starts_with("sqlite:")
    }

    /// The master key: `SWITCHYARD_MASTER_KEY`, else the key file (created for SQLite).
    pub fn master_key(&self) -> Result<MasterKey> {
        if let Ok(text) = std::env::var("SWITCHYARD_MASTER_KEY")
            && !text.is_empty()
        {
            return MasterKey::parse(&text).context("SWITCHYARD_MASTER_KEY is invalid");
        }
        let path = &self.master_key_file.0;
        if !self.is_sqlite() && !path.exists() {
            bail!(
                "no master key: set SWITCHYARD_MASTER_KEY or --master-key-file (instances sharing a PostgreSQL database must share the key, so none is generated)"
            );
        }
        Ok(MasterKey::from_file(path, self.is_sqlite())?)
    }

    /// The configuration as `config show` prints it, secrets masked.
    pub fn show(&self) -> String {
        let key_source = if std::env::var("SWITCHYARD_MASTER_KEY").is_ok_and(|v| !v.is_empty()) {
            "SWITCHYARD_MASTER_KEY = \"****\"  # environment".to_string()
        } else {
            format!(
                "master_key_file = {:?}  # {}",
                self.master_key_file.0.display().to_string(),
                self.master_key_file.1.label()
            )
        };
        format!(
            "# configuration file: {}\nlisten = {:?}  # {}\ndatabase_url = {:?}  # {}\n{key_source}\nlog = {:?}  # {}\nmax_upload_mb = {}\nlog_decisions = {}\npublic_url = {:?}\nsandbox = {}\nsandbox_seed = {}\nsandbox_speed = {}\n",
            self.file
                .as_ref()
                .map_or("none".to_string(), |p| p.display().to_string()),
            self.listen.0,
            self.listen.1.label(),
            switchyard_store::redact_url(&self.database_url.0),
            self.database_url.1.label(),
            self.log.0,
            self.log.1.label(),
            self.max_upload_bytes >> 20,
            self.log_decisions,
            self.public_url
                .clone()
                .unwrap_or_else(|| format!("http://{}", self.listen.0)),
            self.sandbox,
            self.sandbox_seed,
            self.sandbox_speed,
        )
    }
}

/// `switchyard.key` beside a SQLite database file; `./switchyard.key` otherwise.
fn default_key_file(database_url: &str) -> PathBuf {
    let path = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|p| p.split('?').next().unwrap_or(p));
    match path.map(Path::new).and_then(Path::parent) {
        Some(dir) if !dir.as_os_str().is_empty() => dir.join("switchyard.key"),
        _ => PathBuf::from("switchyard.key"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_file_sits_beside_the_database() {
        assert_eq!(
            default_key_file("sqlite:///var/lib/sy/data.db"),
            PathBuf::from("/var/lib/sy/switchyard.key")
        );
        assert_eq!(
            default_key_file("sqlite://./switchyard.db"),
            PathBuf::from("./switchyard.key")
        );
        assert_eq!(
            default_key_file("postgres://db/x"),
            PathBuf::from("switchyard.key")
        );
    }

    #[test]
    fn flags_beat_file_beat_defaults() {
        assert_eq!(pick(Some(1), Some(2), || 3), (1, Source::Override));
        assert_eq!(pick(None, Some(2), || 3), (2, Source::File));
        assert_eq!(pick(None::<i32>, None, || 3), (3, Source::Default));
    }
}
