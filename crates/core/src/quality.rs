//! Quality statistics per provider over sliding windows: the last N attempts (what routing
//! reads, published lock-free) and the last 15 minutes, hour and day (per-minute buckets, for
//! reports). ASR, ACD, PDD, NER for calls; delivery ratio for messages; request success
//! ratio ("uptime").

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// How a finished call ended, as far as quality is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "outcome")]
pub enum CallOutcome {
    /// Answered and talked for `duration_secs`.
    Answered {
        /// Billable talk time.
        duration_secs: u32,
    },
    /// The callee was busy (the network worked).
    Busy,
    /// Rang out unanswered (the network worked).
    NoAnswer,
    /// The network failed to reach the callee.
    Failed,
}

/// One observation fed into the statistics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "kind")]
pub enum Observation {
    /// The provider accepted (`ok`) or refused/failed an API request.
    Request {
        /// Whether it was accepted.
        ok: bool,
    },
    /// A call finished.
    Call {
        /// How it ended.
        outcome: CallOutcome,
        /// Post-dial delay (dial to first ring), if known.
        pdd_ms: Option<u32>,
    },
    /// A message reached a final state.
    Message {
        /// Delivered to the handset or mailbox.
        delivered: bool,
    },
}

/// The windows reports can ask for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Window {
    /// The last N attempts (N from [`QualityConfig::window_attempts`]).
    LastAttempts,
    /// The last 15 minutes.
    Minutes15,
    /// The last hour.
    Hour,
    /// The last 24 hours.
    Day,
}

/// Sizes of the windows and the sample floor below which routing ignores a ratio.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct QualityConfig {
    /// Length of the last-N window.
    pub window_attempts: u32,
    /// Fewest samples before ASR and delivery ratios are trusted.
    pub min_samples: u32,
}

impl Default for QualityConfig {
    fn default() -> Self {
        QualityConfig {
            window_attempts: 200,
            min_samples: 20,
        }
    }
}

/// Statistics over one window. Ratios are 0–1 and `None` without samples.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QualityStats {
    /// Calls finished.
    pub calls: u64,
    /// Answer-seizure ratio.
    pub asr: Option<f64>,
    /// Average duration of answered calls, seconds.
    pub acd_secs: Option<f64>,
    /// Average post-dial delay, milliseconds.
    pub pdd_ms: Option<f64>,
    /// Network effectiveness ratio: answered, busy or unanswered over all calls.
    pub ner: Option<f64>,
    /// Messages finished.
    pub messages: u64,
    /// Delivered over finished messages.
    pub delivery_ratio: Option<f64>,
    /// API requests made.
    pub requests: u64,
    /// Accepted over all API requests.
    pub uptime: Option<f64>,
}

// Counter slots of a minute bucket.
const CALLS: usize = 0;
const ANSWERED: usize = 1;
const REACHED: usize = 2;
const DURATION: usize = 3;
const PDD_SUM: usize = 4;
const PDD_N: usize = 5;
const MSGS: usize = 6;
const DELIVERED: usize = 7;
const REQ_OK: usize = 8;
const REQ_ALL: usize = 9;
const SLOTS: usize = 10;
const DAY_MINUTES: usize = 1440;

#[derive(Debug, Clone, Copy, Default)]
struct Bucket {
    minute: i64,
    counts: [u64; SLOTS],
}

#[derive(Debug)]
struct Windows {
    buckets: Vec<Bucket>,
    /// Last-N rings: each sample is a full counter vector so sums subtract exactly.
    calls: VecDeque<[u64; SLOTS]>,
    messages: VecDeque<[u64; SLOTS]>,
    requests: VecDeque<[u64; SLOTS]>,
    recent: [u64; SLOTS],
    day: [u64; SLOTS],
    /// Oldest minute still counted in `day`.
    day_start: i64,
}

/// Lock-free copy of the last-N figures that routing reads.
#[derive(Debug, Default)]
struct Published {
    asr: AtomicU64,
    acd: AtomicU64,
    pdd: AtomicU64,
    delivery: AtomicU64,
    uptime: AtomicU64,
    calls: AtomicU32,
    messages: AtomicU32,
    requests: AtomicU32,
}

/// What routing reads about a provider's recent quality.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct QualityView {
    /// Calls in the last-N window.
    pub calls: u32,
    /// Answer-seizure ratio over them.
    pub asr: f64,
    /// Average call duration, seconds.
    pub acd_secs: f64,
    /// Average post-dial delay, milliseconds.
    pub pdd_ms: f64,
    /// Messages in the last-N window.
    pub messages: u32,
    /// Delivery ratio over them.
    pub delivery_ratio: f64,
    /// Requests in the last 24 hours.
    pub requests: u32,
    /// Request success ratio over the last 24 hours.
    pub uptime: f64,
}

