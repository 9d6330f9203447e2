//! One module per group of subcommands.

pub mod analyze;
pub mod bench;
mod bench_analytics;
mod bench_budget;
mod bench_http;
mod bench_overview;
mod bench_pool;
mod bench_send;
mod bench_smtp;
pub mod demo;
mod embedded;
pub mod route;
pub mod sandbox;
pub mod service;
