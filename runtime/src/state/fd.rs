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

    /// libscap's `scap_l4_proto` codes of the capture's fd list (0 unknown, 1 not a socket).
    fn from_code(c: u8) -> L4Proto {
        match c {
            2 => L4Proto::Tcp,
            3 => L4Proto::Udp,
            4 => L4Proto::Icmp,
            5 => L4Proto::Raw,
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

    /// libsinsp's `update_fd`: takes the tuple of a read or write when the fd has none (or a
    /// different one); false when nothing changed. An IPv4 tuple (or an IPv4-mapped IPv6 one) makes
    /// the fd an IPv4 socket, an IPv6 one keeps the fd's type; a socket whose protocol is still
    /// unknown is taken for UDP (a TCP peer cannot change mid-connection); an unknown end is filled
    /// in from the interfaces. The name is left to the caller, but for unix sockets.
    pub(crate) fn update_tuple(&mut self, t: &SockTuple<'_>, ifaces: &Interfaces) -> bool {
        match *t {
            SockTuple::Inet(s, sp, d, dp) => {
                self.ty = FdType::Ipv4Sock;
                if !self.set_ends(Some(IpAddr::from(s)), sp, Some(IpAddr::from(d)), dp, true) {
                    return false;
                }
            }
            SockTuple::Inet6(s, sp, d, dp) => {
                let (s, d) = (Ipv6Addr::from(s), Ipv6Addr::from(d));
                let changed = match (s.to_ipv4_mapped(), d.to_ipv4_mapped()) {
                    (Some(s4), Some(d4)) => {
                        self.ty = FdType::Ipv4Sock;
                        self.set_ends(Some(s4.into()), sp, Some(d4.into()), dp, true)
                    }
                    _ => {
                        let check = self.ty == FdType::Ipv6Sock;
                        self.set_ends(Some(s.into()), sp, Some(d.into()), dp, check)
                    }
                };
                if !changed {
                    return false;
                }
            }
            SockTuple::Unix(src, dst, path) => {
                self.ty = FdType::Unix;
                self.name = unix_name(src, dst, path);
                return true;
            }
            SockTuple::Other(..) => {}
        }
        if matches!(self.ty, FdType::Ipv4Sock | FdType::Ipv6Sock) {
            if self.sock.l4proto == L4Proto::Unknown {
                self.sock.l4proto = L4Proto::Udp;
            }
            ifaces.complete(self);
        }
        true
    }

    /// libsinsp's `set_ipv4_addresses_and_ports`/`set_ipv6_…`: an unchanged tuple (in either
    /// direction, checked when `check`) changes nothing; a zero destination always counts as a
    /// change.
    fn set_ends(
        &mut self,
        sip: Option<IpAddr>,
        sport: u16,
        dip: Option<IpAddr>,
        dport: u16,
        check: bool,
    ) -> bool {
        let s = &mut self.sock;
        let same = |a: Option<IpAddr>, b: Option<IpAddr>| unspecified(a) == unspecified(b);
        if check
            && ((same(sip, s.sip) && sport == s.sport && same(dip, s.dip) && dport == s.dport)
                || (same(dip, s.sip) && dport == s.sport && same(sip, s.dip) && sport == s.dport))
        {
            return false;
        }
        let mut changed = false;
        if !same(s.sip, sip) {
            s.sip = sip;
            changed = true;
        }
        if s.sport != sport {
            s.sport = sport;
            changed = true;
        }
        if is_zero(s.dip) || !same(s.dip, dip) {
            s.dip = dip;
            changed = true;
        }
        if s.dport == 0 || s.dport != dport {
            s.dport = dport;
            changed = true;
        }
        changed
    }

    /// The ports libsinsp's role guess reads through the IPv4 view of the socket union: an IPv4
    /// socket's own ports; for an IPv6 one, bytes 8..10 and 10..12 of its client address (read
    /// as native-endian `u16`s).
    pub(crate) fn ipv4_view_ports(&self) -> (u16, u16) {
        match (self.ty, self.sock.sip) {
            (FdType::Ipv6Sock, Some(IpAddr::V6(a))) => {
                let b = a.octets();
                (
                    u16::from_le_bytes([b[8], b[9]]),
                    u16::from_le_bytes([b[10], b[11]]),
                )
            }
            (FdType::Ipv6Sock, _) => (0, 0),
            _ => (self.sock.sport, self.sock.dport),
        }
    }

    /// Renames a connected IP socket after its tuple (`sockinfo_to_str`).
    pub(crate) fn rename_tuple(&mut self) {
        let s = &self.sock;
        self.name = tuple_name(s.sip, s.sport, s.dip, s.dport);
    }

    /// Swaps the two ends of a connected socket (client first, as libsinsp stores tuples).
    pub fn swap_ends(&mut self) {
        let s = &mut self.sock;
        std::mem::swap(&mut s.sip, &mut s.dip);
        std::mem::swap(&mut s.sport, &mut s.dport);
        self.name = tuple_name(s.sip, s.sport, s.dip, s.dport);
    }

    /// libsinsp's `get_l4proto`, what `fd.l4proto` and the `<4t>` of resolved fd parameters show:
    /// a connection socket with no role yet (neither connected nor accepted nor given a tuple by
    /// a transfer) shows none unless it is raw; a server socket its protocol; anything else none.
    pub fn l4proto_shown(&self) -> L4Proto {
        match self.ty {
            FdType::Ipv4Sock | FdType::Ipv6Sock => {
                if self.sock.l4proto == L4Proto::Raw || self.role != Role::None {
                    self.sock.l4proto
                } else {
                    L4Proto::Unknown
                }
            }
            FdType::Ipv4ServSock | FdType::Ipv6ServSock => self.sock.l4proto,
            _ => L4Proto::Unknown,
        }
    }

    /// A regular file (libsinsp's `is_file`).
    pub fn is_file(&self) -> bool {
        self.ty == FdType::File
    }
}

/// The capture's network interfaces in their order (libsinsp's `sinsp_network_interfaces`), to
/// complete a tuple one end of which is unknown.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interfaces {
    /// IPv4 address and netmask.
    pub(crate) v4: Vec<(Ipv4Addr, Ipv4Addr)>,
    /// IPv6 address.
    pub(crate) v6: Vec<Ipv6Addr>,
}

