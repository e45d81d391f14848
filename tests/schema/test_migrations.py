"""The schema as the migrations build it: idempotent, constrained, indexed."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from campaign_api.migrations import PACKAGED, apply_migrations
from pydantic import PostgresDsn
from test_kit.accounts import USE_TEST_ACCOUNT
from test_kit.pytest_plugin import throwaway_database


@pytest.fixture
def conn(database_url: str) -> Iterator[psycopg.Connection]:
    """A connection whose work is rolled back after each test."""
    with psycopg.connect(database_url) as connection:
        connection.execute(USE_TEST_ACCOUNT)
        yield connection
        connection.rollback()


def test_applying_the_migrations_twice_is_a_no_op(database_url: str) -> None:
    assert apply_migrations(PostgresDsn(database_url)) == 0


def test_every_table_of_the_spec_exists_with_its_columns(conn: psycopg.Connection) -> None:
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = 'public'"
    ).fetchall()
    columns = {(table, column) for table, column in rows}
    for table, names in {
        "customers": ["id", "phone", "first_name", "last_name", "location", "preferred_product"],
        "campaigns": ["id", "name", "channel", "status", "base_template", "scheduled_at", "created_at"],
        "outbound_messages": [
            "id",
            "campaign_id",
            "customer_id",
            "status",
            "rendered_content",
            "last_error",
            "retry_count",
            "created_at",
            "updated_at",
        ],
    }.items():
        for name in names:
            assert (table, name) in columns, f"{table}.{name} is missing"


@pytest.mark.parametrize(
    ("statement", "constraint"),
    [
        ("INSERT INTO campaigns (name, channel, base_template) VALUES ('x', 'email', 'hi')", "campaigns_channel_check"),
        (
            "INSERT INTO campaigns (name, channel, status, base_template) VALUES ('x', 'sms', 'archived', 'hi')",
            "campaigns_status_check",
        ),
        ("INSERT INTO campaigns (name, channel, base_template) VALUES ('', 'sms', 'hi')", "campaigns_name_length"),
        (
            "INSERT INTO campaigns (name, channel, status, base_template) VALUES ('x', 'sms', 'scheduled', 'hi')",
            "campaigns_scheduled_has_time",
        ),
        ("INSERT INTO customers (phone) VALUES ('0712345678')", "customers_phone_e164"),
    ],
)
def test_check_constraints_reject_values_outside_the_enums(
    conn: psycopg.Connection, statement: str, constraint: str
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute(statement)
    assert caught.value.diag.constraint_name == constraint


def test_one_message_per_customer_per_campaign_and_updated_at_kept_by_the_database(conn: psycopg.Connection) -> None:
    customer = conn.execute("INSERT INTO customers (phone) VALUES ('+254712000001') RETURNING id").fetchone()
    campaign = conn.execute(
        "INSERT INTO campaigns (name, channel, base_template) VALUES ('c', 'sms', 'hi') RETURNING id"
    ).fetchone()
    assert customer is not None and campaign is not None
    message = conn.execute(
        "INSERT INTO outbound_messages (campaign_id, customer_id) VALUES (%s, %s) RETURNING id, status, retry_count,"
        " updated_at",
        (campaign[0], customer[0]),
    ).fetchone()
    assert message is not None and message[1:3] == ("pending", 0)
    conn.execute("SELECT pg_sleep(0.01)")
    conn.commit()
    conn.execute("UPDATE outbound_messages SET last_error = 'x' WHERE id = %s", (message[0],))
    conn.commit()
    later = conn.execute("SELECT updated_at FROM outbound_messages WHERE id = %s", (message[0],)).fetchone()
    assert later is not None and later[0] > message[3]
    with pytest.raises(psycopg.errors.UniqueViolation):
        conn.execute(
            "INSERT INTO outbound_messages (campaign_id, customer_id) VALUES (%s, %s)", (campaign[0], customer[0])
        )
    conn.rollback()
    conn.execute("DELETE FROM campaigns WHERE id = %s", (campaign[0],))
    conn.execute("DELETE FROM customers WHERE id = %s", (customer[0],))
    conn.commit()


def test_every_index_the_queries_need_exists(conn: psycopg.Connection) -> None:
    names = {row[0] for row in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")}
    assert {
        "campaigns_account_status_id_idx",
        "campaigns_account_channel_id_idx",
        "campaigns_due_idx",
        "outbound_messages_outbox_due_idx",
        "outbound_messages_campaign_status_idx",
        "outbound_messages_campaign_customer_key",
        "customers_account_phone_key",
        "customers_account_id_key",
        "campaigns_account_id_key",
        "api_keys_secret_hash_key",
        "audit_events_account_id_idx",
        "outbound_messages_dead_letters_idx",
    } <= names


def test_complete_campaigns_moves_only_campaigns_whose_messages_are_all_terminal(conn: psycopg.Connection) -> None:
    customers = [
        row[0]
        for row in conn.execute(
            "INSERT INTO customers (phone) SELECT '+25471900' || lpad(g::text, 4, '0') FROM generate_series(1, 2) g"
            " RETURNING id"
        ).fetchall()
    ]

    def campaign_with(*statuses: str) -> int:
        row = conn.execute(
            "INSERT INTO campaigns (name, channel, status, base_template) VALUES ('c', 'sms', 'sending', 'hi')"
            " RETURNING id"
        ).fetchone()
        assert row is not None
        for customer, status in zip(customers, statuses, strict=False):
            conn.execute(
                "INSERT INTO outbound_messages (campaign_id, customer_id, status, sent_at)"
                " VALUES (%s, %s, %s, CASE WHEN %s = 'sent' THEN now() END)",
                (row[0], customer, status, status),
            )
        return int(row[0])

    delivered = campaign_with("sent", "failed")
    all_failed = campaign_with("failed", "failed")
    in_flight = campaign_with("sent", "sending")
    empty = campaign_with()
    assert conn.execute("SELECT complete_campaigns(%s)", ([delivered, in_flight],)).fetchone() == (1,)
    assert conn.execute("SELECT complete_campaigns(NULL)").fetchone() == (1,)  # the sweep: all_failed
    states = dict(
        conn.execute(
            "SELECT id, status || ':' || (completed_at IS NOT NULL) FROM campaigns WHERE id = ANY(%s)",
            ([delivered, all_failed, in_flight, empty],),
        ).fetchall()
    )
    assert states == {
        delivered: "sent:true",
        all_failed: "failed:true",
        in_flight: "sending:false",
        empty: "sending:false",
    }


def test_rows_from_before_accounts_move_to_one_default_account(tmp_path: Path) -> None:
    # a database as it was before 0005, with data in it
    for migration in PACKAGED.glob("000[1-4]_*.sql"):
        shutil.copy(migration, tmp_path / migration.name)

    def before_accounts(url: str) -> None:
        apply_migrations(PostgresDsn(url), tmp_path)

    with throwaway_database(before_accounts) as url, psycopg.connect(url, autocommit=True) as conn:
        customer = conn.execute("INSERT INTO customers (phone) VALUES ('+254712000009') RETURNING id").fetchone()
        campaign = conn.execute(
            "INSERT INTO campaigns (name, channel, base_template) VALUES ('old', 'sms', 'hi') RETURNING id"
        ).fetchone()
        assert customer is not None and campaign is not None
        conn.execute(
            "INSERT INTO outbound_messages (campaign_id, customer_id) VALUES (%s, %s)", (campaign[0], customer[0])
        )
        conn.execute(
            "INSERT INTO idempotency_keys (scope, key, request_hash, response_code, response_body)"
            " VALUES ('send:1', 'k', 'h', 202, '{}')"
        )

        assert apply_migrations(PostgresDsn(url)) >= 1

        accounts = conn.execute("SELECT id, name FROM accounts").fetchall()
        assert [name for _, name in accounts] == ["default"]
        for table in ("customers", "campaigns", "outbound_messages", "idempotency_keys"):
            owners = conn.execute(f"SELECT DISTINCT account_id FROM {table}").fetchall()
            assert owners == [(accounts[0][0],)], table


def test_the_sender_throughput_migration_rolls_back_cleanly_and_applies_again(database_url: str) -> None:
    forward = (PACKAGED / "0014_sender_throughput.sql").read_text()
    rollback = (PACKAGED / "0014_sender_throughput.rollback.sql").read_text()
    with psycopg.connect(database_url) as conn:
        conn.execute(rollback)
        tables = conn.execute("SELECT to_regclass('sender_throughput'), to_regproc('take_sender_tokens')").fetchone()
        assert tables == (None, None)
        conn.execute(forward)
        assert conn.execute("SELECT to_regclass('sender_throughput') IS NOT NULL").fetchone() == (True,)
        conn.rollback()  # the session's database keeps its schema as migrated


@pytest.mark.parametrize(
    ("template", "language", "constraint"),
    [
        ("Campaign Update", "en_US", "senders_whatsapp_template_format"),
        ("x" * 513, "en_US", "senders_whatsapp_template_format"),
        ("campaign_update", "english", "senders_whatsapp_template_language_format"),
    ],
)
def test_a_senders_whatsapp_template_is_a_template_name_in_a_language_code(
    conn: psycopg.Connection, template: str, language: str, constraint: str
) -> None:
    with pytest.raises(psycopg.errors.CheckViolation) as caught:
        conn.execute(
            "INSERT INTO senders (name, channel, provider, address, callback_token, whatsapp_template,"
            " whatsapp_template_language) VALUES ('wa', 'whatsapp', 'whatsapp', '1065', 'tok', %s, %s)",
            (template, language),
        )
    assert caught.value.diag.constraint_name == constraint
