//! `frule-monitor --replay` end to end: Falco's exact text and JSON on the regression oracle, the
//! summary on stderr, the file / program / HTTP channels, configuration files and exit codes.
//!
//! Runs the built binary with `TZ=UTC` and `FALCO_HOSTNAME=test-falco-hostname`, as Falco's harness did.
//! Reads the corpus in place from `FRULE_CORPUS` (default `../shared/corpus`); without it the tests
//! print why and pass.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Output;

use support::{regression_corpus, run_monitor};

/// The backends `--backend` accepts, each test that checks alerts runs on every one of them.
const BACKENDS: &[&str] = &["jit", "vm", "vm-O0"];

/// `frule-monitor --backend BACKEND ARGS...`.
fn monitor_on(backend: &str, args: &[&str]) -> Output {
    let mut all = vec!["--backend", backend];
    all.extend_from_slice(args);
    run_monitor(&all)
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// Asserts the exit code and that stderr contains every needle; returns stderr for further checks.
/// `what` names the case in the failure message (a backend, the arguments).
fn expect_exit(out: &Output, code: i32, needles: &[&str], what: &str) -> String {
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(code), "{what}: {err}");
    for needle in needles {
        assert!(
            err.contains(needle),
            "{what}: want {needle:?} in stderr:\n{err}"
        );
    }
    err
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
    let Some(dir) = regression_corpus() else {
        return;
    };
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
    expect_exit(
        &out,
        0,
        &[
            "Events detected: 8\nRule counts by severity:\n   WARNING: 8\nTriggered rules by rule name:\n   open_from_cat: 8\n",
            "Captured Events: ",
        ],
        backend,
    );
    assert_eq!(text(&out.stdout), p.oracle_txt, "{backend}");

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
    expect_exit(&out, 0, &[], backend);
    assert_eq!(text(&out.stdout), p.oracle_json, "{backend}");
}

#[test]
fn file_and_program_outputs_from_a_config_file() {
    let Some(dir) = regression_corpus() else {
        return;
    };
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
    let out = run_monitor(&[
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
    let Some(dir) = regression_corpus() else {
        return;
    };
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
    let out = run_monitor(&[
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
    let Some(dir) = regression_corpus() else {
        return;
    };
    let p = paths(&dir);
    let tmp = tmpdir("corrupt");
    let bad = tmp.join("bad.scap");
    std::fs::write(&bad, b"not a capture at all").unwrap_or_else(|e| panic!("{e}"));
    let bad = bad.display().to_string();
    let single = rule(&p, "single_rule.yaml");
    let invalid = rule(&p, "invalid_rule_output.yaml");
    let cases: &[(&str, Vec<&str>, i32, &[&str])] = &[
        (
            "invalid rules: frulec validate's diagnostics",
            vec!["-r", &invalid, "--replay", &p.cat_write],
            1,
            &["Invalid", "LOAD_ERR_COMPILE_OUTPUT"],
        ),
        (
            "-t with -T: Falco's error",
            vec![
                "-r",
                &single,
                "--replay",
                &p.cat_write,
                "-t",
                "a",
                "-T",
                "a",
            ],
            1,
            &["Error: You can not specify both disabled (-D/-T) and enabled (-t) rules"],
        ),
        (
            "a bad configuration value, located",
            vec![
                "-r",
                &single,
                "--replay",
                &p.cat_write,
                "-o",
                "priority=loud",
            ],
            1,
            &["-o: priority: unknown priority \"loud\""],
        ),
        (
            "an unreadable capture",
            vec!["-r", &single, "--replay", "/nonexistent/x.scap"],
            2,
            &[],
        ),
        (
            "an unreadable rules file",
            vec!["-r", "/nonexistent/rules.yaml", "--replay", &p.cat_write],
            2,
            &[],
        ),
        (
            "a file that is not a capture",
            vec!["-r", &single, "--replay", &bad],
            2,
            &[],
        ),
    ];
    for (what, args, code, needles) in cases {
        expect_exit(&run_monitor(args), *code, needles, what);
    }
    let _ = std::fs::remove_dir_all(&tmp);
}

#[test]
fn options_reach_the_engine() {
    let Some(dir) = regression_corpus() else {
        return;
    };
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
    let err = expect_exit(
        &out,
        0,
        &["   open_from_cat: 8\n", "   exec_from_cat: 1\n"],
        backend,
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
    expect_exit(&out, 0, &["Events detected: 0\n"], backend);
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
    expect_exit(&out, 0, &["   open_dev_null: 1\n   dev_null: 7\n"], backend);
}

#[test]
fn falco_harness_config_files_work() {
    let Some(dir) = regression_corpus() else {
        return;
    };
    let p = paths(&dir);
    // The regression suite's own config (legacy `rules_file` key, syslog/grpc keys): -r wins over it.
    let conf = dir.join("falco-regression/confs/stdout_output.yaml");
    let out = run_monitor(&[
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
    let Some(dir) = regression_corpus() else {
        return;
    };
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
        let out = run_monitor(&all);
        let compiled = format!("Rules compiled for the {want} backend: 1 rules");
        expect_exit(&out, 0, &[&compiled], &format!("{args:?}"));
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
    expect_exit(&out, 2, &["unknown backend \"fast\""], "--backend fast");
    let out = run_monitor(&[
        "-r",
        &rule(&p, "single_rule.yaml"),
        "--replay",
        &p.cat_write,
        "-o",
        "frule.backend=fast",
    ]);
    expect_exit(
        &out,
        1,
        &["-o: frule.backend: unknown backend \"fast\""],
        "frule.backend=fast",
    );
}
