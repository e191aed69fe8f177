//! The sandbox through real HTTP on loopback: every send rule, auth, rate limit, dedupe,
//! faults, the JSONL log, the lookups and fixtures from YAML.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::time::{Duration, Instant};

use campaign::heymarket::auth::{Credentials, sign};
use campaign::heymarket::secret::Secret;
use campaign::sandbox::{FaultConfig, Fixtures, Sandbox, SandboxConfig, read_log};
use serde_json::{Value, json};

/// A running sandbox and a client that signs a fresh token per request.
struct Harness {
    sandbox: Sandbox,
    client: reqwest::Client,
}

/// A status, the `X-Request-Id` and the JSON body of one answer.
#[derive(Debug)]
struct Answer {
    status: u16,
    request_id: Option<String>,
    retry_after: Option<String>,
    body: Value,
}

impl Harness {
    async fn start(config: SandboxConfig) -> Harness {
        let addr: SocketAddr = "127.0.0.1:0".parse().expect("addr");
        let sandbox = Sandbox::start(config, addr).await.expect("sandbox starts");
        Harness {
            sandbox,
            client: reqwest::Client::new(),
        }
    }

    async fn default() -> Harness {
        Harness::start(SandboxConfig::new()).await
    }

    /// `Bearer <jwt>` issued `offset` seconds from now.
    fn bearer(&self, offset: i64) -> String {
        let Credentials::Secret { id, key } = self.sandbox.credentials() else {
            panic!("the sandbox hands out an API Secret");
        };
        let iat = now() + offset;
        format!("Bearer {}", sign(&id, &key, iat).expect("sign").expose())
    }

    async fn send(&self, body: Value) -> Answer {
        self.call("POST", "/v1/message/send", Some(body), Some(self.bearer(0)))
            .await
    }

    async fn get(&self, path: &str) -> Answer {
        self.call("GET", path, None, Some(self.bearer(0))).await
    }

    async fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        authorization: Option<String>,
    ) -> Answer {
        let result = self.try_call(method, path, body, authorization).await;
        result.expect("the sandbox answers")
    }

    async fn try_call(
        &self,
        method: &str,
        path: &str,
        body: Option<Value>,
        authorization: Option<String>,
    ) -> reqwest::Result<Answer> {
        let url = format!("{}{path}", self.sandbox.base_url());
        let method = reqwest::Method::from_bytes(method.as_bytes()).expect("method");
        let mut request = self.client.request(method, url);
        if let Some(body) = body {
            request = request.json(&body);
        }
        if let Some(authorization) = authorization {
            request = request.header("Authorization", authorization);
        }
        let response = request.send().await?;
        let header = |name: &str| {
            let value = response.headers().get(name)?;
            value.to_str().ok().map(str::to_owned)
        };
        let (request_id, retry_after) = (header("x-request-id"), header("retry-after"));
        let status = response.status().as_u16();
        let text = response.text().await?;
        let body = serde_json::from_str(&text).unwrap_or(Value::String(text));
        Ok(Answer {
            status,
            request_id,
            retry_after,
            body,
        })
    }
}

fn now() -> i64 {
    jiff::Timestamp::now().as_second()
}

/// A valid individual send; `patch` overrides fields (a `null` removes one).
fn send_body(patch: Value) -> Value {
    let mut body = json!({
        "inbox_id": 42, "creator_id": 8, "phone_number": "15105550101", "text": "Hello"
    });
    let map = body.as_object_mut().expect("object");
    for (key, value) in patch.as_object().expect("patch object") {
        if value.is_null() {
            map.remove(key);
        } else {
            map.insert(key.clone(), value.clone());
        }
    }
    body
}

fn faulty(faults: FaultConfig) -> SandboxConfig {
    SandboxConfig {
        faults,
        ..SandboxConfig::new()
    }
}

#[tokio::test]
async fn a_valid_send_is_accepted_recorded_and_named() {
    let harness = Harness::default().await;

    let answer = harness.send(send_body(json!({"local_id": "m-1"}))).await;

    assert_eq!(answer.status, 200, "{answer:?}");
    assert_eq!(answer.body["id"], 1);
    assert_eq!(answer.body["queued"], true);
    assert!(
        answer.body["date"]
            .as_str()
            .is_some_and(|d| d.ends_with('Z'))
    );
    assert!(answer.body["convo_id"].is_u64());
    assert!(answer.body.get("gallery_url").is_none());
    let messages = harness.sandbox.messages();
    assert_eq!(messages.len(), 1);
    assert_eq!(Some(messages[0].request_id.clone()), answer.request_id);
    assert_eq!(messages[0].local_id.as_deref(), Some("m-1"));
    assert_eq!(messages[0].to_request().text.as_deref(), Some("Hello"));
    assert_eq!(harness.sandbox.request_count(), 1);
}

