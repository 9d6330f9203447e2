//! Calls, messages and emails playing out over simulated time, with events at each step.

use crate::Sandbox;
use crate::accounts::{Account, EmailEventRecord, Style};
use crate::behaviour::{EmailProfile, Profile};
use crate::lock;
use crate::notify::{self, Payload};
use rust_decimal::Decimal;
use std::sync::Arc;

/// Final Twilio statuses.
pub fn is_final(status: &str) -> bool {
    matches!(
        status,
        "completed" | "busy" | "no-answer" | "failed" | "canceled"
    )
}

/// Telnyx's `hangup_cause` for a final status.
pub fn hangup_cause(status: &str) -> &'static str {
    match status {
        "completed" => "normal_clearing",
        "busy" => "user_busy",
        "no-answer" => "timeout",
        "canceled" => "originator_cancel",
        _ => "call_rejected",
    }
}

/// Price of a call: per started minute.
pub fn call_price(account: &Account, duration: u32) -> Decimal {
    account.profile().voice_per_minute * Decimal::from(duration.div_ceil(60))
}

/// Moves a call to `status` unless it already ended, and sends the matching event.
/// Returns false when the call had already ended (hung up meanwhile).
pub fn advance(
    sandbox: &Sandbox,
    account: &Account,
    call_id: &str,
    status: &str,
    duration: u32,
) -> bool {
    let now = sandbox.clock().now_ms();
    let call = {
        let mut calls = lock(&account.calls);
        let Some(call) = calls.get_mut(call_id) else {
            return false;
        };
        if is_final(&call.status) {
            return false;
        }
        call.status = status.to_string();
        call.duration = duration;
        call.sequence += 1;
        call.clone()
    };
    let mut url = call.callback.clone();
    let (payload, wanted) = match account.creds.style {
        Style::Twilio | Style::Signalwire => {
            let event = match status {
                "initiated" => "initiated",
                "ringing" => "ringing",
                "in-progress" => "answered",
                _ => "completed",
            };
            (
                notify::twilio_call(account, &call, now),
                call.events.iter().any(|e| e == event),
            )
        }
        // Plivo has no "initiated" callback; the answer goes to the answer URL, ringing
        // and the end to the ring and hangup URLs.
        Style::Plivo => {
            if status == "in-progress" {
                url = call.answer_url.clone();
            }
            let price = call_price(account, duration).to_string();
            (
                notify::plivo_call(&call, &price, now),
                status != "initiated",
            )
        }
        // Vonage reports every step to the event URL.
        Style::Vonage => {
            let price = call_price(account, duration).to_string();
            (notify::vonage_call(account, &call, &price, now), true)
        }
        // Bandwidth: the answer to the answer URL, the disconnect to the disconnect URL;
        // nothing while dialling or ringing.
        Style::Bandwidth => match status {
            "in-progress" => {
                url = call.answer_url.clone();
                (
                    notify::bandwidth_call(account, &call, "answer", Some(now), now),
                    true,
                )
            }
            s if is_final(s) => {
                let answered = (s == "completed").then(|| now - i64::from(duration) * 1000);
                (
                    notify::bandwidth_call(account, &call, "disconnect", answered, now),
                    true,
                )
            }
            _ => (Payload::Form(Vec::new()), false),
        },
        Style::Telnyx | Style::Sendgrid => match status {
            "initiated" => (
                notify::telnyx_call(account, &call, "call.initiated", None, now),
                true,
            ),
            "in-progress" => (
                notify::telnyx_call(account, &call, "call.answered", None, now),
                true,
            ),
            s if is_final(s) => (
                notify::telnyx_call(account, &call, "call.hangup", Some(hangup_cause(s)), now),
                true,
            ),
            _ => (Payload::Form(Vec::new()), false),
        },
    };
    if wanted {
        let url = url.or_else(|| account.webhook_url());
        notify::deliver(sandbox, account, url, payload);
    }
    true
}

/// How the `seq`-th call to `to` ends its ringing: `in-progress` (answered), `busy`,
/// `no-answer` or `failed`. Drawn from the seed alone, so a run repeats.
pub fn outcome(account: &Account, profile: &Profile, seq: u64, to: &str) -> &'static str {
    if account.draw(seq, 1) < profile.failure_rate {
        "failed"
    } else if account.draw(seq, 2) < profile.answer_rate_for(to) {
        "in-progress"
    } else if account.draw(seq, 3) < profile.busy_share {
        "busy"
    } else {
        "no-answer"
    }
}

