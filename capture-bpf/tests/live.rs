//! Live capture tests: they load the eBPF program into the running kernel.
//!
//! They need root (or CAP_BPF + CAP_PERFMON) and kernel BTF; elsewhere each test prints why
//! it skips and returns. Events are decoded with a small local decoder (header, u16 lengths,
//! params) so this crate stays independent of the runtime's decoder.
//!
//! No test depends on timing: each polls until it has seen what it needs, with a generous
//! deadline that only bounds a failing run.

use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use frule_capture_bpf::{
    AttachMode, Capture, CaptureError, CaptureOptions, EntryHook, Interest, Toctou,
};

const DEADLINE: Duration = Duration::from_secs(30);

/// One decoded event.
#[derive(Debug, Clone)]
struct Event {
    ts: u64,
    tid: u64,
    ty: u16,
    params: Vec<Vec<u8>>,
}

impl Event {
    fn decode(raw: &[u8]) -> Result<Self, String> {
        let u64_at = |o: usize| -> Result<u64, String> {
            raw.get(o..o + 8)
                .and_then(|b| b.try_into().ok())
                .map(u64::from_le_bytes)
                .ok_or_else(|| format!("short event ({} bytes)", raw.len()))
        };
        let ts = u64_at(0)?;
        let tid = u64_at(8)?;
        let len = raw
            .get(16..20)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or("no len")?;
        let ty = raw
            .get(20..22)
            .and_then(|b| b.try_into().ok())
            .map(u16::from_le_bytes)
            .ok_or("no type")?;
        let nparams = raw
            .get(22..26)
            .and_then(|b| b.try_into().ok())
            .map(u32::from_le_bytes)
            .ok_or("no nparams")?;
        if len as usize != raw.len() {
            return Err(format!(
                "header len {len} but event has {} bytes",
                raw.len()
            ));
        }
        let mut pos = 26 + 2 * nparams as usize;
        let mut params = Vec::new();
        for i in 0..nparams as usize {
            let l = raw
                .get(26 + 2 * i..28 + 2 * i)
                .and_then(|b| b.try_into().ok())
                .map(u16::from_le_bytes)
                .ok_or("short lengths array")? as usize;
            let p = raw
                .get(pos..pos + l)
                .ok_or_else(|| format!("param {i} overruns the event"))?;
            params.push(p.to_vec());
            pos += l;
        }
        if pos != raw.len() {
            return Err(format!("params end at {pos}, event at {}", raw.len()));
        }
        Ok(Self {
            ts,
            tid,
            ty,
            params,
        })
    }

    fn param(&self, i: usize) -> &[u8] {
        self.params.get(i).map_or(&[], Vec::as_slice)
    }

    fn i64(&self, i: usize) -> i64 {
        self.param(i)
            .try_into()
            .map(i64::from_le_bytes)
            .unwrap_or(i64::MIN)
    }

    fn u32(&self, i: usize) -> u32 {
        self.param(i)
            .try_into()
            .map(u32::from_le_bytes)
            .unwrap_or(u32::MAX)
    }

    fn u64(&self, i: usize) -> u64 {
        self.param(i)
            .try_into()
            .map(u64::from_le_bytes)
            .unwrap_or(u64::MAX)
    }

    /// A NUL-terminated string param (the NUL is part of the length).
    fn str(&self, i: usize) -> String {
        let p = self.param(i);
        let p = p.strip_suffix(&[0]).unwrap_or(p);
        String::from_utf8_lossy(p).into_owned()
    }

    /// NUL-separated strings (args, env, cgroups).
    fn strs(&self, i: usize) -> Vec<String> {
        self.param(i)
            .split(|&b| b == 0)
            .filter(|s| !s.is_empty())
            .map(|s| String::from_utf8_lossy(s).into_owned())
            .collect()
    }
}

/// Opens a capture, or prints why this environment cannot and returns None.
fn open_or_skip(test: &str, options: CaptureOptions) -> Option<Capture> {
    match Capture::open(options) {
        Ok(c) => Some(c),
        Err(
            e @ (CaptureError::NotRoot { .. }
            | CaptureError::BtfMissing { .. }
            | CaptureError::BpfUnavailable(_)),
        ) => {
            eprintln!("skipping {test}: {e}");
            None
        }
        Err(e) => panic!("{test}: cannot start the capture: {e:?}"),
    }
}

/// Polls until `done` says so (it sees every decoded event once) or the deadline passes.
fn collect_until(cap: &mut Capture, mut done: impl FnMut(&Event) -> bool) -> bool {
    let start = Instant::now();
    let mut last_ts = 0;
    while start.elapsed() < DEADLINE {
        for raw in cap.poll(Duration::from_millis(100)) {
            let ev = Event::decode(raw.data).unwrap_or_else(|e| panic!("malformed event: {e}"));
            assert!(
                ev.ts >= last_ts,
                "events out of timestamp order within a batch"
            );
            last_ts = ev.ts;
            if done(&ev) {
                return true;
            }
        }
        last_ts = 0;
    }
    false
}

/// A cgroups param ("subsys=/path" entries) of a child of this process names the cgroups this
/// process is in (the child inherits them): each path is the one `/proc/self/cgroup` gives for a
/// hierarchy that lists the subsystem (v1; `io` is listed as `blkio`), or under the unified
/// hierarchy's path (v2: an ancestor when the controller is not enabled that deep), or `/` for a
/// controller no hierarchy lists.
fn assert_cgroups_are_ours(cgroups: &[String]) {
    let own = std::fs::read_to_string("/proc/self/cgroup").expect("/proc/self/cgroup");
    assert!(!cgroups.is_empty(), "no cgroups");
    for entry in cgroups {
        let (name, path) = entry
            .split_once('=')
            .unwrap_or_else(|| panic!("cgroups entry {entry:?} has no '='"));
        let mut listed = false;
        let mut matches = false;
        for line in own.lines() {
            let mut f = line.splitn(3, ':');
            let (_, ctrls, p) = (f.next(), f.next().unwrap_or(""), f.next().unwrap_or(""));
            if ctrls.is_empty() {
                matches |= p.starts_with(path);
            } else if ctrls
                .split(',')
                .any(|c| c == name || (name == "io" && c == "blkio"))
            {
                listed = true;
                matches |= p == path;
            }
        }
        assert!(
            matches || (!listed && path == "/"),
            "cgroups entry {entry:?} does not match /proc/self/cgroup:\n{own}\nall: {cgroups:?}"
        );
    }
}

fn gettid() -> u64 {
    // SAFETY: the gettid syscall takes no arguments and cannot fail.
    let tid = unsafe { libc::syscall(libc::SYS_gettid) };
    u64::try_from(tid).unwrap_or(0)
}

const PPME_SYSCALL_CLOSE_X: u16 = 5;
const PPME_SOCKET_CONNECT_X: u16 = 23;
const PPME_PROCEXIT_1_E: u16 = 186;
const PPME_SYSCALL_CLONE_20_X: u16 = 223;
const PPME_SYSCALL_CLONE3_X: u16 = 335;
const PPME_SOCKET_ACCEPT4_6_X: u16 = 389;
const PPME_SYSCALL_EXECVE_19_X: u16 = 293;
const PPME_SYSCALL_OPENAT_2_X: u16 = 307;
const PPM_O_RDONLY: u32 = 1;
const PPM_EXE_WRITABLE: u32 = 1 << 0;
const PPM_EXE_FROM_MEMFD: u32 = 1 << 2;

