//! Initial process and fd state from `/proc`, taken when the capture starts.
//!
//! The eBPF program only reports what happens after it is attached; processes and fds that
//! already exist are read here, with the fields of libscap's process-list (PL) and fd-list
//! (FDL) entries, so the runtime can seed its thread and fd tables (as libscap does with its
//! /proc scan). Start the capture first, then scan: what changes in between is seen twice
//! (the scan and the event), never missed.
//!
//! Invariants and limits:
//! - one [`ThreadInfo`] per thread (`/proc/<pid>/task/<tid>`); the fd list is read once per
//!   process and given to its main thread only (threads share the table);
//! - a process that exits during the scan is skipped silently; any other unreadable entry
//!   leaves the field empty or zero, never an error;
//! - socket endpoints are resolved from `/proc/net/{tcp,tcp6,udp,udp6,unix}` of the scanning
//!   process's network namespace; sockets of other namespaces appear as
//!   [`FdKind::Socket`] without endpoints;
//! - file open flags are translated to PPM values (`PPM_O_*`) as the kernel program does.

use std::collections::HashMap;
use std::fs;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

/// One thread found in `/proc`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ThreadInfo {
    /// Thread id.
    pub tid: u64,
    /// Process id (thread group id).
    pub pid: u64,
    /// Parent process id (`PPid`).
    pub ptid: u64,
    /// Session id.
    pub sid: u64,
    /// Process group id.
    pub pgid: u64,
    /// Thread id in its own pid namespace (last `NSpid` value).
    pub vtid: u64,
    /// Process id in its own pid namespace (last `NStgid` value).
    pub vpid: u64,
    /// `comm` (at most 15 bytes).
    pub comm: String,
    /// argv\[0\].
    pub exe: String,
    /// The executable's path (`/proc/<pid>/exe`), empty for kernel threads.
    pub exepath: String,
    /// argv\[1..\].
    pub args: Vec<String>,
    /// Environment (`NAME=value` strings), empty when unreadable.
    pub env: Vec<String>,
    /// Current working directory.
    pub cwd: String,
    /// Root directory.
    pub root: String,
    /// Effective uid.
    pub uid: u32,
    /// Effective gid.
    pub gid: u32,
    /// Audit login uid (`u32::MAX` when unset).
    pub loginuid: u32,
    /// Controlling terminal (`tty_nr` of `stat`, the kernel's encoding).
    pub tty: u32,
    /// Soft limit on open files.
    pub fdlimit: u64,
    /// Virtual memory size, KiB.
    pub vmsize_kb: u32,
    /// Resident set size, KiB.
    pub vmrss_kb: u32,
    /// Swapped-out memory, KiB.
    pub vmswap_kb: u32,
    /// Major page faults.
    pub pfmajor: u64,
    /// Minor page faults.
    pub pfminor: u64,
    /// Capability sets (`CapInh`, `CapPrm`, `CapEff`).
    pub cap_inheritable: u64,
    /// Permitted capabilities.
    pub cap_permitted: u64,
    /// Effective capabilities.
    pub cap_effective: u64,
    /// `(controller list, path)` pairs of `/proc/<pid>/cgroup`.
    pub cgroups: Vec<(String, String)>,
    /// Open fds (main thread only).
    pub fds: Vec<FdInfo>,
}

/// One open file descriptor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FdInfo {
    /// The fd number.
    pub fd: i64,
    /// Inode number of what the fd refers to (0 when unknown).
    pub ino: u64,
    /// What it is.
    pub kind: FdKind,
}

/// The kind of an fd, with what libscap's FDL entry records for it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FdKind {
    /// A file (or directory, device): path, PPM open flags, device (kernel encoding of
    /// `st_dev` as libscap stores it).
    File {
        /// Path from the `fd` link.
        path: String,
        /// Open flags as PPM values.
        flags: u32,
        /// Device number of the file's filesystem.
        dev: u32,
    },
    /// A TCP or UDP socket with its endpoints.
    Inet {
        /// Local address.
        local: (IpAddr, u16),
        /// Remote address (unspecified for a listening or unconnected socket).
        remote: (IpAddr, u16),
        /// `true` for TCP, `false` for UDP.
        tcp: bool,
    },
    /// A unix socket with its path (may be empty).
    Unix {
        /// Bound path, if any.
        path: String,
    },
    /// A socket whose endpoints were not found (another namespace, or another family).
    Socket,
    /// A pipe.
    Pipe,
    /// Anything else (`anon_inode:[eventfd]`, …): the link text.
    Other(String),
}

