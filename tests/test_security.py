"""Security properties, checked on real parts and without traffic off this machine: the SSRF
guard against names that resolve to loopback, size and decompression caps, Redis locked down
in compose, no secrets or article text in worker logs, and no start against an open Redis."""

from __future__ import annotations

import gzip
import os
import socket
import subprocess
import sys
import uuid
import zlib
from pathlib import Path
from typing import Any

import pytest
import redis
import yaml

from devtools.http_fixtures import Listener, Site
from service.embedded import EmbeddedRedis, free_port
from service.errors import FetchError, SourceError
from service.fetch import AddressGuard, FetchPolicy, Source, check_url, fetch_url, read_file
from service.safety import check_redis_url

from .conftest import REPO, SEEDS, Worker, run_cli
from .test_integration import wait_for

POLICY = FetchPolicy(
    connect_timeout=2.0,
    read_timeout=2.0,
    deadline=5.0,
    max_bytes=200_000,
    max_redirects=3,
    user_agent="newsingest-test",
    max_decompressed_bytes=400_000,
)


def own_address() -> str | None:
    """This machine's non-loopback address, found without sending a packet (UDP connect)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        try:
            sock.connect(("192.0.2.1", 9))
        except OSError:
            return None
        address = str(sock.getsockname()[0])
    return None if address.startswith("127.") else address


def hosts_file_loopback_names() -> list[str]:
    names = []
    for line in Path("/etc/hosts").read_text().splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2 and fields[0].startswith("127."):
            names += [n for n in fields[1:] if n != "localhost"]
    return names


# ---- SSRF -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    ["localhost", "LOCALHOST", "localhost.", "127.1", "2130706433", "0x7f000001", "0177.0.0.1"],
)
def test_names_and_spellings_of_loopback_are_refused_before_connecting(host: str) -> None:
    with Listener("127.0.0.1") as listener:
        url = f"http://{host}:{listener.port}/news"
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", url), POLICY)
        assert refused.value.reason in {"ssrf_refused", "bad_url"}
        assert not listener.connected()


def test_names_from_the_hosts_file_that_resolve_to_loopback_are_refused() -> None:
    names = hosts_file_loopback_names() + [socket.gethostname()]
    checked = 0
    for name in names:
        try:
            addresses = {info[4][0] for info in socket.getaddrinfo(name, 80)}
        except OSError:
            continue
        if not all(a.startswith("127.") or a == "::1" for a in addresses):
            continue
        with Listener("127.0.0.1") as listener:
            with pytest.raises(FetchError) as refused:
                fetch_url(Source("url", f"http://{name}:{listener.port}/"), POLICY)
            assert refused.value.reason == "ssrf_refused"
            assert not listener.connected()
        checked += 1
    if not checked:
        pytest.skip("no name on this machine resolves to loopback only")


@pytest.mark.parametrize(
    "url",
    [
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/",
        "http://192.168.1.1/",
        "http://172.16.0.1/",
        "http://100.64.0.1/",
        "http://[fd00::1]/",
        "http://[fe80::1]/",
        "http://224.0.0.1/",
        "http://255.255.255.255/",
    ],
)
def test_private_reserved_and_metadata_addresses_are_refused_by_resolution_alone(url: str) -> None:
    with pytest.raises(FetchError) as refused:
        check_url(url, ())
    assert refused.value.reason == "ssrf_refused"


def test_a_name_resolving_to_public_and_private_addresses_is_refused() -> None:
    guard = AddressGuard()
    fake = [(socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, 80)) for a in ("8.8.8.8", "127.0.0.1")]
    original = socket.getaddrinfo
    socket.getaddrinfo = lambda *a, **k: fake  # type: ignore[assignment]
    try:
        with pytest.raises(FetchError):
            guard.resolve("rebinding.example", 80)
    finally:
        socket.getaddrinfo = original


def test_a_redirect_from_an_allowed_host_to_localhost_is_refused() -> None:
    with Site("127.0.0.2") as site, Listener("127.0.0.1") as listener:
        site.redirect("/r", f"http://localhost:{listener.port}/secret")
        policy = FetchPolicy(**{**POLICY.__dict__, "allow": (f"127.0.0.2:{site.port}",)})
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", site.url("/r")), policy)
        assert refused.value.reason == "ssrf_refused"
        assert not listener.connected()


# Addresses that embed an IPv4 address, or that only a local network routes. The NAT64 ones
# reach the embedded address on a NAT64 network (64:ff9b::a9fe:a9fe is the metadata service).
EMBEDDED_LOOPBACK = [
    "64:ff9b::7f00:1",  # NAT64 well-known prefix
    "64:ff9b:1::7f00:1",  # NAT64 local-use prefix
    "2002:7f00:1::1",  # 6to4
    "::127.0.0.1",  # IPv4-compatible
    "::ffff:0:127.0.0.1",  # IPv4-translated
    "::ffff:127.0.0.1",  # IPv4-mapped
]


@pytest.mark.parametrize("address", EMBEDDED_LOOPBACK)
def test_ipv6_forms_of_a_loopback_address_are_refused_before_connecting(address: str) -> None:
    with Listener("127.0.0.1") as listener:
        url = f"http://[{address}]:{listener.port}/news"
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", url), POLICY)
        assert refused.value.reason == "ssrf_refused"
        assert not listener.connected()


@pytest.mark.parametrize(
    "address",
    [
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "64:ff9b::c0a8:101",  # NAT64 of 192.168.1.1
        "64:ff9b:1::808:808",  # local-use NAT64: whatever its network maps it to
        "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
        "2002:808:808::1",  # 6to4, even of a public address
        "::a9fe:a9fe",  # IPv4-compatible
        "::808:808",
        "::ffff:0:a9fe:a9fe",  # IPv4-translated
        "fec0::1",  # site-local
        "2001::1",  # Teredo
        "2001:0:4136:e378:8000:63bf:3fff:fdd2",
    ],
)
def test_nat64_6to4_teredo_site_local_and_ipv4_embedding_ranges_are_refused(address: str) -> None:
    with pytest.raises(FetchError) as refused:
        check_url(f"http://[{address}]/latest/meta-data/", ())
    assert refused.value.reason == "ssrf_refused"


def test_nat64_of_a_public_address_is_permitted_as_a_dns64_network_needs() -> None:
    assert AddressGuard().permits("64:ff9b::808:808", 443)
    assert AddressGuard().permits("::ffff:8.8.8.8", 443)


def test_a_bare_allow_list_entry_opens_only_ports_80_and_443() -> None:
    guard = AddressGuard(["127.0.0.1", "intranet.test", "10.0.0.0/8"])
    for port in (80, 443):
        assert guard.permits("127.0.0.1", port) and guard.permits("10.1.2.3", port)
    for port in (22, 6379, 8080):
        assert not guard.permits("127.0.0.1", port) and not guard.permits("10.1.2.3", port)
    with Site() as site:
        site.static("/admin", b"<p>internal</p>")
        policy = FetchPolicy(**{**POLICY.__dict__, "allow": ("127.0.0.1",)})
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", site.url("/admin")), policy)
        assert refused.value.reason == "ssrf_refused"
        assert f"127.0.0.1:{site.port}" in refused.value.message
        assert site.hits("/admin") == 0


def test_an_allow_list_entry_with_a_port_opens_that_port_only() -> None:
    with Site() as site, Listener("127.0.0.1") as other:
        site.static("/p", b"<p>listed</p>")
        policy = FetchPolicy(**{**POLICY.__dict__, "allow": (f"127.0.0.1:{site.port}",)})
        assert fetch_url(Source("url", site.url("/p")), policy).body == b"<p>listed</p>"
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", other.url("/p")), policy)
        assert refused.value.reason == "ssrf_refused"
        assert not other.connected()
    check_url("http://[::1]:8080/", ("[::1]:8080",))
    check_url("http://10.1.2.3:8080/", ("10.0.0.0/8:8080",))
    check_url("http://[fd00::1]:9000/", ("[fd00::/8]:*",))
    for url, allow in (
        ("http://[::1]:8081/", "[::1]:8080"),
        ("http://10.1.2.3:8081/", "10.0.0.0/8:8080"),
        ("http://localhost:8080/", "localhost"),
    ):
        with pytest.raises(FetchError) as refused:
            check_url(url, (allow,))
        assert refused.value.reason == "ssrf_refused", url


@pytest.mark.parametrize("target", ["localhost", "127.0.0.1"])
def test_a_public_page_cannot_redirect_to_a_bare_listed_host_on_another_port(
    target: str,
) -> None:
    """127.0.0.2 stands for a public site; 127.0.0.1 is listed bare (its web ports only)."""
    with Site("127.0.0.2") as site, Listener("127.0.0.1") as listener:
        site.redirect("/r", f"http://{target}:{listener.port}/admin")
        allow = (f"127.0.0.2:{site.port}", "127.0.0.1", "localhost")
        policy = FetchPolicy(**{**POLICY.__dict__, "allow": allow})
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", site.url("/r")), policy)
        assert refused.value.reason == "ssrf_refused"
        assert site.hits("/r") == 1
        assert not listener.connected()


@pytest.mark.parametrize("entry", ["127.0.0.1:0", "127.0.0.1:http", "[::1", "[::1]8080", "a/b"])
def test_a_malformed_allow_list_entry_is_an_error_that_names_it(entry: str) -> None:
    with pytest.raises(ValueError, match="fetch_allow entry"):
        AddressGuard([entry])


# ---- size and decompression limits -----------------------------------------------------------


@pytest.fixture
def allowed() -> FetchPolicy:
    return FetchPolicy(**{**POLICY.__dict__, "allow": ("127.0.0.1:*",)})


def test_a_body_over_the_wire_cap_is_refused(allowed: FetchPolicy) -> None:
    with Site() as site:
        site.static("/big", b"<p>" + b"a" * 300_000 + b"</p>")
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", site.url("/big")), allowed)
        assert refused.value.reason == "too_large"


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "gzip, gzip"])
def test_compression_bombs_stop_at_the_decompressed_cap(
    allowed: FetchPolicy, encoding: str
) -> None:
    payload = b"<p>" + b"\0" * 50_000_000
    body = zlib.compress(payload, 9) if encoding == "deflate" else gzip.compress(payload, 9)
    if encoding == "gzip, gzip":
        body = gzip.compress(body, 9)
    assert len(body) < allowed.max_bytes
    with Site() as site:
        site.static("/bomb", body, headers={"Content-Encoding": encoding})
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", site.url("/bomb")), allowed)
        assert refused.value.reason == "too_large"


def test_more_than_two_stacked_encodings_are_refused(allowed: FetchPolicy) -> None:
    with Site() as site:
        body = gzip.compress(gzip.compress(gzip.compress(b"<p>hi</p>")))
        site.static("/stacked", body, headers={"Content-Encoding": "gzip, gzip, gzip"})
        with pytest.raises(FetchError) as refused:
            fetch_url(Source("url", site.url("/stacked")), allowed)
        assert refused.value.reason == "unsupported_encoding"


def test_a_file_over_the_file_cap_is_refused_without_reading_it(tmp_path: Path) -> None:
    big = tmp_path / "big.html"
    with big.open("wb") as fh:
        fh.truncate(50_000_000)  # sparse: the cap must be checked before reading
    with pytest.raises(SourceError) as refused:
        read_file(Source("file", str(big)), 1_000_000)
    assert refused.value.reason == "too_large"


# ---- Redis in compose ---------------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((REPO / "compose.yaml").read_text())
    return loaded


def test_compose_redis_requires_a_password_from_the_environment() -> None:
    redis_service = _compose()["services"]["redis"]
    command = redis_service["command"]
    args = command if isinstance(command, list) else str(command).split()
    assert "--requirepass" in args
    password = args[args.index("--requirepass") + 1]
    assert password.startswith("${REDIS_PASSWORD") and password.endswith("}")
    assert ":?" in password, "compose must refuse to start without REDIS_PASSWORD"


def test_compose_redis_publishes_no_port() -> None:
    redis_service = _compose()["services"]["redis"]
    assert not redis_service.get("ports")
    assert redis_service.get("network_mode") != "host"


def test_compose_services_reach_redis_with_the_password() -> None:
    services = _compose()["services"]
    for name, service in services.items():
        env = service.get("environment") or {}
        url = env.get("REDIS_URL") if isinstance(env, dict) else None
        if url is not None:
            assert "${REDIS_PASSWORD" in url and "@redis:" in url, name


# ---- refusing an open Redis -----------------------------------------------------------------


def test_an_open_redis_on_a_network_address_is_refused() -> None:
    address = own_address() or "192.0.2.2"
    message = check_redis_url(f"redis://{address}:6379/0")
    assert message is not None
    assert "password" in message and "NEWSINGEST_ALLOW_INSECURE_REDIS" in message


def test_a_name_resolving_to_a_network_address_is_refused_by_resolution_alone() -> None:
    calls: list[tuple[Any, ...]] = []

    def resolve(host: str, port: int, **kwargs: Any) -> list[tuple[Any, ...]]:
        calls.append((host, port))
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("10.1.2.3", port))]

    assert check_redis_url("redis://redis.internal:6380/1", resolve=resolve) is not None
    assert calls == [("redis.internal", 6380)]


@pytest.mark.parametrize(
    "url",
    [
        "redis://127.0.0.1:6379/0",
        "redis://localhost:6379/0",
        "redis://[::1]:6379/0",
        "unix:///run/redis.sock",
        "redis://:s3cret@10.1.2.3:6379/0",
        "redis://user:s3cret@10.1.2.3:6379/0",
        "rediss://:s3cret@10.1.2.3:6379/0",
        "redis://10.1.2.3:6379/0?password=s3cret",
    ],
)
def test_loopback_sockets_and_urls_with_a_password_are_accepted(url: str) -> None:
    assert check_redis_url(url) is None


def test_a_host_that_does_not_resolve_is_left_to_the_connection_error() -> None:
    def resolve(*args: Any, **kwargs: Any) -> list[tuple[Any, ...]]:
        raise socket.gaierror("no such name")

    assert check_redis_url("redis://nowhere.invalid:6379/0", resolve=resolve) is None


@pytest.mark.parametrize("command", [["worker", "--queue", "ingest"], ["beat"], ["run"]])
def test_the_service_refuses_to_start_on_an_open_redis_unless_told_to(
    settings_env: dict[str, str], command: list[str]
) -> None:
    address = own_address()
    if address is None:
        pytest.skip("this machine has no non-loopback address")
    # Nothing listens there: had the check connected first, it would fail differently.
    env = dict(settings_env, REDIS_URL=f"redis://{address}:{free_port()}/0")
    refused = run_cli(env, *command, timeout=60)
    assert refused.returncode != 0
    assert "without a password" in refused.stderr + refused.stdout


# ---- logs ---------------------------------------------------------------------------------------


def test_worker_logs_hold_neither_the_redis_password_nor_article_text(
    tmp_path: Path, packages_dir: Path
) -> None:
    password = "pw-" + uuid.uuid4().hex
    with EmbeddedRedis(tmp_path / "redis") as server:
        client = redis.Redis.from_url(server.url)
        client.config_set("requirepass", password)
        url = f"redis://:{password}@127.0.0.1:{server.port}/0"
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSINGEST_")}
        env.update(
            REDIS_URL=url,
            NEWSINGEST_KEY_PREFIX="sec",
            NEWSINGEST_DATA_DIR=str(tmp_path / "data"),
            NEWSINGEST_PACKAGES_DIR=str(packages_dir),
            NEWSINGEST_MODELS_DIR="",
        )
        authed = redis.Redis.from_url(url)
        article = SEEDS / "002_7cd7f66acb43cbd0.txt"
        missing = tmp_path / "missing.html"
        worker = Worker(env, tmp_path / "worker.log").start()
        try:
            out = run_cli(env, "submit", str(article))
            assert out.returncode == 0, out.stderr
            subprocess.run(
                [sys.executable, "-c",
                 "import sys;"
                 " from service.settings import load_settings; from workers.app import make_app;"
                 " app = make_app(load_settings()); app.send_task('newsingest.ingest', "
                 "args=[{'kind': 'file', 'location': sys.argv[1]}], queue='ingest')",
                 str(missing)],
                cwd=REPO, env=env, check=True, timeout=60,
            )  # fmt: skip
            wait_for(lambda: authed.xlen("sec:documents") == 1, "the document")
            wait_for(lambda: authed.xlen("sec:dead") == 1, "the dead letter")
            wait_for(lambda: b'"stage": "publish"' in worker.log.read_bytes(), "the log line")
        finally:
            worker.stop()
            authed.close()
            client.close()
    log = worker.log.read_text()
    assert password not in log
    assert password not in out.stdout + out.stderr
    text = article.read_text(encoding="utf-8")
    sentences = [s.strip() for s in text.replace("\n", " ").split(". ") if len(s.strip()) > 40]
    assert sentences
    leaked = [s for s in sentences if s[:60] in log]
    assert not leaked, leaked


def test_allow_insecure_redis_is_off_by_default_and_can_be_switched_on() -> None:
    from service.settings import load_settings

    assert load_settings({}).allow_insecure_redis is False
    assert load_settings({"NEWSINGEST_ALLOW_INSECURE_REDIS": "true"}).allow_insecure_redis is True
