//! `serve`, `migrate`, `config show`, `admin …` and `rates import`: the commands that work on
//! the database.

use crate::config::{Config, GlobalArgs};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;
use switchyard_core::Channel;
use switchyard_core::deck::{ImportError, ImportOptions, import_csv};
use switchyard_sandbox::SandboxConfig;
use switchyard_server::ServerSettings;
use switchyard_store::{NewDeck, Role, Store};

#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on (default 127.0.0.1:8080).
    #[arg(long, env = "SWITCHYARD_LISTEN")]
    listen: Option<String>,
    /// URL providers reach this server at, for webhooks (default: http:// + the listening
    /// address). Behind a proxy, set it to the public URL: Twilio signs it.
    #[arg(long, env = "SWITCHYARD_PUBLIC_URL")]
    public_url: Option<String>,
    /// Do not run the built-in sandbox carrier.
    #[arg(long, env = "SWITCHYARD_NO_SANDBOX")]
    no_sandbox: bool,
    /// Organisation id whose provider accounts are the platform's: number provisioning
    /// buys through them for other organisations, within the free tier that organisation's
    /// `provisioning` document sets.
    #[arg(long, env = "SWITCHYARD_PLATFORM_ORG")]
    platform_org: Option<String>,
}

#[derive(Debug, Subcommand)]
pub enum ConfigCommand {
    /// Print the effective configuration with secrets masked.
    Show,
}

