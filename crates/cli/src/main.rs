//! The `switchyard` command line.

mod commands;
mod deck_files;
mod memory;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Switchyard: multi-carrier least-cost routing for calls, messages and email.
#[derive(Debug, Parser)]
#[command(name = "switchyard", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Route a number (or a file of numbers) over a folder of rate decks and explain the
    /// decision.
    Route(commands::route::RouteArgs),
    /// Run a benchmark and print its figures as one JSON line.
    #[command(subcommand)]
    Bench(commands::bench::BenchCommand),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Route(args) => commands::route::run(args),
        Command::Bench(b) => commands::bench::run(b),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
