//! SNS tests: the Publish form, truncation and FIFO IDs; sends to a local
//! service that answers as SNS and STS do (XML, error documents, 5xx,
//! garbage); credentials from the config, the environment, the shared
//! file and an assumed role; secrets kept out of every error.

use std::collections::HashMap;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::config::{Secret, SigV4Config};
use crate::integrations::aws::AwsEnv;
use crate::integrations::test_support::{LocalService, alert, install_crypto, labels};

const SECRET: &str = "wJalrXUtnFEMI-SECRET-KEY";

fn t(s: i64) -> DateTime<Utc> {
    Utc.timestamp_opt(1_700_000_000 + s, 0).unwrap()
}

fn notification() -> Notification {
    Notification {
        receiver: "aws".into(),
        group_key: "{}:{alertname=\"DiskFull\"}".into(),
        group_labels: labels(&[("alertname", "DiskFull")]),
        alerts: vec![alert(
            &[("alertname", "DiskFull"), ("instance", "db1")],
            &[("summary", "disk is full")],
            t(0),
            t(600),
        )],
        external_url: "http://am:9093".into(),
        now: t(100),
        reason: None,
        route_labels: Default::default(),
        fencing_token: None,
    }
}

fn config(api_url: Option<&str>) -> SnsConfig {
    SnsConfig {
        send_resolved: true,
        http_config: Default::default(),
        api_url: api_url.map(str::to_owned),
        sigv4: SigV4Config {
            region: Some("eu-west-1".into()),
            access_key: Some("AKIDEXAMPLE".into()),
            secret_key: Some(Secret::new(SECRET)),
            ..SigV4Config::default()
        },
        topic_arn: Some("arn:aws:sns:eu-west-1:123456789012:alerts".into()),
        phone_number: None,
        target_arn: None,
        subject: None,
        message: None,
        attributes: Default::default(),
        use_aws_http_client: false,
    }
}

fn sns(config: SnsConfig, env: AwsEnv) -> (Sns, Arc<Metrics>) {
    install_crypto();
    let metrics = Arc::new(Metrics::new());
    let templates = Arc::new(Templates::builtin());
    (
        Sns::new(config, templates, metrics.clone(), env).unwrap(),
        metrics,
    )
}

fn field<'a>(p: &'a Publish, name: &str) -> Option<&'a str> {
    p.fields
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
}

const PUBLISHED: &str = "<PublishResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><PublishResult><MessageId>94f20ce6</MessageId></PublishResult></PublishResponse>";

fn xml_error(code: &str, message: &str) -> String {
    format!(
        "<ErrorResponse xmlns=\"http://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>x</RequestId></ErrorResponse>"
    )
}

#[test]
fn publish_renders_alertmanagers_default_subject_and_message() {
    let (n, _) = sns(config(None), AwsEnv::default());
    let p = n.publish(&notification());
    assert_eq!(field(&p, "Action"), Some("Publish"));
    assert_eq!(field(&p, "Version"), Some("2010-03-31"));
    assert_eq!(
        field(&p, "TopicArn"),
        Some("arn:aws:sns:eu-west-1:123456789012:alerts")
    );
    assert_eq!(field(&p, "Subject"), Some("[FIRING:1] DiskFull (db1)"));
    // Alertmanager's sns.default.message, byte for byte.
    assert_eq!(
        field(&p, "Message"),
        Some(
            "disk is full\n\nAlerts Firing:\nLabels:\n - alertname = DiskFull\n - instance = db1\nAnnotations:\n - summary = disk is full\nSource: \n\n\n\n"
        )
    );
    assert_eq!(field(&p, "MessageDeduplicationId"), None);
    assert_eq!(p.endpoint, None);
}

#[test]
fn a_fifo_topic_gets_the_group_key_hash_as_ids() {
    let mut c = config(None);
    c.topic_arn = Some("arn:aws:sns:eu-west-1:1:alerts.fifo".into());
    let (n, _) = sns(c, AwsEnv::default());
    let p = n.publish(&notification());
    let hash = group_key_hash("{}:{alertname=\"DiskFull\"}");
    assert_eq!(hash.len(), 64);
    assert_eq!(field(&p, "MessageDeduplicationId"), Some(hash.as_str()));
    assert_eq!(field(&p, "MessageGroupId"), Some(hash.as_str()));
    // The SHA-256 of "abc", the standard test vector.
    assert_eq!(
        group_key_hash("abc"),
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    );
}

