//! A small Docker Engine API client over the daemon's unix socket.
//!
//! It speaks just enough HTTP/1.1 for the three requests the runtime makes — inspect a container
//! (`GET /containers/<id>/json`), inspect its image (`GET /images/<id>/json`) and follow container lifecycle
//! events (`GET /events`) — with `Connection: close`, `Content-Length` or chunked bodies, and read/write
//! timeouts on every socket so a hung daemon can stall only the lookup worker, never the event loop.
//!
//! Invariants:
//! - every problem (no socket, timeout, HTTP error status, malformed HTTP, malformed JSON) is a [`DockerError`]
//!   value; nothing here panics on what the daemon sends;
//! - [`ContainerInfo`] fields are derived the way Falco's container plugin derives them: the name without
//!   its leading `/`, `container.image` = `Config.Image`, repository/tag/digest from the image's `RepoTags`
//!   and `RepoDigests`, `container.privileged` = `HostConfig.Privileged`, mounts from `Mounts`, Kubernetes
//!   namespace and pod from the `io.kubernetes.*` labels kubelet sets.

use std::collections::BTreeMap;
use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

/// Where the Docker daemon listens by default.
pub const DEFAULT_SOCKET: &str = "/var/run/docker.sock";

/// Largest response body accepted; an inspect answer is a few KiB, so anything larger is not a sane daemon.
const MAX_BODY: usize = 16 << 20;

/// Why a Docker API call failed. Each variant says whose fault it is, so logs and metrics can tell a missing
/// daemon from a container that is already gone.
#[derive(Debug)]
pub enum DockerError {
    /// The socket could not be connected (no daemon, no permission).
    Connect {
        /// The socket path.
        socket: PathBuf,
        /// The operating-system error.
        source: io::Error,
    },
    /// Reading or writing the socket failed, or timed out.
    Io(io::Error),
    /// The daemon answered 404: the container or image no longer exists (it exited and was removed).
    NotFound(String),
    /// The daemon answered with another error status.
    Status {
        /// The HTTP status code.
        code: u16,
        /// The daemon's `message`, or the body text.
        message: String,
    },
    /// The answer was not valid HTTP/1.1.
    MalformedHttp(String),
    /// The body was not the JSON the API documents.
    MalformedJson(String),
    /// Another container runtime (containerd, CRI-O, podman) failed. `kind` is the metrics label, prefixed
    /// with the runtime (`containerd_not_found`, `crio_connect`, `podman_timeout`, ...); `message` says what
    /// happened in full.
    Runtime {
        /// The metrics label.
        kind: &'static str,
        /// The whole message.
        message: String,
    },
}

impl DockerError {
    /// A short stable name of the failure kind, used as a metrics label.
    pub fn kind(&self) -> &'static str {
        match self {
            DockerError::Connect { .. } => "connect",
            DockerError::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                "timeout"
            }
            DockerError::Io(_) => "io",
            DockerError::NotFound(_) => "not_found",
            DockerError::Status { .. } => "status",
            DockerError::MalformedHttp(_) => "malformed_http",
            DockerError::MalformedJson(_) => "malformed_json",
            DockerError::Runtime { kind, .. } => kind,
        }
    }
}

impl fmt::Display for DockerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DockerError::Connect { socket, source } => {
                write!(
                    f,
                    "cannot connect to docker at {}: {source}",
                    socket.display()
                )
            }
            DockerError::Io(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                ) =>
            {
                write!(f, "docker did not answer in time: {e}")
            }
            DockerError::Io(e) => write!(f, "docker socket i/o error: {e}"),
            DockerError::NotFound(what) => write!(f, "docker has no {what}"),
            DockerError::Status { code, message } => write!(f, "docker answered {code}: {message}"),
            DockerError::MalformedHttp(m) => write!(f, "malformed http answer from docker: {m}"),
            DockerError::MalformedJson(m) => write!(f, "malformed json from docker: {m}"),
            DockerError::Runtime { message, .. } => f.write_str(message),
        }
    }
}

impl std::error::Error for DockerError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            DockerError::Connect { source, .. } => Some(source),
            DockerError::Io(e) => Some(e),
            _ => None,
        }
    }
}