#[tokio::test]
async fn every_target_family_and_content_kind_is_accepted() {
    let harness = Harness::default().await;
    let bodies = [
        json!({"phone_number": null, "chat_id": 9001}),
        json!({"phone_number": null, "chat_id": 9002, "private": true}),
        json!({"phone_number": null, "list_id": 501, "local_id": "vip-1"}),
        json!({"phone_number": null, "targets": ["15105550101", "15105550102"]}),
        json!({"text": null, "template_id": 123}),
        json!({"text": null, "media_url": "https://example.com/a.png"}),
    ];
    for body in bodies {
        let answer = harness.send(send_body(body.clone())).await;
        assert_eq!(answer.status, 200, "{body} → {answer:?}");
    }
    let mms = harness.sandbox.messages().len() as u64;
    let answer = harness
        .send(send_body(json!({"media_url": "https://example.com/b.png"})))
        .await;
    assert_eq!(answer.body["id"], mms + 1);
    assert!(answer.body["gallery_url"].is_string(), "{answer:?}");
}

#[tokio::test]
async fn malformed_sends_are_400_naming_the_field() {
    let harness = Harness::default().await;
    let cases = [
        (json!({"inbox_id": null}), "inbox_id"),
        (json!({"creator_id": null}), "creator_id"),
        (json!({"phone_number": null}), "phone_number"),
        (json!({"chat_id": 9001}), "chat_id"),
        (json!({"list_id": 501, "local_id": "a"}), "list_id"),
        (json!({"phone_number": null, "list_id": 501}), "local_id"),
        (json!({"text": null}), "text"),
        (json!({"text": "  "}), "text"),
        (json!({"template_id": 123}), "template_id"),
        (json!({"phone_number": "+15105550101"}), "phone_number"),
        (json!({"phone_number": "5105550101x"}), "phone_number"),
        (json!({"phone_number": "151055501011"}), "phone_number"),
        (json!({"phone_number": "1234567"}), "phone_number"),
        (
            json!({"phone_number": null, "targets": ["15105550101", "+1"]}),
            "targets",
        ),
        (json!({"private": true}), "private"),
        (json!({"inbox_id": 99}), "inbox_id"),
        (json!({"creator_id": 99}), "creator_id"),
        (
            json!({"phone_number": null, "list_id": 9, "local_id": "a"}),
            "list_id",
        ),
        (json!({"text": null, "template_id": 9}), "template_id"),
        (json!({"phone_number": null, "chat_id": 1}), "chat_id"),
        (json!({"media_url": "not a url"}), "media_url"),
        (json!({"subject": "unknown field"}), "subject"),
        (json!({"inbox_id": "42"}), "inbox_id"),
    ];
    for (patch, field) in cases {
        let answer = harness.send(send_body(patch.clone())).await;
        assert_eq!(answer.status, 400, "{patch} → {answer:?}");
        assert_eq!(answer.body["error"], "bad_data", "{patch}");
        assert_eq!(answer.body["field"], field, "{patch} → {answer:?}");
        assert!(answer.request_id.is_some());
    }
    assert!(harness.sandbox.messages().is_empty());
}

#[tokio::test]
async fn a_body_without_a_json_content_type_is_400() {
    let harness = Harness::default().await;
    let url = format!("{}/v1/message/send", harness.sandbox.base_url());

    let response = harness
        .client
        .post(url)
        .header("Authorization", harness.bearer(0))
        .body(send_body(json!({})).to_string())
        .send()
        .await
        .expect("answer");

    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("json");
    assert_eq!(body["field"], "content-type");
}

#[tokio::test]
async fn not_allowed_sends_are_403_with_the_reason() {
    let harness = Harness::default().await;
    let group = json!(["15105550101", "15105550102"]);
    let cases = [
        (json!({"creator_id": 9}), "creator_id", "not a member"),
        (
            json!({"inbox_id": 43, "phone_number": null, "targets": group}),
            "targets",
            "toll-free",
        ),
        (
            json!({"phone_number": "15105550199"}),
            "phone_number",
            "unsubscribed",
        ),
        (
            json!({"phone_number": "15105550198"}),
            "phone_number",
            "blocked",
        ),
    ];
    for (patch, field, reason) in cases {
        let answer = harness.send(send_body(patch.clone())).await;
        assert_eq!(answer.status, 403, "{patch} → {answer:?}");
        assert_eq!(answer.body["error"], "denied");
        assert_eq!(answer.body["field"], field);
        let message = answer.body["message"].as_str().unwrap_or_default();
        assert!(message.contains(reason), "{message}");
    }
    assert!(harness.sandbox.messages().is_empty());
}

