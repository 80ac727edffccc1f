//! `frule-monitor --replay` end to end: Falco's exact text and JSON on the regression oracle, the
//! summary on stderr, the file / program / HTTP channels, configuration files and exit codes.
//!
//! Runs the built binary with `TZ=UTC` and `FALCO_HOSTNAME=test-falco-hostname`, as Falco's harness did.
//! Reads the corpus in place from `FRULE_CORPUS` (default `../shared/corpus`); without it the tests
//! print why and pass.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn corpus() -> Option<PathBuf> {
    let dir = std::env::var_os("FRULE_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/corpus")));
    if dir.join("falco-regression").is_dir() {
        Some(dir)
    } else {
        eprintln!(
            "skipping: corpus not found at {} (set FRULE_CORPUS)",
            dir.display()
        );
        None
    }
}

fn monitor(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_frule-monitor"))
        .args(args)
        .env("TZ", "UTC")
        .env("FALCO_HOSTNAME", "test-falco-hostname")
        .output()
        .unwrap_or_else(|e| panic!("cannot run frule-monitor: {e}"))
}

/// The backends `--backend` accepts, each test that checks alerts runs on every one of them.
const BACKENDS: &[&str] = &["jit", "vm", "vm-O0"];

/// `frule-monitor --backend BACKEND ARGS...`.
fn monitor_on(backend: &str, args: &[&str]) -> Output {
    let mut all = vec!["--backend", backend];
    all.extend_from_slice(args);
    monitor(&all)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn tmpdir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("frule-replay-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display()));
    d
}

struct Paths {
    rules: PathBuf,
    cat_write: String,
    oracle_txt: String,
    oracle_json: String,
}

fn paths(dir: &Path) -> Paths {
    let read =
        |p: PathBuf| std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
    let suites = dir.join("falco-regression/suites");
    let mut oracle_txt = read(suites.join("expected_output_single_rule_with_cat_write.txt"));
    let mut oracle_json = read(suites.join("expected_output_single_rule_with_cat_write.json"));
    // The oracle files lack the last newline; every alert line ends with one.
    for s in [&mut oracle_txt, &mut oracle_json] {
        if !s.ends_with('\n') {
            s.push('\n');
        }
    }
    Paths {
        rules: dir.join("falco-regression/rules"),
        cat_write: dir
            .join("scap/falco-test/cat_write.scap")
            .display()
            .to_string(),
        oracle_txt,
        oracle_json,
    }
}

fn rule(p: &Paths, name: &str) -> String {
    p.rules.join(name).display().to_string()
}

#[test]
fn exact_text_and_json_oracle() {
    let Some(dir) = corpus() else { return };
    let p = paths(&dir);
    for backend in BACKENDS {
        exact_oracle_on(&p, backend);
    }
}

fn exact_oracle_on(p: &Paths, backend: &str) {
    let out = monitor_on(
        backend,
        &[
            "-r",
            &rule(p, "single_rule.yaml"),
            "--replay",
            &p.cat_write,
            "-o",
            "time_format_iso_8601=true",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{backend}: {}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), p.oracle_txt, "{backend}");
    let err = text(&out.stderr);
    assert!(
        err.contains("Events detected: 8\nRule counts by severity:\n   WARNING: 8\nTriggered rules by rule name:\n   open_from_cat: 8\n"),
        "{backend}: {err}"
    );
    assert!(err.contains("Captured Events: "), "{backend}: {err}");

    let out = monitor_on(
        backend,
        &[
            "-r",
            &rule(p, "single_rule_with_tags.yaml"),
            "--replay",
            &p.cat_write,
            "--json",
            "-o",
            "time_format_iso_8601=true",
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{backend}: {}",
        text(&out.stderr)
    );
    assert_eq!(text(&out.stdout), p.oracle_json, "{backend}");
}

#[test]
fn file_and_program_outputs_from_a_config_file() {
    let Some(dir) = corpus() else { return };
    let p = paths(&dir);
    let tmp = tmpdir("outputs");
    let file_out = tmp.join("file_output.txt");
    let prog_out = tmp.join("program_output.txt");
    let conf = tmp.join("falco.yaml");
    std::fs::write(
        &conf,
        format!(
            "json_output: false\ntime_format_iso_8601: true\nlog_stderr: false\nstdout_output:\n  enabled: false\nfile_output:\n  enabled: true\n  filename: {}\nprogram_output:\n  enabled: true\n  program: cat >> {}\n",
            file_out.display(),
            prog_out.display()
        ),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    let out = monitor(&[
        "-c",
        &conf.display().to_string(),
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        &p.cat_write,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "", "stdout_output is disabled");
    let read =
        |f: &Path| std::fs::read_to_string(f).unwrap_or_else(|e| panic!("{}: {e}", f.display()));
    assert_eq!(read(&file_out), p.oracle_txt);
    assert_eq!(read(&prog_out), p.oracle_txt);
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn http_output_posts_json_alerts() {
    let Some(dir) = corpus() else { return };
    let p = paths(&dir);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap_or_else(|e| panic!("{e}"));
    let port = listener.local_addr().map(|a| a.port()).unwrap_or(0);
    let server = std::thread::spawn(move || {
        let mut bodies = Vec::new();
        for _ in 0..8 {
            let Ok((stream, _)) = listener.accept() else {
                break;
            };
            let mut reader = BufReader::new(stream);
            let mut len = 0usize;
            let mut head = Vec::new();
            loop {
                let mut line = String::new();
                if reader.read_line(&mut line).unwrap_or(0) == 0 || line == "\r\n" {
                    break;
                }
                if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                    len = v.trim().parse().unwrap_or(0);
                }
                head.push(line);
            }
            let mut body = vec![0; len];
            let _ = reader.read_exact(&mut body);
            let _ = reader
                .get_mut()
                .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
            bodies.push((head, String::from_utf8_lossy(&body).into_owned()));
        }
        bodies
    });
    let url = format!("http_output.url=http://127.0.0.1:{port}/");
    let out = monitor(&[
        "-r",
        &rule(&p, "single_rule_with_tags.yaml"),
        "--replay",
        &p.cat_write,
        "--json",
        "-o",
        "time_format_iso_8601=true",
        "-o",
        "http_output.enabled=true",
        "-o",
        &url,
        "-o",
        "stdout_output.enabled=false",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let bodies = server.join().unwrap_or_default();
    assert_eq!(bodies.len(), 8);
    let want: Vec<&str> = p.oracle_json.lines().collect();
    for (i, (head, body)) in bodies.iter().enumerate() {
        assert!(
            head.iter().any(|h| h.starts_with("POST / HTTP/1.1")),
            "{head:?}"
        );
        assert!(
            head.iter()
                .any(|h| h == "Content-Type: application/json\r\n"),
            "{head:?}"
        );
        assert!(
            head.iter()
                .any(|h| h == "User-Agent: falcosecurity/falco\r\n"),
            "{head:?}"
        );
        assert_eq!(Some(&body.as_str()), want.get(i));
    }
}

#[test]
fn exit_codes() {
    let Some(dir) = corpus() else { return };
    let p = paths(&dir);
    // Invalid rules: exit 1 with frulec validate's diagnostics.
    let out = monitor(&[
        "-r",
        &rule(&p, "invalid_rule_output.yaml"),
        "--replay",
        &p.cat_write,
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = text(&out.stderr);
    assert!(
        err.contains("Invalid") && err.contains("LOAD_ERR_COMPILE_OUTPUT"),
        "{err}"
    );
    // -t with -T: Falco's error, exit 1.
    let out = monitor(&[
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        &p.cat_write,
        "-t",
        "a",
        "-T",
        "a",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr)
            .contains("Error: You can not specify both disabled (-D/-T) and enabled (-t) rules"),
        "{}",
        text(&out.stderr)
    );
    // A bad configuration value: exit 1, located.
    let out = monitor(&[
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        &p.cat_write,
        "-o",
        "priority=loud",
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("-o: priority: unknown priority \"loud\""),
        "{}",
        text(&out.stderr)
    );
    // Unreadable inputs: exit 2.
    let out = monitor(&[
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        "/nonexistent/x.scap",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let out = monitor(&["-r", "/nonexistent/rules.yaml", "--replay", &p.cat_write]);
    assert_eq!(out.status.code(), Some(2));
    let tmp = tmpdir("corrupt");
    let bad = tmp.join("bad.scap");
    std::fs::write(&bad, b"not a capture at all").unwrap_or_else(|e| panic!("{e}"));
    let out = monitor(&[
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        &bad.display().to_string(),
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn options_reach_the_engine() {
    let Some(dir) = corpus() else { return };
    let p = paths(&dir);
    for backend in BACKENDS {
        options_on(&p, backend);
    }
}

fn options_on(p: &Paths, backend: &str) {
    let r = |n: &str| rule(p, n);
    // priority threshold suppresses the INFO rule (multiple_rules_suppress_info).
    let out = monitor_on(
        backend,
        &[
            "-r",
            &r("single_rule.yaml"),
            "-r",
            &r("double_rule.yaml"),
            "--replay",
            &p.cat_write,
            "-o",
            "priority=WARNING",
        ],
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("   open_from_cat: 8\n") && err.contains("   exec_from_cat: 1\n"),
        "{backend}: {err}"
    );
    assert!(!err.contains("access_from_cat"), "{backend}: {err}");
    // -D substring.
    let out = monitor_on(
        backend,
        &[
            "-r",
            &r("single_rule.yaml"),
            "--replay",
            &p.cat_write,
            "-D",
            "open_from",
        ],
    );
    assert!(
        text(&out.stderr).contains("Events detected: 0\n"),
        "{backend}: {}",
        text(&out.stderr)
    );
    // rule_matching: all lets the catch-all rule see the event the first rule claimed.
    let out = monitor_on(
        backend,
        &[
            "-r",
            &r("catchall_order.yaml"),
            "--replay",
            &p.cat_write,
            "-o",
            "rule_matching=all",
        ],
    );
    let err = text(&out.stderr);
    assert!(
        err.contains("   open_dev_null: 1\n   dev_null: 7\n"),
        "{backend}: {err}"
    );
}

#[test]
fn falco_harness_config_files_work() {
    let Some(dir) = corpus() else { return };
    let p = paths(&dir);
    // The regression suite's own config (legacy `rules_file` key, syslog/grpc keys): -r wins over it.
    let conf = dir.join("falco-regression/confs/stdout_output.yaml");
    let out = monitor(&[
        "-c",
        &conf.display().to_string(),
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        &p.cat_write,
        "-o",
        "time_format_iso_8601=true",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), p.oracle_txt);
}

#[test]
fn backend_from_the_command_line_or_the_configuration() {
    let Some(dir) = corpus() else { return };
    let p = paths(&dir);
    let single = rule(&p, "single_rule.yaml");
    // `frule.backend` selects it; `-v` reports the build; `--backend` wins over the key.
    for (args, want) in [
        (vec!["-o", "frule.backend=vm-O0"], "vm-O0"),
        (vec!["-o", "frule.backend=vm"], "vm"),
        (vec!["-o", "frule.backend=vm", "--backend", "jit"], "jit"),
        (vec![], "jit"),
    ] {
        let mut all = vec![
            "-v",
            "-r",
            &single,
            "--replay",
            &p.cat_write,
            "-o",
            "time_format_iso_8601=true",
        ];
        all.extend(args.iter().copied());
        let out = monitor(&all);
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{args:?}: {err}");
        assert!(
            err.contains(&format!("Rules compiled for the {want} backend: 1 rules")),
            "{args:?}: {err}"
        );
        assert_eq!(text(&out.stdout), p.oracle_txt, "{args:?}");
    }
    // An unknown backend: a usage error on the command line (exit 2), a located configuration error
    // in the configuration (exit 1).
    let out = monitor_on(
        "fast",
        &[
            "-r",
            &rule(&p, "single_rule.yaml"),
            "--replay",
            &p.cat_write,
        ],
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("unknown backend \"fast\""),
        "{}",
        text(&out.stderr)
    );
    let out = monitor(&[
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        &p.cat_write,
        "-o",
        "frule.backend=fast",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert!(
        text(&out.stderr).contains("-o: frule.backend: unknown backend \"fast\""),
        "{}",
        text(&out.stderr)
    );
}