/// `cat /etc/hostname`: the clone that made it, its execve with exe/args, the openat of
/// the file with the right fd, dev/ino, and its procexit.
///
/// With `toctou` the open path comes from the entry-time copy (when tracefs is mounted),
/// without it from user memory at exit: both must give the same event.
fn exec_open_exit(test: &str, attach: AttachMode, toctou: bool) {
    let options = CaptureOptions {
        attach,
        toctou,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip(test, options) else {
        return;
    };
    // aya also looks at /sys/kernel/debug/tracing, so Active is fine without the first path
    let tracefs = std::path::Path::new("/sys/kernel/tracing/events/syscalls").exists();
    let active = match (toctou, tracefs, cap.toctou()) {
        (false, _, Toctou::Disabled) => false,
        (true, _, Toctou::Active) => true,
        (true, false, Toctou::Unavailable(why)) => {
            eprintln!("{test}: no tracefs: {why}");
            false
        }
        (_, _, other) => panic!("{test}: toctou {toctou}, tracefs {tracefs}: {other:?}"),
    };
    if attach != AttachMode::Auto {
        assert_eq!(cap.attach_mode(), attach);
    }
    let spawner = gettid();
    let meta = std::fs::metadata("/etc/hostname").expect("/etc/hostname exists on the test host");
    let child = Command::new("cat")
        .arg("/etc/hostname")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn cat");
    let pid = u64::from(child.id());
    let out = child.wait_with_output().expect("wait for cat");
    assert!(out.status.success());

    let (mut exec, mut open, mut exit, mut clone) = (None, None, None, None);
    let found = collect_until(&mut cap, |ev| {
        match ev.ty {
            PPME_SYSCALL_EXECVE_19_X if ev.u64(4) == pid => exec = Some(ev.clone()),
            PPME_SYSCALL_OPENAT_2_X if ev.tid == pid && ev.str(2) == "/etc/hostname" => {
                open = Some(ev.clone())
            }
            PPME_PROCEXIT_1_E if ev.tid == pid => exit = Some(ev.clone()),
            PPME_SYSCALL_CLONE_20_X | PPME_SYSCALL_CLONE3_X
                if ev.i64(0) == 0 && ev.u64(3) == pid =>
            {
                clone = Some(ev.clone())
            }
            _ => {}
        }
        exec.is_some() && open.is_some() && exit.is_some() && clone.is_some()
    });
    let counters = cap.counters().expect("read counters");
    assert!(
        found,
        "missing events for pid {pid}: execve {} openat {} procexit {} clone-child {}; counters {:?}",
        exec.is_some(),
        open.is_some(),
        exit.is_some(),
        clone.is_some(),
        counters.total()
    );
    let (exec, open, exit, clone) = (
        exec.expect("checked"),
        open.expect("checked"),
        exit.expect("checked"),
        clone.expect("checked"),
    );

    // execve exit: 31 params in current libs' order.
    assert_eq!(exec.params.len(), 31);
    assert_eq!(exec.i64(0), 0, "res");
    assert_eq!(exec.str(1), "cat", "exe is argv[0]");
    assert_eq!(exec.strs(2), vec!["/etc/hostname".to_owned()], "args");
    assert_eq!(exec.u64(3), pid, "tid");
    assert_eq!(
        exec.u64(5),
        spawner,
        "ptid is the thread that spawned the child"
    );
    assert_eq!(exec.str(13), "cat", "comm");
    assert_cgroups_are_ours(&exec.strs(14));
    assert!(
        exec.strs(15).iter().any(|e| e.starts_with("PATH=")),
        "env has PATH"
    );
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(exec.u32(26), euid, "uid");
    // root owns cat: writable by this user; not overlay, not memfd
    let expected_flags = if euid == 0 { PPM_EXE_WRITABLE } else { 0 };
    assert_eq!(exec.u32(19), expected_flags, "exe flags");
    let filename = exec.str(30);
    assert!(filename.ends_with("/cat"), "filename {filename}");
    let real = std::fs::canonicalize(&filename).expect("cat resolves");
    assert_eq!(exec.str(27), real.to_string_lossy(), "trusted_exepath");
    assert_eq!(
        exec.u64(23),
        std::fs::metadata(&filename).expect("cat exists").ino(),
        "exe_ino"
    );

    // openat exit: fd, dirfd, name, flags, mode, dev, ino.
    assert_eq!(open.params.len(), 7);
    assert!(open.i64(0) >= 3, "fd {}", open.i64(0));
    assert_eq!(open.i64(1), -100, "dirfd is AT_FDCWD");
    assert_eq!(open.u32(3) & 3, PPM_O_RDONLY, "flags {:#x}", open.u32(3));
    assert_eq!(open.u64(6), meta.ino(), "ino");
    let dev = meta.dev();
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    let encoded = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
    assert_eq!(open.u32(5), encoded, "dev");

    if active {
        assert!(
            counters.total().toctou_used > 0,
            "the openat path came from the entry copy"
        );
    } else {
        assert_eq!(counters.total().toctou_used, 0);
    }

    // procexit: status 0.
    assert_eq!(exit.params.len(), 5);
    assert_eq!(exit.i64(0), 0, "exit status");
    assert_eq!(clone.params.len(), 21);
    assert_eq!(clone.u64(4), pid, "clone child pid");
}

#[test]
fn exec_open_and_exit_of_a_child_tp_btf() {
    exec_open_exit(
        "exec_open_and_exit_of_a_child_tp_btf",
        AttachMode::BtfTracepoint,
        true,
    );
}

#[test]
fn exec_open_and_exit_of_a_child_raw_tp() {
    exec_open_exit(
        "exec_open_and_exit_of_a_child_raw_tp",
        AttachMode::RawTracepoint,
        false,
    );
}

/// A TCP connect to a loopback port: the connect event's tuple and addr, and the server's
/// accept4 with the mirrored tuple.
#[test]
fn loopback_connect_and_accept_tuples() {
    let (interest, unsupported) = Interest::from_ppm_events([22, 23, 388, 389]);
    assert!(unsupported.is_empty());
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("loopback_connect_and_accept_tuples", options) else {
        return;
    };
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let server = listener.local_addr().expect("local addr");
    let tid = gettid();
    let mut stream = TcpStream::connect(server).expect("connect loopback");
    let client = stream.local_addr().expect("client addr");
    let (_accepted, peer) = listener.accept().expect("accept");
    assert_eq!(peer, client);
    stream.write_all(b"x").expect("write");

    let loopback = [127u8, 0, 0, 1];
    let mut expected_tuple = vec![2u8];
    expected_tuple.extend_from_slice(&loopback);
    expected_tuple.extend_from_slice(&client.port().to_le_bytes());
    expected_tuple.extend_from_slice(&loopback);
    expected_tuple.extend_from_slice(&server.port().to_le_bytes());
    let mut expected_addr = vec![2u8];
    expected_addr.extend_from_slice(&loopback);
    expected_addr.extend_from_slice(&server.port().to_le_bytes());

    let (mut connect, mut accept) = (None, None);
    let found = collect_until(&mut cap, |ev| {
        if ev.ty == PPME_SOCKET_CONNECT_X
            && ev.tid == tid
            && ev.param(3) == expected_addr.as_slice()
        {
            connect = Some(ev.clone());
        }
        if ev.ty == PPME_SOCKET_ACCEPT4_6_X
            && ev.tid == tid
            && ev.param(1) == expected_tuple.as_slice()
        {
            accept = Some(ev.clone());
        }
        connect.is_some() && accept.is_some()
    });
    assert!(
        found,
        "connect {} accept4 {}",
        connect.is_some(),
        accept.is_some()
    );
    let connect = connect.expect("checked");
    assert_eq!(connect.params.len(), 4);
    assert_eq!(connect.i64(0), 0, "res");
    assert_eq!(
        connect.param(1),
        expected_tuple.as_slice(),
        "tuple: local then remote"
    );
    let accept = accept.expect("checked");
    assert_eq!(accept.params.len(), 6);
    assert!(accept.i64(0) >= 3, "accepted fd");
}

/// A burst of open/close pairs is captured completely with no drop, with one ring buffer
/// per CPU pair.
#[test]
fn burst_of_opens_has_no_drops() {
    let (interest, _) = Interest::from_ppm_events([306, 307, 4, 5]);
    // one ring per CPU pair, as Falco's default
    let options = CaptureOptions {
        interest,
        cpus_per_buffer: 2,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("burst_of_opens_has_no_drops", options) else {
        return;
    };
    let possible = std::fs::read_to_string("/sys/devices/system/cpu/possible").expect("cpu list");
    let ncpus: usize = possible
        .trim()
        .split(',')
        .map(|r| match r.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap_or(0) - a.parse::<usize>().unwrap_or(0) + 1,
            None => 1,
        })
        .sum();
    assert_eq!(
        cap.ring_count(),
        ncpus.div_ceil(2),
        "rings for {ncpus} cpus"
    );
    const N: usize = 2000;
    let tid = gettid();
    for _ in 0..N {
        let f = std::fs::File::open("/etc/hostname").expect("open");
        drop(f);
    }
    let (mut opens, mut closes) = (0usize, 0usize);
    let found = collect_until(&mut cap, |ev| {
        if ev.tid == tid {
            if ev.ty == PPME_SYSCALL_OPENAT_2_X && ev.str(2) == "/etc/hostname" {
                opens += 1;
            } else if ev.ty == PPME_SYSCALL_CLOSE_X && ev.i64(0) == 0 {
                closes += 1;
            }
        }
        opens >= N && closes >= N
    });
    let c = cap.counters().expect("counters");
    assert!(
        found,
        "saw {opens} opens and {closes} closes of {N}; counters {:?}",
        c.total()
    );
    assert_eq!(c.total().drops(), 0, "drops: {:?}", c.total());
    assert!(c.total().events >= (2 * N) as u64);
    assert!(c.events_read >= (2 * N) as u64);
}

/// Events written while [`Capture::drain_while`] runs start-up work are all handed out, and
/// before the events that follow it: here 2000 opens made inside the work, then one marker open
/// after it.
#[test]
fn events_of_start_up_work_come_first_and_complete() {
    let (interest, _) = Interest::from_ppm_events([306, 307]);
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("events_of_start_up_work_come_first_and_complete", options)
    else {
        return;
    };
    const N: usize = 2000;
    let tid = gettid();
    let made = cap.drain_while(|| {
        (0..N)
            .filter(|_| std::fs::File::open("/etc/hostname").is_ok())
            .count()
    });
    assert_eq!(made, N, "the work's result is handed back");
    drop(std::fs::File::open("/etc/hosts").expect("open /etc/hosts"));
    let mut during = 0usize;
    let mut marker_after = None;
    let found = collect_until(&mut cap, |ev| {
        if ev.tid == tid && ev.ty == PPME_SYSCALL_OPENAT_2_X {
            match ev.str(2).as_str() {
                "/etc/hostname" => during += 1,
                "/etc/hosts" => marker_after = Some(during),
                _ => {}
            }
        }
        marker_after.is_some()
    });
    let c = cap.counters().expect("counters");
    assert!(
        found,
        "no marker open; saw {during} of {N}; {:?}",
        c.total()
    );
    assert_eq!(marker_after, Some(N), "opens seen before the marker");
    assert_eq!(c.total().drops(), 0, "drops: {:?}", c.total());
}

/// Pins a thread to one CPU and back; the capture reports every event of the thread
/// with the CPU it ran on (one ring per CPU, so the ring tells the CPU exactly).
#[test]
fn events_carry_the_cpu_they_ran_on() {
    let (interest, _) = Interest::from_ppm_events([306, 307]);
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("events_carry_the_cpu_they_ran_on", options) else {
        return;
    };
    // SAFETY: sysconf has no preconditions.
    let online = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_ONLN) };
    let cpus: Vec<u16> = (0..u16::try_from(online).unwrap_or(1).min(4)).collect();
    let tid = gettid();
    let marker = |cpu: u16| format!("/proc/self/.frule-cpu-marker-{cpu}");
    for &cpu in &cpus {
        // SAFETY: set is a zeroed cpu_set_t we own; CPU_SET and sched_setaffinity only
        // read and write it, and 0 names the calling thread.
        let pinned = unsafe {
            let mut set: libc::cpu_set_t = std::mem::zeroed();
            libc::CPU_SET(usize::from(cpu), &mut set);
            libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set)
        };
        assert_eq!(pinned, 0, "cannot pin to cpu {cpu}");
        // the open fails (no such file), which still gives an openat exit event
        let _ = std::fs::File::open(marker(cpu));
    }
    let mut seen: Vec<(String, u16)> = Vec::new();
    let start = Instant::now();
    while start.elapsed() < DEADLINE && seen.len() < cpus.len() {
        for raw in cap.poll(Duration::from_millis(100)) {
            let ev = Event::decode(raw.data).unwrap_or_else(|e| panic!("malformed event: {e}"));
            if ev.tid == tid && ev.ty == PPME_SYSCALL_OPENAT_2_X && ev.str(2).contains("cpu-marker")
            {
                seen.push((ev.str(2), raw.cpu));
            }
        }
    }
    let want: Vec<(String, u16)> = cpus.iter().map(|&c| (marker(c), c)).collect();
    assert_eq!(seen, want, "(path, cpu) of the marker opens");
}

