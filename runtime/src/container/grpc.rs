//! Just enough gRPC for containerd: unary calls over HTTP/2 on a unix socket, and the protobuf wire format of
//! the handful of messages the runtime reads.
//!
//! Why not generated code: the containerd client needs five request/response pairs of which it reads a few
//! fields each. Hand-written readers over the wire format keep the build free of `protoc`, build scripts and
//! proc-macros; unknown fields are skipped as protobuf requires, so newer containerd versions that add fields
//! keep working.
//!
//! Invariants:
//! - every call runs on a current-thread tokio runtime that lives only inside [`Channel`], on the thread doing
//!   the lookup (never the event loop), and is bounded by the channel's timeout as a whole;
//! - nothing here panics on what the server sends: truncated varints, lengths past the end, unknown wire types
//!   and non-UTF-8 strings are [`GrpcError::Malformed`] (strings are decoded lossily where a field is text).

use std::fmt;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;

/// Largest gRPC message accepted; containerd's answers here are a few KiB (an OCI spec is the largest).
const MAX_MESSAGE: usize = 16 << 20;

/// Why a gRPC call failed.
#[derive(Debug)]
pub enum GrpcError {
    /// The socket could not be connected.
    Connect(std::io::Error),
    /// The call did not finish within the channel's timeout.
    Timeout,
    /// HTTP/2 failed (connection reset, protocol error, ...).
    Transport(String),
    /// The server answered with a non-OK gRPC status (`5` is NOT_FOUND).
    Status {
        /// The gRPC status code.
        code: u32,
        /// `grpc-message`, percent-decoding left undone.
        message: String,
    },
    /// The answer was not a well-formed gRPC or protobuf message.
    Malformed(String),
}

/// gRPC's NOT_FOUND status code.
pub const NOT_FOUND: u32 = 5;

impl fmt::Display for GrpcError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            GrpcError::Connect(e) => write!(f, "cannot connect: {e}"),
            GrpcError::Timeout => f.write_str("no answer in time"),
            GrpcError::Transport(m) => write!(f, "http/2 error: {m}"),
            GrpcError::Status { code, message } => write!(f, "grpc status {code}: {message}"),
            GrpcError::Malformed(m) => write!(f, "malformed answer: {m}"),
        }
    }
}

impl From<h2::Error> for GrpcError {
    fn from(e: h2::Error) -> Self {
        GrpcError::Transport(e.to_string())
    }
}

/// One HTTP/2 connection to a gRPC server on a unix socket, with the runtime that drives it.
pub struct Channel {
    rt: tokio::runtime::Runtime,
    sender: h2::client::SendRequest<Bytes>,
    timeout: Duration,
}

impl Channel {
    /// Connects to the server at `socket`; `timeout` bounds the connection and then every call.
    pub fn connect(socket: &Path, timeout: Duration) -> Result<Channel, GrpcError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .enable_time()
            .build()
            .map_err(GrpcError::Connect)?;
        let sender = rt.block_on(async {
            let connect = async {
                let io = tokio::net::UnixStream::connect(socket)
                    .await
                    .map_err(GrpcError::Connect)?;
                let (sender, connection) = h2::client::handshake(io).await?;
                // the connection task runs whenever a call is blocked on this runtime
                tokio::spawn(async move {
                    let _ = connection.await;
                });
                Ok::<_, GrpcError>(sender)
            };
            tokio::time::timeout(timeout, connect)
                .await
                .map_err(|_| GrpcError::Timeout)?
        })?;
        Ok(Channel {
            rt,
            sender,
            timeout,
        })
    }

    /// A unary call: `path` is `/package.Service/Method`, `metadata` extra request headers (containerd reads
    /// its namespace from `containerd-namespace`), `message` the encoded request. Returns the encoded answer.
    pub fn call(
        &mut self,
        path: &str,
        metadata: &[(&str, &str)],
        message: &[u8],
    ) -> Result<Vec<u8>, GrpcError> {
        let data = self.exchange(path, metadata, message)?;
        unframe(&data)
    }

    /// A server-streaming call with one request message: every answer message, in order.
    pub fn call_streaming(
        &mut self,
        path: &str,
        metadata: &[(&str, &str)],
        message: &[u8],
    ) -> Result<Vec<Vec<u8>>, GrpcError> {
        let data = self.exchange(path, metadata, message)?;
        unframe_all(&data)
    }

    fn exchange(
        &mut self,
        path: &str,
        metadata: &[(&str, &str)],
        message: &[u8],
    ) -> Result<Vec<u8>, GrpcError> {
        let mut framed = Vec::with_capacity(5 + message.len());
        framed.push(0);
        framed.extend_from_slice(&(message.len() as u32).to_be_bytes());
        framed.extend_from_slice(message);
        let mut builder = http::Request::builder()
            .method("POST")
            .uri(format!("http://localhost{path}"))
            .header("content-type", "application/grpc")
            .header("te", "trailers");
        for (k, v) in metadata {
            builder = builder.header(*k, *v);
        }
        let request = builder
            .body(())
            .map_err(|e| GrpcError::Malformed(format!("request: {e}")))?;
        let sender = self.sender.clone();
        let timeout = self.timeout;
        self.rt.block_on(async move {
            tokio::time::timeout(timeout, unary(sender, request, framed))
                .await
                .map_err(|_| GrpcError::Timeout)?
        })
    }
}

