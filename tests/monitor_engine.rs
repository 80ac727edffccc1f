//! `frule-monitor` and falco.yaml's `engine` keys: `engine.kind: replay` replays as `--replay`
//! does (the command line winning), unusable kinds and bad values exit 1 with the key, and the
//! live capture's rings follow `engine.modern_ebpf.cpus_for_each_buffer`.
//!
//! The replay tests read the corpus in place from `FRULE_CORPUS` (default `../shared/corpus`) and
//! print why and pass without it. The live test needs root and kernel BTF, and prints why and
//! passes without them; its waits are bounded only to limit a failing run.
//!
//! - `engine_kind_replay_gives_the_replay_oracle`: `-o engine.kind=replay -o
//!   engine.replay.capture_file=cat_write.scap` prints exactly Falco's expected alerts;
//! - `replay_option_wins_over_engine_replay`: `--replay` beside a configured capture file that
//!   does not exist replays the `--replay` file;
//! - `engine_errors_exit_1_with_the_key`: `nodriver`, an unknown kind, preset 0, `--write` with
//!   `engine.kind: replay`;
//! - `live_rings_follow_cpus_for_each_buffer`: with `cpus_for_each_buffer=2` on a host of at most
//!   two CPUs the capture has one ring (the start-up line says so); a changed `buf_size_preset`
//!   on SIGHUP is named as needing a restart.

mod support;

use support::{
    ALERT_BOUND, Monitor, bundled_rules, live_unavailable, regression_corpus, run_monitor, temp_dir,
};

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// The regression rules file, capture and expected text output (with a final newline).
fn cat_write(dir: &std::path::Path) -> (String, String, String) {
    let rules = dir.join("falco-regression/rules/single_rule.yaml");
    let scap = dir.join("scap/falco-test/cat_write.scap");
    let oracle = dir.join("falco-regression/suites/expected_output_single_rule_with_cat_write.txt");
    let mut want =
        std::fs::read_to_string(&oracle).unwrap_or_else(|e| panic!("{}: {e}", oracle.display()));
    if !want.ends_with('\n') {
        want.push('\n');
    }
    (
        rules.display().to_string(),
        scap.display().to_string(),
        want,
    )
}

#[test]
fn engine_kind_replay_gives_the_replay_oracle() {
    let Some(dir) = regression_corpus() else {
        return;
    };
    let (rules, scap, want) = cat_write(&dir);
    let file = format!("engine.replay.capture_file={scap}");
    let out = run_monitor(&[
        "-r",
        &rules,
        "-o",
        "engine.kind=replay",
        "-o",
        &file,
        "-o",
        "time_format_iso_8601=true",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{err}");
    assert!(err.contains("Events detected: 8\n"), "{err}");
    assert_eq!(text(&out.stdout), want);
}

#[test]
fn replay_option_wins_over_engine_replay() {
    let Some(dir) = regression_corpus() else {
        return;
    };
    let (rules, scap, want) = cat_write(&dir);
    let out = run_monitor(&[
        "-r",
        &rules,
        "--replay",
        &scap,
        "-o",
        "engine.kind=replay",
        "-o",
        "engine.replay.capture_file=/nonexistent/frule-test.scap",
        "-o",
        "time_format_iso_8601=true",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), want);
}

#[test]
fn engine_errors_exit_1_with_the_key() {
    let cases: [(&[&str], &str); 4] = [
        (
            &["-o", "engine.kind=nodriver"],
            "Error: -o: engine.kind: the nodriver engine produces events only from plugins",
        ),
        (
            &["-o", "engine.kind=kmodd"],
            "Error: -o: engine.kind: unknown engine kind \"kmodd\"",
        ),
        (
            &["-o", "engine.modern_ebpf.buf_size_preset=0"],
            "Error: -o: engine.modern_ebpf.buf_size_preset: expected a preset index between 1 and 10, found 0",
        ),
        (
            &[
                "-o",
                "engine.kind=replay",
                "-o",
                "engine.replay.capture_file=x.scap",
                "--write",
                "/nonexistent/out.scap",
            ],
            "Error: --write records a live capture; it cannot be combined with --replay or engine.kind replay",
        ),
    ];
    for (args, want) in cases {
        let mut all = vec!["-r", bundled_rules()];
        all.extend_from_slice(args);
        let out = run_monitor(&all);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
        assert!(err.contains(want), "{args:?}: want {want:?} in:\n{err}");
    }
}

/// The number of CPUs the kernel may bring up (`/sys/devices/system/cpu/possible`, e.g. `0-1`).
fn possible_cpus() -> Option<usize> {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").ok()?;
    let max = text
        .trim()
        .split([',', '-'])
        .filter_map(|n| n.parse::<usize>().ok())
        .max()?;
    Some(max + 1)
}

#[test]
fn live_rings_follow_cpus_for_each_buffer() {
    if let Some(reason) = live_unavailable() {
        eprintln!("skipping live_rings_follow_cpus_for_each_buffer: {reason}");
        return;
    }
    let online = std::thread::available_parallelism().map_or(0, usize::from);
    let possible = possible_cpus().unwrap_or(0);
    if possible > 2 || online > 2 {
        eprintln!(
            "skipping live_rings_follow_cpus_for_each_buffer: written for a host of at most 2 CPUs ({possible} possible)"
        );
        return;
    }
    let dir = temp_dir("engine-rings");
    let conf = dir.join("falco.yaml");
    let config = |preset: u8| {
        format!(
            "rules_files:\n  - {}\nwatch_config_files: false\nengine:\n  kind: modern_ebpf\n  modern_ebpf:\n    buf_size_preset: {preset}\n",
            bundled_rules()
        )
    };
    std::fs::write(&conf, config(4)).expect("config file");
    let conf_arg = conf.display().to_string();
    let mut m = Monitor::start(&[
        "-c",
        &conf_arg,
        "-o",
        "engine.modern_ebpf.cpus_for_each_buffer=2",
    ]);
    let want = "frule-monitor: 1 ring buffer of 8 MiB, one every 2 CPUs; entry hook: ";
    if !m.err_seen.iter().any(|l| l.starts_with(want)) {
        m.fail(&format!("no start-up line {want:?}"));
    }
    std::fs::write(&conf, config(5)).expect("config file");
    m.signal("HUP");
    let note = "configuration key engine.modern_ebpf.buf_size_preset changed";
    if m.wait_err(ALERT_BOUND, |l| l.contains(note)).is_none() {
        m.fail(&format!("no stderr line containing {note:?}"));
    }
    let stopped = m.stop_with("TERM");
    assert!(stopped.status.success(), "{}", stopped.stderr_text());
    let _ = std::fs::remove_dir_all(&dir);
}
