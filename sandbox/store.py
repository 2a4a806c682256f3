"""The carrier's persistent state in SQLite: accounts, individuals, customers, orders, pushes.

Idempotency lives here too: `once()` runs a write at most once per key, in the same transaction
that records the answer, so a retried request can never create a second thing.
"""

from __future__ import annotations

import hashlib
import json
import queue
import sqlite3
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sandbox.clock import iso_now
from sandbox.matching import normalise_city, normalise_state, zip5
from sandbox.seed import build_seed

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lookup_accounts (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    zip5 TEXT NOT NULL,
    state_code TEXT NOT NULL,
    city_key TEXT NOT NULL,
    item TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS lookup_accounts_place
    ON lookup_accounts (zip5, state_code, city_key);
CREATE TABLE IF NOT EXISTS idempotency (
    scope TEXT NOT NULL,
    key TEXT NOT NULL,
    body_hash TEXT NOT NULL,
    status INTEGER NOT NULL,
    body TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (scope, key)
);
CREATE TABLE IF NOT EXISTS individuals (
    seq INTEGER PRIMARY KEY,
    service_types TEXT NOT NULL,
    data TEXT NOT NULL,
    public TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS bulk_customers (
    source_customer_id TEXT PRIMARY KEY,
    data TEXT NOT NULL,
    request_id TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS care_orders (
    order_id TEXT PRIMARY KEY,
    message_id TEXT NOT NULL UNIQUE,
    conversation_id TEXT NOT NULL,
    status TEXT NOT NULL,
    outcome TEXT NOT NULL,
    outcome_reason TEXT,
    next_due_at REAL,
    request TEXT NOT NULL,
    received_at TEXT NOT NULL,
    id_given INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS care_orders_due ON care_orders (next_due_at)
    WHERE next_due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS care_order_milestones (
    order_id TEXT NOT NULL,
    sequence INTEGER NOT NULL,
    milestone TEXT NOT NULL,
    occurred_at TEXT NOT NULL,
    reason TEXT,
    PRIMARY KEY (order_id, sequence)
);
CREATE TABLE IF NOT EXISTS push_outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    last_error TEXT
);
CREATE INDEX IF NOT EXISTS push_outbox_pending ON push_outbox (state, order_id, id);
"""
WIPE_STATE = (
    "DELETE FROM lookup_accounts",
    "DELETE FROM idempotency",
    "DELETE FROM individuals",
    "DELETE FROM bulk_customers",
    "DELETE FROM care_orders",
    "DELETE FROM care_order_milestones",
    "DELETE FROM push_outbox",
    "DELETE FROM meta",
)
FIRST_CO_NUMBER = 12345
FINAL_STATUSES = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


def canonical_hash(body: Any) -> str:
    """Same JSON meaning, same hash: key order and whitespace do not matter."""
    text = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def _add_missing_columns(conn: sqlite3.Connection) -> None:
    """A state file from before a column existed gets it (SQLite has no ADD COLUMN IF NOT ...)."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(care_orders)")}
    if "id_given" not in columns:
        conn.execute("ALTER TABLE care_orders ADD COLUMN id_given INTEGER NOT NULL DEFAULT 0")


def _zip_digits(item: dict[str, Any]) -> str:
    return "".join(ch for ch in item["accountAddress"]["zipCode"] if ch.isdigit())


def mask_phone(number: str) -> str:
    return "******" + number[-4:]


def masked_individual(individual: dict[str, Any]) -> dict[str, Any]:
    masked = json.loads(json.dumps(individual))
    for account in masked["accounts"]:
        for subscriber in account["subscribers"]:
            subscriber["phoneNumber"] = mask_phone(subscriber["phoneNumber"])
    return masked


@dataclass(frozen=True)
class Answer:
    """An API answer as stored for idempotent replay."""

    status: int
    body: str


@dataclass(frozen=True)
class OnceResult:
    answer: Answer
    outcome: str  # "first" | "replay" | "mismatch"


@dataclass(frozen=True)
class MilestoneEvent:
    order_id: str
    conversation_id: str
    message_id: str
    change_request_ids: tuple[str, ...]
    id_given: bool
    milestone: str
    status: str
    occurred_at: str
    sequence: int
    reason: str | None

    def push_body(self) -> dict[str, Any]:
        """The push (an assumption: no page defines it): the identifiers the partner sent, and
        the carrier's order id only when its 202 gave the partner one."""
        body = {
            "eventId": str(uuid.uuid4()),
            "conversationId": self.conversation_id,
            "messageId": self.message_id,
            "changeRequestIds": list(self.change_request_ids),
            "milestone": self.milestone,
            "status": self.status,
            "occurredAt": self.occurred_at,
            "sequence": self.sequence,
            "reason": self.reason,
        }
        if self.id_given:
            body["orderId"] = self.order_id
        return body


@dataclass(frozen=True)
class DueOrder:
    order_id: str
    status: str
    outcome: str
    outcome_reason: str | None


@dataclass(frozen=True)
class PendingPush:
    id: int
    order_id: str
    url: str
    body: str
    attempts: int


class Store:
    """SQLite in WAL mode behind a small connection pool shared by all threads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        path.parent.mkdir(parents=True, exist_ok=True)
        self._pool: queue.SimpleQueue[sqlite3.Connection] = queue.SimpleQueue()
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)
            _add_missing_columns(conn)
        with self._write() as conn:
            if conn.execute("SELECT 1 FROM meta WHERE key = 'seeded'").fetchone() is None:
                self._seed(conn)

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA busy_timeout=30000")
        return conn

    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        try:
            conn = self._pool.get_nowait()
        except queue.Empty:
            conn = self._connect()
        try:
            yield conn
        finally:
            self._pool.put(conn)

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        # IMMEDIATE takes the write lock up front: check-then-insert cannot race another writer.
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def close(self) -> None:
        while True:
            try:
                self._pool.get_nowait().close()
            except queue.Empty:
                return

    # -- seed and reset ---------------------------------------------------------------------

    def _seed(self, conn: sqlite3.Connection) -> None:
        seed = build_seed()
        for item in seed.lookup_accounts:
            self.insert_lookup_account(conn, item)
        for index, individual in enumerate(seed.individuals):
            types = {account["serviceType"].upper() for account in individual["accounts"]}
            conn.execute(
                "INSERT INTO individuals (seq, service_types, data, public) VALUES (?, ?, ?, ?)",
                (
                    index,
                    "," + ",".join(sorted(types)) + ",",
                    json.dumps(individual),
                    json.dumps(masked_individual(individual)),
                ),
            )
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('next_co_number', ?)", (str(FIRST_CO_NUMBER),)
        )
        conn.execute("INSERT INTO meta (key, value) VALUES ('seeded', ?)", (iso_now(),))

    def reset(self) -> None:
        with self._write() as conn:
            for statement in WIPE_STATE:
                conn.execute(statement)
            self._seed(conn)

    # -- lookup accounts -----------------------------------------------------------------------

    @staticmethod
    def insert_lookup_account(conn: sqlite3.Connection, item: dict[str, Any]) -> None:
        address = item["accountAddress"]
        conn.execute(
            "INSERT INTO lookup_accounts (zip5, state_code, city_key, item) VALUES (?, ?, ?, ?)",
            (
                zip5(address["zipCode"]) or address["zipCode"],
                normalise_state(address["state"]),
                normalise_city(address["city"]),
                json.dumps(item),
            ),
        )

    def lookup_candidates(self, zip_code: str, state: str, city: str) -> list[dict[str, Any]]:
        """Accounts at exactly this place, in seed/creation order. The state is compared as the
        data writes it (a code); a ZIP+4 must equal an account's own ZIP+4 where it has one."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT item FROM lookup_accounts WHERE zip5 = ? AND state_code = ? "
                "AND city_key = ? ORDER BY seq",
                (zip_code[:5], state, normalise_city(city)),
            ).fetchall()
        items = [json.loads(row[0]) for row in rows]
        if len(zip_code) == 5:
            return items
        return [item for item in items if _zip_digits(item) in (zip_code, zip_code[:5])]

    @staticmethod
    def take_co_number(conn: sqlite3.Connection) -> int:
        row = conn.execute("SELECT value FROM meta WHERE key = 'next_co_number'").fetchone()
        number = int(row[0]) if row else FIRST_CO_NUMBER
        conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES ('next_co_number', ?)",
            (str(number + 1),),
        )
        return number

    # -- idempotency ---------------------------------------------------------------------------

    def stored_answer(self, scope: str, key: str) -> tuple[str, Answer] | None:
        """(body hash, answer) stored for this key, if any."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT body_hash, status, body FROM idempotency WHERE scope = ? AND key = ?",
                (scope, key),
            ).fetchone()
        return (row[0], Answer(row[1], row[2])) if row else None

    def once(
        self,
        scope: str,
        key: str,
        body_hash: str,
        produce: Callable[[sqlite3.Connection], Answer],
        *,
        same_body_required: bool = True,
    ) -> OnceResult:
        """Run `produce` (which writes through conn) only for the first use of key."""
        with self._write() as conn:
            row = conn.execute(
                "SELECT body_hash, status, body FROM idempotency WHERE scope = ? AND key = ?",
                (scope, key),
            ).fetchone()
            if row is not None:
                outcome = "mismatch" if same_body_required and row[0] != body_hash else "replay"
                return OnceResult(Answer(row[1], row[2]), outcome)
            answer = produce(conn)
            conn.execute(
                "INSERT INTO idempotency (scope, key, body_hash, status, body, created_at) "
                "VALUES (?, ?, ?, ?, ?, ?)",
                (scope, key, body_hash, answer.status, answer.body, iso_now()),
            )
            return OnceResult(answer, "first")

    # -- customer search -----------------------------------------------------------------------

    def search_individuals(
        self, service_type: str | None, page_size: int, page_offset: int
    ) -> tuple[int, list[str]]:
        """(total, one page of individuals as masked JSON text, in a stable order)."""
        # service_types is stored as ",FIBER,WIRELESS,": a LIKE on ",TYPE," matches one type.
        pattern = f"%,{service_type.upper()},%" if service_type else "%"
        with self._connection() as conn:
            total = conn.execute(
                "SELECT COUNT(*) FROM individuals WHERE service_types LIKE ?", (pattern,)
            ).fetchone()[0]
            rows = conn.execute(
                "SELECT public FROM individuals WHERE service_types LIKE ? "
                "ORDER BY seq LIMIT ? OFFSET ?",
                (pattern, page_size, (page_offset - 1) * page_size),
            ).fetchall()
        return total, [row[0] for row in rows]

    # -- bulk customers ------------------------------------------------------------------------

    def upsert_customers(self, customers: list[dict[str, Any]], request_id: str) -> tuple[int, int]:
        """(inserted, updated), keyed by sourceCustomerId."""
        inserted = updated = 0
        now = iso_now()
        with self._write() as conn:
            for customer in customers:
                key = customer["sourceCustomerId"]
                exists = conn.execute(
                    "SELECT 1 FROM bulk_customers WHERE source_customer_id = ?", (key,)
                ).fetchone()
                conn.execute(
                    "INSERT INTO bulk_customers "
                    "(source_customer_id, data, request_id, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?) ON CONFLICT (source_customer_id) DO UPDATE SET "
                    "data = excluded.data, request_id = excluded.request_id, "
                    "updated_at = excluded.updated_at",
                    (key, json.dumps(customer), request_id, now, now),
                )
                if exists:
                    updated += 1
                else:
                    inserted += 1
        return inserted, updated

    def bulk_customer(self, source_customer_id: str) -> dict[str, Any] | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT data FROM bulk_customers WHERE source_customer_id = ?",
                (source_customer_id,),
            ).fetchone()
        return json.loads(row[0]) if row else None

    # -- care orders ---------------------------------------------------------------------------

    @staticmethod
    def order_id_taken(conn: sqlite3.Connection, order_id: str) -> bool:
        found = conn.execute("SELECT 1 FROM care_orders WHERE order_id = ?", (order_id,))
        return found.fetchone() is not None

    @staticmethod
    def insert_order(
        conn: sqlite3.Connection,
        *,
        order_id: str,
        message_id: str,
        conversation_id: str,
        outcome: str,
        outcome_reason: str | None,
        due_at: float,
        request: dict[str, Any],
        received_at: str,
        id_given: bool,
    ) -> None:
        conn.execute(
            "INSERT INTO care_orders (order_id, message_id, conversation_id, status, outcome, "
            "outcome_reason, next_due_at, request, received_at, id_given) "
            "VALUES (?, ?, ?, 'ACCEPTED', ?, ?, ?, ?, ?, ?)",
            (
                order_id,
                message_id,
                conversation_id,
                outcome,
                outcome_reason,
                due_at,
                json.dumps(request),
                received_at,
                int(id_given),
            ),
        )
        conn.execute(
            "INSERT INTO care_order_milestones (order_id, sequence, milestone, occurred_at) "
            "VALUES (?, 0, 'accepted', ?)",
            (order_id, received_at),
        )

    def order_view(self, order_id: str) -> dict[str, Any] | None:
        """The status query's answer: status plus every milestone so far, oldest first."""
        with self._connection() as conn:
            row = conn.execute(
                "SELECT status FROM care_orders WHERE order_id = ?", (order_id,)
            ).fetchone()
            if row is None:
                return None
            milestones = conn.execute(
                "SELECT milestone, occurred_at, reason FROM care_order_milestones "
                "WHERE order_id = ? ORDER BY sequence",
                (order_id,),
            ).fetchall()
        return {
            "orderId": order_id,
            "status": row[0],
            "milestones": [
                {"milestone": name, "occurredAt": at, "reason": reason}
                for name, at, reason in milestones
            ],
        }

    def due_orders(self, now: float, limit: int = 200) -> list[DueOrder]:
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT order_id, status, outcome, outcome_reason FROM care_orders "
                "WHERE next_due_at IS NOT NULL AND next_due_at <= ? ORDER BY next_due_at LIMIT ?",
                (now, limit),
            ).fetchall()
        return [DueOrder(*row) for row in rows]

    def next_due_at(self) -> float | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT MIN(next_due_at) FROM care_orders WHERE next_due_at IS NOT NULL"
            ).fetchone()
        return row[0]

    def transition_order(
        self,
        order_id: str,
        *,
        from_statuses: tuple[str, ...],
        to_status: str,
        milestone: str,
        reason: str | None,
        next_due_at: float | None,
        notify_url: str | None,
    ) -> MilestoneEvent | None:
        """Move an order on if it is still in one of from_statuses; queue its push with it."""
        with self._write() as conn:
            changed = conn.execute(
                "UPDATE care_orders SET status = ?, next_due_at = ? WHERE order_id = ? "
                "AND status IN (SELECT value FROM json_each(?))",
                (to_status, next_due_at, order_id, json.dumps(from_statuses)),
            ).rowcount
            if not changed:
                return None
            conversation_id, message_id, request, id_given = conn.execute(
                "SELECT conversation_id, message_id, request, id_given FROM care_orders "
                "WHERE order_id = ?",
                (order_id,),
            ).fetchone()
            change_ids = tuple(
                change["changeRequestId"] for change in json.loads(request)["changeRequest"]
            )
            sequence = conn.execute(
                "SELECT COALESCE(MAX(sequence), 0) + 1 FROM care_order_milestones "
                "WHERE order_id = ?",
                (order_id,),
            ).fetchone()[0]
            event = MilestoneEvent(
                order_id, conversation_id, message_id, change_ids, bool(id_given), milestone,
                to_status, iso_now(), sequence, reason,
            )  # fmt: skip
            conn.execute(
                "INSERT INTO care_order_milestones "
                "(order_id, sequence, milestone, occurred_at, reason) VALUES (?, ?, ?, ?, ?)",
                (order_id, sequence, milestone, event.occurred_at, reason),
            )
            if notify_url:
                conn.execute(
                    "INSERT INTO push_outbox (order_id, url, body, next_attempt_at) "
                    "VALUES (?, ?, ?, ?)",
                    (order_id, notify_url, json.dumps(event.push_body()), time.time()),
                )
            return event

    def order_status(self, order_id: str) -> str | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT status FROM care_orders WHERE order_id = ?", (order_id,)
            ).fetchone()
        return row[0] if row else None

    # -- push outbox ---------------------------------------------------------------------------

    def due_pushes(self, now: float, skip_orders: set[str], limit: int = 50) -> list[PendingPush]:
        """The oldest pending push of each order, when due: an order's pushes go out in order."""
        with self._connection() as conn:
            rows = conn.execute(
                "SELECT id, order_id, url, body, attempts FROM push_outbox WHERE id IN "
                "(SELECT MIN(id) FROM push_outbox WHERE state = 'pending' GROUP BY order_id) "
                "AND next_attempt_at <= ? ORDER BY id LIMIT ?",
                (now, limit + len(skip_orders)),
            ).fetchall()
        pushes = [PendingPush(*row) for row in rows if row[1] not in skip_orders]
        return pushes[:limit]

    def next_push_at(self) -> float | None:
        with self._connection() as conn:
            row = conn.execute(
                "SELECT MIN(next_attempt_at) FROM push_outbox WHERE state = 'pending'"
            ).fetchone()
        return row[0]

    def mark_push(
        self, push_id: int, *, state: str, attempts: int, next_attempt_at: float, error: str | None
    ) -> None:
        with self._write() as conn:
            conn.execute(
                "UPDATE push_outbox SET state = ?, attempts = ?, next_attempt_at = ?, "
                "last_error = ? WHERE id = ?",
                (state, attempts, next_attempt_at, error, push_id),
            )
