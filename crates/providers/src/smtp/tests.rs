//! The adapter against a real SMTP server (Python's aiosmtpd, `fixtures/smtp_server.py`):
//! the exact MIME the server receives, STARTTLS and implicit TLS with AUTH, refusals, and
//! many messages over the pool.

use super::*;
use crate::capability::{Email, EmailRequest};
use crate::error::{Delivery, ErrorClass};
use serde_json::Value;
use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

const SERVER: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/src/smtp/fixtures/smtp_server.py"
);

/// A running aiosmtpd, killed on drop.
struct Server {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// Starts one, or `None` (skipped) when Python's aiosmtpd is not installed outside CI.
    fn start(mode: &str, login: Option<(&str, &str)>) -> Option<Server> {
        let probe = Command::new("python3")
            .args(["-c", "import aiosmtpd"])
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "python3 with aiosmtpd is required in CI (pip install aiosmtpd)"
            );
            eprintln!("skipped: python3 with aiosmtpd not found (pip install aiosmtpd)");
            return None;
        }
        let dir = std::env::temp_dir().join(format!("switchyard-smtp-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let mut cmd = Command::new("python3");
        cmd.arg(SERVER).arg(&dir).arg(mode);
        if let Some((user, password)) = login {
            cmd.args([user, password]);
        }
        let mut child = cmd
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the SMTP server");
        let mut line = String::new();
        let stdout = child.stdout.take().expect("stdout");
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("server announces its port");
        let port = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected server output {line:?}"));
        Some(Server { child, port, dir })
    }

    fn adapter(&self, tls: &str, login: Option<(&str, &str)>) -> Smtp {
        let ca_certificate = (tls != "none")
            .then(|| std::fs::read_to_string(self.dir.join("cert.pem")).expect("cert"));
        Smtp::new(client::Settings {
            host: if tls == "none" {
                "127.0.0.1"
            } else {
                "localhost"
            }
            .into(),
            port: Some(self.port),
            tls: match tls {
                "implicit" => TlsMode::Implicit,
                "none" => TlsMode::None,
                _ => TlsMode::StartTls,
            },
            login: login.map(|(u, p)| (u.to_string(), p.to_string())),
            ca_certificate,
            pool_size: 4,
        })
        .expect("adapter")
    }

    /// What the server stored as message `n`: its parsed description and the raw bytes.
    async fn received(&self, n: usize) -> (Value, String) {
        let json = self.dir.join(format!("{n}.json"));
        for _ in 0..100 {
            if let Ok(text) = std::fs::read_to_string(&json) {
                let raw = std::fs::read(self.dir.join(format!("{n}.eml"))).expect("eml");
                let parsed = serde_json::from_str(&text).expect("json");
                return (parsed, String::from_utf8_lossy(&raw).into_owned());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("message {n} never arrived");
    }
}

/// The shared every-field email with its own id.
fn request(id: &str) -> EmailRequest {
    EmailRequest {
        email_id: id.into(),
        idempotency_key: format!("{id}:0"),
        ..crate::http::double::full_email()
    }
}

#[tokio::test]
async fn starttls_with_auth_delivers_the_exact_message() {
    let login = Some(("mailer", "s3cret"));
    let Some(server) = Server::start("starttls", login) else {
        return;
    };
    let smtp = server.adapter("starttls", login);
    let sent = smtp
        .send_email(&request("em_mime"))
        .await
        .expect("accepted");
    assert_eq!(sent.message_id, "em_mime@mg.example.com");
    let want = crate::http::double::full_email();

    let (got, raw) = server.received(1).await;
    assert_eq!(got["tls"], true);
    assert_eq!(got["auth_user"], "mailer");
    assert_eq!(got["mail_from"], "news@mg.example.com");
    assert_eq!(
        got["rcpt_tos"],
        serde_json::json!([
            "zoe@example.com",
            "bob@example.com",
            "carol@example.com",
            "audit@example.com"
        ])
    );
    let headers = &got["headers"];
    assert_eq!(headers["Subject"], want.subject.as_str());
    assert_eq!(headers["From"], "\"Acme, Inc.\" <news@mg.example.com>");
    assert_eq!(
        headers["To"],
        "Zoë Ågren <zoe@example.com>, bob@example.com"
    );
    assert_eq!(headers["Cc"], "carol@example.com");
    assert_eq!(headers["Reply-To"], "Support <support@example.com>");
    assert_eq!(headers["Message-ID"], "<em_mime@mg.example.com>");
    assert_eq!(headers["List-Unsubscribe"], want.headers[0].1.as_str());
    assert_eq!(
        headers["List-Unsubscribe-Post"],
        "List-Unsubscribe=One-Click"
    );
    assert!(headers.get("Bcc").is_none(), "a blind copy is not a header");
    assert!(
        raw.contains("Subject: =?utf-8?b?"),
        "UTF-8 subject encoded per RFC 2047: {raw}"
    );
    assert!(raw.is_ascii(), "every byte on the wire is 7-bit");

    let body = &got["body"];
    assert_eq!(body["content_type"], "multipart/mixed");
    let alternative = &body["parts"][0];
    assert_eq!(alternative["content_type"], "multipart/alternative");
    assert_eq!(alternative["parts"][0]["content_type"], "text/plain");
    assert_eq!(alternative["parts"][0]["text"], "Hello Zoë");
    assert_eq!(alternative["parts"][1]["content_type"], "text/html");
    assert_eq!(alternative["parts"][1]["text"], "<p>Hello Zoë</p>");
    let file = &body["parts"][1];
    assert_eq!(file["content_type"], "application/pdf");
    assert_eq!(file["filename"], "invoice-€.pdf");
    assert_eq!(file["transfer_encoding"], "base64");
    let hex: String = want.attachments[0]
        .content
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    assert_eq!(file["hex"], hex);
}

#[tokio::test]
async fn implicit_tls() {
    let login = Some(("mailer", "s3cret"));
    let Some(server) = Server::start("implicit", login) else {
        return;
    };
    server
        .adapter("implicit", login)
        .send_email(&request("em_tls"))
        .await
        .expect("accepted over implicit TLS");
    let (got, _) = server.received(1).await;
    assert_eq!(got["tls"], true);
}

#[tokio::test]
async fn a_wrong_password_is_the_relays_refusal() {
    let Some(server) = Server::start("starttls", Some(("mailer", "s3cret"))) else {
        return;
    };
    let err = server
        .adapter("starttls", Some(("mailer", "wrong")))
        .send_email(&request("em_denied"))
        .await
        .expect_err("bad password");
    assert_eq!(err.class, ErrorClass::ProviderRefused, "{err}");
    assert_eq!(err.delivery, Delivery::NotAccepted);
    assert_eq!(err.code.as_deref(), Some("535"));
}

#[tokio::test]
async fn the_pool_carries_many_messages_and_a_closed_port_is_retryable() {
    let Some(server) = Server::start("plain", None) else {
        return;
    };
    let smtp = std::sync::Arc::new(server.adapter("none", None));
    let mut tasks = Vec::new();
    for i in 0..20 {
        let smtp = smtp.clone();
        tasks.push(tokio::spawn(async move {
            let mut req = request(&format!("em_pool_{i}"));
            req.attachments.clear();
            smtp.send_email(&req).await
        }));
    }
    for t in tasks {
        t.await.expect("task").expect("accepted");
    }
    let (last, _) = server.received(20).await;
    assert_eq!(last["tls"], false);

    let port = server.port;
    drop(server);
    let closed = Smtp::new(client::Settings {
        host: "127.0.0.1".into(),
        port: Some(port),
        tls: TlsMode::None,
        login: None,
        ca_certificate: None,
        pool_size: 1,
    })
    .expect("adapter");
    let err = closed
        .send_email(&request("em_closed"))
        .await
        .expect_err("nobody listens");
    assert_eq!(err.class, ErrorClass::Retryable, "{err}");
    assert_eq!(err.delivery, Delivery::NotAccepted);
}

#[test]
fn settings_are_checked() {
    use crate::adapter::ProviderContext;
    let ctx = |pairs: &[(&str, &str)]| ProviderContext {
        provider_id: "p".into(),
        credentials: pairs
            .iter()
            .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
            .collect(),
        webhook_url: String::new(),
        sandbox_url: None,
        http: Default::default(),
    };
    let err = build(&ctx(&[("host", "mx"), ("tls", "ssl3")])).expect_err("bad mode");
    assert!(err.0.contains("credentials.tls"), "{err}");
    let err = build(&ctx(&[("host", "mx"), ("username", "u")])).expect_err("half a login");
    assert!(err.0.contains("go together"), "{err}");
    let err = build(&ctx(&[("host", "mx"), ("port", "99999")])).expect_err("port");
    assert!(err.0.contains("credentials.port"), "{err}");
    assert!(build(&ctx(&[("host", "mx"), ("tls", "implicit")])).is_ok());
}