impl Interfaces {
    /// libsinsp's `sinsp_network_interfaces::update_fd`: an all-zero end of a connected socket is
    /// replaced by the interface address the other end suggests.
    fn complete(&self, e: &mut FdEntry) {
        let s = &mut e.sock;
        if !is_zero(s.sip) && !is_zero(s.dip) {
            return;
        }
        let (known, fill_sip) = if is_zero(s.sip) {
            (s.dip, true)
        } else {
            (s.sip, false)
        };
        let new = match unspecified(known) {
            IpAddr::V4(a) if e.ty == FdType::Ipv4Sock => IpAddr::V4(self.infer_v4(a)),
            IpAddr::V6(a) if e.ty == FdType::Ipv6Sock => IpAddr::V6(self.infer_v6(a)),
            other => other,
        };
        if new == unspecified(known) && s.sport == s.dport {
            return;
        }
        if fill_sip {
            s.sip = Some(new);
        } else {
            s.dip = Some(new);
        }
    }

    fn infer_v4(&self, dest: Ipv4Addr) -> Ipv4Addr {
        let d = u32::from(dest);
        let found = self.v4.iter().find(|(a, _)| *a == dest).or_else(|| {
            self.v4
                .iter()
                .find(|(a, m)| u32::from(*a) & u32::from(*m) == d & u32::from(*m))
                .or_else(|| self.v4.iter().find(|(a, _)| *a != Ipv4Addr::LOCALHOST))
        });
        found.map_or(Ipv4Addr::UNSPECIFIED, |(a, _)| *a)
    }

    fn infer_v6(&self, dest: Ipv6Addr) -> Ipv6Addr {
        let prefix = |a: &Ipv6Addr| a.octets()[..8] == dest.octets()[..8];
        self.v6
            .iter()
            .find(|a| **a == dest)
            .or_else(|| self.v6.iter().find(|a| prefix(a)))
            .or_else(|| self.v6.iter().find(|a| **a != Ipv6Addr::LOCALHOST))
            .copied()
            .unwrap_or(Ipv6Addr::UNSPECIFIED)
    }
}

/// An address as libsinsp stores it: unknown is all zeros (of the family of the other end when
/// it matters, v4 otherwise).
fn unspecified(a: Option<IpAddr>) -> IpAddr {
    a.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

fn is_zero(a: Option<IpAddr>) -> bool {
    unspecified(a).is_unspecified()
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
