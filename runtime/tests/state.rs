//! State transitions on synthetic events: each test feeds a short event sequence (built in the scap
//! layout from the event catalog, parameters given by name) and checks the fields rules would read.

use frule_codegen::abi::{FieldArg, FieldSource, ValueBuf, ValueRef};
use frule_lang::events::{self, ppme};
use frule_lang::fields;
use frule_runtime::event::Event;
use frule_runtime::fields::Extractor;
use frule_runtime::state::{Limits, State, ThreadInfo};

/// Builds an event of type `code`; parameters are named as in the catalog, unnamed ones are left
/// empty (zero length), trailing empty ones are dropped.
fn build(ts: u64, tid: u64, code: u16, params: &[(&str, Vec<u8>)]) -> Vec<u8> {
    let info = events::event(code).expect("known event");
    let mut values: Vec<Vec<u8>> = info
        .params
        .iter()
        .map(|p| {
            params
                .iter()
                .find(|(n, _)| *n == p.name)
                .map(|(_, v)| v.clone())
                .unwrap_or_default()
        })
        .collect();
    for (n, _) in params {
        assert!(
            info.params.iter().any(|p| p.name == *n),
            "{} has no param {n}",
            info.name
        );
    }
    while values.last().is_some_and(Vec::is_empty) {
        values.pop();
    }
    let lsize = if info.is_large_payload() { 4 } else { 2 };
    let len = 26 + lsize * values.len() + values.iter().map(Vec::len).sum::<usize>();
    let mut v = Vec::new();
    v.extend_from_slice(&ts.to_le_bytes());
    v.extend_from_slice(&tid.to_le_bytes());
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v.extend_from_slice(&code.to_le_bytes());
    v.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for p in &values {
        if lsize == 4 {
            v.extend_from_slice(&(p.len() as u32).to_le_bytes());
        } else {
            v.extend_from_slice(&(p.len() as u16).to_le_bytes());
        }
    }
    for p in &values {
        v.extend_from_slice(p);
    }
    v
}

fn i64b(v: i64) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn u32b(v: u32) -> Vec<u8> {
    v.to_le_bytes().to_vec()
}
fn str0(s: &str) -> Vec<u8> {
    let mut v = s.as_bytes().to_vec();
    v.push(0);
    v
}
fn tuple4(s: [u8; 4], sp: u16, d: [u8; 4], dp: u16) -> Vec<u8> {
    let mut v = vec![2u8];
    v.extend_from_slice(&s);
    v.extend_from_slice(&sp.to_le_bytes());
    v.extend_from_slice(&d);
    v.extend_from_slice(&dp.to_le_bytes());
    v
}

/// A state with one process (`bash`, pid 100, parent 1 = `init`).
fn base() -> State {
    let mut s = State::default();
    let mut init = ThreadInfo::unknown(1);
    init.comm = b"init".to_vec();
    init.exe = b"/sbin/init".to_vec();
    init.ptid = 0;
    init.sid = 1;
    init.vtid = 1;
    init.vpid = 1;
    init.uid = 0;
    s.insert_thread(init);
    let mut bash = ThreadInfo::unknown(100);
    bash.comm = b"bash".to_vec();
    bash.exe = b"bash".to_vec();
    bash.exepath = b"/bin/bash".to_vec();
    bash.args = vec![b"-i".to_vec()];
    bash.ptid = 1;
    bash.sid = 100;
    bash.vtid = 100;
    bash.vpid = 100;
    bash.uid = 0;
    bash.gid = 0;
    bash.loginuid = 1000;
    bash.cwd = b"/home/u/".to_vec();
    s.insert_thread(bash);
    s
}

/// Applies the events in order and returns the text of each `field` after the last one.
fn run(state: &mut State, events: &[Vec<u8>], fields_wanted: &[&str]) -> Vec<String> {
    let mut last = None;
    for e in events {
        let evt = Event::new(e).expect("well-formed");
        state.update(&evt);
        last = Some(e);
    }
    let evt = Event::new(last.expect("one event")).expect("well-formed");
    let mut x = Extractor::new(state, evt);
    fields_wanted
        .iter()
        .map(|f| {
            let (name, arg) = match f.split_once('[') {
                Some((n, a)) => (n, Some(a.trim_end_matches(']'))),
                None => (*f, None),
            };
            let r = fields::resolve(name, arg).expect("field");
            let arg = match r.arg {
                fields::FieldArg::None => None,
                fields::FieldArg::Index(i) => Some(FieldArg::Index(i)),
                fields::FieldArg::Key(k) => Some(FieldArg::Key(k)),
            };
            let mut s = String::new();
            x.render_field(r.id, arg.as_ref(), &mut s);
            s
        })
        .collect()
}