/// Reads every thread of every process in `/proc`.
pub fn scan() -> Vec<ThreadInfo> {
    scan_root(Path::new("/proc"))
}

fn scan_root(proc_root: &Path) -> Vec<ThreadInfo> {
    let sockets = Sockets::read(proc_root);
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(proc_root) else {
        return out;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|s| s.parse::<u64>().ok())
        else {
            continue;
        };
        let pdir = entry.path();
        let fds = read_fds(&pdir, &sockets);
        let Ok(tasks) = fs::read_dir(pdir.join("task")) else {
            continue;
        };
        let mut fds = Some(fds);
        for task in tasks.flatten() {
            let Some(tid) = task
                .file_name()
                .to_str()
                .and_then(|s| s.parse::<u64>().ok())
            else {
                continue;
            };
            if let Some(mut t) = read_thread(&pdir, &task.path(), pid, tid) {
                if tid == pid {
                    t.fds = fds.take().unwrap_or_default();
                }
                out.push(t);
            }
        }
    }
    out.sort_by_key(|t| t.tid);
    out
}

fn read_thread(pdir: &Path, tdir: &Path, pid: u64, tid: u64) -> Option<ThreadInfo> {
    // `status` decides whether the thread still exists.
    let status = fs::read_to_string(tdir.join("status")).ok()?;
    let mut t = ThreadInfo {
        tid,
        pid,
        loginuid: u32::MAX,
        ..ThreadInfo::default()
    };
    for line in status.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        let nth = |n: usize| {
            value
                .split_whitespace()
                .nth(n)
                .and_then(|v| v.parse::<u64>().ok())
        };
        let last = || {
            value
                .split_whitespace()
                .last()
                .and_then(|v| v.parse::<u64>().ok())
        };
        let hex = || u64::from_str_radix(value, 16).ok();
        let kb = || nth(0).and_then(|v| u32::try_from(v).ok()).unwrap_or(0);
        match key {
            "Name" => t.comm = value.to_owned(),
            "PPid" => t.ptid = nth(0).unwrap_or(0),
            "Uid" => t.uid = nth(1).and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
            "Gid" => t.gid = nth(1).and_then(|v| u32::try_from(v).ok()).unwrap_or(0),
            "NSpid" => t.vtid = last().unwrap_or(tid),
            "NStgid" => t.vpid = last().unwrap_or(pid),
            "VmSize" => t.vmsize_kb = kb(),
            "VmRSS" => t.vmrss_kb = kb(),
            "VmSwap" => t.vmswap_kb = kb(),
            "CapInh" => t.cap_inheritable = hex().unwrap_or(0),
            "CapPrm" => t.cap_permitted = hex().unwrap_or(0),
            "CapEff" => t.cap_effective = hex().unwrap_or(0),
            _ => {}
        }
    }
    if let Ok(stat) = fs::read_to_string(tdir.join("stat")) {
        // fields after the parenthesised comm, which may contain spaces and parentheses
        if let Some((_, rest)) = stat.rsplit_once(')') {
            let f: Vec<&str> = rest.split_whitespace().collect();
            let at = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            // rest[0] is field 3 (state): field N is at index N - 3
            t.pgid = at(2);
            t.sid = at(3);
            t.tty = u32::try_from(at(4)).unwrap_or(0);
            t.pfminor = at(7);
            t.pfmajor = at(9);
        }
    }
    let cmdline = fs::read(pdir.join("cmdline")).unwrap_or_default();
    let mut argv = split_nul(&cmdline).into_iter();
    t.exe = argv.next().unwrap_or_default();
    t.args = argv.collect();
    t.env = split_nul(&fs::read(pdir.join("environ")).unwrap_or_default());
    let link = |name: &str| {
        fs::read_link(tdir.join(name))
            .map(|p| p.to_string_lossy().into_owned())
            .unwrap_or_default()
    };
    t.exepath = link("exe");
    t.cwd = link("cwd");
    t.root = link("root");
    t.loginuid = fs::read_to_string(pdir.join("loginuid"))
        .ok()
        .and_then(|s| s.trim().parse::<u32>().ok())
        .unwrap_or(u32::MAX);
    if let Ok(limits) = fs::read_to_string(pdir.join("limits")) {
        t.fdlimit = limits
            .lines()
            .find(|l| l.starts_with("Max open files"))
            .and_then(|l| l.split_whitespace().nth(3))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
    }
    if let Ok(cg) = fs::read_to_string(pdir.join("cgroup")) {
        t.cgroups = cg
            .lines()
            .filter_map(|l| {
                let mut parts = l.splitn(3, ':');
                let _id = parts.next()?;
                let controllers = parts.next()?;
                let path = parts.next()?;
                Some((controllers.to_owned(), path.to_owned()))
            })
            .collect();
    }
    Some(t)
}