#[test]
fn an_sms_is_cut_to_1600_bytes_and_marked_truncated() {
    let mut c = config(None);
    c.topic_arn = None;
    c.phone_number = Some("+15555550100".into());
    c.message = Some("{{ range $i := (list 1 2 3) }}é{{ end }}".into());
    let long = "é".repeat(1000); // 2000 bytes
    c.message = Some(long);
    c.attributes
        .insert("team".into(), "{{ .GroupLabels.alertname }}".into());
    let (n, metrics) = sns(c, AwsEnv::default());
    let p = n.publish(&notification());
    let message = field(&p, "Message").unwrap();
    assert_eq!(message.len(), 1600);
    assert_eq!(field(&p, "PhoneNumber"), Some("+15555550100"));
    let attrs: HashMap<&str, &str> = (1..=2)
        .map(|i| {
            (
                field(&p, &format!("MessageAttributes.entry.{i}.Name")).unwrap(),
                field(
                    &p,
                    &format!("MessageAttributes.entry.{i}.Value.StringValue"),
                )
                .unwrap(),
            )
        })
        .collect();
    assert_eq!(attrs["truncated"], "true");
    assert_eq!(attrs["team"], "DiskFull");
    let text = metrics.encode();
    assert!(
        text.contains(
            r#"klaxon_notification_truncations_total{integration="sns",field="message"} 1"#
        ),
        "{text}"
    );
}

#[tokio::test]
async fn a_publish_is_signed_and_sent_to_the_endpoint() {
    let svc = LocalService::start(vec![], (200, vec![], PUBLISHED.into())).await;
    let (n, _) = sns(config(Some(&format!("{}/", svc.base))), AwsEnv::default());
    n.notify(&notification()).await.unwrap();
    let got = svc.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!(r.method, "POST");
    assert_eq!(r.target, "/");
    assert_eq!(
        r.header("content-type"),
        Some("application/x-www-form-urlencoded; charset=utf-8")
    );
    let auth = r.header("authorization").unwrap();
    assert!(
        auth.starts_with("AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"),
        "{auth}"
    );
    assert!(auth.contains("/eu-west-1/sns/aws4_request"), "{auth}");
    assert!(auth.contains("SignedHeaders=") && auth.contains("Signature="));
    assert!(r.header("x-amz-date").is_some());
    assert!(!auth.contains(SECRET));
    let form: HashMap<String, String> = url::form_urlencoded::parse(&r.body).into_owned().collect();
    assert_eq!(form["Action"], "Publish");
    assert_eq!(form["Subject"], "[FIRING:1] DiskFull (db1)");
}

#[tokio::test]
async fn answers_are_classified_as_alertmanager_does() {
    let cases: Vec<(u16, String, bool, &str)> = vec![
        (
            400,
            xml_error("InvalidParameter", "Invalid parameter: TopicArn"),
            false,
            "Invalid parameter: TopicArn (InvalidParameter)",
        ),
        (
            403,
            xml_error(
                "SignatureDoesNotMatch",
                "The request signature we calculated does not match",
            ),
            false,
            "SignatureDoesNotMatch",
        ),
        (500, xml_error("InternalError", "oops"), true, "oops"),
        (
            429,
            xml_error("Throttling", "Rate exceeded"),
            true,
            "Rate exceeded",
        ),
        (
            502,
            "<html><body>Bad Gateway</body></html>".into(),
            true,
            "502",
        ),
        (503, String::new(), true, "503"),
    ];
    for (status, body, retryable, text) in cases {
        let svc = LocalService::start(vec![], (status, vec![], body)).await;
        let (n, _) = sns(config(Some(&format!("{}/", svc.base))), AwsEnv::default());
        let err = n.notify(&notification()).await.unwrap_err();
        assert_eq!(err.is_retryable(), retryable, "{status}: {err}");
        assert_eq!(err.status(), Some(status));
        let shown = err.to_string();
        assert!(shown.contains(text), "{status}: {shown}");
        assert!(!shown.contains(SECRET));
    }
}

