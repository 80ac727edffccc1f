//! Provides the compiled eBPF object to the crate as `$OUT_DIR/frule.bpf.o`.
//!
//! The object is committed (`bpf/frule.bpf.o`) so that a plain `cargo build` needs no C
//! toolchain. `bpf/frule.bpf.o.inputs` records the SHA-256 of every input the object was
//! built from (`sha256sum` format). When the inputs no longer match that record (the C
//! source changed) and clang is on the PATH, the object is rebuilt with `bpf/build.sh`
//! into OUT_DIR; `FRULE_BPF_REBUILD=1` forces a rebuild. Without clang the committed
//! object is used, with a warning when it is stale; a missing clang never fails the build.

use std::env;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};

const INPUTS: &[&str] = &[
    "frule.bpf.c",
    "ppm_sc_table.h",
    "ia32_table.h",
    "vmlinux.h",
    "build.sh",
];

fn main() {
    let crate_dir =
        PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let bpf_dir = crate_dir.join("bpf");
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let out = out_dir.join("frule.bpf.o");
    for f in INPUTS.iter().chain(&["frule.bpf.o", "frule.bpf.o.inputs"]) {
        println!("cargo:rerun-if-changed=bpf/{f}");
    }
    println!("cargo:rerun-if-env-changed=FRULE_BPF_REBUILD");
    println!("cargo:rerun-if-env-changed=CLANG");

    let fresh = inputs_match(&bpf_dir);
    let forced = env::var("FRULE_BPF_REBUILD").is_ok_and(|v| v == "1");
    if (!fresh || forced) && clang_available() {
        let status = Command::new("sh")
            .arg(bpf_dir.join("build.sh"))
            .arg(&out)
            .status()
            .expect("failed to run sh bpf/build.sh");
        assert!(
            status.success(),
            "bpf/build.sh failed: the eBPF program does not compile"
        );
        if !fresh {
            println!(
                "cargo:warning=bpf/frule.bpf.o is stale: rebuilt it from source; run capture-bpf/bpf/build.sh and commit the object"
            );
        }
        return;
    }
    if !fresh {
        println!(
            "cargo:warning=bpf/frule.bpf.o is stale (its inputs changed) and clang is absent: using the committed object"
        );
    }
    fs::copy(bpf_dir.join("frule.bpf.o"), &out).expect("copy the committed bpf/frule.bpf.o");
}

/// Whether every input's SHA-256 equals the one recorded next to the committed object.
fn inputs_match(bpf_dir: &Path) -> bool {
    let Ok(record) = fs::read_to_string(bpf_dir.join("frule.bpf.o.inputs")) else {
        return false;
    };
    INPUTS.iter().all(|name| {
        let Ok(bytes) = fs::read(bpf_dir.join(name)) else {
            return false;
        };
        let digest = Sha256::digest(&bytes);
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        record.lines().any(|line| line == format!("{hex}  {name}"))
    })
}

fn clang_available() -> bool {
    let clang = env::var("CLANG").unwrap_or_else(|_| "clang".to_owned());
    Command::new(clang)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
}