impl From<io::Error> for DockerError {
    fn from(e: io::Error) -> Self {
        DockerError::Io(e)
    }
}

/// One mount of a container (`container.mount.*`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Mount {
    /// Host path (or volume path) mounted (`container.mount.source`).
    pub source: String,
    /// Path inside the container (`container.mount.dest`).
    pub dest: String,
    /// Mount mode as given at creation (`z`, `ro`, … ; often empty) (`container.mount.mode`).
    pub mode: String,
    /// Writable (`container.mount.rdwr`).
    pub rw: bool,
    /// Propagation (`rprivate`, …) (`container.mount.propagation`).
    pub propagation: String,
}

impl fmt::Display for Mount {
    /// `source:dest:mode:rdwr:propagation`, the item format of `container.mounts`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}:{}:{}:{}",
            self.source, self.dest, self.mode, self.rw, self.propagation
        )
    }
}

/// Kubernetes metadata of a container, from the labels kubelet puts on the containers it creates.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct K8sInfo {
    /// `io.kubernetes.pod.namespace` (`k8s.ns.name`).
    pub ns_name: String,
    /// `io.kubernetes.pod.name` (`k8s.pod.name`).
    pub pod_name: String,
    /// `io.kubernetes.pod.uid` (`k8s.pod.uid`), empty when absent.
    pub pod_uid: String,
    /// The pod's own labels (`k8s.pod.label[...]`): the container labels that are not kubelet's bookkeeping
    /// (`io.kubernetes.*`, `annotation.*`). Kubelet copies pod labels only onto the pod sandbox, so for
    /// application containers this is usually empty, as it is in Falco for Docker-managed pods.
    pub pod_labels: BTreeMap<String, String>,
}

/// What the runtime knows about one container: the values of the `container.*` and `k8s.*` fields.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContainerInfo {
    /// Full 64-digit id (`container.full_id`).
    pub id: String,
    /// Name without the leading `/` (`container.name`).
    pub name: String,
    /// The image as the container was created from it, `Config.Image` (`container.image`).
    pub image: String,
    /// Repository of the image (`container.image.repository`).
    pub image_repository: String,
    /// Tag of the image (`container.image.tag`).
    pub image_tag: String,
    /// Digest of the image in its repository, `sha256:…` (`container.image.digest`); empty for local images.
    pub image_digest: String,
    /// Image id without `sha256:` (`container.image.id`).
    pub image_id: String,
    /// `HostConfig.Privileged` (`container.privileged`).
    pub privileged: bool,
    /// Mounts in the daemon's order (`container.mounts`, `container.mount[N]`).
    pub mounts: Vec<Mount>,
    /// Container labels (`container.label[...]`).
    pub labels: BTreeMap<String, String>,
    /// Creation time, nanoseconds since the epoch (0 when unknown).
    pub created_ts: u64,
    /// Start time of the current run, nanoseconds since the epoch (0 when not started).
    pub start_ts: u64,
    /// Kubernetes metadata, when kubelet's labels are present.
    pub k8s: Option<K8sInfo>,
    /// The runtime that described the container (`container.type`), when a lookup or a metaevent said so;
    /// it wins over the guess from the cgroup layout.
    pub engine: Option<super::cgroup::Engine>,
}

impl ContainerInfo {
    /// The 12-digit id shown in `container.id`.
    pub fn short_id(&self) -> &str {
        self.id
            .get(..super::cgroup::SHORT_ID_LEN)
            .unwrap_or(&self.id)
    }

    /// `container.mounts`: every mount as `source:dest:mode:rdwr:propagation`, comma-separated (as Falco's
    /// container plugin joins them).
    pub fn mounts_string(&self) -> String {
        let items: Vec<String> = self.mounts.iter().map(Mount::to_string).collect();
        items.join(",")
    }

    /// The first mount whose destination matches a glob (`*`, `?`), for `container.mount.*[<path>]` lookups.
    pub fn mount_by_dest(&self, pattern: &str) -> Option<&Mount> {
        self.mounts
            .iter()
            .find(|m| glob_match(pattern.as_bytes(), m.dest.as_bytes()))
    }