#[tokio::test]
async fn a_hung_service_is_a_bounded_retryable_failure() {
    // A listener that accepts and never answers.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((sock, _)) = listener.accept().await {
            held.push(sock);
        }
    });
    let mut c = config(Some(&format!("http://{addr}/")));
    c.http_config = Default::default();
    install_crypto();
    let metrics = Arc::new(Metrics::new());
    let n = Sns {
        client: crate::integrations::http::HttpClient::new(
            &c.http_config,
            Some(std::time::Duration::from_millis(300)),
        )
        .unwrap(),
        chain: CredentialChain::new(c.sigv4.clone(), AwsEnv::default()),
        config: c,
        templates: Arc::new(Templates::builtin()),
        metrics,
    };
    let err = n.notify(&notification()).await.unwrap_err();
    assert!(err.is_retryable(), "{err}");
}

#[tokio::test]
async fn a_role_is_assumed_once_and_its_session_signs_the_publish() {
    let sts_answer = "<AssumeRoleResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><AssumeRoleResult><Credentials><AccessKeyId>ASIAROLE</AccessKeyId><SecretAccessKey>role-SECRET</SecretAccessKey><SessionToken>SESSION-TOKEN</SessionToken><Expiration>2999-01-01T00:00:00Z</Expiration></Credentials></AssumeRoleResult></AssumeRoleResponse>";
    let sts = LocalService::start(vec![], (200, vec![], sts_answer.into())).await;
    let svc = LocalService::start(vec![], (200, vec![], PUBLISHED.into())).await;
    let mut c = config(Some(&format!("{}/", svc.base)));
    c.sigv4.role_arn = Some("arn:aws:iam::123456789012:role/alerts".into());
    c.sigv4.external_id = Some("ext-1".into());
    let env = AwsEnv {
        vars: [("AWS_ENDPOINT_URL_STS".to_owned(), format!("{}/", sts.base))].into(),
    };
    let (n, _) = sns(c, env);
    n.notify(&notification()).await.unwrap();
    n.notify(&notification()).await.unwrap();
    let calls = sts.received();
    assert_eq!(calls.len(), 1, "the role's credentials are cached");
    let form: HashMap<String, String> = url::form_urlencoded::parse(&calls[0].body)
        .into_owned()
        .collect();
    assert_eq!(form["Action"], "AssumeRole");
    assert_eq!(form["RoleArn"], "arn:aws:iam::123456789012:role/alerts");
    assert_eq!(form["ExternalId"], "ext-1");
    let sts_auth = calls[0].header("authorization").unwrap();
    assert!(sts_auth.contains("Credential=AKIDEXAMPLE/") && sts_auth.contains("/sts/aws4_request"));
    let publish = &svc.received()[0];
    let auth = publish.header("authorization").unwrap();
    assert!(auth.contains("Credential=ASIAROLE/"), "{auth}");
    assert_eq!(
        publish.header("x-amz-security-token"),
        Some("SESSION-TOKEN")
    );
}

#[tokio::test]
async fn sts_refusing_the_role_fails_without_leaking_keys() {
    let sts = LocalService::start(
        vec![],
        (
            403,
            vec![],
            xml_error(
                "AccessDenied",
                "User is not authorized to perform: sts:AssumeRole",
            ),
        ),
    )
    .await;
    let mut c = config(Some("http://127.0.0.1:9/"));
    c.sigv4.role_arn = Some("arn:aws:iam::1:role/r".into());
    let env = AwsEnv {
        vars: [("AWS_ENDPOINT_URL_STS".to_owned(), format!("{}/", sts.base))].into(),
    };
    let (n, _) = sns(c, env);
    let err = n.notify(&notification()).await.unwrap_err().to_string();
    assert!(
        err.contains("STS AssumeRole") && err.contains("AccessDenied"),
        "{err}"
    );
    assert!(
        !err.contains(SECRET) && !err.contains("AKIDEXAMPLE"),
        "{err}"
    );
}