async fn unary(
    sender: h2::client::SendRequest<Bytes>,
    request: http::Request<()>,
    framed: Vec<u8>,
) -> Result<Vec<u8>, GrpcError> {
    let mut sender = sender.ready().await?;
    let (response, mut stream) = sender.send_request(request, false)?;
    stream.send_data(Bytes::from(framed), true)?;
    let response = response.await?;
    let (head, mut body) = response.into_parts();
    if head.status != http::StatusCode::OK {
        return Err(GrpcError::Transport(format!("http status {}", head.status)));
    }
    // a trailers-only answer (the usual form of an error) carries the status in the headers
    check_status(&head.headers)?;
    let mut data = Vec::new();
    while let Some(chunk) = body.data().await {
        let chunk = chunk?;
        let _ = body.flow_control().release_capacity(chunk.len());
        data.extend_from_slice(&chunk);
        if data.len() > MAX_MESSAGE + 5 {
            return Err(GrpcError::Malformed("message too large".into()));
        }
    }
    if let Some(trailers) = body.trailers().await? {
        check_status(&trailers)?;
    }
    Ok(data)
}

fn check_status(headers: &http::HeaderMap) -> Result<(), GrpcError> {
    let Some(code) = headers.get("grpc-status") else {
        return Ok(());
    };
    let code: u32 = code
        .to_str()
        .ok()
        .and_then(|c| c.trim().parse().ok())
        .ok_or_else(|| GrpcError::Malformed("grpc-status is not a number".into()))?;
    if code == 0 {
        return Ok(());
    }
    let message = headers
        .get("grpc-message")
        .map(|m| String::from_utf8_lossy(m.as_bytes()).into_owned())
        .unwrap_or_default();
    Err(GrpcError::Status { code, message })
}

/// The message of a length-prefixed gRPC body (one uncompressed message).
pub fn unframe(data: &[u8]) -> Result<Vec<u8>, GrpcError> {
    let (head, rest) = data
        .split_first_chunk::<5>()
        .ok_or_else(|| GrpcError::Malformed("answer without a message".into()))?;
    if head[0] != 0 {
        return Err(GrpcError::Malformed(
            "compressed message (none was asked for)".into(),
        ));
    }
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]) as usize;
    rest.get(..len)
        .map(<[u8]>::to_vec)
        .ok_or_else(|| GrpcError::Malformed("message shorter than its length prefix".into()))
}

/// Every message of a length-prefixed gRPC body.
pub fn unframe_all(mut data: &[u8]) -> Result<Vec<Vec<u8>>, GrpcError> {
    let mut out = Vec::new();
    while !data.is_empty() {
        let message = unframe(data)?;
        data = data.get(5 + message.len()..).unwrap_or_default();
        out.push(message);
    }
    Ok(out)
}

// ---- protobuf wire format ----

/// One field of a protobuf message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Wire<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1.
    Fixed64(u64),
    /// Wire type 2: strings, bytes, embedded messages, packed repeated fields.
    Bytes(&'a [u8]),
    /// Wire type 5.
    Fixed32(u32),
}

impl<'a> Wire<'a> {
    /// The payload of a length-delimited field, empty for other wire types.
    pub fn bytes(self) -> &'a [u8] {
        match self {
            Wire::Bytes(b) => b,
            _ => &[],
        }
    }

    /// A length-delimited field as text (lossy, as labels and names are UTF-8 by the API's contract).
    pub fn string(self) -> String {
        String::from_utf8_lossy(self.bytes()).into_owned()
    }

    /// A varint field's value, 0 for other wire types.
    pub fn varint(self) -> u64 {
        match self {
            Wire::Varint(v) => v,
            _ => 0,
        }
    }
}

/// Reads the fields of one protobuf message in order.
#[derive(Debug, Clone)]
pub struct Fields<'a> {
    rest: &'a [u8],
}

/// The fields of `message`.
pub fn fields(message: &[u8]) -> Fields<'_> {
    Fields { rest: message }
}

