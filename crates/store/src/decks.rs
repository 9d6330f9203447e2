//! Rate deck versions and their rows.

use crate::{Page, Result, Store, StoreError, new_id, now_ms};
use chrono::{DateTime, Utc};
use rust_decimal::Decimal;
use sqlx::{AssertSqlSafe, Row};
use std::str::FromStr;
use switchyard_core::deck::{Increment, RateRow};
use switchyard_core::{Channel, Currency, Deck, ProviderId};

/// A stored deck version, without its rows.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DeckMeta {
    /// Its id.
    pub id: String,
    /// Its organisation.
    pub org_id: String,
    /// Whose prices.
    pub provider_id: String,
    /// For which channel.
    pub channel: Channel,
    /// When it takes effect, unix ms.
    pub effective_from: i64,
    /// How many rows.
    pub row_count: i64,
    /// File name or label it was uploaded as.
    pub source_name: String,
    /// Upload instant.
    pub created_at: i64,
}

/// A deck version to store.
#[derive(Debug, Clone)]
pub struct NewDeck {
    /// Its organisation.
    pub org_id: String,
    /// Whose prices.
    pub provider_id: String,
    /// Channel.
    pub channel: Channel,
    /// When it takes effect.
    pub effective_from: DateTime<Utc>,
    /// Label.
    pub source_name: String,
    /// The rows.
    pub rows: Vec<RateRow>,
}

/// Rows per INSERT statement: 15 parameters each stays under every backend's limit.
const ROWS_PER_INSERT: usize = 500;

const META: &str =
    "id, org_id, provider_id, channel, effective_from, row_count, source_name, created_at";
const ROW: &str = "prefix, destination, rate, connection_fee, attachment_fee, increment_initial, increment_subsequent, min_duration, effective_from, effective_to, currency, closed, line";

fn meta_from_row(r: &sqlx::any::AnyRow) -> Result<DeckMeta> {
    let channel: String = r.get(3);
    Ok(DeckMeta {
        id: r.get(0),
        org_id: r.get(1),
        provider_id: r.get(2),
        channel: channel
            .parse()
            .map_err(
                |e: switchyard_core::channel::UnknownChannel| StoreError::Corrupt {
                    what: "rate_decks.channel",
                    reason: e.to_string(),
                },
            )?,
        effective_from: r.get(4),
        row_count: r.get(5),
        source_name: r.get(6),
        created_at: r.get(7),
    })
}

fn corrupt(what: &'static str, reason: impl ToString) -> StoreError {
    StoreError::Corrupt {
        what,
        reason: reason.to_string(),
    }
}

fn rate_row_from(r: &sqlx::any::AnyRow) -> Result<RateRow> {
    let decimal = |i: usize, what| -> Result<Decimal> {
        let s: String = r.get(i);
        Decimal::from_str(&s).map_err(|e| corrupt(what, e))
    };
    let instant = |i: usize| -> Option<DateTime<Utc>> {
        r.get::<Option<i64>, _>(i)
            .and_then(DateTime::from_timestamp_millis)
    };
    let seconds = |i: usize, what| -> Result<u32> {
        u32::try_from(r.get::<i64, _>(i)).map_err(|e| corrupt(what, e))
    };
    let currency: String = r.get(10);
    Ok(RateRow {
        prefix: r.get(0),
        destination: r.get(1),
        rate: decimal(2, "rate_rows.rate")?,
        connection_fee: decimal(3, "rate_rows.connection_fee")?,
        attachment_fee: decimal(4, "rate_rows.attachment_fee")?,
        increment: Increment {
            initial: seconds(5, "rate_rows.increment_initial")?,
            subsequent: seconds(6, "rate_rows.increment_subsequent")?,
        },
        min_duration: seconds(7, "rate_rows.min_duration")?,
        effective_from: instant(8),
        effective_to: instant(9),
        currency: Currency::from_str(&currency).map_err(|e| corrupt("rate_rows.currency", e))?,
        closed: r.get::<i64, _>(11) != 0,
        line: u64::try_from(r.get::<i64, _>(12)).unwrap_or(0),
    })
}

