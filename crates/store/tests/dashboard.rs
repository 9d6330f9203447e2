//! Users, sessions, feature documents and live activity counts on every backend.

use switchyard_store::{
    NewUser, OrgDocument, Outbox, Role, SessionSubject, StatusMove, Store, UserPatch, now_ms,
    testing,
};

fn user<'a>(org: &'a str, email: &'a str) -> NewUser<'a> {
    NewUser {
        org_id: org,
        email,
        name: "Ada",
        role: Role::Admin,
        password_hash: "$argon2id$stand-in",
    }
}

async fn sign_in(s: &Store, org: &str, subject: SessionSubject, token: &str, ttl: i64) {
    s.open_session(org, &subject, token, "csrf-1", now_ms() + ttl)
        .await
        .expect("session opens");
}

#[tokio::test]
async fn users_are_unique_by_address_and_scoped_to_their_org() {
    for t in testing::all().await {
        let s = &t.store;
        let a = s.create_org("Acme").await.expect("org");
        let b = s.create_org("Beta").await.expect("org");
        assert_eq!(s.user_count().await.expect("count"), 0);
        let ada = s
            .create_user(user(&a.id, " Ada@Example.com "))
            .await
            .expect("insert")
            .expect("created");
        assert_eq!(ada.email, "ada@example.com");
        assert!(
            s.create_user(user(&b.id, "ADA@example.com"))
                .await
                .expect("insert")
                .is_none(),
            "the same address twice"
        );
        assert_eq!(s.users(&a.id).await.expect("list").len(), 1);
        assert!(s.users(&b.id).await.expect("list").is_empty());
        assert!(s.user(&b.id, &ada.id).await.expect("get").is_none());
        let (found, hash) = s
            .user_for_sign_in("ada@EXAMPLE.com")
            .await
            .expect("read")
            .expect("found");
        assert_eq!(
            (found.id.as_str(), hash.as_str()),
            (ada.id.as_str(), "$argon2id$stand-in")
        );
        let patch = UserPatch {
            role: Some(Role::Viewer),
            ..UserPatch::default()
        };
        assert!(!s.update_user(&b.id, &ada.id, &patch).await.expect("patch"));
        assert!(s.update_user(&a.id, &ada.id, &patch).await.expect("patch"));
        assert_eq!(
            s.user(&a.id, &ada.id)
                .await
                .expect("get")
                .expect("there")
                .role,
            Role::Viewer
        );
        assert!(
            s.set_user_features(&a.id, &ada.id, r#"{"toggles":{"email":false}}"#)
                .await
                .expect("features")
        );
        assert_eq!(
            s.user(&a.id, &ada.id)
                .await
                .expect("get")
                .expect("there")
                .features,
            r#"{"toggles":{"email":false}}"#
        );
    }
}

#[tokio::test]
async fn sessions_follow_their_user_or_key() {
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let ada = s
            .create_user(user(&org.id, "ada@example.com"))
            .await
            .expect("insert")
            .expect("created");
        sign_in(
            s,
            &org.id,
            SessionSubject::User(ada.id.clone()),
            "tok-user",
            60_000,
        )
        .await;
        let live = s.session("tok-user").await.expect("read").expect("live");
        assert_eq!(live.subject, SessionSubject::User(ada.id.clone()));
        assert_eq!(
            (live.role, live.label.as_str()),
            (Role::Admin, "ada@example.com")
        );
        assert_eq!(live.csrf_token, "csrf-1");
        assert!(s.session("tok-other").await.expect("read").is_none());

        // A new role shows at once; disabling the user ends its sessions.
        let demote = UserPatch {
            role: Some(Role::Operator),
            ..UserPatch::default()
        };
        s.update_user(&org.id, &ada.id, &demote)
            .await
            .expect("patch");
        assert_eq!(
            s.session("tok-user")
                .await
                .expect("read")
                .expect("live")
                .role,
            Role::Operator
        );
        let disable = UserPatch {
            disabled: Some(true),
            ..UserPatch::default()
        };
        s.update_user(&org.id, &ada.id, &disable)
            .await
            .expect("patch");
        assert!(s.session("tok-user").await.expect("read").is_none());
        assert!(
            s.user_for_sign_in("ada@example.com")
                .await
                .expect("read")
                .is_none()
        );

        // A key's session ends with the key; an expired one is gone; sign-out ends one.
        let (key, _) = s
            .create_key(&org.id, Role::Viewer, "laptop")
            .await
            .expect("key");
        sign_in(
            s,
            &org.id,
            SessionSubject::Key(key.id.clone()),
            "tok-key",
            60_000,
        )
        .await;
        sign_in(
            s,
            &org.id,
            SessionSubject::Key(key.id.clone()),
            "tok-old",
            -1,
        )
        .await;
        assert!(s.session("tok-old").await.expect("read").is_none());
        let k = s.session("tok-key").await.expect("read").expect("live");
        assert_eq!((k.role, k.label.as_str()), (Role::Viewer, "laptop"));
        sign_in(
            s,
            &org.id,
            SessionSubject::Key(key.id.clone()),
            "tok-key2",
            60_000,
        )
        .await;
        s.end_session("tok-key2").await.expect("sign out");
        assert!(s.session("tok-key2").await.expect("read").is_none());
        s.revoke_key(&org.id, &key.id).await.expect("revoke");
        assert!(s.session("tok-key").await.expect("read").is_none());
    }
}