#[test]
fn fork_then_execve_replaces_the_image() {
    let mut s = base();
    let clone_flags = 0u32; // a fork: no CLONE_THREAD
    let evs = vec![
        // parent side: res = child tid
        build(
            10,
            100,
            ppme::SYSCALL_CLONE_20_X,
            &[
                ("res", i64b(200)),
                ("exe", str0("bash")),
                ("args", b"-i\0".to_vec()),
                ("tid", i64b(100)),
                ("pid", i64b(100)),
                ("ptid", i64b(1)),
                ("cwd", str0("/home/u")),
                ("comm", str0("bash")),
                ("cgroups", b"cpu=/user.slice\0".to_vec()),
                ("flags", u32b(clone_flags)),
            ],
        ),
        build(
            20,
            200,
            ppme::SYSCALL_EXECVE_19_E,
            &[("filename", str0("/usr/bin/cat"))],
        ),
        build(
            30,
            200,
            ppme::SYSCALL_EXECVE_19_X,
            &[
                ("res", i64b(0)),
                ("exe", str0("cat")),
                ("args", b"/etc/shadow\0".to_vec()),
                ("tid", i64b(200)),
                ("pid", i64b(200)),
                ("ptid", i64b(100)),
                ("comm", str0("cat")),
                ("env", b"HOME=/root\0TERM=xterm\0".to_vec()),
            ],
        ),
    ];
    let got = run(
        &mut s,
        &evs,
        &[
            "proc.name",
            "proc.exe",
            "proc.exepath",
            "proc.cmdline",
            "proc.args",
            "proc.pname",
            "proc.pcmdline",
            "proc.aname[2]",
            "proc.aname[3]",
            "proc.pid",
            "proc.ppid",
            "proc.cwd",
            "proc.env[TERM]",
            "proc.duration",
            "user.name",
            "user.loginuid",
            "container.id",
            "evt.type",
            "evt.res",
            "evt.num",
        ],
    );
    assert_eq!(
        got,
        [
            "cat",
            "cat",
            "/usr/bin/cat",
            "cat /etc/shadow",
            "/etc/shadow",
            "bash",
            "bash -i",
            "init",
            "<NA>",
            "200",
            "100",
            "/home/u/",
            "xterm",
            "20",
            "root",
            "1000",
            "host",
            "execve",
            "SUCCESS",
            "3",
        ]
    );
}

#[test]
fn open_relative_close_is_deferred() {
    let mut s = base();
    let open = build(
        10,
        100,
        ppme::SYSCALL_OPENAT_2_X,
        &[
            ("fd", i64b(5)),
            ("dirfd", i64b(-100)),
            ("name", str0("../x/./f.txt")),
            ("flags", u32b(1 | 4)), // O_RDONLY|O_CREAT
        ],
    );
    let got = run(
        &mut s,
        std::slice::from_ref(&open),
        &[
            "fd.name",
            "fd.nameraw",
            "fd.directory",
            "fd.filename",
            "fd.typechar",
            "fd.num",
            "evt.is_open_read",
            "evt.is_open_write",
            "evt.arg.flags",
            "evt.arg.name",
        ],
    );
    assert_eq!(
        got,
        [
            "/home/x/f.txt",
            "../x/./f.txt",
            "/home/x",
            "f.txt",
            "f",
            "5",
            "true",
            "false",
            "O_CREAT|O_RDONLY",
            "/home/x/f.txt",
        ]
    );
    let close = build(
        20,
        100,
        ppme::SYSCALL_CLOSE_X,
        &[("res", i64b(0)), ("fd", i64b(5))],
    );
    let got = run(&mut s, std::slice::from_ref(&close), &["fd.name", "fd.num"]);
    assert_eq!(got, ["/home/x/f.txt", "5"], "close still shows the fd");
    let read = build(
        30,
        100,
        ppme::SYSCALL_READ_X,
        &[("res", i64b(0)), ("fd", i64b(5))],
    );
    let got = run(&mut s, &[read], &["fd.name", "fd.num"]);
    assert_eq!(
        got,
        ["", "5"],
        "gone after the next event: named by nothing"
    );
    assert_eq!(s.fd_count(), 0);
}