/// File-system and fd syscalls of this thread: mkdir, rename, unlink, rmdir (whichever of
/// the plain or `*at` variants libc uses), dup2, pipe2, and a write and read through the pipe.
#[test]
fn file_system_and_fd_events() {
    let names = [
        "mkdir",
        "mkdirat",
        "rename",
        "renameat",
        "renameat2",
        "unlink",
        "unlinkat",
        "rmdir",
        "dup2",
        "pipe2",
        "read",
        "write",
    ];
    let mut interest = Interest::none();
    for s in frule_capture_bpf::SUPPORTED
        .iter()
        .filter(|s| names.contains(&s.name))
    {
        interest = interest.with_syscall(s.nr);
    }
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("file_system_and_fd_events", options) else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("live-fs-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().expect("utf-8 path").to_owned();
    let (a, b) = (format!("{d}/a"), format!("{d}/b"));
    let tid = gettid();
    std::fs::create_dir(&dir).expect("mkdir");
    std::fs::write(&a, b"x").expect("create a");
    std::fs::rename(&a, &b).expect("rename");
    std::fs::remove_file(&b).expect("unlink");
    std::fs::remove_dir(&dir).expect("rmdir");
    let mut fds = [0i32; 2];
    // SAFETY: fds is a valid array of two ints for pipe2 to fill.
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    // SAFETY: fds[0] is an open fd; 200 is a free slot in this test process.
    let dup = unsafe { libc::dup2(fds[0], 200) };
    assert_eq!(dup, 200);
    let mut buf = [0u8; 16];
    // SAFETY: fds[1] and fds[0] are the open pipe ends; buffers are valid for their lengths.
    unsafe {
        assert_eq!(libc::write(fds[1], b"pipe-data".as_ptr().cast(), 9), 9);
        assert_eq!(libc::read(fds[0], buf.as_mut_ptr().cast(), buf.len()), 9);
    }
    // SAFETY: closing the fds this test opened.
    unsafe {
        libc::close(200);
        libc::close(fds[0]);
        libc::close(fds[1]);
    }

    let mut seen: Vec<&str> = Vec::new();
    let found = collect_until(&mut cap, |ev| {
        if ev.tid != tid || ev.i64(0) < 0 {
            return false;
        }
        let strs: Vec<String> = (0..ev.params.len()).map(|i| ev.str(i)).collect();
        let has = |p: &str| strs.iter().any(|s| s == p);
        let what = match ev.ty {
            277 | 305 if has(&d) => Some("mkdir"),
            175 | 177 | 319 if has(&a) && has(&b) => Some("rename"),
            301 | 303 if has(&b) => Some("unlink"),
            279 if has(&d) => Some("rmdir"),
            303 if has(&d) && ev.u32(3) == 0x200 => Some("rmdir"),
            363 if ev.i64(0) == 200 && ev.i64(1) == i64::from(fds[0]) && ev.i64(2) == 200 => {
                Some("dup2")
            }
            393 if ev.i64(1) == i64::from(fds[0])
                && ev.i64(2) == i64::from(fds[1])
                && ev.u64(3) != 0
                && ev.u32(4) == 1 << 12 =>
            {
                Some("pipe2")
            }
            9 if ev.i64(0) == 9
                && ev.param(1) == b"pipe-data"
                && ev.i64(2) == i64::from(fds[1]) =>
            {
                Some("write")
            }
            7 if ev.i64(0) == 9
                && ev.param(1) == b"pipe-data"
                && ev.i64(2) == i64::from(fds[0])
                && ev.u32(3) == 16 =>
            {
                Some("read")
            }
            _ => None,
        };
        if let Some(w) = what
            && !seen.contains(&w)
        {
            seen.push(w);
        }
        seen.len() == 8
    });
    assert!(
        found,
        "saw only {seen:?}; counters {:?}",
        cap.counters().map(|c| c.total())
    );
}

/// `trusted_exepath` is rebuilt from the kernel's dentries across a mount point: a copy
/// of `true` run from the tmpfs at /dev/shm.
#[test]
fn trusted_exepath_crosses_mount_points() {
    let mounted = std::fs::read_to_string("/proc/self/mountinfo")
        .is_ok_and(|m| m.lines().any(|l| l.split(' ').nth(4) == Some("/dev/shm")));
    if !mounted {
        eprintln!("skipping trusted_exepath_crosses_mount_points: /dev/shm is not a mount point");
        return;
    }
    let (interest, _) = Interest::from_ppm_events([293]);
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("trusted_exepath_crosses_mount_points", options) else {
        return;
    };
    let path = format!("/dev/shm/frule-capture-test-{}", std::process::id());
    std::fs::copy("/bin/true", &path).expect("copy true to /dev/shm");
    let status = Command::new(&path).status();
    let _ = std::fs::remove_file(&path);
    let Ok(status) = status else {
        eprintln!("skipping trusted_exepath_crosses_mount_points: cannot exec from /dev/shm");
        return;
    };
    assert!(status.success());
    let mut got = None;
    let found = collect_until(&mut cap, |ev| {
        if ev.ty == PPME_SYSCALL_EXECVE_19_X && ev.str(30) == path {
            got = Some(ev.str(27));
        }
        got.is_some()
    });
    assert!(found, "no execve event for {path}");
    assert_eq!(got.as_deref(), Some(path.as_str()), "trusted_exepath");
}

/// Without privileges, opening the capture is a `NotRoot` error with a message that says
/// what is needed. Run as root, the test re-runs itself as `nobody`.
#[test]
fn not_root_is_a_clear_error() {
    const CHILD: &str = "FRULE_CAPTURE_TEST_AS_NOBODY";
    if std::env::var_os(CHILD).is_some() {
        match Capture::open(CaptureOptions::default()) {
            Err(e @ CaptureError::NotRoot { euid: 65534 }) => {
                assert!(e.to_string().contains("live capture needs root"), "{e}");
            }
            other => panic!("expected NotRoot for uid 65534, got {other:?}"),
        }
        return;
    }
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipping not_root_is_a_clear_error: needs root to switch to nobody");
        return;
    }
    use std::os::unix::process::CommandExt;
    let exe = std::env::current_exe().expect("test binary path");
    let out = Command::new(exe)
        .args([
            "--exact",
            "not_root_is_a_clear_error",
            "--nocapture",
            "--test-threads=1",
        ])
        .env(CHILD, "1")
        .uid(65534)
        .gid(65534)
        .current_dir("/")
        .output();
    let out = match out {
        Ok(out) => out,
        Err(e) => {
            // e.g. the checkout is not readable by nobody
            eprintln!("skipping not_root_is_a_clear_error: cannot run the test as nobody: {e}");
            return;
        }
    };
    assert!(
        out.status.success(),
        "child failed: {}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("1 passed"),
        "the child ran the test"
    );
}

