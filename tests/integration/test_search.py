"""Knowledge base search over HTTP, on SQLite (FTS5) and PostgreSQL (GIN full text)."""

from __future__ import annotations

from typing import Any

import pytest

from app.cli import main
from tests.conftest import ApiClient


def incident(api: ApiClient, **fields: Any) -> str:
    resp = api.post("/api/v1/incidents", json=fields)
    assert resp.status_code == 201, resp.json
    key: str = resp.json["key"]
    return key


@pytest.fixture
def corpus(api: ApiClient) -> dict[str, str]:
    return load_corpus(api)


@pytest.fixture
def committed_corpus(committed_api: ApiClient) -> dict[str, str]:
    """The same incidents, really committed, for the CLI's own connection."""
    return load_corpus(committed_api)


def load_corpus(api: ApiClient) -> dict[str, str]:
    one = incident(
        api,
        title="Checkout errors after config push",
        severity="SEV2",
        services=["checkout"],
        started_at="2026-03-01T10:00:00Z",
    )
    api.post(
        f"/api/v1/incidents/{one}/causes",
        json={
            "kind": "root_cause",
            "category": "config",
            "statement": "The flag defaults were unsafe",
        },
    )
    two = incident(
        api,
        title="Search cluster ran out of disk",
        severity="SEV1",
        services=["search"],
        started_at="2026-01-10T08:00:00Z",
    )
    api.post(
        f"/api/v1/incidents/{two}/causes",
        json={
            "kind": "root_cause",
            "category": "capacity",
            "statement": "Disk filled by unrotated logs",
        },
    )
    api.post(
        f"/api/v1/incidents/{two}/timeline",
        json={
            "at": "2026-01-10T08:05:00Z",
            "kind": "escalation",
            "text": "Paged storage about failing disks",
        },
    )
    api.patch(
        f"/api/v1/incidents/{two}/postmortem", json={"lessons": ["Disk alerts came too late"]}
    )
    three = incident(
        api,
        title="Payments latency",
        summary="Gateway timeouts while one disk was slow, flag off",
        severity="SEV3",
        services=["payments"],
        started_at="2026-02-01T00:00:00Z",
    )
    return {"checkout": one, "search": two, "payments": three}


def find(api: ApiClient, query: str) -> dict[str, Any]:
    resp = api.get(f"/api/v1/search?{query}")
    assert resp.status_code == 200, resp.json
    body: dict[str, Any] = resp.json
    return body


def test_shape_kinds_and_snippets(api: ApiClient, corpus: dict[str, str]) -> None:
    body = find(api, "q=disk")
    assert set(body) == {"total", "total_relation", "results"}
    assert body["total"] == 5 == len(body["results"]) and body["total_relation"] == "eq"
    assert all(set(r) == {"incident", "kind", "snippet", "rank"} for r in body["results"])
    kinds = sorted((r["incident"], r["kind"]) for r in body["results"])
    two, three = corpus["search"], corpus["payments"]
    assert kinds == sorted(
        [(two, "incident"), (two, "cause"), (two, "timeline"), (two, "lesson"), (three, "incident")]
    )
    for r in body["results"]:
        assert "<mark>" in r["snippet"] and r["snippet"].lower().count("<mark>disk") >= 1
    ranks = [r["rank"] for r in body["results"]]
    assert ranks == sorted(ranks, reverse=True) and ranks[-1] > 0


def test_stemming_all_words_and_ranking(api: ApiClient, corpus: dict[str, str]) -> None:
    failed = find(api, "q=failed")["results"]
    assert [(r["incident"], r["kind"]) for r in failed] == [(corpus["search"], "timeline")]
    both = find(api, "q=disk+logs")["results"]  # every word must match
    assert [(r["incident"], r["kind"]) for r in both] == [(corpus["search"], "cause")]
    # "flag": the short cause about flags outranks the long summary that mentions it once
    flag = find(api, "q=flag")["results"]
    assert [(r["incident"], r["kind"]) for r in flag] == [
        (corpus["checkout"], "cause"),
        (corpus["payments"], "incident"),
    ]


def test_filters(api: ApiClient, corpus: dict[str, str]) -> None:
    def keys(query: str) -> set[str]:
        return {r["incident"] for r in find(api, query)["results"]}

    assert keys("q=disk&service=payments") == {corpus["payments"]}
    assert keys("q=disk&severity=SEV1") == {corpus["search"]}
    assert keys("q=disk&category=capacity") == {corpus["search"]}
    assert keys("q=disk&category=config") == set()
    assert keys("q=disk&since=2026-01-15T00:00:00Z") == {corpus["payments"]}
    assert keys("q=disk&until=2026-01-15T00:00:00Z") == {corpus["search"]}
    page = find(api, "q=disk&limit=2&offset=1")
    assert page["total"] == 5 and len(page["results"]) == 2


def test_the_write_path_keeps_it_current(api: ApiClient, corpus: dict[str, str]) -> None:
    key = corpus["checkout"]
    assert find(api, "q=checkout")["total"] == 1
    api.patch(f"/api/v1/incidents/{key}", json={"title": "Basket errors after a config push"})
    assert find(api, "q=checkout")["total"] == 0
    assert [r["incident"] for r in find(api, "q=basket")["results"]] == [key]
    api.post(
        f"/api/v1/incidents/{key}/actions", json={"title": "Lint flag defaults", "type": "prevent"}
    )
    assert (key, "action") in {(r["incident"], r["kind"]) for r in find(api, "q=lint")["results"]}


