//! Alerts as Falco writes them: the text line and the JSON object, and the channels they go to.
//!
//! ```text
//! rule output format ──compile──► OutputTemplate ──render(event)──► Alert { output, output_fields }
//!                                                                     │
//!                      OutputOptions (json, time_format_iso_8601, …) ─┴─► line ──► stdout · file · program · http
//! ```
//!
//! One format per file ([`text`], [`json`]), one channel per file ([`stdout`], [`file`](mod@file), [`program`],
//! [`http`]). Rendering happens while the event is alive (fields are read through [`FieldRender`]);
//! formatting and delivery only need the [`Alert`], so they can run later or elsewhere.
//!
//! Invariants of rendering, as in libsinsp's formatter with the `*` prefix Falco always adds:
//! - a value that cannot be extracted renders `<NA>` in the text and `null` in `output_fields`;
//! - a `%Nfield` token is padded with spaces, or cut, to exactly `N` characters;
//! - `output_fields` has one entry per distinct field token text, sorted by key (nlohmann's map
//!   order); a transformer token contributes the fields inside it (untransformed), as libsinsp does.

pub mod file;
pub mod http;
pub mod json;
pub mod program;
pub mod stdout;
pub mod text;

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::sync::Arc;

use frule_codegen::abi::{FieldArg, FieldId, FieldSource, ValueBuf, ValueRef};
use frule_codegen::lower::scalar_kind;
use frule_lang::ast::{Operand, TransformArg, Transformer};
use frule_lang::fields::{self, FieldType};
use frule_lang::loader::Priority;
use frule_lang::output::{OutputExpr, OutputFormat, OutputPiece};

/// What Falco prints for a value it cannot extract.
pub const NA: &str = "<NA>";

/// The `source` of Falco's own alerts (`Falco internal: syscall event drop`, …).
pub const INTERNAL_SOURCE: &str = "internal";

/// A field source that can also render a field as text, the way libsinsp prints it in outputs (flag
/// names, paths, addresses, `cmdline` joined with spaces …). The runtime's extractor implements it
/// over an event and its state; [`frule_codegen::abi::MapEvent`] implements it for tests.
pub trait FieldRender: FieldSource {
    /// Appends the text of `field` (with its argument) to `out`; `false` when it is not available
    /// (nothing appended).
    fn render_field(&mut self, field: FieldId, arg: Option<&FieldArg>, out: &mut String) -> bool;
}

impl FieldRender for frule_codegen::abi::MapEvent {
    fn render_field(&mut self, field: FieldId, arg: Option<&FieldArg>, out: &mut String) -> bool {
        let mut buf = ValueBuf::new();
        if !self.extract(field, arg, &mut buf) {
            return false;
        }
        for (i, v) in buf.iter().enumerate() {
            if i > 0 {
                out.push(' ');
            }
            push_value_text(v, out);
        }
        true
    }
}

fn push_value_text(v: ValueRef<'_>, out: &mut String) {
    // Writing to a String cannot fail.
    let _ = match v {
        ValueRef::I64(x) => write!(out, "{x}"),
        ValueRef::U64(x) => write!(out, "{x}"),
        ValueRef::F64(x) => write!(out, "{x}"),
        ValueRef::Bool(x) => write!(out, "{x}"),
        ValueRef::Bytes(b) => {
            out.push_str(&String::from_utf8_lossy(b));
            Ok(())
        }
        ValueRef::Ip(ip) => write!(out, "{ip}"),
    };
}

/// A typed value of `output_fields`.
#[derive(Clone, Debug, PartialEq)]
pub enum FieldValue {
    /// Not available (`null`).
    Null,
    /// Text.
    Str(String),
    /// An unsigned number.
    U64(u64),
    /// A signed number.
    I64(i64),
    /// A floating-point number.
    F64(f64),
    /// A boolean.
    Bool(bool),
}

/// One fired rule on one event: everything the formats and channels need.
#[derive(Clone, Debug, PartialEq)]
pub struct Alert {
    /// The rule name.
    pub rule: Arc<str>,
    /// The rule priority.
    pub priority: Priority,
    /// The event source (`syscall`).
    pub source: Arc<str>,
    /// The rule tags, sorted.
    pub tags: Arc<[String]>,
    /// The event timestamp, ns since the epoch.
    pub time: u64,
    /// The rendered rule output, without the time/priority prefix.
    pub output: String,
    /// Every `%field` of the rule output with its value, sorted by key.
    pub output_fields: Vec<(Arc<str>, FieldValue)>,
}

/// How a token's JSON value is obtained.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum JsonKind {
    Signed,
    Unsigned,
    Double,
    Bool,
    Text,
}

