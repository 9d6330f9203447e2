//! Outbound emails (leases, attempts and status moves are in [`crate::outbox`]), their
//! events, and the organisation's suppression list.

use crate::outbox::{Created, FILTER, KeyClaim, Outbox, OutboxFilter, bind_filter};
use crate::{Page, Result, Store, new_id, now_ms};
use sqlx::Row;

/// An email to store.
#[derive(Debug, Clone)]
pub struct NewEmail {
    /// Its id, chosen before storing (the unsubscribe and tracking links carry it).
    pub id: String,
    /// Owner.
    pub org_id: String,
    /// `marketing` or `transactional`.
    pub kind: String,
    /// First recipient.
    pub to_address: String,
    /// Subject.
    pub subject: String,
    /// JSON: the message as it will be sent.
    pub content: String,
    /// JSON metadata.
    pub metadata: String,
    /// Recipients in all.
    pub recipients: u32,
    /// Attachments.
    pub attachments: u32,
    /// Size as sent, in bytes.
    pub size_bytes: u64,
    /// JSON list of `{provider_id, from}`.
    pub plan: String,
    /// Decision JSON.
    pub decision: String,
    /// How long the creating instance holds it before another may dispatch it.
    pub lease_ms: i64,
    /// The caller's Idempotency-Key, when given.
    pub idempotency: Option<KeyClaim>,
}

/// A stored email.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmailRecord {
    /// Its id.
    pub id: String,
    /// Owner.
    #[serde(skip)]
    pub org_id: String,
    /// `marketing` or `transactional`.
    pub kind: String,
    /// First recipient.
    pub to: String,
    /// Subject.
    pub subject: String,
    /// JSON content.
    #[serde(skip)]
    pub content: String,
    /// JSON object.
    #[serde(skip)]
    pub metadata: String,
    /// Recipients in all.
    pub recipients: i64,
    /// Attachments.
    pub attachments: i64,
    /// Size as sent, in bytes.
    pub size_bytes: i64,
    /// JSON plan.
    #[serde(skip)]
    pub plan: String,
    /// JSON decision.
    #[serde(skip)]
    pub decision: String,
    /// Where it stands.
    pub status: String,
    /// Next provider in the plan.
    #[serde(skip)]
    pub next_candidate: i64,
    /// The provider that took it.
    pub provider_id: Option<String>,
    /// Sender used.
    pub from: Option<String>,
    /// The provider's id for it.
    pub provider_message_id: Option<String>,
    /// Error code of the failure.
    pub error_code: Option<String>,
    /// Why it failed.
    pub error_message: Option<String>,
    /// Cost on the provider's deck (decimal string).
    pub cost: Option<String>,
    /// Cost on the baseline (decimal string).
    pub baseline_cost: Option<String>,
    /// Currency of `cost` and `baseline_cost`.
    pub currency: Option<String>,
    /// Unix ms.
    pub created_at: i64,
    /// Unix ms.
    pub updated_at: i64,
}

const COLUMNS: &str = "id, org_id, kind, to_address, subject, content, metadata, recipients, attachments, \
    size_bytes, plan, decision, status, next_candidate, provider_id, from_address, provider_message_id, \
    error_code, error_message, cost, baseline_cost, currency, created_at, updated_at";

fn record(r: &sqlx::any::AnyRow) -> EmailRecord {
    EmailRecord {
        id: r.get(0),
        org_id: r.get(1),
        kind: r.get(2),
        to: r.get(3),
        subject: r.get(4),
        content: r.get(5),
        metadata: r.get(6),
        recipients: r.get(7),
        attachments: r.get(8),
        size_bytes: r.get(9),
        plan: r.get(10),
        decision: r.get(11),
        status: r.get(12),
        next_candidate: r.get(13),
        provider_id: r.get(14),
        from: r.get(15),
        provider_message_id: r.get(16),
        error_code: r.get(17),
        error_message: r.get(18),
        cost: r.get(19),
        baseline_cost: r.get(20),
        currency: r.get(21),
        created_at: r.get(22),
        updated_at: r.get(23),
    }
}

/// Something that happened to an email.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EmailEventRecord {
    /// `delivered`, `hard_bounce`, `opened`…
    pub event: String,
    /// The recipient it is about.
    pub recipient: Option<String>,
    /// Bounce reason or link followed.
    pub detail: Option<String>,
    /// The provider's id, or `switchyard`.
    pub source: String,
    /// Unix ms.
    pub occurred_at: i64,
}