def test_hostile_and_bad_queries(api: ApiClient, corpus: dict[str, str]) -> None:
    for q in ['"', "disk OR (", "NEAR(disk", "*", "disk:*", "'; drop table incidents"]:
        resp = api.get("/api/v1/search", query_string={"q": q})
        assert resp.status_code == 200, (q, resp.json)
    assert find(api, "q=%21%21%21") == {"total": 0, "total_relation": "eq", "results": []}
    assert api.get("/api/v1/search").status_code == 422
    assert api.get("/api/v1/search?q=").status_code == 422
    assert api.get("/api/v1/search?q=disk&severity=SEV9").status_code == 422
    bad = api.get("/api/v1/search?q=disk&since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z")
    assert bad.status_code == 422 and bad.json["errors"][0]["loc"] == ["query", "until"]


def test_cli(
    committed_corpus: dict[str, str],
    committed_database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("HINDSIGHT_DATABASE_URL", committed_database_url)
    monkeypatch.delenv("HINDSIGHT_REDIS_URL", raising=False)
    assert main(["search", "--reindex", "disk", "--severity", "SEV1"]) == 0
    out = capsys.readouterr().out
    assert "reindexed 3 incidents" in out and "4 of 4 matches" in out
    from app.search import query

    monkeypatch.setattr(query, "WINDOW", 2)  # past the window the count is "at least"
    assert main(["search", "disk", "--severity", "SEV1"]) == 0
    assert "2 of 2+ matches" in capsys.readouterr().out


def test_concurrent_writes_never_double_the_documents(
    api: ApiClient, corpus: dict[str, str]
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    key = corpus["search"]
    client = api.client.application.test_client()

    def edit(n: int) -> int:
        resp = client.patch(
            f"/api/v1/incidents/{key}",
            json={"summary": f"edit {n}"},
            headers={"Authorization": f"Bearer {api.token}"},
        )
        return int(resp.status_code)

    with ThreadPoolExecutor(max_workers=4) as pool:
        codes = list(pool.map(edit, range(8)))
    assert set(codes) <= {200, 409}
    results = find(api, "q=cluster")["results"]  # only the incident's own text says "cluster"
    assert [(r["incident"], r["kind"]) for r in results] == [(key, "incident")]
    assert find(api, "q=disk")["total"] == 5


def test_snippets_carry_no_raw_html_from_a_field(api: ApiClient) -> None:
    key = incident(
        api,
        title="Cache <script>alert(1)</script> stampede",
        severity="SEV3",
        summary='Stampede & <img src=x onerror="alert(2)"> <mark>fake</mark> tags.',
    )
    results = find(api, "q=stampede")["results"]
    assert results and all(r["incident"] == key for r in results)
    for r in results:
        s = r["snippet"]
        assert "<script" not in s and "<img" not in s and "<mark>fake" not in s
        assert s.replace("<mark>", "").replace("</mark>", "").count("<") == 0
        assert "<mark>stampede</mark>" in s.lower()
    # PostgreSQL's ts_headline drops what it parses as tags; SQLite keeps them, escaped.
    assert "Stampede</mark> &amp; " in " ".join(r["snippet"] for r in results)


def test_past_the_window_the_total_is_a_lower_bound(
    api: ApiClient, corpus: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Five documents say "disk": a window of 3 counts and ranks only the first 3 found."""
    from app.search import query

    monkeypatch.setattr(query, "WINDOW", 3)
    every = {(corpus["search"], k) for k in ("incident", "cause", "timeline", "lesson")}
    every.add((corpus["payments"], "incident"))
    body = find(api, "q=disk")
    assert body["total"] == 3 and body["total_relation"] == "gte"
    got = [(r["incident"], r["kind"]) for r in body["results"]]
    assert len(got) == 3 == len(set(got)) and set(got) <= every  # real matches, no repeats
    ranks = [r["rank"] for r in body["results"]]
    assert ranks == sorted(ranks, reverse=True)
    # pages end at the window, whatever the offset; the bound is still reported
    rest = find(api, "q=disk&limit=2&offset=2")
    assert [(r["incident"], r["kind"]) for r in rest["results"]] == got[2:]
    assert find(api, "q=disk&offset=3") == {"total": 3, "total_relation": "gte", "results": []}
    # exactly the window's size is exact; so is anything a filter brings within it
    monkeypatch.setattr(query, "WINDOW", 5)
    assert {k: v for k, v in find(api, "q=disk").items() if k != "results"} == {
        "total": 5,
        "total_relation": "eq",
    }
    monkeypatch.setattr(query, "WINDOW", 1)
    one = find(api, "q=disk&service=payments")
    assert one["total"] == 1 and one["total_relation"] == "eq"
    assert [r["incident"] for r in one["results"]] == [corpus["payments"]]
    none = find(api, "q=disk&category=config")
    assert none == {"total": 0, "total_relation": "eq", "results": []}


def test_filters_follow_later_writes(api: ApiClient, corpus: dict[str, str]) -> None:
    """The filters read the incident as it is now: a changed severity, service or new cause."""
    key = corpus["checkout"]
    assert find(api, "q=flag&severity=SEV1")["results"] == []
    resp = api.patch(f"/api/v1/incidents/{key}", json={"severity": "SEV1", "services": ["edge"]})
    assert resp.status_code == 200, resp.json
    assert {r["incident"] for r in find(api, "q=flag&severity=SEV1")["results"]} == {key}
    assert {r["incident"] for r in find(api, "q=flag&service=edge")["results"]} == {key}
    assert find(api, "q=flag&service=checkout")["results"] == []
    resp = api.post(
        f"/api/v1/incidents/{key}/causes",
        json={"kind": "contributing_factor", "category": "testing", "statement": "No flag test"},
    )
    assert resp.status_code == 201, resp.json
    testing = find(api, "q=flag&category=testing")["results"]
    # both causes: the category belongs to the incident, every one of its documents has it
    assert sorted((r["incident"], r["kind"]) for r in testing) == [(key, "cause"), (key, "cause")]
