use quorum_sim::{ClusterConfig, run};

#[test]
fn clean_run_smoke() {
    let outcome = run(1, &ClusterConfig::default()).unwrap();
    eprintln!("{:#?}", outcome.report);
    eprintln!("violations {:?}", outcome.violations);
    eprintln!("steps {} events {} hash {}", outcome.steps, outcome.trace.len(), outcome.trace_hash());
    for e in outcome.trace.tail(15) {
        eprintln!("{e:?}");
    }
    assert!(outcome.passed());
}
