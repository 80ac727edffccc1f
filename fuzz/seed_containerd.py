#!/usr/bin/env python3
"""Seeds for the container_answers fuzz target: containerd's answers as protobuf messages.

Writes, each behind the selector byte src/container_answers.rs reads, a ListNamespacesResponse (0), a
GetContainerResponse with labels, image, an OCI spec (as google.protobuf.Any), a creation time and a
sandbox (1), and a GetImageResponse with its target descriptor (2). Field numbers are containerd's
(api/services/{namespaces,containers,images}/v1).
"""
import json
import os
import sys


def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field(number, value):
    """A length-delimited field (wire type 2)."""
    if isinstance(value, str):
        value = value.encode()
    return varint(number << 3 | 2) + varint(len(value)) + value


def number_field(number, value):
    """A varint field (wire type 0)."""
    return varint(number << 3) + varint(value)


def main(out_dir):
    namespaces = b"".join(field(1, field(1, ns)) for ns in ("default", "k8s.io", "moby"))

    spec = {
        "process": {"capabilities": {"bounding": ["CAP_CHOWN", "CAP_SYS_ADMIN"]}},
        "mounts": [{"destination": "/data", "source": "/srv/data", "type": "bind", "options": ["rw"]}],
        "annotations": {"io.kubernetes.cri.container-name": "web", "io.kubernetes.cri.sandbox-namespace": "prod"},
        "linux": {"maskedPaths": ["/proc/kcore"]},
    }
    labels = {
        "io.kubernetes.pod.name": "web-5d8f",
        "io.kubernetes.pod.namespace": "prod",
        "io.kubernetes.container.name": "web",
    }
    container = (
        field(1, "f" * 64)
        + b"".join(field(2, field(1, k) + field(2, v)) for k, v in labels.items())
        + field(3, "docker.io/library/nginx:1.25")
        + field(4, field(1, "io.containerd.runc.v2"))
        + field(5, field(1, "types.containerd.io/opencontainers/runtime-spec/1/Spec") + field(2, json.dumps(spec)))
        + field(8, number_field(1, 1_700_000_000) + number_field(2, 123))
        + field(11, "e" * 64)
    )
    get_container = field(1, container)

    descriptor = field(1, "application/vnd.oci.image.index.v1+json") + field(2, "sha256:" + "a" * 64) + number_field(3, 1024)
    get_image = field(1, field(1, "docker.io/library/nginx:1.25") + field(3, descriptor))

    for name, selector, body in (
        ("namespaces", 0, namespaces),
        ("get-container", 1, get_container),
        ("get-image", 2, get_image),
    ):
        with open(os.path.join(out_dir, "containerd-" + name), "wb") as f:
            f.write(bytes([selector]) + body)


if __name__ == "__main__":
    main(sys.argv[1])
