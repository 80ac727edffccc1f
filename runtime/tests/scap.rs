//! The scap reader against the capture corpus and against truncated, corrupted and synthetic input.
//!
//! The corpus is read in place from `FRULE_CORPUS` (default `<workspace>/../shared/corpus`); the
//! corpus tests print a reason and pass when it is absent.

mod common;

use std::io::Read;
use std::path::PathBuf;

use frule_lang::events::{self, ppme};
use frule_runtime::scap::{ScapError, ScapErrorKind, ScapReader, block};

/// One capture of the corpus with its reference figures.
///
/// How the figures were obtained (sysdig 0.29.3, Debian package `sysdig`, libs 0.1.1dev+git20220316):
/// - `events`: event blocks in the file. It equals the "EV blocks" column of the corpus README,
///   counted there by an independent block walker; sysdig cannot report it because it hides
///   metaevents.
/// - `printed`: `sysdig -r FILE -p '%evt.num' | wc -l` — one line per event sysdig shows (plain
///   `sysdig -r FILE | wc -l` overcounts when a container JSON contains a newline).
/// - `printed_meta`: how many of those are metaevents (`container`), from
///   `sysdig -r FILE -p '%evt.type %evt.dir' | sort | uniq -c`.
///
/// sysdig hides the metaevents procinfo, container (most of them), user/group added and
/// scapevent, so `events - metaevents + printed_meta == printed` checks every syscall event
/// sysdig shows against this reader. The per-type histograms agreed exactly as well when these
/// figures were taken (generic events named by their syscall: sysdig 0.29.3 says `sigreturn` and
/// `<unknown>` where current libs say `rt_sigreturn` and `unknown`).
struct Capture {
    path: &'static str,
    gzip: bool,
    minor: u16,
    events: u64,
    /// `None`: sysdig 0.29.3 cannot read the file (SHB options); see `curl_google_comments`.
    printed: Option<u64>,
    printed_meta: u64,
}

const CAPTURES: &[Capture] = &[
    Capture {
        path: "falco-test/cat_write.scap",
        gzip: true,
        minor: 0,
        events: 345,
        printed: Some(85),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test/connect_localhost.scap",
        gzip: true,
        minor: 0,
        events: 374,
        printed: Some(8),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test/empty.scap",
        gzip: true,
        minor: 2,
        events: 143,
        printed: Some(0),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test/open-multiple-files.scap",
        gzip: true,
        minor: 0,
        events: 1272,
        printed: Some(86),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test/ping_sendto.scap",
        gzip: true,
        minor: 2,
        events: 1526,
        printed: Some(20),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test/syscall.scap",
        gzip: true,
        minor: 1,
        events: 368,
        printed: Some(12),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test-psp/privileged.scap",
        gzip: true,
        minor: 2,
        events: 2059,
        printed: Some(1),
        printed_meta: 1,
    },
    Capture {
        path: "falco-test-psp/run_as_user_0_container.scap",
        gzip: true,
        minor: 2,
        events: 4143,
        printed: Some(3796),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test-psp/run_as_user_65534_container.scap",
        gzip: true,
        minor: 2,
        events: 241,
        printed: Some(2),
        printed_meta: 0,
    },
    Capture {
        path: "falco-test-psp/write_tmp_test.scap",
        gzip: true,
        minor: 2,
        events: 229,
        printed: Some(2),
        printed_meta: 0,
    },
    Capture {
        path: "libs-e2e/curl_google.scap",
        gzip: true,
        minor: 0,
        events: 1536,
        printed: Some(1221),
        printed_meta: 0,
    },
    Capture {
        path: "libs-e2e/curl_google_comments.scap",
        gzip: true,
        minor: 0,
        events: 1536,
        printed: None,
        printed_meta: 0,
    },
    Capture {
        path: "libs-e2e/single_ipv6_conn.scap",
        gzip: true,
        minor: 2,
        events: 1728,
        printed: Some(28),
        printed_meta: 0,
    },
    Capture {
        path: "libs-e2e/test_ipv6_client.scap",
        gzip: true,
        minor: 0,
        events: 326,
        printed: Some(68),
        printed_meta: 0,
    },
    Capture {
        path: "libs-sinsp-test/sample.scap",
        gzip: false,
        minor: 2,
        events: 572,
        printed: Some(402),
        printed_meta: 0,
    },
    Capture {
        path: "sysdig-inspect/502Error.scap",
        gzip: false,
        minor: 0,
        events: 22381,
        printed: Some(9478),
        printed_meta: 0,
    },
];