/// Plays a new call out: initiated, ringing, then answered and completed after a drawn
/// duration, or busy / no-answer / failed.
pub fn run_call(sandbox: Sandbox, account: Arc<Account>, call_id: String, seq: u64) {
    tokio::spawn(async move {
        let profile = account.profile();
        let to = lock(&account.calls)
            .get(&call_id)
            .map(|c| c.to.clone())
            .unwrap_or_default();
        if !advance(&sandbox, &account, &call_id, "initiated", 0) {
            return;
        }
        sandbox.clock().sleep(profile.ring_ms / 4).await;
        if !advance(&sandbox, &account, &call_id, "ringing", 0) {
            return;
        }
        sandbox.clock().sleep(profile.ring_ms).await;
        let outcome = outcome(&account, &profile, seq, &to);
        if !advance(&sandbox, &account, &call_id, outcome, 0) || outcome != "in-progress" {
            return;
        }
        let secs = profile.duration.draw(account.draw(seq, 4));
        sandbox.clock().sleep(u64::from(secs) * 1000).await;
        advance(&sandbox, &account, &call_id, "completed", secs);
    });
}

/// Ends a call through the API: `canceled` before answer, `completed` after.
pub fn hang_up(sandbox: &Sandbox, account: &Account, call_id: &str) -> bool {
    let (status, talked) = {
        let calls = lock(&account.calls);
        let Some(call) = calls.get(call_id) else {
            return false;
        };
        let talked = ((sandbox.clock().now_ms() - call.created_ms) / 1000).max(1) as u32;
        (call.status.clone(), talked)
    };
    if is_final(&status) {
        return true;
    }
    if status == "in-progress" {
        advance(sandbox, account, call_id, "completed", talked);
    } else {
        advance(sandbox, account, call_id, "canceled", 0);
    }
    true
}

/// Plays a message out: sent after a delay, then delivered or undelivered.
pub fn run_message(sandbox: Sandbox, account: Arc<Account>, message_id: String, seq: u64) {
    tokio::spawn(async move {
        let profile = account.profile();
        sandbox.clock().sleep(profile.receipt_delay_ms).await;
        set_message(&sandbox, &account, &message_id, "sent", None);
        sandbox.clock().sleep(profile.receipt_delay_ms).await;
        if account.draw(seq, 5) < profile.delivery_rate {
            set_message(&sandbox, &account, &message_id, "delivered", None);
        } else {
            let code = match account.creds.style {
                Style::Twilio | Style::Signalwire => "30003",
                // Destination temporarily unavailable.
                Style::Plivo => "80",
                // invalid-destination-address (carrier).
                Style::Bandwidth => "4720",
                // Absent subscriber (SMS receipt) or destination unreachable (Messages API).
                Style::Vonage => {
                    let via_messages = lock(&account.messages)
                        .get(&message_id)
                        .is_some_and(notify::via_messages_api);
                    if via_messages { "1260" } else { "3" }
                }
                Style::Telnyx | Style::Sendgrid => "40002",
            };
            set_message(&sandbox, &account, &message_id, "undelivered", Some(code));
        }
    });
}

fn set_message(sandbox: &Sandbox, account: &Account, id: &str, status: &str, error: Option<&str>) {
    let m = {
        let mut messages = lock(&account.messages);
        let Some(m) = messages.get_mut(id) else {
            return;
        };
        m.status = status.to_string();
        m.error_code = error.map(str::to_owned);
        m.clone()
    };
    let price = (account.profile().sms_price * Decimal::from(m.segments)).to_string();
    let payload = match account.creds.style {
        Style::Twilio | Style::Signalwire => notify::twilio_message(account, &m),
        // The SMS API sends one final receipt; the Messages API reports `submitted` too.
        Style::Vonage if status == "sent" && !notify::via_messages_api(&m) => return,
        Style::Vonage => notify::vonage_message(account, &m, &price, sandbox.clock().now_ms()),
        // Bandwidth reports `message-sending` for MMS only.
        Style::Bandwidth if status == "sent" && m.media.is_empty() => return,
        Style::Bandwidth => notify::bandwidth_message(account, &m, sandbox.clock().now_ms()),
        Style::Plivo => notify::plivo_message(
            &m,
            &account.profile().sms_price.to_string(),
            &price,
            sandbox.clock().now_ms(),
        ),
        Style::Telnyx | Style::Sendgrid => {
            notify::telnyx_message(&m, &price, sandbox.clock().now_ms())
        }
    };
    let url = m.callback.clone().or_else(|| account.webhook_url());
    notify::deliver(sandbox, account, url, payload);
}

/// What becomes of one recipient of an email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EmailFate {
    /// Deferred once before the outcome.
    pub deferred: bool,
    /// `delivered`, `bounce` (hard) or `blocked` (soft).
    pub outcome: &'static str,
    /// Opens it (reported only with open tracking).
    pub opens: bool,
    /// Clicks a link (reported only with click tracking).
    pub clicks: bool,
    /// Reports it as spam.
    pub complains: bool,
}

