//! `http_output`: every alert POSTed to a URL — how Falcosidekick is fed.
//!
//! Plain HTTP/1.1 over a `TcpStream`, written by hand: one POST per alert with the formatted line as
//! the body (`Content-Type: application/json` when `json_output` is on, `text/plain` otherwise, as
//! Falco sends it), `User-Agent` from `http_output.user_agent`. A 2xx status is success; anything else
//! is an error reported by [`super::Outputs`]. `https://` URLs are refused when the channel is built
//! (TLS is not supported yet), so a misconfiguration shows at startup, not at the first alert.
//!
//! Bounded waits: connecting, writing and reading the status each time out after
//! [`HTTP_TIMEOUT`].

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::Duration;

use super::{Alert, Channel};

/// How long one POST may block at each step.
pub const HTTP_TIMEOUT: Duration = Duration::from_secs(5);

/// An `http://host[:port]/path` URL, split.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name or address (brackets kept for IPv6).
    pub host: String,
    /// Port (80 when absent).
    pub port: u16,
    /// Path and query, starting with `/`.
    pub path: String,
}

impl HttpUrl {
    /// Parses a plain-HTTP URL; the error says what is wrong.
    pub fn parse(url: &str) -> Result<HttpUrl, String> {
        let rest = match url.split_once("://") {
            Some((scheme, rest)) if scheme.eq_ignore_ascii_case("http") => rest,
            Some((scheme, _)) if scheme.eq_ignore_ascii_case("https") => {
                return Err(format!("{url}: https is not supported yet, use http"));
            }
            _ => return Err(format!("{url}: not an http:// URL")),
        };
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) if !p.contains(']') => (
                h,
                p.parse::<u16>()
                    .map_err(|_| format!("{url}: invalid port {p:?}"))?,
            ),
            _ => (authority, 80),
        };
        if host.is_empty() {
            return Err(format!("{url}: no host"));
        }
        Ok(HttpUrl {
            host: host.to_string(),
            port,
            path: path.to_string(),
        })
    }
}

/// Alerts POSTed to an HTTP endpoint.
#[derive(Debug)]
pub struct HttpChannel {
    url: HttpUrl,
    user_agent: String,
    content_type: &'static str,
}

impl HttpChannel {
    /// A channel posting to `url` (`http_output.url`) with `user_agent`; `json` is `json_output`.
    pub fn new(url: &str, user_agent: &str, json: bool) -> Result<HttpChannel, String> {
        Ok(HttpChannel {
            url: HttpUrl::parse(url)?,
            user_agent: user_agent.to_string(),
            content_type: if json {
                "application/json"
            } else {
                "text/plain"
            },
        })
    }

    fn post(&self, body: &str) -> std::io::Result<u16> {
        let host = self.url.host.trim_start_matches('[').trim_end_matches(']');
        let addr = (host, self.url.port)
            .to_socket_addrs()?
            .next()
            .ok_or_else(|| std::io::Error::other(format!("cannot resolve {host}")))?;
        let mut stream = TcpStream::connect_timeout(&addr, HTTP_TIMEOUT)?;
        stream.set_write_timeout(Some(HTTP_TIMEOUT))?;
        stream.set_read_timeout(Some(HTTP_TIMEOUT))?;
        let host_header = if self.url.port == 80 {
            self.url.host.clone()
        } else {
            format!("{}:{}", self.url.host, self.url.port)
        };
        let request = format!(
            "POST {} HTTP/1.1\r\nHost: {host_header}\r\nUser-Agent: {}\r\nContent-Type: {}\r\nAccept: */*\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
            self.url.path,
            self.user_agent,
            self.content_type,
            body.len()
        );
        stream.write_all(request.as_bytes())?;
        stream.write_all(body.as_bytes())?;
        stream.flush()?;
        let mut status = String::new();
        BufReader::new(stream).read_line(&mut status)?;
        status
            .split_whitespace()
            .nth(1)
            .and_then(|c| c.parse::<u16>().ok())
            .ok_or_else(|| std::io::Error::other(format!("bad HTTP response {status:?}")))
    }
}

impl Channel for HttpChannel {
    fn send(&mut self, _alert: &Alert, line: &str) -> std::io::Result<()> {
        let code = self.post(line)?;
        if (200..300).contains(&code) {
            Ok(())
        } else {
            Err(std::io::Error::other(format!(
                "POST http://{}:{}{} returned status {code}",
                self.url.host, self.url.port, self.url.path
            )))
        }
    }

    fn name(&self) -> &'static str {
        "http"
    }
}

#[cfg(test)]
mod tests {
    use super::HttpUrl;

    #[test]
    fn urls() {
        let u = HttpUrl::parse("http://localhost:2801/").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("localhost", 2801, "/")
        );
        let u = HttpUrl::parse("http://sidekick").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("sidekick", 80, "/")
        );
        let u = HttpUrl::parse("http://[::1]:8080/a?b=c").unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("[::1]", 8080, "/a?b=c")
        );
        assert!(HttpUrl::parse("https://x/").is_err());
        assert!(HttpUrl::parse("ftp://x/").is_err());
        assert!(HttpUrl::parse("http://x:99999/").is_err());
    }
}
