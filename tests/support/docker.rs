//! The real Docker daemon in the end-to-end tests: the helpers of `runtime/tests/real_docker` (start dockerd,
//! import busybox with the applets a test needs from a local tarball, run shell commands) plus a
//! `--privileged` run that works in a narrowed sandbox.
//! Nothing is ever pulled from a registry.

#[path = "../../runtime/tests/real_docker/mod.rs"]
mod real_docker;

#[allow(unused_imports, reason = "each including test uses a different subset")]
pub use real_docker::{
    BOUNDED_CAPS_RUNTIME, docker_unavailable, ensure_dockerd, import_busybox_image,
    import_busybox_image_with, sh, write_busybox_image_archive,
};

/// `docker run -d --privileged ARGS`: the container's id, and a note when it needed the
/// [`BOUNDED_CAPS_RUNTIME`] runtime. `Err` says precisely why no privileged container can start here.
///
/// Docker 20.10 gives a privileged container every capability the kernel knows; in a sandbox whose
/// capability bounding set lacks one (`CAP_SYS_RESOURCE` here) runc fails with "unable to apply caps:
/// operation not permitted". The runtime `ensure_dockerd` registers leaves out only those capabilities, and
/// docker still treats the container as privileged (`HostConfig.Privileged`, all devices, no seccomp).
pub fn run_privileged(args: &str) -> Result<(String, Option<String>), String> {
    let plain = match sh(&format!("docker run -d --privileged {args}")) {
        Ok(id) => return Ok((id, None)),
        Err(e) => e,
    };
    if !plain.contains("unable to apply caps") {
        return Err(plain);
    }
    // the daemon's message, without the command line and the CLI's usage hint
    let plain = plain
        .lines()
        .find_map(|l| l.split_once("Error response from daemon: ").map(|(_, m)| m))
        .unwrap_or(&plain)
        .to_string();
    // the failed container was created: `args` names it, so remove it before the second attempt
    if let Some(name) = args
        .split_whitespace()
        .skip_while(|a| *a != "--name")
        .nth(1)
    {
        let _ = sh(&format!("docker rm -f {name} >/dev/null 2>&1"));
    }
    let runtimes = sh("docker info --format '{{json .Runtimes}}'").unwrap_or_default();
    if !runtimes.contains(&format!("\"{BOUNDED_CAPS_RUNTIME}\"")) {
        let bnd = std::fs::read_to_string("/proc/self/status")
            .unwrap_or_default()
            .lines()
            .find_map(|l| l.strip_prefix("CapBnd:").map(|v| v.trim().to_string()))
            .unwrap_or_default();
        return Err(format!(
            "runc cannot give a --privileged container every capability (this sandbox's bounding set is \
             {bnd}: {plain}), and the running dockerd has no `{BOUNDED_CAPS_RUNTIME}` runtime to leave the \
             missing ones out (it was not started by the tests; restart it with `dockerd --add-runtime \
             {BOUNDED_CAPS_RUNTIME}=runtime/tests/real_docker/runc-bounded-caps.sh`)"
        ));
    }
    let id = sh(&format!(
        "docker run -d --privileged --runtime {BOUNDED_CAPS_RUNTIME} {args}"
    ))?;
    Ok((
        id,
        Some(format!(
            "plain runc failed ({plain}); started with the `{BOUNDED_CAPS_RUNTIME}` runtime, which leaves \
             out the capabilities missing from this sandbox's bounding set"
        )),
    ))
}

/// Containers (and a scratch directory) a test made, removed on drop — also when an assertion fails.
#[derive(Default)]
pub struct Cleanup {
    /// Names or ids of the containers to remove.
    pub containers: Vec<String>,
    /// A directory to remove.
    pub dir: Option<std::path::PathBuf>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for c in &self.containers {
            let _ = sh(&format!("docker rm -f {c} >/dev/null 2>&1"));
        }
        if let Some(d) = &self.dir {
            let _ = std::fs::remove_dir_all(d);
        }
    }
}
