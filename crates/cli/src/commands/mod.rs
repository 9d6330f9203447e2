//! One module per group of subcommands.

pub mod bench;
mod bench_http;
pub mod route;
pub mod sandbox;
pub mod service;