    /// The first mount whose source matches a glob (`*`, `?`). `container.mount.dest[<path>]` uses this:
    /// the argument names the source and the field yields its destination, as in libsinsp.
    pub fn mount_by_source(&self, pattern: &str) -> Option<&Mount> {
        self.mounts
            .iter()
            .find(|m| glob_match(pattern.as_bytes(), m.source.as_bytes()))
    }

    /// `k8s.pod.labels`: `key:value` pairs joined by `, `, as Falco prints label maps.
    pub fn k8s_pod_labels_string(&self) -> String {
        let Some(k8s) = &self.k8s else {
            return String::new();
        };
        let items: Vec<String> = k8s
            .pod_labels
            .iter()
            .map(|(k, v)| {
                if v.is_empty() {
                    k.clone()
                } else {
                    format!("{k}:{v}")
                }
            })
            .collect();
        items.join(", ")
    }
}

/// Shell-style glob match with `*` (any run, also across `/`, like libsinsp's use of `fnmatch` without
/// `FNM_PATHNAME`) and `?`: the same matcher as Falco's rule-name wildcards.
pub use crate::engine::wildcard_match as glob_match;

/// A Docker Engine API client bound to one socket path. Each request opens its own connection (the daemon
/// serves them concurrently), so the client is cheap to clone and share between threads.
#[derive(Debug, Clone)]
pub struct DockerClient {
    socket: PathBuf,
    timeout: Duration,
}

impl Default for DockerClient {
    fn default() -> Self {
        DockerClient::new(DEFAULT_SOCKET)
    }
}

impl DockerClient {
    /// A client for the daemon at `socket`, with a 5-second timeout per read or write.
    pub fn new(socket: impl AsRef<Path>) -> Self {
        DockerClient {
            socket: socket.as_ref().to_path_buf(),
            timeout: Duration::from_secs(5),
        }
    }

    /// Changes the per-read/per-write timeout.
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The socket path.
    pub fn socket(&self) -> &Path {
        &self.socket
    }

    /// True when something listens on the socket.
    pub fn is_available(&self) -> bool {
        self.get("/_ping").is_ok()
    }

    /// Inspects a container (full or short id, or name) and its image.
    ///
    /// The image inspect is best effort, as in Falco's plugin: when it fails the repository and tag come from
    /// `Config.Image` and the digest stays empty.
    pub fn inspect(&self, id: &str) -> Result<ContainerInfo, DockerError> {
        let body = self
            .get(&format!("/containers/{}/json", percent_encode(id)))
            .map_err(|e| match e {
                DockerError::NotFound(_) => DockerError::NotFound(format!("container {id}")),
                other => other,
            })?;
        let mut info = parse_container_json(&body)?;
        let image_ref = image_ref_of(&body);
        let image_body = image_ref
            .as_deref()
            .map(|r| self.get(&format!("/images/{}/json", percent_encode(r))));
        match image_body {
            Some(Ok(img)) => apply_image_json(&mut info, &img)?,
            _ => fill_repo_tag_from_image_name(&mut info),
        }
        Ok(info)
    }

    /// Opens the container lifecycle event stream (`start`, `die`, `destroy`). Read it with
    /// [`EventStream::next_event`]; reads block up to the client's timeout, then return a timeout error that
    /// the caller may treat as "nothing happened".
    pub fn events(&self) -> Result<EventStream, DockerError> {
        let filters = r#"{"type":["container"],"event":["start","die","destroy"]}"#;
        let path = format!("/events?filters={}", percent_encode(filters));
        let mut stream = self.connect()?;
        send_get(&mut stream, &path)?;
        let mut reader = BufReader::new(stream);
        let head = read_head(&mut reader)?;
        if head.status != 200 {
            let body = read_body(&mut reader, &head)?;
            return Err(status_error(head.status, &body, "events"));
        }
        Ok(EventStream {
            reader,
            chunked: head.chunked,
            pending: Vec::new(),
        })
    }

