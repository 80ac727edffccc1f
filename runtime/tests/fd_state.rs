//! fd state as current libsinsp keeps it, pinned on synthetic events independently of sysdig: the
//! thread's `lastevent_fd` (which fd an event is about, `fd.num`), the typechar of events whose fd
//! is not in the table, and what reads and writes do to sockets (connected, datagram tuples, roles,
//! sockets inferred from `send*`).
//!
//! Cases are in `tests/data/state/fd_state.yaml`: each names its events (`e: name>` or `name<`,
//! the thread `tid`, parameters by their catalog names) and the fields expected after given events
//! (`at`, 1-based). Every case starts from a state holding one process, `bash` (tid 100).

use frule_codegen::abi::FieldArg;
use frule_lang::events::{self, Direction, ParamType};
use frule_lang::fields;
use frule_runtime::event::Event;
use frule_runtime::fields::Extractor;
use frule_runtime::state::{State, ThreadInfo};
use serde_json::Value;

/// The newest event code named `name` in `dir`.
fn code_of(name: &str, dir: Direction) -> u16 {
    events::events()
        .iter()
        .filter(|e| e.name == name && e.direction() == dir)
        .max_by_key(|e| (!e.is_old_version(), e.code))
        .unwrap_or_else(|| panic!("no event {name}"))
        .code
}

/// `a.b.c.d:port` or `[v6]:port` as the family byte, address and little-endian port.
fn endpoint(s: &str) -> (u8, Vec<u8>) {
    let (ip, port) = s
        .rsplit_once(':')
        .unwrap_or_else(|| panic!("{s}: want ip:port"));
    let port: u16 = port.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
    let ip: std::net::IpAddr = ip
        .trim_start_matches('[')
        .trim_end_matches(']')
        .parse()
        .unwrap_or_else(|e| panic!("{s}: {e}"));
    let (family, mut v) = match ip {
        std::net::IpAddr::V4(a) => (2, a.octets().to_vec()),
        std::net::IpAddr::V6(a) => (10, a.octets().to_vec()),
    };
    v.extend_from_slice(&port.to_le_bytes());
    (family, v)
}

/// One parameter's bytes from its YAML value, by the catalog's type.
fn encode(ty: ParamType, v: &Value) -> Vec<u8> {
    let text = match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    if let Some(n) = ty.fixed_len() {
        let x: i64 = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        return x.to_le_bytes()[..n].to_vec();
    }
    match ty {
        ParamType::Socktuple => {
            let (s, d) = text.split_once("->").expect("tuple src->dst");
            let ((f, s), (_, d)) = (endpoint(s), endpoint(d));
            let mut b = vec![f];
            b.extend(s);
            b.extend(d);
            b
        }
        ParamType::Sockaddr => {
            let (f, a) = endpoint(&text);
            let mut b = vec![f];
            b.extend(a);
            b
        }
        t if t.is_string() => {
            let mut b = text.into_bytes();
            b.push(0);
            b
        }
        _ => text.into_bytes(),
    }
}

/// An event in the scap layout from a case's event map.
fn event(ts: u64, spec: &serde_json::Map<String, Value>) -> Vec<u8> {
    let e = spec["e"].as_str().expect("e: name> or name<");
    let (name, dir) = match e.strip_suffix('>') {
        Some(n) => (n, Direction::Enter),
        None => (
            e.strip_suffix('<').expect("e ends with > or <"),
            Direction::Exit,
        ),
    };
    let info = events::event(code_of(name, dir)).expect("known code");
    let tid = spec.get("tid").and_then(Value::as_u64).unwrap_or(100);
    for k in spec.keys() {
        assert!(
            k == "e" || k == "tid" || info.params.iter().any(|p| p.name == k),
            "{e} has no param {k}"
        );
    }
    let mut values: Vec<Vec<u8>> = info
        .params
        .iter()
        .map(|p| {
            spec.get(p.name)
                .map(|v| encode(p.ty, v))
                .unwrap_or_default()
        })
        .collect();
    while values.last().is_some_and(Vec::is_empty) {
        values.pop();
    }
    let len = 26 + 2 * values.len() + values.iter().map(Vec::len).sum::<usize>();
    let mut v = Vec::new();
    v.extend_from_slice(&ts.to_le_bytes());
    v.extend_from_slice(&tid.to_le_bytes());
    v.extend_from_slice(&(len as u32).to_le_bytes());
    v.extend_from_slice(&info.code.to_le_bytes());
    v.extend_from_slice(&(values.len() as u32).to_le_bytes());
    for p in &values {
        v.extend_from_slice(&(p.len() as u16).to_le_bytes());
    }
    for p in &values {
        v.extend_from_slice(p);
    }
    v
}

fn base() -> State {
    let mut s = State::default();
    let mut bash = ThreadInfo::unknown(100);
    bash.comm = b"bash".to_vec();
    bash.ptid = 1;
    s.insert_thread(bash);
    s
}

fn render(state: &State, raw: &[u8], field: &str) -> String {
    let evt = Event::new(raw).expect("well-formed");
    let mut x = Extractor::new(state, evt);
    let r = fields::resolve(field, None).unwrap_or_else(|e| panic!("{field}: {e}"));
    let arg = match r.arg {
        fields::FieldArg::None => None,
        fields::FieldArg::Index(i) => Some(FieldArg::Index(i)),
        fields::FieldArg::Key(k) => Some(FieldArg::Key(k)),
    };
    let mut s = String::new();
    x.render_field(r.id, arg.as_ref(), &mut s);
    s
}

#[test]
fn fd_state_cases() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/state/fd_state.yaml"
    );
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases: Value = serde_saphyr::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"));
    let cases = cases.as_array().expect("a list of cases");
    let mut failures = Vec::new();
    let mut checked = 0;
    for case in cases {
        let name = case["name"].as_str().expect("name");
        let evs: Vec<Vec<u8>> = case["events"]
            .as_array()
            .expect("events")
            .iter()
            .enumerate()
            .map(|(i, e)| event(1000 + i as u64, e.as_object().expect("event map")))
            .collect();
        let expect = case["expect"].as_array().expect("expect");
        let mut state = base();
        for (i, raw) in evs.iter().enumerate() {
            state.update(&Event::new(raw).expect("well-formed"));
            for x in expect
                .iter()
                .filter(|x| x["at"].as_u64() == Some(i as u64 + 1))
            {
                for (field, want) in x["fields"].as_object().expect("fields") {
                    let want = match want {
                        Value::String(s) => s.clone(),
                        other => other.to_string(),
                    };
                    let got = render(&state, raw, field);
                    checked += 1;
                    if got != want {
                        failures.push(format!(
                            "{name}: after event {}: {field} = {got:?}, want {want:?}",
                            i + 1
                        ));
                    }
                }
            }
        }
    }
    eprintln!("{} cases, {checked} field values checked", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