#[test]
fn connect_and_accept_tuples() {
    let mut s = base();
    let evs = vec![
        build(
            1,
            100,
            ppme::SOCKET_SOCKET_X,
            &[
                ("fd", i64b(3)),
                ("domain", u32b(2)),
                ("type", u32b(1)),
                ("proto", u32b(0)),
            ],
        ),
        build(
            2,
            100,
            ppme::SOCKET_CONNECT_X,
            &[
                ("res", i64b(0)),
                ("tuple", tuple4([10, 0, 0, 1], 40000, [8, 8, 8, 8], 53)),
                ("fd", i64b(3)),
            ],
        ),
    ];
    let got = run(
        &mut s,
        &evs,
        &[
            "fd.name",
            "fd.type",
            "fd.l4proto",
            "fd.cip",
            "fd.sip",
            "fd.cport",
            "fd.sport",
            "fd.sockfamily",
            "fd.connected",
            "evt.arg.fd",
        ],
    );
    assert_eq!(
        got,
        [
            "10.0.0.1:40000->8.8.8.8:53",
            "ipv4",
            "tcp",
            "10.0.0.1",
            "8.8.8.8",
            "40000",
            "53",
            "ip",
            "true",
            "<4t>10.0.0.1:40000->8.8.8.8:53",
        ]
    );
    let acc = build(
        3,
        100,
        ppme::SOCKET_ACCEPT_5_X,
        &[
            ("fd", i64b(4)),
            ("tuple", tuple4([1, 2, 3, 4], 5555, [10, 0, 0, 1], 22)),
        ],
    );
    let got = run(&mut s, &[acc], &["fd.name", "fd.sport", "fd.cip", "fd.num"]);
    assert_eq!(got, ["1.2.3.4:5555->10.0.0.1:22", "22", "1.2.3.4", "4"]);
}

#[test]
fn dup_pipe_chdir_and_exit() {
    let mut s = base();
    let evs = vec![
        build(
            1,
            100,
            ppme::SYSCALL_PIPE2_X,
            &[("res", i64b(0)), ("fd1", i64b(3)), ("fd2", i64b(4))],
        ),
        build(
            2,
            100,
            ppme::SYSCALL_DUP2_X,
            &[("res", i64b(9)), ("oldfd", i64b(4)), ("newfd", i64b(9))],
        ),
    ];
    let got = run(&mut s, &evs, &["fd.num", "fd.type", "fd.typechar"]);
    assert_eq!(got, ["9", "pipe", "p"]);
    let cd = build(
        3,
        100,
        ppme::SYSCALL_CHDIR_X,
        &[("res", i64b(0)), ("path", str0("/tmp/../var"))],
    );
    let got = run(&mut s, &[cd], &["proc.cwd"]);
    assert_eq!(got, ["/var/"]);
    assert_eq!(s.fd_count(), 3);
    let exit = build(4, 100, ppme::PROCEXIT_1_E, &[("status", i64b(0))]);
    let got = run(&mut s, &[exit], &["proc.name"]);
    assert_eq!(got, ["bash"], "procexit still shows the exiting thread");
    let other = build(5, 1, ppme::SYSCALL_CLOSE_X, &[("res", i64b(0))]);
    run(&mut s, &[other], &["proc.name"]);
    assert!(s.thread(100).is_none());
    assert_eq!(s.fd_count(), 0, "the exited process's fds are freed");
}

#[test]
fn threads_share_fds_and_missing_values_are_na() {
    let mut s = base();
    let clone_thread = 0x2000 | 0x1 | 0x100; // CLONE_THREAD | CLONE_FILES | CLONE_VM (PPM values)
    let evs = vec![
        build(
            1,
            100,
            ppme::SYSCALL_OPEN_X,
            &[
                ("fd", i64b(7)),
                ("name", str0("/etc/passwd")),
                ("flags", u32b(1)),
            ],
        ),
        build(
            2,
            101,
            ppme::SYSCALL_CLONE_20_X,
            &[
                ("res", i64b(0)),
                ("exe", str0("bash")),
                ("tid", i64b(101)),
                ("pid", i64b(100)),
                ("ptid", i64b(1)),
                ("comm", str0("bash")),
                ("flags", u32b(clone_thread)),
            ],
        ),
        build(
            3,
            101,
            ppme::SYSCALL_READ_X,
            &[("res", i64b(10)), ("fd", i64b(7))],
        ),
    ];
    let got = run(
        &mut s,
        &evs,
        &[
            "fd.name",
            "thread.tid",
            "proc.pid",
            "thread.ismain",
            "proc.pname",
            "fd.cip",
            "fd.sockfamily",
            "evt.is_open_read",
        ],
    );
    assert_eq!(
        got,
        [
            "/etc/passwd",
            "101",
            "100",
            "false",
            "init",
            "<NA>",
            "<NA>",
            "false"
        ]
    );
}

