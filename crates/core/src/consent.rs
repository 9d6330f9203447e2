//! Consent keywords in inbound messages: a whole message of `STOP` (and its synonyms) opts
//! the sender out, `START` opts back in, `HELP` asks for help. Matching is on the whole
//! message, case-insensitive, ignoring surrounding spaces and one trailing `.` or `!`, so
//! "stop" and "Stop." count and "please stop calling me" does not.

use serde::Serialize;

/// What an inbound message asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Keyword {
    /// `STOP`, `STOPALL`, `UNSUBSCRIBE`, `CANCEL`, `END`, `QUIT`.
    OptOut,
    /// `START`, `UNSTOP`, `YES`.
    OptIn,
    /// `HELP`, `INFO`.
    Help,
}

/// The keyword a message body is, if it is one.
pub fn keyword(body: &str) -> Option<Keyword> {
    let word = body.trim();
    let word = word
        .strip_suffix(['.', '!'])
        .unwrap_or(word)
        .trim_end()
        .to_ascii_uppercase();
    match word.as_str() {
        "STOP" | "STOPALL" | "UNSUBSCRIBE" | "CANCEL" | "END" | "QUIT" => Some(Keyword::OptOut),
        "START" | "UNSTOP" | "YES" => Some(Keyword::OptIn),
        "HELP" | "INFO" => Some(Keyword::Help),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_message_keywords_only() {
        for (body, want) in [
            ("STOP", Some(Keyword::OptOut)),
            ("  stop \n", Some(Keyword::OptOut)),
            ("Stop.", Some(Keyword::OptOut)),
            ("unsubscribe!", Some(Keyword::OptOut)),
            ("StopAll", Some(Keyword::OptOut)),
            ("quit", Some(Keyword::OptOut)),
            ("start", Some(Keyword::OptIn)),
            ("Unstop", Some(Keyword::OptIn)),
            ("yes", Some(Keyword::OptIn)),
            ("help", Some(Keyword::Help)),
            ("INFO", Some(Keyword::Help)),
            ("please stop", None),
            ("stop it", None),
            ("STOP!!", None),
            ("stöp", None),
            ("", None),
        ] {
            assert_eq!(keyword(body), want, "{body:?}");
        }
    }
}
