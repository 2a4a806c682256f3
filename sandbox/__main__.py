"""`python -m sandbox --port 8100 --state var/sandbox.sqlite3`: run the carrier sandbox."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from types import FrameType

from sandbox.app import Sandbox
from sandbox.config import Credentials, config_from_env
from sandbox.server import make_server


def _delays(text: str) -> list[float]:
    try:
        received, final = (float(part) for part in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError("expected two numbers, e.g. 1.0,2.0") from None
    return [received, final]


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    env, creds = os.environ, Credentials.from_env(os.environ)
    parser = argparse.ArgumentParser(prog="python -m sandbox", description=__doc__)
    add = parser.add_argument
    add("--host", default=env.get("SANDBOX_HOST", "127.0.0.1"))
    add("--port", type=int, default=int(env.get("SANDBOX_PORT", "8100")))
    add("--state", default=env.get("SANDBOX_STATE", "var/sandbox.sqlite3"), help="SQLite file")
    add("--verbose", action="store_true", help="one line per request on stderr")
    add("--accounts-client-id", default=creds.accounts_client_id)
    add("--accounts-client-secret", default=creds.accounts_client_secret)
    add("--orders-client-id", default=creds.orders_client_id)
    add("--orders-token", default=creds.orders_token, help="empty: no bearer token required")
    add("--notify-url", default=None, help="care order milestone push URL")
    add("--notify-secret", default=None, help="HMAC key for X-Carrier-Signature")
    add("--milestone-delays", type=_delays, default=None, help="seconds, e.g. 1.0,2.0")
    return parser.parse_args(argv)


def _stop(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(0)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    credentials = Credentials(
        accounts_client_id=args.accounts_client_id,
        accounts_client_secret=args.accounts_client_secret,
        orders_client_id=args.orders_client_id,
        orders_token=args.orders_token,
    )
    config = config_from_env(os.environ)
    if args.notify_url is not None:
        config["notify_url"] = args.notify_url or None
    if args.notify_secret:
        config["notify_secret"] = args.notify_secret
    if args.milestone_delays:
        config["milestone_delays"] = args.milestone_delays
    app = Sandbox(Path(args.state), credentials, config, verbose=args.verbose)
    server = make_server(args.host, args.port, app)
    app.start()
    # SIGTERM (from SandboxProcess.stop or a supervisor) shuts down like Ctrl-C.
    signal.signal(signal.SIGTERM, _stop)
    sys.stderr.write(f"carrier sandbox on http://{args.host}:{args.port} (state {args.state})\n")
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
