from __future__ import annotations

import time
import uuid

from django.core.management.base import BaseCommand, CommandError

from supportops.accounts.services import workspace_create, workspace_delete_scratch
from supportops.knowledge.importing import ImportFileError, rows_index_now
from supportops.knowledge.models import Article
from supportops.knowledge.search import MODES, search
from supportops.lib.commands import database_ready, percentile, print_json, read_jsonl


class Command(BaseCommand):
    help = "Index articles into a scratch workspace and measure retrieval for each search mode."

    def add_arguments(self, parser):
        parser.add_argument("--articles", required=True, help="JSONL {id, title, body, category?}")
        parser.add_argument("--queries", required=True, help="JSONL {query, article_id}")
        parser.add_argument("--k", type=int, default=5)
        parser.add_argument("--json", action="store_true", help="print one JSON object")
        parser.add_argument("--keep", action="store_true", help="keep the scratch workspace")

    def handle(self, *args, **opts):
        articles = read_jsonl(opts["articles"], ("title", "body"))
        queries = read_jsonl(opts["queries"], ("query", "article_id"))
        k = max(5, opts["k"])
        database_ready(self, opts)
        workspace = workspace_create(name=f"kb_eval {uuid.uuid4().hex[:8]}", is_scratch=True)
        try:
            try:
                rows_index_now(workspace=workspace, rows=articles, source_file=opts["articles"])
            except ImportFileError as exc:
                raise CommandError(str(exc)) from None
            ids = dict(Article.objects.filter(workspace=workspace).values_list("pk", "external_id"))
            result = {mode: self._run(workspace, queries, ids, mode, k) for mode in MODES}
        finally:
            if not opts["keep"]:
                workspace_delete_scratch(workspace=workspace)
        if opts["json"]:
            print_json(result, self.stdout)
        else:
            for mode, row in result.items():
                self.stdout.write(
                    f"{mode:8s} " + " ".join(f"{key}={value:.4g}" for key, value in row.items())
                )

    def _run(self, workspace, queries, ids, mode, k):
        from supportops.integrations.embeddings import embed_texts

        vectors = (
            embed_texts([q["query"] for q in queries])
            if mode != "keyword"
            else [None] * len(queries)
        )
        search(workspace=workspace, query="warm up", mode=mode, k=k)
        hits1 = hits5 = 0
        reciprocal = 0.0
        latencies = []
        for query, vector in zip(queries, vectors, strict=True):
            started = time.perf_counter()
            result = search(
                workspace=workspace,
                query=query["query"],
                mode=mode,
                k=k,
                query_vector=vector,
                load=False,
            )
            latencies.append((time.perf_counter() - started) * 1000)
            ranked = [ids[hit.article_id] for hit in result.hits]
            target = str(query["article_id"])
            if ranked[:1] == [target]:
                hits1 += 1
            if target in ranked[:5]:
                hits5 += 1
            if target in ranked:
                reciprocal += 1 / (ranked.index(target) + 1)
        n = len(queries) or 1
        return {
            "recall@1": hits1 / n,
            "recall@5": hits5 / n,
            "mrr": reciprocal / n,
            "p50_ms": percentile(latencies, 50),
            "p95_ms": percentile(latencies, 95),
            "n": len(queries),
        }
