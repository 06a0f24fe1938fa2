"""The public help-centre page of one published article: where the bot's sources link to."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from .models import Article
from .rendering import render_markdown


def help_article(request: HttpRequest, public_key: str, pk: int) -> HttpResponse:
    article = (
        Article.objects.select_related("workspace", "category")
        .filter(
            workspace__public_key=public_key,
            workspace__is_scratch=False,
            pk=pk,
            status=Article.Status.PUBLISHED,
        )
        .first()
    )
    if article is None:
        raise Http404("No such published article.")
    return render(
        request,
        "knowledge/public_article.html",
        {"article": article, "body_html": render_markdown(article.body)},
    )
