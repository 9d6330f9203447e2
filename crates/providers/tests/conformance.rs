//! The requests the adapters emit, checked against the providers' own OpenAPI documents
//! (`SWITCHYARD_SPECS_DIR`, default `../shared/specs`): every Twilio and Telnyx adapter
//! method and SendGrid's Mail Send run against the sandbox, and every request the sandbox
//! received is validated for method, path, auth scheme, content type, required parameters
//! and parameter types (JSON bodies all the way down).

mod common;

use common::{fast_policy, quick_profile, rig};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::PathBuf;
use switchyard_providers::Adapter;
use switchyard_providers::capability::*;
use switchyard_sandbox::{JournalEntry, Style};

fn specs_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("SWITCHYARD_SPECS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/specs"
            ))
        });
    if dir.join("twilio/twilio_api_v2010.json").is_file()
        && dir.join("telnyx/spec3.yml").is_file()
        && dir.join("sendgrid/tsg_mail_v3.json").is_file()
    {
        return Some(dir);
    }
    assert!(
        std::env::var("CI").as_deref() != Ok("true"),
        "provider specs not found in {} (set SWITCHYARD_SPECS_DIR)",
        dir.display()
    );
    eprintln!(
        "skipped: provider specs not found in {} (set SWITCHYARD_SPECS_DIR)",
        dir.display()
    );
    None
}

/// An OpenAPI document and the prefix our sandbox serves it under.
struct Spec {
    doc: Value,
    /// Sandbox path prefix to strip to get a path of the document.
    prefix: &'static str,
}

