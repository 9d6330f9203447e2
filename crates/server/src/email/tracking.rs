//! Open and click tracking done by Switchyard itself, so it works whichever provider
//! carries the email: every `http(s)` link of the HTML body goes through a signed redirect,
//! and a 1×1 image is added at the end of the body.

/// Replaces the target of every `href="http…"` / `href='http…'` in `html` with what
/// `rewrite` makes of it (the URL with `&amp;` and friends decoded). Other links (`mailto:`,
/// anchors) and links `keep` says to keep (the unsubscribe link) are left alone.
pub fn rewrite_links(
    html: &str,
    keep: impl Fn(&str) -> bool,
    rewrite: impl Fn(&str) -> String,
) -> String {
    let mut out = String::with_capacity(html.len() + 256);
    let lower = html.to_ascii_lowercase();
    let mut rest = 0;
    while let Some(found) = lower[rest..].find("href=") {
        let value_start = rest + found + "href=".len();
        let Some(quote) = html[value_start..]
            .chars()
            .next()
            .filter(|c| *c == '"' || *c == '\'')
        else {
            out.push_str(&html[rest..value_start]);
            rest = value_start;
            continue;
        };
        let url_start = value_start + 1;
        let Some(len) = html[url_start..].find(quote) else {
            break;
        };
        let raw = &html[url_start..url_start + len];
        out.push_str(&html[rest..url_start]);
        let url = decode_entities(raw.trim());
        let lower_url = url.to_ascii_lowercase();
        if (lower_url.starts_with("http://") || lower_url.starts_with("https://")) && !keep(&url) {
            out.push_str(&rewrite(&url));
        } else {
            out.push_str(raw);
        }
        rest = url_start + len;
    }
    out.push_str(&html[rest..]);
    out
}

/// The entities an attribute value commonly carries.
fn decode_entities(text: &str) -> String {
    text.replace("&amp;", "&")
        .replace("&#38;", "&")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
}

/// `html` with a tracking image just before `</body>` (or at the end).
pub fn add_pixel(html: &str, src: &str) -> String {
    let img = format!(
        "<img src=\"{src}\" width=\"1\" height=\"1\" alt=\"\" style=\"display:none;border:0\">"
    );
    match html.to_ascii_lowercase().rfind("</body>") {
        Some(at) => format!("{}{img}{}", &html[..at], &html[at..]),
        None => format!("{html}{img}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_links_are_rewritten_and_others_kept() {
        let html = r##"<p><a href="https://shop.example/sale?a=1&amp;b=2">Sale</a>
            <A HREF='http://x.example/'>x</A> <a href="mailto:help@shop.example">mail</a>
            <a href="#top">top</a> <a href="https://sy.example/u/tok">unsubscribe</a>
            <a href=unquoted>u</a></p>"##;
        let out = rewrite_links(
            html,
            |url| url.starts_with("https://sy.example/u/"),
            |url| format!("https://sy.example/t/c/[{url}]"),
        );
        assert!(
            out.contains(r#"href="https://sy.example/t/c/[https://shop.example/sale?a=1&b=2]""#)
        );
        assert!(out.contains("HREF='https://sy.example/t/c/[http://x.example/]'"));
        assert!(out.contains(r#"href="mailto:help@shop.example""#));
        assert!(out.contains(r##"href="#top""##));
        assert!(out.contains(r#"href="https://sy.example/u/tok""#));
        assert!(out.contains("href=unquoted"));
    }

    #[test]
    fn a_malformed_attribute_leaves_the_rest_intact() {
        let html = r#"<a href="https://a.example/">a</a><a href="https://broken"#;
        let out = rewrite_links(html, |_| false, |_| "R".into());
        assert_eq!(out, r#"<a href="R">a</a><a href="https://broken"#);
    }

    #[test]
    fn the_pixel_goes_before_the_body_ends() {
        let out = add_pixel("<html><body><p>Hi</p></BODY></html>", "https://t/o/1");
        assert!(
            out.ends_with(r#"style="display:none;border:0"></BODY></html>"#),
            "{out}"
        );
        assert!(add_pixel("<p>Hi</p>", "x").starts_with("<p>Hi</p><img"));
    }
}