#[tokio::test]
async fn the_features_document_is_kept_per_org() {
    for t in testing::all().await {
        let s = &t.store;
        let a = s.create_org("Acme").await.expect("org");
        let b = s.create_org("Beta").await.expect("org");
        let doc = |o: &str| {
            let o = o.to_string();
            async move {
                s.org_document(&o, OrgDocument::Features)
                    .await
                    .expect("read")
            }
        };
        assert_eq!(doc(&a.id).await.as_deref(), Some("{}"));
        assert!(
            s.set_org_document(&a.id, OrgDocument::Features, r#"{"simple_mode":true}"#)
                .await
                .expect("write")
        );
        assert_eq!(doc(&a.id).await.as_deref(), Some(r#"{"simple_mode":true}"#));
        assert_eq!(doc(&b.id).await.as_deref(), Some("{}"));
    }
}

async fn call(s: &Store, org: &str, status: Option<&'static str>) {
    let id = s
        .insert_call(&testing::plain_call(org, "+14155550100"))
        .await
        .expect("insert")
        .record()
        .id;
    if let Some(status) = status {
        let moved = StatusMove {
            status,
            rank: 4,
            ..StatusMove::default()
        };
        assert!(
            s.advance_status(Outbox::Calls, &id, &moved)
                .await
                .expect("final")
        );
    }
}

#[tokio::test]
async fn activity_counts_only_the_orgs_sends_since_the_instant() {
    for t in testing::all().await {
        let s = &t.store;
        let org = s.create_org("Acme").await.expect("org");
        let other = s.create_org("Other").await.expect("org");
        let before = now_ms();
        assert!(
            s.activity_since(&org.id, before)
                .await
                .expect("count")
                .is_empty()
        );
        call(s, &org.id, Some("completed")).await;
        call(s, &org.id, Some("completed")).await;
        call(s, &org.id, Some("failed")).await;
        call(s, &org.id, None).await;
        call(s, &other.id, Some("completed")).await;
        let counts = s.activity_since(&org.id, before).await.expect("count");
        let seen: Vec<(Outbox, &str, i64)> = counts
            .iter()
            .map(|c| (c.outbox, c.status.as_str(), c.count))
            .collect();
        assert_eq!(seen.len(), 3, "{seen:?}");
        assert!(seen.contains(&(Outbox::Calls, "completed", 2)));
        assert!(seen.contains(&(Outbox::Calls, "failed", 1)));
        assert_eq!(seen.iter().map(|c| c.2).sum::<i64>(), 4);
        assert!(
            s.activity_since(&org.id, now_ms() + 60_000)
                .await
                .expect("count")
                .is_empty()
        );
    }
}
