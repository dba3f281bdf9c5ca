"""
An HTTP session that connects to one address decided in advance.

The request keeps its URL, so the Host header, the TLS server name (SNI) and
the certificate's hostname check are all the receiver's name, exactly as in
an ordinary request; only the socket goes to ``address``, the one
``url_safety.url_resolve`` checked. Nothing resolves the name a second time,
which is what closes the DNS-rebinding gap (docs/webhooks.md).
"""

import socket

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ConnectTimeoutError, NewConnectionError
from urllib3.util import connection


def _pinned_connection_class(base: type[HTTPConnection], address: str) -> type[HTTPConnection]:
    class PinnedConnection(base):
        def _new_conn(self) -> socket.socket:
            # urllib3's own _new_conn, with the checked address in place of
            # the host name it would resolve again.
            try:
                return connection.create_connection(
                    (address, self.port),
                    self.timeout,
                    source_address=self.source_address,
                    socket_options=self.socket_options,
                )
            except TimeoutError as error:
                raise ConnectTimeoutError(
                    self, f"Connection to {self.host} ({address}) timed out."
                ) from error
            except OSError as error:
                raise NewConnectionError(
                    self, f"Failed to connect to {self.host} at {address}: {error}"
                ) from error

    return PinnedConnection


class PinnedAddressAdapter(HTTPAdapter):
    """A transport adapter whose connections all go to ``address``, whatever the URL's host."""

    def __init__(self, address: str):
        self.address = address
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        http_connection = _pinned_connection_class(HTTPConnection, self.address)
        https_connection = _pinned_connection_class(HTTPSConnection, self.address)
        self.poolmanager.pool_classes_by_scheme = {
            "http": type("PinnedPool", (HTTPConnectionPool,), {"ConnectionCls": http_connection}),
            "https": type(
                "PinnedHTTPSPool", (HTTPSConnectionPool,), {"ConnectionCls": https_connection}
            ),
        }


def pinned_session(address: str) -> requests.Session:
    """A session for one request, connecting to ``address`` only (and never through a proxy)."""
    session = requests.Session()
    # A proxy from the environment would resolve the name itself.
    session.trust_env = False
    adapter = PinnedAddressAdapter(address)
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session
