//! AWS Signature Version 4, as AWS documents it
//! (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv-create-signed-request.html):
//! a canonical request (method, normalised path, sorted query, sorted lower-case headers,
//! signed header names, hex SHA-256 of the payload), a string to sign naming the time and the
//! credential scope, and an HMAC-SHA256 chain from the secret key through date, region and
//! service. Checked against AWS's published test suite (see the tests).

use chrono::{DateTime, Utc};
use hmac::{Hmac, KeyInit, Mac};
use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use sha2::{Digest, Sha256};

/// Everything but the unreserved characters (`A-Z a-z 0-9 - _ . ~`) is percent-encoded, as
/// SigV4's URI encoding requires.
const UNRESERVED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'_')
    .remove(b'.')
    .remove(b'~');

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// An access key: what signs, and the session token temporary credentials come with.
#[derive(Clone)]
pub struct Credentials {
    /// `AKIA…` / `ASIA…`.
    pub access_key_id: String,
    /// The secret that keys the signature.
    pub secret_access_key: String,
    /// The token of temporary (STS) credentials, sent as `X-Amz-Security-Token`.
    pub session_token: Option<String>,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Credentials({}, ***)", self.access_key_id)
    }
}

/// The request to sign, as it will go on the wire.
#[derive(Debug, Clone, Copy)]
pub struct Unsigned<'a> {
    /// `GET`, `POST`…
    pub method: &'a str,
    /// Absolute URL; its host (and port, when not the default) is signed as `Host`.
    pub url: &'a str,
    /// Other headers to sign, exactly as they will be sent (`Content-Type`).
    pub headers: &'a [(&'a str, &'a str)],
    /// The exact body bytes.
    pub payload: &'a [u8],
}

/// Where a signature is valid: the region and the service's signing name (`ses`).
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// `us-east-1`.
    pub region: &'a str,
    /// `ses` (the signing name, which for SES v2 is still `ses`).
    pub service: &'a str,
}

/// Why a request cannot be signed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    /// The URL does not parse or has no host.
    #[error("{0:?} is not an absolute URL with a host")]
    InvalidUrl(String),
}

/// The headers to add to `req` so that AWS accepts it: `X-Amz-Date`,
/// `X-Amz-Security-Token` with temporary credentials, and `Authorization`. The signature
/// is valid for five minutes around `at`.
pub fn sign(
    req: &Unsigned<'_>,
    credentials: &Credentials,
    scope: Scope<'_>,
    at: DateTime<Utc>,
) -> Result<Vec<(String, String)>, SignError> {
    let url = url::Url::parse(req.url).map_err(|_| SignError::InvalidUrl(req.url.into()))?;
    let host = match (url.host_str(), url.port()) {
        (Some(host), Some(port)) => format!("{host}:{port}"),
        (Some(host), None) => host.to_string(),
        (None, _) => return Err(SignError::InvalidUrl(req.url.into())),
    };
    let amz_date = at.format("%Y%m%dT%H%M%SZ").to_string();
    let mut added = vec![("X-Amz-Date".to_string(), amz_date.clone())];
    if let Some(token) = &credentials.session_token {
        added.push(("X-Amz-Security-Token".to_string(), token.clone()));
    }
    let mut signed: Vec<(&str, &str)> = vec![("host", &host)];
    signed.extend(req.headers.iter().copied());
    signed.extend(added.iter().map(|(k, v)| (k.as_str(), v.as_str())));
    let (canonical, signed_headers) = canonical_request(req.method, &url, &signed, req.payload);
    let date = &amz_date[..8];
    let credential_scope = format!("{date}/{}/{}/aws4_request", scope.region, scope.service);
    let to_sign = string_to_sign(&amz_date, &credential_scope, &canonical);
    let signature = signature(&credentials.secret_access_key, date, scope, &to_sign);
    added.push((
        "Authorization".to_string(),
        format!(
            "{ALGORITHM} Credential={}/{credential_scope}, SignedHeaders={signed_headers}, Signature={signature}",
            credentials.access_key_id
        ),
    ));
    Ok(added)
}