    fn connect(&self) -> Result<UnixStream, DockerError> {
        let stream = UnixStream::connect(&self.socket).map_err(|source| DockerError::Connect {
            socket: self.socket.clone(),
            source,
        })?;
        stream.set_read_timeout(Some(self.timeout))?;
        stream.set_write_timeout(Some(self.timeout))?;
        Ok(stream)
    }

    /// `GET path`; the body of a 2xx answer, or the error the status means.
    pub fn get(&self, path: &str) -> Result<Vec<u8>, DockerError> {
        let mut stream = self.connect()?;
        send_get(&mut stream, path)?;
        let mut reader = BufReader::new(stream);
        let head = read_head(&mut reader)?;
        let body = read_body(&mut reader, &head)?;
        if (200..300).contains(&head.status) {
            Ok(body)
        } else {
            Err(status_error(head.status, &body, path))
        }
    }
}

fn status_error(code: u16, body: &[u8], what: &str) -> DockerError {
    if code == 404 {
        return DockerError::NotFound(what.to_string());
    }
    let message = serde_json::from_slice::<Value>(body)
        .ok()
        .and_then(|v| v.get("message").and_then(Value::as_str).map(str::to_string))
        .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
    DockerError::Status { code, message }
}

fn send_get(stream: &mut UnixStream, path: &str) -> Result<(), DockerError> {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: docker\r\nUser-Agent: frule\r\nConnection: close\r\n\r\n"
    );
    stream.write_all(req.as_bytes())?;
    stream.flush()?;
    Ok(())
}

/// Percent-encodes what may not appear raw in a request target.
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Head {
    status: u16,
    content_length: Option<usize>,
    chunked: bool,
}

fn read_line<R: BufRead>(r: &mut R) -> Result<String, DockerError> {
    let mut line = Vec::new();
    let n = r.take(64 * 1024).read_until(b'\n', &mut line)?;
    if n == 0 {
        return Err(DockerError::MalformedHttp(
            "connection closed before the end of the header".into(),
        ));
    }
    if line.last() != Some(&b'\n') {
        return Err(DockerError::MalformedHttp(
            "header line too long or truncated".into(),
        ));
    }
    let text = String::from_utf8(line)
        .map_err(|_| DockerError::MalformedHttp("header is not utf-8".into()))?;
    Ok(text.trim_end_matches(['\r', '\n']).to_string())
}

