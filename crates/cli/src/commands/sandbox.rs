//! `switchyard sandbox`: the carrier simulator on its own port, with one Twilio-style and
//! one Telnyx-style account ready to use.

use anyhow::{Context, Result};
use clap::Args;
use std::process::ExitCode;
use switchyard_sandbox::{NewAccount, Profile, Sandbox, SandboxConfig, Style};

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Port on 127.0.0.1 (use --listen for another address).
    #[arg(long, default_value_t = 8090)]
    port: u16,
    /// Full listen address; overrides --port.
    #[arg(long)]
    listen: Option<String>,
    /// Seed for credentials, numbers and outcomes (the same seed repeats a run).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 1.0)]
    speed: f64,
    /// Where the ready-made accounts send webhooks by default.
    #[arg(long)]
    webhook_url: Option<String>,
}

pub fn run(args: SandboxArgs) -> Result<ExitCode> {
    crate::commands::service::init_logging("info");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    runtime.block_on(async {
        let addr = args.listen.unwrap_or_else(|| format!("127.0.0.1:{}", args.port));
        let listener = tokio::net::TcpListener::bind(&addr)
            .await
            .with_context(|| format!("cannot listen on {addr}"))?;
        let local = listener.local_addr()?;
        let sandbox = Sandbox::new(SandboxConfig {
            seed: args.seed,
            speed: args.speed,
        });
        println!("sandbox listening on http://{local} (admin: /admin/accounts, journal: /admin/journal)");
        for style in [
            Style::Twilio,
            Style::Telnyx,
            Style::Signalwire,
            Style::Plivo,
            Style::Bandwidth,
            Style::Vonage,
        ] {
            let creds = sandbox.create_account(NewAccount {
                style,
                profile: Profile::default(),
                webhook_url: args.webhook_url.clone(),
            });
            let mut line = serde_json::to_value(&creds)?;
            line["base_url"] = serde_json::json!(format!("http://{local}"));
            println!("{}", serde_json::to_string(&line)?);
        }
        tokio::select! {
            served = switchyard_sandbox::serve(sandbox, listener) => served.context("sandbox stopped")?,
            _ = tokio::signal::ctrl_c() => {}
        }
        Ok(ExitCode::SUCCESS)
    })
}
