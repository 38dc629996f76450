"""moto, the AWS emulator, for the test suites: serves on a free 127.0.0.1 port, prints the port,
and exits when its stdin closes (so it cannot outlive whoever started it).

Run with the test venv's Python (scripts/provision-test-tools installs moto[server] there).
tests/support/moto.rs starts one per test process; scripts/test starts one for the whole run and
hands it to the tests in SHOWRUNNER_TEST_MOTO_URL.

This is moto's own WSGI application (what bin/moto_server runs), but in a werkzeug server that
handles one request at a time: moto_server handles requests in threads, and moto's
TransactWriteItems is not atomic under concurrency (it checks every condition, then writes, and on
a failure restores a copy of the whole table, undoing concurrent writes), whereas DynamoDB's
transactions are serializable. Served one by one, moto behaves like DynamoDB for the store
contract's concurrency checks. Without threads the server speaks HTTP/1.0 and closes every
connection after its response, so a client's idle keep-alive connection cannot block the others.
"""

import logging
import os
import sys
import threading

from moto.moto_server.werkzeug_app import (
    DomainDispatcherApplication,
    MotoRequestHandler,
    create_backend_app,
)
from werkzeug.serving import make_server

logging.getLogger("werkzeug").setLevel(logging.ERROR)
server = make_server(
    "127.0.0.1",
    0,
    DomainDispatcherApplication(create_backend_app),
    threaded=False,
    request_handler=MotoRequestHandler,
)
os.environ["MOTO_PORT"] = str(server.server_port)
threading.Thread(target=server.serve_forever, daemon=True).start()
print(server.server_port, flush=True)
sys.stdin.read()
os._exit(0)