impl Spec {
    fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let pointer = r.trim_start_matches('#');
                    match self.doc.pointer(pointer) {
                        Some(target) => v = target,
                        None => return v,
                    }
                }
                None => return v,
            }
        }
        v
    }

    /// Properties and required names of an object schema, through `allOf`.
    fn object(&self, schema: &Value) -> (serde_json::Map<String, Value>, BTreeSet<String>) {
        let schema = self.resolve(schema);
        let mut props = schema
            .get("properties")
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default();
        let mut required: BTreeSet<String> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| {
                r.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        for part in schema
            .get("allOf")
            .and_then(Value::as_array)
            .map(Vec::as_slice)
            .unwrap_or_default()
        {
            let (p, r) = self.object(part);
            props.extend(p);
            required.extend(r);
        }
        (props, required)
    }

    /// The document's path template matching `path`, preferring the most literal one.
    fn template(&self, path: &str) -> Option<String> {
        let actual: Vec<&str> = path.split('/').collect();
        let paths = self.doc.get("paths")?.as_object()?;
        paths
            .keys()
            .filter(|t| {
                let tpl: Vec<&str> = t.split('/').collect();
                tpl.len() == actual.len()
                    && tpl.iter().zip(&actual).all(|(t, a)| segment_matches(t, a))
            })
            .max_by_key(|t| t.split('/').filter(|s| !s.contains('{')).count())
            .cloned()
    }

    fn check(&self, e: &JournalEntry) -> Result<(String, String), String> {
        let path = e
            .path
            .strip_prefix(self.prefix)
            .ok_or("outside the spec prefix")?;
        let template = self
            .template(path)
            .ok_or_else(|| format!("no path of the document matches {path}"))?;
        let item = &self.doc["paths"][&template];
        let method = e.method.to_ascii_lowercase();
        let op = item
            .get(&method)
            .ok_or_else(|| format!("{template} has no {method}"))?;
        let label = format!("{} {template}", e.method);

        // Auth scheme.
        let security = op
            .get("security")
            .or_else(|| self.doc.get("security"))
            .and_then(Value::as_array);
        if let Some(name) = security
            .and_then(|s| s.first())
            .and_then(Value::as_object)
            .and_then(|o| o.keys().next())
        {
            let scheme = self.doc["components"]["securitySchemes"][name]["scheme"]
                .as_str()
                .unwrap_or_default();
            let used = e.auth_scheme.as_deref().unwrap_or("none");
            if !scheme.eq_ignore_ascii_case(used) {
                return Err(format!("{label}: auth {used}, the document wants {scheme}"));
            }
        }

        // Query parameters.
        let mut params: Vec<&Value> = item
            .get("parameters")
            .and_then(Value::as_array)
            .map(|v| v.iter().collect())
            .unwrap_or_default();
        params.extend(
            op.get("parameters")
                .and_then(Value::as_array)
                .map(|v| v.iter().collect::<Vec<_>>())
                .unwrap_or_default(),
        );
        let params: Vec<&Value> = params
            .into_iter()
            .map(|p| self.resolve(p))
            .filter(|p| p["in"] == "query")
            .collect();
        let pairs: Vec<(String, String)> =
            serde_urlencoded::from_str(&e.query).map_err(|_| format!("{label}: bad query"))?;
        for p in &params {
            if p["required"] == true
                && !pairs
                    .iter()
                    .any(|(k, _)| k == p["name"].as_str().unwrap_or_default())
            {
                return Err(format!(
                    "{label}: required query parameter {} missing",
                    p["name"]
                ));
            }
        }
        for (k, v) in &pairs {
            let schema = if let Some(p) = params.iter().find(|p| p["name"] == k.as_str()) {
                p["schema"].clone()
            } else {
                let (base, rest) = k
                    .split_once('[')
                    .ok_or_else(|| format!("{label}: undeclared query parameter {k}"))?;
                let p = params
                    .iter()
                    .find(|p| p["name"] == base && p["style"] == "deepObject")
                    .ok_or_else(|| format!("{label}: undeclared query parameter {k}"))?;
                let prop = rest.trim_end_matches("[]").trim_end_matches(']');
                let (props, _) = self.object(&p["schema"]);
                let s = props
                    .get(prop)
                    .cloned()
                    .ok_or_else(|| format!("{label}: {base} has no property {prop}"))?;
                if rest.ends_with("[]") {
                    let s = self.resolve(&s).clone();
                    if s["type"] != "array" {
                        return Err(format!(
                            "{label}: {k} is sent as a list but is not an array"
                        ));
                    }
                    s["items"].clone()
                } else {
                    s
                }
            };
            self.check_text(&schema, v)
                .map_err(|why| format!("{label}: query {k}={v}: {why}"))?;
        }

        // Body.
        let Some(body_spec) = op.get("requestBody").map(|b| self.resolve(b)) else {
            return if e.body.is_empty() {
                Ok((e.method.clone(), template))
            } else {
                Err(format!("{label}: a body where none is expected"))
            };
        };
        let content_type = e.content_type.as_deref().unwrap_or_default();
        let media = content_type.split(';').next().unwrap_or_default().trim();
        let schema = body_spec["content"]
            .get(media)
            .map(|c| &c["schema"])
            .ok_or_else(|| {
                format!("{label}: content type {content_type:?} is not one the document takes")
            })?;
        let (props, required) = self.object(schema);
        match media {
            "application/x-www-form-urlencoded" => {
                let form: Vec<(String, String)> = serde_urlencoded::from_str(&e.body)
                    .map_err(|_| format!("{label}: bad form"))?;
                for r in &required {
                    if !form.iter().any(|(k, _)| k == r) {
                        return Err(format!("{label}: required field {r} missing"));
                    }
                }
                for (k, v) in &form {
                    let s = props
                        .get(k)
                        .ok_or_else(|| format!("{label}: undeclared field {k}"))?;
                    let s = self.resolve(s);
                    let s = if s["type"] == "array" { &s["items"] } else { s };
                    self.check_text(s, v)
                        .map_err(|why| format!("{label}: field {k}={v}: {why}"))?;
                }
            }
            "application/json" => {
                let body: Value = serde_json::from_str(&e.body)
                    .map_err(|_| format!("{label}: body is not JSON"))?;
                let obj = body
                    .as_object()
                    .ok_or_else(|| format!("{label}: body is not an object"))?;
                for r in &required {
                    if !obj.contains_key(r) {
                        return Err(format!("{label}: required field {r} missing"));
                    }
                }
                for (k, v) in obj {
                    let s = props
                        .get(k)
                        .ok_or_else(|| format!("{label}: undeclared field {k}"))?;
                    self.check_json(s, v)
                        .map_err(|why| format!("{label}: field {k}: {why}"))?;
                }
            }
            other => return Err(format!("{label}: unexpected media type {other}")),
        }
        Ok((e.method.clone(), template))
    }

    fn check_text(&self, schema: &Value, v: &str) -> Result<(), String> {
        let s = self.resolve(schema);
        if let Some(options) = s.get("enum").and_then(Value::as_array)
            && !options.iter().any(|o| {
                o.as_str() == Some(v) || matches!(o, Value::Number(n) if n.to_string() == v)
            })
        {
            return Err(format!("not one of {options:?}"));
        }
        match s.get("type").and_then(Value::as_str) {
            Some("integer") => v
                .parse::<i64>()
                .map(|_| ())
                .map_err(|_| "not an integer".into()),
            Some("number") => v
                .parse::<f64>()
                .map(|_| ())
                .map_err(|_| "not a number".into()),
            Some("boolean") => matches!(v, "true" | "false")
                .then_some(())
                .ok_or_else(|| "not a boolean".into()),
            _ => Ok(()),
        }
    }

    /// A JSON value against its schema, all the way down: type, enum, length and count
    /// limits, and for objects their required properties, each declared property's schema
    /// and no undeclared property where the schema declares its properties (or forbids
    /// others). The error names the path below the field.
    fn check_json(&self, schema: &Value, v: &Value) -> Result<(), String> {
        let s = self.resolve(schema);
        if let Some(options) = s.get("enum").and_then(Value::as_array)
            && !options.contains(v)
        {
            return Err(format!("{v} is not one of {options:?}"));
        }
        let limit = |key: &str| s.get(key).and_then(Value::as_u64).map(|n| n as usize);
        let ok = match s.get("type").and_then(Value::as_str) {
            Some("string") => {
                let text = v.as_str().ok_or_else(|| format!("{v} is not a string"))?;
                let chars = text.chars().count();
                if limit("minLength").is_some_and(|min| chars < min)
                    || limit("maxLength").is_some_and(|max| chars > max)
                {
                    return Err(format!("{v} has a length outside the allowed range"));
                }
                if s["format"] == "email" && !text.contains('@') {
                    return Err(format!("{v} is not an email address"));
                }
                true
            }
            Some("integer") => v.is_i64() || v.is_u64(),
            Some("number") => v.is_number(),
            Some("boolean") => v.is_boolean(),
            Some("object") => {
                let obj = v
                    .as_object()
                    .ok_or_else(|| format!("{v} is not an object"))?;
                self.check_object(s, obj)?;
                true
            }
            Some("array") => {
                let items = v.as_array().ok_or("not an array")?;
                if limit("maxItems").is_some_and(|max| items.len() > max) {
                    return Err(format!("more than {} items", s["maxItems"]));
                }
                if s["uniqueItems"] == true
                    && items
                        .iter()
                        .enumerate()
                        .any(|(i, x)| items[..i].contains(x))
                {
                    return Err("items repeat where they must be unique".into());
                }
                for (i, item) in items.iter().enumerate() {
                    self.check_json(&s["items"], item)
                        .map_err(|why| format!("[{i}]: {why}"))?;
                }
                true
            }
            _ => true,
        };
        if ok {
            Ok(())
        } else {
            Err(format!("{v} is not of type {}", s["type"]))
        }
    }

    fn check_object(
        &self,
        schema: &Value,
        obj: &serde_json::Map<String, Value>,
    ) -> Result<(), String> {
        let (props, required) = self.object(schema);
        if let Some(missing) = required.iter().find(|r| !obj.contains_key(r.as_str())) {
            return Err(format!("required property {missing} missing"));
        }
        let others = &schema["additionalProperties"];
        for (k, v) in obj {
            match props.get(k) {
                Some(p) => self.check_json(p, v),
                None if others == false || (!props.is_empty() && others.is_null()) => {
                    Err(format!("undeclared property {k}"))
                }
                None if others.is_object() => self.check_json(others, v),
                None => Ok(()),
            }
            .map_err(|why| format!(".{k}: {why}"))?;
        }
        Ok(())
    }
}

