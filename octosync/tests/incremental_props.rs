//! The incremental shortcut never does less than a full sync: for any sequence of edits
//! by a person on either side (or none), whenever the audit logs let a run skip reading
//! ("nothing changed"), a full read plans nothing either; and after any person's edit
//! the shortcut does not fire.
//!
//! Each case syncs two fakes once through `apply_config` (what `apply` and `watch`
//! run), then applies a random sequence of edits through the API with a browser's
//! user agent, and compares the incremental verdict with a full plan.

mod common;

use common::{block_on, owned_by_a_project, portal_edit, Cli, Yes};
use octopus_fake::FakeServer;
use octosync::cli::{apply_config, SyncOutcome};
use octosync::incremental::{check, Verdict};
use octosync::runner::{run, Mode};
use proptest::prelude::*;
use serde_json::json;

/// An edit a person makes through the portal.
#[derive(Clone, Copy, Debug)]
enum Edit {
    /// The source project's description.
    SourceDescription,
    /// The destination project's description.
    DestinationDescription,
    /// A new plain value in the source project's variables.
    SourceVariable,
    /// The destination's environment description.
    DestinationEnvironment,
}

fn edit() -> impl Strategy<Value = Edit> {
    prop_oneof![
        Just(Edit::SourceDescription),
        Just(Edit::DestinationDescription),
        Just(Edit::SourceVariable),
        Just(Edit::DestinationEnvironment),
    ]
}

async fn apply_edit(source: &FakeServer, destination: &FakeServer, edit: Edit, n: usize) {
    let text = format!("edit {n}");
    // The id of the edited document is not needed here.
    let _ = match edit {
        Edit::SourceDescription => {
            portal_edit(
                source,
                "projects",
                |d| d["Name"] == "OctoFX",
                |d| d["Description"] = json!(text),
            )
            .await
        }
        Edit::DestinationDescription => {
            portal_edit(
                destination,
                "projects",
                |d| d["Name"] == "OctoFX",
                |d| d["Description"] = json!(text),
            )
            .await
        }
        Edit::SourceVariable => {
            portal_edit(source, "variables", owned_by_a_project, |d| {
                d["Variables"]
                    .as_array_mut()
                    .unwrap()
                    .push(json!({"Name": format!("Added.{n}"), "Value": text}))
            })
            .await
        }
        Edit::DestinationEnvironment => {
            portal_edit(
                destination,
                "environments",
                |_| true,
                |d| d["Description"] = json!(text),
            )
            .await
        }
    };
}

async fn case(edits: Vec<Edit>) -> Result<(), TestCaseError> {
    let i = Cli::start(Some("2026.1.2000"), |c| c).await;
    let (source, destination) = (&i.source, &i.destination);
    let (config, text) = i.load();
    let bytes = text.as_bytes();

    let first = apply_config(&config, bytes, false, &Yes).await.unwrap();
    prop_assert!(matches!(first, SyncOutcome::Applied(_)));
    // Right after a sync that ended in sync, the shortcut fires and a full read agrees.
    let verdicts = check(&config, bytes).await;
    prop_assert!(
        matches!(verdicts[0], Verdict::Unchanged(_)),
        "{:?}",
        verdicts
    );

    for (n, edit) in edits.iter().enumerate() {
        apply_edit(source, destination, *edit, n).await;
    }
    let verdicts = check(&config, bytes).await;
    let full = run(&config, &Mode::Plan).await.unwrap();
    let full_plan = full[0].plan.as_ref().expect("a plan");
    match &verdicts[0] {
        Verdict::Unchanged(_) => {
            prop_assert!(edits.is_empty(), "the shortcut fired after {edits:?}");
            prop_assert!(
                !full_plan.has_changes(),
                "the shortcut fired but a full read plans changes:\n{full_plan}"
            );
        }
        Verdict::Read(why) => {
            prop_assert!(!edits.is_empty(), "read everything without an edit: {why}")
        }
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn the_shortcut_fires_only_when_a_full_read_agrees(
        edits in prop::collection::vec(edit(), 0..4)
    ) {
        block_on(case(edits))?;
    }
}
