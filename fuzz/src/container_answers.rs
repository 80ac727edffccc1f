//! What container runtimes answer, as the runtime's parsers read it: containerd's protobuf messages
//! (`ListNamespacesResponse`, `GetContainerResponse` with its OCI spec, `GetImageResponse`), CRI-O's
//! inspect JSON and the Docker Engine API's container JSON and event lines. A runtime's socket is input
//! frule does not control, so a malformed answer must be an error value, never a panic.
//!
//! The first byte picks the parser, the rest is the answer. Beyond "no panic" the body checks what the
//! parsers promise: a parsed containerd container has the id the message named (ids are never empty),
//! its metadata keeps that id, and a containerd image target always has a digest.

use frule_runtime::container::{containerd, crio, docker};

/// The id CRI-O's parser is asked about (CRI-O answers for the id in the request path).
const CRIO_ID: &str = "4f1e0d2c3b4a59687766554433221100ffeeddccbbaa99887766554433221100";

/// One input: selector byte, then the answer bytes.
pub fn run(data: &[u8]) {
    let Some((&selector, answer)) = data.split_first() else {
        return;
    };
    match selector % 6 {
        0 => {
            let _ = containerd::parse_namespaces(answer);
        }
        1 => {
            if let Ok(raw) = containerd::parse_get_container(answer) {
                assert!(
                    !raw.id.is_empty(),
                    "a containerd container without an id was accepted"
                );
                let info = containerd::container_info(&raw);
                assert_eq!(info.id, raw.id, "the metadata lost the container's id");
            }
        }
        2 => {
            if let Ok((digest, _media_type)) = containerd::parse_image_target(answer) {
                assert!(
                    !digest.is_empty(),
                    "an image target without a digest was accepted"
                );
            }
        }
        3 => {
            let _ = crio::parse_inspect_json(CRIO_ID, answer);
        }
        4 => {
            let _ = docker::parse_container_json(answer);
        }
        _ => {
            let _ = docker::parse_lifecycle_event(answer);
        }
    }
}
