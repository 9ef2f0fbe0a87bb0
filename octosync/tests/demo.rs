//! The demo converges: after one apply, planning again finds nothing to do, and the
//! source is never written.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_applies_then_has_nothing_left_to_do() {
    let outcome = octosync::demo::demo().await.expect("demo runs");
    println!("{}", outcome.output);
    assert!(
        outcome.first_plan.summary.create > 0,
        "the first plan creates things"
    );
    assert!(outcome.applied.is_success(), "{}", outcome.applied);
    assert!(
        !outcome.second_plan.has_changes(),
        "second plan:\n{}",
        outcome.second_plan
    );
    assert_eq!(outcome.dangling_references, Vec::new());
    let s = &outcome.source_requests;
    assert_eq!(s.post + s.put + s.delete, 0, "the source was written");
}