/// The canonical request and the `SignedHeaders` list.
fn canonical_request(
    method: &str,
    url: &url::Url,
    headers: &[(&str, &str)],
    payload: &[u8],
) -> (String, String) {
    let mut named: Vec<(String, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        let name = name.trim().to_ascii_lowercase();
        // Values are trimmed and inner runs of spaces collapsed; repeated headers are
        // joined with commas, in the order given.
        let value = value.split_whitespace().collect::<Vec<_>>().join(" ");
        match named.iter_mut().find(|(n, _)| *n == name) {
            Some((_, joined)) => {
                joined.push(',');
                joined.push_str(&value);
            }
            None => named.push((name, value)),
        }
    }
    named.sort_by(|a, b| a.0.cmp(&b.0));
    let canonical_headers: String = named.iter().map(|(n, v)| format!("{n}:{v}\n")).collect();
    let signed_headers = named
        .iter()
        .map(|(n, _)| n.as_str())
        .collect::<Vec<_>>()
        .join(";");
    let canonical = format!(
        "{method}\n{}\n{}\n{canonical_headers}\n{signed_headers}\n{}",
        canonical_uri(url),
        canonical_query(url),
        base16ct::lower::encode_string(&Sha256::digest(payload)),
    );
    (canonical, signed_headers)
}

/// The path with dot segments resolved (the URL parser does that), empty segments
/// dropped, and each segment URI-encoded once.
fn canonical_uri(url: &url::Url) -> String {
    let path = url.path();
    let segments: Vec<String> = path
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|s| {
            let raw = percent_decode_str(s).decode_utf8_lossy();
            utf8_percent_encode(&raw, UNRESERVED).to_string()
        })
        .collect();
    let mut out = format!("/{}", segments.join("/"));
    if !segments.is_empty() && path.ends_with('/') {
        out.push('/');
    }
    out
}

