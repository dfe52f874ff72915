"""Web servers that share nothing but the database (and Redis when set): throttles counted
across servers, the client's address read only from declared proxies."""

from __future__ import annotations

import pytest
import redis
from flask import Flask, request
from sqlalchemy import func, select

from survey import create_app
from survey.extensions import db
from survey.models import ThrottleHit, utcnow
from survey.throttle import RedisStore, forget_old_hits
from tests.conftest import empty_all_tables

REDIS_URL = "redis://127.0.0.1:6379/8"
BAD = "/r/" + "B" * 32


def server(database_url: str, tmp_path, name: str, **config) -> Flask:
    """Another web server: its own instance folder, the same database and secret key."""
    instance = tmp_path / name
    instance.mkdir()
    return create_app({
        "TESTING": True, "INSTANCE_PATH": str(instance), "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "test-secret-key-that-is-long-enough-0123456789",
        "WTF_CSRF_ENABLED": False, "RESPOND_BAD_TOKEN_LIMIT": 4, **config,
    })  # fmt: skip


@pytest.fixture
def flushed_redis():
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("no Redis on 127.0.0.1:6379")
    client.flushdb()
    yield client
    client.flushdb()


def alternate(first: Flask, second: Flask, path: str, count: int,
              address: str = "198.51.100.4") -> list[int]:
    clients = [first.test_client(), second.test_client()]
    return [clients[n % 2].get(path, environ_base={"REMOTE_ADDR": address}).status_code
            for n in range(count)]


def test_bad_links_are_counted_across_servers_in_the_database(app, database_url,
                                                              tmp_path) -> None:
    """Guesses alternating between two servers: four are answered "not found" in all, then
    every server refuses; another address is not affected."""
    one, two = (server(database_url, tmp_path, name) for name in ("one", "two"))
    assert alternate(one, two, BAD, 8) == [404, 404, 404, 404, 429, 429, 429, 429]
    assert one.test_client().get(BAD, environ_base={"REMOTE_ADDR": "10.9.9.9"}).status_code \
        == 404
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ThrottleHit)) >= 5
        assert forget_old_hits(db.session, utcnow()) == 0  # all recent: kept


def test_failed_logins_are_counted_across_servers(app, database_url, tmp_path) -> None:
    one, two = (server(database_url, tmp_path, name, LOGIN_ADDRESS_LIMIT=3)
                for name in ("one", "two"))
    clients = [one.test_client(), two.test_client()]
    codes = [clients[n % 2].post("/login", data={"email": f"x{n}@example.org",
                                                 "password": "wrong password!!"},
                                 environ_base={"REMOTE_ADDR": "198.51.100.9"}).status_code
             for n in range(5)]
    assert codes == [200, 200, 200, 429, 429]


def test_bad_links_are_counted_across_servers_in_redis(app, database_url, tmp_path,
                                                       flushed_redis) -> None:
    one, two = (server(database_url, tmp_path, name, REDIS_URL=REDIS_URL)
                for name in ("one", "two"))
    assert alternate(one, two, BAD, 6) == [404, 404, 404, 404, 429, 429]
    assert flushed_redis.zcard("barometre:throttle:respond_bad_token:198.51.100.4") >= 5
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ThrottleHit)) == 0


def test_a_redis_that_does_not_answer_is_replaced_by_the_database(app, database_url,
                                                                   tmp_path) -> None:
    # Nothing listens on port 1: every Redis call fails at once.
    one, two = (server(database_url, tmp_path, name, REDIS_URL="redis://127.0.0.1:1/0")
                for name in ("one", "two"))
    assert alternate(one, two, BAD, 6) == [404, 404, 404, 404, 429, 429]
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ThrottleHit)) >= 5


def test_the_redis_store_counts_in_a_sliding_window(flushed_redis) -> None:
    from datetime import timedelta

    store = RedisStore(REDIS_URL)
    start = utcnow()
    for second in (0, 10, 20):
        count, oldest = store.hit("t", "k", start + timedelta(seconds=second), 60)
    assert (count, oldest.replace(microsecond=0)) == (3, start.replace(microsecond=0))
    assert store.count("t", "k", start + timedelta(seconds=65), 60)[0] == 2


# --- proxies ---------------------------------------------------------------------------------


def address_seen(app: Flask, headers: dict[str, str]) -> str:
    @app.get("/test-address")
    def test_address() -> str:
        return f"{request.remote_addr} {request.scheme}"

    return app.test_client().get("/test-address", headers=headers,
                                 environ_base={"REMOTE_ADDR": "127.0.0.1"}).text


def test_forwarded_addresses_are_ignored_without_trusted_proxies(database_url,
                                                                 tmp_path) -> None:
    app = server(database_url, tmp_path, "direct")
    assert address_seen(app, {"X-Forwarded-For": "203.0.113.5",
                              "X-Forwarded-Proto": "https"}) == "127.0.0.1 http"


def test_one_trusted_proxy_gives_the_clients_address(database_url, tmp_path) -> None:
    app = server(database_url, tmp_path, "proxied", TRUSTED_PROXIES=1)
    # The client forged a first hop; the proxy appended the address it saw: that one counts.
    assert address_seen(app, {"X-Forwarded-For": "6.6.6.6, 203.0.113.5",
                              "X-Forwarded-Proto": "https"}) == "203.0.113.5 https"


def test_the_trusted_proxies_setting_is_checked_at_start(tmp_path, monkeypatch) -> None:
    from survey.config import ConfigurationError, config_from_environment

    environ = {"BAROMETRE_INSTANCE_PATH": str(tmp_path), "BAROMETRE_TRUSTED_PROXIES": "two"}
    with pytest.raises(ConfigurationError, match="BAROMETRE_TRUSTED_PROXIES"):
        config_from_environment(environ)
    environ["BAROMETRE_TRUSTED_PROXIES"] = "2"
    assert config_from_environment(environ)["TRUSTED_PROXIES"] == 2


def test_forty_five_logins_through_a_proxy_lock_out_only_the_guesser(database_url,
                                                                      tmp_path) -> None:
    """Behind one proxy every request comes from 127.0.0.1: with the proxy declared, failures
    are counted per client, and another client still logs in."""
    app = server(database_url, tmp_path, "behind", TRUSTED_PROXIES=1, LOGIN_ADDRESS_LIMIT=20)
    with app.app_context():
        empty_all_tables()
        from survey.auth.operations import create_user

        create_user(db.session, "manager@example.org", "manager", "a-long-password-123",
                    actor="test")
        db.session.commit()
    client = app.test_client()
    codes = [client.post("/login", data={"email": "nobody@example.org", "password": "nope nope"},
                         headers={"X-Forwarded-For": "203.0.113.66"}).status_code
             for _ in range(25)]
    assert codes.count(200) == 20 and codes.count(429) == 5
    other = app.test_client().post(
        "/login", data={"email": "manager@example.org", "password": "a-long-password-123"},
        headers={"X-Forwarded-For": "198.51.100.23"})
    assert other.status_code == 302