impl<'a> Fields<'a> {
    fn varint(&mut self) -> Result<u64, GrpcError> {
        let mut v = 0u64;
        for shift in (0..70).step_by(7) {
            let (&b, rest) = self
                .rest
                .split_first()
                .ok_or_else(|| GrpcError::Malformed("truncated varint".into()))?;
            self.rest = rest;
            if shift < 64 {
                v |= u64::from(b & 0x7f) << shift;
            }
            if b & 0x80 == 0 {
                return Ok(v);
            }
        }
        Err(GrpcError::Malformed("varint longer than 10 bytes".into()))
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], GrpcError> {
        if n > self.rest.len() {
            return Err(GrpcError::Malformed(
                "field past the end of its message".into(),
            ));
        }
        let (head, rest) = self.rest.split_at(n);
        self.rest = rest;
        Ok(head)
    }

    /// The next field number and value, `None` at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<(u64, Wire<'a>)>, GrpcError> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let key = self.varint()?;
        let number = key >> 3;
        let value = match key & 7 {
            0 => Wire::Varint(self.varint()?),
            1 => {
                let b = self.take(8)?;
                Wire::Fixed64(u64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
            }
            2 => {
                let len = usize::try_from(self.varint()?)
                    .map_err(|_| GrpcError::Malformed("length does not fit".into()))?;
                Wire::Bytes(self.take(len)?)
            }
            5 => {
                let b = self.take(4)?;
                Wire::Fixed32(u32::from_le_bytes(b.try_into().unwrap_or([0; 4])))
            }
            other => {
                return Err(GrpcError::Malformed(format!(
                    "unsupported wire type {other}"
                )));
            }
        };
        Ok(Some((number, value)))
    }
}

/// Appends a length-delimited field (a string or an embedded message).
pub fn put_bytes(out: &mut Vec<u8>, number: u64, value: &[u8]) {
    put_varint(out, (number << 3) | 2);
    put_varint(out, value.len() as u64);
    out.extend_from_slice(value);
}

/// Appends a base-128 varint.
pub fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

/// A `map<string, string>` entry (`key` = 1, `value` = 2).
pub fn map_entry(entry: &[u8]) -> Result<(String, String), GrpcError> {
    let mut key = String::new();
    let mut value = String::new();
    let mut f = fields(entry);
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => key = v.string(),
            2 => value = v.string(),
            _ => {}
        }
    }
    Ok((key, value))
}

/// A `google.protobuf.Timestamp` as nanoseconds since the epoch (0 for times before it).
pub fn timestamp_ns(message: &[u8]) -> Result<u64, GrpcError> {
    let mut seconds = 0i64;
    let mut nanos = 0i64;
    let mut f = fields(message);
    while let Some((n, v)) = f.next_field()? {
        match n {
            1 => seconds = v.varint() as i64,
            2 => nanos = i64::from(v.varint() as i32),
            _ => {}
        }
    }
    Ok(u64::try_from(seconds.saturating_mul(1_000_000_000).saturating_add(nanos)).unwrap_or(0))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints_and_fields_round_trip() {
        let mut m = Vec::new();
        put_bytes(&mut m, 1, b"abc");
        put_varint(&mut m, 2 << 3);
        put_varint(&mut m, 300);
        put_bytes(&mut m, 15, &[]);
        let mut f = fields(&m);
        assert_eq!(f.next_field().unwrap(), Some((1, Wire::Bytes(b"abc"))));
        assert_eq!(f.next_field().unwrap(), Some((2, Wire::Varint(300))));
        assert_eq!(f.next_field().unwrap(), Some((15, Wire::Bytes(b""))));
        assert_eq!(f.next_field().unwrap(), None);
    }

    #[test]
    fn malformed_messages_are_errors_not_panics() {
        for bad in [
            &[0x0a, 0x05, b'a'][..], // length past the end
            &[0x08, 0x80][..],       // truncated varint
            &[0x0b][..],             // wire type 3 (groups)
            &[0x09, 1, 2, 3][..],    // short fixed64
            &[
                0x08, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
            ][..],
        ] {
            let mut f = fields(bad);
            let mut result = Ok(None);
            for _ in 0..4 {
                result = f.next_field();
                if !matches!(result, Ok(Some(_))) {
                    break;
                }
            }
            assert!(result.is_err(), "{bad:?} gave {result:?}");
        }
        assert!(unframe(&[0, 0, 0, 0, 9, 1]).is_err());
        assert!(unframe(&[1, 0, 0, 0, 0]).is_err());
        assert_eq!(unframe(&[0, 0, 0, 0, 1, 7]).unwrap(), vec![7]);
    }

    #[test]
    fn timestamps() {
        let mut m = Vec::new();
        put_varint(&mut m, 1 << 3);
        put_varint(&mut m, 1_700_000_000);
        put_varint(&mut m, 2 << 3);
        put_varint(&mut m, 5);
        assert_eq!(timestamp_ns(&m).unwrap(), 1_700_000_000_000_000_005);
    }
}
