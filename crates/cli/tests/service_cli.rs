//! The service commands of the real binary: admin, config, rates import, route over the
//! database, and `serve` with its logs captured.

use std::io::Read;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

fn switchyard(dir: &Path, args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_switchyard"));
    cmd.args(args)
        .current_dir(dir)
        .env_remove("SWITCHYARD_MASTER_KEY")
        .env_remove("SWITCHYARD_DATABASE_URL");
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("the binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn org_and_key(dir: &Path) -> (String, String) {
    let out = switchyard(dir, &["admin", "org", "create", "Acme"], &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let org = text(&out.stdout).trim().to_string();
    let out = switchyard(
        dir,
        &["admin", "key", "create", "--org", &org, "--role", "owner"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    let key = stdout.lines().last().expect("a last line").to_string();
    assert!(
        key.starts_with("sy_") && !key.contains(' '),
        "the key is alone on the last line: {stdout}"
    );
    (org, key)
}

#[test]
fn config_show_masks_secrets_and_reports_precedence() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("switchyard.toml"),
        "listen = \"0.0.0.0:9000\"\nlog = \"warn\"\n",
    )
    .expect("write");
    let out = switchyard(
        dir.path(),
        &["config", "show", "--log", "debug"],
        &[
            (
                "SWITCHYARD_DATABASE_URL",
                "postgres://app:hunter2@db:5432/sy",
            ),
            ("SWITCHYARD_MASTER_KEY", &"ab".repeat(32)),
        ],
    );
    let shown = text(&out.stdout);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        !shown.contains("hunter2") && !shown.contains(&"ab".repeat(32)),
        "{shown}"
    );
    assert!(shown.contains("postgres://app:****@db:5432/sy"), "{shown}");
    assert!(
        shown.contains("listen = \"0.0.0.0:9000\"  # config file"),
        "{shown}"
    );
    assert!(
        shown.contains("log = \"debug\"  # flag or environment"),
        "{shown}"
    );
    let bad = tempfile::tempdir().expect("dir");
    std::fs::write(bad.path().join("switchyard.toml"), "lisen = 1\n").expect("write");
    let out = switchyard(bad.path(), &["config", "show"], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("unknown field `lisen`"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn rates_import_and_route_over_the_database() {
    let dir = tempfile::tempdir().expect("dir");
    let (org, key) = org_and_key(dir.path());
    assert!(key.len() > 10);
    // Add a provider through the store the way the API does, via a short-lived server.
    let deck = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/decks/telnyx.csv");
    let out = switchyard(
        dir.path(),
        &[
            "rates",
            "import",
            deck.to_str().expect("utf-8"),
            "--provider",
            "nope",
        ],
        &[],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no provider nope"));
    let server = Server::start(dir.path());
    let provider = server.add_provider(&key, "never-logged-secret-0001");
    server.stop();
    let out = switchyard(
        dir.path(),
        &[
            "rates",
            "import",
            deck.to_str().expect("utf-8"),
            "--provider",
            &provider,
            "--effective-from",
            "2020-01-01T00:00:00Z",
        ],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("with 7 rows"),
        "{}",
        text(&out.stdout)
    );
    let out = switchyard(
        dir.path(),
        &["route", "+447911123456", "--org", &org, "--json"],
        &[],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["primary"]["provider"], provider.as_str());
    assert_eq!(v["primary"]["prefix"], "447");
    // The same question through a running server.
    let server = Server::start(dir.path());
    let out = switchyard(
        dir.path(),
        &[
            "route",
            "+447911123456",
            "--server",
            &server.base,
            "--key",
            &key,
        ],
        &[],
    );
    let _ = server.stop();
    assert!(out.status.success(), "{}", text(&out.stderr));
    let shown = text(&out.stdout);
    assert!(shown.contains(&format!("primary   {provider}")), "{shown}");
    assert!(shown.contains("1st cheapest"), "{shown}");
}

struct Server {
    child: std::process::Child,
    base: String,
}

impl Server {
    fn start(dir: &Path) -> Server {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
            l.local_addr().expect("addr").port()
        };
        let child = Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args([
                "serve",
                "--listen",
                &format!("127.0.0.1:{port}"),
                "--log",
                "debug",
            ])
            .current_dir(dir)
            .env_remove("SWITCHYARD_MASTER_KEY")
            .env_remove("SWITCHYARD_DATABASE_URL")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("serve starts");
        let base = format!("http://127.0.0.1:{port}");
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        Server { child, base }
    }

    fn request(&self, method: &str, path: &str, key: &str, body: &str) -> (u16, serde_json::Value) {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        rt.block_on(async {
            let client = reqwest::Client::new();
            let resp = client
                .request(
                    method.parse().expect("method"),
                    format!("{}{path}", self.base),
                )
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(body.to_string())
                .send()
                .await
                .expect("request");
            let status = resp.status().as_u16();
            (status, resp.json().await.unwrap_or(serde_json::Value::Null))
        })
    }

    fn add_provider(&self, key: &str, secret: &str) -> String {
        let body = format!(
            r#"{{"type":"telnyx","name":"Telnyx","credentials":{{"api_key":"{secret}","connection_id":"conn-1"}}}}"#
        );
        let (status, v) = self.request("POST", "/v1/providers", key, &body);
        assert_eq!(status, 201, "{v}");
        v["id"].as_str().expect("id").to_string()
    }

    /// Stops with SIGINT (as Ctrl-C) and returns everything it logged.
    fn stop(mut self) -> String {
        let _ = Command::new("kill")
            .args(["-INT", &self.child.id().to_string()])
            .status();
        let started = Instant::now();
        while self.child.try_wait().ok().flatten().is_none() {
            if started.elapsed() > Duration::from_secs(15) {
                let _ = self.child.kill();
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let mut logs = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut logs);
        }
        if let Some(mut o) = self.child.stdout.take() {
            let _ = o.read_to_string(&mut logs);
        }
        logs
    }
}

#[test]
fn serve_never_logs_credentials_and_keeps_its_key_file_private() {
    let dir = tempfile::tempdir().expect("dir");
    let (_, key) = org_and_key(dir.path());
    let server = Server::start(dir.path());
    let secret = "tk-LIVE-0123456789-dont-log-me";
    let id = server.add_provider(&key, secret);
    let patch = format!(r#"{{"credentials":{{"api_key":"{secret}-2","connection_id":"c"}}}}"#);
    let (status, v) = server.request("PATCH", &format!("/v1/providers/{id}"), &key, &patch);
    assert_eq!(status, 200, "{v}");
    let (status, _) = server.request("POST", "/v1/providers", &key, r#"{"type":"telnyx","name":"x","credentials":{"api_key":"tk-LIVE-0123456789-dont-log-me-3"}}"#);
    assert_eq!(status, 422, "missing connection_id is refused");
    let (status, v) = server.request(
        "POST",
        "/v1/routing/decide",
        &key,
        r#"{"number":"+14155552671"}"#,
    );
    assert_eq!(status, 200, "{v}");
    let logs = server.stop();
    assert!(logs.contains("provider added"), "the server logged: {logs}");
    assert!(logs.contains("DEBUG"), "debug logging was on");
    assert!(
        !logs.contains("dont-log-me"),
        "a credential reached the logs:\n{logs}"
    );
    assert!(!logs.contains(&key), "an API key reached the logs");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("switchyard.key"))
            .expect("key file")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[test]
fn sandbox_command_serves_accounts_and_their_tokens_stay_out_of_logs() {
    use std::io::BufRead;
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("free port");
        l.local_addr().expect("addr").port()
    };
    /// Kills the sandbox however the test ends.
    struct Reaped(std::process::Child);
    impl Drop for Reaped {
        fn drop(&mut self) {
            let _ = self.0.kill();
            let _ = self.0.wait();
        }
    }
    let mut sandbox = Reaped(
        Command::new(env!("CARGO_BIN_EXE_switchyard"))
            .args(["sandbox", "--port", &port.to_string(), "--seed", "5"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("sandbox starts"),
    );
    let mut lines = std::io::BufReader::new(sandbox.0.stdout.take().expect("stdout")).lines();
    let banner = lines.next().expect("banner").expect("line");
    assert!(banner.contains(&format!("127.0.0.1:{port}")), "{banner}");
    let twilio: serde_json::Value =
        serde_json::from_str(&lines.next().expect("twilio").expect("line")).expect("json");
    let telnyx: serde_json::Value =
        serde_json::from_str(&lines.next().expect("telnyx").expect("line")).expect("json");
    assert_eq!(
        (twilio["style"].as_str(), telnyx["style"].as_str()),
        (Some("twilio"), Some("telnyx"))
    );
    assert!(telnyx["public_key"].is_string() && telnyx["api_key"].is_string());
    let token = twilio["auth_token"].as_str().expect("token").to_string();

    let dir = tempfile::tempdir().expect("dir");
    let (_, key) = org_and_key(dir.path());
    let server = Server::start(dir.path());
    let body = serde_json::json!({"type": "sandbox", "name": "External sandbox", "credentials": {
        "style": "twilio", "account_sid": twilio["account_sid"], "auth_token": token, "base_url": twilio["base_url"],
    }});
    let (status, created) = server.request("POST", "/v1/providers", &key, &body.to_string());
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().expect("id");
    let (status, tested) = server.request("POST", &format!("/v1/providers/{id}/test"), &key, "{}");
    assert_eq!(status, 200, "{tested}");
    let (status, synced) = server.request(
        "POST",
        &format!("/v1/providers/{id}/numbers/sync"),
        &key,
        "{}",
    );
    assert_eq!(
        (status, synced["added"].as_u64()),
        (200, Some(5)),
        "{synced}"
    );
    let logs = server.stop();
    drop(sandbox);
    assert!(
        logs.contains("provider response"),
        "adapter traffic is logged at debug: {logs}"
    );
    assert!(
        logs.contains("****"),
        "the account's auth_token field is masked"
    );
    assert!(
        !logs.contains(&token),
        "the auth token reached the logs:\n{logs}"
    );
}
