//! Persistence for Switchyard: one logical schema on SQLite (embedded default) or PostgreSQL,
//! reached through sqlx's `Any` driver so every query is written once. Identifiers are UUIDv7
//! text, instants unix milliseconds, money decimal text: types both backends hold the same.

mod activity;
mod audit;
mod budgets;
mod calls;
mod consent;
mod costs;
mod decisions;
mod decks;
mod emails;
mod events_out;
mod idempotency;
mod keys;
mod messages;
mod notify;
mod number_stats;
mod numbers;
mod orgs;
mod outbox;
mod pools;
mod providers;
mod provisioning;
mod sessions;
mod synthetic;
mod templates;
#[cfg(feature = "test-support")]
pub mod testing;
mod usage;
mod users;
mod webhook_events;

pub use activity::StatusCount;
pub use audit::{AuditEntry, NewAuditEntry};
pub use budgets::{BudgetRecord, NewBudget};
pub use calls::{CallRecord, CallTimes, FinishedCall, NewCall};
pub use consent::{Block, DoNotContact, OptOut};
pub use costs::{CostComponent, NewCostComponent};
pub use decisions::DecisionEntry;
pub use decks::{DeckMeta, NewDeck};
pub use emails::{EmailEventRecord, EmailRecord, NewEmail, NewEmailEvent, Suppression};
pub use events_out::{EventDelivery, EventEndpoint};
pub use idempotency::Reservation;
pub use keys::{ApiKey, Role, hash_secret};
pub use messages::{MessageRecord, NewMessage};
pub use notify::Subscription;
pub use number_stats::NumberActivity;
pub use numbers::{Assignment, NumberAtProvider, PhoneNumber, SyncOutcome};
pub use orgs::{Org, OrgDocument};
pub use outbox::{
    Attempt, AttemptOutcome, CostText, Created, Dispatched, KeyClaim, Outbox, OutboxFilter,
    StatusMove,
};
pub use pools::{DayUsage, NumberPlace, PoolMember, PoolRecord};
pub use providers::{NewProvider, ProviderRecord};
pub use provisioning::{NumberFacts, ProvisioningRecord, ProvisioningStart, UsageWarning};
pub use sessions::{Session, SessionSubject};
pub use synthetic::SyntheticCall;
pub use templates::TemplateRecord;
pub use usage::{Dimension, RollupQuery};
pub use users::{NewUser, User, UserPatch};
pub use webhook_events::{NewWebhookEvent, WebhookEvent};

use sqlx::any::{AnyPoolOptions, install_default_drivers};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use std::time::Duration;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// Which database is behind the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// An embedded SQLite file.
    Sqlite,
    /// A PostgreSQL server (several instances may share it).
    Postgres,
}

/// A store error. Messages never contain credentials.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL names no supported database.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The database answered with an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration failed: {0}")]
    Migration(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("corrupt stored value in {what}: {reason}")]
    Corrupt {
        /// Which value.
        what: &'static str,
        /// Why.
        reason: String,
    },
}

/// A result of a store operation.
pub type Result<T> = std::result::Result<T, StoreError>;

/// The connection pool and the backend it talks to.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    /// Where writes go: on SQLite a pool of one connection, so writers queue here in order
    /// instead of sleeping in SQLite's busy handler; on PostgreSQL the same pool.
    writer: AnyPool,
    /// Where caller-ID cap counters and budget spend are counted: on PostgreSQL a few
    /// connections that do not wait for the WAL flush at commit (`synchronous_commit =
    /// off`), since a send waits on these statements; an increment is still atomic and seen
    /// by every instance at once, only a database crash can forget the last fraction of a
    /// second of counts. On SQLite the writer.
    counters: AnyPool,
    backend: Backend,
    url: String,
}

/// The current instant in unix milliseconds.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// A new time-ordered identifier.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// An id as [`new_id`] would have made it at `ms` (for records written after the fact, such
/// as benchmarks' synthetic traffic, whose ids must sort with their creation time).
pub fn id_at(ms: i64) -> String {
    let ms = u64::try_from(ms.max(0)).unwrap_or(0);
    let ts = uuid::Timestamp::from_unix(
        uuid::NoContext,
        ms / 1000,
        u32::try_from(ms % 1000).unwrap_or(0) * 1_000_000,
    );
    uuid::Uuid::new_v7(ts).to_string()
}