/// Quality statistics of one provider.
#[derive(Debug)]
pub struct Quality {
    windows: Mutex<Windows>,
    published: Published,
    window_attempts: usize,
}

impl Quality {
    /// Empty statistics with the given last-N length.
    pub fn new(cfg: &QualityConfig) -> Self {
        Quality {
            windows: Mutex::new(Windows {
                buckets: vec![Bucket::default(); DAY_MINUTES],
                calls: VecDeque::new(),
                messages: VecDeque::new(),
                requests: VecDeque::new(),
                recent: [0; SLOTS],
                day: [0; SLOTS],
                day_start: i64::MIN,
            }),
            published: Published::default(),
            window_attempts: cfg.window_attempts.max(1) as usize,
        }
    }

    /// Adds one observation made at `now_ms`.
    pub fn record(&self, obs: Observation, now_ms: i64) {
        let mut sample = [0u64; SLOTS];
        match obs {
            Observation::Request { ok } => {
                sample[REQ_ALL] = 1;
                sample[REQ_OK] = u64::from(ok);
            }
            Observation::Call { outcome, pdd_ms } => {
                sample[CALLS] = 1;
                if let CallOutcome::Answered { duration_secs } = outcome {
                    sample[ANSWERED] = 1;
                    sample[DURATION] = u64::from(duration_secs);
                }
                sample[REACHED] = u64::from(outcome != CallOutcome::Failed);
                if let Some(p) = pdd_ms {
                    sample[PDD_SUM] = u64::from(p);
                    sample[PDD_N] = 1;
                }
            }
            Observation::Message { delivered } => {
                sample[MSGS] = 1;
                sample[DELIVERED] = u64::from(delivered);
            }
        }
        let Ok(mut w) = self.windows.lock() else {
            return;
        };
        let minute = now_ms.div_euclid(60_000);
        w.add_to_minute(minute, &sample);
        let cap = self.window_attempts;
        let ring = match obs {
            Observation::Request { .. } => &mut w.requests,
            Observation::Call { .. } => &mut w.calls,
            Observation::Message { .. } => &mut w.messages,
        };
        ring.push_back(sample);
        let evicted = (ring.len() > cap).then(|| ring.pop_front()).flatten();
        add(&mut w.recent, &sample);
        if let Some(old) = evicted {
            subtract(&mut w.recent, &old);
        }
        self.publish(&w);
    }

    fn publish(&self, w: &Windows) {
        let stats = stats_of(&w.recent);
        let day = stats_of(&w.day);
        let p = &self.published;
        let put = |cell: &AtomicU64, v: Option<f64>| {
            cell.store(v.unwrap_or(0.0).to_bits(), Ordering::Release)
        };
        put(&p.asr, stats.asr);
        put(&p.acd, stats.acd_secs);
        put(&p.pdd, stats.pdd_ms);
        put(&p.delivery, stats.delivery_ratio);
        put(&p.uptime, day.uptime);
        p.calls.store(stats.calls as u32, Ordering::Release);
        p.messages.store(stats.messages as u32, Ordering::Release);
        p.requests.store(
            day.requests.min(u64::from(u32::MAX)) as u32,
            Ordering::Release,
        );
    }

    /// The last-N figures, without taking any lock.
    pub fn view(&self) -> QualityView {
        let p = &self.published;
        let get = |cell: &AtomicU64| f64::from_bits(cell.load(Ordering::Acquire));
        QualityView {
            calls: p.calls.load(Ordering::Acquire),
            asr: get(&p.asr),
            acd_secs: get(&p.acd),
            pdd_ms: get(&p.pdd),
            messages: p.messages.load(Ordering::Acquire),
            delivery_ratio: get(&p.delivery),
            requests: p.requests.load(Ordering::Acquire),
            uptime: get(&p.uptime),
        }
    }

    /// Statistics over a window ending at `now_ms`.
    pub fn stats(&self, window: Window, now_ms: i64) -> QualityStats {
        let Ok(w) = self.windows.lock() else {
            return QualityStats::default();
        };
        let minutes = match window {
            Window::LastAttempts => return stats_of(&w.recent),
            Window::Minutes15 => 15,
            Window::Hour => 60,
            Window::Day => DAY_MINUTES as i64,
        };
        let now_minute = now_ms.div_euclid(60_000);
        let mut sums = [0u64; SLOTS];
        for m in now_minute - minutes + 1..=now_minute {
            let b = &w.buckets[m.rem_euclid(DAY_MINUTES as i64) as usize];
            if b.minute == m {
                add(&mut sums, &b.counts);
            }
        }
        stats_of(&sums)
    }
}

