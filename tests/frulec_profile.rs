//! End-to-end tests of `frulec profile`: learn a profile from corpus captures, check that it validates, that
//! replaying the same capture with it raises no alert and that deviations raise their rule (both through
//! `frulec test`), and snapshot one learned profile (`tests/data/frulec_profile/*.yaml`, re-blessed with
//! `FRULE_BLESS=1`). Every test is skipped (with a printed reason) without the corpus (`FRULE_CORPUS`).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(ROOT).join("../shared/corpus"));
    if dir.is_dir() {
        Some(dir)
    } else {
        println!(
            "skipping: corpus not found at {} (set FRULE_CORPUS)",
            dir.display()
        );
        None
    }
}

fn frulec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_frulec"))
        .args(args)
        .output()
        .expect("the frulec binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("frulec-profile-{}-{tag}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// One learning scenario: a capture, the selection, and the fields that put a synthetic event into the
/// workload.
struct Scenario {
    tag: &'static str,
    capture: &'static str,
    selection: [&'static str; 2],
    /// `container` or `process tree`
    kind: &'static str,
    workload_fields: &'static str,
}

const SCENARIOS: &[Scenario] = &[
    Scenario {
        tag: "nginx",
        capture: "scap/falco-test-psp/run_as_user_0_container.scap",
        selection: ["--container-image", "nginx*"],
        kind: "container",
        workload_fields: "container.id: 697956520d89, container.image.repository: nginx, container.image: nginx",
    },
    Scenario {
        tag: "haproxy",
        capture: "scap/sysdig-inspect/502Error.scap",
        selection: ["--container-image", "dockercloud/haproxy"],
        kind: "container",
        workload_fields: "container.id: 59fd49aa4072, container.image: dockercloud/haproxy",
    },
    Scenario {
        tag: "curl",
        capture: "scap/libs-e2e/curl_google.scap",
        selection: ["--proc-name", "curl"],
        kind: "process tree",
        workload_fields: "proc.name: curl, container.id: host",
    },
    Scenario {
        tag: "python",
        capture: "scap/falco-test/open-multiple-files.scap",
        selection: ["--proc-name", "python"],
        kind: "process tree",
        workload_fields: "proc.name: python, container.id: host",
    },
];

/// A `frulec test` file for a learned profile: the replay raises nothing, each deviation its rule. With
/// `rule_matching: first` the specific rule wins over the syscall rule, which also fires when the deviation's
/// event type was not in the capture.
fn test_file(s: &Scenario, capture: &Path) -> String {
    let t = format!("learned {}", s.kind);
    let f = s.workload_fields;
    let ev = |fields: &str| format!("      - {{{f}, {fields}}}\n");
    let dev = |name: &str, fields: &str, rule: &str| {
        format!(
            "  - name: \"deviation: {name}\"\n    events:\n{}    expect: [\"{rule} {t}\"]\n",
            ev(fields)
        )
    };
    let mut y = format!(
        "rules: learned.yaml\nrule_matching: first\ncases:\n  - name: replay of the learning capture\n    capture: {}\n    expect: []\n",
        capture.display()
    );
    // The spawned program keeps the workload's selection (a process tree is selected through proc.aname).
    let child = if s.kind == "process tree" {
        format!("proc.aname: {}, ", s.selection[1])
    } else {
        String::new()
    };
    let spawn = format!("{child}evt.type: execve, evt.rawres: 0");
    y.push_str(&format!(
        "  - name: \"deviation: an unknown program is spawned\"\n    events:\n      - {{{}, {spawn}}}\n    expect: [\"Unexpected process spawned in {t}\"]\n",
        f.replace(&format!("proc.name: {}", s.selection[1]), "proc.name: frule-probe")
    ));
    y.push_str(&dev(
        "ptrace",
        "evt.type: ptrace, evt.rawres: 0",
        "Unexpected syscall in",
    ));
    y.push_str(&dev(
        "listen on 4444",
        "evt.type: listen, evt.rawres: 0, fd.typechar: \"4\", fd.sip: 0.0.0.0, fd.sport: 4444",
        "Unexpected inbound port in",
    ));
    y.push_str(&dev(
        "connect to 203.0.113.7:4444",
        "evt.type: connect, evt.rawres: 0, fd.typechar: \"4\", fd.sip: 203.0.113.7, fd.snet: 203.0.113.7, fd.sport: 4444",
        "Unexpected outbound connection from",
    ));
    y.push_str(&dev(
        "read /root/.ssh/id_rsa",
        "evt.type: openat, evt.rawres: 3, evt.is_open_read: true, evt.is_open_write: false, fd.typechar: f, fd.name: /root/.ssh/id_rsa",
        "Unexpected file read in",
    ));
    y.push_str(&dev(
        "write /etc/cron.d/x",
        "evt.type: openat, evt.rawres: 3, evt.is_open_read: false, evt.is_open_write: true, fd.typechar: f, fd.name: /etc/cron.d/x",
        "Unexpected file write in",
    ));
    y.push_str(
        "  - name: an unknown program outside the workload (near miss)\n    events:\n      - {container.id: host, proc.name: frule-probe, evt.type: execve, evt.rawres: 0}\n    expect: []\n",
    );
    y
}

#[test]
fn learned_profiles_validate_replay_silently_and_catch_deviations() {
    let Some(corpus) = corpus() else { return };
    let mut failures = Vec::new();
    for s in SCENARIOS {
        let dir = temp_dir(s.tag);
        let learned = dir.join("learned.yaml");
        let capture = corpus.join(s.capture);
        let out = frulec(&[
            "profile",
            "--from",
            &capture.display().to_string(),
            s.selection[0],
            s.selection[1],
            "--name",
            "learned",
            "-o",
            &learned.display().to_string(),
        ]);
        if out.status.code() != Some(0) {
            failures.push(format!("{}: profile failed: {}", s.tag, text(&out.stderr)));
            continue;
        }
        let out = frulec(&["validate", &learned.display().to_string()]);
        if out.status.code() != Some(0) {
            failures.push(format!(
                "{}: does not validate: {}",
                s.tag,
                text(&out.stdout)
            ));
            continue;
        }
        let tests = dir.join("learned_test.yaml");
        std::fs::write(&tests, test_file(s, &capture)).expect("test file");
        let out = frulec(&["test", &tests.display().to_string()]);
        if out.status.code() != Some(0) {
            failures.push(format!(
                "{}: frulec test failed:\n{}{}",
                s.tag,
                text(&out.stdout),
                text(&out.stderr)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn learned_profile_snapshot() {
    let Some(corpus) = corpus() else { return };
    let capture = corpus.join("scap/libs-e2e/curl_google.scap");
    let out = frulec(&[
        "profile",
        "--from",
        &capture.display().to_string(),
        "--proc-name",
        "curl",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let actual = text(&out.stdout);
    let snap = Path::new(ROOT).join("tests/data/frulec_profile/curl_google.yaml");
    if std::env::var_os("FRULE_BLESS").is_some() {
        std::fs::write(&snap, &actual).expect("bless");
        return;
    }
    let expected = std::fs::read_to_string(&snap).expect("snapshot (bless with FRULE_BLESS=1)");
    assert!(
        expected == actual,
        "{} differs (bless with FRULE_BLESS=1)\n--- actual\n{actual}",
        snap.display()
    );
}

#[test]
fn no_match_lists_the_containers_and_exits_1() {
    let Some(corpus) = corpus() else { return };
    let capture = corpus.join("scap/falco-test-psp/write_tmp_test.scap");
    let out = frulec(&[
        "profile",
        "--from",
        &capture.display().to_string(),
        "--container-image",
        "redis*",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("no container image matches \"redis*\""),
        "{err}"
    );
    assert!(err.contains("image=nginx"), "{err}");
    let out = frulec(&[
        "profile",
        "--from",
        &capture.display().to_string(),
        "--list",
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert!(
        text(&out.stdout).contains("repository=nginx"),
        "{}",
        text(&out.stdout)
    );
}

#[test]
fn unreadable_capture_exits_2() {
    let out = frulec(&[
        "profile",
        "--from",
        "/nonexistent/capture.scap",
        "--proc-name",
        "x",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).starts_with("frulec profile: "),
        "{}",
        text(&out.stderr)
    );
}