#[derive(Clone, Debug)]
enum Value {
    Field(FieldId, Option<FieldArg>),
    /// A string transformer applied to a field's text.
    Transform(Transformer, FieldId, Option<FieldArg>),
    /// A transformer expression we do not render (yet): always `<NA>`.
    Unsupported,
}

#[derive(Clone, Debug)]
struct Token {
    value: Value,
    width: usize,
    key: Arc<str>,
    json: JsonKind,
    /// Whether the token is a key of `output_fields` (plain fields are; transformers are not).
    in_json: bool,
}

#[derive(Clone, Debug)]
enum Piece {
    Text(String),
    Token(usize),
}

/// A rule's output format, resolved for rendering.
#[derive(Clone, Debug)]
pub struct OutputTemplate {
    pieces: Vec<Piece>,
    tokens: Vec<Token>,
    /// Distinct keys, sorted, with the token that provides each.
    keys: Vec<(Arc<str>, usize)>,
}

fn codegen_arg(arg: fields::FieldArg) -> Option<FieldArg> {
    match arg {
        fields::FieldArg::None => None,
        fields::FieldArg::Index(i) => Some(FieldArg::Index(i)),
        fields::FieldArg::Key(k) => Some(FieldArg::Key(k)),
    }
}

fn json_kind(ty: FieldType, list: bool) -> JsonKind {
    use FieldType as T;
    if list {
        return JsonKind::Text;
    }
    match ty {
        // Flags, modes and enums print as names; keep them text like libsinsp's formatter does.
        T::Flags8
        | T::Flags16
        | T::Flags32
        | T::EnumFlags8
        | T::EnumFlags16
        | T::EnumFlags32
        | T::Mode
        | T::SigType
        | T::SyscallId
        | T::L4Proto => JsonKind::Text,
        _ => match scalar_kind(ty) {
            frule_codegen::abi::ScalarKind::Int => JsonKind::Signed,
            frule_codegen::abi::ScalarKind::Uint => JsonKind::Unsigned,
            frule_codegen::abi::ScalarKind::Double => JsonKind::Double,
            frule_codegen::abi::ScalarKind::Bool => JsonKind::Bool,
            _ => JsonKind::Text,
        },
    }
}

fn transform_value(t: &frule_lang::ast::Transform) -> Value {
    let string_op = matches!(
        t.transformer,
        Transformer::ToLower | Transformer::ToUpper | Transformer::Basename | Transformer::B64
    );
    if let ([TransformArg::Operand(Operand::Field(f))], true) = (t.args.as_slice(), string_op)
        && let Ok(r) = fields::resolve(&f.name, f.arg.as_deref())
    {
        return Value::Transform(t.transformer, r.id, codegen_arg(r.arg));
    }
    Value::Unsupported
}

/// The fields used inside a transformer expression, as `output_fields`-only tokens.
fn inner_fields(t: &frule_lang::ast::Transform, out: &mut Vec<Token>) {
    fn arg(a: &TransformArg, out: &mut Vec<Token>) {
        match a {
            TransformArg::Operand(Operand::Field(f)) => {
                if let Ok(r) = fields::resolve(&f.name, f.arg.as_deref()) {
                    let key = match &f.arg {
                        Some(a) => format!("{}[{a}]", f.name),
                        None => f.name.clone(),
                    };
                    out.push(Token {
                        json: json_kind(r.ty(), r.is_list()),
                        value: Value::Field(r.id, codegen_arg(r.arg)),
                        width: 0,
                        key: Arc::from(key.as_str()),
                        in_json: true,
                    });
                }
            }
            TransformArg::Operand(Operand::Transform(t)) => inner_fields(t, out),
            TransformArg::List(items, _) => items.iter().for_each(|i| arg(i, out)),
            TransformArg::Literal(_) => {}
        }
    }
    t.args.iter().for_each(|a| arg(a, out));
}