fn split_nul(bytes: &[u8]) -> Vec<String> {
    bytes
        .split(|&b| b == 0)
        .filter(|s| !s.is_empty())
        .map(|s| String::from_utf8_lossy(s).into_owned())
        .collect()
}

fn read_fds(pdir: &Path, sockets: &Sockets) -> Vec<FdInfo> {
    let mut out = Vec::new();
    let Ok(entries) = fs::read_dir(pdir.join("fd")) else {
        return out;
    };
    for e in entries.flatten() {
        let Some(fd) = e.file_name().to_str().and_then(|s| s.parse::<i64>().ok()) else {
            continue;
        };
        let Ok(target) = fs::read_link(e.path()) else {
            continue;
        };
        let target = target.to_string_lossy().into_owned();
        let info = fs::read_to_string(pdir.join("fdinfo").join(fd.to_string())).unwrap_or_default();
        let field = |name: &str| {
            info.lines()
                .find_map(|l| l.strip_prefix(name))
                .map(|v| v.trim().to_owned())
        };
        let ino_from_info = field("ino:")
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0);
        let bracketed = |prefix: &str| {
            target
                .strip_prefix(prefix)
                .and_then(|r| r.strip_suffix(']'))
                .and_then(|v| v.parse::<u64>().ok())
        };
        let (ino, kind) = if let Some(ino) = bracketed("socket:[") {
            (ino, sockets.get(ino))
        } else if let Some(ino) = bracketed("pipe:[") {
            (ino, FdKind::Pipe)
        } else if target.starts_with('/') {
            let flags = field("flags:")
                .and_then(|v| u32::from_str_radix(&v, 8).ok())
                .unwrap_or(0);
            let dev = fs::metadata(e.path())
                .map(|m| {
                    use std::os::unix::fs::MetadataExt;
                    encode_dev(m.dev())
                })
                .unwrap_or(0);
            (
                ino_from_info,
                FdKind::File {
                    path: target,
                    flags: open_flags_to_ppm(flags),
                    dev,
                },
            )
        } else {
            (ino_from_info, FdKind::Other(target))
        };
        out.push(FdInfo { fd, ino, kind });
    }
    out.sort_by_key(|f| f.fd);
    out
}

/// libscap's device encoding (the kernel's `new_encode_dev`) of a userspace `st_dev`.
fn encode_dev(dev: u64) -> u32 {
    let (major, minor) = (libc::major(dev), libc::minor(dev));
    (minor & 0xff) | (major << 8) | ((minor & !0xff) << 12)
}

