//! Loading a folder of deck files: `PROVIDER.csv` is a voice deck, `PROVIDER.CHANNEL.csv` a
//! deck for another channel.

use anyhow::{Context, Result, bail};
use std::path::{Path, PathBuf};
use switchyard_core::deck::{ImportError, ImportOptions, import_csv};
use switchyard_core::{Channel, Deck, ProviderId};

/// A deck read from a file, with what the import reported.
pub struct LoadedDeck {
    pub deck: Deck,
    pub path: PathBuf,
    pub skipped: Vec<String>,
}

/// Splits `twilio.sms.csv` into (`twilio`, sms) and `twilio.csv` into (`twilio`, voice).
fn provider_and_channel(path: &Path) -> Result<(ProviderId, Channel)> {
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .with_context(|| format!("{}: file name is not UTF-8", path.display()))?;
    match stem.rsplit_once('.') {
        Some((provider, channel)) => {
            let channel: Channel = channel.parse().with_context(|| {
                format!(
                    "{}: name the file PROVIDER.csv or PROVIDER.CHANNEL.csv",
                    path.display()
                )
            })?;
            Ok((ProviderId::new(provider), channel))
        }
        None => Ok((ProviderId::new(stem), Channel::Voice)),
    }
}

/// Reads every `*.csv` in `dir`, in name order. Any invalid deck fails the whole load with
/// the file, line, column and reason of each problem.
pub fn load_dir(dir: &Path, options: &ImportOptions) -> Result<Vec<LoadedDeck>> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read deck folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x.eq_ignore_ascii_case("csv")))
        .collect();
    paths.sort();
    if paths.is_empty() {
        bail!("no .csv deck in {}", dir.display());
    }
    let effective_from = chrono::DateTime::UNIX_EPOCH;
    let mut decks = Vec::with_capacity(paths.len());
    for path in paths {
        let (provider, channel) = provider_and_channel(&path)?;
        let file = std::fs::File::open(&path)
            .with_context(|| format!("cannot open {}", path.display()))?;
        let report = import_csv(file, options).map_err(|e| describe(&path, e))?;
        decks.push(LoadedDeck {
            skipped: report.skipped.iter().map(ToString::to_string).collect(),
            deck: Deck {
                provider,
                channel,
                effective_from,
                rows: report.rows,
            },
            path,
        });
    }
    Ok(decks)
}

fn describe(path: &Path, e: ImportError) -> anyhow::Error {
    match e {
        ImportError::Invalid { errors, total } => {
            let mut msg = format!(
                "{}: {total} invalid row(s), nothing imported",
                path.display()
            );
            for err in &errors {
                msg.push_str(&format!("\n  {}: {err}", path.display()));
            }
            if total > errors.len() {
                msg.push_str(&format!("\n  … and {} more", total - errors.len()));
            }
            anyhow::anyhow!(msg)
        }
        other => anyhow::anyhow!("{}: {other}", path.display()),
    }
}
