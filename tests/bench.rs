//! `custody bench` runs end to end on a small size: every measurement,
//! in the processes of its own it starts, gives a figure, and every bound's
//! signatures check.

mod common;

#[test]
fn bench_measures_every_figure_against_its_bounds() {
    let tmp = tempfile::tempdir().unwrap();
    let r = common::custody(tmp.path(), &["bench", "--sizes", "300", "--dir", "scratch"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(!r.stdout.contains("all ok: false"), "{}", r.stdout);
    assert_eq!(r.stdout.matches("all ok: true").count(), 3, "{}", r.stdout);
    // Both tables have a row for the size, of positive, finite figures.
    let rows: Vec<Vec<f64>> = r
        .stdout
        .lines()
        .filter(|l| l.starts_with("| 300 |"))
        .map(|line| {
            line.trim_matches('|')
                .split('|')
                .map(|c| {
                    let c = c.trim().trim_end_matches(['%', 'B', 'M', 's', 'µ', ' ']);
                    c.parse::<f64>()
                        .unwrap_or_else(|_| panic!("not a figure: {c:?} in {line}"))
                })
                .collect()
        })
        .collect();
    assert_eq!(rows.len(), 2, "{}", r.stdout);
    assert!(
        rows.iter().flatten().all(|v| v.is_finite() && *v > 0.0),
        "{}",
        r.stdout
    );
    let speeds = &rows[0];
    assert_eq!(speeds.len(), 11, "{}", r.stdout);
    // The ratios are what the figures beside them say.
    let ratio = |a: f64, b: f64| (100.0 * a / b).round();
    assert_eq!(speeds[3], ratio(speeds[1], speeds[2]), "{}", r.stdout);
    assert_eq!(speeds[6], ratio(speeds[4], speeds[5]), "{}", r.stdout);
    assert_eq!(speeds[8], ratio(speeds[4], speeds[7]), "{}", r.stdout);
    // The scratch space it was given is cleaned up after.
    assert!(
        std::fs::read_dir(tmp.path().join("scratch"))
            .unwrap()
            .all(|e| e.unwrap().file_name() == "state"),
        "the benchmark left its ledgers behind"
    );
}

#[test]
fn a_child_measurement_it_cannot_read_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for args in [
        &["bench", "--child", "append", "L", "sideways", "10"][..],
        &["bench", "--child", "bare", "d", "x", "10"],
        &["bench", "--child", "other", "a", "b", "c"],
    ] {
        let r = common::custody(tmp.path(), args);
        assert_eq!(r.code, 2, "{args:?}: {}", r.stderr);
        assert!(r.stderr.contains("cannot read"), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
}
