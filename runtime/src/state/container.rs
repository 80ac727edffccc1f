//! Container ids of threads, from their cgroups.
//!
//! A thread's cgroups (`subsys=path` strings from clone/execve events and the process list) name the
//! container it runs in; [`crate::container::cgroup`] knows the layouts (docker, containerd/CRI, cri-o,
//! podman; cgroup v1 and v2). The state keeps only the short id that `container.id` shows.

/// The container id of a thread from its cgroups (`subsys=path` entries): the 12-digit short id,
/// or `host` when no cgroup names a container. `None` when there are no cgroups at all.
pub fn container_id<'a>(cgroups: impl IntoIterator<Item = &'a [u8]>) -> Option<String> {
    let mut entries = cgroups.into_iter().peekable();
    entries.peek()?;
    Some(
        crate::container::cgroup::container_id_of_entries(entries)
            .short()
            .to_string(),
    )
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
