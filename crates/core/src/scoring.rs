//! Scores the strategies order by: a quality score from recent statistics, and the
//! deterministic weighted draw.

use crate::channel::Channel;
use crate::quality::QualityView;

/// Shrinks an observed ratio towards a neutral 0.5 with `prior` pseudo-samples, so a provider
/// with three lucky calls does not outrank one with a thousand good ones.
fn shrink(observed: f64, samples: u32, prior: u32) -> f64 {
    let n = f64::from(samples);
    let k = f64::from(prior.max(1));
    (observed * n + 0.5 * k) / (n + k)
}

/// Quality in 0–1. Voice: 60 % ASR, 25 % ACD (saturating at 3 minutes), 15 % PDD (0 at 10 s
/// or more). Messaging and email: the delivery ratio. Both shrunk towards 0.5 while samples
/// are fewer than `min_samples`-ish.
pub fn quality_score(q: &QualityView, channel: Channel, min_samples: u32) -> f64 {
    match channel {
        Channel::Voice | Channel::Rvm => {
            let asr = shrink(q.asr, q.calls, min_samples);
            let acd = shrink((q.acd_secs / 180.0).min(1.0), q.calls, min_samples);
            let pdd = shrink(1.0 - (q.pdd_ms / 10_000.0).min(1.0), q.calls, min_samples);
            0.6 * asr + 0.25 * acd + 0.15 * pdd
        }
        _ => shrink(q.delivery_ratio, q.messages, min_samples),
    }
}

/// The SplitMix64 finaliser: spreads consecutive seeds over the whole 64-bit range.
pub fn mix64(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Picks an index with probability proportional to its weight, determined by `seed`.
/// `None` when every weight is zero.
pub fn weighted_pick(weights: &[u32], seed: u64) -> Option<usize> {
    let total: u64 = weights.iter().map(|w| u64::from(*w)).sum();
    if total == 0 {
        return None;
    }
    let target = ((u128::from(mix64(seed)) * u128::from(total)) >> 64) as u64;
    let mut acc = 0u64;
    weights.iter().position(|w| {
        acc += u64::from(*w);
        target < acc
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn more_samples_weigh_more() {
        let few = QualityView {
            calls: 3,
            asr: 1.0,
            ..QualityView::default()
        };
        let many = QualityView {
            calls: 1000,
            asr: 0.9,
            acd_secs: 0.0,
            ..QualityView::default()
        };
        assert!(quality_score(&many, Channel::Sms, 20) >= 0.0);
        let a = quality_score(&few, Channel::Voice, 20);
        let b = quality_score(&many, Channel::Voice, 20);
        assert!(b > a, "{b} > {a}");
    }

    #[test]
    fn weighted_pick_skips_zero_weights() {
        assert_eq!(weighted_pick(&[0, 0], 1), None);
        for seed in 0..1000 {
            assert_eq!(weighted_pick(&[0, 5, 0], seed), Some(1));
        }
    }
}