/// The fate of the `index`-th recipient of the `seq`-th email, drawn from the seed; an
/// address whose local part starts with `bounce` always hard-bounces and one starting
/// with `complain` is always delivered and reported as spam, so tests can force outcomes.
pub fn email_fate(
    account: &Account,
    profile: &EmailProfile,
    seq: u64,
    index: u64,
    recipient: &str,
) -> EmailFate {
    let local = recipient
        .split('@')
        .next()
        .unwrap_or_default()
        .to_ascii_lowercase();
    let object = seq.wrapping_mul(1 << 16).wrapping_add(index);
    let draw = |purpose| account.draw(object, purpose);
    let forced_bounce = local.starts_with("bounce");
    let forced_complaint = local.starts_with("complain");
    let u = draw(20);
    let outcome = if forced_bounce || (!forced_complaint && u < profile.hard_bounce_rate) {
        "bounce"
    } else if !forced_complaint && u < profile.hard_bounce_rate + profile.blocked_rate {
        "blocked"
    } else {
        "delivered"
    };
    let delivered = outcome == "delivered";
    EmailFate {
        deferred: !forced_bounce && draw(22) < profile.deferred_rate,
        outcome,
        opens: delivered && draw(23) < profile.open_rate,
        clicks: delivered && draw(24) < profile.click_rate,
        complains: delivered && (forced_complaint || draw(25) < profile.spam_report_rate),
    }
}

/// The first link of an HTML body, where a sandbox click leads.
fn first_link(html: Option<&str>) -> Option<String> {
    let html = html?;
    let start = html.find("href=\"")? + "href=\"".len();
    let len = html[start..].find('"')?;
    Some(html[start..start + len].to_string())
}

/// Records and sends SendGrid-style events about one email, together in one webhook:
/// `(recipient, event, url)` each. Returns their `sg_event_id`s, or `None` when the email
/// is unknown.
pub fn emit_email_events(
    sandbox: &Sandbox,
    account: &Account,
    email_id: &str,
    events: &[(String, &str, Option<String>)],
) -> Option<Vec<String>> {
    let now = sandbox.clock().now_ms();
    let mut bodies = Vec::new();
    let mut ids = Vec::new();
    {
        let mut emails = lock(&account.emails);
        let email = emails.get_mut(email_id)?;
        for (recipient, event, url) in events {
            let url = url.clone().or_else(|| first_link(email.html.as_deref()));
            let sg_event_id = format!("sandbox-{:016x}", sandbox.next_id());
            bodies.push(notify::sendgrid_event(
                email,
                recipient,
                event,
                url.as_deref(),
                &sg_event_id,
                now,
            ));
            email.events.push(EmailEventRecord {
                event: event.to_string(),
                email: recipient.clone(),
                sg_event_id: sg_event_id.clone(),
                at_ms: now,
            });
            ids.push(sg_event_id);
        }
    }
    if !bodies.is_empty() {
        queue_email_events(sandbox, account, bodies);
    }
    Some(ids)
}

/// How long events wait to be posted together (real time).
const EVENT_BATCH_MS: u64 = 100;
/// Most events in one post.
const EVENT_BATCH_MAX: usize = 100;

/// Queues SendGrid-style events for the account's next batch: like SendGrid, events are
/// posted together (one signed array per batch), within [`EVENT_BATCH_MS`] of the first.
fn queue_email_events(sandbox: &Sandbox, account: &Account, events: Vec<serde_json::Value>) {
    let mut pending = lock(&account.pending_events);
    pending.0.extend(events);
    if pending.1 {
        return;
    }
    pending.1 = true;
    let (sandbox, key) = (sandbox.clone(), account.creds.key());
    tokio::spawn(async move {
        tokio::time::sleep(std::time::Duration::from_millis(EVENT_BATCH_MS)).await;
        let Some(account) = sandbox.account(&key) else {
            return;
        };
        let batches: Vec<Vec<serde_json::Value>> = {
            let mut pending = lock(&account.pending_events);
            pending.1 = false;
            let all = std::mem::take(&mut pending.0);
            let mut chunks = Vec::new();
            let mut rest = all.into_iter().peekable();
            while rest.peek().is_some() {
                chunks.push(rest.by_ref().take(EVENT_BATCH_MAX).collect());
            }
            chunks
        };
        for batch in batches {
            notify::deliver(
                &sandbox,
                &account,
                account.webhook_url(),
                Payload::EmailEvents(batch),
            );
        }
    });
}