fn read_head<R: BufRead>(r: &mut R) -> Result<Head, DockerError> {
    let status_line = read_line(r)?;
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(DockerError::MalformedHttp(format!(
            "bad status line `{status_line}`"
        )));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .ok_or_else(|| DockerError::MalformedHttp(format!("bad status code in `{status_line}`")))?;
    let mut head = Head {
        status,
        content_length: None,
        chunked: false,
    };
    for _ in 0..256 {
        let line = read_line(r)?;
        if line.is_empty() {
            return Ok(head);
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(DockerError::MalformedHttp(format!(
                "bad header line `{line}`"
            )));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<usize>()
                .map_err(|_| DockerError::MalformedHttp(format!("bad content-length `{value}`")))?;
            head.content_length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding")
            && value.eq_ignore_ascii_case("chunked")
        {
            head.chunked = true;
        }
    }
    Err(DockerError::MalformedHttp("too many header lines".into()))
}

fn read_body<R: BufRead>(r: &mut R, head: &Head) -> Result<Vec<u8>, DockerError> {
    if head.chunked {
        let mut body = Vec::new();
        while let Some(chunk) = read_chunk(r)? {
            body.extend_from_slice(&chunk);
            if body.len() > MAX_BODY {
                return Err(DockerError::MalformedHttp("body too large".into()));
            }
        }
        return Ok(body);
    }
    match head.content_length {
        Some(n) if n > MAX_BODY => Err(DockerError::MalformedHttp("body too large".into())),
        Some(n) => {
            let mut body = vec![0; n];
            r.read_exact(&mut body).map_err(|e| match e.kind() {
                io::ErrorKind::UnexpectedEof => {
                    DockerError::MalformedHttp("body shorter than content-length".into())
                }
                _ => DockerError::Io(e),
            })?;
            Ok(body)
        }
        None => {
            let mut body = Vec::new();
            r.take(MAX_BODY as u64 + 1).read_to_end(&mut body)?;
            if body.len() > MAX_BODY {
                return Err(DockerError::MalformedHttp("body too large".into()));
            }
            Ok(body)
        }
    }
}

/// One chunk of a chunked body; `None` at the final zero-length chunk.
fn read_chunk<R: BufRead>(r: &mut R) -> Result<Option<Vec<u8>>, DockerError> {
    let size_line = read_line(r)?;
    let size_text = size_line.split(';').next().unwrap_or_default().trim();
    let size = usize::from_str_radix(size_text, 16)
        .map_err(|_| DockerError::MalformedHttp(format!("bad chunk size `{size_line}`")))?;
    if size > MAX_BODY {
        return Err(DockerError::MalformedHttp("chunk too large".into()));
    }
    if size == 0 {
        // trailers until the empty line
        while !read_line(r)?.is_empty() {}
        return Ok(None);
    }
    let mut chunk = vec![0; size];
    r.read_exact(&mut chunk).map_err(|e| match e.kind() {
        io::ErrorKind::UnexpectedEof => DockerError::MalformedHttp("truncated chunk".into()),
        _ => DockerError::Io(e),
    })?;
    if !read_line(r)?.is_empty() {
        return Err(DockerError::MalformedHttp(
            "chunk not followed by crlf".into(),
        ));
    }
    Ok(Some(chunk))
}

/// A container lifecycle event from `GET /events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleEvent {
    /// `start`, `die` or `destroy`.
    pub action: String,
    /// Full container id.
    pub id: String,
    /// Nanoseconds since the epoch.
    pub time_ns: u64,
}

/// The open `GET /events` stream: newline-separated JSON objects, usually one per chunk.
pub struct EventStream {
    reader: BufReader<UnixStream>,
    chunked: bool,
    pending: Vec<u8>,
}

impl fmt::Debug for EventStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventStream")
            .field("chunked", &self.chunked)
            .finish_non_exhaustive()
    }
}

impl EventStream {
    /// The next lifecycle event. `Ok(None)` when the daemon closed the stream; a timeout error when nothing
    /// arrived within the client's timeout (the stream stays usable only if no partial chunk was read, so
    /// callers reconnect after any error).
    pub fn next_event(&mut self) -> Result<Option<LifecycleEvent>, DockerError> {
        loop {
            if let Some(pos) = self.pending.iter().position(|&b| b == b'\n') {
                let line: Vec<u8> = self.pending.drain(..=pos).collect();
                if line.iter().all(u8::is_ascii_whitespace) {
                    continue;
                }
                return parse_lifecycle_event(&line).map(Some);
            }
            let more = if self.chunked {
                match read_chunk(&mut self.reader)? {
                    Some(c) => c,
                    None => return Ok(None),
                }
            } else {
                let mut buf = vec![0; 4096];
                let n = self.reader.read(&mut buf)?;
                if n == 0 {
                    return Ok(None);
                }
                buf.truncate(n);
                buf
            };
            self.pending.extend_from_slice(&more);
            if self.pending.len() > MAX_BODY {
                return Err(DockerError::MalformedHttp("event line too long".into()));
            }
        }
    }
}

/// Parses one `/events` JSON message.
pub fn parse_lifecycle_event(line: &[u8]) -> Result<LifecycleEvent, DockerError> {
    let v: Value =
        serde_json::from_slice(line).map_err(|e| DockerError::MalformedJson(e.to_string()))?;
    let action = v
        .get("Action")
        .or_else(|| v.get("status"))
        .and_then(Value::as_str)
        .ok_or_else(|| DockerError::MalformedJson("event without `Action`".into()))?;
    let id = v
        .pointer("/Actor/ID")
        .or_else(|| v.get("id"))
        .and_then(Value::as_str)
        .ok_or_else(|| DockerError::MalformedJson("event without `Actor.ID`".into()))?;
    let time_ns = v
        .get("timeNano")
        .and_then(Value::as_u64)
        .or_else(|| {
            v.get("time")
                .and_then(Value::as_u64)
                .map(|s| s.saturating_mul(1_000_000_000))
        })
        .unwrap_or(0);
    Ok(LifecycleEvent {
        action: action.to_string(),
        id: id.to_string(),
        time_ns,
    })
}

