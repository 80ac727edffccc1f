//! Diagnostics: everything the loader finds wrong or worth a warning, as values.
//!
//! A [`Diagnostic`] carries Falco's stable code ([`Code`], printed as `LOAD_ERR_*` / `LOAD_*`), the message
//! Falco would print, our exact primary location (a byte span in a file), secondary labels, an optional
//! help line, and Falco's own location chain ([`ContextItem`]s with 0-based yaml-cpp style marks), so that
//! both our precise text format and Falco's `falco_load_results` JSON can be rendered from it.
//!
//! Invariants: `severity` agrees with `code` (error codes are errors, warning codes warnings); `file` is the
//! file the diagnostic is reported under (the file of the primary span when there is one).

use crate::source::{FileId, FileSpan};

/// Error or warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Severity {
    /// Makes the load fail.
    Error,
    /// Reported; the load still succeeds.
    Warning,
}

macro_rules! codes {
    ($( $(#[$m:meta])* $name:ident = $str:literal, $sev:ident, $desc:literal; )*) => {
        /// Falco's load result codes (`falco_load_result.h`), errors first, in Falco's order.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code {
            $( $(#[$m])* $name, )*
        }

        impl Code {
            /// Every code, in Falco's order.
            pub const ALL: &'static [Code] = &[$(Code::$name),*];

            /// The code as Falco prints it, e.g. `LOAD_ERR_COMPILE_CONDITION`.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$name => $str,)* }
            }

            /// Falco's short description, e.g. `Error compiling condition`.
            pub fn description(self) -> &'static str {
                match self { $(Code::$name => $desc,)* }
            }

            /// Whether the code is an error or a warning.
            pub fn severity(self) -> Severity {
                match self { $(Code::$name => Severity::$sev,)* }
            }
        }
    };
}

codes! {
    /// A file could not be read.
    FileRead = "LOAD_ERR_FILE_READ", Error, "File read error";
    /// The content is not valid YAML.
    YamlParse = "LOAD_ERR_YAML_PARSE", Error, "YAML parse error";
    /// The YAML structure is wrong (missing keys, wrong types, …).
    YamlValidate = "LOAD_ERR_YAML_VALIDATE", Error, "Error validating internal structure of YAML file";
    /// A condition does not parse or compile.
    CompileCondition = "LOAD_ERR_COMPILE_CONDITION", Error, "Error compiling condition";
    /// An output format does not compile.
    CompileOutput = "LOAD_ERR_COMPILE_OUTPUT", Error, "Error compiling output";
    /// An item is wrong (undefined macro, dangling append, version mismatch, …).
    Validate = "LOAD_ERR_VALIDATE", Error, "Error validating rule/macro/list/exception objects";
    /// An extension item is wrong.
    Extension = "LOAD_ERR_EXTENSION", Error, "Error in extension item";
    /// A rule's source is not known.
    UnknownSource = "LOAD_UNKNOWN_SOURCE", Warning, "Unknown event source";
    /// A `ka.*`/`jevt.*` field compared with `<NA>`.
    UnsafeNaCheck = "LOAD_UNSAFE_NA_CHECK", Warning, "Unsafe <NA> comparison in condition";
    /// The rule matches more than 100 event codes.
    NoEvttype = "LOAD_NO_EVTTYPE", Warning, "Condition has no event-type restriction";
    /// Unknown field or event type in a rule with `skip-if-unknown-filter`.
    UnknownFilter = "LOAD_UNKNOWN_FILTER", Warning, "Unknown field or event-type in condition or output";
    /// A macro nobody uses.
    UnusedMacro = "LOAD_UNUSED_MACRO", Warning, "Unused macro";
    /// A list nobody uses.
    UnusedList = "LOAD_UNUSED_LIST", Warning, "Unused list";
    /// A top-level item of unknown kind.
    UnknownItem = "LOAD_UNKNOWN_ITEM", Warning, "Unknown rules file item";
    /// A deprecated construct.
    DeprecatedItem = "LOAD_DEPRECATED_ITEM", Warning, "Used deprecated item";
    /// An extension item warning.
    WarningExtension = "LOAD_WARNING_EXTENSION", Warning, "Warning in extension item";
    /// An exception appended without values.
    AppendNoValues = "LOAD_APPEND_NO_VALUES", Warning, "Overriding/appending with no values";
    /// Two exceptions with one name in a rule.
    ExceptionNameNotUnique = "LOAD_EXCEPTION_NAME_NOT_UNIQUE", Warning, "Multiple exceptions defined with the same name";
    /// A macro name that is not an identifier.
    InvalidMacroName = "LOAD_INVALID_MACRO_NAME", Warning, "Invalid macro name";
    /// A list name that is not a bare string.
    InvalidListName = "LOAD_INVALID_LIST_NAME", Warning, "Invalid list name";
    /// A compiler warning in a condition.
    CompileConditionWarning = "LOAD_COMPILE_CONDITION", Warning, "Warning in rule condition";
    /// A key that the item kind does not have.
    UnknownKey = "LOAD_UNKNOWN_KEY", Warning, "Unknown key in item definition";
}

impl Code {
    /// The code printed as `s`.
    pub fn from_str_exact(s: &str) -> Option<Code> {
        Code::ALL.iter().copied().find(|c| c.as_str() == s)
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A secondary location with a note, e.g. the definition of a macro used in a failing rule.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Label {
    /// Where.
    pub span: FileSpan,
    /// What is there.
    pub message: String,
}

/// One entry of Falco's location chain (`rule_loader::context`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ContextItem {
    /// Falco's item type text: `rules content`, `rule`, `rule condition`, `condition expression`, …
    pub item_type: &'static str,
    /// The item's name (may be empty).
    pub item_name: String,
    /// The position's name: the file name, or the quoted condition text for `condition expression`.
    pub position_name: String,
    /// 0-based line (yaml-cpp mark) — for `condition expression`, computed the way Falco does.
    pub line: u32,
    /// 0-based column.
    pub column: u32,
    /// Offset, as Falco reports it.
    pub offset: u32,
}

/// One error or warning.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Diagnostic {
    /// Error or warning (always `code.severity()`).
    pub severity: Severity,
    /// Falco's code.
    pub code: Code,
    /// The message, worded as Falco words it.
    pub message: String,
    /// The file this diagnostic is reported under.
    pub file: Option<FileId>,
    /// Our exact location of the problem.
    pub primary: Option<FileSpan>,
    /// Secondary locations.
    pub labels: Vec<Label>,
    /// A suggestion ("did you mean …").
    pub help: Option<String>,
    /// Our chain: rule → condition → macro, each with its own exact location.
    pub chain: Vec<Label>,
    /// Falco's location chain, for the JSON format and for Falco-shaped output.
    pub context: Vec<ContextItem>,
    /// The text Falco would show the snippet from when it is not the file (a condition expression).
    pub alt_content: Option<String>,
}

impl Diagnostic {
    /// A diagnostic with a code and a message and nothing else.
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        Self {
            severity: code.severity(),
            code,
            message: message.into(),
            file: None,
            primary: None,
            labels: Vec::new(),
            help: None,
            chain: Vec::new(),
            context: Vec::new(),
            alt_content: None,
        }
    }

    /// Sets the primary location (and the reporting file).
    pub fn at(mut self, span: FileSpan) -> Self {
        self.primary = Some(span);
        self.file = Some(span.file);
        self
    }

    /// Adds a secondary label.
    pub fn with_label(mut self, span: FileSpan, message: impl Into<String>) -> Self {
        self.labels.push(Label {
            span,
            message: message.into(),
        });
        self
    }

    /// Sets the help line.
    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// True for errors.
    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}
