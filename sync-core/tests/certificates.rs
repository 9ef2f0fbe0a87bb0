//! Certificates: their data can never be read back through the API. A missing one is
//! created only from a file the user supplies (`certificates_from`, listed by the runner
//! into `SyncRules::certificate_files`); otherwise the plan names it with the reason and
//! the clean-up log says how to create it by hand. Plans never carry certificate data.

mod common;

use common::*;
use serde_json::{json, Value};
use sync_core::{plan, CleanupCategory, OpAction, ResourceKind, Snapshot, SyncRules};

fn source(certificates: Value) -> Snapshot {
    snapshot(join(vec![
        builtins(1),
        vec![("environments", source_environments())],
        vec![("certificates", certificates)],
    ]))
}

fn destination(certificates: Value) -> Snapshot {
    snapshot(join(vec![
        builtins(71),
        vec![("environments", destination_environments())],
        vec![("certificates", certificates)],
    ]))
}

fn shop(id: &str, envs: Value) -> Value {
    json!({"Id": id, "Name": "Shop TLS", "Notes": "the shop's", "EnvironmentIds": envs,
           "CertificateData": {"HasValue": true}, "Password": {"HasValue": true},
           "Thumbprint": "AB12", "CertificateDataFormat": "Pkcs12", "HasPrivateKey": true,
           "NotAfter": "2030-01-01T00:00:00Z"})
}

fn with_files(text: &str, files: &[(&str, &str)]) -> SyncRules {
    let mut rules = rules(text);
    for (name, file) in files {
        rules
            .certificate_files
            .insert(octopus_model::name_key(name), (*file).to_owned());
    }
    rules
}

const SELECT: &str =
    "[select]\ncertificates = [\"all\"]\n[environment_map]\nTest = [\"Staging\"]\n";

#[test]
fn a_missing_certificate_without_a_file_is_named_with_why_and_how_to_create_it_by_hand() {
    let plan = plan(
        &source(json!([shop("Certificates-1", json!([]))])),
        &destination(json!([])),
        &rules(SELECT),
    )
    .unwrap();
    let op = op(&plan, ResourceKind::Certificate, "Shop TLS");
    assert_eq!(op.action(), OpAction::Skip);
    assert!(op.reason.contains("cannot be read back"), "{}", op.reason);
    let entries: Vec<_> = plan
        .cleanup
        .iter()
        .filter(|e| e.item.kind == ResourceKind::Certificate)
        .collect();
    assert_eq!(entries.len(), 1, "{entries:?}");
    assert_eq!(entries[0].category, CleanupCategory::Skipped);
    assert!(entries[0].message.contains("create it by hand"));
    assert!(entries[0].message.contains("Export"));
    assert!(entries[0].message.contains("certificates_from"));
}

#[test]
fn with_certificates_from_a_certificate_without_a_file_is_reported_naming_the_files_looked_for() {
    let rules = with_files(
        &format!("{SELECT}[policy]\ncertificates_from = \"certs\"\n"),
        &[("Other", "Other.pem")],
    );
    let plan = plan(
        &source(json!([shop("Certificates-1", json!([]))])),
        &destination(json!([])),
        &rules,
    )
    .unwrap();
    let op = op(&plan, ResourceKind::Certificate, "Shop TLS");
    assert_eq!(op.action(), OpAction::Skip);
    assert!(
        op.reason.contains("no file named \"Shop TLS\""),
        "{}",
        op.reason
    );
}

#[test]
fn a_missing_certificate_with_a_file_is_created_from_it_and_the_plan_holds_no_data() {
    let rules = with_files(SELECT, &[("shop tls", "Shop TLS.pfx")]);
    let (plan, after) = plan_apply_replan(
        &source(json!([shop("Certificates-1", json!(["Environments-2"]))])),
        &destination(json!([])),
        &rules,
    );
    let op = op(&plan, ResourceKind::Certificate, "Shop TLS");
    assert_eq!(op.action(), OpAction::Create);
    assert!(op.reason.contains("Shop TLS.pfx"), "{}", op.reason);
    let file = op.certificate_file().unwrap();
    assert_eq!(file.file, "Shop TLS.pfx");
    assert!(file.pkcs12);
    let body = op.body().unwrap();
    assert_eq!(body["CertificateData"], json!({"HasValue": false}));
    assert_eq!(body["Password"], json!({"HasValue": false}));
    assert_eq!(body["EnvironmentIds"], json!(["Environments-71"]));
    for derived in [
        "Thumbprint",
        "CertificateDataFormat",
        "HasPrivateKey",
        "NotAfter",
        "Id",
    ] {
        assert!(body.get(derived).is_none(), "{derived} is sent: {body}");
    }
    let created = after
        .certificates
        .iter()
        .find(|c| c.name == "Shop TLS")
        .unwrap();
    assert_eq!(created.notes.get().unwrap(), "the shop's");
    assert!(created.certificate_data.get().unwrap().has_value);
}

#[test]
fn a_pem_file_sends_no_password() {
    let rules = with_files(SELECT, &[("Shop TLS", "Shop TLS.pem")]);
    let plan = plan(
        &source(json!([shop("Certificates-1", json!([]))])),
        &destination(json!([])),
        &rules,
    )
    .unwrap();
    let op = op(&plan, ResourceKind::Certificate, "Shop TLS");
    assert!(!op.certificate_file().unwrap().pkcs12);
    assert!(op.body().unwrap().get("Password").is_none());
}

#[test]
fn an_existing_certificate_is_left_alone_even_with_a_file() {
    let rules = with_files(SELECT, &[("Shop TLS", "Shop TLS.pem")]);
    let plan = plan(
        &source(json!([shop("Certificates-1", json!([]))])),
        &destination(json!([shop("Certificates-71", json!([]))])),
        &rules,
    )
    .unwrap();
    let op = op(&plan, ResourceKind::Certificate, "Shop TLS");
    assert_eq!(op.action(), OpAction::Unchanged);
    assert!(op.certificate_file().is_none());
}

#[test]
fn certificates_from_is_a_policy_a_destination_can_override() {
    let base = rules(
        "[policy]\ncertificates_from = \"certs\"\ncertificates_password_env = \"PFX_PASSWORD\"\n",
    );
    assert_eq!(base.policy.certificates_from.as_deref(), Some("certs"));
    assert_eq!(
        base.policy.certificates_password_env.as_deref(),
        Some("PFX_PASSWORD")
    );
    let overrides: toml::Table =
        toml::from_str("[policy]\ncertificates_from = \"prod-certs\"\n").unwrap();
    let prod = base.with_overrides(&overrides).unwrap();
    assert_eq!(prod.policy.certificates_from.as_deref(), Some("prod-certs"));
    assert_eq!(
        prod.policy.certificates_password_env.as_deref(),
        Some("PFX_PASSWORD")
    );
    assert!(SyncRules::default().policy.certificates_from.is_none());
}
