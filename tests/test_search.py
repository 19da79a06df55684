"""Hybrid search over hand-made records (real sentences) with the deterministic HashEmbedder, plus fusion and
query-term tables and, marked `model`, ranking checks with the real model on the corpus."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from policykb.embed import HashEmbedder
from policykb.errors import IndexError_, PolicyKBError, QueryError
from policykb.indexer import build_index, open_index
from policykb.keyword_index import COMMON_TERM_MIN_DOCS, KeywordIndex
from policykb.search import SearchEngine, convex_fuse, rrf_fuse
from policykb.settings import Settings
from test_store import sample_corpus


@pytest.fixture(scope="module")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return Settings.load(
        model="hash",
        index_dir=str(tmp_path_factory.mktemp("indexes")),
        max_query_chars=200,
        candidates=100,
        fusion_k=60,
        dense_weight=1.0,
        keyword_weight=1.0,
        fusion="convex",
        dense_share=0.6,
        common_term_share=1.0,
    )


def _milvus_backend(store: Any, manifest: Any, settings: Settings) -> Any:
    """The same build mirrored into a Milvus Lite collection (skipped without the `scale` extra)."""
    pytest.importorskip("pymilvus")
    from policykb.milvus_backend import MilvusBackend, MilvusIndex, sync

    index = MilvusIndex(str(settings.index_path / "milvus.db"), "search_test", manifest.dimension)
    sync(index, settings.index_path, store, manifest, HashEmbedder())
    return MilvusBackend(index, store)


@pytest.fixture(scope="module", params=["local", "milvus"])
def engine(settings: Settings, request: pytest.FixtureRequest) -> SearchEngine:
    """The golden search tests run on both backends: same store, same fusion, rankings from faiss/bm25s or Milvus."""
    build_index(sample_corpus(), settings.index_path, HashEmbedder(), settings)
    store, keyword_index, vector_index, manifest = open_index(settings.index_path, settings)
    backend = _milvus_backend(store, manifest, settings) if request.param == "milvus" else None
    engine = SearchEngine(store, keyword_index, vector_index, HashEmbedder(), settings, manifest, backend=backend)
    yield engine
    engine.close()


def ids(hits: list) -> list[str]:
    return [h.clause.clause_id for h in hits]


@pytest.mark.parametrize(
    ("rankings", "expected"),
    [
        # one ranking: 1/(60+1), 1/(60+2)
        ([([7, 3], 1.0)], [(7, 1 / 61), (3, 1 / 62)]),
        # agreement adds up; an id ranked by both beats ids ranked once
        ([([7, 3], 1.0), ([3, 9], 1.0)], [(3, 1 / 62 + 1 / 61), (7, 1 / 61), (9, 1 / 62)]),
        # equal fused scores: the lower id first
        ([([5], 1.0), ([2], 1.0)], [(2, 1 / 61), (5, 1 / 61)]),
        # weights scale a ranking's votes
        ([([5], 1.0), ([2], 2.0)], [(2, 2 / 61), (5, 1 / 61)]),
        # should not rank anything: no candidates
        ([([], 1.0)], []),
    ],
)
def test_rrf_fuse(rankings: list, expected: list) -> None:
    fused = rrf_fuse([(np.array(r, dtype=np.int64), w) for r, w in rankings], fusion_k=60)
    assert [i for i, _ in fused] == [i for i, _ in expected]
    np.testing.assert_allclose([s for _, s in fused], [s for _, s in expected])


@pytest.mark.parametrize(
    ("dense", "keyword", "share", "expected"),
    [
        # cosines scale to 1, .5, 0 and BM25 to 0, .5, 1 (of 10): 0.6·cos + 0.4·bm25
        ({1: 0.90, 2: 0.80, 3: 0.70}, {3: 10.0, 2: 5.0}, 0.6, [(1, 0.6), (2, 0.5), (3, 0.4)]),
        # BM25's only clause, a close second on cosine, beats the cosine leader that BM25 never found
        ({1: 0.90, 2: 0.88, 3: 0.80}, {2: 8.0}, 0.6, [(2, 0.88), (1, 0.6), (3, 0.0)]),
        # no dense ranking (empty vector index): BM25 over its best, whatever the share
        ({}, {5: 4.0, 2: 2.0}, 0.6, [(5, 1.0), (2, 0.5)]),
        # equal cosines all scale to 1; equal fused scores go lower id first
        ({7: 0.8, 3: 0.8}, {}, 0.6, [(3, 0.6), (7, 0.6)]),
        # share 1: the cosine order alone; share 0: the BM25 order alone (clauses without a BM25 score tie at 0)
        ({1: 0.5, 2: 0.9, 3: 0.7}, {1: 3.0}, 1.0, [(2, 1.0), (3, 0.5), (1, 0.0)]),
        ({1: 0.5, 2: 0.9, 3: 0.7}, {1: 3.0}, 0.0, [(1, 1.0), (2, 0.0), (3, 0.0)]),
        # should not rank anything: no candidates
        ({}, {}, 0.6, []),
    ],
)
def test_convex_fuse(dense: dict, keyword: dict, share: float, expected: list) -> None:
    fused = convex_fuse(dense, keyword, share)
    assert [i for i, _ in fused] == [i for i, _ in expected]
    np.testing.assert_allclose([s for _, s in fused], [s for _, s in expected], atol=1e-12)


# A one-theme collection: 24 of 73 clauses carry 示范性学区和集团, one says how often the title is re-checked.
TOPICS = [
    "联合教研每学期不少于5次", "每校至少有1门共享课程", "骨干教师不低于30%", "流动期限不少于3年",
    "满意度不低于90%", "校际差异率低于0.15", "成员校原则上保持稳定", "形成分年度创建计划", "给予相应的激励",
    "减少进校检查", "开设专栏集中报道", "加强教师流动过程管理", "统筹师资配置", "试点特色项目学生联合培养",
    "建立定期视导制度", "研制评估标准", "新教师统一见习培养", "强化文化育人", "安排专项经费", "优化评价方式",
    "加强统筹协调", "推进小组健全管理体系", "开展教学质量综合评价", "取消相关资质或命名",
]  # fmt: skip
ONE_THEME = (
    [f"市示范性学区和集团{t}。" for t in TOPICS]
    + [f"各区{t}。" for t in TOPICS]
    + [f"各校{t}。" for t in TOPICS]
    + ["建立复核机制,3-5年内开展一次复核。"]
)
RECHECK = len(ONE_THEME) - 1


@pytest.fixture(scope="module")
def one_theme() -> KeywordIndex:
    return KeywordIndex.build(ONE_THEME)


def terms(index: KeywordIndex, token_ids: list[int]) -> list[str]:
    by_id = {i: t for t, i in index._bm25.vocab_dict.items()}
    return [by_id[i] for i in token_ids]


@pytest.mark.parametrize(
    ("query", "share", "expected"),
    [
        # the theme's words and bigrams (in 24 > max(8% of 73, 20) clauses) are dropped, the rare word stays
        ("示范性学区和集团的复核周期", 0.08, ["复核"]),
        # 1.0 keeps every term the index knows
        (
            "示范性学区和集团的复核周期",
            1.0,
            ["示范性", "学区", "集团", "复核", "示范", "范性", "性学", "区和", "和集"],
        ),
        # a query made only of common terms keeps them all rather than searching with nothing
        ("示范性学区和集团", 0.08, ["示范性", "学区", "集团", "示范", "范性", "性学", "区和", "和集"]),
        # words in 2 or 3 clauses are nowhere near common
        ("骨干教师流动期限", 0.08, ["骨干教师", "流动", "期限", "骨干", "干教", "教师", "师流", "动期"]),
    ],
)
def test_keyword_query_drops_terms_common_to_the_collection(
    one_theme: KeywordIndex, query: str, share: float, expected: list[str]
) -> None:
    assert terms(one_theme, one_theme.query_token_ids(query, share)) == expected


def test_keyword_search_lets_the_rare_word_decide(one_theme: KeywordIndex) -> None:
    query = "示范性学区和集团的复核周期"
    ids, _ = one_theme.search(query, 3, common_share=0.08)
    assert ids.tolist() == [RECHECK]
    # regression: with every term kept, 24 clauses sharing the theme outvote the one that answers
    ids, _ = one_theme.search(query, 3, common_share=1.0)
    assert RECHECK not in ids.tolist()


def test_keyword_small_index_keeps_every_term() -> None:
    # below COMMON_TERM_MIN_DOCS clauses, every shared word would look "common"
    small = KeywordIndex.build(ONE_THEME[: COMMON_TERM_MIN_DOCS - 1] + [ONE_THEME[RECHECK]])
    assert terms(small, small.query_token_ids("示范性学区和集团的复核周期", 0.08)) == [
        "示范性", "学区", "集团", "复核", "示范", "范性", "性学", "区和", "和集",
    ]  # fmt: skip


def test_keyword_document_frequencies(one_theme: KeywordIndex) -> None:
    vocab = one_theme._bm25.vocab_dict
    token_ids = [vocab["集团"], vocab["复核"], vocab["骨干教师"]]
    assert one_theme.document_frequencies(token_ids).tolist() == [24, 1, 3]


@pytest.mark.parametrize("mode", ["hybrid", "keyword"])
def test_search_finds_exact_policy_term_first(engine: SearchEngine, mode: str) -> None:
    hits = engine.search("县管校聘", k=3, mode=mode)
    assert ids(hits)[:2] == ["zhenjiang-2019/三.(二)#1", "linping-2023/三.(一)#1"]


def test_search_traditional_query_finds_what_its_simplified_twin_finds(engine: SearchEngine) -> None:
    for simplified, traditional in [
        ("县管校聘", "縣管校聘"),
        ("联合教研每学期几次", "聯合教研每學期幾次"),
        ("教师交流轮岗比例", "教師交流輪崗比例"),
    ]:
        a, b = engine.search(simplified, k=10), engine.search(traditional, k=10)
        assert ids(a) == ids(b)
        assert [h.score for h in a] == [h.score for h in b]


def test_search_query_punctuation_as_typed_does_not_matter(engine: SearchEngine) -> None:
    """The cleaned text writes `，：（）`; a query typed with ASCII, full-width or mixed marks finds the same clauses."""
    for ascii_marks, full_width in [
        ("教师交流,轮岗比例", "教师交流，轮岗比例"),
        ("(一)健全组织:统筹协调", "（一）健全组织：统筹协调"),
        ("拓展性课程课时比例:15%", "拓展性课程课时比例：１５％"),
        ("县管校聘!", "县管校聘！"),
    ]:
        for mode in ("hybrid", "keyword"):
            a, b = engine.search(ascii_marks, k=10, mode=mode), engine.search(full_width, k=10, mode=mode)
            assert ids(a) == ids(b) and ids(a)
            assert [h.score for h in a] == [h.score for h in b]


def test_search_hits_carry_region_name_section_and_requirements(engine: SearchEngine) -> None:
    hit = engine.search("一至六年级拓展性课程课时比例", k=1)[0]
    assert hit.clause.clause_id == "linping-2023/三.(二)#1"
    assert hit.region == "临平区"
    assert hit.clause.section == ["三、主要举措", "(二)深化课程改革"]
    assert [(r.span, r.comparator, r.value, r.unit, r.period) for r in hit.requirements] == [
        ("一至六年级15%左右", "~", 15.0, "%", "每学年")
    ]
    out = hit.to_dict()
    assert {"clause_id", "doc_id", "region_id", "region", "section", "text", "score", "requirements"} <= set(
        out
    )
    assert out["requirements"][0]["value"] == 15.0


def test_search_reports_both_rankers_scores(engine: SearchEngine) -> None:
    hits = engine.search("县管校聘", k=10)
    # every hit gets a cosine, even those only BM25 found; BM25 scores only where BM25 ranked the clause
    assert all(h.dense_score is not None and -1.0 <= h.dense_score <= 1.0001 for h in hits)
    assert hits[0].keyword_score is not None and hits[0].keyword_score > 0
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)


@pytest.mark.parametrize(
    ("query", "filters", "expected"),
    [
        # region filter: 县管校聘 in Linping is its 区管校聘 clause
        ("县管校聘", {"region_ids": ["linping"]}, ["linping-2023/三.(一)#1"]),
        # several regions
        (
            "骨干教师占比",
            {"region_ids": ["hongkou", "shanghai"]},
            ["hongkou-2025/一#1", "shanghai-2023-15/二.(二).1#1"],
        ),
        # one document
        (
            "职称晋升优先",
            {"doc_id": "zhenjiang-2019"},
            ["zhenjiang-2019/三.(二)#2", "zhenjiang-2019/三.(二)#1"],
        ),
        # only clauses with a requirement: the 县管校聘 clause has none, its neighbour does
        (
            "县管校聘 集团内教师",
            {"has_requirement": True, "region_ids": ["zhenjiang"]},
            ["zhenjiang-2019/三.(二)#2"],
        ),
        # should not match: a statistic is not a requirement; a region without documents
        ("教育集团", {"has_requirement": True, "region_ids": ["haidian"]}, []),
        ("教育集团", {"region_ids": ["shenzhen"]}, []),
    ],
)
def test_search_filters(engine: SearchEngine, query: str, filters: dict, expected: list[str]) -> None:
    hits = engine.search(query, k=len(expected) or 5, **filters)
    assert ids(hits)[: len(expected)] == expected
    if filters.get("region_ids"):
        assert {h.clause.region_id for h in hits} <= set(filters["region_ids"])
    if filters.get("has_requirement"):
        assert all(any(r.kind == "requirement" for r in h.requirements) for h in hits)


def test_search_returns_body_clauses_only(engine: SearchEngine) -> None:
    # "主要任务" is a heading's whole text; headings and signatures are context, never hits
    hits = engine.search("主要任务 上海市教育委员会", k=20)
    assert hits and all(h.clause.role == "body" for h in hits)


def test_search_is_deterministic(engine: SearchEngine) -> None:
    first = [(h.clause.clause_id, h.score) for h in engine.search("教师交流", k=10)]
    for _ in range(3):
        assert [(h.clause.clause_id, h.score) for h in engine.search("教师交流", k=10)] == first


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("", "query is empty: type what you are looking for, e.g. 教师交流轮岗比例"),
        ("  \u3000 ", "query is empty: type what you are looking for, e.g. 教师交流轮岗比例"),
        ("教" * 201, "query is too long: 201 characters, the limit is 200"),
    ],
)
def test_search_rejects_unusable_queries(engine: SearchEngine, query: str, message: str) -> None:
    with pytest.raises(QueryError) as err:
        engine.search(query)
    assert str(err.value) == message


def test_search_accepts_a_query_at_the_limit(engine: SearchEngine) -> None:
    assert engine.search("教" * 200, k=1)


def test_search_rejects_an_unknown_mode(engine: SearchEngine) -> None:
    with pytest.raises(QueryError, match="unknown search mode 'fuzzy': choose one of hybrid, dense, keyword"):
        engine.search("县管校聘", mode="fuzzy")


def test_search_loads_the_model_only_when_a_query_needs_it(engine: SearchEngine) -> None:
    calls: list[int] = []

    def factory() -> HashEmbedder:
        calls.append(1)
        return HashEmbedder()

    lazy = SearchEngine(
        engine.store, engine.keyword_index, engine.vector_index, factory, engine.settings, engine.manifest
    )
    lazy.search("县管校聘", mode="keyword")
    assert calls == []
    assert ids(lazy.search("县管校聘", k=2)) == ids(engine.search("县管校聘", k=2))
    lazy.search("教师")
    assert calls == [1]


def test_search_refuses_a_model_other_than_the_index_was_built_with(engine: SearchEngine) -> None:
    other = SearchEngine(
        engine.store,
        engine.keyword_index,
        engine.vector_index,
        lambda: HashEmbedder(32),
        engine.settings,
        engine.manifest,
    )
    with pytest.raises(IndexError_) as err:
        other.search("县管校聘")
    assert str(err.value) == (
        "the index was built with the model hash-64 (64 dimensions) but the settings load hash-32 (32 dimensions): "
        "rebuild the index with `policykb ingest`, or set POLICYKB_MODEL back to hash"
    )


def test_search_warm_up_prepares_everything(engine: SearchEngine) -> None:
    engine.warm_up()
    assert engine._facets is not None and engine._embedder is not None
    # The local backend warms bm25s (numba's JIT); Milvus keeps its own index warm.
    assert engine.keyword_index._warm == (engine.backend.name == "local")


def test_search_engine_dense_mode_ranks_by_cosine(engine: SearchEngine, settings: Settings) -> None:
    hits = engine.search("县管校聘", k=5, mode="dense")
    assert [h.score for h in hits] == [h.dense_score for h in hits]
    query = HashEmbedder().encode_queries(["县管校聘"])[0]
    texts = [h.clause.text for h in hits]
    np.testing.assert_allclose(
        [h.score for h in hits], HashEmbedder().encode_passages(texts) @ query, rtol=1e-5
    )


def test_search_works_on_a_store_path_in_another_thread(engine: SearchEngine) -> None:
    import threading

    out: list[list[str]] = []
    thread = threading.Thread(target=lambda: out.append(ids(engine.search("县管校聘", k=2))))
    thread.start()
    thread.join()
    assert out == [ids(engine.search("县管校聘", k=2))]


def test_search_engine_on_empty_corpus(tmp_path: Path) -> None:
    settings = Settings.load(model="hash", index_dir=str(tmp_path))
    build_index([], tmp_path, HashEmbedder(), settings)
    store, keyword_index, vector_index, manifest = open_index(tmp_path, settings)
    engine = SearchEngine(store, keyword_index, vector_index, HashEmbedder(), settings, manifest)
    assert engine.search("县管校聘") == []
    engine.close()


def test_search_hybrid_scores_are_convex_fusion_in_unit_range(engine: SearchEngine) -> None:
    hits = engine.search("骨干教师交流轮岗比例", k=10)
    assert hits and all(0.0 <= h.score <= 1.0 for h in hits)
    assert all(h.dense_score is not None for h in hits)


def test_search_rrf_fusion_is_still_available(engine: SearchEngine, settings: Settings) -> None:
    rrf = SearchEngine(
        engine.store,
        engine.keyword_index,
        engine.vector_index,
        HashEmbedder(),
        Settings.load(**{**settings.values, "fusion": "rrf"}),
        engine.manifest,
    )
    hits = rrf.search("县管校聘", k=5)
    assert ids(hits)[:2] == ["zhenjiang-2019/三.(二)#1", "linping-2023/三.(一)#1"]
    # an RRF score is at most one first place from each ranker
    assert all(0.0 < h.score <= 2 / 61 for h in hits)


def test_search_refuses_an_unknown_fusion(engine: SearchEngine, settings: Settings) -> None:
    with pytest.raises(PolicyKBError) as err:
        SearchEngine(
            engine.store,
            engine.keyword_index,
            engine.vector_index,
            HashEmbedder(),
            Settings.load(**{**settings.values, "fusion": "borda"}),
        )
    assert str(err.value) == "unknown fusion 'borda': set POLICYKB_FUSION to one of convex, rrf"


# ----- the real model on the corpus ----------------------------------------------------------------------------

BENCH = Path(__file__).resolve().parents[1] / "bench"


def query_set(name: str) -> list[dict[str, Any]]:
    return tomllib.loads((BENCH / f"{name}.toml").read_text(encoding="utf-8"))["query"]


@pytest.mark.model
@pytest.mark.parametrize(
    ("query", "regions", "rank", "needle"),
    [
        # regression: within Hongkou the 30% clause came second behind a sentence merely mentioning 骨干
        ("骨干教师比例", ["hongkou"], 1, "骨干教师占比不低于30%"),
        ("骨干教师比例", ["shanghai"], 1, "骨干教师不低于30%"),
        # colloquial, no shared key term
        ("让老师上下班时间灵活一点减轻课后服务负担", None, 1, "弹性上下班"),
        # traditional script and its exact term
        ("縣管校聘", None, 1, "县管校聘"),
    ],
)
def test_search_real_model_puts_the_answer_near_the_top(
    real_kb_on: Any, query: str, regions: list[str] | None, rank: int, needle: str
) -> None:
    texts = [h.clause.text for h in real_kb_on.search(query, k=rank, region_ids=regions)]
    assert any(needle in t for t in texts), texts


@pytest.mark.model
def test_search_real_model_common_term_share_finds_the_rare_word(real_kb: Any) -> None:
    query, needle = "示范性学区和集团的复核周期", "3-5年内开展一次复核"
    engine = real_kb.engine()

    def top(common_term_share: float) -> list[str]:
        settings = Settings.load(**{**engine.settings.values, "common_term_share": common_term_share})
        tuned = SearchEngine(
            engine.store,
            engine.keyword_index,
            engine.vector_index,
            engine.embedder(),
            settings,
            engine.manifest,
        )
        return [h.clause.text for h in tuned.search(query, k=30)]

    def rank(common_term_share: float) -> int:
        texts = top(common_term_share)
        return next((i for i, t in enumerate(texts, 1) if needle in t), len(texts) + 1)

    # By default the clause is 16th with int8 vectors (10th with fp32), where 示范性学区和集团 and its bigrams
    # outvote the one rare word 复核 (the default keeps every term: dev queries showed no clear gain). Dropping
    # terms found in more than 8% of the clauses brings it to the second place on both backends.
    assert rank(0.08) <= 3
    assert rank(1.0) - rank(0.08) >= 5


@pytest.mark.model
def test_search_real_model_quality_on_dev_and_test_queries(real_kb_on: Any) -> None:
    """The same thresholds on both backends (conftest.real_kb_on): Milvus must keep the local recall."""
    sys.path.insert(0, str(BENCH))
    from run import retrieval_scores

    dev = {
        mode: retrieval_scores(real_kb_on, query_set("queries_dev"), mode)
        for mode in ("hybrid", "dense", "keyword")
    }
    # measured: hybrid r@10 1.000 MRR 0.969; dense 0.980 / 0.920; keyword 0.980 / 0.961
    assert dev["hybrid"]["recall@10"] >= max(dev["dense"]["recall@10"], dev["keyword"]["recall@10"])
    assert dev["hybrid"]["mrr"] >= 0.95
    test = retrieval_scores(real_kb_on, query_set("queries"), "hybrid")
    # measured: r@10 0.978, MRR 0.946 (the issue asks for 0.95 and 0.85)
    assert test["recall@10"] >= 0.97 and test["mrr"] >= 0.90


@pytest.mark.parametrize(
    ("query", "asks_for_amount"),
    [
        ("优质学校每年要派多少比例的教师到薄弱学校", True),
        ("集团内联合教研一个学期搞几次", True),
        ("交流轮岗的老师最少要待几年", True),
        ("初中学业水平考试合格率", True),
        ("骨干教师占比", True),
        # should not count: topics without an amount
        ("县管校聘", False),
        ("集团理事会制度和章程管理", False),
        ("新教师统一在牵头校见习培养", False),
        ("几乎所有学校", False),
    ],
)
def test_quantity_question_recognises_questions_about_amounts(query: str, asks_for_amount: bool) -> None:
    from policykb.search import QUANTITY_QUESTION

    assert bool(QUANTITY_QUESTION.search(query)) is asks_for_amount


def test_favour_numbers_lifts_clauses_that_set_a_number() -> None:
    from policykb.search import favour_numbers

    has_requirement = np.array([False, True, False, True])
    fused = [(0, 0.90), (1, 0.85), (2, 0.70), (3, 0.50)]
    got = favour_numbers(fused, has_requirement, 0.1)
    assert [rowid for rowid, _ in got] == [1, 0, 2, 3]
    assert [round(score, 3) for _, score in got] == [0.865, 0.81, 0.63, 0.55]
    assert favour_numbers(fused, has_requirement, 0.0) == fused


def test_expand_query_appends_the_policy_synonyms_of_its_words() -> None:
    from policykb.search import expand_query

    assert expand_query("集团考评机制") == "集团考评机制 学区 学区化 集团化 测评 考核 评价 评估 体系 制度 办法"
    assert expand_query("县管校聘") == "县管校聘"  # nothing listed: the query is unchanged


def test_diversify_lifts_the_best_hit_of_each_answering_region() -> None:
    from policykb.search import diversify

    region_of = np.array([0, 0, 0, 1, 2])
    fused = [(0, 1.0), (1, 0.9), (2, 0.8), (3, 0.7), (4, 0.2)]
    # region 1 scores 0.7 ≥ 0.5 of the best: its hit comes before region 0's second; region 2 (0.2) does not count
    assert diversify(fused, region_of, 3, quota=1, floor=0.5) == [(0, 1.0), (3, 0.7), (1, 0.9)]
    assert diversify(fused, region_of, 5, quota=1, floor=0.5) == [(0, 1.0), (3, 0.7), (1, 0.9), (2, 0.8), (4, 0.2)]
    assert diversify(fused, region_of, 3, quota=0, floor=0.5) == fused[:3]  # off