/// Query parameters URI-encoded and sorted by name, then value.
fn canonical_query(url: &url::Url) -> String {
    let mut pairs: Vec<(String, String)> = url
        .query_pairs()
        .map(|(k, v)| {
            (
                utf8_percent_encode(&k, UNRESERVED).to_string(),
                utf8_percent_encode(&v, UNRESERVED).to_string(),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

fn string_to_sign(amz_date: &str, credential_scope: &str, canonical_request: &str) -> String {
    format!(
        "{ALGORITHM}\n{amz_date}\n{credential_scope}\n{}",
        base16ct::lower::encode_string(&Sha256::digest(canonical_request.as_bytes()))
    )
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key)
        .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
    mac.update(data.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

/// Hex HMAC-SHA256 of the string to sign under the key derived from the secret, the date,
/// the region and the service.
fn signature(secret: &str, date: &str, scope: Scope<'_>, string_to_sign: &str) -> String {
    let k_date = hmac(format!("AWS4{secret}").as_bytes(), date);
    let k_region = hmac(&k_date, scope.region);
    let k_service = hmac(&k_region, scope.service);
    let k_signing = hmac(&k_service, "aws4_request");
    base16ct::lower::encode_string(&hmac(&k_signing, string_to_sign))
}

#[cfg(test)]
mod tests {
    //! Vectors from AWS's Signature Version 4 test suite (`aws-sig-v4-test-suite`, once at
    //! https://docs.aws.amazon.com/general/latest/gr/signature-v4-test-suite.html, kept in
    //! https://github.com/awslabs/aws-c-auth/tree/main/tests/aws-signing-test-suite): region
    //! `us-east-1`, service `service`, key `AKIDEXAMPLE`, time 20150830T123600Z. For each:
    //! the canonical request (`.creq`), the string to sign (`.sts`) and the `Authorization`
    //! header (`.authz`).

    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
    const SCOPE: Scope<'static> = Scope {
        region: "us-east-1",
        service: "service",
    };
    const CREDENTIAL_SCOPE: &str = "20150830/us-east-1/service/aws4_request";
    const EMPTY_SHA256: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

    fn at() -> DateTime<Utc> {
        DateTime::from_timestamp(1_440_938_160, 0).expect("2015-08-30T12:36:00Z")
    }

    fn credentials(token: Option<&str>) -> Credentials {
        Credentials {
            access_key_id: "AKIDEXAMPLE".into(),
            secret_access_key: SECRET.into(),
            session_token: token.map(str::to_owned),
        }
    }

    struct Vector<'a> {
        name: &'static str,
        method: &'static str,
        url: &'static str,
        headers: &'static [(&'static str, &'static str)],
        body: &'static str,
        creq: &'a str,
        sts_hash: &'static str,
        authz: &'static str,
    }

    fn check(v: &Vector<'_>, token: Option<&str>) {
        let url = url::Url::parse(v.url).expect("url");
        let mut headers = vec![("Host", "example.amazonaws.com")];
        headers.extend(v.headers.iter().copied());
        headers.push(("X-Amz-Date", "20150830T123600Z"));
        if let Some(t) = token {
            headers.push(("X-Amz-Security-Token", t));
        }
        let (creq, _) = canonical_request(v.method, &url, &headers, v.body.as_bytes());
        assert_eq!(creq, v.creq, "{}: canonical request", v.name);
        let sts = string_to_sign("20150830T123600Z", CREDENTIAL_SCOPE, &creq);
        assert_eq!(
            sts,
            format!(
                "AWS4-HMAC-SHA256\n20150830T123600Z\n{CREDENTIAL_SCOPE}\n{}",
                v.sts_hash
            ),
            "{}: string to sign",
            v.name
        );
        let added = sign(
            &Unsigned {
                method: v.method,
                url: v.url,
                headers: v.headers,
                payload: v.body.as_bytes(),
            },
            &credentials(token),
            SCOPE,
            at(),
        )
        .expect("sign");
        let authz = added
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.as_str());
        assert_eq!(authz, Some(v.authz), "{}: Authorization", v.name);
        assert!(added.contains(&("X-Amz-Date".into(), "20150830T123600Z".into())));
    }

    const VECTORS: &[Vector<'static>] = &[
        Vector {
            name: "get-vanilla",
            method: "GET",
            url: "https://example.amazonaws.com/",
            headers: &[],
            body: "",
            creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-vanilla-query-order-key-case",
            method: "GET",
            url: "https://example.amazonaws.com/?Param2=value2&Param1=value1",
            headers: &[],
            body: "",
            creq: "GET\n/\nParam1=value1&Param2=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "816cd5b414d056048ba4f7c5386d6e0533120fb1fcfa93762cf0fc39e2cf19e0",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
        },
        Vector {
            name: "get-vanilla-query-order-key",
            method: "GET",
            url: "https://example.amazonaws.com/?Param1=value2&Param1=Value1",
            headers: &[],
            body: "",
            creq: "GET\n/\nParam1=Value1&Param1=value2\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "704b4cef673542d84cdff252633f065e8daeba5f168b77116f8b1bcaf3d38f89",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=eedbc4e291e521cf13422ffca22be7d2eb8146eecf653089df300a15b2382bd1",
        },
        Vector {
            name: "get-vanilla-utf8-query",
            method: "GET",
            url: "https://example.amazonaws.com/?ሴ=bar",
            headers: &[],
            body: "",
            creq: "GET\n/\n%E1%88%B4=bar\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "eb30c5bed55734080471a834cc727ae56beb50e5f39d1bff6d0d38cb192a7073",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=2cdec8eed098649ff3a119c94853b13c643bcf08f8b0a1d91e12c9027818dd04",
        },
        Vector {
            name: "get-header-value-trim",
            method: "GET",
            url: "https://example.amazonaws.com/",
            headers: &[("My-Header1", " value1"), ("My-Header2", " \"a   b   c\"")],
            body: "",
            creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value1\nmy-header2:\"a b c\"\nx-amz-date:20150830T123600Z\n\nhost;my-header1;my-header2;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "a726db9b0df21c14f559d0a978e563112acb1b9e05476f0a6a1c7d68f28605c7",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;my-header2;x-amz-date, Signature=acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736",
        },
        Vector {
            name: "get-header-value-order",
            method: "GET",
            url: "https://example.amazonaws.com/",
            headers: &[
                ("My-Header1", "value4"),
                ("My-Header1", "value1"),
                ("My-Header1", "value3"),
                ("My-Header1", "value2"),
            ],
            body: "",
            creq: "GET\n/\n\nhost:example.amazonaws.com\nmy-header1:value4,value1,value3,value2\nx-amz-date:20150830T123600Z\n\nhost;my-header1;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "31ce73cd3f3d9f66977ad3dd957dc47af14df92fcd8509f59b349e9137c58b86",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;my-header1;x-amz-date, Signature=08c7e5a9acfcfeb3ab6b2185e75ce8b1deb5e634ec47601a50643f830c755c01",
        },
        Vector {
            name: "post-vanilla-query",
            method: "POST",
            url: "https://example.amazonaws.com/?Param1=value1",
            headers: &[],
            body: "",
            creq: "POST\n/\nParam1=value1\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11",
        },
        Vector {
            name: "post-x-www-form-urlencoded",
            method: "POST",
            url: "https://example.amazonaws.com/",
            headers: &[("Content-Type", "application/x-www-form-urlencoded")],
            body: "Param1=value1",
            creq: "POST\n/\n\ncontent-type:application/x-www-form-urlencoded\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\ncontent-type;host;x-amz-date\n9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e",
            sts_hash: "42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a",
        },
        Vector {
            name: "get-space (normalize-path)",
            method: "GET",
            url: "https://example.amazonaws.com/example space/",
            headers: &[],
            body: "",
            creq: "GET\n/example%20space/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "63ee75631ed7234ae61b5f736dfc7754cdccfedbff4b5128a915706ee9390d86",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=652487583200325589f1fba4c7e578f72c47cb61beeca81406b39ddec1366741",
        },
        Vector {
            name: "get-utf8",
            method: "GET",
            url: "https://example.amazonaws.com/ሴ",
            headers: &[],
            body: "",
            creq: "GET\n/%E1%88%B4\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "2a0a97d02205e45ce2e994789806b19270cfbbb0921b278ccf58f5249ac42102",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=8318018e0b0f223aa2bbf98705b62bb787dc9c0e678f255a891fd03141be5d85",
        },
        Vector {
            name: "get-relative-relative (normalize-path)",
            method: "GET",
            url: "https://example.amazonaws.com/example1/example2/../..",
            headers: &[],
            body: "",
            creq: "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "bb579772317eb040ac9ed261061d46c1f17a8133879d6129b6e1c25292927e63",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
        },
        Vector {
            name: "get-slashes (normalize-path)",
            method: "GET",
            url: "https://example.amazonaws.com//example//",
            headers: &[],
            body: "",
            creq: "GET\n/example/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
            sts_hash: "cb96b4ac96d501f7c5c15bc6d67b3035061cfced4af6585ad927f7e6c985c015",
            authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=9a624bd73a37c9a373b5312afbebe7a714a789de108f0bdfe846570885f57e84",
        },
    ];

    #[test]
    fn aws_test_suite_vectors() {
        for v in VECTORS {
            check(v, None);
        }
    }

    /// `post-sts-token/post-sts-header-before`: temporary credentials sign their token.
    #[test]
    fn aws_test_suite_session_token() {
        const TOKEN: &str = "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA==";
        let creq = format!(
            "POST\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\nx-amz-security-token:{TOKEN}\n\nhost;x-amz-date;x-amz-security-token\n{EMPTY_SHA256}"
        );
        check(
            &Vector {
                name: "post-sts-header-before",
                method: "POST",
                url: "https://example.amazonaws.com/",
                headers: &[],
                body: "",
                creq: &creq,
                sts_hash: "c237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6",
                authz: "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;x-amz-security-token, Signature=85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead",
            },
            Some(TOKEN),
        );
        let added = sign(
            &Unsigned {
                method: "POST",
                url: "https://example.amazonaws.com/",
                headers: &[],
                payload: b"",
            },
            &credentials(Some(TOKEN)),
            SCOPE,
            at(),
        )
        .expect("sign");
        assert!(added.contains(&("X-Amz-Security-Token".into(), TOKEN.into())));
    }

    #[test]
    fn ports_are_signed_and_bad_urls_refused() {
        // The Host a client sends for a non-default port carries the port, so the
        // signature must cover it too.
        let url = "http://127.0.0.1:8443/v2/email/account";
        let added = sign(
            &Unsigned {
                method: "GET",
                url,
                headers: &[],
                payload: b"",
            },
            &credentials(None),
            SCOPE,
            at(),
        )
        .expect("sign");
        let parsed = url::Url::parse(url).expect("url");
        let (creq, _) = canonical_request(
            "GET",
            &parsed,
            &[
                ("host", "127.0.0.1:8443"),
                ("x-amz-date", "20150830T123600Z"),
            ],
            b"",
        );
        assert!(creq.contains("host:127.0.0.1:8443\n"), "{creq}");
        let expected = signature(
            SECRET,
            "20150830",
            SCOPE,
            &string_to_sign("20150830T123600Z", CREDENTIAL_SCOPE, &creq),
        );
        let authz = added
            .iter()
            .find(|(k, _)| k == "Authorization")
            .map(|(_, v)| v.as_str())
            .unwrap_or_default();
        assert!(authz.ends_with(&format!("Signature={expected}")), "{authz}");

        let err = sign(
            &Unsigned {
                method: "GET",
                url: "not a url",
                headers: &[],
                payload: b"",
            },
            &credentials(None),
            SCOPE,
            at(),
        );
        assert!(matches!(err, Err(SignError::InvalidUrl(_))));
        assert!(!format!("{:?}", credentials(None)).contains(SECRET));
    }
}
