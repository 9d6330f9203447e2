//! Change notifications between instances: PostgreSQL `NOTIFY`/`LISTEN`. On SQLite there is
//! only ever one instance, so notifying does nothing.

use crate::{Backend, Result, Store};
use sqlx::postgres::PgListener;

/// A subscription to one notification channel.
pub struct Subscription {
    listener: PgListener,
}

impl Subscription {
    /// The payload of the next notification.
    pub async fn next(&mut self) -> Result<String> {
        Ok(self.listener.recv().await?.payload().to_string())
    }
}

impl Store {
    /// Tells every listening instance (PostgreSQL); nothing on SQLite.
    pub async fn notify(&self, channel: &str, payload: &str) -> Result<()> {
        if self.backend() == Backend::Postgres {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(channel)
                .bind(payload)
                .execute(self.pool())
                .await?;
        }
        Ok(())
    }

    /// Listens on a channel over a dedicated connection (PostgreSQL only).
    pub async fn subscribe(&self, channel: &str) -> Result<Subscription> {
        let mut listener = PgListener::connect(self.url()).await?;
        listener.listen(channel).await?;
        Ok(Subscription { listener })
    }
}
