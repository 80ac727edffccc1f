//! The committed eBPF object matches its source.
//!
//! Two checks:
//! - `bpf/frule.bpf.o.inputs` (written by `bpf/build.sh`) holds the SHA-256 of every input
//!   of the object (`frule.bpf.c`, `ppm_sc_table.h`, `vmlinux.h`, `build.sh`); they must
//!   match the files in the tree. This needs no toolchain, so it runs everywhere: a changed
//!   source with a stale object fails here.
//! - With Debian's clang 14 and llvm-strip on the PATH, the object is rebuilt from source
//!   into a temporary file and compared **byte for byte** with the committed one (the whole
//!   stripped ELF: code, maps, .BTF and .BTF.ext). The build is reproducible:
//!   `-ffile-prefix-map` removes the checkout path and `llvm-strip -g` drops the DWARF.
//!   Another clang major version emits different code, so then the test prints why it skips.

use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

fn bpf_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("bpf")
}

#[test]
fn committed_object_inputs_match_the_sources() {
    let record = std::fs::read_to_string(bpf_dir().join("frule.bpf.o.inputs"))
        .expect("bpf/frule.bpf.o.inputs is committed");
    for name in ["frule.bpf.c", "ppm_sc_table.h", "vmlinux.h", "build.sh"] {
        let bytes = std::fs::read(bpf_dir().join(name)).expect("input exists");
        let hex: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert!(
            record.lines().any(|l| l == format!("{hex}  {name}")),
            "bpf/{name} changed since bpf/frule.bpf.o was built: run capture-bpf/bpf/build.sh and commit the object"
        );
    }
}

#[test]
fn committed_object_is_reproducible_from_source() {
    let version = match Command::new("clang").arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).into_owned(),
        _ => {
            eprintln!("skipping: clang is not installed (apt-get install clang llvm libbpf-dev)");
            return;
        }
    };
    if !version.contains("clang version 14.") {
        eprintln!(
            "skipping: the committed object is built with clang 14; found {}",
            version.lines().next().unwrap_or("")
        );
        return;
    }
    if !Path::new("/usr/include/bpf/bpf_helpers.h").exists() {
        eprintln!("skipping: libbpf headers are not installed (apt-get install libbpf-dev)");
        return;
    }
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("frule.bpf.o.check");
    let status = Command::new("sh")
        .arg(bpf_dir().join("build.sh"))
        .arg(&out)
        .status()
        .expect("run bpf/build.sh");
    assert!(status.success(), "bpf/build.sh failed");
    let rebuilt = std::fs::read(&out).expect("rebuilt object");
    let committed = std::fs::read(bpf_dir().join("frule.bpf.o")).expect("committed object");
    assert!(
        rebuilt == committed,
        "bpf/frule.bpf.o differs from a rebuild of bpf/frule.bpf.c ({} vs {} bytes): run capture-bpf/bpf/build.sh and commit the object",
        rebuilt.len(),
        committed.len()
    );
}