/// An event to record.
#[derive(Debug, Clone)]
pub struct NewEmailEvent<'a> {
    /// The email.
    pub email_id: &'a str,
    /// What happened.
    pub event: &'a str,
    /// Recipient.
    pub recipient: Option<&'a str>,
    /// Reason or link.
    pub detail: Option<&'a str>,
    /// Provider id or `switchyard`.
    pub source: &'a str,
    /// Unique per email and event.
    pub dedupe_key: &'a str,
    /// Unix ms.
    pub occurred_at: i64,
}

/// An address the organisation must not mail.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Suppression {
    /// Lower-case address.
    pub address: String,
    /// `hard_bounce`, `complained`, `unsubscribed` or `manual`.
    pub reason: String,
    /// `all`, or `marketing` (transactional email still goes).
    pub scope: String,
    /// The email that caused it.
    pub email_id: Option<String>,
    /// Bounce text or a note.
    pub detail: Option<String>,
    /// Unix ms.
    pub created_at: i64,
}

const SUPPRESSION_COLUMNS: &str = "address, reason, scope, email_id, detail, created_at";

fn suppression(r: &sqlx::any::AnyRow) -> Suppression {
    Suppression {
        address: r.get(0),
        reason: r.get(1),
        scope: r.get(2),
        email_id: r.get(3),
        detail: r.get(4),
        created_at: r.get(5),
    }
}

impl Store {
    /// Stores an email, held by its creator for `lease_ms`; or finds the one created with
    /// the same Idempotency-Key.
    pub async fn insert_email(&self, e: &NewEmail) -> Result<Created<EmailRecord>> {
        let id = e.id.clone();
        let now = now_ms();
        let claim = e.idempotency.as_ref();
        let inserted = sqlx::query(
            "INSERT INTO emails (id, org_id, kind, to_address, subject, content, metadata, recipients, \
             attachments, size_bytes, plan, decision, status, status_rank, next_candidate, dispatched, \
             lease_until, created_at, updated_at, idempotency_key, request_hash) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'accepted', 0, 0, 0, $13, $14, $14, $15, $16) \
             ON CONFLICT (org_id, idempotency_key) DO NOTHING",
        )
        .bind(&id)
        .bind(&e.org_id)
        .bind(&e.kind)
        .bind(&e.to_address)
        .bind(&e.subject)
        .bind(&e.content)
        .bind(&e.metadata)
        .bind(i64::from(e.recipients))
        .bind(i64::from(e.attachments))
        .bind(i64::try_from(e.size_bytes).unwrap_or(i64::MAX))
        .bind(&e.plan)
        .bind(&e.decision)
        .bind(now + e.lease_ms)
        .bind(now)
        .bind(claim.map(|c| c.key.as_str()))
        .bind(claim.map(|c| c.request_hash.as_str()))
        .execute(self.writer())
        .await?
        .rows_affected()
            == 1;
        let inserted = inserted.then_some(id);
        self.created(
            Outbox::Emails,
            inserted,
            &e.org_id,
            claim,
            |id| async move { self.email_by_id(&id).await },
        )
        .await
    }

