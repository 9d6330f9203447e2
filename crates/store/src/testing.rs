//! Fresh stores on every backend for tests: SQLite always, PostgreSQL when
//! `SWITCHYARD_TEST_POSTGRES_URL` is set. With `CI=true` an unset or unreachable PostgreSQL
//! is a failure, not a skip. Each PostgreSQL store gets its own schema, so tests never see
//! each other's rows.

use crate::{Backend, Store};

/// A migrated store and what keeps it alive (the SQLite file's folder).
pub struct TestStore {
    /// The store.
    pub store: Store,
    /// The URL other instances can open to share it.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
}

fn ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// A fresh SQLite store in a temporary folder.
pub async fn sqlite() -> TestStore {
    let dir = tempfile::tempdir().expect("temporary folder");
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    let store = Store::connect(&url, 4).await.expect("sqlite opens");
    store.migrate().await.expect("sqlite migrates");
    TestStore {
        store,
        url,
        _dir: Some(dir),
    }
}

/// A fresh PostgreSQL store in its own schema, or `None` (with a note) when no server is
/// configured outside CI.
pub async fn postgres() -> Option<TestStore> {
    let base = match std::env::var("SWITCHYARD_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => url,
        _ if ci() => panic!("CI=true but SWITCHYARD_TEST_POSTGRES_URL is not set"),
        _ => {
            eprintln!("note: SWITCHYARD_TEST_POSTGRES_URL is not set; PostgreSQL tests skipped");
            return None;
        }
    };
    let admin = match Store::connect(&base, 1).await {
        Ok(s) => s,
        Err(e) if !ci() => {
            eprintln!(
                "note: PostgreSQL at {} unreachable ({e}); skipped",
                crate::redact_url(&base)
            );
            return None;
        }
        Err(e) => panic!("CI=true but PostgreSQL is unreachable: {e}"),
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    admin
        .execute_admin(&format!("CREATE SCHEMA {schema}"))
        .await
        .expect("create schema");
    let sep = if base.contains('?') { '&' } else { '?' };
    let url = format!("{base}{sep}options=-c%20search_path%3D{schema}");
    let store = Store::connect(&url, 4).await.expect("postgres opens");
    store.migrate().await.expect("postgres migrates");
    assert_eq!(store.backend(), Backend::Postgres);
    Some(TestStore {
        store,
        url,
        _dir: None,
    })
}

/// Every backend available to this run.
pub async fn all() -> Vec<TestStore> {
    let mut stores = vec![sqlite().await];
    stores.extend(postgres().await);
    stores
}

/// A call from `org` to `to` with no plan, decision or metadata, as tests write them.
pub fn plain_call(org: &str, to: &str) -> crate::NewCall {
    crate::NewCall {
        org_id: org.into(),
        to_e164: to.into(),
        answer: r#"{"url":"https://example.com/a"}"#.into(),
        ring_timeout_secs: 30,
        metadata: "{}".into(),
        plan: "[]".into(),
        decision: "{}".into(),
        lease_ms: 0,
        idempotency: None,
    }
}
