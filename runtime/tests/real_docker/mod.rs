//! Helpers for tests against a real Docker daemon, shared by `runtime/tests/container.rs` and the root
//! package's `tests/containers.rs` (which includes this file with `#[path]`). Nothing is ever pulled from a
//! registry: the image is imported from a local rootfs tarball holding the static busybox.

#![allow(dead_code, reason = "each including test uses a different subset")]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use frule_runtime::container::DockerClient;

/// Why the real-docker test cannot run here, if it cannot.
pub fn docker_unavailable() -> Option<String> {
    // SAFETY-free check of root: the effective uid from /proc
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let euid = status
        .lines()
        .find(|l| l.starts_with("Uid:"))
        .and_then(|l| l.split_whitespace().nth(2));
    if euid != Some("0") {
        return Some("not running as root".into());
    }
    for tool in ["docker", "dockerd"] {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join(tool).is_file()))
            .unwrap_or(false);
        if !found {
            return Some(format!(
                "`{tool}` is not installed (apt-get install -y docker.io)"
            ));
        }
    }
    if !Path::new("/bin/busybox").is_file() {
        return Some("/bin/busybox is missing (apt-get install -y busybox-static)".into());
    }
    None
}

pub fn sh(cmd: &str) -> Result<String, String> {
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .output()
        .map_err(|e| format!("{cmd}: {e}"))?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        Err(format!(
            "{cmd}: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        ))
    }
}

/// The OCI runtime `ensure_dockerd` registers for privileged containers in a narrowed sandbox.
pub const BOUNDED_CAPS_RUNTIME: &str = "frule-bounded-caps";

/// Starts dockerd when nothing answers on the default socket; `Err` says why it could not.
pub fn ensure_dockerd() -> Result<(), String> {
    let client = DockerClient::default();
    if client.is_available() {
        return Ok(());
    }
    let log = std::env::temp_dir().join("frule-test-dockerd.log");
    // the runtime lets --privileged containers start where the sandbox's capability bounding set is
    // narrower than docker's list (see runc-bounded-caps.sh); the tests use it only when plain runc fails
    let runtime = std::env::temp_dir().join("frule-test-runc-bounded-caps");
    std::fs::write(&runtime, include_str!("runc-bounded-caps.sh"))
        .and_then(|()| {
            std::fs::set_permissions(
                &runtime,
                std::os::unix::fs::PermissionsExt::from_mode(0o755),
            )
        })
        .map_err(|e| format!("cannot write {}: {e}", runtime.display()))?;
    sh(&format!(
        "(nohup dockerd --add-runtime {BOUNDED_CAPS_RUNTIME}={} >{} 2>&1 &)",
        runtime.display(),
        log.display()
    ))?;
    for _ in 0..120 {
        if client.is_available() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let tail = std::fs::read_to_string(&log).unwrap_or_default();
    let tail: Vec<&str> = tail.lines().rev().take(5).collect();
    Err(format!("dockerd did not come up: {}", tail.join(" | ")))
}

/// Imports a busybox image from a local rootfs tarball (never from a registry), with the applets the
/// container tests use.
pub fn import_busybox_image(tag: &str) -> Result<(), String> {
    import_busybox_image_with(
        tag,
        &["sh", "ls", "cat", "echo", "sleep", "httpd", "wget", "id"],
    )
}

/// Imports an image `tag` from a local rootfs tarball holding the static busybox with `applets` linked in
/// `/bin` (never from a registry); an image already present under `tag` is kept.
pub fn import_busybox_image_with(tag: &str, applets: &[&str]) -> Result<(), String> {
    if sh(&format!("docker image inspect {tag} >/dev/null 2>&1")).is_ok() {
        return Ok(());
    }
    let root = std::env::temp_dir().join(format!(
        "frule-busybox-rootfs-{}-{}",
        std::process::id(),
        tag.replace(['/', ':'], "_")
    ));
    let r = root.display();
    let links = applets.join(" ");
    sh(&format!(
        "rm -rf {r} && mkdir -p {r}/bin {r}/tmp {r}/etc {r}/proc {r}/sys {r}/dev {r}/data {r}/www \
         && cp /bin/busybox {r}/bin/busybox \
         && for a in {links}; do ln -s busybox {r}/bin/$a; done \
         && tar -C {r} -c . | docker import -c 'CMD [\"/bin/sh\"]' - {tag}; rc=$?; rm -rf {r}; exit $rc"
    ))
    .map(|_| ())
}

/// Writes `archive`: an image tarball in `docker save`'s layout (`manifest.json`, the config, one layer)
/// named `name` (for example `frule.test/busybox:ctr`), holding the static busybox with `applets` linked in
/// `/bin`. `ctr images import` and `docker load` read it; nothing comes from a registry.
pub fn write_busybox_image_archive(
    archive: &Path,
    name: &str,
    applets: &[&str],
) -> Result<(), String> {
    // beside the archive, named after it: callers writing several archives at once do not collide
    let work = archive.with_extension("work");
    let w = work.display();
    let links = applets.join(" ");
    // the config names the layer by the sha256 of its uncompressed tar, which containerd checks on unpack
    let result = sh(&format!(
        "rm -rf {w} && mkdir -p {w}/root/bin {w}/root/tmp {w}/root/etc {w}/root/proc {w}/root/sys \
         {w}/root/dev {w}/out \
         && cp /bin/busybox {w}/root/bin/busybox \
         && for a in {links}; do ln -s busybox {w}/root/bin/$a; done \
         && tar -C {w}/root -cf {w}/out/layer.tar . \
         && d=$(sha256sum {w}/out/layer.tar | cut -d' ' -f1) \
         && printf '{{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{{\"Cmd\":[\"/bin/sh\"]}},\
\"rootfs\":{{\"type\":\"layers\",\"diff_ids\":[\"sha256:%s\"]}}}}' \"$d\" > {w}/out/config.json \
         && printf '[{{\"Config\":\"config.json\",\"RepoTags\":[\"{name}\"],\"Layers\":[\"layer.tar\"]}}]' \
            > {w}/out/manifest.json \
         && tar -C {w}/out -cf {a} manifest.json config.json layer.tar",
        a = archive.display()
    ))
    .map(|_| ());
    let _ = std::fs::remove_dir_all(&work);
    result
}
