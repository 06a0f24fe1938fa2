"""Three conversations with cost lines worked out by hand, shared by the dashboard, KPI and
export tests: played through the real flows, priced by rows set through the services.

- `human`: human-only arm, category "account"; 15 handling minutes at $36/h = $9.00;
  resolved by a person (confirmed). Starts 2025-05-05 09:00 UTC.
- `confirmed`: AI first, category "password"; one extractive turn at $2 per 1,000 turns =
  $0.002; the customer confirmed the answer. Starts 11:00 UTC.
- `rejected`: AI first, category "email"; one turn, $0.002; the customer rejected the
  answer and left: no resolution. Starts 12:00 UTC.
"""

from __future__ import annotations

from dataclasses import dataclass

import time_machine

from supportops.analytics.costs import cost_lines_refresh
from supportops.analytics.ledger import outcome_refresh
from supportops.analytics.services import handling_rate_set, model_price_set
from supportops.conversations.models import Conversation
from supportops.conversations.services import customer_get_or_create_verified
from tests.analytics.conftest import DAY0, EMAIL_Q, PASSWORD_Q, at, handled_by_a_person

# The dashboard filters that select all three (in UTC).
COST_PERIOD = {"from": "2025-05-01", "to": "2025-05-31"}


@dataclass
class Costed:
    human: Conversation
    confirmed: Conversation
    rejected: Conversation


def costed_conversations(play, workspace, manager) -> Costed:
    handling_rate_set(workspace=workspace, actor=manager, hourly_cost="36", effective_from=DAY0)
    model_price_set(
        workspace=workspace,
        actor=manager,
        provider="extractive",
        per_thousand_turns="2.00",
        effective_from=DAY0,
    )
    human = handled_by_a_person(play)
    confirmed = play.chat(2, PASSWORD_Q)
    play.feedback(2.05, confirmed, solved=True)
    # Another customer (the same one with the same need would make `human` a repeat contact).
    play.customer = customer_get_or_create_verified(
        workspace=workspace, external_id="C-2", name="Eli Park", email="eli@customer.example"
    )
    rejected = play.chat(3, EMAIL_Q)
    play.feedback(3.05, rejected, solved=False)
    play.leave(3.1, rejected)
    for c, category in ((human, "account"), (confirmed, "password"), (rejected, "email")):
        # The classifier's category, fixed here so the groups are known.
        Conversation.objects.filter(pk=c.pk).update(category=category)
        c.refresh_from_db()
        with time_machine.travel(at(200), tick=False):
            outcome_refresh(conversation=c, as_of=at(200))
        cost_lines_refresh(conversation=c)
    return Costed(human=human, confirmed=confirmed, rejected=rejected)
