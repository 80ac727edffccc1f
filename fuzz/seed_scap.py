"""Writes small plain-capture seeds for the scap_reader fuzz target.

    python3 seed_scap.py OUT_DIR CAPTURE_DIR

Reads the captures under CAPTURE_DIR in place (gzip or plain) and writes, for each, the section header,
the small state blocks and the first events (at most 48 KiB), and, when its process list is small, a
second seed with that list and more events (at most 112 KiB). Plain seeds let the fuzzer mutate blocks
rather than gzip data; the target's own gzip path is covered by one compressed seed.
"""
import gzip, hashlib, os, struct, sys

EVENT_BLOCKS = {0x204, 0x8010ABCD, 0x216, 0x221, 0x208, 0x217, 0x222}
PROC_LISTS = {0x202, 0x8000ABCD, 0x207, 0x8013ABCD, 0x209, 0x8014ABCD, 0x210, 0x211, 0x212, 0x213,
              0x214, 0x215}


def blocks(data):
    off = 0
    while off + 8 <= len(data):
        t, n = struct.unpack_from("<II", data, off)
        if n < 12 or off + n > len(data):
            return
        yield t, data[off:off + n]
        off += n


def seed(all_blocks, limit, keep_procs):
    out = bytearray()
    for t, b in all_blocks:
        if t in PROC_LISTS and not keep_procs:
            continue
        if len(out) + len(b) > limit:
            if t in EVENT_BLOCKS:
                break
            continue
        out += b
    return bytes(out)


def main():
    out_dir, src = sys.argv[1], sys.argv[2]
    written = []
    for root, _, names in os.walk(src):
        for name in sorted(names):
            if not name.endswith(".scap"):
                continue
            data = open(os.path.join(root, name), "rb").read()
            if data[:2] == b"\x1f\x8b":
                try:
                    data = gzip.decompress(data)
                except (OSError, EOFError):
                    continue
            bs = list(blocks(data))
            if not bs:
                continue
            variants = [seed(bs, 48 * 1024, False)]
            if any(t in PROC_LISTS and len(b) <= 64 * 1024 for t, b in bs):
                variants.append(seed(bs, 112 * 1024, True))
            for v in variants:
                h = hashlib.sha1(v).hexdigest()[:16]
                with open(os.path.join(out_dir, "scap-" + h), "wb") as f:
                    f.write(v)
                written.append(v)
    if written:
        small = min(written, key=len)
        with open(os.path.join(out_dir, "scap-gzip"), "wb") as f:
            f.write(gzip.compress(small))


main()
