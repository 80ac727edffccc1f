//! Users and groups: where `user.name`, `user.homedir`, `group.name` come from.
//!
//! Replay uses only what the capture recorded (its user and group lists and `user_added` /
//! `group_added` metaevents) so that results never depend on the machine replaying the file. Live
//! runs read `/etc/passwd` and `/etc/group` once through [`HostUserDb`].

use crate::event::Event;
use crate::scap::CaptureState;

/// One user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserEntry {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Login name.
    pub name: String,
    /// Home directory.
    pub homedir: String,
    /// Login shell.
    pub shell: String,
}

/// One group.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupEntry {
    /// Group id.
    pub gid: u32,
    /// Group name.
    pub name: String,
}

/// A source of users and groups.
pub trait UserDb: Send {
    /// The user with this uid.
    fn user(&self, uid: u32) -> Option<&UserEntry>;
    /// The group with this gid.
    fn group(&self, gid: u32) -> Option<&GroupEntry>;
    /// Applies a `user_added`/`group_added` metaevent.
    fn update(&mut self, evt: &Event<'_>);
}

/// Users and groups recorded in a capture.
#[derive(Clone, Debug, Default)]
pub struct CaptureUserDb {
    users: super::IntMap<u32, UserEntry>,
    groups: super::IntMap<u32, GroupEntry>,
}

impl CaptureUserDb {
    /// The capture's user and group lists.
    pub fn from_capture(cap: &CaptureState) -> CaptureUserDb {
        let mut db = CaptureUserDb::default();
        for u in &cap.users {
            db.users.entry(u.uid).or_insert(UserEntry {
                uid: u.uid,
                gid: u.gid,
                name: u.name.clone(),
                homedir: u.homedir.clone(),
                shell: u.shell.clone(),
            });
        }
        for g in &cap.groups {
            db.groups.entry(g.gid).or_insert(GroupEntry {
                gid: g.gid,
                name: g.name.clone(),
            });
        }
        db
    }

    /// Adds a user.
    pub fn add_user(&mut self, u: UserEntry) {
        self.users.insert(u.uid, u);
    }

    /// Adds a group.
    pub fn add_group(&mut self, g: GroupEntry) {
        self.groups.insert(g.gid, g);
    }
}

fn text(evt: &Event<'_>, name: &str) -> String {
    evt.param_by_name(name)
        .map(|p| String::from_utf8_lossy(p.as_str_bytes()).into_owned())
        .unwrap_or_default()
}

impl UserDb for CaptureUserDb {
    fn user(&self, uid: u32) -> Option<&UserEntry> {
        self.users.get(&uid)
    }

    fn group(&self, gid: u32) -> Option<&GroupEntry> {
        self.groups.get(&gid)
    }

    fn update(&mut self, evt: &Event<'_>) {
        let num = |n: &str| {
            evt.param_by_name(n)
                .and_then(|p| p.as_u64())
                .map(|v| v as u32)
        };
        // only host users: container users live in the container's own namespace
        if !text(evt, "container_id").is_empty() {
            return;
        }
        match evt.name() {
            "useradded" => {
                if let (Some(uid), Some(gid)) = (num("uid"), num("gid")) {
                    self.add_user(UserEntry {
                        uid,
                        gid,
                        name: text(evt, "name"),
                        homedir: text(evt, "home"),
                        shell: text(evt, "shell"),
                    });
                }
            }
            "groupadded" => {
                if let Some(gid) = num("gid") {
                    self.add_group(GroupEntry {
                        gid,
                        name: text(evt, "name"),
                    });
                }
            }
            _ => {}
        }
    }
}

/// The host's users and groups, read once from `/etc/passwd` and `/etc/group` (live runs only).
#[derive(Clone, Debug, Default)]
pub struct HostUserDb {
    inner: CaptureUserDb,
}

impl HostUserDb {
    /// Reads the host's files; missing or unreadable files give an empty database.
    pub fn load() -> HostUserDb {
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        let group = std::fs::read_to_string("/etc/group").unwrap_or_default();
        HostUserDb::parse(&passwd, &group)
    }

    /// Parses the text of `/etc/passwd` and `/etc/group`.
    pub fn parse(passwd: &str, group: &str) -> HostUserDb {
        let mut inner = CaptureUserDb::default();
        for line in passwd.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let [name, _, uid, gid, _, home, shell, ..] = f.as_slice()
                && let (Ok(uid), Ok(gid)) = (uid.parse(), gid.parse())
            {
                inner.users.entry(uid).or_insert(UserEntry {
                    uid,
                    gid,
                    name: (*name).to_string(),
                    homedir: (*home).to_string(),
                    shell: (*shell).to_string(),
                });
            }
        }
        for line in group.lines() {
            let f: Vec<&str> = line.split(':').collect();
            if let [name, _, gid, ..] = f.as_slice()
                && let Ok(gid) = gid.parse()
            {
                inner.groups.entry(gid).or_insert(GroupEntry {
                    gid,
                    name: (*name).to_string(),
                });
            }
        }
        HostUserDb { inner }
    }
}

impl UserDb for HostUserDb {
    fn user(&self, uid: u32) -> Option<&UserEntry> {
        self.inner.user(uid)
    }

    fn group(&self, gid: u32) -> Option<&GroupEntry> {
        self.inner.group(gid)
    }

    fn update(&mut self, evt: &Event<'_>) {
        self.inner.update(evt);
    }
}
