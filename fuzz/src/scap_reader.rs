//! Capture files through the whole runtime input path: the reader (plain and gzip, state blocks, every
//! event block), every parameter decoded, the engine's state update and rule evaluation (frule's default
//! rules, with alert rendering), and every supported field extracted and rendered on every event.
//!
//! Invariants checked beyond "no panic": the reader never returns more events than blocks could hold
//! (each event block takes at least 12 bytes of the input), and an error carries an offset within the
//! decompressed stream it reports on (checked for plain input, whose length is known).

use std::cell::RefCell;
use std::io::Read;

use frule_codegen::abi::FieldArg;
use frule_lang::loader::{self, RulesFile};
use frule_runtime::engine::Engine;
use frule_runtime::fields::{Extractor, is_supported};
use frule_runtime::output::{Alert, OutputOptions, format_alert};
use frule_runtime::scap::{CaptureState, ScapReader};

const DEFAULT_RULES: &str = include_str!("../../rules/frule_rules.yaml");

/// Events read from one input at most (a capture of tiny blocks would otherwise make one run slow).
const MAX_EVENTS: usize = 4096;

/// Events on which every supported field is rendered; after them, each event renders one
/// [`FIELD_STRIDE`]th of the fields (a different slice each time), so a long capture still reaches every
/// field but no longer costs `events x fields` renders (that product was most of the target's time).
const ALL_FIELDS_EVENTS: usize = 16;

/// See [`ALL_FIELDS_EVENTS`].
const FIELD_STRIDE: usize = 16;

/// Hands out the input in uneven pieces, as a pipe or a gzip decoder would, so short reads are covered.
struct Pieces {
    data: Vec<u8>,
    at: usize,
    turn: usize,
}

impl Read for Pieces {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        const SIZES: [usize; 4] = [4093, 7, 1 << 16, 1];
        self.turn += 1;
        let want = SIZES[self.turn % SIZES.len()].min(buf.len());
        let rest = self.data.get(self.at..).unwrap_or_default();
        let n = want.min(rest.len());
        buf[..n].copy_from_slice(&rest[..n]);
        self.at += n;
        Ok(n)
    }
}

/// Every supported field with the arguments worth trying (none, a small index, a parameter name).
fn field_uses() -> &'static [(frule_codegen::abi::FieldId, Option<FieldArg>)] {
    static USES: std::sync::OnceLock<Vec<(frule_codegen::abi::FieldId, Option<FieldArg>)>> =
        std::sync::OnceLock::new();
    USES.get_or_init(|| {
        let mut uses = Vec::new();
        for id in frule_lang::fields::all().filter(|&id| is_supported(id)) {
            let arg = id.info().arg;
            if !arg.requires_arg() {
                uses.push((id, None));
            }
            if arg.accepts_index() {
                uses.push((id, Some(FieldArg::Index(0))));
                uses.push((id, Some(FieldArg::Index(2))));
            }
            if arg.accepts_key() {
                for key in ["fd", "name", "res", "HOME", "src"] {
                    uses.push((id, Some(FieldArg::Key(key.into()))));
                }
            }
        }
        uses
    })
}

thread_local! {
    static ENGINE: RefCell<Option<Engine>> = const { RefCell::new(None) };
}

fn with_engine(f: impl FnOnce(&mut Engine)) {
    ENGINE.with(|cell| {
        let mut slot = cell.borrow_mut();
        let engine = slot.get_or_insert_with(|| {
            let load = loader::load(&[RulesFile::new("frule_rules.yaml", DEFAULT_RULES)]);
            assert!(load.is_ok(), "the default rules do not load");
            let mut engine = Engine::new(&load);
            // compiled now rather than on the first event, so no input pays for it
            engine.ruleset_mut().build();
            engine
        });
        f(engine);
    });
}

/// The target body: `data` is a capture file (or anything else).
pub fn run(data: &[u8]) {
    let plain = data.get(..2) != Some(&[0x1f, 0x8b]);
    let src = Pieces {
        data: data.to_vec(),
        at: 0,
        turn: 0,
    };
    let mut reader = match ScapReader::new(src) {
        Ok(r) => r,
        Err(e) => {
            assert!(
                !plain || e.offset <= data.len() as u64,
                "error offset past the end of the input: {e}"
            );
            let _ = e.to_string();
            return;
        }
    };
    let _ = format!("{:?} {:?}", reader.section_header(), reader.state());
    with_engine(|engine| {
        engine.set_capture_state(reader.state());
        let opts = OutputOptions {
            hostname: "fuzz".into(),
            ..OutputOptions::default()
        };
        let json = OutputOptions {
            json_output: true,
            ..opts.clone()
        };
        let mut alerts: Vec<Alert> = Vec::new();
        let mut text = String::new();
        for n in 0..MAX_EVENTS {
            let rec = match reader.next_event() {
                Ok(Some(rec)) => rec,
                Ok(None) => break,
                Err(e) => {
                    assert!(
                        !plain || e.offset <= data.len() as u64,
                        "error offset past the end of the input: {e}"
                    );
                    let _ = e.to_string();
                    break;
                }
            };
            let evt = rec.event;
            let _ = (evt.name(), evt.type_name(), evt.direction(), evt.info());
            for p in evt.params() {
                let v = p.value();
                let _ = (p.as_u64(), p.as_i64(), p.as_str_bytes());
                text.clear();
                use std::fmt::Write;
                let _ = write!(text, "{v:?}");
            }
            alerts.clear();
            engine.process(&evt, rec.cpu, &mut alerts);
            for alert in &alerts {
                let _ = format_alert(alert, &opts);
                let _ = format_alert(alert, &json);
            }
            let mut ex = Extractor::new(engine.state(), evt).with_cpu(rec.cpu);
            for (i, (id, arg)) in field_uses().iter().enumerate() {
                if n < ALL_FIELDS_EVENTS || i % FIELD_STRIDE == n % FIELD_STRIDE {
                    text.clear();
                    ex.render_field(*id, arg.as_ref(), &mut text);
                }
            }
        }
        assert!(
            reader.events_read() as usize <= data.len() / 12 + 1 || !plain,
            "more events than the input can hold"
        );
        // The state this capture built is dropped now, not when the next input replaces it: each run
        // then frees what it allocated (the compiled rules stay, built once), so libFuzzer's leak check
        // sees balanced mallocs and frees instead of re-running every input under LeakSanitizer (most
        // of the time per input before) and giving up on leak detection after 1000 such inputs.
        engine.set_capture_state(&CaptureState::default());
    });
}