impl Store {
    /// Stores a deck version and its rows in one transaction.
    pub async fn insert_deck(&self, deck: NewDeck) -> Result<DeckMeta> {
        let meta = DeckMeta {
            id: new_id(),
            org_id: deck.org_id,
            provider_id: deck.provider_id,
            channel: deck.channel,
            effective_from: deck.effective_from.timestamp_millis(),
            row_count: deck.rows.len() as i64,
            source_name: deck.source_name,
            created_at: now_ms(),
        };
        let mut tx = self.writer().begin().await?;
        sqlx::query(AssertSqlSafe(format!(
            "INSERT INTO rate_decks ({META}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)"
        )))
        .bind(&meta.id)
        .bind(&meta.org_id)
        .bind(&meta.provider_id)
        .bind(meta.channel.as_str())
        .bind(meta.effective_from)
        .bind(meta.row_count)
        .bind(&meta.source_name)
        .bind(meta.created_at)
        .execute(&mut *tx)
        .await?;
        for (chunk_no, chunk) in deck.rows.chunks(ROWS_PER_INSERT).enumerate() {
            let mut sql = format!("INSERT INTO rate_rows (deck_id, position, {ROW}) VALUES ");
            sql.push_str(&self.values_list(chunk.len(), 15));
            let mut q = sqlx::query(AssertSqlSafe(sql));
            for (i, row) in chunk.iter().enumerate() {
                q = q
                    .bind(meta.id.clone())
                    .bind((chunk_no * ROWS_PER_INSERT + i) as i64)
                    .bind(row.prefix.clone())
                    .bind(row.destination.clone())
                    .bind(row.rate.to_string())
                    .bind(row.connection_fee.to_string())
                    .bind(row.attachment_fee.to_string())
                    .bind(i64::from(row.increment.initial))
                    .bind(i64::from(row.increment.subsequent))
                    .bind(i64::from(row.min_duration))
                    .bind(row.effective_from.map(|t| t.timestamp_millis()))
                    .bind(row.effective_to.map(|t| t.timestamp_millis()))
                    .bind(row.currency.to_string())
                    .bind(i64::from(row.closed))
                    .bind(i64::try_from(row.line).unwrap_or(i64::MAX));
            }
            q.execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(meta)
    }

    /// A deck version of the organisation.
    pub async fn deck(&self, org_id: &str, id: &str) -> Result<Option<DeckMeta>> {
        let row = sqlx::query(AssertSqlSafe(format!(
            "SELECT {META} FROM rate_decks WHERE org_id = $1 AND id = $2"
        )))
        .bind(org_id)
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(meta_from_row).transpose()
    }

    /// A page of a provider's deck versions, newest first.
    pub async fn decks_page(
        &self,
        org_id: &str,
        provider_id: &str,
        before: Option<&str>,
        limit: usize,
    ) -> Result<Page<DeckMeta>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {META} FROM rate_decks WHERE org_id = $1 AND provider_id = $2 AND ($3 = '' OR id < $3) \
             ORDER BY id DESC LIMIT $4"
        )))
        .bind(org_id)
        .bind(provider_id)
        .bind(before.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        let items = rows.iter().map(meta_from_row).collect::<Result<Vec<_>>>()?;
        Ok(Page::from_rows(items, limit, |d| d.id.clone()))
    }

    /// Rows of a deck version, in file order, from position `offset`.
    pub async fn deck_rows(
        &self,
        deck_id: &str,
        offset: i64,
        limit: usize,
    ) -> Result<Vec<RateRow>> {
        let rows = sqlx::query(AssertSqlSafe(format!(
            "SELECT {ROW} FROM rate_rows WHERE deck_id = $1 AND position >= $2 ORDER BY position LIMIT $3"
        )))
        .bind(deck_id)
        .bind(offset)
        .bind(limit as i64)
        .fetch_all(self.pool())
        .await?;
        rows.iter().map(rate_row_from).collect()
    }

    /// Deletes a deck version; `false` when the organisation has no such deck.
    pub async fn delete_deck(&self, org_id: &str, id: &str) -> Result<bool> {
        let mut tx = self.writer().begin().await?;
        let found = sqlx::query("SELECT id FROM rate_decks WHERE org_id = $1 AND id = $2")
            .bind(org_id)
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
        if found.is_none() {
            return Ok(false);
        }
        sqlx::query("DELETE FROM rate_rows WHERE deck_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM rate_decks WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Every deck version of the organisation with its rows, for a routing snapshot.
    pub async fn org_decks(&self, org_id: &str) -> Result<Vec<Deck>> {
        let metas = sqlx::query(AssertSqlSafe(format!(
            "SELECT {META} FROM rate_decks WHERE org_id = $1 ORDER BY id"
        )))
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        let mut decks = Vec::with_capacity(metas.len());
        for m in metas.iter().map(meta_from_row) {
            let m = m?;
            let rows = sqlx::query(AssertSqlSafe(format!(
                "SELECT {ROW} FROM rate_rows WHERE deck_id = $1 ORDER BY position"
            )))
            .bind(&m.id)
            .fetch_all(self.pool())
            .await?;
            decks.push(Deck {
                provider: ProviderId::new(&m.provider_id),
                channel: m.channel,
                effective_from: DateTime::from_timestamp_millis(m.effective_from)
                    .unwrap_or_default(),
                rows: rows.iter().map(rate_row_from).collect::<Result<_>>()?,
            });
        }
        Ok(decks)
    }
}
