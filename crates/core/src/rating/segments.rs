//! SMS segment counting as carriers bill it (3GPP TS 23.038 / 23.040): GSM-7 when every
//! character is in the default alphabet or its extension table (extension characters take
//! two septets), UCS-2 otherwise; 160/153 septets or 70/67 UTF-16 units per segment, and a
//! segment never splits an escape pair or a surrogate pair.

use serde::Serialize;

/// The GSM 03.38 default alphabet.
const GSM7_BASIC: &str = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\u{1b}ÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?\
¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";

/// The GSM 03.38 extension table (each costs an escape plus the character).
const GSM7_EXTENSION: &str = "^{}\\[~]|€\u{0c}";

/// The text encoding a message will be sent in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Encoding {
    /// 7-bit GSM default alphabet.
    Gsm7,
    /// UCS-2 (UTF-16 code units).
    Ucs2,
}

/// How a message body splits into billable segments.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Segments {
    /// Encoding chosen.
    pub encoding: Encoding,
    /// Length in septets (GSM-7) or UTF-16 units (UCS-2).
    pub units: usize,
    /// Billable segments (at least one).
    pub count: u32,
}

/// Septets of each ASCII character (0: not in the GSM alphabet), derived from the tables
/// above at compile time so the per-character check is one load.
const ASCII_SEPTETS: [u8; 128] = {
    let mut t = [0u8; 128];
    let basic = GSM7_BASIC.as_bytes();
    let mut i = 0;
    while i < basic.len() {
        if basic[i] < 128 {
            t[basic[i] as usize] = 1;
        }
        i += 1;
    }
    let ext = GSM7_EXTENSION.as_bytes();
    let mut i = 0;
    while i < ext.len() {
        if ext[i] < 128 {
            t[ext[i] as usize] = 2;
        }
        i += 1;
    }
    t
};

fn septets(c: char) -> Option<usize> {
    if let Some(&n) = ASCII_SEPTETS.get(c as usize) {
        return (n > 0).then_some(usize::from(n));
    }
    if GSM7_BASIC.contains(c) {
        Some(1)
    } else if GSM7_EXTENSION.contains(c) {
        Some(2)
    } else {
        None
    }
}

/// Counts the segments of a text message.
pub fn count_segments(text: &str) -> Segments {
    let gsm: Option<Vec<usize>> = text.chars().map(septets).collect();
    let (encoding, widths, single, multi) = match gsm {
        Some(w) => (Encoding::Gsm7, w, 160, 153),
        None => (
            Encoding::Ucs2,
            text.chars().map(char::len_utf16).collect(),
            70,
            67,
        ),
    };
    let units: usize = widths.iter().sum();
    let count = if units <= single {
        1
    } else {
        let mut segments = 1u32;
        let mut used = 0usize;
        for w in widths {
            if used + w > multi {
                segments += 1;
                used = 0;
            }
            used += w;
        }
        segments
    };
    Segments {
        encoding,
        units,
        count,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn worked_examples() {
        assert_eq!(count_segments(&"a".repeat(160)).count, 1);
        assert_eq!(count_segments(&"a".repeat(161)).count, 2);
        assert_eq!(count_segments(&"a".repeat(306)).count, 2);
        assert_eq!(count_segments(&"a".repeat(307)).count, 3);
        let ucs = "я".repeat(71);
        let s = count_segments(&ucs);
        assert_eq!((s.encoding, s.count), (Encoding::Ucs2, 2));
        assert_eq!(count_segments(&"я".repeat(70)).count, 1);
        assert_eq!(count_segments("").count, 1);
    }

    #[test]
    fn euro_counts_as_two_septets() {
        let s = count_segments("€");
        assert_eq!((s.encoding, s.units), (Encoding::Gsm7, 2));
        // 159 letters + € = 161 septets: two segments.
        let text = format!("{}€", "a".repeat(159));
        assert_eq!(count_segments(&text).count, 2);
        assert_eq!(count_segments(&format!("{}€", "a".repeat(158))).count, 1);
    }

    #[test]
    fn escape_pairs_and_surrogates_are_not_split() {
        // 152 septets then an escape pair: the pair moves to segment two.
        let text = format!("{}{}{}", "a".repeat(152), "{", "a".repeat(153));
        assert_eq!(count_segments(&text).units, 307);
        assert_eq!(count_segments(&text).count, 3);
        // 66 units then an emoji (two units) moves whole to the next segment.
        let text = format!("{}😀{}", "я".repeat(66), "я".repeat(66));
        assert_eq!(count_segments(&text).count, 3);
    }

    #[test]
    fn accented_letters_outside_gsm_force_ucs2() {
        assert_eq!(count_segments("café").encoding, Encoding::Gsm7);
        assert_eq!(count_segments("ça").encoding, Encoding::Ucs2);
    }
}
