#!/usr/bin/env python3
"""Generate `lang/src/events/table.rs`, frule's copy of libscap's event schema as data.

Usage:
    python3 lang/tools/gen_events.py <falcosecurity/libs git dir> [<rev>] > lang/src/events/table.rs
    rustfmt --edition 2024 lang/src/events/table.rs

The script reads the driver headers and tables of a falcosecurity/libs checkout (through
`git show <rev>:<path>`, so a bare mirror works) and writes the facts they state -- event codes,
names, categories, flags, parameter names/types/print formats, flag value tables, dynamic
parameter tables and PPM_SC syscall names -- as Rust constants in frule's own layout (see
`lang/src/events.rs`). Nothing of the upstream text is copied verbatim; the output is a data
transcription. It is deterministic: the same libs revision yields the same file.

Inputs:
    driver/ppm_events_public.h   enum ppm_event_code, PPM_SC_FIELDS, #define'd PPM_* values
    driver/event_table.c         g_event_info[]
    driver/flags_table.c         the ppm_name_value flag tables
    driver/dynamic_params_table.c the PT_DYN selector tables
    driver/syscall_table.c       native syscall -> (flags, enter/exit event, PPM_SC) entries
    driver/syscall_compat_x86_64.h  x86_64 __NR_* numbers
    userspace/libscap/linux/scap_ppm_sc.c  g_events_to_sc_map (event -> PPM_SC codes)
"""

import re
import subprocess
import sys


