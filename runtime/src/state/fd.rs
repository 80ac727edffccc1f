//! One entry of a process's fd table, as libsinsp's `sinsp_fdinfo` describes it.
//!
//! Socket tuples are stored client-first, as libsinsp stores them: `sip`/`sport` is the client
//! (the connecting side), `dip`/`dport` the server. The fd's name follows libsinsp's formats:
//! the full path of a file, `cip:cport->sip:sport` for a connected IP socket, `ip:port` for a
//! bound server socket, the path (or kernel pointers) of a unix socket.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::event::{SockAddr, SockTuple};
use crate::scap::FdKind;

/// libscap's fd types (`scap_fd_type`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FdType {
    /// `SCAP_FD_UNKNOWN`
    Unknown,
    /// A regular file.
    File,
    /// A directory.
    Directory,
    /// A connected (or connecting) IPv4 socket.
    Ipv4Sock,
    /// An IPv6 socket.
    Ipv6Sock,
    /// A bound IPv4 server socket.
    Ipv4ServSock,
    /// A bound IPv6 server socket.
    Ipv6ServSock,
    /// A pipe or fifo.
    Fifo,
    /// A unix socket.
    Unix,
    /// An eventfd.
    Event,
    /// Not supported by the driver.
    Unsupported,
    /// A signalfd.
    Signalfd,
    /// An epoll fd.
    Eventpoll,
    /// An inotify fd.
    Inotify,
    /// A timerfd.
    Timerfd,
    /// A netlink socket.
    Netlink,
    /// A bpf object.
    Bpf,
    /// A userfaultfd.
    Userfaultfd,
    /// An io_uring.
    IoUring,
    /// A memfd.
    Memfd,
    /// A pidfd.
    Pidfd,
}

impl FdType {
    /// `fd.typechar`.
    pub fn typechar(self) -> u8 {
        match self {
            FdType::File => b'f',
            FdType::Ipv4Sock | FdType::Ipv4ServSock => b'4',
            FdType::Ipv6Sock | FdType::Ipv6ServSock => b'6',
            FdType::Directory => b'd',
            FdType::Fifo => b'p',
            FdType::Unix => b'u',
            FdType::Event => b'e',
            FdType::Unknown => b'o',
            FdType::Unsupported => b'X',
            FdType::Signalfd => b's',
            FdType::Eventpoll => b'l',
            FdType::Inotify => b'i',
            FdType::Timerfd => b't',
            FdType::Netlink => b'n',
            FdType::Bpf => b'b',
            FdType::Userfaultfd => b'u',
            FdType::IoUring => b'r',
            FdType::Memfd => b'm',
            FdType::Pidfd => b'P',
        }
    }

    /// `fd.type`; `None` for unknown fds (libsinsp's `<NA>`).
    pub fn name(self) -> Option<&'static str> {
        Some(match self {
            FdType::File => "file",
            FdType::Directory => "directory",
            FdType::Ipv4Sock | FdType::Ipv4ServSock => "ipv4",
            FdType::Ipv6Sock | FdType::Ipv6ServSock => "ipv6",
            FdType::Unix => "unix",
            FdType::Fifo => "pipe",
            FdType::Event => "event",
            FdType::Signalfd => "signalfd",
            FdType::Eventpoll => "eventpoll",
            FdType::Inotify => "inotify",
            FdType::Timerfd => "timerfd",
            FdType::Netlink => "netlink",
            FdType::Bpf => "bpf",
            FdType::Userfaultfd => "userfaultfd",
            FdType::IoUring => "io_uring",
            FdType::Memfd => "memfd",
            FdType::Pidfd => "pidfd",
            FdType::Unknown | FdType::Unsupported => return None,
        })
    }

    /// An IP socket of either kind.
    pub fn is_ip(self) -> bool {
        matches!(
            self,
            FdType::Ipv4Sock | FdType::Ipv6Sock | FdType::Ipv4ServSock | FdType::Ipv6ServSock
        )
    }

    fn from_code(code: u8) -> FdType {
        match code {
            1 | 16 => FdType::File,
            2 => FdType::Directory,
            3 => FdType::Ipv4Sock,
            4 => FdType::Ipv6Sock,
            5 => FdType::Ipv4ServSock,
            6 => FdType::Ipv6ServSock,
            7 => FdType::Fifo,
            8 => FdType::Unix,
            9 => FdType::Event,
            10 => FdType::Unsupported,
            11 => FdType::Signalfd,
            12 => FdType::Eventpoll,
            13 => FdType::Inotify,
            14 => FdType::Timerfd,
            15 => FdType::Netlink,
            17 => FdType::Bpf,
            18 => FdType::Userfaultfd,
            19 => FdType::IoUring,
            20 => FdType::Memfd,
            21 => FdType::Pidfd,
            _ => FdType::Unknown,
        }
    }
}

/// Layer-4 protocol of a socket (`scap_l4_proto`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum L4Proto {
    /// Unknown.
    #[default]
    Unknown,
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP.
    Icmp,
    /// A raw socket.
    Raw,
}