    /// An email by id, whoever owns it: for workers, never for the API.
    pub async fn email_by_id(&self, id: &str) -> Result<Option<EmailRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM emails WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(record))
    }

    /// One of the organisation's emails by the id the provider gave it: how a provider's
    /// report finds its email, in one read.
    pub async fn email_by_provider_ref(
        &self,
        org_id: &str,
        provider_id: &str,
        provider_message_id: &str,
    ) -> Result<Option<EmailRecord>> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM emails WHERE provider_id = $1 AND provider_message_id = $2"
        )))
        .bind(provider_id)
        .bind(provider_message_id)
        .fetch_optional(self.pool())
        .await?;
        // The organisation is checked here, not in SQL: SQLite would otherwise pick the
        // organisation's index and scan all its emails.
        Ok(row.as_ref().map(record).filter(|e| e.org_id == org_id))
    }

    /// One of the organisation's emails.
    pub async fn email(&self, org_id: &str, id: &str) -> Result<Option<EmailRecord>> {
        Ok(self.email_by_id(id).await?.filter(|e| e.org_id == org_id))
    }

    /// A page of the organisation's emails, newest first.
    pub async fn emails_page(
        &self,
        org_id: &str,
        filter: &OutboxFilter<'_>,
        limit: usize,
    ) -> Result<Page<EmailRecord>> {
        let query = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {COLUMNS} FROM emails WHERE {FILTER} ORDER BY id DESC LIMIT $8"
        )));
        let rows = bind_filter(query, org_id, filter, limit)
            .fetch_all(self.pool())
            .await?;
        Ok(Page::from_rows(
            rows.iter().map(record).collect(),
            limit,
            |e: &EmailRecord| e.id.clone(),
        ))
    }

    /// Records an event; false when the same event was recorded before.
    pub async fn add_email_event(&self, e: &NewEmailEvent<'_>) -> Result<bool> {
        let n = sqlx::query(
            "INSERT INTO email_events (id, email_id, event, recipient, detail, source, dedupe_key, occurred_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (email_id, dedupe_key) DO NOTHING",
        )
        .bind(new_id())
        .bind(e.email_id)
        .bind(e.event)
        .bind(e.recipient)
        .bind(e.detail)
        .bind(e.source)
        .bind(e.dedupe_key)
        .bind(e.occurred_at)
        .execute(self.writer())
        .await?
        .rows_affected();
        Ok(n == 1)
    }

    /// An email's events, oldest first.
    pub async fn email_events(&self, email_id: &str) -> Result<Vec<EmailEventRecord>> {
        let rows = sqlx::query(
            "SELECT event, recipient, detail, source, occurred_at FROM email_events \
             WHERE email_id = $1 ORDER BY occurred_at, id",
        )
        .bind(email_id)
        .fetch_all(self.pool())
        .await?;
        Ok(rows
            .iter()
            .map(|r| EmailEventRecord {
                event: r.get(0),
                recipient: r.get(1),
                detail: r.get(2),
                source: r.get(3),
                occurred_at: r.get(4),
            })
            .collect())
    }

    /// Puts an address on the suppression list. A suppression of all email is never
    /// narrowed to marketing by a later unsubscribe; the first reason of a scope is kept.
    pub async fn suppress(&self, org_id: &str, s: &Suppression) -> Result<()> {
        sqlx::query(
            "INSERT INTO email_suppressions (org_id, address, reason, scope, email_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (org_id, address) DO UPDATE SET \
             reason = excluded.reason, scope = excluded.scope, email_id = excluded.email_id, \
             detail = excluded.detail, created_at = excluded.created_at \
             WHERE email_suppressions.scope = 'marketing' AND excluded.scope = 'all'",
        )
        .bind(org_id)
        .bind(s.address.to_lowercase())
        .bind(&s.reason)
        .bind(&s.scope)
        .bind(&s.email_id)
        .bind(&s.detail)
        .bind(s.created_at)
        .execute(self.writer())
        .await?;
        Ok(())
    }

    /// Takes an address off the list; false when it was not on it.
    pub async fn unsuppress(&self, org_id: &str, address: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM email_suppressions WHERE org_id = $1 AND address = $2")
            .bind(org_id)
            .bind(address.to_lowercase())
            .execute(self.writer())
            .await?
            .rows_affected();
        Ok(n == 1)
    }

    /// Which of `addresses` must not receive an email of this kind (`marketing` is
    /// refused to every suppressed address, `transactional` only to those suppressed for
    /// all email).
    pub async fn suppressed_among(
        &self,
        org_id: &str,
        addresses: &[String],
        marketing: bool,
    ) -> Result<Vec<Suppression>> {
        let mut found = Vec::new();
        for address in addresses {
            let row = sqlx::query(sqlx::AssertSqlSafe(format!(
                "SELECT {SUPPRESSION_COLUMNS} FROM email_suppressions \
                 WHERE org_id = $1 AND address = $2 AND (scope = 'all' OR $3 = 1)"
            )))
            .bind(org_id)
            .bind(address.to_lowercase())
            .bind(i64::from(marketing))
            .fetch_optional(self.pool())
            .await?;
            found.extend(row.as_ref().map(suppression));
        }
        Ok(found)
    }

    /// A page of the suppression list in address order, after `after`.
    pub async fn suppressions_page(
        &self,
        org_id: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Page<Suppression>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SUPPRESSION_COLUMNS} FROM email_suppressions \
             WHERE org_id = $1 AND address > $2 ORDER BY address LIMIT $3"
        )))
        .bind(org_id)
        .bind(after.unwrap_or(""))
        .bind(limit as i64 + 1)
        .fetch_all(self.pool())
        .await?;
        Ok(Page::from_rows(
            rows.iter().map(suppression).collect(),
            limit,
            |s: &Suppression| s.address.clone(),
        ))
    }
}