#[tokio::test]
async fn only_fresh_tokens_and_the_legacy_key_get_in() {
    let config = SandboxConfig {
        api_key: Some(Secret::new("legacy-team-key")),
        ..SandboxConfig::new()
    };
    let harness = Harness::start(config).await;
    let send = |authorization: Option<String>| {
        harness.call(
            "POST",
            "/v1/message/send",
            Some(send_body(json!({}))),
            authorization,
        )
    };

    assert_eq!(send(Some(harness.bearer(-290))).await.status, 200);
    assert_eq!(send(Some(harness.bearer(20))).await.status, 200);
    assert_eq!(
        send(Some("Bearer legacy-team-key".into())).await.status,
        200
    );

    let refused = [
        Some(harness.bearer(-301)),
        Some(harness.bearer(60)),
        Some("Bearer not-a-token".to_owned()),
        Some("legacy-team-key".to_owned()),
        Some(format!(
            "Bearer {}",
            sign("other", &Secret::new("x"), now())
                .expect("sign")
                .expose()
        )),
        None,
    ];
    for authorization in refused {
        let answer = send(authorization.clone()).await;
        assert_eq!(answer.status, 401, "{authorization:?}");
        assert_eq!(answer.body["error"], "unauthorized");
        assert!(answer.request_id.is_some());
    }
    assert_eq!(harness.sandbox.messages().len(), 3);
}

#[tokio::test]
async fn the_rate_limit_answers_429_with_retry_after() {
    let config = SandboxConfig {
        rate_limit_per_minute: Some(3),
        ..SandboxConfig::new()
    };
    let harness = Harness::start(config).await;

    for _ in 0..3 {
        assert_eq!(harness.get("/v1/team").await.status, 200);
    }
    let limited = harness.send(send_body(json!({}))).await;

    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["error"], "rate_limited");
    assert!(limited.request_id.is_some());
    let retry_after: u64 = limited
        .retry_after
        .expect("Retry-After")
        .parse()
        .expect("secs");
    assert!((55..=60).contains(&retry_after), "{retry_after}");
    assert!(harness.sandbox.messages().is_empty());
}

#[tokio::test]
async fn a_repeated_local_id_returns_the_original_when_dedupe_is_on() {
    let harness = Harness::default().await;
    let body = send_body(json!({"local_id": "once"}));

    let first = harness.send(body.clone()).await;
    let second = harness.send(body).await;

    assert_eq!(second.status, 200);
    assert_eq!(first.body, second.body);
    assert_eq!(harness.sandbox.messages().len(), 1);
}

#[tokio::test]
async fn a_repeated_local_id_sends_again_when_dedupe_is_off() {
    let config = SandboxConfig {
        dedupe_local_id: false,
        ..SandboxConfig::new()
    };
    let harness = Harness::start(config).await;
    let body = send_body(json!({"local_id": "twice"}));

    let first = harness.send(body.clone()).await;
    let second = harness.send(body).await;

    assert_ne!(first.body["id"], second.body["id"]);
    assert_eq!(harness.sandbox.messages().len(), 2);
}

#[tokio::test]
async fn drop_before_resets_the_connection_and_records_nothing() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("sent.jsonl");
    let config = SandboxConfig {
        log_path: Some(log.clone()),
        ..faulty(FaultConfig {
            drop_before_share: 1.0,
            ..FaultConfig::default()
        })
    };
    let harness = Harness::start(config).await;

    let result = harness
        .try_call(
            "POST",
            "/v1/message/send",
            Some(send_body(json!({}))),
            Some(harness.bearer(0)),
        )
        .await;

    let error = result.expect_err("no HTTP answer");
    assert!(error.status().is_none(), "{error:?}");
    assert!(harness.sandbox.messages().is_empty());
    assert!(read_log(&log).expect("log").is_empty());
    assert_eq!(
        harness.get("/v1/team").await.status,
        200,
        "lookups are not faulted"
    );
}