impl L4Proto {
    /// The letter libsinsp appends to the type of an IP socket in resolved fd parameters (`<4t>`).
    pub fn letter(self) -> Option<u8> {
        match self {
            L4Proto::Tcp => Some(b't'),
            L4Proto::Udp => Some(b'u'),
            L4Proto::Icmp => Some(b'i'),
            L4Proto::Raw => Some(b'r'),
            L4Proto::Unknown => None,
        }
    }

    /// `fd.l4proto`'s text (`<NA>` for unknown, as libsinsp extracts it).
    pub fn name(self) -> &'static str {
        match self {
            L4Proto::Tcp => "tcp",
            L4Proto::Udp => "udp",
            L4Proto::Icmp => "icmp",
            L4Proto::Raw => "raw",
            L4Proto::Unknown => "<NA>",
        }
    }

    fn from_code(c: u8) -> L4Proto {
        match c {
            1 => L4Proto::Tcp,
            2 => L4Proto::Udp,
            3 => L4Proto::Icmp,
            4 => L4Proto::Raw,
            _ => L4Proto::Unknown,
        }
    }
}

/// Whether this side of a socket connected (client) or accepted (server).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Role {
    /// Neither known.
    #[default]
    None,
    /// The fd connected.
    Client,
    /// The fd was accepted.
    Server,
}

/// The socket part of an fd entry.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct SockInfo {
    /// Client address (or the bound address of a server socket).
    pub sip: Option<IpAddr>,
    /// Client port (or the bound port).
    pub sport: u16,
    /// Server address.
    pub dip: Option<IpAddr>,
    /// Server port.
    pub dport: u16,
    /// Protocol.
    pub l4proto: L4Proto,
}

/// One fd.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FdEntry {
    /// Type.
    pub ty: FdType,
    /// `fd.name`.
    pub name: Vec<u8>,
    /// `fd.nameraw`: the path as the syscall gave it.
    pub name_raw: Vec<u8>,
    /// `PPM_O_*` open flags.
    pub open_flags: u32,
    /// Device number.
    pub dev: u32,
    /// Inode number.
    pub ino: u64,
    /// Socket details.
    pub sock: SockInfo,
    /// Client or server side.
    pub role: Role,
    /// `fd.connected`.
    pub connected: bool,
}

impl FdEntry {
    /// An entry of type `ty` with no name.
    pub fn new(ty: FdType) -> FdEntry {
        FdEntry {
            ty,
            name: Vec::new(),
            name_raw: Vec::new(),
            open_flags: 0,
            dev: 0,
            ino: 0,
            sock: SockInfo::default(),
            role: Role::None,
            connected: false,
        }
    }