#[derive(Debug, Subcommand)]
pub enum AdminCommand {
    /// Organisations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// API keys.
    #[command(subcommand)]
    Key(KeyCommand),
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Create an organisation and print its id.
    Create {
        /// Its name.
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Create an API key; the key is printed once, alone on the last line.
    Create {
        /// Organisation id.
        #[arg(long)]
        org: String,
        /// owner, admin, operator or viewer.
        #[arg(long)]
        role: Role,
        /// A label.
        #[arg(long, default_value = "")]
        name: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum RatesCommand {
    /// Import a deck file for a provider into the database.
    Import(ImportArgs),
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    /// The CSV file.
    file: PathBuf,
    /// Provider id.
    #[arg(long)]
    provider: String,
    /// Channel of the deck.
    #[arg(long, default_value = "voice")]
    channel: Channel,
    /// When the version takes effect (RFC 3339; default now).
    #[arg(long)]
    effective_from: Option<chrono::DateTime<chrono::Utc>>,
    /// Import valid rows and report skipped lines instead of refusing the file.
    #[arg(long)]
    skip_invalid: bool,
}

async fn open(config: &Config) -> Result<Store> {
    let store = Store::connect(&config.database_url.0, 16)
        .await
        .with_context(|| {
            format!(
                "cannot open {}",
                switchyard_store::redact_url(&config.database_url.0)
            )
        })?;
    store
        .migrate()
        .await
        .context("cannot migrate the database")?;
    Ok(store)
}

pub fn init_logging(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_new(filter)
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

pub fn serve(global: &GlobalArgs, args: ServeArgs) -> Result<ExitCode> {
    let mut config = Config::load(global, args.listen)?;
    if args.public_url.is_some() {
        config.public_url = args.public_url;
    }
    if args.no_sandbox {
        config.sandbox = false;
    }
    if let Some(url) = &config.public_url {
        url::Url::parse(url).with_context(|| format!("public_url {url:?} is not a URL"))?;
    }
    init_logging(&config.log.0);
    runtime()?.block_on(async {
        let key = config.master_key()?;
        let store = open(&config).await?;
        let listener = tokio::net::TcpListener::bind(&config.listen.0)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen.0))?;
        let settings = ServerSettings {
            max_upload_bytes: config.max_upload_bytes,
            log_decisions: config.log_decisions,
            public_url: config.public_url.clone(),
            sandbox: config.sandbox.then_some(SandboxConfig {
                seed: config.sandbox_seed,
                speed: config.sandbox_speed,
            }),
            platform_org: args.platform_org.clone(),
            ..ServerSettings::default()
        };
        let running = switchyard_server::start(store, key, settings, listener).await?;
        eprintln!("switchyard listening on http://{}", running.addr);
        if let Some(url) = &running.setup_url {
            eprintln!("no dashboard user yet: open {url} to create the first account");
        }
        tokio::signal::ctrl_c()
            .await
            .context("cannot wait for Ctrl-C")?;
        tracing::info!("shutting down");
        running.stop();
        let _ = running.done.await;
        Ok(ExitCode::SUCCESS)
    })
}

pub fn migrate(global: &GlobalArgs) -> Result<ExitCode> {
    let config = Config::load(global, None)?;
    init_logging(&config.log.0);
    runtime()?.block_on(async {
        open(&config).await?;
        println!(
            "database {} is up to date",
            switchyard_store::redact_url(&config.database_url.0)
        );
        Ok(ExitCode::SUCCESS)
    })
}

pub fn config(global: &GlobalArgs, cmd: ConfigCommand) -> Result<ExitCode> {
    match cmd {
        ConfigCommand::Show => {
            let config = Config::load(global, None)?;
            print!("{}", config.show());
            Ok(ExitCode::SUCCESS)
        }
    }
}

pub fn admin(global: &GlobalArgs, cmd: AdminCommand) -> Result<ExitCode> {
    let config = Config::load(global, None)?;
    init_logging("warn");
    runtime()?.block_on(async {
        let store = open(&config).await?;
        match cmd {
            AdminCommand::Org(OrgCommand::Create { name }) => {
                if name.trim().is_empty() {
                    bail!("the organisation name cannot be empty");
                }
                let org = store.create_org(&name).await?;
                println!("{}", org.id);
            }
            AdminCommand::Key(KeyCommand::Create { org, role, name }) => {
                if store.org(&org).await?.is_none() {
                    bail!("no organisation {org}");
                }
                let (key, secret) = store.create_key(&org, role, &name).await?;
                println!("key id: {}", key.id);
                println!("role: {}", key.role);
                println!("store this key now; it is not shown again:");
                println!("{secret}");
            }
        }
        Ok(ExitCode::SUCCESS)
    })
}

pub fn rates(global: &GlobalArgs, cmd: RatesCommand) -> Result<ExitCode> {
    let RatesCommand::Import(args) = cmd;
    let config = Config::load(global, None)?;
    init_logging("warn");
    runtime()?.block_on(async {
        let store = open(&config).await?;
        let provider = store
            .provider_by_id(&args.provider)
            .await?
            .with_context(|| format!("no provider {}", args.provider))?;
        let file = std::fs::File::open(&args.file)
            .with_context(|| format!("cannot open {}", args.file.display()))?;
        let options = ImportOptions {
            skip_invalid: args.skip_invalid,
            ..ImportOptions::default()
        };
        let report = match import_csv(file, &options) {
            Ok(r) => r,
            Err(ImportError::Invalid { errors, total }) => {
                for e in &errors {
                    eprintln!("{}: {e}", args.file.display());
                }
                bail!(
                    "{}: {total} invalid row(s), nothing imported",
                    args.file.display()
                );
            }
            Err(e) => bail!("{}: {e}", args.file.display()),
        };
        for e in &report.skipped {
            eprintln!("skipped {}: {e}", args.file.display());
        }
        let meta = store
            .insert_deck(NewDeck {
                org_id: provider.org_id.clone(),
                provider_id: provider.id.clone(),
                channel: args.channel,
                effective_from: args.effective_from.unwrap_or_else(chrono::Utc::now),
                source_name: args.file.display().to_string(),
                rows: report.rows,
            })
            .await?;
        store.notify("switchyard_routing", &provider.org_id).await?;
        println!(
            "imported deck {} with {} rows for provider {}",
            meta.id, meta.row_count, provider.id
        );
        Ok(ExitCode::SUCCESS)
    })
}