fn object<'a>(
    v: &'a Value,
    key: &str,
) -> Result<Option<&'a serde_json::Map<String, Value>>, DockerError> {
    match v.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(m)),
        Some(_) => Err(DockerError::MalformedJson(format!(
            "`{key}` is not an object"
        ))),
    }
}

fn string(v: Option<&Value>, what: &str) -> Result<String, DockerError> {
    match v {
        None | Some(Value::Null) => Ok(String::new()),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(DockerError::MalformedJson(format!(
            "`{what}` is not a string"
        ))),
    }
}

fn image_ref_of(body: &[u8]) -> Option<String> {
    let v: Value = serde_json::from_slice(body).ok()?;
    v.get("Image")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
}

/// Parses RFC 3339 time as Docker writes it; its zero time (`0001-01-01T00:00:00Z`) and anything before the
/// epoch mean "unknown" (0).
fn parse_ts(s: &str) -> u64 {
    s.parse::<jiff::Timestamp>()
        .ok()
        .and_then(|t| u64::try_from(t.as_nanosecond()).ok())
        .unwrap_or(0)
}

/// Parses the body of `GET /containers/<id>/json` (without the image's repository details; see
/// [`apply_image_json`]).
pub fn parse_container_json(body: &[u8]) -> Result<ContainerInfo, DockerError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| DockerError::MalformedJson(e.to_string()))?;
    if !v.is_object() {
        return Err(DockerError::MalformedJson(
            "container inspect answer is not an object".into(),
        ));
    }
    let id = string(v.get("Id"), "Id")?;
    if id.is_empty() {
        return Err(DockerError::MalformedJson("container without `Id`".into()));
    }
    let name = string(v.get("Name"), "Name")?;
    let config = object(&v, "Config")?;
    let host_config = object(&v, "HostConfig")?;
    let state = object(&v, "State")?;
    let image = string(config.and_then(|c| c.get("Image")), "Config.Image")?;
    let privileged = match host_config.and_then(|h| h.get("Privileged")) {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(DockerError::MalformedJson(
                "`HostConfig.Privileged` is not a boolean".into(),
            ));
        }
    };
    let mut mounts = Vec::new();
    match v.get("Mounts") {
        None | Some(Value::Null) => {}
        Some(Value::Array(items)) => {
            for m in items {
                if !m.is_object() {
                    return Err(DockerError::MalformedJson(
                        "a mount is not an object".into(),
                    ));
                }
                mounts.push(Mount {
                    source: string(m.get("Source"), "Mounts.Source")?,
                    dest: string(m.get("Destination"), "Mounts.Destination")?,
                    mode: string(m.get("Mode"), "Mounts.Mode")?,
                    rw: m.get("RW").and_then(Value::as_bool).unwrap_or(false),
                    propagation: string(m.get("Propagation"), "Mounts.Propagation")?,
                });
            }
        }
        Some(_) => {
            return Err(DockerError::MalformedJson(
                "`Mounts` is not an array".into(),
            ));
        }
    }
    let mut labels = BTreeMap::new();
    if let Some(Value::Object(l)) = config.and_then(|c| c.get("Labels")) {
        for (k, val) in l {
            if let Value::String(s) = val {
                labels.insert(k.clone(), s.clone());
            }
        }
    }
    let created_ts = parse_ts(&string(v.get("Created"), "Created")?);
    let start_ts = parse_ts(&string(
        state.and_then(|s| s.get("StartedAt")),
        "State.StartedAt",
    )?);
    let image_id = string(v.get("Image"), "Image")?;
    let mut info = ContainerInfo {
        id,
        name: name.strip_prefix('/').unwrap_or(&name).to_string(),
        image,
        image_id: image_id
            .strip_prefix("sha256:")
            .unwrap_or(&image_id)
            .to_string(),
        privileged,
        mounts,
        created_ts,
        start_ts,
        k8s: k8s_of_labels(&labels),
        labels,
        engine: Some(super::cgroup::Engine::Docker),
        ..ContainerInfo::default()
    };
    fill_repo_tag_from_image_name(&mut info);
    Ok(info)
}

