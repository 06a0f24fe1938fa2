from __future__ import annotations

from supportops.knowledge.chunking import MAX_CHARS, chunk_markdown


def test_sections_follow_headings():
    body = "Intro line that is long enough to stand alone. " * 6 + (
        "\n\n## Refund timing\n\n"
        + "Refunds take five to ten working days. " * 8
        + "\n\n### Card refunds\n\n"
        + "Cards show the credit after settlement. " * 8
    )
    passages = chunk_markdown(body)
    headings = [p.heading for p in passages]
    assert headings == ["", "Refund timing", "Refund timing > Card refunds"]


def test_headings_inside_code_fences_are_text():
    passages = chunk_markdown("```\n# not a heading\n```\n\nAfter the code.")
    assert len(passages) == 1
    assert "# not a heading" in passages[0].text


def test_long_sections_are_split_under_the_model_window():
    body = "## Long\n\n" + " ".join(f"Sentence number {i} explains a detail." for i in range(300))
    passages = chunk_markdown(body)
    assert len(passages) > 5
    assert all(len(p.text) <= MAX_CHARS for p in passages)
    assert all(p.heading == "Long" for p in passages)


def test_a_run_on_line_without_sentences_is_cut():
    passages = chunk_markdown("x" * 5000)
    assert sum(len(p.text) for p in passages) == 5000
    assert all(len(p.text) <= MAX_CHARS for p in passages)


def test_empty_body_gives_no_passages():
    assert chunk_markdown("") == []
    assert chunk_markdown("## Only a heading\n") == []
