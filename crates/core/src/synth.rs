//! Synthetic but realistic rate decks and traffic, for benchmarks and load tests: real
//! country calling codes, nested longer prefixes under each, carriers pricing overlapping
//! sets of the same ranges at different rates.

use crate::scoring::mix64;
use std::fmt::Write;

/// Country calling codes used as the roots of the synthetic numbering plan.
const COUNTRY_CODES: &[u16] = &[
    1, 7, 20, 27, 30, 31, 32, 33, 34, 36, 39, 40, 41, 43, 44, 45, 46, 47, 48, 49, 51, 52, 53, 54,
    55, 56, 57, 58, 60, 61, 62, 63, 64, 65, 66, 81, 82, 84, 86, 90, 91, 92, 93, 94, 95, 98, 212,
    213, 216, 218, 220, 221, 223, 224, 225, 226, 227, 228, 229, 230, 231, 232, 233, 234, 235, 236,
    237, 238, 239, 240, 241, 242, 243, 244, 245, 248, 249, 250, 251, 252, 253, 254, 255, 256, 257,
    258, 260, 261, 262, 263, 264, 265, 266, 267, 268, 269, 290, 291, 297, 298, 299, 350, 351, 352,
    353, 354, 355, 356, 357, 358, 359, 370, 371, 372, 373, 374, 375, 376, 377, 378, 380, 381, 382,
    383, 385, 386, 387, 389, 420, 421, 423, 500, 501, 502, 503, 504, 505, 506, 507, 508, 509, 590,
    591, 592, 593, 594, 595, 596, 597, 598, 599, 670, 672, 673, 674, 675, 676, 677, 678, 679, 680,
    681, 682, 683, 685, 686, 687, 688, 689, 690, 691, 692, 850, 852, 853, 855, 856, 880, 886, 960,
    961, 962, 963, 964, 965, 966, 967, 968, 970, 971, 972, 973, 974, 975, 976, 977, 992, 993, 994,
    995, 996, 998,
];

/// A deterministic random stream (SplitMix64).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// A stream from a seed.
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix64(self.0)
    }

    /// A number in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n.max(1))) >> 64) as u64
    }
}

/// A numbering plan: every prefix any synthetic carrier may price, each under a real
/// country code, with nested longer prefixes (city, mobile operator, number block).
#[derive(Debug, Clone)]
pub struct Plan {
    prefixes: Vec<String>,
}

impl Plan {
    /// About `size` distinct prefixes (at least every country code).
    pub fn new(size: usize, seed: u64) -> Self {
        let mut rng = Rng::new(seed);
        let mut seen = std::collections::HashSet::with_capacity(size);
        let mut prefixes: Vec<String> = Vec::with_capacity(size);
        for cc in COUNTRY_CODES {
            let p = cc.to_string();
            seen.insert(p.clone());
            prefixes.push(p);
        }
        let mut attempts = 0usize;
        while prefixes.len() < size && attempts < size * 20 {
            attempts += 1;
            // Extend an existing prefix by one to three digits: nesting grows naturally.
            let base = &prefixes[rng.below(prefixes.len() as u64) as usize];
            if base.len() >= 9 {
                continue;
            }
            let mut p = base.clone();
            for _ in 0..=rng.below(3) {
                p.push(char::from(b'0' + rng.below(10) as u8));
            }
            if seen.insert(p.clone()) {
                prefixes.push(p);
            }
        }
        Plan { prefixes }
    }

    /// The prefixes.
    pub fn prefixes(&self) -> &[String] {
        &self.prefixes
    }

    /// A deck CSV for carrier `carrier` pricing `count` prefixes of the plan (every country
    /// code plus a random subset of the rest) at carrier-specific rates.
    pub fn deck_csv(&self, carrier: u64, count: usize, seed: u64) -> String {
        let mut rng = Rng::new(seed ^ mix64(carrier + 1));
        let mut out = String::with_capacity(count * 40);
        out.push_str("prefix,destination,rate,connection_fee,increment\n");
        let n = self.prefixes.len();
        let count = count.min(n);
        // Country codes first (every carrier covers every country), then a sparse walk.
        let roots = COUNTRY_CODES.len().min(count);
        let stride_start = roots + rng.below((n - roots).max(1) as u64) as usize;
        let rest = count - roots;
        let span = n - roots;
        for k in 0..count {
            let i = if k < roots {
                k
            } else {
                roots + (stride_start - roots + (k - roots) * span / rest.max(1)) % span.max(1)
            };
            let prefix = &self.prefixes[i];
            let country_base = 50 + mix64(u64::from(prefix.as_bytes()[0])) % 900;
            let per_carrier = 80 + rng.below(40);
            let rate = country_base * per_carrier / 100 + rng.below(50);
            let increment = ["60/60", "6/6", "1/1", "30/6"][rng.below(4) as usize];
            let _ = writeln!(
                out,
                "{prefix},\"Destination {}, zone {}\",0.{rate:04},0,{increment}",
                &prefix[..prefix.len().min(3)],
                prefix.len()
            );
        }
        out
    }

    /// A random E.164 number (digits only) under a random prefix of the plan, 11 to 13 digits.
    pub fn number(&self, rng: &mut Rng) -> String {
        let prefix = &self.prefixes[rng.below(self.prefixes.len() as u64) as usize];
        let len = 11 + rng.below(3) as usize;
        let mut digits = prefix.clone();
        while digits.len() < len {
            digits.push(char::from(b'0' + rng.below(10) as u8));
        }
        digits
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::deck::{ImportOptions, import_csv};

    #[test]
    fn synthetic_decks_import_cleanly_and_nest() {
        let plan = Plan::new(2_000, 7);
        assert_eq!(plan.prefixes().len(), 2_000);
        let csv = plan.deck_csv(0, 1_000, 7);
        let report = import_csv(csv.as_bytes(), &ImportOptions::default()).expect("valid deck");
        assert_eq!(report.rows.len(), 1_000);
        assert!(report.rows.iter().any(|r| r.prefix.len() >= 5));
        let mut rng = Rng::new(1);
        let number = plan.number(&mut rng);
        assert!((11..=13).contains(&number.len()));
    }
}