#[tokio::test]
async fn drop_after_records_and_logs_then_resets_the_connection() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("sent.jsonl");
    let config = SandboxConfig {
        log_path: Some(log.clone()),
        ..faulty(FaultConfig {
            drop_after_share: 1.0,
            ..FaultConfig::default()
        })
    };
    let harness = Harness::start(config).await;

    let body = send_body(json!({"local_id": "ambiguous"}));
    let result = harness
        .try_call(
            "POST",
            "/v1/message/send",
            Some(body),
            Some(harness.bearer(0)),
        )
        .await;

    assert!(result.is_err(), "{result:?}");
    let logged = read_log(&log).expect("log");
    assert_eq!(logged, harness.sandbox.messages());
    assert_eq!(logged.len(), 1);
    assert_eq!(logged[0].local_id.as_deref(), Some("ambiguous"));
    let history = harness
        .get("/v1/messages?phoneNumber=15105550101&inboxID=42")
        .await;
    assert_eq!(
        history.body[0]["local_id"], "ambiguous",
        "the way to resolve it"
    );
}

#[tokio::test]
async fn injected_errors_answer_with_their_status() {
    let cases = [
        (
            FaultConfig {
                error_500: 1.0,
                ..FaultConfig::default()
            },
            500,
            0,
        ),
        (
            FaultConfig {
                error_500_after_record: 1.0,
                ..FaultConfig::default()
            },
            500,
            1,
        ),
        (
            FaultConfig {
                error_503: 1.0,
                ..FaultConfig::default()
            },
            503,
            0,
        ),
        (
            FaultConfig {
                error_429: 1.0,
                ..FaultConfig::default()
            },
            429,
            0,
        ),
    ];
    for (faults, status, recorded) in cases {
        let harness = Harness::start(faulty(faults)).await;
        let answer = harness.send(send_body(json!({}))).await;
        assert_eq!(answer.status, status, "{answer:?}");
        assert!(answer.request_id.is_some());
        assert!(answer.body["error"].is_string());
        assert_eq!(harness.sandbox.messages().len(), recorded, "{answer:?}");
        if status == 429 {
            assert_eq!(answer.retry_after.as_deref(), Some("1"));
        }
    }
}

#[tokio::test]
async fn the_same_seed_fails_the_same_requests() {
    let faults = FaultConfig {
        seed: 42,
        error_500: 0.3,
        error_503: 0.2,
        ..FaultConfig::default()
    };
    let mut runs = Vec::new();
    for _ in 0..2 {
        let harness = Harness::start(faulty(faults.clone())).await;
        let mut statuses = Vec::new();
        for n in 0..30 {
            let body = send_body(json!({"local_id": format!("m-{n}")}));
            statuses.push(harness.send(body).await.status);
        }
        runs.push(statuses);
    }
    assert_eq!(runs[0], runs[1]);
    assert!(
        runs[0].contains(&500) && runs[0].contains(&200),
        "{:?}",
        runs[0]
    );
}

#[tokio::test]
async fn latency_delays_sends() {
    let harness = Harness::start(faulty(FaultConfig {
        latency: Duration::from_millis(150),
        ..FaultConfig::default()
    }))
    .await;

    let started = Instant::now();
    assert_eq!(harness.send(send_body(json!({}))).await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(150));
}

#[tokio::test]
async fn the_log_is_private_readable_while_running_and_resumed_on_restart() {
    let dir = tempfile::tempdir().expect("tempdir");
    let log = dir.path().join("sent.jsonl");
    let config = SandboxConfig {
        log_path: Some(log.clone()),
        ..SandboxConfig::new()
    };
    let harness = Harness::start(config.clone()).await;

    harness.send(send_body(json!({"local_id": "a"}))).await;
    harness.send(send_body(json!({"local_id": "b"}))).await;

    let mode = std::fs::metadata(&log)
        .expect("log exists")
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o600);
    let logged = read_log(&log).expect("readable while running");
    assert_eq!(logged, harness.sandbox.messages());
    harness.sandbox.shutdown().await;

    let restarted = Harness::start(config).await;
    let repeat = restarted.send(send_body(json!({"local_id": "a"}))).await;
    assert_eq!(repeat.body["id"], 1, "dedupe survives a restart");
    let next = restarted.send(send_body(json!({"local_id": "c"}))).await;
    assert_eq!(next.body["id"], 3);
}