impl OutputTemplate {
    /// Resolves a parsed output format.
    pub fn new(format: &OutputFormat) -> OutputTemplate {
        let mut pieces = Vec::with_capacity(format.pieces.len());
        let mut tokens = Vec::new();
        let mut hidden = Vec::new();
        for p in &format.pieces {
            match p {
                OutputPiece::Text(t) => pieces.push(Piece::Text(t.clone())),
                OutputPiece::Token(t) => {
                    let (value, json) = match &t.expr {
                        OutputExpr::Field(r) => {
                            let kind = json_kind(r.ty(), r.is_list());
                            (Value::Field(r.id, codegen_arg(r.arg.clone())), kind)
                        }
                        OutputExpr::Transform { expr, .. } => {
                            // libsinsp lists the fields inside a transformer in `output_fields`
                            // (untransformed), not the transformer expression itself.
                            inner_fields(expr, &mut hidden);
                            (transform_value(expr), JsonKind::Text)
                        }
                    };
                    pieces.push(Piece::Token(tokens.len()));
                    tokens.push(Token {
                        value,
                        width: t.width as usize,
                        key: Arc::from(t.text.as_str()),
                        json,
                        in_json: matches!(t.expr, OutputExpr::Field(_)),
                    });
                }
            }
        }
        tokens.append(&mut hidden);
        let mut seen = BTreeSet::new();
        let mut keys: Vec<(Arc<str>, usize)> = Vec::new();
        for (i, t) in tokens.iter().enumerate() {
            if t.in_json && seen.insert(t.key.clone()) {
                keys.push((t.key.clone(), i));
            }
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        OutputTemplate {
            pieces,
            tokens,
            keys,
        }
    }

    /// The fields the template reads with their arguments, those inside transformers included
    /// (with repeats).
    pub fn field_refs(&self) -> impl Iterator<Item = (fields::FieldId, Option<&FieldArg>)> + '_ {
        self.tokens.iter().filter_map(|t| match &t.value {
            Value::Field(id, arg) | Value::Transform(_, id, arg) => Some((*id, arg.as_ref())),
            Value::Unsupported => None,
        })
    }

    /// A template of a format text; `None` when the text does not parse (the loader has already
    /// reported it).
    pub fn parse(format: &str) -> Option<OutputTemplate> {
        frule_lang::output::parse_output(format)
            .ok()
            .map(|f| OutputTemplate::new(&f))
    }

    fn render_token(t: &Token, src: &mut dyn FieldRender, out: &mut String) -> bool {
        match &t.value {
            Value::Field(id, arg) => src.render_field(*id, arg.as_ref(), out),
            Value::Transform(op, id, arg) => {
                let mut s = String::new();
                if !src.render_field(*id, arg.as_ref(), &mut s) {
                    return false;
                }
                match op {
                    Transformer::ToLower => out.push_str(&s.to_ascii_lowercase()),
                    Transformer::ToUpper => out.push_str(&s.to_ascii_uppercase()),
                    Transformer::Basename => {
                        out.push_str(s.rsplit_once('/').map_or(s.as_str(), |(_, b)| b));
                    }
                    Transformer::B64 => match frule_codegen::vm::b64_decode(s.as_bytes()) {
                        Some(d) => out.push_str(&String::from_utf8_lossy(&d)),
                        None => return false,
                    },
                    _ => return false,
                }
                true
            }
            Value::Unsupported => false,
        }
    }

    /// Renders the output text (missing values as `<NA>`) into `out`.
    pub fn render(&self, src: &mut dyn FieldRender, out: &mut String) {
        let mut tmp = String::new();
        for p in &self.pieces {
            match p {
                Piece::Text(t) => out.push_str(t),
                Piece::Token(i) => {
                    let Some(t) = self.tokens.get(*i) else {
                        continue;
                    };
                    tmp.clear();
                    if !Self::render_token(t, src, &mut tmp) {
                        tmp.clear();
                        tmp.push_str(NA);
                    }
                    if t.width > 0 {
                        // libsinsp resizes the value to the width: pads with spaces or cuts.
                        let n = tmp.chars().count();
                        if n > t.width {
                            out.extend(tmp.chars().take(t.width));
                        } else {
                            out.push_str(&tmp);
                            out.extend(std::iter::repeat_n(' ', t.width - n));
                        }
                    } else {
                        out.push_str(&tmp);
                    }
                }
            }
        }
    }

    /// The typed values of the distinct tokens, sorted by key.
    pub fn fields(&self, src: &mut dyn FieldRender) -> Vec<(Arc<str>, FieldValue)> {
        let mut buf = ValueBuf::new();
        let mut out = Vec::with_capacity(self.keys.len());
        for (key, i) in &self.keys {
            let Some(t) = self.tokens.get(*i) else {
                continue;
            };
            let value = match (&t.value, t.json) {
                (Value::Field(id, arg), kind) if kind != JsonKind::Text => {
                    buf.clear();
                    if src.extract(*id, arg.as_ref(), &mut buf) {
                        match buf.get(0) {
                            Some(ValueRef::I64(x)) => FieldValue::I64(x),
                            Some(ValueRef::U64(x)) => FieldValue::U64(x),
                            Some(ValueRef::F64(x)) => FieldValue::F64(x),
                            Some(ValueRef::Bool(x)) => FieldValue::Bool(x),
                            Some(other) => {
                                let mut s = String::new();
                                push_value_text(other, &mut s);
                                FieldValue::Str(s)
                            }
                            None => FieldValue::Null,
                        }
                    } else {
                        FieldValue::Null
                    }
                }
                _ => {
                    let mut s = String::new();
                    if Self::render_token(t, src, &mut s) {
                        FieldValue::Str(s)
                    } else {
                        FieldValue::Null
                    }
                }
            };
            out.push((key.clone(), value));
        }
        out
    }
}