/// Kernel open flags to PPM_O_* (the same table as the kernel program's).
pub fn open_flags_to_ppm(flags: u32) -> u32 {
    const TABLE: &[(u32, u32)] = &[
        (0o100, 1 << 2),      // O_CREAT
        (0o2000, 1 << 3),     // O_APPEND
        (0o10000, 1 << 4),    // O_DSYNC
        (0o200, 1 << 5),      // O_EXCL
        (0o4000, 1 << 6),     // O_NONBLOCK
        (0o1000, 1 << 8),     // O_TRUNC
        (0o40000, 1 << 9),    // O_DIRECT
        (0o200000, 1 << 10),  // O_DIRECTORY
        (0o100000, 1 << 11),  // O_LARGEFILE
        (0o2000000, 1 << 12), // O_CLOEXEC
    ];
    let mut res = match flags & 3 {
        1 => 1 << 1,              // O_WRONLY
        2 => (1 << 0) | (1 << 1), // O_RDWR
        _ => 1 << 0,              // O_RDONLY
    };
    for &(k, p) in TABLE {
        if flags & k != 0 {
            res |= p;
        }
    }
    if flags & 0o4010000 == 0o4010000 {
        res |= 1 << 7; // O_SYNC
    }
    if flags & 0o20200000 == 0o20200000 {
        res |= 1 << 13; // O_TMPFILE
    }
    res
}

/// Socket endpoints by inode, from `/proc/net`.
#[derive(Debug, Default)]
struct Sockets {
    by_ino: HashMap<u64, FdKind>,
}

impl Sockets {
    fn read(proc_root: &Path) -> Self {
        let mut s = Self::default();
        let net = proc_root.join("net");
        for (file, tcp, v6) in [
            ("tcp", true, false),
            ("tcp6", true, true),
            ("udp", false, false),
            ("udp6", false, true),
        ] {
            let Ok(text) = fs::read_to_string(net.join(file)) else {
                continue;
            };
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                let (Some(local), Some(remote), Some(ino)) = (
                    f.get(1).and_then(|a| parse_endpoint(a, v6)),
                    f.get(2).and_then(|a| parse_endpoint(a, v6)),
                    f.get(9).and_then(|i| i.parse::<u64>().ok()),
                ) else {
                    continue;
                };
                s.by_ino.insert(ino, FdKind::Inet { local, remote, tcp });
            }
        }
        if let Ok(text) = fs::read_to_string(net.join("unix")) {
            for line in text.lines().skip(1) {
                let f: Vec<&str> = line.split_whitespace().collect();
                let Some(ino) = f.get(6).and_then(|i| i.parse::<u64>().ok()) else {
                    continue;
                };
                let path = f.get(7).map(|p| (*p).to_owned()).unwrap_or_default();
                s.by_ino.insert(ino, FdKind::Unix { path });
            }
        }
        s
    }

    fn get(&self, ino: u64) -> FdKind {
        self.by_ino.get(&ino).cloned().unwrap_or(FdKind::Socket)
    }
}

/// `0100007F:1F90` (v4) or 32 hex digits + port (v6), as /proc/net prints them: the
/// address is the kernel's in-memory bytes printed as host-order u32 words.
fn parse_endpoint(s: &str, v6: bool) -> Option<(IpAddr, u16)> {
    let (addr, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(addr.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_le_bytes())
    };
    let ip = if v6 {
        let mut b = [0u8; 16];
        for i in 0..4 {
            b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
        }
        IpAddr::V6(Ipv6Addr::from(b))
    } else {
        IpAddr::V4(Ipv4Addr::from(word(0)?))
    };
    Some((ip, port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_net_endpoints_decode() {
        assert_eq!(
            parse_endpoint("0100007F:1F90", false),
            Some((IpAddr::V4(Ipv4Addr::LOCALHOST), 8080))
        );
        assert_eq!(
            parse_endpoint("00000000000000000000000001000000:0016", true),
            Some((IpAddr::V6(Ipv6Addr::LOCALHOST), 22))
        );
        assert_eq!(parse_endpoint("zz:1", false), None);
    }

    #[test]
    fn open_flags_translate_like_the_kernel_program() {
        assert_eq!(open_flags_to_ppm(0), 1);
        assert_eq!(
            open_flags_to_ppm(0o2 | 0o100 | 0o2000000),
            3 | (1 << 2) | (1 << 12)
        );
        assert_eq!(open_flags_to_ppm(0o1 | 0o1000), (1 << 1) | (1 << 8));
    }
}