/// UDP sendto/recvfrom over loopback carry the payload and the tuple; a failing ptrace
/// and finit_module still give events with translated request and arguments.
#[test]
fn socket_io_ptrace_and_module_events() {
    let (interest, unsupported) = Interest::from_ppm_events([31, 35, 169, 413]);
    assert!(unsupported.is_empty());
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("socket_io_ptrace_and_module_events", options) else {
        return;
    };
    let rx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind rx");
    let tx = std::net::UdpSocket::bind("127.0.0.1:0").expect("bind tx");
    let (rx_addr, tx_addr) = (rx.local_addr().expect("rx"), tx.local_addr().expect("tx"));
    let tid = gettid();
    tx.send_to(b"frule-payload", rx_addr).expect("sendto");
    let mut buf = [0u8; 64];
    let (n, from) = rx.recv_from(&mut buf).expect("recvfrom");
    assert_eq!((n, from), (13, tx_addr));
    // SAFETY: PTRACE_PEEKDATA on pid 0x7ffffff0 (no such process) only fails with ESRCH.
    let r = unsafe { libc::ptrace(libc::PTRACE_PEEKDATA, 0x7fff_fff0, 0usize, 0usize) };
    assert_eq!(r, -1);
    // SAFETY: finit_module on fd -1 fails with EBADF before reading anything.
    let r = unsafe { libc::syscall(libc::SYS_finit_module, -1i32, c"".as_ptr(), 0) };
    assert_eq!(r, -1);

    let tuple = |src: std::net::SocketAddr, dst: std::net::SocketAddr| {
        let mut t = vec![2u8, 127, 0, 0, 1];
        t.extend_from_slice(&src.port().to_le_bytes());
        t.extend_from_slice(&[127, 0, 0, 1]);
        t.extend_from_slice(&dst.port().to_le_bytes());
        t
    };
    let (send_tuple, recv_tuple) = (tuple(tx_addr, rx_addr), tuple(tx_addr, rx_addr));
    let mut seen: Vec<&str> = Vec::new();
    let found = collect_until(&mut cap, |ev| {
        if ev.tid != tid {
            return false;
        }
        let what = match ev.ty {
            31 if ev.i64(0) == 13
                && ev.param(1) == b"frule-payload"
                && ev.u32(3) == 13
                && ev.param(4) == send_tuple.as_slice() =>
            {
                Some("sendto")
            }
            35 if ev.i64(0) == 13
                && ev.param(1) == b"frule-payload"
                && ev.param(2) == recv_tuple.as_slice()
                && ev.u32(4) == 64 =>
            {
                Some("recvfrom")
            }
            // res -ESRCH, request PPM_PTRACE_PEEKDATA (3), pid
            169 if ev.i64(0) == -3
                && ev.param(3) == 3u16.to_le_bytes()
                && ev.i64(4) == 0x7fff_fff0 =>
            {
                Some("ptrace")
            }
            413 if ev.i64(0) < 0 && ev.i64(1) == -1 => Some("finit_module"),
            _ => None,
        };
        if let Some(w) = what
            && !seen.contains(&w)
        {
            seen.push(w);
        }
        seen.len() == 4
    });
    assert!(
        found,
        "saw only {seen:?}; counters {:?}",
        cap.counters().map(|c| c.total())
    );
}