impl Windows {
    /// Adds a sample to its minute bucket and keeps the running 24-hour sums exact by
    /// subtracting every bucket that falls out of the day.
    fn add_to_minute(&mut self, minute: i64, sample: &[u64; SLOTS]) {
        let oldest_kept = minute - DAY_MINUTES as i64 + 1;
        if minute < self.day_start {
            return;
        }
        if oldest_kept.saturating_sub(self.day_start) >= DAY_MINUTES as i64 {
            // Everything counted so far is older than a day.
            self.buckets.fill(Bucket::default());
            self.day = [0; SLOTS];
        } else if self.day_start < oldest_kept {
            for m in self.day_start..oldest_kept {
                let b = &mut self.buckets[m.rem_euclid(DAY_MINUTES as i64) as usize];
                if b.minute == m {
                    subtract(&mut self.day, &b.counts);
                    *b = Bucket::default();
                }
            }
        }
        self.day_start = self.day_start.max(oldest_kept);
        let b = &mut self.buckets[minute.rem_euclid(DAY_MINUTES as i64) as usize];
        if b.minute != minute {
            *b = Bucket {
                minute,
                counts: [0; SLOTS],
            };
        }
        add(&mut b.counts, sample);
        add(&mut self.day, sample);
    }
}

fn add(into: &mut [u64; SLOTS], counts: &[u64; SLOTS]) {
    for (a, b) in into.iter_mut().zip(counts) {
        *a += b;
    }
}

fn subtract(from: &mut [u64; SLOTS], counts: &[u64; SLOTS]) {
    for (a, b) in from.iter_mut().zip(counts) {
        *a = a.saturating_sub(*b);
    }
}

fn ratio(num: u64, den: u64) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

fn stats_of(c: &[u64; SLOTS]) -> QualityStats {
    QualityStats {
        calls: c[CALLS],
        asr: ratio(c[ANSWERED], c[CALLS]),
        acd_secs: ratio(c[DURATION], c[ANSWERED]),
        pdd_ms: ratio(c[PDD_SUM], c[PDD_N]),
        ner: ratio(c[REACHED], c[CALLS]),
        messages: c[MSGS],
        delivery_ratio: ratio(c[DELIVERED], c[MSGS]),
        requests: c[REQ_ALL],
        uptime: ratio(c[REQ_OK], c[REQ_ALL]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(answered: bool, secs: u32) -> Observation {
        Observation::Call {
            outcome: if answered {
                CallOutcome::Answered {
                    duration_secs: secs,
                }
            } else {
                CallOutcome::NoAnswer
            },
            pdd_ms: Some(2_000),
        }
    }

    #[test]
    fn asr_acd_pdd_over_last_n() {
        let q = Quality::new(&QualityConfig {
            window_attempts: 4,
            min_samples: 1,
        });
        for _ in 0..4 {
            q.record(call(false, 0), 0);
        }
        q.record(call(true, 60), 0);
        q.record(call(true, 120), 0);
        let v = q.view();
        assert_eq!(v.calls, 4);
        assert_eq!(v.asr, 0.5);
        assert_eq!(v.acd_secs, 90.0);
        assert_eq!(v.pdd_ms, 2_000.0);
        let s = q.stats(Window::Minutes15, 0);
        assert_eq!(s.calls, 6);
        assert_eq!(s.ner, Some(1.0));
    }

    #[test]
    fn time_windows_forget_old_minutes() {
        let q = Quality::new(&QualityConfig::default());
        let minute = 60_000;
        q.record(Observation::Message { delivered: true }, 0);
        q.record(Observation::Message { delivered: false }, 30 * minute);
        assert_eq!(q.stats(Window::Minutes15, 30 * minute).messages, 1);
        assert_eq!(q.stats(Window::Hour, 30 * minute).messages, 2);
        assert_eq!(q.stats(Window::Hour, 30 * minute).delivery_ratio, Some(0.5));
        assert_eq!(q.stats(Window::Day, 25 * 60 * minute).messages, 0);
    }

    #[test]
    fn uptime_is_the_day_success_ratio() {
        let q = Quality::new(&QualityConfig::default());
        for i in 0..100 {
            q.record(Observation::Request { ok: i % 50 != 0 }, i * 1_000);
        }
        assert_eq!(q.view().uptime, 0.98);
        assert_eq!(q.view().requests, 100);
        // A day later the old requests are gone from the running sums.
        q.record(Observation::Request { ok: false }, 2 * 86_400_000);
        assert_eq!(q.view().uptime, 0.0);
        assert_eq!(q.view().requests, 1);
    }
}
