//! The /proc scan finds this test process with its threads, an open file and a listening
//! TCP socket. Needs no privileges.

use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::os::unix::fs::MetadataExt;
use std::sync::mpsc;

use frule_capture_bpf::procfs::{self, FdKind};

#[test]
fn scan_finds_this_process_its_threads_and_fds() {
    let file = std::fs::File::open("/etc/hostname").expect("open /etc/hostname");
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    // a second thread that stays alive during the scan
    let (tid_tx, tid_rx) = mpsc::channel();
    let (stop_tx, stop_rx) = mpsc::channel::<()>();
    let worker = std::thread::spawn(move || {
        // SAFETY: gettid takes no arguments and cannot fail.
        let tid = unsafe { libc::syscall(libc::SYS_gettid) };
        tid_tx
            .send(u64::try_from(tid).unwrap_or(0))
            .expect("send tid");
        let _ = stop_rx.recv();
    });
    let worker_tid = tid_rx.recv().expect("worker tid");

    let threads = procfs::scan();
    let _ = stop_tx.send(());
    worker.join().expect("join");

    let pid = u64::from(std::process::id());
    let main = threads
        .iter()
        .find(|t| t.tid == pid)
        .expect("this process's main thread");
    assert_eq!(main.pid, pid);
    // SAFETY: getppid has no preconditions.
    let ppid = unsafe { libc::getppid() };
    assert_eq!(main.ptid, u64::try_from(ppid).unwrap_or(0));
    let exe = std::env::current_exe().expect("exe");
    assert_eq!(main.exepath, exe.to_string_lossy());
    assert_eq!(
        main.cwd,
        std::env::current_dir().expect("cwd").to_string_lossy()
    );
    // SAFETY: geteuid has no preconditions.
    assert_eq!(main.uid, unsafe { libc::geteuid() });
    assert!(main.fdlimit > 0);
    assert!(!main.cgroups.is_empty());
    assert!(main.env.iter().any(|e| e.starts_with("PATH=")));

    let worker = threads
        .iter()
        .find(|t| t.tid == worker_tid)
        .expect("the worker thread");
    assert_eq!(worker.pid, pid);
    assert!(
        worker.fds.is_empty(),
        "fds are listed on the main thread only"
    );

    let fd = i64::from(std::os::fd::AsRawFd::as_raw_fd(&file));
    let f = main
        .fds
        .iter()
        .find(|f| f.fd == fd)
        .expect("the open file's fd");
    let meta = std::fs::metadata("/etc/hostname").expect("meta");
    assert_eq!(f.ino, meta.ino());
    match &f.kind {
        FdKind::File { path, flags, .. } => {
            assert_eq!(path, "/etc/hostname");
            assert_eq!(flags & 3, 1, "PPM_O_RDONLY");
            assert_ne!(
                flags & (1 << 12),
                0,
                "PPM_O_CLOEXEC (Rust opens with O_CLOEXEC)"
            );
        }
        other => panic!("expected a file, got {other:?}"),
    }
    let lfd = i64::from(std::os::fd::AsRawFd::as_raw_fd(&listener));
    let l = main
        .fds
        .iter()
        .find(|f| f.fd == lfd)
        .expect("the listener's fd");
    assert_eq!(
        l.kind,
        FdKind::Inet {
            local: (IpAddr::V4(Ipv4Addr::LOCALHOST), port),
            remote: (IpAddr::V4(Ipv4Addr::UNSPECIFIED), 0),
            tcp: true
        }
    );
}