/// A binary executed from a memfd is flagged `PPM_EXE_FROM_MEMFD` in the execve event.
#[test]
fn exec_from_memfd_is_flagged() {
    let (interest, _) = Interest::from_ppm_events([293]);
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("exec_from_memfd_is_flagged", options) else {
        return;
    };
    let image = std::fs::read("/bin/true").expect("read /bin/true");
    // SAFETY: memfd_create with a valid NUL-terminated name and no flags.
    let fd = unsafe { libc::memfd_create(c"frule-test".as_ptr(), 0) };
    assert!(fd >= 0, "memfd_create");
    // SAFETY: fd is an open memfd owned by this test; File takes ownership and closes it.
    let mut f = unsafe { <std::fs::File as std::os::fd::FromRawFd>::from_raw_fd(fd) };
    f.write_all(&image).expect("write the image");
    let status = Command::new(format!("/proc/self/fd/{fd}"))
        .status()
        .expect("exec the memfd");
    assert!(status.success());
    drop(f);
    let mut flags = None;
    let found = collect_until(&mut cap, |ev| {
        if ev.ty == PPME_SYSCALL_EXECVE_19_X && ev.str(30) == format!("/proc/self/fd/{fd}") {
            flags = Some(ev.u32(19));
        }
        flags.is_some()
    });
    assert!(found, "no execve event from the memfd");
    let flags = flags.unwrap_or_default();
    assert_ne!(flags & PPM_EXE_FROM_MEMFD, 0, "flags {flags:#x}");
}

/// Unmounts a test's overlay and removes its directories when dropped, so a failing assertion
/// inside the capture does not leave a mount behind under the target dir.
struct Unmount {
    target: std::ffi::CString,
    base: std::path::PathBuf,
}