/// How alerts are formatted (the falco.yaml keys that shape a line).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputOptions {
    /// `json_output`.
    pub json_output: bool,
    /// `json_include_output_property`.
    pub json_include_output_property: bool,
    /// `json_include_output_fields_property`.
    pub json_include_output_fields_property: bool,
    /// `json_include_tags_property`.
    pub json_include_tags_property: bool,
    /// `json_include_message_property`.
    pub json_include_message_property: bool,
    /// `time_format_iso_8601`.
    pub time_format_iso_8601: bool,
    /// The `hostname` of JSON alerts.
    pub hostname: String,
}

impl Default for OutputOptions {
    fn default() -> Self {
        OutputOptions {
            json_output: false,
            json_include_output_property: true,
            json_include_output_fields_property: true,
            json_include_tags_property: true,
            json_include_message_property: false,
            time_format_iso_8601: false,
            hostname: hostname(),
        }
    }
}

/// The host name Falco puts in alerts: `FALCO_HOSTNAME` when set, else the kernel's host name.
pub fn hostname() -> String {
    if let Ok(h) = std::env::var("FALCO_HOSTNAME")
        && !h.is_empty()
    {
        return h;
    }
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .map(|s| s.trim().to_string())
        .unwrap_or_default()
}

/// Formats an alert as one line (without the newline), text or JSON per `opts`.
pub fn format_alert(alert: &Alert, opts: &OutputOptions) -> String {
    if opts.json_output {
        json::format(alert, opts)
    } else {
        text::format(alert, opts)
    }
}

/// Formats an internal message built by [`Outputs::send_internal`] (see there for the layout).
pub fn format_internal(alert: &Alert, opts: &OutputOptions) -> String {
    let quote = |v: &FieldValue| match v {
        FieldValue::Str(s) => serde_json::Value::from(s.as_str()).to_string(),
        FieldValue::Null => "null".to_string(),
        FieldValue::U64(x) => x.to_string(),
        FieldValue::I64(x) => x.to_string(),
        FieldValue::F64(x) => x.to_string(),
        FieldValue::Bool(x) => x.to_string(),
    };
    if opts.json_output {
        let mut out = String::with_capacity(256);
        let _ = write!(
            out,
            "{{\"hostname\":{},\"output\":{},\"output_fields\":{{",
            serde_json::Value::from(opts.hostname.as_str()),
            serde_json::Value::from(alert.output.as_str())
        );
        for (i, (k, v)) in alert.output_fields.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let _ = write!(out, "{}:{}", serde_json::Value::from(&**k), quote(v));
        }
        let _ = write!(
            out,
            "}},\"priority\":{},\"rule\":{},\"source\":{},\"time\":{}}}",
            serde_json::Value::from(alert.priority.as_str()),
            serde_json::Value::from(&*alert.rule),
            serde_json::Value::from(&*alert.source),
            serde_json::Value::from(json::rfc3339(alert.time))
        );
        out
    } else {
        let fields: Vec<String> = alert
            .output_fields
            .iter()
            .map(|(k, v)| format!("{k}={}", quote(v)))
            .collect();
        format!(
            "{}: {} {} ({})",
            text::evt_time(alert.time),
            alert.priority.as_str(),
            alert.output,
            fields.join(" ")
        )
    }
}

/// Where formatted alerts go. Each channel receives the alert and its formatted line.
pub trait Channel {
    /// Delivers one alert.
    fn send(&mut self, alert: &Alert, line: &str) -> std::io::Result<()>;
    /// Flushes buffered alerts.
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
    /// Ends delivery at the end of a run (flushes, closes files, waits for programs).
    fn close(&mut self) -> std::io::Result<()> {
        self.flush()
    }
    /// A short name for error messages (`stdout`, `file`, …).
    fn name(&self) -> &'static str;
}

/// The configured channels: every alert is formatted once and sent to each.
pub struct Outputs {
    opts: OutputOptions,
    channels: Vec<Box<dyn Channel + Send>>,
    errors: Vec<String>,
}

