//! Container ids from cgroup paths, as libsinsp's container engines recognise them.
//!
//! A thread's cgroups (`subsys=path` strings from clone/execve events and the process list) name the
//! container it runs in. The recognised layouts are those of docker (`/docker/<id>`,
//! `docker-<id>.scope`), containerd/CRI (`cri-containerd-<id>.scope`, `/kubepods/.../<id>`), cri-o
//! (`crio-<id>.scope`, `/crio-<id>`), and podman (`libpod-<id>.scope`, `/libpod-<id>`), in cgroup v1
//! and v2 form. The id is 64 hex digits; `container.id` shows its first 12. A thread with cgroups
//! that match none of them runs on the host (`host`).

/// Length of the short container id libsinsp shows in `container.id`.
pub const SHORT_ID_LEN: usize = 12;

fn is_hex_id(s: &[u8]) -> bool {
    s.len() == 64 && s.iter().all(u8::is_ascii_hexdigit)
}

/// The full 64-digit container id in one cgroup path, if it names a container.
fn id_in_path(path: &[u8]) -> Option<&[u8]> {
    // Walk the path components from the last one: the container's own cgroup is the deepest.
    for comp in path.rsplit(|&b| b == b'/') {
        let mut c = comp;
        if let Some(rest) = c.strip_suffix(b".scope") {
            c = rest;
        }
        for prefix in [
            &b"docker-"[..],
            b"cri-containerd-",
            b"crio-",
            b"libpod-",
            b"crio-conmon-",
        ] {
            if let Some(rest) = c.strip_prefix(prefix)
                && is_hex_id(rest)
            {
                return Some(rest);
            }
        }
        if is_hex_id(c) {
            return Some(c);
        }
    }
    None
}

/// The container id of a thread from its cgroups (`subsys=path` entries): the 12-digit short id,
/// or `host` when no cgroup names a container. `None` when there are no cgroups at all.
pub fn container_id<'a>(cgroups: impl IntoIterator<Item = &'a [u8]>) -> Option<String> {
    let mut any = false;
    for entry in cgroups {
        any = true;
        let path = match entry.iter().position(|&b| b == b'=') {
            Some(i) => &entry[i + 1..],
            None => entry,
        };
        if let Some(id) = id_in_path(path) {
            let short = &id[..SHORT_ID_LEN];
            return Some(String::from_utf8_lossy(short).into_owned());
        }
    }
    any.then(|| "host".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    const ID: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

    fn cid(cg: &str) -> Option<String> {
        container_id([cg.as_bytes()])
    }

    #[test]
    fn runtimes() {
        let short = Some("0123456789ab".to_string());
        assert_eq!(cid(&format!("cpuset=/docker/{ID}")), short);
        assert_eq!(
            cid(&format!("0::/system.slice/docker-{ID}.scope")),
            short,
            "cgroup v2 docker"
        );
        assert_eq!(
            cid(&format!(
                "cpu=/kubepods/besteffort/pod1234/cri-containerd-{ID}.scope"
            )),
            short
        );
        assert_eq!(cid(&format!("cpu=/kubepods/burstable/podx/{ID}")), short);
        assert_eq!(cid(&format!("cpu=/machine.slice/libpod-{ID}.scope")), short);
        assert_eq!(cid(&format!("cpu=/crio-{ID}.scope")), short);
        assert_eq!(
            cid("cpuset=/user.slice/user-1000.slice/session-1.scope"),
            Some("host".into())
        );
        assert_eq!(container_id(std::iter::empty()), None);
        assert_eq!(cid("cpu=/docker/notanid"), Some("host".into()));
    }
}