impl Drop for Unmount {
    fn drop(&mut self) {
        // SAFETY: target is a valid NUL-terminated path the test mounted.
        unsafe { libc::umount2(self.target.as_ptr(), libc::MNT_DETACH) };
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

/// Files on overlayfs carry the layer in the open flags, and a binary run from the lower
/// layer is flagged in execve. The test mounts a private overlay under the target dir
/// (skipped when the kernel or the sandbox refuses the mount).
#[test]
fn overlay_layers_are_flagged() {
    const PPM_O_F_CREATED: u32 = 1 << 14;
    const PPM_FD_UPPER_LAYER: u32 = 1 << 15;
    const PPM_FD_LOWER_LAYER: u32 = 1 << 16;
    const PPM_EXE_LOWER_LAYER: u32 = 1 << 3;
    let base = std::path::Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("overlay-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&base);
    let [lower, upper, work, merged] = ["lower", "upper", "work", "merged"].map(|d| base.join(d));
    for d in [&lower, &upper, &work, &merged] {
        std::fs::create_dir_all(d).expect("create overlay dirs");
    }
    std::fs::write(lower.join("old.txt"), b"lower").expect("lower file");
    std::fs::copy("/bin/true", lower.join("true")).expect("lower binary");
    let opts = format!(
        "lowerdir={},upperdir={},workdir={}",
        lower.display(),
        upper.display(),
        work.display()
    );
    let cstr = |s: &str| std::ffi::CString::new(s).expect("no NUL");
    let (src, target, fstype, data) = (
        cstr("overlay"),
        cstr(merged.to_str().expect("utf-8")),
        cstr("overlay"),
        cstr(&opts),
    );
    // SAFETY: all pointers are valid NUL-terminated strings for the duration of the call.
    let r = unsafe {
        libc::mount(
            src.as_ptr(),
            target.as_ptr(),
            fstype.as_ptr(),
            0,
            data.as_ptr().cast(),
        )
    };
    if r != 0 {
        eprintln!(
            "skipping overlay_layers_are_flagged: mount overlay: {}",
            std::io::Error::last_os_error()
        );
        let _ = std::fs::remove_dir_all(&base);
        return;
    }
    let mounted = Unmount {
        target: target.clone(),
        base: base.clone(),
    };
    let (interest, _) = Interest::from_ppm_events([307, 293]);
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let cap = open_or_skip("overlay_layers_are_flagged", options);
    let old = merged.join("old.txt");
    let new = merged.join("new.txt");
    let tid = gettid();
    let result = cap.map(|mut cap| {
        drop(std::fs::File::open(&old).expect("open lower file"));
        drop(std::fs::File::create(&new).expect("create upper file"));
        let ran = Command::new(merged.join("true"))
            .status()
            .map(|s| s.success());
        let (mut old_flags, mut new_flags, mut exe_flags) = (None, None, None);
        let exe = merged.join("true").to_string_lossy().into_owned();
        let found = collect_until(&mut cap, |ev| {
            if ev.ty == PPME_SYSCALL_OPENAT_2_X && ev.tid == tid {
                if ev.str(2) == old.to_string_lossy() {
                    old_flags = Some(ev.u32(3));
                } else if ev.str(2) == new.to_string_lossy() {
                    new_flags = Some(ev.u32(3));
                }
            }
            if ev.ty == PPME_SYSCALL_EXECVE_19_X && ev.str(30) == exe {
                exe_flags = Some(ev.u32(19));
            }
            old_flags.is_some() && new_flags.is_some() && exe_flags.is_some()
        });
        (ran, found, old_flags, new_flags, exe_flags)
    });
    drop(mounted);
    let Some((ran, found, old_flags, new_flags, exe_flags)) = result else {
        return;
    };
    assert!(
        matches!(ran, Ok(true)),
        "run the lower-layer binary: {ran:?}"
    );
    assert!(
        found,
        "old {old_flags:?} new {new_flags:?} exe {exe_flags:?}"
    );
    let (o, n, x) = (
        old_flags.unwrap_or_default(),
        new_flags.unwrap_or_default(),
        exe_flags.unwrap_or_default(),
    );
    assert_ne!(o & PPM_FD_LOWER_LAYER, 0, "lower file flags {o:#x}");
    assert_eq!(
        o & (PPM_FD_UPPER_LAYER | PPM_O_F_CREATED),
        0,
        "lower file flags {o:#x}"
    );
    assert_ne!(n & PPM_FD_UPPER_LAYER, 0, "new file flags {n:#x}");
    assert_ne!(n & PPM_O_F_CREATED, 0, "new file flags {n:#x}");
    assert_ne!(x & PPM_EXE_LOWER_LAYER, 0, "exe flags {x:#x}");
}

/// An interesting syscall without a dedicated event gives GENERIC_X with its PPM_SC code
/// (getuid is PPM_SC_GETUID = 119 in libscap's numbering) and its native number.
#[test]
fn other_syscalls_give_generic_events() {
    const PPME_GENERIC_X: u16 = 1;
    let interest = Interest::none().with_syscall(libc::SYS_getuid as u32);
    let options = CaptureOptions {
        interest,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip("other_syscalls_give_generic_events", options) else {
        return;
    };
    let tid = gettid();
    // SAFETY: getuid has no preconditions.
    let _ = unsafe { libc::getuid() };
    let mut got = None;
    let found = collect_until(&mut cap, |ev| {
        if ev.ty == PPME_GENERIC_X && ev.tid == tid {
            got = Some(ev.clone());
        }
        got.is_some()
    });
    assert!(found, "no generic event");
    let ev = got.expect("checked");
    assert_eq!(ev.params.len(), 2);
    assert_eq!(ev.param(0), 119u16.to_le_bytes(), "PPM_SC_GETUID");
    assert_eq!(
        ev.param(1),
        (libc::SYS_getuid as u16).to_le_bytes(),
        "native id"
    );
}

/// The entry-time (TOCTOU) hook runs only while open/openat/openat2/creat/connect is wanted:
/// detached with nothing wanted (so no syscall pays for it), attached by `set_interest` when
/// openat becomes wanted (and the next openat event then uses the entry copy), detached again
/// when only close is left. The classic tracepoints follow each syscall on its own, as Falco's
/// libpman attaches them: with openat wanted only `sys_enter_openat` runs, with connect only
/// `sys_enter_connect`.
#[test]
fn entry_hook_follows_the_interest() {
    for hook in [EntryHook::SysEnter, EntryHook::SyscallTracepoints] {
        entry_hook_follows(hook);
    }
}

fn entry_hook_follows(hook: EntryHook) {
    let test = &format!("entry_hook_follows_the_interest ({hook:?})");
    let options = CaptureOptions {
        interest: Interest::none(),
        attach: AttachMode::BtfTracepoint,
        entry_hook: hook,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip(test, options) else {
        return;
    };
    if let Toctou::Unavailable(why) = cap.toctou() {
        eprintln!("skipping {test}: no entry-time copy: {why}");
        return;
    }
    assert_eq!(cap.toctou(), &Toctou::NotNeeded, "nothing wanted");
    assert_eq!(cap.entry_hook(), Some(hook), "{test}");
    let openat = Interest::from_ppm_events([PPME_SYSCALL_OPENAT_2_X]).0;
    cap.set_interest(&openat).expect("want openat");
    if let Toctou::Unavailable(why) = cap.toctou() {
        // the classic tracepoints are attached through tracefs
        eprintln!("skipping {test}: the entry hook did not attach: {why}");
        return;
    }
    assert_eq!(cap.toctou(), &Toctou::Active, "openat wanted");
    let (openat_hooks, connect_hooks) = match hook {
        EntryHook::SyscallTracepoints => (vec!["sys_enter_openat"], vec!["sys_enter_connect"]),
        _ => (vec!["sys_enter"], vec!["sys_enter"]),
    };
    assert_eq!(
        cap.entry_hooks_attached(),
        openat_hooks,
        "{test}: openat wanted"
    );
    let used_before = cap.counters().expect("counters").total().toctou_used;
    let tid = gettid();
    drop(std::fs::File::open("/etc/hostname"));
    let found = collect_until(&mut cap, |ev| {
        ev.ty == PPME_SYSCALL_OPENAT_2_X && ev.tid == tid && ev.str(2) == "/etc/hostname"
    });
    assert!(found, "{test}: no openat event of /etc/hostname");
    let used_after = cap.counters().expect("counters").total().toctou_used;
    assert!(
        used_after > used_before,
        "{test}: the openat event did not use the entry copy ({used_before} -> {used_after})"
    );
    let connect = Interest::from_ppm_events([PPME_SOCKET_CONNECT_X]).0;
    cap.set_interest(&connect).expect("want connect");
    assert_eq!(cap.toctou(), &Toctou::Active, "connect wanted");
    assert_eq!(
        cap.entry_hooks_attached(),
        connect_hooks,
        "{test}: connect wanted"
    );
    let close_only = Interest::from_ppm_events([PPME_SYSCALL_CLOSE_X]).0;
    cap.set_interest(&close_only).expect("want close only");
    assert_eq!(cap.toctou(), &Toctou::NotNeeded, "only close wanted");
    assert!(
        cap.entry_hooks_attached().is_empty(),
        "{test}: only close wanted"
    );
}

/// The path an open event shows is the one the kernel used, not what the caller's buffer holds
/// when the syscall returns: a thread blocks inside `openat` of a FIFO (the kernel has copied the
/// path and waits for a writer), its path buffer is then overwritten with another path, and the
/// FIFO's writer end is opened so the open completes. The openat exit event must name the FIFO.
/// A capture that read the path at exit would show the overwritten bytes.
#[test]
fn open_path_is_the_one_the_kernel_used() {
    for (attach, hook) in [
        (AttachMode::BtfTracepoint, EntryHook::SysEnter),
        (AttachMode::BtfTracepoint, EntryHook::SyscallTracepoints),
        (AttachMode::RawTracepoint, EntryHook::Auto),
    ] {
        open_path_race(attach, hook);
    }
}

fn open_path_race(attach: AttachMode, hook: EntryHook) {
    let test = format!("open_path_is_the_one_the_kernel_used ({attach:?}, {hook:?})");
    let options = CaptureOptions {
        interest: Interest::from_ppm_events([PPME_SYSCALL_OPENAT_2_X]).0,
        attach,
        entry_hook: hook,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip(&test, options) else {
        return;
    };
    if let Toctou::Unavailable(why) = cap.toctou() {
        eprintln!("skipping {test}: no entry-time copy: {why}");
        return;
    }
    assert_eq!(cap.toctou(), &Toctou::Active, "{test}");
    let want_hook = match (attach, hook) {
        (AttachMode::RawTracepoint, _) | (_, EntryHook::SyscallTracepoints) => {
            EntryHook::SyscallTracepoints
        }
        _ => EntryHook::SysEnter,
    };
    assert_eq!(cap.entry_hook(), Some(want_hook), "{test}");
    let dir = std::env::temp_dir().join(format!(
        "frule-toctou-{}-{attach:?}-{hook:?}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let fifo = dir.join("fifo");
    let fifo_c = std::ffi::CString::new(fifo.as_os_str().as_encoded_bytes()).expect("path");
    // SAFETY: fifo_c is a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(fifo_c.as_ptr(), 0o600) }, 0, "mkfifo");
    // the path buffer the blocked thread passed to the kernel, overwritten while it waits
    let swapped: Vec<u8> = fifo_c
        .as_bytes_with_nul()
        .iter()
        .enumerate()
        .map(|(i, &b)| if i > 0 && b != 0 { b'x' } else { b })
        .collect();
    let buffer = fifo_c.as_bytes_with_nul().to_vec().into_boxed_slice();
    let addr = Box::into_raw(buffer) as *mut u8 as usize;
    let len = swapped.len();
    let (tid_tx, tid_rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let _ = tid_tx.send(gettid());
        // SAFETY: addr points to a live, NUL-terminated allocation owned by the test until join.
        unsafe { libc::open(addr as *const libc::c_char, libc::O_RDONLY) }
    });
    let tid = tid_rx.recv().expect("reader tid");
    // wait until the reader sleeps in the FIFO open (after the kernel copied the path)
    let start = Instant::now();
    let blocked = loop {
        let wchan =
            std::fs::read_to_string(format!("/proc/self/task/{tid}/wchan")).unwrap_or_default();
        if wchan.contains("wait_for_partner") || wchan.contains("fifo_open") {
            break true;
        }
        if start.elapsed() > DEADLINE {
            break false;
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    assert!(blocked, "{test}: the reader never blocked in the FIFO open");
    // SAFETY: the allocation is `len` bytes long and still owned by the test; the kernel is done
    // reading it (the reader sleeps after the path walk).
    unsafe { std::ptr::copy_nonoverlapping(swapped.as_ptr(), addr as *mut u8, len) };
    let writer = std::fs::OpenOptions::new()
        .write(true)
        .open(&fifo)
        .expect("writer end");
    let fd = reader.join().expect("reader thread");
    drop(writer);
    // SAFETY: addr/len came from Box::into_raw of a boxed slice of that length, freed once.
    drop(unsafe { Box::from_raw(std::ptr::slice_from_raw_parts_mut(addr as *mut u8, len)) });
    assert!(fd >= 0, "{test}: the FIFO open failed");
    // SAFETY: fd was returned by open above and is closed once.
    unsafe { libc::close(fd) };
    let want = fifo.to_string_lossy().into_owned();
    let mut seen = None;
    let found = collect_until(&mut cap, |ev| {
        if ev.ty == PPME_SYSCALL_OPENAT_2_X && ev.tid == tid {
            seen = Some(ev.str(2));
            return true;
        }
        false
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(found, "{test}: no openat event of the reader thread");
    assert_eq!(
        seen.as_deref(),
        Some(want.as_str()),
        "{test}: the event shows the overwritten path"
    );
}

/// dev and ino of an opened file are right whichever way the capture reaches the file: through
/// the fd array embedded in the process's `files_struct` (fd < 64 in a table that never grew:
/// plain loads, including the last embedded slot) or through a grown table (a descriptor of 64
/// or more was open when the process forked, or the fd itself is 64 or more: probe reads).
///
/// bash, started with every descriptor above stderr closed (so its own table is small whatever
/// this test process holds), occupies the descriptors a case names and forks `cat` of a file of
/// its own; a `grep` forked in the same state (not the script's last command, which bash would
/// exec in place) reports the table size (`FDSize`), which proves the case reached the table it
/// names. With the opened file's properties turned off ([`Interest::with_open_file_props`]) the
/// same cases give dev and ino 0, and the fd and path still.
#[test]
fn open_dev_and_ino_through_either_fd_table() {
    let test = "open_dev_and_ino_through_either_fd_table";
    // (what, descriptors bash occupies before forking cat, the fd cat's open gets, grown table)
    let cases: [(&str, &str, i64, bool); 4] = [
        ("embedded table", "", 3, false),
        ("embedded table, last slot", "$(seq 3 62)", 63, false),
        ("grown table, small fd", "100", 3, true),
        (
            "grown table, fd past the embedded array",
            "$(seq 3 70)",
            71,
            true,
        ),
    ];
    let interest = Interest::from_ppm_events([PPME_SYSCALL_OPENAT_2_X]).0;
    let options = CaptureOptions {
        interest: interest.clone(),
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip(test, options) else {
        return;
    };
    let dir = std::env::temp_dir().join(format!("frule-fdtable-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let writer = gettid();
    for props in [true, false] {
        cap.set_interest(&interest.clone().with_open_file_props(props))
            .expect("set interest");
        open_cases(test, &mut cap, &dir, writer, &cases, props);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn open_cases(
    test: &str,
    cap: &mut Capture,
    dir: &std::path::Path,
    writer: u64,
    cases: &[(&str, &str, i64, bool)],
    props: bool,
) {
    use std::os::unix::process::CommandExt;
    for (i, &(what, fill, want_fd, grown)) in cases.iter().enumerate() {
        let what = format!(
            "{what}, file properties {}",
            if props { "on" } else { "off" }
        );
        let file = dir.join(format!("case-{props}-{i}"));
        std::fs::write(&file, format!("{what}\n")).expect("case file");
        let meta = std::fs::metadata(&file).expect("case file metadata");
        let dev = meta.dev();
        let (major, minor) = (libc::major(dev), libc::minor(dev));
        let encoded = (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12);
        let script = format!(
            "for fd in {fill}; do eval \"exec $fd</dev/null\"; done; cat \"$1\"; grep '^FDSize:' /proc/self/status; true"
        );
        let want_name = file.to_string_lossy().into_owned();
        let mut open = None;
        // a run whose event was dropped (another test flooding the rings with opens) is
        // repeated; a missing event without a drop fails
        for _ in 0..5 {
            let drops = |cap: &Capture| cap.counters().map(|c| c.total().drops()).unwrap_or(0);
            let dropped_before = drops(cap);
            let mut cmd = Command::new("bash");
            cmd.args(["-c", &script, "bash"])
                .arg(&file)
                .stdin(Stdio::null())
                .stdout(Stdio::piped());
            // SAFETY: between fork and exec the closure makes one raw syscall, which is
            // async-signal-safe; it closes every descriptor above stderr.
            unsafe {
                cmd.pre_exec(|| {
                    libc::syscall(libc::SYS_close_range, 3u32, u32::MAX, 0u32);
                    Ok(())
                });
            }
            let out = cmd.output().expect("run bash");
            assert!(out.status.success(), "{test} ({what}): bash failed");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let fdsize: u32 = stdout
                .lines()
                .find_map(|l| l.strip_prefix("FDSize:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("{test} ({what}): no FDSize in {stdout:?}"));
            assert_eq!(fdsize > 64, grown, "{test} ({what}): FDSize {fdsize}");
            let found = collect_until(cap, |ev| {
                // cat's read-only open, not this thread's open for writing the file
                if ev.ty == PPME_SYSCALL_OPENAT_2_X
                    && ev.tid != writer
                    && ev.str(2) == want_name
                    && ev.u32(3) & 3 == PPM_O_RDONLY
                {
                    open = Some(ev.clone());
                    return true;
                }
                false
            });
            if found {
                break;
            }
            let dropped_after = drops(cap);
            assert!(
                dropped_after > dropped_before,
                "{test} ({what}): no openat of {want_name}, and no event was dropped"
            );
            eprintln!("{test} ({what}): events were dropped, running the case again");
        }
        let open = open.unwrap_or_else(|| panic!("{test} ({what}): every run lost its event"));
        assert_eq!(open.i64(0), want_fd, "{test} ({what}): fd");
        let (want_ino, want_dev) = if props { (meta.ino(), encoded) } else { (0, 0) };
        assert_eq!(open.u64(6), want_ino, "{test} ({what}): ino");
        assert_eq!(open.u32(5), want_dev, "{test} ({what}): dev");
    }
}

/// The open path param is exact for every length the entry-time copy handles differently:
/// short paths (up to 128 bytes with the NUL) are copied word by word, longer ones in one
/// piece; the params after the path (flags, mode, dev, ino) are intact whatever the length.
/// The paths do not exist: a failed open still gives its event with the name.
#[test]
fn open_path_of_every_length_is_exact() {
    let test = "open_path_of_every_length_is_exact";
    let options = CaptureOptions {
        interest: Interest::from_ppm_events([PPME_SYSCALL_OPENAT_2_X]).0,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip(test, options) else {
        return;
    };
    let tid = gettid();
    // lengths without the NUL: around the 8-byte words and the 128-byte short-copy limit
    for len in [1usize, 7, 8, 9, 119, 120, 126, 127, 128, 129, 300, 4000] {
        let prefix = format!("/frule-missing-{}-", std::process::id());
        let path: String = prefix
            .chars()
            .chain(std::iter::repeat('p'))
            .take(len.max(prefix.len()))
            .collect();
        let path = if len < prefix.len() {
            "/".repeat(len)
        } else {
            path
        };
        assert_eq!(path.len(), len);
        let found_path = path.clone();
        // retried when another test's flood of opens made this capture drop events
        let mut open = None;
        for _ in 0..5 {
            let dropped_before = cap.counters().map(|c| c.total().drops()).unwrap_or(0);
            let _ = std::fs::File::open(&path);
            let found = collect_until(&mut cap, |ev| {
                if ev.ty == PPME_SYSCALL_OPENAT_2_X && ev.tid == tid && ev.str(2) == found_path {
                    open = Some(ev.clone());
                    return true;
                }
                false
            });
            if found {
                break;
            }
            let dropped_after = cap.counters().map(|c| c.total().drops()).unwrap_or(0);
            assert!(
                dropped_after > dropped_before,
                "{test}: no openat event of the {len}-byte path, and no event was dropped"
            );
        }
        let open = open.unwrap_or_else(|| panic!("{test}: every run lost the {len}-byte path"));
        assert_eq!(open.params.len(), 7, "{test} ({len})");
        assert_eq!(
            open.param(2).len(),
            len + 1,
            "{test} ({len}): the NUL is counted"
        );
        assert_eq!(
            open.u32(3),
            PPM_O_RDONLY | (1 << 12),
            "{test} ({len}): flags O_RDONLY|O_CLOEXEC"
        );
        assert_eq!(open.u32(4), 0, "{test} ({len}): mode");
        if open.i64(0) < 0 {
            assert_eq!(
                (open.u32(5), open.u64(6)),
                (0, 0),
                "{test} ({len}): dev, ino"
            );
        }
    }
}

/// An x86 program in AT&T syntax for binutils: `open("/etc/hostname")`, `close`, and
/// `socketcall(SYS_SOCKET, [AF_INET, SOCK_STREAM, 0])`, all through `int $0x80`, then `exit(0)`.
/// It assembles both as a 32-bit program (`as --32`, `ld -m elf_i386`) and as a 64-bit one
/// (its data lies below 4 GiB in a static non-PIE link, so the 32-bit addresses hold): either
/// way the kernel runs the calls as ia32 syscalls.
const IA32_PROGRAM: &str = r#"
    .section .data
path: .asciz "/etc/hostname"
sockargs: .long 2, 1, 0
    .section .text
    .globl _start
_start:
    movl $5, %eax
    movl $path, %ebx
    xorl %ecx, %ecx
    xorl %edx, %edx
    int $0x80
    movl %eax, %ebx
    movl $6, %eax
    int $0x80
    movl $102, %eax
    movl $1, %ebx
    movl $sockargs, %ecx
    int $0x80
    movl $1, %eax
    xorl %ebx, %ebx
    int $0x80
"#;

/// Builds [`IA32_PROGRAM`] in `dir` as a 32-bit or a 64-bit executable, or says why it cannot.
fn build_ia32_program(dir: &std::path::Path, bits32: bool) -> Result<std::path::PathBuf, String> {
    let name = if bits32 { "ia32" } else { "int80" };
    let src = dir.join(format!("{name}.s"));
    let obj = dir.join(format!("{name}.o"));
    let exe = dir.join(name);
    std::fs::write(&src, IA32_PROGRAM).map_err(|e| format!("cannot write {src:?}: {e}"))?;
    let mut as_args: Vec<std::ffi::OsString> = Vec::new();
    let mut ld_args: Vec<std::ffi::OsString> = Vec::new();
    if bits32 {
        as_args.push("--32".into());
        ld_args.extend(["-m".into(), "elf_i386".into()]);
    }
    as_args.extend(["-o".into(), obj.clone().into(), src.into()]);
    ld_args.extend(["-o".into(), exe.clone().into(), obj.into()]);
    for (tool, args) in [("as", as_args), ("ld", ld_args)] {
        let out = Command::new(tool)
            .args(&args)
            .output()
            .map_err(|e| format!("cannot run {tool}: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "{tool} failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
    }
    Ok(exe)
}

/// ia32 syscalls (arguments in ebx, ecx, …, numbered by the 32-bit table) are captured as the
/// 64-bit syscalls they are, whether a 32-bit program makes them or 64-bit code through
/// `int $0x80`: the ia32 `open` (number 5, x86_64's `fstat`) gives an open event with the path,
/// its `close` (6) a close event of that fd, and `socketcall(SYS_SOCKET)` a socket event with the
/// family and type read from the argument block. A capture reading the numbers as x86_64 ones
/// would miss all three, which is how such programs slip past syscall monitors.
#[test]
fn ia32_syscalls_are_captured_as_their_64_bit_twins() {
    for bits32 in [true, false] {
        ia32_syscalls(bits32);
    }
}

fn ia32_syscalls(bits32: bool) {
    const PPME_SYSCALL_OPEN_X: u16 = 3;
    const PPME_SOCKET_SOCKET_X: u16 = 19;
    const PPM_AF_INET: u32 = 2;
    let test = &format!(
        "ia32_syscalls_are_captured_as_their_64_bit_twins ({})",
        if bits32 {
            "32-bit program"
        } else {
            "int $0x80 from 64-bit code"
        }
    );
    let dir = std::env::temp_dir().join(format!("frule-ia32-{}-{bits32}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let exe = match build_ia32_program(&dir, bits32) {
        Ok(exe) => exe,
        Err(why) => {
            eprintln!("skipping {test}: cannot build the program: {why}");
            return;
        }
    };
    let options = CaptureOptions {
        interest: Interest::from_ppm_events([
            PPME_SYSCALL_OPEN_X,
            PPME_SYSCALL_CLOSE_X,
            PPME_SOCKET_SOCKET_X,
        ])
        .0,
        ..CaptureOptions::default()
    };
    let Some(mut cap) = open_or_skip(test, options) else {
        return;
    };
    let child = match Command::new(&exe).spawn() {
        Ok(child) => child,
        Err(e) => {
            eprintln!("skipping {test}: the program does not run here: {e}");
            return;
        }
    };
    let pid = u64::from(child.id());
    let status = child.wait_with_output().expect("wait").status;
    assert!(status.success(), "{test}: the program failed: {status}");
    let (mut open_fd, mut closed, mut socket) = (None, None, None);
    let done = collect_until(&mut cap, |ev| {
        if ev.tid == pid {
            match ev.ty {
                PPME_SYSCALL_OPEN_X if ev.str(1) == "/etc/hostname" => open_fd = Some(ev.i64(0)),
                PPME_SYSCALL_CLOSE_X => closed = Some(ev.i64(1)),
                PPME_SOCKET_SOCKET_X => socket = Some((ev.i64(0), ev.u32(1), ev.u32(2))),
                _ => {}
            }
        }
        open_fd.is_some() && closed.is_some() && socket.is_some()
    });
    let _ = std::fs::remove_dir_all(&dir);
    assert!(
        done,
        "{test}: open {open_fd:?}, close {closed:?}, socket {socket:?} of the process"
    );
    let fd = open_fd.unwrap_or(-1);
    assert!(fd >= 0, "{test}: open returned {fd}");
    assert_eq!(closed, Some(fd), "{test}: the close names the opened fd");
    let (res, family, ty) = socket.unwrap_or_default();
    assert!(res >= 0, "{test}: socket returned {res}");
    assert_eq!(
        (family, ty & 0xf),
        (PPM_AF_INET, 1),
        "{test}: socket family and type"
    );
}