#[tokio::test]
async fn lookups_serve_the_fixtures() {
    let harness = Harness::default().await;

    let inboxes = harness.get("/v1/inboxes").await;
    assert_eq!(inboxes.body[0]["id"], 42);
    assert_eq!(inboxes.body[1]["phone"], "+18885550123");
    let team = harness.get("/v1/team").await;
    assert_eq!(team.body["members"][2]["name"], "Nia Outsider");
    let template = harness.get("/v1/template/123").await;
    assert_eq!(template.body["name"], "spring-reminder");
    assert_eq!(harness.get("/v1/template/999").await.status, 404);

    let status = |phone: &str| {
        let body = json!({"phone": phone});
        harness.call(
            "POST",
            "/v1/contact/status",
            Some(body),
            Some(harness.bearer(0)),
        )
    };
    let opted_out = status("15105550199").await.body;
    assert_eq!(
        (
            opted_out["unsubscribed"].clone(),
            opted_out["blocked"].clone()
        ),
        (json!(true), json!(false))
    );
    assert_eq!(status("15105550198").await.body["blocked"], true);
    let stranger = status("15105559999").await.body;
    assert_eq!(
        (
            stranger["unsubscribed"].clone(),
            stranger["blocked"].clone()
        ),
        (json!(false), json!(false))
    );
    assert_eq!(status("+15105559999").await.status, 400);
}

#[tokio::test]
async fn history_lists_a_conversation_newest_first() {
    let harness = Harness::default().await;
    for n in 0..3 {
        let body = send_body(json!({"local_id": format!("h-{n}"), "text": format!("n{n}")}));
        harness.send(body).await;
    }
    harness
        .send(send_body(json!({"phone_number": "15105550102"})))
        .await;
    let list = json!({"phone_number": null, "list_id": 501, "local_id": "vip"});
    harness.send(send_body(list)).await;

    let history = harness
        .get("/v1/messages?phoneNumber=15105550101&inboxID=42")
        .await;

    let ids: Vec<&Value> = history
        .body
        .as_array()
        .expect("array")
        .iter()
        .map(|m| &m["local_id"])
        .collect();
    assert_eq!(
        ids,
        [&json!("vip"), &json!("h-2"), &json!("h-1"), &json!("h-0")]
    );
    assert_eq!(history.body[1]["status"], "sent");
    assert_eq!(history.body[1]["text"], "n2");
    let missing = harness.get("/v1/messages?phoneNumber=15105550101").await;
    assert_eq!(
        (missing.status, missing.body["field"].clone()),
        (400, json!("inboxID"))
    );
}

#[tokio::test]
async fn unknown_paths_and_methods_are_json_errors_with_a_request_id() {
    let harness = Harness::default().await;

    let missing = harness.get("/v1/nothing").await;
    assert_eq!(missing.status, 404);
    assert_eq!(missing.body["error"], "not_found");
    assert!(missing.request_id.is_some());

    let wrong_method = harness.get("/v1/message/send").await;
    assert_eq!(wrong_method.status, 405);
    assert!(wrong_method.request_id.is_some());
    assert_ne!(missing.request_id, wrong_method.request_id);
}

#[tokio::test]
async fn fixtures_load_from_a_yaml_file() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("fixtures.yaml");
    let yaml = "team: {id: 5, name: Other, members: [{id: 1, name: Solo, role: admin}]}\n\
                inboxes: [{id: 77, name: Only, phone: '+14155550100', members: [1]}]\n";
    std::fs::write(&path, yaml).expect("write");
    let fixtures = Fixtures::from_yaml_file(&path).expect("fixtures");
    let harness = Harness::start(SandboxConfig {
        fixtures,
        ..SandboxConfig::new()
    })
    .await;

    let ok = harness
        .send(send_body(json!({"inbox_id": 77, "creator_id": 1})))
        .await;
    assert_eq!(ok.status, 200, "{ok:?}");
    let old_inbox = harness.send(send_body(json!({}))).await;
    assert_eq!(old_inbox.body["field"], "inbox_id");

    std::fs::write(&path, "team: {id: 5}\n").expect("write");
    assert!(Fixtures::from_yaml_file(&path).is_err());
}

#[tokio::test]
async fn shutdown_stops_serving() {
    let harness = Harness::default().await;
    let url = harness.sandbox.base_url();
    harness.sandbox.shutdown().await;

    let result = reqwest::get(format!("{url}/v1/team")).await;
    assert!(result.is_err());
}

#[tokio::test]
async fn dropping_the_sandbox_stops_it_too() {
    let harness = Harness::default().await;
    let url = harness.sandbox.base_url();
    drop(harness);
    tokio::task::yield_now().await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let result = reqwest::get(format!("{url}/v1/team")).await;
    assert!(result.is_err());
}