/// Metaevents sysdig consumes without printing (most of the time, for `container`).
fn is_hidden_metaevent(code: u16) -> bool {
    let name = events::event(code).map_or("", |e| e.name);
    matches!(
        name,
        "procinfo"
            | "container"
            | "useradded"
            | "groupadded"
            | "userdeleted"
            | "groupdeleted"
            | "scapevent"
    )
}

/// Reads a capture to the end: (events, hidden metaevents, error if any).
fn read_all(mut r: ScapReader) -> (u64, u64, Option<ScapError>) {
    let (mut n, mut meta) = (0, 0);
    loop {
        match r.next_event() {
            Ok(Some(rec)) => {
                n += 1;
                // decode every parameter: corrupt input must not make decoding panic either
                for p in rec.event.params() {
                    std::hint::black_box(p.value());
                }
                if is_hidden_metaevent(rec.event.event_type()) {
                    meta += 1;
                }
            }
            Ok(None) => return (n, meta, None),
            Err(e) => return (n, meta, Some(e)),
        }
    }
}

#[test]
fn corpus_captures_read_to_the_end() {
    let Some(dir) = common::corpus_with("scap").map(|d| d.join("scap")) else {
        return;
    };
    let mut failures = Vec::new();
    for c in CAPTURES {
        let r = match ScapReader::open(dir.join(c.path)) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{}: {e}", c.path));
                continue;
            }
        };
        if r.is_compressed() != c.gzip || r.section_header().minor != c.minor {
            failures.push(format!(
                "{}: gzip/version {} {:?}",
                c.path,
                r.is_compressed(),
                r.section_header()
            ));
        }
        let (n, meta, err) = read_all(r);
        if let Some(e) = err {
            failures.push(format!("{}: error after {n} events: {e}", c.path));
        }
        if n != c.events {
            failures.push(format!("{}: {n} events, want {}", c.path, c.events));
        }
        if let Some(printed) = c.printed
            && n - meta + c.printed_meta != printed
        {
            failures.push(format!(
                "{}: {} events sysdig would print, sysdig printed {printed}",
                c.path,
                n - meta + c.printed_meta
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn corpus_state_and_params() {
    let Some(dir) = common::corpus_with("scap").map(|d| d.join("scap")) else {
        return;
    };
    let mut r = ScapReader::open(dir.join("falco-test/cat_write.scap")).expect("readable");
    let st = r.state();
    assert!(st.machine.is_some());
    assert!(st.users.iter().any(|u| u.uid == 0 && u.name == "root"));
    assert!(st.groups.iter().any(|g| g.gid == 0));
    assert!(!st.interfaces.is_empty());
    assert!(!st.processes.is_empty() && !st.fds.is_empty());
    // the 4 opens of `cat /dev/null` and friends: every open exit has an fd and a path
    let mut opens = Vec::new();
    while let Some(rec) = r.next_event().expect("valid capture") {
        let e = rec.event;
        if e.event_type() == ppme::SYSCALL_OPEN_X {
            let fd = e.param_by_name("fd").and_then(|p| p.as_i64()).expect("fd");
            let name = e
                .param_by_name("name")
                .map(|p| p.as_str_bytes().to_vec())
                .expect("name");
            opens.push((fd, String::from_utf8_lossy(&name).into_owned()));
        }
    }
    assert_eq!(opens.len(), 4, "{opens:?}");
    assert!(
        opens
            .iter()
            .any(|(fd, name)| *fd >= 0 && name == "/dev/null"),
        "{opens:?}"
    );

    // the SHB-with-comments copy has the same events as the plain one
    let a = ScapReader::open(dir.join("libs-e2e/curl_google.scap")).expect("readable");
    let b = ScapReader::open(dir.join("libs-e2e/curl_google_comments.scap")).expect("readable");
    assert_eq!(b.section_header().options_len, 88);
    assert_eq!(read_all(a).0, read_all(b).0);
}

fn decompressed(path: &PathBuf) -> Vec<u8> {
    let raw = std::fs::read(path).expect("readable");
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::MultiGzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .expect("valid gzip");
        out
    } else {
        raw
    }
}

fn read_bytes(bytes: Vec<u8>) -> (u64, Option<ScapError>) {
    match ScapReader::new(std::io::Cursor::new(bytes)) {
        Ok(r) => {
            let (n, _, e) = read_all(r);
            (n, e)
        }
        Err(e) => (0, Some(e)),
    }
}

/// Offsets of every event block of a capture, and of its end.
fn event_offsets(bytes: &[u8]) -> Vec<u64> {
    let mut r = ScapReader::new(std::io::Cursor::new(bytes.to_vec())).expect("valid");
    let mut v = Vec::new();
    while let Some(rec) = r.next_event().expect("valid") {
        v.push(rec.offset);
    }
    v.push(bytes.len() as u64);
    v
}

#[test]
fn truncation_gives_errors_not_panics() {
    let Some(dir) = common::corpus_with("scap").map(|d| d.join("scap")) else {
        return;
    };
    for path in [
        "falco-test/cat_write.scap",
        "libs-e2e/test_ipv6_client.scap",
    ] {
        let full = decompressed(&dir.join(path));
        let offsets = event_offsets(&full);
        let first = offsets[0];
        // every third offset in the first 4 KiB (state blocks), then a stride through the rest
        let cuts: Vec<usize> = (0..4096)
            .step_by(3)
            .chain((4096..full.len()).step_by(97))
            .collect();
        for cut in cuts {
            let (n, err) = read_bytes(full[..cut].to_vec());
            let at_boundary = offsets.binary_search(&(cut as u64)).ok();
            match (at_boundary, err) {
                // a cut exactly between two event blocks is a shorter, valid capture
                (Some(i), None) if cut as u64 > first => {
                    assert_eq!(n, i as u64, "{path} cut at {cut}")
                }
                (_, Some(e)) => {
                    assert!(
                        e.offset <= cut as u64,
                        "{path} cut at {cut}: offset {} past the end",
                        e.offset
                    );
                    if cut as u64 > first {
                        assert!(
                            matches!(e.kind, ScapErrorKind::Truncated { .. }),
                            "{path} cut at {cut}: {e}"
                        );
                    }
                }
                (_, None) => panic!("{path} cut at {cut}: no error"),
            }
        }
    }
}

#[test]
fn truncated_gzip_is_an_error() {
    let Some(dir) = common::corpus_with("scap").map(|d| d.join("scap")) else {
        return;
    };
    let raw = std::fs::read(dir.join("falco-test/syscall.scap")).expect("readable");
    for cut in (10..raw.len()).step_by(997) {
        let (_, err) = read_bytes(raw[..cut].to_vec());
        assert!(err.is_some(), "cut at {cut}");
    }
}

#[test]
fn corrupted_lengths_give_errors_not_panics() {
    let Some(dir) = common::corpus_with("scap").map(|d| d.join("scap")) else {
        return;
    };
    let full = decompressed(&dir.join("falco-test/cat_write.scap"));
    let offsets = event_offsets(&full);
    let patterns: [u32; 6] = [0, 1, 11, 0xFFFF, 0x7FFF_FFFF, u32::MAX];
    // corrupt the block length, the event len and the first param length of event blocks
    for &off in offsets.iter().take(offsets.len() - 1).step_by(7) {
        let off = off as usize;
        for (field, width) in [(4usize, 4usize), (8 + 2 + 16, 4), (8 + 2 + 22, 2)] {
            for p in patterns {
                let mut bytes = full.clone();
                let le = p.to_le_bytes();
                bytes[off + field..off + field + width].copy_from_slice(&le[..width]);
                let _ = read_bytes(bytes); // must return, whatever it returns
            }
        }
    }
    // random byte flips all over the file (a fixed-seed generator: the test is reproducible)
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..300 {
        let mut bytes = full.clone();
        for _ in 0..4 {
            let i = (next() % bytes.len() as u64) as usize;
            bytes[i] = next() as u8;
        }
        let _ = read_bytes(bytes);
    }
    // and every byte of the state blocks' first 2 KiB
    for i in (0..2048).step_by(3) {
        let mut bytes = full.clone();
        bytes[i] ^= 0xFF;
        let _ = read_bytes(bytes);
    }
}

// ------------------------------------------------------------------------------------------------
// Synthetic captures

fn blk(t: u32, body: &[u8]) -> Vec<u8> {
    let pad = (4 - body.len() % 4) % 4;
    let len = (8 + body.len() + pad + 4) as u32;
    let mut v = Vec::new();
    v.extend_from_slice(&t.to_le_bytes());
    v.extend_from_slice(&len.to_le_bytes());
    v.extend_from_slice(body);
    v.extend(std::iter::repeat_n(0u8, pad));
    v.extend_from_slice(&len.to_le_bytes());
    v
}

fn shb(major: u16, minor: u16, options: &[u8]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend_from_slice(&0x1A2B3C4Du32.to_le_bytes());
    body.extend_from_slice(&major.to_le_bytes());
    body.extend_from_slice(&minor.to_le_bytes());
    body.extend_from_slice(&(-1i64).to_le_bytes());
    body.extend_from_slice(options);
    blk(block::SHB, &body)
}

/// An event (current layout) with u16 or u32 lengths.
fn event(ty: u16, params: &[&[u8]], wide: bool) -> Vec<u8> {
    let lw = if wide { 4 } else { 2 };
    let len = 26 + lw * params.len() + params.iter().map(|p| p.len()).sum::<usize>();
    let mut v = Vec::new();
    v.extend_from_slice(&1_000u64.to_le_bytes());
    v.extend_from_slice(&77u64.to_le_bytes());
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v.extend_from_slice(&ty.to_le_bytes());
    v.extend_from_slice(&(params.len() as u32).to_le_bytes());
    for p in params {
        if wide {
            v.extend_from_slice(&(p.len() as u32).to_le_bytes());
        } else {
            v.extend_from_slice(&(p.len() as u16).to_le_bytes());
        }
    }
    for p in params {
        v.extend_from_slice(p);
    }
    v
}

fn ev_block(t: u32, cpu: u16, flags: Option<u32>, ev: &[u8]) -> Vec<u8> {
    let mut body = cpu.to_le_bytes().to_vec();
    if let Some(f) = flags {
        body.extend_from_slice(&f.to_le_bytes());
    }
    body.extend_from_slice(ev);
    blk(t, &body)
}

fn close_x() -> Vec<u8> {
    event(
        ppme::SYSCALL_CLOSE_X,
        &[&0i64.to_le_bytes(), &3i64.to_le_bytes()],
        false,
    )
}

#[test]
fn synthetic_blocks() {
    let mut f = shb(1, 2, b"\x01\x00\x04\x00abcd\x00\x00\x00\x00");
    f.extend(blk(0x7777, b"unknown block, skipped"));
    f.extend(ev_block(block::EV_V2, 3, None, &close_x()));
    f.extend(ev_block(block::EVF_V2, 1, Some(2), &close_x()));
    let json = br#"{"container":{}}"#;
    f.extend(ev_block(
        block::EV_V2_LARGE,
        0,
        None,
        &event(ppme::CONTAINER_JSON_2_E, &[json], true),
    ));
    f.extend(ev_block(
        block::EV_V2,
        0,
        None,
        &event(events::EVENT_COUNT as u16 + 5, &[], false),
    ));
    let mut r = ScapReader::new(std::io::Cursor::new(f)).expect("valid");
    assert_eq!(r.section_header().options_len, 12);
    let a = r.next_event().expect("ok").expect("event");
    assert_eq!((a.cpu, a.flags, a.event.name()), (3, 0, "close"));
    assert_eq!(
        a.event.param_by_name("fd").and_then(|p| p.as_i64()),
        Some(3)
    );
    let b = r.next_event().expect("ok").expect("event");
    assert_eq!((b.cpu, b.flags), (1, 2));
    let c = r.next_event().expect("ok").expect("event");
    assert_eq!(c.event.param(0).map(|p| p.as_str_bytes()), Some(&json[..]));
    assert!(
        r.next_event().expect("ok").is_none(),
        "type beyond the catalog is skipped"
    );
    assert_eq!(r.events_skipped(), 1);
}

#[test]
fn old_event_blocks_are_converted() {
    // an open exit in the old layout (no nparams) with 5 params: the catalog has 6 today
    let params: [&[u8]; 5] = [
        &3i64.to_le_bytes(),
        b"/etc/passwd\0",
        &1u32.to_le_bytes(),
        &0u32.to_le_bytes(),
        &0u32.to_le_bytes(),
    ];
    let v2 = event(ppme::SYSCALL_OPEN_X, &params, false);
    let mut v1 = v2[..22].to_vec();
    v1.extend_from_slice(&v2[26..]);
    let len = (v1.len() as u32).to_le_bytes();
    v1[16..20].copy_from_slice(&len);
    let mut f = shb(1, 0, &[]);
    f.extend(ev_block(block::EV, 0, None, &v1));
    let mut r = ScapReader::new(std::io::Cursor::new(f)).expect("valid");
    let e = r.next_event().expect("ok").expect("event").event;
    assert_eq!(e.nparams(), 5);
    assert_eq!(e.as_bytes(), &v2[..]);
    assert_eq!(
        e.param_by_name("name").map(|p| p.as_str_bytes()),
        Some(&b"/etc/passwd"[..])
    );
}

#[test]
fn concatenated_captures_continue() {
    let mut f = shb(1, 2, &[]);
    f.extend(ev_block(block::EV_V2, 0, None, &close_x()));
    f.extend(shb(1, 2, &[]));
    f.extend(ev_block(block::EV_V2, 0, None, &close_x()));
    let (n, err) = read_bytes(f);
    assert_eq!((n, err.map(|e| e.to_string())), (2, None));
}

#[test]
fn header_errors() {
    let kind = |bytes: Vec<u8>| read_bytes(bytes).1.map(|e| e.kind);
    assert!(matches!(
        kind(Vec::new()),
        Some(ScapErrorKind::Truncated { .. })
    ));
    assert!(matches!(
        kind(blk(block::MI, &[0; 180])),
        Some(ScapErrorKind::NotScap)
    ));
    assert!(matches!(
        kind(shb(1, 2, &[])),
        Some(ScapErrorKind::NoEvents)
    ));
    assert!(matches!(
        kind(shb(2, 0, &[])),
        Some(ScapErrorKind::VersionMismatch { major: 2, .. })
    ));
    let mut swapped = shb(1, 2, &[]);
    swapped[8..12].copy_from_slice(&0x4D3C2B1Au32.to_le_bytes());
    assert!(matches!(
        kind(swapped),
        Some(ScapErrorKind::InvalidMagic(_))
    ));
    let mut bad_trailer = shb(1, 2, &[]);
    let mut mi = blk(block::MI, &[0; 180]);
    let n = mi.len();
    mi[n - 4] ^= 1;
    bad_trailer.extend(mi);
    assert!(matches!(
        kind(bad_trailer),
        Some(ScapErrorKind::TrailerMismatch { .. })
    ));
    // a block claiming a gigabyte in a tiny file: truncated, without allocating it
    let mut huge = shb(1, 2, &[]);
    huge.extend_from_slice(&block::EV_V2_LARGE.to_le_bytes());
    huge.extend_from_slice(&0x3FFF_FFF0u32.to_le_bytes());
    huge.extend_from_slice(&[0; 64]);
    assert!(matches!(kind(huge), Some(ScapErrorKind::Truncated { .. })));
    let mut too_big = shb(1, 2, &[]);
    too_big.extend_from_slice(&block::EV_V2.to_le_bytes());
    too_big.extend_from_slice(&0x20000u32.to_le_bytes());
    assert!(matches!(
        kind(too_big),
        Some(ScapErrorKind::BadBlockLength { .. })
    ));
    // a non-event block after the events
    let mut late = shb(1, 2, &[]);
    late.extend(ev_block(block::EV_V2, 0, None, &close_x()));
    late.extend(blk(block::MI, &[0; 180]));
    assert!(matches!(
        kind(late),
        Some(ScapErrorKind::UnexpectedBlock(block::MI))
    ));
}