impl std::fmt::Debug for Outputs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outputs")
            .field("opts", &self.opts)
            .field(
                "channels",
                &self.channels.iter().map(|c| c.name()).collect::<Vec<_>>(),
            )
            .finish()
    }
}

impl Outputs {
    /// Outputs with the given formatting and no channel.
    pub fn new(opts: OutputOptions) -> Outputs {
        Outputs {
            opts,
            channels: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Adds a channel.
    pub fn add(&mut self, channel: Box<dyn Channel + Send>) {
        self.channels.push(channel);
    }

    /// The formatting options.
    pub fn options(&self) -> &OutputOptions {
        &self.opts
    }

    /// Formats `alert` and sends it to every channel. A failing channel does not stop the others;
    /// its error is kept (see [`Outputs::take_errors`]), as Falco logs and goes on.
    pub fn send(&mut self, alert: &Alert) {
        let line = format_alert(alert, &self.opts);
        for c in &mut self.channels {
            if let Err(e) = c.send(alert, &line) {
                self.errors.push(format!("{} output: {e}", c.name()));
            }
        }
    }

    /// Sends one of Falco's internal messages (not a rule's alert), formatted as Falco's
    /// `falco_outputs::handle_msg` does: the text line is `<time>: <Priority> <msg> (k="v" …)` with
    /// the fields sorted by key and each value JSON-quoted; the JSON object has `hostname`,
    /// `output` (the message alone), `output_fields`, `priority`, `rule`, `source` (`internal`) and
    /// `time`, and no `tags`.
    pub fn send_internal(
        &mut self,
        time: u64,
        priority: Priority,
        rule: &str,
        msg: &str,
        fields: &[(&str, String)],
    ) {
        let mut sorted: Vec<&(&str, String)> = fields.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let alert = Alert {
            rule: Arc::from(rule),
            priority,
            source: Arc::from(INTERNAL_SOURCE),
            tags: Arc::from(Vec::new()),
            time,
            output: msg.to_string(),
            output_fields: sorted
                .iter()
                .map(|(k, v)| (Arc::from(*k), FieldValue::Str(v.clone())))
                .collect(),
        };
        let line = format_internal(&alert, &self.opts);
        for c in &mut self.channels {
            if let Err(e) = c.send(&alert, &line) {
                self.errors.push(format!("{} output: {e}", c.name()));
            }
        }
    }

    /// Flushes every channel.
    pub fn flush(&mut self) {
        for c in &mut self.channels {
            if let Err(e) = c.flush() {
                self.errors.push(format!("{} output: {e}", c.name()));
            }
        }
    }

    /// Closes every channel at the end of a run.
    pub fn close(&mut self) {
        for c in &mut self.channels {
            if let Err(e) = c.close() {
                self.errors.push(format!("{} output: {e}", c.name()));
            }
        }
    }

    /// The delivery errors since the last call.
    pub fn take_errors(&mut self) -> Vec<String> {
        std::mem::take(&mut self.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drop_alert() -> Alert {
        Alert {
            rule: Arc::from("Falco internal: syscall event drop"),
            priority: Priority::Debug,
            source: Arc::from(INTERNAL_SOURCE),
            tags: Arc::from(Vec::new()),
            time: 1_700_000_000_123_456_789,
            output: "Falco internal: syscall event drop. 7 system calls dropped in last second."
                .into(),
            output_fields: vec![
                (Arc::from("n_drops"), FieldValue::Str("7".into())),
                (Arc::from("n_evts"), FieldValue::Str("70".into())),
            ],
        }
    }

    #[test]
    fn internal_messages_are_formatted_as_falco_handle_msg() {
        let mut opts = OutputOptions {
            hostname: "h".into(),
            ..OutputOptions::default()
        };
        let text = format_internal(&drop_alert(), &opts);
        let (time, rest) = text.split_once(": ").unwrap_or_default();
        assert_eq!(time.len(), "HH:MM:SS.nnnnnnnnn".len(), "{text}");
        assert_eq!(
            rest,
            "Debug Falco internal: syscall event drop. 7 system calls dropped in last second. \
             (n_drops=\"7\" n_evts=\"70\")"
        );
        opts.json_output = true;
        assert_eq!(
            format_internal(&drop_alert(), &opts),
            "{\"hostname\":\"h\",\"output\":\"Falco internal: syscall event drop. 7 system calls \
             dropped in last second.\",\"output_fields\":{\"n_drops\":\"7\",\"n_evts\":\"70\"},\
             \"priority\":\"Debug\",\"rule\":\"Falco internal: syscall event drop\",\
             \"source\":\"internal\",\"time\":\"2023-11-14T22:13:20.123456789Z\"}"
        );
    }
}