fn segment_matches(template: &str, actual: &str) -> bool {
    match (template.find('{'), template.find('}')) {
        (Some(open), Some(close)) => {
            let (prefix, suffix) = (&template[..open], &template[close + 1..]);
            actual.len() > prefix.len() + suffix.len()
                && actual.starts_with(prefix)
                && actual.ends_with(suffix)
        }
        _ => template == actual,
    }
}

fn load(dir: &std::path::Path) -> (Spec, Spec, Spec) {
    let twilio: Value = serde_json::from_slice(
        &std::fs::read(dir.join("twilio/twilio_api_v2010.json")).expect("twilio spec"),
    )
    .expect("twilio JSON");
    let telnyx: Value = serde_norway::from_slice(
        &std::fs::read(dir.join("telnyx/spec3.yml")).expect("telnyx spec"),
    )
    .expect("telnyx YAML");
    let sendgrid: Value = serde_json::from_slice(
        &std::fs::read(dir.join("sendgrid/tsg_mail_v3.json")).expect("sendgrid spec"),
    )
    .expect("sendgrid JSON");
    (
        Spec {
            doc: twilio,
            prefix: "/twilio",
        },
        Spec {
            doc: telnyx,
            prefix: "/telnyx/v2",
        },
        Spec {
            doc: sendgrid,
            prefix: "/sendgrid",
        },
    )
}

