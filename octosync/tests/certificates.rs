//! End-to-end: certificates, whose data the API never returns, against two
//! `octopus-fake` instances over HTTP. A certificate whose file the user supplies in
//! `certificates_from` is created from it (a PEM generated here); one without a file is
//! named in the plan with the way to create it by hand. The certificate data never
//! appears in the plan or the apply report, and the destination is read back.

mod common;

use base64::Engine as _;
use common::{client, demo_destination, run_once};
use octopus_client::{OctopusRead, OctopusWrite};
use octopus_fake::{FakeConfig, FakeServer, Seed};
use octopus_model::ResourceKind;
use octosync::apply::ApplyOptions;
use octosync::config::SyncConfig;
use octosync::demo::DEMO_CONFIG;
use octosync::runner::{plan_destination, Mode};
use serde_json::json;
use sync_core::{CleanupCategory, OpAction};

/// A self-signed certificate and its key, as one PEM file.
fn self_signed_pem() -> String {
    let made = rcgen::generate_simple_self_signed(vec!["shop.example".to_owned()]).unwrap();
    format!("{}{}", made.cert.pem(), made.key_pair.serialize_pem())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_with_a_file_is_created_from_it_and_one_without_is_left_to_a_person() {
    let src = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction))
        .await
        .unwrap();
    let (source, destination) = (client(&src), client(&dst));
    let pem = self_signed_pem();
    let encoded = base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
    for name in ["Shop TLS", "Legacy Signing"] {
        source
            .create(
                ResourceKind::Certificate,
                json!({"Name": name, "Notes": format!("{name} notes"),
                       "CertificateData": {"HasValue": true, "NewValue": encoded}}),
            )
            .await
            .unwrap();
    }

    // sync.toml with certificates_from relative to it; the file is named for the
    // certificate, whatever the case.
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs").join("shop tls.pem"), &pem).unwrap();
    let text = DEMO_CONFIG
        .replace("[select]\n", "[select]\ncertificates = [\"all\"]\n")
        .replace("[policy]\n", "[policy]\ncertificates_from = \"certs\"\n");
    let path = dir.path().join("sync.toml");
    std::fs::write(&path, text).unwrap();
    let config = SyncConfig::load(&path).unwrap();
    let dest = demo_destination(&destination, config.destinations[0].rules.clone());
    let runs = run_once(&source, &dest, &Mode::Apply(ApplyOptions::default())).await;
    let plan = runs.plan.as_ref().unwrap();
    let applied = runs.applied.as_ref().unwrap();
    assert!(applied.is_success(), "{applied}");

    // The plan says what it does with each, and carries no certificate data.
    let shop = plan.find(ResourceKind::Certificate, "Shop TLS").unwrap();
    assert_eq!(shop.action(), OpAction::Create);
    assert!(shop.reason.contains("shop tls.pem"), "{}", shop.reason);
    let legacy = plan
        .find(ResourceKind::Certificate, "Legacy Signing")
        .unwrap();
    assert_eq!(legacy.action(), OpAction::Skip);
    assert!(
        legacy.reason.contains("cannot be read back"),
        "{}",
        legacy.reason
    );
    assert!(plan
        .cleanup
        .iter()
        .any(|e| e.category == CleanupCategory::Skipped
            && e.item.name == "Legacy Signing"
            && e.message.contains("create it by hand")));
    let shown = [
        serde_json::to_string(plan).unwrap(),
        plan.to_string(),
        applied.to_string(),
        octosync::report::render(
            plan,
            "staging-production",
            octosync::report::Format::Markdown,
        ),
        octosync::report::cleanup_markdown(plan, "staging-production"),
    ];
    for text in &shown {
        assert!(
            !text.contains(&encoded) && !text.contains("BEGIN"),
            "{text}"
        );
    }

    // Read back: the certificate exists with the source's details and the file's data.
    let certificates = destination
        .list_raw(ResourceKind::Certificate)
        .await
        .unwrap();
    let created = certificates
        .iter()
        .find(|c| c["Name"] == "Shop TLS")
        .unwrap_or_else(|| panic!("no certificate: {certificates:?}"));
    assert_eq!(created["Notes"], "Shop TLS notes");
    let id = created["Id"].as_str().unwrap();
    assert_eq!(
        dst.sensitive_value(id, "CertificateData").as_deref(),
        Some(encoded.as_str())
    );
    assert!(certificates.iter().all(|c| c["Name"] != "Legacy Signing"));
    assert_eq!(dst.integrity(), vec![]);

    // Idempotence: a second plan creates nothing.
    let kinds = octosync::load::kinds_to_read(&dest.rules);
    let snapshot = octosync::load::load_snapshot(&source, "dev-test", "Default", &kinds)
        .await
        .unwrap();
    let second = plan_destination(&snapshot, &dest).await.unwrap();
    assert!(!second.has_changes(), "{second}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_certificate_file_that_is_not_what_it_says_fails_its_create_naming_the_file() {
    let src = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction))
        .await
        .unwrap();
    let (source, destination) = (client(&src), client(&dst));
    source
        .create(
            ResourceKind::Certificate,
            json!({"Name": "Shop TLS", "CertificateData": {"HasValue": true, "NewValue": "MII="}}),
        )
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("Shop TLS.pem"), "not a certificate").unwrap();
    let text = DEMO_CONFIG
        .replace("[select]\n", "[select]\ncertificates = [\"all\"]\n")
        .replace(
            "[policy]\n",
            &format!(
                "[policy]\ncertificates_from = {:?}\n",
                dir.path().display().to_string()
            ),
        );
    let path = dir.path().join("sync.toml");
    std::fs::write(&path, text).unwrap();
    let config = SyncConfig::load(&path).unwrap();
    let dest = demo_destination(&destination, config.destinations[0].rules.clone());
    let mode = Mode::Apply(ApplyOptions {
        continue_on_error: true,
        ..ApplyOptions::default()
    });
    let runs = run_once(&source, &dest, &mode).await;
    let applied = runs.applied.as_ref().unwrap();
    assert!(!applied.is_success());
    let report = applied.to_string();
    assert!(
        report.contains("Shop TLS.pem") && report.contains("is not PEM"),
        "{report}"
    );
    let certificates = destination
        .list_raw(ResourceKind::Certificate)
        .await
        .unwrap();
    assert!(certificates.iter().all(|c| c["Name"] != "Shop TLS"));
}

