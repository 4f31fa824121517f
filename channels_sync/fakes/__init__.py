"""Local HTTP fakes of the platforms, used by the tests, the benchmarks and ``make run``.

Each fake is a WSGI app holding its state in memory and enforcing what the real API enforces
(pagination, batch limits, compare-and-set, idempotency keys, throttling), with injectable
failures (``fail_next``). ``FakeServer`` runs one on 127.0.0.1 on a free port in a thread;
``python -m channels_sync.fakes shopify --port N --demo`` runs one as a process.
"""

from __future__ import annotations

import threading

from werkzeug.serving import make_server


class FakeServer:
    def __init__(self, app, *, port: int = 0):
        self.app = app
        self.server = make_server("127.0.0.1", port, app, threaded=True)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> FakeServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
