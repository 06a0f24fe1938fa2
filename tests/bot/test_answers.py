"""The extractive answer: which passage is quoted, and how help-centre Markdown reads in a
chat bubble."""

from __future__ import annotations

import pytest

from supportops.bot.answers import MAX_QUOTE_CHARS, compose, plain, quoted_passage
from supportops.knowledge.search import search

DELIVERY = """Delivery times depend on your country and the option you choose at checkout.
All times count working days, Monday to Friday, from the day the parcel leaves us.

| Option | Where | Delivery time | Cost |
|---|---|---|---|
| Standard | EU countries | 3–5 working days | 4.95 EUR |
| Express | EU countries | Next working day | 9.95 EUR |

## Busy periods

During big sales and in the weeks before the winter holidays, standard delivery can take one
or two working days longer than usual. A banner on the shop says so whenever we expect it,
and the dates shown at checkout already include the extra days.

## Bulky items

Family tents and other large items travel with the same service at the same price, but the
courier may ask for a signature. If nobody is at home they leave a card explaining how to
collect the parcel or choose another day."""

DAMAGED = """Sorry about that, here is how we put it right.

## Reporting damage

Report damage within 7 days of delivery: open the order in your account, choose Report a
problem, add photos of the outer box, the packaging and the item, and tell us whether you
would like a replacement or a refund. Keep everything until we reply.

## Missing parcels

If tracking says the parcel was delivered but nothing arrived, check with your neighbours
and around the door first, then tell us within 14 days and we will open an investigation with
the courier and send a replacement or a refund once it is done."""


@pytest.fixture
def articles(make_article):
    return {
        "delivery": make_article(title="How long does delivery take?", body=DELIVERY),
        "damaged": make_article(title="My parcel arrived damaged", body=DAMAGED),
    }


def best_hit(workspace, question: str):
    hits = search(workspace=workspace, query=question, k=3).hits
    assert hits
    return hits


@pytest.mark.django_db(transaction=True)
def test_a_question_asked_like_the_title_gets_the_opening_passage(workspace, articles):
    hits = best_hit(workspace, "How long does delivery take to Germany?")
    assert hits[0].article_id == articles["delivery"].pk
    assert hits[0].title_similarity > hits[0].passage_similarity

    reply, sources = compose(hits, workspace.public_key)

    assert "3–5 working days" in reply and "Busy periods" not in reply
    assert "• Standard – Where: EU countries; Delivery time: 3–5 working days" in reply
    assert "|" not in reply  # the table reads as lines, not pipes
    assert sources[0]["title"] == "How long does delivery take?"


@pytest.mark.django_db(transaction=True)
def test_a_short_opening_is_followed_by_the_section_that_matches(workspace, articles):
    hits = best_hit(workspace, "My parcel arrived damaged")
    assert hits[0].article_id == articles["damaged"].pk

    passage = quoted_passage(hits[0])

    assert passage.startswith("Sorry about that")
    assert "Report damage within 7 days" in passage
    assert "neighbours" not in passage


@pytest.mark.django_db(transaction=True)
def test_a_question_about_one_detail_gets_that_section(workspace, articles):
    hits = best_hit(workspace, "Do big sales slow down standard shipping?")
    assert hits[0].article_id == articles["delivery"].pk
    assert hits[0].passage_similarity >= hits[0].title_similarity

    assert quoted_passage(hits[0]).startswith("During big sales")


def test_tables_become_one_line_per_row_and_other_pipes_stay():
    text = plain(
        "Prices:\n\n| Size | Price |\n|:---|---:|\n| Small | **10 EUR** |\n| Large | |\n\n"
        "Choose one | or the other."
    )
    assert text == ("Prices:\n\n• Small – Price: 10 EUR\n• Large\n\nChoose one | or the other.")


@pytest.mark.django_db(transaction=True)
def test_a_long_passage_is_cut_after_a_whole_line_keeping_its_breaks(workspace, make_article):
    steps = "\n".join(
        f"{n}. Hold the button for {n} seconds, then let it go." for n in range(1, 17)
    )
    make_article(title="How do I reset my router?", body=f"## Steps\n\n{steps}")
    hits = best_hit(workspace, "How do I reset my router?")

    reply, _ = compose(hits, workspace.public_key)
    quote = reply.split("\n\n", 1)[1]

    assert len(quote) <= MAX_QUOTE_CHARS
    assert quote.startswith("1. Hold the button for 1 seconds, then let it go.\n2. Hold")
    assert quote.endswith("then let it go.")  # whole lines only, not "15."