def git_show(gitdir, rev, path):
    return subprocess.run(
        ["git", "-C", gitdir, "show", f"{rev}:{path}"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout


def strip_comments(text):
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    return re.sub(r"//[^\n]*", " ", text)


# ---------------------------------------------------------------- constants


class Consts:
    """Integer constants of the header: #defines and enum members, evaluated lazily."""

    def __init__(self):
        self.exprs = {}
        self.cache = {}

    def add(self, name, expr):
        self.exprs.setdefault(name, expr.strip())

    def value(self, expr, depth=0):
        if depth > 50:
            raise ValueError(f"recursion evaluating {expr}")
        expr = expr.strip()
        if expr in self.cache:
            return self.cache[expr]

        def repl(m):
            ident = m.group(0)
            if ident in self.exprs:
                return "(" + str(self.value(self.exprs[ident], depth + 1)) + ")"
            raise KeyError(ident)

        py = re.sub(r"\b(0x[0-9a-fA-F]+|\d+)[uUlL]+\b", r"\1", expr)
        py = re.sub(r"\b0([0-7]+)\b", r"0o\1", py)  # C octal literals
        py = re.sub(r"\b[A-Za-z_][A-Za-z0-9_]*\b", repl, py)
        if not re.fullmatch(r"[0-9xoa-fA-F()|&<>+\-~ ]*", py):
            raise ValueError(f"unexpected constant expression {expr!r}")
        v = eval(py, {"__builtins__": {}}, {})  # only digits and operators reach here
        self.cache[expr] = v
        return v

    def get(self, name):
        return self.value(self.exprs[name])


def parse_header(text):
    consts = Consts()
    body = strip_comments(text).replace("\\\n", " ")
    for m in re.finditer(r"^\s*#define\s+([A-Za-z_][A-Za-z0-9_]*)[ \t]+([^\n]+)$", body, re.M):
        name, expr = m.group(1), m.group(2).strip()
        if "(" in name:
            continue
        consts.add(name, expr)
    for m in re.finditer(r"\benum\b[^{;]*\{(.*?)\}", body, re.S):
        for item in m.group(1).split(","):
            item = item.strip()
            mm = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)", item, re.S)
            if mm:
                consts.add(mm.group(1), mm.group(2))
    # PPM_SC_FIELDS: PPM_SC_X(NAME, value)
    sc = []
    for m in re.finditer(r"PPM_SC_X\(\s*([A-Z0-9_]+)\s*,\s*(\d+)\s*\)", body):
        sc.append((m.group(1), int(m.group(2))))
    # event codes, in enum order
    ev_enum = re.search(r"typedef enum \{(.*?)\}\s*ppm_event_code;", body, re.S).group(1)
    events = {}
    for m in re.finditer(r"(PPME_[A-Z0-9_]+)\s*=\s*(\d+)", ev_enum):
        events[m.group(1)] = int(m.group(2))
    event_max = int(re.search(r"PPM_EVENT_MAX\s*=\s*(\d+)", ev_enum).group(1))
    return consts, sc, events, event_max


# ---------------------------------------------------------------- C initializers

TOKEN = re.compile(r'\s*(?:("(?:[^"\\]|\\.)*")|([A-Za-z_][A-Za-z0-9_]*)|(0x[0-9a-fA-F]+|\d+)|(.))', re.S)


def tokenize(text):
    toks = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        m = TOKEN.match(text, pos)
        if not m:
            break
        pos = m.end()
        if m.group(1) is not None:
            toks.append(("str", m.group(1)[1:-1]))
        elif m.group(2) is not None:
            toks.append(("id", m.group(2)))
        elif m.group(3) is not None:
            toks.append(("num", m.group(3)))
        elif m.group(4) is not None and not m.group(4).isspace():
            toks.append(("p", m.group(4)))
    return toks


class Parser:
    """Parses C designated initializer lists into nested Python lists.

    A brace list becomes a list; `[X] = value` becomes ("designated", X, value); other
    scalars become the joined token text (e.g. "EC_FILE | EC_SYSCALL").
    """

    def __init__(self, toks):
        self.toks = toks
        self.i = 0

    def peek(self):
        return self.toks[self.i] if self.i < len(self.toks) else ("eof", "")

    def take(self, want=None):
        t = self.peek()
        if want is not None and t[1] != want:
            raise ValueError(f"expected {want!r}, got {t!r} at token {self.i}")
        self.i += 1
        return t

    def value(self):
        t = self.peek()
        if t == ("p", "{"):
            self.take("{")
            items = []
            while self.peek() != ("p", "}"):
                items.append(self.item())
                if self.peek() == ("p", ","):
                    self.take(",")
            self.take("}")
            return items
        if t[0] == "str":
            self.take()
            return ("string", t[1])
        parts = []
        depth = 0
        while True:
            t = self.peek()
            if t[0] == "eof":
                break
            if depth == 0 and t[1] in (",", "}"):
                break
            if t[1] == "(":
                depth += 1
            if t[1] == ")":
                depth -= 1
            parts.append(t[1])
            self.take()
        return " ".join(parts)

    def item(self):
        if self.peek() == ("p", "["):
            self.take("[")
            key = self.take()[1]
            self.take("]")
            self.take("=")
            return ("designated", key, self.value())
        return self.value()


def array_body(text, decl_regex):
    """The token list of the initializer of the array whose declaration matches decl_regex."""
    m = re.search(decl_regex + r"[^=]*=\s*\{", text)
    if not m:
        raise ValueError(f"array {decl_regex} not found")
    start = m.end() - 1
    depth = 0
    for j in range(start, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return Parser(tokenize(text[start : j + 1])).value()
    raise ValueError("unbalanced braces")


def drop_preprocessor(text):
    # userspace builds: CONFIG_64BIT and __KERNEL__ are undefined, so `#ifndef` blocks are kept
    return "\n".join(line for line in text.split("\n") if not line.lstrip().startswith("#"))


# ---------------------------------------------------------------- Rust output

PT = {
    "PT_NONE": "None",
    "PT_INT8": "Int8",
    "PT_INT16": "Int16",
    "PT_INT32": "Int32",
    "PT_INT64": "Int64",
    "PT_UINT8": "Uint8",
    "PT_UINT16": "Uint16",
    "PT_UINT32": "Uint32",
    "PT_UINT64": "Uint64",
    "PT_CHARBUF": "Charbuf",
    "PT_BYTEBUF": "Bytebuf",
    "PT_ERRNO": "Errno",
    "PT_SOCKADDR": "Sockaddr",
    "PT_SOCKTUPLE": "Socktuple",
    "PT_FD": "Fd",
    "PT_PID": "Pid",
    "PT_FDLIST": "Fdlist",
    "PT_FSPATH": "Fspath",
    "PT_SYSCALLID": "SyscallId",
    "PT_SIGTYPE": "Sigtype",
    "PT_RELTIME": "Reltime",
    "PT_ABSTIME": "Abstime",
    "PT_PORT": "Port",
    "PT_L4PROTO": "L4proto",
    "PT_SOCKFAMILY": "Sockfamily",
    "PT_BOOL": "Bool",
    "PT_IPV4ADDR": "Ipv4addr",
    "PT_DYN": "Dyn",
    "PT_FLAGS8": "Flags8",
    "PT_FLAGS16": "Flags16",
    "PT_FLAGS32": "Flags32",
    "PT_UID": "Uid",
    "PT_GID": "Gid",
    "PT_DOUBLE": "Double",
    "PT_SIGSET": "Sigset",
    "PT_CHARBUFARRAY": "CharbufArray",
    "PT_CHARBUF_PAIR_ARRAY": "CharbufPairArray",
    "PT_IPV4NET": "Ipv4net",
    "PT_IPV6ADDR": "Ipv6addr",
    "PT_IPV6NET": "Ipv6net",
    "PT_IPADDR": "Ipaddr",
    "PT_IPNET": "Ipnet",
    "PT_MODE": "Mode",
    "PT_FSRELPATH": "Fsrelpath",
    "PT_ENUMFLAGS8": "Enumflags8",
    "PT_ENUMFLAGS16": "Enumflags16",
    "PT_ENUMFLAGS32": "Enumflags32",
    "PT_FD32": "Fd32",
    "PT_PID32": "Pid32",
}

PF = {
    "PF_NA": "Na",
    "PF_DEC": "Dec",
    "PF_HEX": "Hex",
    "PF_10_PADDED_DEC": "PaddedDec",
    "PF_ID": "Id",
    "PF_DIR": "Dir",
    "PF_OCT": "Oct",
}


def rust_str(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def const_name(c_name):
    return c_name.upper()


def bits_expr(expr, prefix, rust_type):
    names = [p.strip() for p in expr.split("|")]
    out = []
    for n in names:
        if not n.startswith(prefix):
            raise ValueError(f"unexpected {prefix} term {n!r}")
        out.append(f"{rust_type}::{n[len(prefix):]}")
    return " | ".join(out)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    gitdir = sys.argv[1]
    rev = sys.argv[2] if len(sys.argv) > 2 else "HEAD"
    commit = subprocess.run(
        ["git", "-C", gitdir, "rev-parse", rev], check=True, capture_output=True, text=True
    ).stdout.strip()

    header = git_show(gitdir, rev, "driver/ppm_events_public.h")
    consts, sc, event_codes, event_max = parse_header(header)
    table_c = drop_preprocessor(strip_comments(git_show(gitdir, rev, "driver/event_table.c")))
    flags_c = drop_preprocessor(strip_comments(git_show(gitdir, rev, "driver/flags_table.c")))
    dyn_c = drop_preprocessor(strip_comments(git_show(gitdir, rev, "driver/dynamic_params_table.c")))

    sc_value = {n: v for n, v in sc}

    # event -> ppm_sc map
    ppm_sc_c = strip_comments(git_show(gitdir, rev, "userspace/libscap/linux/scap_ppm_sc.c"))
    body = ppm_sc_c[ppm_sc_c.index("g_events_to_sc_map[] = {") :]
    body = body[: body.index("};")]
    event_sc = {}
    for m in re.finditer(r"\[(PPME_\w+)\]\s*=\s*(NULL|\(ppm_sc_code\s*\[\]\)\s*\{([^}]*)\})", body):
        codes = []
        if m.group(3) is not None:
            for item in m.group(3).split(","):
                item = item.strip()
                if item.startswith("PPM_SC_"):
                    codes.append(sc_value[item[len("PPM_SC_"):]])
                elif item not in ("-1", ""):
                    raise ValueError(f"unexpected item {item!r} in g_events_to_sc_map")
        event_sc[event_codes[m.group(1)]] = codes

    # x86_64 syscall table
    nr_text = git_show(gitdir, rev, "driver/syscall_compat_x86_64.h")
    nr = {m.group(1): int(m.group(2)) for m in re.finditer(r"#define __NR_(\w+) (\d+)", nr_text)}
    syscalls = []
    st = strip_comments(git_show(gitdir, rev, "driver/syscall_table.c"))
    for m in re.finditer(r"\[__NR_(\w+) - SYSCALL_TABLE_ID0\]\s*=\s*\{([^}]*)\}", st):
        name, fields = m.group(1), m.group(2)
        if name not in nr:
            continue  # not an x86_64 syscall (the entry sits in an #ifdef)
        if ".ppm_sc" in fields:
            sc_name = fields.split("=")[1].strip()
            flags, enter, exit_ = 0, event_codes["PPME_GENERIC_E"], event_codes["PPME_GENERIC_X"]
        else:
            parts = [x.strip() for x in fields.split(",")]
            flags = consts.value(parts[0])
            enter, exit_ = event_codes[parts[1]], event_codes[parts[2]]
            sc_name = parts[3]
        syscalls.append((nr[name], sc_value[sc_name[len("PPM_SC_"):]], enter, exit_, flags))
    syscalls.sort()

    # flag tables
    flag_tables = {}
    for m in re.finditer(r"const struct ppm_name_value (\w+)\[\]", flags_c):
        name = m.group(1)
        entries = []
        for e in array_body(flags_c, r"const struct ppm_name_value " + name + r"\[\]"):
            if isinstance(e, list) and len(e) == 2 and isinstance(e[0], tuple):
                entries.append((e[0][1], consts.value(e[1])))
        flag_tables[name] = entries

    # dynamic parameter tables
    dyn_tables = {}
    for m in re.finditer(r"const struct ppm_param_info (\w+)\[(\w+)\]", dyn_c):
        name, size = m.group(1), consts.get(m.group(2))
        slots = [None] * size
        for e in array_body(dyn_c, r"const struct ppm_param_info " + name + r"\["):
            _, key, val = e
            slots[consts.get(key)] = (PT[val[1]], PF[val[2]])
        if any(s is None for s in slots):
            raise ValueError(f"gap in dynamic table {name}")
        dyn_tables[name] = slots

    # event table
    by_code = {}
    for e in array_body(table_c, r"const struct ppm_event_info g_event_info\[\]"):
        _, key, val = e
        code = event_codes[key]
        name = val[0][1]
        category = val[1]
        flags = val[2]
        nparams = int(val[3])
        params = []
        for p in val[4] if len(val) > 4 else []:
            pname = p[0][1]
            ptype = PT[p[1]]
            pfmt = PF[p[2]]
            aux = "ParamAux::None"
            if len(p) > 3:
                info = p[3]
                dm = re.fullmatch(r"DIRFD_PARAM \( (\d+) \)", info)
                if dm:
                    aux = f"ParamAux::DirFd({dm.group(1)})"
                elif info in flag_tables:
                    aux = f"ParamAux::Flags(&flags::{const_name(info)})"
                elif info in dyn_tables:
                    aux = f"ParamAux::Dyn(&flags::{const_name(info)})"
                else:
                    raise ValueError(f"unknown param info {info!r} in {key}")
            params.append((pname, ptype, pfmt, aux))
        if nparams != len(params):
            raise ValueError(f"{key}: nparams {nparams} but {len(params)} params")
        by_code[code] = (key, name, category, flags, params)
    if sorted(by_code) != list(range(event_max)):
        raise ValueError("event table does not cover 0..PPM_EVENT_MAX")

    sc_max = max(v for _, v in sc) + 1
    sc_names = [""] * sc_max
    for n, v in sc:
        sc_names[v] = n.lower()

    out = []
    w = out.append
    w("// @generated by lang/tools/gen_events.py from falcosecurity/libs")
    w(f"// commit {commit} (driver/ppm_events_public.h, event_table.c,")
    w("// flags_table.c, dynamic_params_table.c). Do not edit by hand: rerun the generator.")
    w("")
    w("//! The event schema as data; see the parent module for the layout and its invariants.")
    w("")
    w("use super::{")
    w("    Category, DynTable, EventFlags, EventInfo, FlagTable, ParamAux, ParamInfo, ParamType,")
    w("    PrintFormat,")
    w("};")
    w("")
    w(f"/// `PPM_EVENT_MAX` of the libs revision this table was generated from.")
    w(f"pub const EVENT_COUNT: usize = {event_max};")
    w("")
    w(f"/// `PPM_SC_MAX`: the number of syscall codes (`PPM_SC_*`), gaps included.")
    w(f"pub const SC_COUNT: usize = {sc_max};")
    w("")
    w(f"/// The libs commit the tables were transcribed from.")
    w(f'pub const LIBS_COMMIT: &str = "{commit}";')
    w("")
    w("const fn p(name: &'static str, ty: ParamType, fmt: PrintFormat) -> ParamInfo {")
    w("    ParamInfo { name, ty, fmt, aux: ParamAux::None }")
    w("}")
    w("")
    w("const fn px(name: &'static str, ty: ParamType, fmt: PrintFormat, aux: ParamAux) -> ParamInfo {")
    w("    ParamInfo { name, ty, fmt, aux }")
    w("}")
    w("")
    w("/// The flag value tables (`ppm_name_value[]`) and `PT_DYN` selector tables, by upstream name.")
    w("pub mod flags {")
    w("    use super::{DynTable, FlagTable, ParamType, PrintFormat};")
    w("")
    for name, entries in flag_tables.items():
        w(f"    /// `{name}`: value names for rendering flag parameters.")
        w(f"    pub static {const_name(name)}: FlagTable = FlagTable {{")
        w(f"        name: {rust_str(name)},")
        w("        values: &[")
        for n, v in entries:
            w(f"            ({rust_str(n)}, {v:#x}),")
        w("        ],")
        w("    };")
        w("")
    for name, slots in dyn_tables.items():
        w(f"    /// `{name}`: the type of a `PT_DYN` value, indexed by its selector byte.")
        w(f"    pub static {const_name(name)}: DynTable = DynTable {{")
        w(f"        name: {rust_str(name)},")
        w("        types: &[")
        for ty, fmt in slots:
            w(f"            (ParamType::{ty}, PrintFormat::{fmt}),")
        w("        ],")
        w("    };")
        w("")
    w("}")
    w("")
    w("/// Event codes by their upstream `PPME_*` enum name (prefix dropped), for code that handles")
    w("/// particular events (state updates, the savefile converter, tests).")
    w("pub mod ppme {")
    for code in range(event_max):
        key = by_code[code][0]
        w(f"    /// `{key}`")
        w(f"    pub const {key[len('PPME_'):]}: u16 = {code};")
    w("}")
    w("")
    w("/// Every event code `0..EVENT_COUNT`, indexed by code.")
    w("pub static EVENTS: [EventInfo; EVENT_COUNT] = [")
    for code in range(event_max):
        key, name, category, flags, params = by_code[code]
        cat = bits_expr(category, "EC_", "Category")
        fl = "EventFlags::NONE" if flags.strip() == "EF_NONE" else bits_expr(flags, "EF_", "EventFlags")
        w(f"    // {code}: {key}")
        w("    EventInfo {")
        w(f"        code: {code},")
        w(f"        name: {rust_str(name)},")
        w(f"        category: Category({cat}),")
        w(f"        flags: EventFlags({fl}),")
        if not params:
            w("        params: &[],")
        else:
            w("        params: &[")
            for pname, ptype, pfmt, aux in params:
                if aux == "ParamAux::None":
                    w(f"            p({rust_str(pname)}, ParamType::{ptype}, PrintFormat::{pfmt}),")
                else:
                    w(f"            px({rust_str(pname)}, ParamType::{ptype}, PrintFormat::{pfmt}, {aux}),")
            w("        ],")
        w("    },")
    w("];")
    w("")
    # name index: event names of codes >= 2 (libsinsp's names_to_event_set skips the generic pair)
    names = {}
    for code in range(2, event_max):
        names.setdefault(by_code[code][1], []).append(code)
    w("/// Event names of codes 2.. (the generic pair excluded, as libsinsp's name lookup does),")
    w("/// sorted by name, each with all its codes in ascending order.")
    w("pub static EVENT_NAME_CODES: &[(&str, &[u16])] = &[")
    for n in sorted(names):
        codes = ", ".join(str(c) for c in names[n])
        w(f"    ({rust_str(n)}, &[{codes}]),")
    w("];")
    w("")
    w("/// Lower-case `PPM_SC_*` names indexed by syscall code; gaps in the numbering are empty.")
    w("pub static SC_NAMES: [&str; SC_COUNT] = [")
    for n in sc_names:
        w(f"    {rust_str(n)},")
    w("];")
    w("")
    w("/// The syscall codes each event can come from (`g_events_to_sc_map`), indexed by event code;")
    w("/// empty for events no syscall produces (metaevents, placeholders, plugin events).")
    w("pub static EVENT_SC: [&[u16]; EVENT_COUNT] = [")
    for code in range(event_max):
        codes = ", ".join(str(c) for c in event_sc.get(code, []))
        w(f"    &[{codes}],")
    w("];")
    w("")
    w("/// The x86_64 syscall table (`syscall_table.c` with `syscall_compat_x86_64.h`), sorted by")
    w("/// native number: `(number, PPM_SC code, enter event, exit event, UF_* flags)`. Syscalls")
    w("/// without their own events use the generic pair.")
    w("pub static X86_64_SYSCALLS: &[(u16, u16, u16, u16, u32)] = &[")
    for entry in syscalls:
        w("    ({}, {}, {}, {}, {}),".format(*entry))
    w("];")
    w("")
    w("/// `(name, code)` for every named syscall code, sorted by name.")
    w("pub static SC_BY_NAME: &[(&str, u16)] = &[")
    for n, v in sorted((n.lower(), v) for n, v in sc):
        w(f"    ({rust_str(n)}, {v}),")
    w("];")
    print("\n".join(out))


if __name__ == "__main__":
    main()