/// Kubernetes metadata from kubelet's labels; `None` when the container was not created by kubelet.
pub fn k8s_of_labels(labels: &BTreeMap<String, String>) -> Option<K8sInfo> {
    let ns_name = labels.get("io.kubernetes.pod.namespace")?.clone();
    let pod_name = labels
        .get("io.kubernetes.pod.name")
        .cloned()
        .unwrap_or_default();
    let pod_uid = labels
        .get("io.kubernetes.pod.uid")
        .cloned()
        .unwrap_or_default();
    let pod_labels = labels
        .iter()
        .filter(|(k, _)| !k.starts_with("io.kubernetes.") && !k.starts_with("annotation."))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    Some(K8sInfo {
        ns_name,
        pod_name,
        pod_uid,
        pod_labels,
    })
}

/// Splits an image reference into repository and tag (`registry:5000/ns/app:1.2@sha256:…` →
/// `registry:5000/ns/app`, `1.2`). The tag is empty when the reference has none.
pub fn split_image_ref(reference: &str) -> (String, String) {
    let without_digest = reference.split_once('@').map_or(reference, |(r, _)| r);
    let last_slash = without_digest.rfind('/').map_or(0, |i| i + 1);
    match without_digest
        .get(last_slash..)
        .and_then(|tail| tail.rfind(':'))
    {
        Some(colon) => {
            let at = last_slash + colon;
            (
                without_digest[..at].to_string(),
                without_digest[at + 1..].to_string(),
            )
        }
        None => (without_digest.to_string(), String::new()),
    }
}

fn fill_repo_tag_from_image_name(info: &mut ContainerInfo) {
    if info.image_repository.is_empty() && !info.image.starts_with("sha256:") {
        let (repo, tag) = split_image_ref(&info.image);
        info.image_repository = repo;
        if info.image_tag.is_empty() {
            info.image_tag = tag;
        }
    }
    if info.image_digest.is_empty()
        && let Some((_, digest)) = info.image.split_once('@')
    {
        info.image_digest = digest.to_string();
    }
}

/// Completes `info` from the body of `GET /images/<id>/json`: repository and digest from the first
/// well-formed `RepoDigests` entry, the tag from the `RepoTags` entry of that repository (or the first one),
/// as Falco's container plugin picks them.
pub fn apply_image_json(info: &mut ContainerInfo, body: &[u8]) -> Result<(), DockerError> {
    let v: Value =
        serde_json::from_slice(body).map_err(|e| DockerError::MalformedJson(e.to_string()))?;
    let strings = |key: &str| -> Vec<String> {
        v.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    };
    let mut repo = String::new();
    let mut digest = String::new();
    let mut digests = Vec::new();
    for rd in strings("RepoDigests") {
        let Some((r, d)) = rd.split_once('@') else {
            continue;
        };
        if repo.is_empty() {
            repo = r.to_string();
        }
        digests.push(d.to_string());
        if r == repo {
            digest = d.to_string();
            break;
        }
    }
    if digest.is_empty() && digests.len() == 1 {
        digest = digests.swap_remove(0);
    }
    let mut tag = String::new();
    for rt in strings("RepoTags") {
        let (r, t) = split_image_ref(&rt);
        if r.is_empty() || t.is_empty() {
            continue;
        }
        if repo.is_empty() {
            repo = r.clone();
        }
        if r == repo {
            tag = t;
            break;
        }
    }
    if !repo.is_empty() {
        info.image_repository = repo;
        info.image_tag = tag;
    }
    if !digest.is_empty() {
        info.image_digest = digest;
    }
    if let Some(id) = v.get("Id").and_then(Value::as_str) {
        info.image_id = id.strip_prefix("sha256:").unwrap_or(id).to_string();
    }
    Ok(())
}
