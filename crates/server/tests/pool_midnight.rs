//! Daily caps and warm-up schedules follow each number's own time zone: a New York number's
//! counter does not reset at UTC midnight but at New York's, its warm-up steps up at that
//! same midnight, and a Los Angeles number in the same pool turns its day three hours
//! later; on SQLite and (when configured) PostgreSQL.

use chrono::{DateTime, TimeZone, Utc};
use switchyard_core::Channel;
use switchyard_core::number::parse_e164;
use switchyard_server::secrets::MasterKey;
use switchyard_server::sender::{PoolCache, place_of_text, select};
use switchyard_store::{NewProvider, NumberAtProvider, PoolRecord, Store, testing};

const NEW_YORK: &str = "+12125550100";
const LOS_ANGELES: &str = "+13105550100";

async fn number(store: &Store, org: &str, provider: &str, e164: &str) -> String {
    let (n, _) = store
        .upsert_number(
            org,
            provider,
            &NumberAtProvider {
                e164: e164.into(),
                provider_number_id: format!("PN{e164}"),
                voice: true,
                sms: true,
                mms: false,
            },
        )
        .await
        .expect("number");
    let place = place_of_text(e164).expect("a NANP number");
    store.set_number_place(&n.id, &place).await.expect("place");
    n.id
}

fn utc(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, mo, d, h, mi, 0)
        .single()
        .expect("a valid instant")
}

/// How many calls to `to` the pool accepts at `now` before it is exhausted, and the numbers
/// they came from.
async fn drain(
    store: &Store,
    cache: &PoolCache,
    pool: &PoolRecord,
    provider: &str,
    to: &str,
    now: DateTime<Utc>,
) -> Vec<String> {
    let to = parse_e164(to).expect("callee");
    let routed = [provider.to_string()];
    let mut used = Vec::new();
    loop {
        match select(store, cache, pool, &to, Channel::Voice, &routed, now).await {
            Ok((plan, _)) => used.push(plan[0].from.clone()),
            Err(e) => {
                assert_eq!(e.code, "pool_exhausted", "{}", e.message);
                return used;
            }
        }
        assert!(used.len() <= 100, "the pool never ran out");
    }
}

#[tokio::test]
async fn caps_and_warm_up_turn_over_at_each_numbers_own_midnight() {
    for t in testing::all().await {
        let store = &t.store;
        let org = store.create_org("midnight").await.expect("org").id;
        let provider = store
            .insert_provider(NewProvider {
                org_id: org.clone(),
                kind: "sandbox".into(),
                name: "carrier".into(),
                credentials: MasterKey::parse(&"11".repeat(32))
                    .expect("key")
                    .encrypt(b"{}"),
                settings: "{}".into(),
            })
            .await
            .expect("provider")
            .id;
        let ny = number(store, &org, &provider, NEW_YORK).await;
        let la = number(store, &org, &provider, LOS_ANGELES).await;
        // Warm-up began at 22:00 in New York on 1 March (03:00 UTC on the 2nd).
        let began = utc(2027, 3, 2, 3, 0);
        for id in [&ny, &la] {
            assert!(
                store
                    .start_warmup(id, began.timestamp_millis())
                    .await
                    .expect("warm-up")
            );
        }
        let pool = store
            .create_pool(&org, "ramp", r#"{"daily_cap": 10, "warmup": [2, 3]}"#)
            .await
            .expect("pool")
            .expect("new pool");
        store
            .set_pool_numbers(&org, &pool.id, &[ny.clone(), la.clone()])
            .await
            .expect("members");

        let cache = PoolCache::default();
        // 23:30 in New York on 1 March (20:30 in Los Angeles): both on warm-up day 0.
        let used = drain(
            store,
            &cache,
            &pool,
            &provider,
            "+12125559999",
            utc(2027, 3, 2, 4, 30),
        )
        .await;
        assert_eq!(used.len(), 4, "two first-day uses each: {used:?}");

        // 00:10 in New York on 2 March, 21:10 on 1 March in Los Angeles: New York's counter
        // has reset and its warm-up is on day 1 (cap 3); Los Angeles is still capped.
        let used = drain(
            store,
            &cache,
            &pool,
            &provider,
            "+12125559999",
            utc(2027, 3, 2, 5, 10),
        )
        .await;
        assert_eq!(used, vec![NEW_YORK.to_string(); 3], "{used:?}");

        // 00:10 in Los Angeles on 2 March: its turn comes three hours later.
        let used = drain(
            store,
            &cache,
            &pool,
            &provider,
            "+13105559999",
            utc(2027, 3, 2, 8, 10),
        )
        .await;
        assert_eq!(used, vec![LOS_ANGELES.to_string(); 3], "{used:?}");

        // After the schedule, the daily cap.
        let used = drain(
            store,
            &cache,
            &pool,
            &provider,
            "+12125559999",
            utc(2027, 3, 4, 5, 10),
        )
        .await;
        assert_eq!(used.len(), 20, "{used:?}");
    }
}