/// Sends an email with every field the SendGrid adapter fills, with and without
/// provider tracking.
async fn exercise_email(adapter: &Adapter) {
    adapter.connection.test_connection().await.expect("test");
    let mut req = EmailRequest {
        email_id: "em_conformance".into(),
        from: Mailbox {
            name: Some("Zoë's Shop".into()),
            address: "news@shop.example".into(),
        },
        to: vec![
            Mailbox {
                name: Some("Ada".into()),
                address: "ada@example.com".into(),
            },
            Mailbox::new("grace@example.com"),
        ],
        cc: vec![Mailbox::new("cc@example.com")],
        bcc: vec![Mailbox::new("bcc@example.com")],
        reply_to: Some(Mailbox::new("help@shop.example")),
        subject: "Grüße — 10 % off ✓".into(),
        text: Some("Hello".into()),
        html: Some("<p>Hello</p>".into()),
        attachments: vec![Attachment {
            filename: "terms.pdf".into(),
            content_type: "application/pdf".into(),
            content: b"%PDF-1.4".to_vec(),
        }],
        headers: vec![
            (
                "List-Unsubscribe".into(),
                "<https://sy.example/u/tok>".into(),
            ),
            (
                "List-Unsubscribe-Post".into(),
                "List-Unsubscribe=One-Click".into(),
            ),
        ],
        tags: vec!["sale".into(), "spring".into(), "sale".into()],
        provider_tracking: false,
        idempotency_key: "em_conformance:0".into(),
    };
    let email = adapter.email.as_ref().expect("email");
    email.send_email(&req).await.expect("mail send");
    req.provider_tracking = true;
    req.cc.clear();
    req.html = None;
    email.send_email(&req).await.expect("mail send, tracked");
}

/// Runs every method of the adapter against its sandbox account.
async fn exercise(adapter: &Adapter) {
    adapter.connection.test_connection().await.expect("test");
    let numbers = adapter.numbers.as_ref().expect("numbers");
    let owned = numbers.list_owned().await.expect("list");
    for kind in [NumberKind::Local, NumberKind::TollFree, NumberKind::Mobile] {
        let q = NumberQuery {
            country: "US".into(),
            kind,
            area_code: Some("212".into()),
            voice: true,
            sms: true,
            mms: true,
            limit: Some(2),
        };
        numbers.search_available(&q).await.expect("search");
    }
    let offer = numbers
        .search_available(&NumberQuery {
            country: "US".into(),
            limit: Some(1),
            ..NumberQuery::default()
        })
        .await
        .expect("search");
    let bought = numbers.buy(&offer[0].e164).await.expect("buy");
    numbers.import(&owned[0].e164).await.expect("import");
    numbers
        .release(&bought.provider_number_id)
        .await
        .expect("release");
    let from = owned[0].e164.clone();
    let voice = adapter.voice.as_ref().expect("voice");
    let all_steps = vec![
        Instruction::Say {
            text: "Hi".into(),
            language: Some("en-GB".into()),
        },
        Instruction::Play {
            url: "https://x.example/a.mp3".into(),
        },
        Instruction::Pause { seconds: 1 },
        Instruction::Forward {
            to: "+442071234568".into(),
        },
    ];
    let mut req = CallRequest {
        to: "+442071234567".into(),
        from: from.clone(),
        answer: Answer::Instructions(all_steps.clone()),
        ring_timeout_secs: 25,
        idempotency_key: "conformance-1".into(),
        client_state: Some("campaign=7".into()),
    };
    let call = voice.create_call(&req).await.expect("call");
    if !voice.answers_by_command() {
        req.answer = Answer::Url("https://x.example/twiml".into());
        req.idempotency_key = "conformance-2".into();
        voice.create_call(&req).await.expect("call with URL");
    }
    voice
        .perform(&call.call_id, &all_steps)
        .await
        .expect("perform");
    voice.call_status(&call.call_id).await.expect("status");
    voice.hangup(&call.call_id).await.expect("hangup");
    let messaging = adapter.messaging.as_ref().expect("messaging");
    let mut m = MessageRequest {
        channel: MessageChannel::Sms,
        to: "+447700900123".into(),
        from,
        body: "Hello".into(),
        media_urls: Vec::new(),
        idempotency_key: "conformance-3".into(),
    };
    let sent = messaging.send_message(&m).await.expect("sms");
    m.channel = MessageChannel::Mms;
    m.media_urls = vec!["https://x.example/cat.jpg".into()];
    messaging.send_message(&m).await.expect("mms");
    messaging
        .message_status(&sent.message_id)
        .await
        .expect("status");
    // Settling an interrupted send: Twilio lists by number and date; Telnyx cannot tell.
    match messaging.find_sent(&m, 0).await {
        Ok(found) => assert!(found.is_some(), "the message just sent is found"),
        Err(e) => assert_eq!(e.code.as_deref(), Some("unsupported"), "{e}"),
    }
}

