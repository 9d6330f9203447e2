//! The `switchyard` command line.

mod commands;
mod config;
mod deck_files;
mod memory;

use clap::{Parser, Subcommand};
use commands::service;
use std::process::ExitCode;

/// Switchyard: multi-carrier least-cost routing for calls, messages and email.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about)]
struct Cli {
    #[command(flatten)]
    global: config::GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// See it work: three sandbox carriers, 1,000 SMS and 1,000 calls through least-cost
    /// routing, an outage half-way, and what it all cost against a single carrier.
    Demo(commands::demo::DemoArgs),
    /// Run the API server (embedded SQLite by default).
    Serve(service::ServeArgs),
    /// Create or update the database schema.
    Migrate,
    /// Configuration.
    #[command(subcommand)]
    Config(service::ConfigCommand),
    /// Organisations and API keys.
    #[command(subcommand)]
    Admin(service::AdminCommand),
    /// Rate decks in the database.
    #[command(subcommand)]
    Rates(service::RatesCommand),
    /// Route a number (or a file of numbers) over a folder of rate decks or an
    /// organisation's decks in the database, and explain the decision.
    Route(Box<commands::route::RouteArgs>),
    /// Run the built-in carrier simulator on its own port (Twilio- and Telnyx-style APIs).
    Sandbox(commands::sandbox::SandboxArgs),
    /// Run a benchmark and print its figures as one JSON line.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
    /// Analyse past traffic (the offline routing optimum).
    #[command(subcommand)]
    Analyze(commands::analyze::AnalyzeCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo(args) => commands::demo::run(&cli.global, &args),
        Command::Serve(args) => service::serve(&cli.global, args),
        Command::Migrate => service::migrate(&cli.global),
        Command::Config(c) => service::config(&cli.global, c),
        Command::Admin(c) => service::admin(&cli.global, c),
        Command::Rates(c) => service::rates(&cli.global, c),
        Command::Route(args) => commands::route::run(&cli.global, *args),
        Command::Sandbox(args) => commands::sandbox::run(args),
        Command::Bench(b) => commands::bench::run(&cli.global, b),
        Command::Analyze(a) => commands::analyze::run(&cli.global, a),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
