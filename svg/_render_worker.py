"""The render sandbox's worker: ``python -m svg._render_worker MEMORY_LIMIT``.

Reads framed requests on stdin, renders with cairosvg under an address-space limit, and writes
framed replies on stdout. Run as its own interpreter (not a multiprocessing child) so it never
re-imports the caller's main module.
"""

from __future__ import annotations

import resource
import signal
import struct
import sys

REQUEST = struct.Struct("<II")  # size, payload length
REPLY_OK = struct.Struct("<BIIII")  # status 0, width, height, stride, buffer length
REPLY_ERROR = struct.Struct("<BII")  # status 1, code length, message length


# What a refused resource turns into: nothing drawn, and the rest of the document still renders.
_EMPTY_SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="1" height="1"/>'


def _fetch_inline_only(url: str, resource_type: str):
    from cairosvg.url import fetch

    if url.startswith("data:"):
        return fetch(url, resource_type)
    return _EMPTY_SVG  # never read a file or open a connection named by the document


def render(data: bytes, size: int) -> tuple[int, int, int, bytes]:
    from cairosvg.parser import Tree
    from cairosvg.surface import PNGSurface

    tree = Tree(bytestring=data, unsafe=False, url_fetcher=_fetch_inline_only)
    surface = PNGSurface(tree, None, 96, output_width=size, output_height=size).cairo
    surface.flush()
    return surface.get_width(), surface.get_height(), surface.get_stride(), bytes(surface.get_data())


def _read_exact(stream, n: int) -> bytes | None:
    chunks = []
    while n:
        chunk = stream.read(n)
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def main() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import cairosvg  # noqa: F401  (load before the first request, under the limit)

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    while True:
        header = _read_exact(stdin, REQUEST.size)
        if header is None:
            return
        size, length = REQUEST.unpack(header)
        data = _read_exact(stdin, length)
        if data is None:
            return
        try:
            width, height, stride, buffer = render(data, size)
            stdout.write(REPLY_OK.pack(0, width, height, stride, len(buffer)) + buffer)
        except MemoryError:
            _error(stdout, "memory", "rendering ran out of its memory limit")
        except Exception as err:
            _error(stdout, "invalid", f"{type(err).__name__}: {err}"[:2000])
        stdout.flush()


def _error(stdout, code: str, message: str) -> None:
    code_bytes, message_bytes = code.encode(), message.encode("utf-8", "replace")
    stdout.write(REPLY_ERROR.pack(1, len(code_bytes), len(message_bytes)) + code_bytes + message_bytes)


if __name__ == "__main__":
    main()