#[test]
fn thread_table_is_bounded() {
    let mut s = State::default();
    s.set_limits(Limits {
        max_threads: 100,
        max_fds_per_process: 4,
    });
    for tid in 1..1000u64 {
        let e = build(
            tid,
            tid,
            ppme::SYSCALL_OPEN_X,
            &[("fd", i64b(3)), ("name", str0("/x")), ("flags", u32b(1))],
        );
        s.update(&Event::new(&e).expect("event"));
    }
    assert!(s.thread_count() <= 100, "{} threads", s.thread_count());
    for fd in 0..10 {
        let e = build(
            5000,
            999,
            ppme::SYSCALL_OPEN_X,
            &[("fd", i64b(fd)), ("name", str0("/y")), ("flags", u32b(1))],
        );
        s.update(&Event::new(&e).expect("event"));
    }
    assert!(s.fd_count() <= 100 * 4);
}

#[test]
fn extract_representation() {
    let mut s = base();
    let e = build(
        7,
        100,
        ppme::SYSCALL_OPEN_X,
        &[
            ("fd", i64b(-2)),
            ("name", str0("/nope")),
            ("flags", u32b(1)),
        ],
    );
    s.update(&Event::new(&e).expect("event"));
    let evt = Event::new(&e).expect("event");
    let mut x = Extractor::new(&s, evt);
    let mut buf = ValueBuf::new();
    let id = |n: &str| fields::lookup(n).expect("field");
    assert!(x.extract(id("evt.rawres"), None, &mut buf));
    assert_eq!(buf.get(0), Some(ValueRef::I64(-2)));
    buf.clear();
    assert!(x.extract(id("evt.failed"), None, &mut buf));
    assert_eq!(buf.get(0), Some(ValueRef::Bool(true)));
    buf.clear();
    assert!(
        x.extract(id("fd.name"), None, &mut buf),
        "named by the event"
    );
    assert_eq!(buf.get(0), Some(ValueRef::Bytes(b"/nope")));
    buf.clear();
    assert!(!x.extract(id("fd.filename"), None, &mut buf), "no fd");
    buf.clear();
    assert!(x.extract(id("evt.num"), None, &mut buf));
    assert_eq!(buf.get(0), Some(ValueRef::U64(1)), "numbering starts at 1");
    buf.clear();
    assert!(x.extract(id("proc.aname"), None, &mut buf));
    assert_eq!(buf.len(), 1, "one item per ancestor");
    assert_eq!(buf.get(0), Some(ValueRef::Bytes(b"init")));
}

#[test]
fn open_exec_and_create_flags() {
    let mut s = base();
    let e = build(
        1,
        100,
        ppme::SYSCALL_OPEN_X,
        &[
            ("fd", i64b(3)),
            ("name", str0("/tmp/x.sh")),
            ("flags", u32b(2 | 4 | 0x4000)), // O_WRONLY|O_CREAT|O_F_CREATED
            ("mode", u32b(0o755)),
        ],
    );
    let got = run(
        &mut s,
        &[e],
        &[
            "evt.is_open_read",
            "evt.is_open_write",
            "evt.is_open_exec",
            "evt.is_open_create",
            "evt.arg.mode",
        ],
    );
    assert_eq!(got[..4], ["false", "true", "true", "true"]);
    let e = build(
        2,
        100,
        ppme::SYSCALL_OPEN_X,
        &[
            ("fd", i64b(4)),
            ("name", str0("/etc/hosts")),
            ("flags", u32b(1)),
            ("mode", u32b(0o755)),
        ],
    );
    let got = run(&mut s, &[e], &["evt.is_open_exec", "evt.is_open_create"]);
    assert_eq!(got, ["false", "false"], "no O_CREAT: not an exec open");
}

#[test]
fn latency_pairs_enter_and_exit() {
    let mut s = base();
    let enter = build(
        1_000,
        100,
        ppme::SYSCALL_OPEN_E,
        &[("name", str0("/etc/hosts")), ("flags", u32b(1))],
    );
    // an old-style exit: only the fd
    let exit = build(1_750, 100, ppme::SYSCALL_OPEN_X, &[("fd", i64b(3))]);
    let got = run(
        &mut s,
        &[enter, exit],
        &["evt.latency", "fd.name", "evt.arg.name"],
    );
    // the exit lacks the name: the state takes it from the enter, evt.arg shows the exit's own
    assert_eq!(got, ["750", "/etc/hosts", "<NA>"]);
}