    /// An entry of a capture's fd list.
    pub fn from_scap(k: &FdKind, ino: u64) -> FdEntry {
        let v4 = |a: u32| Some(IpAddr::V4(Ipv4Addr::from(a.to_le_bytes())));
        let v6 = |a: [u8; 16]| Some(IpAddr::V6(Ipv6Addr::from(a)));
        let mut e = FdEntry::new(type_of_kind(k));
        e.ino = ino;
        match k {
            FdKind::File {
                open_flags,
                name,
                dev,
            } => {
                e.open_flags = *open_flags;
                e.name = name.clone();
                e.name_raw = name.clone();
                e.dev = dev.unwrap_or(0);
            }
            FdKind::Ipv4Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                e.set_ip_tuple(v4(*sip), *sport, v4(*dip), *dport);
                e.sock.l4proto = L4Proto::from_code(*l4proto);
                e.connected = true;
            }
            FdKind::Ipv6Socket {
                sip,
                dip,
                sport,
                dport,
                l4proto,
            } => {
                e.set_ip_tuple(v6(*sip), *sport, v6(*dip), *dport);
                e.sock.l4proto = L4Proto::from_code(*l4proto);
                e.connected = true;
            }
            FdKind::Ipv4Server { ip, port, l4proto } => {
                e.sock.sip = v4(*ip);
                e.sock.sport = *port;
                e.sock.l4proto = L4Proto::from_code(*l4proto);
                e.name = server_name(e.sock.sip, *port);
            }
            FdKind::Ipv6Server { ip, port, l4proto } => {
                e.sock.sip = v6(*ip);
                e.sock.sport = *port;
                e.sock.l4proto = L4Proto::from_code(*l4proto);
                e.name = server_name(e.sock.sip, *port);
            }
            FdKind::Unix { name, .. } => {
                e.name = name.clone();
            }
            FdKind::Named { name, .. } => {
                e.name = name.clone();
                e.name_raw = name.clone();
            }
            FdKind::Unknown(_) => {}
        }
        e
    }

    fn set_ip_tuple(&mut self, sip: Option<IpAddr>, sport: u16, dip: Option<IpAddr>, dport: u16) {
        self.sock.sip = sip;
        self.sock.sport = sport;
        self.sock.dip = dip;
        self.sock.dport = dport;
        self.name = tuple_name(sip, sport, dip, dport);
    }

    /// Records a connect/accept tuple. The driver's tuple is local→remote for connect and
    /// remote→local for accept, i.e. always client→server.
    pub fn set_tuple(&mut self, t: &SockTuple<'_>, role: Role) {
        match *t {
            SockTuple::Inet(s, sp, d, dp) => {
                self.ty = FdType::Ipv4Sock;
                self.set_ip_tuple(Some(IpAddr::from(s)), sp, Some(IpAddr::from(d)), dp);
            }
            SockTuple::Inet6(s, sp, d, dp) => {
                self.ty = FdType::Ipv6Sock;
                let (s, d) = (Ipv6Addr::from(s), Ipv6Addr::from(d));
                // libsinsp keeps v4-mapped v6 tuples as IPv4 sockets
                match (s.to_ipv4_mapped(), d.to_ipv4_mapped()) {
                    (Some(s4), Some(d4)) => {
                        self.ty = FdType::Ipv4Sock;
                        self.set_ip_tuple(Some(s4.into()), sp, Some(d4.into()), dp);
                    }
                    _ => self.set_ip_tuple(Some(s.into()), sp, Some(d.into()), dp),
                }
            }
            SockTuple::Unix(src, dst, path) => {
                self.ty = FdType::Unix;
                self.name = unix_name(src, dst, path);
            }
            SockTuple::Other(..) => return,
        }
        self.role = role;
    }

    /// Records the peer of a connect when the exit has no tuple.
    pub fn set_peer(&mut self, a: &SockAddr<'_>, role: Role) {
        match *a {
            SockAddr::Inet(ip, port) => {
                self.ty = FdType::Ipv4Sock;
                self.sock.dip = Some(IpAddr::from(ip));
                self.sock.dport = port;
            }
            SockAddr::Inet6(ip, port) => {
                self.ty = FdType::Ipv6Sock;
                self.sock.dip = Some(IpAddr::from(ip));
                self.sock.dport = port;
            }
            SockAddr::Unix(path) => {
                self.ty = FdType::Unix;
                self.name = path.to_vec();
            }
            SockAddr::Other(..) => return,
        }
        self.role = role;
    }

    /// Records a successful bind: an IP socket becomes a server socket named `ip:port`.
    pub fn set_bound(&mut self, a: &SockAddr<'_>) {
        // as libsinsp: only a non-zero port makes a listening socket
        let (ty, ip, port) = match *a {
            SockAddr::Inet(ip, port) => (FdType::Ipv4ServSock, IpAddr::from(ip), port),
            SockAddr::Inet6(ip, port) => match Ipv6Addr::from(ip).to_ipv4_mapped() {
                Some(v4) => (FdType::Ipv4ServSock, IpAddr::V4(v4), port),
                None => (FdType::Ipv6ServSock, IpAddr::from(ip), port),
            },
            _ => return,
        };
        if port == 0 {
            return;
        }
        self.ty = ty;
        self.sock.sip = Some(ip);
        self.sock.sport = port;
        self.role = Role::Server;
        self.name = server_name(self.sock.sip, port);
    }

    /// Swaps the two ends of a connected socket (client first, as libsinsp stores tuples).
    pub fn swap_ends(&mut self) {
        let s = &mut self.sock;
        std::mem::swap(&mut s.sip, &mut s.dip);
        std::mem::swap(&mut s.sport, &mut s.dport);
        self.name = tuple_name(s.sip, s.sport, s.dip, s.dport);
    }

    /// A regular file (libsinsp's `is_file`).
    pub fn is_file(&self) -> bool {
        self.ty == FdType::File
    }
}

pub(crate) fn type_of_kind(k: &FdKind) -> FdType {
    match k {
        FdKind::File { .. } => FdType::File,
        FdKind::Ipv4Socket { .. } => FdType::Ipv4Sock,
        FdKind::Ipv6Socket { .. } => FdType::Ipv6Sock,
        FdKind::Ipv4Server { .. } => FdType::Ipv4ServSock,
        FdKind::Ipv6Server { .. } => FdType::Ipv6ServSock,
        FdKind::Unix { .. } => FdType::Unix,
        FdKind::Named { fd_type, .. } => FdType::from_code(*fd_type),
        FdKind::Unknown(_) => FdType::Unknown,
    }
}

/// An address as libsinsp prints it in fd names (IPv6 in its compressed form).
pub(crate) fn ip_text(ip: Option<IpAddr>) -> String {
    match ip {
        Some(ip) => ip.to_string(),
        None => String::new(),
    }
}

fn tuple_name(sip: Option<IpAddr>, sport: u16, dip: Option<IpAddr>, dport: u16) -> Vec<u8> {
    format!("{}:{}->{}:{}", ip_text(sip), sport, ip_text(dip), dport).into_bytes()
}

fn server_name(ip: Option<IpAddr>, port: u16) -> Vec<u8> {
    format!("{}:{}", ip_text(ip), port).into_bytes()
}

/// libsinsp's unix socket name: both kernel pointers and the path (`0->ffff88003c420800 /path`).
fn unix_name(src: u64, dst: u64, path: &[u8]) -> Vec<u8> {
    let mut v = format!("{src:x}->{dst:x} ").into_bytes();
    v.extend_from_slice(path);
    v
}