impl Store {
    /// Connects to `url` (`sqlite://PATH` creates the file; `postgres://…`). Does not migrate.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store> {
        install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(StoreError::UnsupportedUrl(redact_url(url)));
        };
        let connect_url = match backend {
            Backend::Sqlite if !url.contains("mode=") => {
                let sep = if url.contains('?') { '&' } else { '?' };
                format!("{url}{sep}mode=rwc")
            }
            _ => url.to_string(),
        };
        let options = |connections: u32| {
            let options = AnyPoolOptions::new()
                .max_connections(connections.max(1))
                .acquire_timeout(Duration::from_secs(30));
            match backend {
                Backend::Sqlite => options.after_connect(|conn, _| {
                    Box::pin(async move {
                        // WAL lets readers run beside the writer; NORMAL sync is durable in WAL
                        // mode across application crashes; the busy timeout queues writers.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 10000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Checkpoint every 10,000 pages (40 MB of WAL) rather than 1,000: under a
                        // steady write load the same hot pages are copied back far less often.
                        conn.execute("PRAGMA wal_autocheckpoint = 10000").await?;
                        Ok(())
                    })
                }),
                Backend::Postgres => options,
            }
        };
        // SQLite has one writer at a time: the writer connection is opened (and the file
        // created) first, and readers run beside it thanks to WAL.
        let (pool, writer, counters) = match backend {
            Backend::Sqlite => {
                let writer = options(1).connect(&connect_url).await?;
                (
                    options(max_connections).connect(&connect_url).await?,
                    writer.clone(),
                    writer,
                )
            }
            Backend::Postgres => {
                let pool = options(max_connections).connect(&connect_url).await?;
                let counters = options(max_connections.clamp(1, 8))
                    .after_connect(|conn, _| {
                        Box::pin(async move {
                            conn.execute("SET synchronous_commit TO off").await?;
                            Ok(())
                        })
                    })
                    .connect(&connect_url)
                    .await?;
                (pool.clone(), pool, counters)
            }
        };
        Ok(Store {
            pool,
            writer,
            counters,
            backend,
            url: url.to_string(),
        })
    }

    /// Applies pending migrations of the backend's dialect.
    pub async fn migrate(&self) -> Result<()> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.writer).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.writer).await?,
        }
        Ok(())
    }

    /// The backend.
    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The pool reads use, for health checks and metrics.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// The pool writes and transactions use (see [`Store`]'s `writer`).
    pub(crate) fn writer(&self) -> &AnyPool {
        &self.writer
    }

    /// The URL the store was opened with (may contain a password: use [`redact_url`]).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Runs one administrative statement built from trusted text (schema creation for
    /// tests and benchmarks; never user input).
    pub async fn execute_admin(&self, sql: &str) -> Result<()> {
        sqlx::query(sqlx::AssertSqlSafe(sql.to_string()))
            .execute(&self.writer)
            .await?;
        Ok(())
    }

    /// The `VALUES` list of a multi-row insert of `rows` rows of `columns` values:
    /// `$n` placeholders on PostgreSQL, plain `?` on SQLite (whose cost of resolving `$n`
    /// names grows with the statement, which makes large inserts quadratic).
    pub(crate) fn values_list(&self, rows: usize, columns: usize) -> String {
        let mut out = String::with_capacity(rows * columns * 5);
        for r in 0..rows {
            out.push_str(if r == 0 { "(" } else { ",(" });
            for c in 0..columns {
                if c > 0 {
                    out.push(',');
                }
                match self.backend {
                    Backend::Sqlite => out.push('?'),
                    Backend::Postgres => {
                        out.push('$');
                        out.push_str(&(r * columns + c + 1).to_string());
                    }
                }
            }
            out.push(')');
        }
        out
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }
}

/// The URL with any password replaced by `****`, for logs and `config show`.
pub fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
            None => url.to_string(),
        },
        None => url.to_string(),
    }
}

/// One page of a list, newest first, with the cursor of the next page.
#[derive(Debug, Clone)]
pub struct Page<T> {
    /// The items.
    pub items: Vec<T>,
    /// Pass as `before` to get the next page; `None` on the last page.
    pub next_cursor: Option<String>,
}

impl<T> Page<T> {
    fn from_rows(mut items: Vec<T>, limit: usize, id: impl Fn(&T) -> String) -> Page<T> {
        let next_cursor = if items.len() > limit {
            items.truncate(limit);
            items.last().map(id)
        } else {
            None
        };
        Page { items, next_cursor }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/x"),
            "postgres://app:****@db:5432/x"
        );
        assert_eq!(
            redact_url("sqlite://./switchyard.db"),
            "sqlite://./switchyard.db"
        );
    }
}
