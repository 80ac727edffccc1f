//! The monitor's embedded web server (falco.yaml `webserver`): `/healthz`, `/versions` and the
//! Prometheus `/metrics`, as Falco serves them.
//!
//! A minimal HTTP/1.1 server on `std::net::TcpListener`, one side thread, one request per
//! connection (`Connection: close`): three read-only endpoints do not justify an HTTP stack, and
//! the event loop stays synchronous and never waits for it.
//!
//! Invariants:
//! - the server never touches the engine: the event loop publishes the metrics text into a
//!   [`Published`] slot (at most once a second), and the server only copies that text out;
//! - a request is read with a time-out and a size bound (8 KiB of request line and headers), so a
//!   slow or hostile client cannot hold the thread for long or grow memory;
//! - `/metrics` answers 404 unless `webserver.prometheus_metrics_enabled` and `metrics.enabled`
//!   are both on, as in Falco.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The text the event loop publishes for the server to hand out.
#[derive(Debug, Default)]
pub struct Published {
    metrics: Mutex<String>,
}

impl Published {
    /// Replaces the metrics text.
    pub fn set_metrics(&self, text: String) {
        if let Ok(mut m) = self.metrics.lock() {
            *m = text;
        }
    }

    fn metrics(&self) -> String {
        self.metrics.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

/// What the server serves.
#[derive(Debug, Clone)]
pub struct WebOptions {
    /// `webserver.listen_address`.
    pub address: String,
    /// `webserver.listen_port` (0: any free port).
    pub port: u16,
    /// `webserver.k8s_healthz_endpoint`.
    pub healthz: String,
    /// Whether `/metrics` is served.
    pub metrics: bool,
    /// The body of `/versions`.
    pub versions: String,
}

/// Binds the listener and starts serving on a side thread; returns the bound address. The
/// thread runs until the process exits. `on_start` runs first on the server thread (the monitor
/// registers the thread so that its own syscalls are not evaluated).
pub fn start(
    options: WebOptions,
    published: Arc<Published>,
    on_start: impl FnOnce() + Send + 'static,
) -> std::io::Result<std::net::SocketAddr> {
    let listener = TcpListener::bind((options.address.as_str(), options.port))?;
    let addr = listener.local_addr()?;
    std::thread::Builder::new()
        .name("frule-webserver".into())
        .spawn(move || {
            on_start();
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = serve(stream, &options, &published);
            }
        })?;
    Ok(addr)
}

/// The request target of a request head, or `None` when the head is not a request line.
fn request_target(head: &str) -> Option<(&str, &str)> {
    let line = head.lines().next()?;
    let mut parts = line.split(' ');
    let method = parts.next()?;
    let target = parts.next()?;
    let version = parts.next()?;
    if !version.starts_with("HTTP/1.") {
        return None;
    }
    // the path without a query string
    let path = target.split('?').next().unwrap_or(target);
    Some((method, path))
}

/// The status, content type and body answering `method path`.
fn respond(method: &str, path: &str, options: &WebOptions, published: &Published) -> Reply {
    if method != "GET" && method != "HEAD" {
        return Reply::new(405, "text/plain", "method not allowed\n".into());
    }
    if path == options.healthz {
        return Reply::new(200, "application/json", "{\"status\": \"ok\"}".into());
    }
    match path {
        "/versions" => Reply::new(200, "application/json", options.versions.clone()),
        "/metrics" if options.metrics => Reply::new(
            200,
            "text/plain; version=0.0.4; charset=utf-8",
            published.metrics(),
        ),
        _ => Reply::new(404, "text/plain", "not found\n".into()),
    }
}

struct Reply {
    status: u16,
    content_type: &'static str,
    body: String,
}

impl Reply {
    fn new(status: u16, content_type: &'static str, body: String) -> Self {
        Reply {
            status,
            content_type,
            body,
        }
    }
}

fn serve(
    mut stream: TcpStream,
    options: &WebOptions,
    published: &Published,
) -> std::io::Result<()> {
    stream.set_read_timeout(Some(Duration::from_secs(5)))?;
    stream.set_write_timeout(Some(Duration::from_secs(5)))?;
    let mut head = Vec::with_capacity(512);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        if head.len() > 8 * 1024 {
            break;
        }
        let n = stream.read(&mut buf)?;
        if n == 0 {
            break;
        }
        head.extend_from_slice(buf.get(..n).unwrap_or(&[]));
    }
    let head = String::from_utf8_lossy(&head);
    let reply = match request_target(&head) {
        Some((method, path)) => {
            let mut r = respond(method, path, options, published);
            if method == "HEAD" {
                r.body.clear();
            }
            r
        }
        None => Reply::new(400, "text/plain", "bad request\n".into()),
    };
    let reason = match reply.status {
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    let out = format!(
        "HTTP/1.1 {} {reason}\r\nContent-Type: {}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        reply.status,
        reply.content_type,
        reply.body.len(),
        reply.body
    );
    stream.write_all(out.as_bytes())?;
    stream.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options(metrics: bool) -> WebOptions {
        WebOptions {
            address: "127.0.0.1".into(),
            port: 0,
            healthz: "/healthz".into(),
            metrics,
            versions: "{\"v\":1}".into(),
        }
    }

    #[test]
    fn routes_answer_as_falco() {
        let p = Published::default();
        p.set_metrics("m 1\n".into());
        let cases = [
            (true, "GET", "/healthz", 200, "{\"status\": \"ok\"}"),
            (true, "GET", "/versions", 200, "{\"v\":1}"),
            (true, "GET", "/metrics", 200, "m 1\n"),
            (false, "GET", "/metrics", 404, "not found\n"),
            (true, "POST", "/healthz", 405, "method not allowed\n"),
            (true, "GET", "/nope", 404, "not found\n"),
        ];
        for (metrics, method, path, status, body) in cases {
            let r = respond(method, path, &options(metrics), &p);
            assert_eq!(
                (r.status, r.body.as_str()),
                (status, body),
                "{method} {path}"
            );
        }
    }

    #[test]
    fn request_lines_are_parsed_strictly() {
        assert_eq!(
            request_target("GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\n\r\n"),
            Some(("GET", "/metrics"))
        );
        assert_eq!(request_target("GET /metrics\r\n"), None);
        assert_eq!(request_target("garbage"), None);
    }
}
