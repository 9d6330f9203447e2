//! Calls and messages playing out over simulated time, with events at each step.

use crate::Sandbox;
use crate::accounts::{Account, Style};
use crate::behaviour::Profile;
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
    let (payload, wanted) = match account.creds.style {
        Style::Twilio => {
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
        Style::Telnyx => match status {
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
        let url = call.callback.clone().or_else(|| account.webhook_url());
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
                Style::Twilio => "30003",
                Style::Telnyx => "40002",
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
        Style::Twilio => notify::twilio_message(account, &m),
        Style::Telnyx => notify::telnyx_message(&m, &price, sandbox.clock().now_ms()),
    };
    let url = m.callback.clone().or_else(|| account.webhook_url());
    notify::deliver(sandbox, account, url, payload);
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
}