#[tokio::test]
async fn credentials_and_region_come_from_the_environment_and_shared_files() {
    let svc = LocalService::start(vec![], (200, vec![], PUBLISHED.into())).await;
    let home = tempfile::tempdir().unwrap();
    std::fs::create_dir(home.path().join(".aws")).unwrap();
    std::fs::write(
        home.path().join(".aws/credentials"),
        "[default]\naws_access_key_id = AKIDDEFAULT\naws_secret_access_key = s\n[ops]\naws_access_key_id = AKIDOPS\naws_secret_access_key = s2\n",
    )
    .unwrap();
    std::fs::write(
        home.path().join(".aws/config"),
        "[profile ops]\nregion = ap-south-1\n",
    )
    .unwrap();
    let home_var = ("HOME".to_owned(), home.path().display().to_string());
    let bare = |profile: Option<&str>| {
        let mut c = config(Some(&format!("{}/", svc.base)));
        c.sigv4 = SigV4Config {
            profile: profile.map(str::to_owned),
            ..SigV4Config::default()
        };
        c
    };
    // The named profile: its keys and its region.
    let (n, _) = sns(
        bare(Some("ops")),
        AwsEnv {
            vars: [home_var.clone()].into(),
        },
    );
    n.notify(&notification()).await.unwrap();
    let auth = svc.received()[0]
        .header("authorization")
        .unwrap()
        .to_owned();
    assert!(
        auth.contains("Credential=AKIDOPS/") && auth.contains("/ap-south-1/sns/"),
        "{auth}"
    );
    // The environment's keys win over the default profile.
    let (n, _) = sns(
        bare(None),
        AwsEnv {
            vars: [
                home_var.clone(),
                ("AWS_ACCESS_KEY_ID".to_owned(), "AKIDENV".to_owned()),
                ("AWS_SECRET_ACCESS_KEY".to_owned(), "e".to_owned()),
                ("AWS_REGION".to_owned(), "us-east-2".to_owned()),
            ]
            .into(),
        },
    );
    n.notify(&notification()).await.unwrap();
    let auth = svc.received()[1]
        .header("authorization")
        .unwrap()
        .to_owned();
    assert!(
        auth.contains("Credential=AKIDENV/") && auth.contains("/us-east-2/"),
        "{auth}"
    );
    // No region anywhere: Alertmanager's message.
    let (n, _) = sns(bare(None), AwsEnv::default());
    let err = n.notify(&notification()).await.unwrap_err().to_string();
    assert!(
        err.contains("region not configured in sns.sigv4.region or in default credentials chain"),
        "{err}"
    );
}

#[test]
fn config_errors_are_alertmanagers() {
    use crate::config::Config;
    let load = |sns: &str| {
        Config::load_str(
            &format!("route:\n  receiver: a\nreceivers:\n- name: a\n  sns_configs:\n  - {sns}\n"),
            std::path::Path::new("am.yml"),
            &|_| None,
        )
    };
    let c = load("topic_arn: arn:aws:sns:us-east-1:1:t").unwrap();
    let s = &c.receivers[0].sns_configs[0];
    assert!(s.send_resolved);
    for (yaml, field, text) in [
        (
            "subject: x",
            "receivers[0].sns_configs[0]",
            "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
        ),
        (
            "{topic_arn: a, target_arn: b}",
            "receivers[0].sns_configs[0]",
            "must provide either a Target ARN, Topic ARN, or Phone Number for SNS config",
        ),
        (
            "{topic_arn: a, sigv4: {access_key: AK}}",
            "receivers[0].sns_configs[0].sigv4",
            "must provide a AWS SigV4 Access key and Secret Key if credentials are specified in the SigV4 config",
        ),
        (
            "{topic_arn: a, sigv4: {external_id: x}}",
            "receivers[0].sns_configs[0].sigv4.external_id",
            "external_id can only be used with role_arn",
        ),
        (
            "{topic_arn: a, message: '{{ .Nope'}",
            "receivers[0].sns_configs[0].message",
            "",
        ),
    ] {
        let err = load(yaml).unwrap_err();
        assert_eq!(err.field.as_deref(), Some(field), "{yaml}: {err}");
        assert!(err.message.contains(text), "{yaml}: {err}");
    }
    // Alertmanager accepts all three targets at once (its check is an odd
    // chain of inequalities); so does klaxon.
    load("{topic_arn: a, target_arn: b, phone_number: c}").unwrap();
    // The secret key is never shown.
    let c = load("{topic_arn: a, sigv4: {access_key: AK, secret_key: SHHH}}").unwrap();
    assert!(!c.original().contains("SHHH"));
}
