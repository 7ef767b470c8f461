"""The test live server with a bounded pool of request threads, as a production server has.

Django's live server starts a thread (and so a database connection) per request: sixty concurrent
requests would open sixty connections at once, and with other clients of the same PostgreSQL the
server's `max_connections` runs out, which is not what a concurrency test means to test. Here the
requests are all accepted at once and served POOL_SIZE at a time, the rest waiting their turn."""

from concurrent.futures import ThreadPoolExecutor

from django.core.servers.basehttp import ThreadedWSGIServer

POOL_SIZE = 24


class PooledWSGIServer(ThreadedWSGIServer):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._pool = ThreadPoolExecutor(POOL_SIZE, thread_name_prefix="live-server")

    def process_request(self, request, client_address):
        self._pool.submit(self.process_request_thread, request, client_address)

    def server_close(self):
        super().server_close()
        self._pool.shutdown(wait=False, cancel_futures=True)
