"""Check that the PostgreSQL and Redis the tests need answer, with a message saying how to start each."""

import socket
import sys
from urllib.parse import urlparse


def reachable(url: str, default_port: int) -> bool:
    parsed = urlparse(url)
    try:
        with socket.create_connection((parsed.hostname or "127.0.0.1", parsed.port or default_port), timeout=3):
            return True
    except OSError:
        return False


def main() -> int:
    database_url, redis_url = sys.argv[1], sys.argv[2]
    missing = []
    if not reachable(database_url, 5432):
        missing.append(
            f"PostgreSQL is not answering at {database_url}. Start it, e.g. "
            "'pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start', "
            "or set TEST_DATABASE_URL."
        )
    if not reachable(redis_url, 6379):
        missing.append(
            f"Redis is not answering at {redis_url}. Start it, e.g. "
            "'redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save \"\"', or set TEST_REDIS_URL."
        )
    for message in missing:
        print(message, file=sys.stderr)
    return 1 if missing else 0


if __name__ == "__main__":
    sys.exit(main())