/// Plays an email out, every recipient at once, one webhook per step, a receipt delay
/// apart: `processed`, `deferred` for some, then `delivered`, `bounce` or `blocked`, then
/// opens, clicks (when the email asked for tracking) and spam reports.
pub fn run_email(sandbox: Sandbox, account: Arc<Account>, email_id: String) {
    tokio::spawn(async move {
        let profile = account.profile();
        let Some(email) = lock(&account.emails).get(&email_id).cloned() else {
            return;
        };
        let fates: Vec<(String, EmailFate)> = email
            .recipients()
            .into_iter()
            .enumerate()
            .map(|(i, r)| {
                let fate = email_fate(&account, &profile.email, email.seq, i as u64, &r);
                (r, fate)
            })
            .collect();
        type Step = fn(&EmailFate) -> Option<&'static str>;
        let steps: [Step; 6] = [
            |_| Some("processed"),
            |f| f.deferred.then_some("deferred"),
            |f| Some(f.outcome),
            |f| f.opens.then_some("open"),
            |f| f.clicks.then_some("click"),
            |f| f.complains.then_some("spamreport"),
        ];
        for step in steps {
            let batch: Vec<(String, &str, Option<String>)> = fates
                .iter()
                .filter_map(|(r, fate)| step(fate).map(|e| (r.clone(), e, None)))
                .filter(|(_, e, _)| match *e {
                    "open" => email.open_tracking,
                    "click" => email.click_tracking,
                    _ => true,
                })
                .collect();
            if batch.is_empty() {
                continue;
            }
            sandbox.clock().sleep(profile.receipt_delay_ms).await;
            emit_email_events(&sandbox, &account, &email_id, &batch);
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::accounts::AccountCredentials;

    fn account(seed: u64) -> Account {
        Account::new(
            AccountCredentials::generate(Style::Twilio, seed, 0),
            Profile::default(),
            None,
            seed,
        )
    }

    #[test]
    fn outcomes_repeat_with_the_seed_and_follow_the_profile() {
        let mut profile = Profile {
            answer_rate: 0.3,
            failure_rate: 0.0,
            ..Profile::default()
        };
        profile.answer_rate_by_prefix.insert("44".into(), 0.9);
        let run = |seed| {
            (0..2_000)
                .map(|i| outcome(&account(seed), &profile, i, "+15550100"))
                .collect::<Vec<_>>()
        };
        assert_eq!(run(7), run(7), "same seed, same outcomes");
        assert_ne!(run(7), run(8), "another seed, other outcomes");
        let answered = |to: &str| {
            (0..4_000)
                .filter(|i| outcome(&account(7), &profile, *i, to) == "in-progress")
                .count() as f64
                / 4_000.0
        };
        let us = answered("+15550100");
        let uk = answered("+442071234567");
        assert!((0.27..0.33).contains(&us), "{us}");
        assert!((0.87..0.93).contains(&uk), "{uk}");
        let busy = run(7).iter().filter(|o| **o == "busy").count() as f64 / 2_000.0;
        assert!(
            (0.30..0.40).contains(&busy),
            "half of the unanswered 70 %: {busy}"
        );
        assert!(run(7).iter().all(|o| *o != "failed"));
    }

    #[test]
    fn email_fates_follow_the_profile_and_the_address() {
        let a = account(7);
        let profile = EmailProfile::default();
        let fates: Vec<EmailFate> = (0..20_000)
            .map(|i| email_fate(&a, &profile, i / 4, i % 4, "someone@example.com"))
            .collect();
        let share = |f: &dyn Fn(&EmailFate) -> bool| {
            fates.iter().filter(|x| f(x)).count() as f64 / fates.len() as f64
        };
        let delivered = share(&|f| f.outcome == "delivered");
        let bounced = share(&|f| f.outcome == "bounce");
        let blocked = share(&|f| f.outcome == "blocked");
        assert!((0.96..0.98).contains(&delivered), "{delivered}");
        assert!((0.015..0.025).contains(&bounced), "{bounced}");
        assert!((0.006..0.014).contains(&blocked), "{blocked}");
        let opened = share(&|f| f.opens) / delivered;
        let clicked = share(&|f| f.clicks) / delivered;
        assert!((0.18..0.22).contains(&opened), "{opened}");
        assert!((0.04..0.06).contains(&clicked), "{clicked}");
        assert!(share(&|f| f.complains) < 0.003);
        assert!(fates.iter().all(|f| f.outcome == "delivered" || !f.opens));
        assert_eq!(
            fates,
            (0..20_000)
                .map(|i| email_fate(&a, &profile, i / 4, i % 4, "someone@example.com"))
                .collect::<Vec<_>>(),
            "the seed fixes every fate"
        );

        let always = EmailProfile {
            hard_bounce_rate: 1.0,
            blocked_rate: 0.0,
            ..EmailProfile::default()
        };
        for i in 0..50 {
            let forced = email_fate(&a, &always, i, 0, "Complaints@example.com");
            assert_eq!((forced.outcome, forced.complains), ("delivered", true));
            let bounced = email_fate(&a, &EmailProfile::default(), i, 0, "bounce+x@example.com");
            assert_eq!((bounced.outcome, bounced.deferred), ("bounce", false));
        }
    }
}
