//! One module per group of subcommands.

pub mod bench;
pub mod route;
pub mod service;