/// Runs the binary on a blocking thread (the test's runtime serves the fakes).
async fn octosync_cli(
    args: Vec<String>,
    keys: [(&'static str, String); 2],
) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_octosync"));
        cmd.args(&args).env_remove("RUST_LOG");
        for (k, v) in keys {
            cmd.env(k, v);
        }
        cmd.output().expect("octosync runs")
    })
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_command_line_creates_a_certificate_from_its_file_and_no_output_shows_its_data() {
    let src = FakeServer::start(FakeConfig::seeded(Seed::DevTest))
        .await
        .unwrap();
    let dst = FakeServer::start(FakeConfig::seeded(Seed::StagingProduction))
        .await
        .unwrap();
    let source = client(&src);
    let pem = self_signed_pem();
    let encoded = base64::engine::general_purpose::STANDARD.encode(pem.as_bytes());
    for name in ["Shop TLS", "Legacy Signing"] {
        source
            .create(
                ResourceKind::Certificate,
                json!({"Name": name, "CertificateData": {"HasValue": true, "NewValue": encoded}}),
            )
            .await
            .unwrap();
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("certs")).unwrap();
    std::fs::write(dir.path().join("certs").join("Shop TLS.pem"), &pem).unwrap();
    let text = DEMO_CONFIG
        .replace("http://127.0.0.1:8065", src.url())
        .replace("http://127.0.0.1:8066", dst.url())
        .replace("[select]\n", "[select]\ncertificates = [\"all\"]\n")
        .replace("[policy]\n", "[policy]\ncertificates_from = \"certs\"\n");
    let config = dir.path().join("sync.toml");
    std::fs::write(&config, text).unwrap();
    let log = dir.path().join("log.jsonl");
    let cleanup = dir.path().join("cleanup");
    let keys = || {
        [
            ("OCTOSYNC_SOURCE_API_KEY", src.api_key().to_owned()),
            ("OCTOSYNC_DESTINATION_API_KEY", dst.api_key().to_owned()),
        ]
    };
    let path = |p: &std::path::Path| p.display().to_string();
    let apply = octosync_cli(
        vec![
            "apply".into(),
            "-c".into(),
            path(&config),
            "--yes".into(),
            "-vv".into(),
            "--log-file".into(),
            path(&log),
            "--cleanup-dir".into(),
            path(&cleanup),
        ],
        keys(),
    )
    .await;
    let (stdout, stderr) = (
        String::from_utf8_lossy(&apply.stdout).into_owned(),
        String::from_utf8_lossy(&apply.stderr).into_owned(),
    );
    assert_eq!(apply.status.code(), Some(0), "{stdout}\n{stderr}");
    let checklist = std::fs::read_to_string(cleanup.join("staging-production-cleanup.md")).unwrap();
    assert!(
        checklist.contains("Legacy Signing") && checklist.contains("create it by hand"),
        "{checklist}"
    );
    let log_text = std::fs::read_to_string(&log).unwrap();
    for output in [&stdout, &stderr, &log_text, &checklist] {
        assert!(!output.contains(&encoded), "certificate data leaked");
        assert!(!output.contains("PRIVATE KEY"), "the key leaked");
    }
    let created = client(&dst)
        .list_raw(ResourceKind::Certificate)
        .await
        .unwrap()
        .into_iter()
        .find(|c| c["Name"] == "Shop TLS")
        .expect("created");
    assert_eq!(
        dst.sensitive_value(created["Id"].as_str().unwrap(), "CertificateData")
            .as_deref(),
        Some(encoded.as_str())
    );
    assert_eq!(dst.integrity(), vec![]);
}
