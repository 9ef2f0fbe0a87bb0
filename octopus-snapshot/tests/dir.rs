//! The snapshot directory on disk: what is written reads back the same, and bad input
//! is refused with an error that names the file.

use std::fs;

use octopus_snapshot::{read_root, write_root, Snapshot, SnapshotError, SpaceSnapshot, ROOT_FILE};
use serde_json::json;

fn two_spaces() -> Snapshot {
    let mut default = SpaceSnapshot::new("Default");
    default.collection_mut("environments").extend([
        json!({"Id": "Environments-2", "Name": "Test", "SortOrder": 2}),
        json!({"Id": "Environments-1", "Name": "Development", "Unknown": {"kept": [1, 2]}}),
    ]);
    default
        .collection_mut("variables")
        .push(json!({"Id": "variableset-Projects-1", "OwnerId": "Projects-1", "Variables": []}));
    let mut other = SpaceSnapshot::new("Änderungen 支付");
    other
        .collection_mut("projects")
        .push(json!({"Name": "OctoFX"}));
    Snapshot {
        spaces: vec![default, other],
    }
}

#[test]
fn a_written_directory_reads_back_the_same_documents_in_the_same_order() {
    let dir = tempfile::tempdir().unwrap();
    let snapshot = two_spaces();
    snapshot.write_dir(dir.path()).unwrap();
    write_root(
        dir.path(),
        &json!({"Version": "2024.2.1234", "Extra": true}),
    )
    .unwrap();

    assert!(dir.path().join("Default/environments.json").is_file());
    assert!(dir.path().join("Änderungen 支付/projects.json").is_file());
    assert_eq!(Snapshot::read_dir(dir.path()).unwrap(), snapshot);
    assert_eq!(
        read_root(dir.path()).unwrap(),
        Some(json!({"Version": "2024.2.1234", "Extra": true}))
    );
}

#[test]
fn the_default_space_comes_first_and_file_names_are_read_case_insensitively() {
    let dir = tempfile::tempdir().unwrap();
    for space in ["Alpha", "Default", "Zulu"] {
        fs::create_dir_all(dir.path().join(space)).unwrap();
    }
    fs::write(dir.path().join("Alpha/Projects.json"), r#"[{"Name": "A"}]"#).unwrap();
    fs::write(dir.path().join("Alpha/notes.txt"), "not a collection").unwrap();
    fs::write(dir.path().join(ROOT_FILE), "{}").unwrap();

    let read = Snapshot::read_dir(dir.path()).unwrap();
    let names: Vec<&str> = read.spaces.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["Default", "Alpha", "Zulu"]);
    let alpha = read
        .space(" alpha ")
        .expect("matched trimmed, case-insensitively");
    assert_eq!(alpha.collection("projects"), [json!({"Name": "A"})]);
    assert_eq!(
        alpha.collections.len(),
        1,
        "only *.json files are collections"
    );
}

#[test]
fn a_file_that_is_not_json_is_named_with_the_line_of_the_error() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("Default")).unwrap();
    let file = dir.path().join("Default/projects.json");
    fs::write(&file, "[\n  {\"Name\": \"OctoFX\",\n").unwrap();

    let err = Snapshot::read_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Json { path, .. } if *path == file),
        "{err:?}"
    );
    let text = err.to_string();
    assert!(text.contains(&file.display().to_string()), "{text}");
    assert!(text.contains("line 3"), "{text}");
}

#[test]
fn a_collection_that_is_not_an_array_is_refused_naming_the_file_and_what_it_holds() {
    let dir = tempfile::tempdir().unwrap();
    fs::create_dir_all(dir.path().join("Default")).unwrap();
    let file = dir.path().join("Default/environments.json");
    fs::write(&file, r#"{"Items": []}"#).unwrap();

    let err = Snapshot::read_dir(dir.path()).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} must hold a JSON array of documents, not an object",
            file.display()
        )
    );
}

#[test]
fn a_root_document_that_is_not_an_object_is_refused_and_a_missing_one_is_none() {
    let dir = tempfile::tempdir().unwrap();
    assert_eq!(read_root(dir.path()).unwrap(), None);
    fs::write(dir.path().join(ROOT_FILE), "[]").unwrap();
    let err = read_root(dir.path()).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::NotAnObject { found: "an array", path } if path.ends_with(ROOT_FILE)),
        "{err:?}"
    );
}

#[test]
fn a_directory_without_spaces_or_that_does_not_exist_is_refused_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    fs::write(dir.path().join(ROOT_FILE), "{}").unwrap();
    let err = Snapshot::read_dir(dir.path()).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::NoSpaces { path } if path == dir.path()),
        "{err:?}"
    );

    let missing = dir.path().join("nowhere");
    let err = Snapshot::read_dir(&missing).unwrap_err();
    assert!(
        matches!(&err, SnapshotError::Read { path, .. } if *path == missing),
        "{err:?}"
    );
    assert!(err.to_string().contains("nowhere"), "{err}");
}