#[tokio::test]
async fn adapter_requests_match_the_providers_openapi_documents() {
    let Some(dir) = specs_dir() else {
        return;
    };
    let (twilio, telnyx, sendgrid) = tokio::task::spawn_blocking(move || load(&dir))
        .await
        .expect("load");
    let rig = rig().await;
    for style in [Style::Twilio, Style::Telnyx] {
        let profile = switchyard_sandbox::Profile {
            ring_ms: 60_000,
            ..quick_profile()
        };
        let (_, adapter) = rig.account(style, profile, fast_policy());
        exercise(&adapter).await;
        if style == Style::Twilio {
            let mut wa = MessageRequest {
                channel: MessageChannel::Whatsapp,
                to: "+447700900123".into(),
                from: common::first_number(&adapter).await,
                body: "Hi".into(),
                media_urls: Vec::new(),
                idempotency_key: "wa".into(),
            };
            adapter
                .messaging
                .as_ref()
                .expect("messaging")
                .send_message(&wa)
                .await
                .expect("whatsapp");
            wa.body.clear();
        }
    }
    let (_, mailer) = rig.account(Style::Sendgrid, quick_profile(), fast_policy());
    exercise_email(&mailer).await;
    let mut covered = BTreeSet::new();
    let mut problems = Vec::new();
    for entry in rig.sandbox.journal() {
        let spec = if entry.path.starts_with("/twilio") {
            &twilio
        } else if entry.path.starts_with("/telnyx") {
            &telnyx
        } else if entry.path.starts_with("/sendgrid/v3/mail") {
            &sendgrid
        } else {
            // `GET /v3/scopes` (the connection test) is in SendGrid's Scopes document,
            // which is not among the shared specs.
            continue;
        };
        match spec.check(&entry) {
            Ok(op) => {
                covered.insert(op);
            }
            Err(why) => problems.push(why),
        }
    }
    assert!(
        problems.is_empty(),
        "requests the real APIs would not accept:\n{}",
        problems.join("\n")
    );
    let expected = [
        ("GET", "/2010-04-01/Accounts/{Sid}.json"),
        ("POST", "/2010-04-01/Accounts/{AccountSid}/Calls.json"),
        ("GET", "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json"),
        ("POST", "/2010-04-01/Accounts/{AccountSid}/Calls/{Sid}.json"),
        ("POST", "/2010-04-01/Accounts/{AccountSid}/Messages.json"),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/Messages/{Sid}.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
        ),
        (
            "POST",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers.json",
        ),
        (
            "POST",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
        ),
        (
            "DELETE",
            "/2010-04-01/Accounts/{AccountSid}/IncomingPhoneNumbers/{Sid}.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Local.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/TollFree.json",
        ),
        (
            "GET",
            "/2010-04-01/Accounts/{AccountSid}/AvailablePhoneNumbers/{CountryCode}/Mobile.json",
        ),
        ("GET", "/balance"),
        ("POST", "/calls"),
        ("GET", "/calls/{call_control_id}"),
        ("POST", "/calls/{call_control_id}/actions/hangup"),
        ("POST", "/calls/{call_control_id}/actions/speak"),
        ("POST", "/calls/{call_control_id}/actions/playback_start"),
        ("POST", "/calls/{call_control_id}/actions/transfer"),
        ("POST", "/messages"),
        ("GET", "/messages/{id}"),
        ("GET", "/available_phone_numbers"),
        ("POST", "/number_orders"),
        ("GET", "/phone_numbers"),
        ("DELETE", "/phone_numbers/{id}"),
        ("POST", "/v3/mail/send"),
    ];
    let missing: Vec<_> = expected
        .iter()
        .filter(|(m, p)| !covered.contains(&(m.to_string(), p.to_string())))
        .collect();
    assert!(
        missing.is_empty(),
        "operations not exercised: {missing:?}\ncovered: {covered:?}"
    );

    // The checker itself refuses what the APIs would refuse.
    let wrong = |method: &str, path: &str, auth: &str, ct: &str, body: &str| JournalEntry {
        method: method.into(),
        path: path.into(),
        query: String::new(),
        auth_scheme: Some(auth.into()),
        content_type: Some(ct.into()),
        body: body.into(),
    };
    let form = "application/x-www-form-urlencoded";
    let calls = "/twilio/2010-04-01/Accounts/AC1/Calls.json";
    assert!(
        twilio
            .check(&wrong("POST", calls, "Basic", form, "To=%2B1"))
            .is_err(),
        "From is required"
    );
    assert!(
        twilio
            .check(&wrong(
                "POST",
                calls,
                "Bearer",
                form,
                "To=%2B1&From=%2B2&Url=u"
            ))
            .is_err(),
        "basic auth"
    );
    assert!(
        twilio
            .check(&wrong("POST", calls, "Basic", "application/json", "{}"))
            .is_err(),
        "form body"
    );
    assert!(
        twilio
            .check(&wrong(
                "POST",
                calls,
                "Basic",
                form,
                "To=%2B1&From=%2B2&Timeout=soon"
            ))
            .is_err(),
        "integer"
    );
    assert!(
        twilio
            .check(&wrong(
                "POST",
                calls,
                "Basic",
                form,
                "To=%2B1&From=%2B2&Colour=blue"
            ))
            .is_err(),
        "undeclared"
    );
    assert!(
        twilio
            .check(&wrong(
                "POST",
                calls,
                "Basic",
                form,
                "To=%2B1&From=%2B2&Url=u"
            ))
            .is_ok()
    );
    let json = "application/json";
    assert!(
        telnyx
            .check(&wrong(
                "POST",
                "/telnyx/v2/calls",
                "Bearer",
                json,
                r#"{"to":"+1","from":"+2"}"#
            ))
            .is_err(),
        "connection_id"
    );
    assert!(
        telnyx
            .check(&wrong(
                "POST",
                "/telnyx/v2/messages",
                "Bearer",
                json,
                r#"{"to":"+1","type":"FAX"}"#
            ))
            .is_err(),
        "enum"
    );
    assert!(
        telnyx
            .check(&wrong(
                "POST",
                "/telnyx/v2/calls",
                "Bearer",
                json,
                r#"{"to":"+1","from":"+2","connection_id":"c","timeout_secs":"30"}"#
            ))
            .is_err(),
        "integer"
    );
    assert!(
        telnyx
            .check(&wrong("PUT", "/telnyx/v2/messages", "Bearer", json, "{}"))
            .is_err(),
        "method"
    );
    let send = "/sendgrid/v3/mail/send";
    let mail = |body: &str| wrong("POST", send, "Bearer", json, body);
    let ok = r#"{"personalizations":[{"to":[{"email":"a@example.com"}],"custom_args":{"k":"v"}}],"from":{"email":"b@example.com"},"subject":"Hi","content":[{"type":"text/plain","value":"x"}],"categories":["c"],"tracking_settings":{"open_tracking":{"enable":false}}}"#;
    assert!(
        sendgrid.check(&mail(ok)).is_ok(),
        "{:?}",
        sendgrid.check(&mail(ok))
    );
    assert!(
        sendgrid
            .check(&wrong("POST", send, "Basic", json, ok))
            .is_err(),
        "bearer auth"
    );
    for (body, why) in [
        (
            ok.replace(r#""from":{"email":"b@example.com"},"#, ""),
            "from is required",
        ),
        (
            ok.replace(r#""to":[{"email":"a@example.com"}],"#, ""),
            "a personalization needs to",
        ),
        (
            ok.replace(r#""value":"x""#, r#""value":"""#),
            "content value min length",
        ),
        (
            ok.replace(r#""enable":false"#, r#""enable":"no""#),
            "a boolean nested two deep",
        ),
        (
            ok.replace(r#""enable":false"#, r#""enabled":false"#),
            "an undeclared nested property",
        ),
        (ok.replace(r#"["c"]"#, r#"["c","c"]"#), "unique categories"),
        (
            ok.replace(r#""email":"a@example.com""#, r#""name":"A""#),
            "a recipient's email",
        ),
        (
            ok.replace(
                r#""categories":["c"],"#,
                r#""attachments":[{"content":"eA=="}],"#,
            ),
            "an attachment's filename",
        ),
    ] {
        assert!(sendgrid.check(&mail(&body)).is_err(), "{why}: {body}");
    }
}
