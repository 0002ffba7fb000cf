#!/usr/bin/env python3
"""Writes the seed corpora of the data fuzz targets (tests/fuzz/corpus/{idx,npy,npz,csv,text}).

Files named valid_* must load; the rest must be rejected with a tessera::Error (the unit
test tests/data/corpus_test.cpp replays all of them). The archives come from Python's own
gzip and zipfile modules, so the readers are checked against writers other than ours.

    python3 tests/fuzz/make_data_corpus.py
"""
import gzip
import io
import os
import struct
import zipfile

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus")


def put(kind, name, data):
    os.makedirs(os.path.join(ROOT, kind), exist_ok=True)
    with open(os.path.join(ROOT, kind, name), "wb") as f:
        f.write(data)


def idx(type_code, dims, payload):
    header = bytes([0, 0, type_code, len(dims)])
    return header + b"".join(struct.pack(">I", d) for d in dims) + payload


def npy(descr, shape, payload, major=1, fortran=False):
    shape_text = "(" + "".join(f"{d}, " for d in shape).rstrip(" ")
    if len(shape) > 1:
        shape_text = shape_text.rstrip(",")
    shape_text += ")"
    header = f"{{'descr': '{descr}', 'fortran_order': {fortran}, 'shape': {shape_text}, }}"
    pre = 10 if major == 1 else 12
    header += " " * ((64 - (pre + len(header) + 1) % 64) % 64) + "\n"
    length = struct.pack("<H", len(header)) if major == 1 else struct.pack("<I", len(header))
    return b"\x93NUMPY" + bytes([major, 0]) + length + header.encode("latin1") + payload


def npz(members, compression):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as z:
        for name, data in members:
            z.writestr(name, data)
    return buf.getvalue()


def main():
    # IDX
    images = idx(0x08, [2, 3, 3], bytes(range(18)))
    put("idx", "valid_u8", images)
    put("idx", "valid_u8.gz", gzip.compress(images, mtime=0))
    put("idx", "valid_f64", idx(0x0E, [2], struct.pack(">dd", 0.5, -1.0)))
    put("idx", "valid_i16", idx(0x0B, [1, 2], struct.pack(">hh", -5, 300)))
    put("idx", "truncated", images[:-3])
    put("idx", "truncated.gz", gzip.compress(images, mtime=0)[:-9])
    put("idx", "bad_magic", b"\x01\x02" + images[2:])
    put("idx", "bad_type", idx(0x0A, [1], b"\x00"))
    put("idx", "absurd_dims", idx(0x0E, [0xFFFFFFFF] * 4, b""))
    put("idx", "rank_255", bytes([0, 0, 8, 255]) + b"\xff" * 64)
    put("idx", "empty", b"")
    put("idx", "gzip_of_garbage.gz", gzip.compress(b"hello", mtime=0))
    put("idx", "gzip_bad_crc.gz", gzip.compress(images, mtime=0)[:-8] + b"\0" * 8)

    # NPY
    f4 = npy("<f4", [2, 2], struct.pack("<4f", 1, 2, 3, 4))
    put("npy", "valid_f4", f4)
    put("npy", "valid_f8_v2", npy("<f8", [1], struct.pack("<d", 2.5), major=2))
    put("npy", "valid_u1_v3", npy("|u1", [3], b"\x01\x02\xff", major=3))
    put("npy", "valid_scalar_i8", npy("<i8", [], struct.pack("<q", -7)))
    put("npy", "truncated", f4[:-1])
    put("npy", "fortran", npy("<f4", [2, 2], struct.pack("<4f", 1, 2, 3, 4), fortran=True))
    put("npy", "big_endian", npy(">i4", [1], b"\0\0\0\1"))
    put("npy", "absurd_shape", npy("<f8", [1 << 40, 1 << 40], b""))
    put("npy", "bad_version", b"\x93NUMPY\x09\x00" + f4[8:])
    put("npy", "huge_header_len", b"\x93NUMPY\x02\x00\xff\xff\xff\xff" + b"{" * 32)
    put("npy", "empty", b"")

    # NPZ
    put("npz", "valid_stored.npz", npz([("x.npy", f4), ("y.npy", npy("|b1", [2], b"\1\0"))],
                                       zipfile.ZIP_STORED))
    deflated = npz([("x.npy", f4)], zipfile.ZIP_DEFLATED)
    put("npz", "valid_deflated.npz", deflated)
    put("npz", "truncated.npz", deflated[: len(deflated) - 10])
    put("npz", "bad_member.npz", npz([("x.npy", f4[:-2])], zipfile.ZIP_DEFLATED))
    put("npz", "not_zip.npz", b"PK\x03\x04 not really")
    put("npz", "empty", b"")

    # CSV (the replay test reads them with header and label column "label")
    put("csv", "valid_basic.csv", b"a,b,label\n1,2,0\n3.5,-4e2,1\n")
    put("csv", "valid_quoted_crlf.csv", b'"a, x",label,b\r\n"1",2,+3\r\n\r\n')
    put("csv", "bad_number.csv", b"a,label\nfoo,1\n")
    put("csv", "bad_label.csv", b"a,label\n1,1.5\n")
    put("csv", "ragged.csv", b"a,b,label\n1,2\n")
    put("csv", "unterminated.csv", b'a,label\n"1,2\n')
    put("csv", "no_label.csv", b"a,b\n1,2\n")
    put("csv", "binary.csv", bytes(range(256)))
    put("csv", "empty", b"")

    # Text (the replay test reads them with the default context of 128 bytes: a file needs
    # at least 129; the fuzz target reads them the same way, as they do not start with 0x00)
    licence = (b"This program is free software: you can redistribute it and/or modify it "
               b"under the terms of the GNU General Public License as published by the Free "
               b"Software Foundation.\n")
    put("text", "valid_ascii.txt", licence)
    put("text", "valid_exact_129", bytes(range(1, 130)))
    put("text", "valid_binary", bytes(range(1, 256)) + bytes(range(256)))
    # Options for the fuzz target (context 8, stride 3); too short for the default context.
    put("text", "options_ctx8", b"\x00\x07\x03" + licence[:40])
    put("text", "empty", b"")
    put("text", "one_byte", b"a")
    put("text", "short_128", licence[:128])


if __name__ == "__main__":
    main()
