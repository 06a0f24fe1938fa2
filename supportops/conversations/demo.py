"""Demo customers, orders and a little conversation history for the Tidewell demo shop.

All names, numbers and addresses are invented for this project; order numbers and
tracking codes are generated from a fixed seed so every demo install looks the same.
"""

from __future__ import annotations

import random
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.utils import timezone

from supportops.accounts.models import Workspace

from .models import Customer, Order

CUSTOMERS = [
    # external id, name, email, plan, vip
    ("tw-cust-1001", "Maren Ostby", "maren.ostby@mail.example", "Tidewell Plus", False),
    ("tw-cust-1002", "Tomasz Wierzba", "t.wierzba@mail.example", "Standard", False),
    ("tw-cust-1003", "Aiyana Brooks", "aiyana.b@mail.example", "Tidewell Plus", True),
    ("tw-cust-1004", "Femi Adeyemo", "femi.adeyemo@mail.example", "Standard", False),
    ("tw-cust-1005", "Chiara Lombardi", "chiara.l@mail.example", "Standard", False),
    ("tw-cust-1006", "Hugo Marchetti", "hugo.m@mail.example", "Business", True),
    ("tw-cust-1007", "Saanvi Rao", "saanvi.rao@mail.example", "Standard", False),
    ("tw-cust-1008", "Oskar Lindqvist", "oskar.l@mail.example", "Standard", False),
]
PRODUCTS = [
    ("Fjordline 2-person tent", Decimal("289.00")),
    ("Ridgeback 45 L hiking pack", Decimal("139.00")),
    ("Stormshell rain jacket", Decimal("179.00")),
    ("Trailrunner waterproof boots", Decimal("149.00")),
    ("Alpine down sleeping bag -5 °C", Decimal("229.00")),
    ("Emberlite camp stove", Decimal("59.00")),
    ("Merino base layer top", Decimal("69.00")),
]
CARRIERS = [
    ("DHL", "https://tidewell.example/track/dhl/"),
    ("PostNord", "https://tidewell.example/track/postnord/"),
]
# The first customer's orders are fixed so the README can say what to ask.
FIRST_CUSTOMER_ORDERS = [
    ("TW-2041736", Order.Status.SHIPPED, 2),
    ("TW-2038810", Order.Status.DELIVERED, 9),
    ("TW-2045502", Order.Status.PROCESSING, 0),
]
HISTORY = [
    # customer index, messages the customer sends (each runs through the real bot turn)
    (1, ["How long do I have to return something?"]),
    (3, ["Where is my order?"]),
    (4, ["I was charged twice for my last order, please reverse one of the charges."]),
    (6, ["Can I change the delivery address after ordering?", "agent"]),
]


def _order_rows(rng: random.Random, customer: Customer, now) -> list[dict[str, Any]]:
    if customer.external_id == CUSTOMERS[0][0]:
        plan = FIRST_CUSTOMER_ORDERS
    else:
        plan = [
            (
                f"TW-{rng.randint(1_900_000, 2_040_000)}",
                rng.choice([Order.Status.DELIVERED, Order.Status.SHIPPED, Order.Status.PROCESSING]),
                rng.randint(0, 40),
            )
            for _ in range(rng.randint(1, 3))
        ]
    rows = []
    for number, status, days_ago in plan:
        placed = now - timedelta(days=days_ago, hours=rng.randint(1, 20))
        picks = rng.sample(PRODUCTS, rng.randint(1, 3))
        quantities = [rng.randint(1, 2) for _ in picks]
        items = [
            {"name": name, "quantity": qty}
            for (name, _), qty in zip(picks, quantities, strict=True)
        ]
        total = sum(
            (price * qty for (_, price), qty in zip(picks, quantities, strict=True)),
            Decimal("0"),
        )
        carrier, tracking_base = rng.choice(CARRIERS)
        row: dict[str, Any] = {
            "number": number,
            "status": status,
            "placed_at": placed,
            "total": total,
            "items": items,
        }
        if status in (Order.Status.SHIPPED, Order.Status.DELIVERED):
            code = f"{carrier[:2].upper()}{rng.randint(10**9, 10**10 - 1)}"
            row.update(
                carrier=carrier,
                tracking_number=code,
                tracking_url=tracking_base + code,
                estimated_delivery=(placed + timedelta(days=4)).date(),
            )
        if status == Order.Status.DELIVERED:
            row["delivered_at"] = placed + timedelta(days=3)
        if status == Order.Status.PROCESSING:
            row["estimated_delivery"] = (placed + timedelta(days=5)).date()
        rows.append(row)
    return rows


@transaction.atomic
def demo_customers_seed(*, workspace: Workspace) -> int:
    """Create the demo customers and their orders once; returns how many orders were made."""
    rng = random.Random(2041736)
    now = timezone.now()
    created = 0
    for external_id, name, email, plan, vip in CUSTOMERS:
        customer, _ = Customer.objects.get_or_create(
            workspace=workspace,
            external_id=external_id,
            defaults={"name": name, "email": email, "plan": plan, "is_vip": vip},
        )
        for row in _order_rows(rng, customer, now):
            _, made = Order.objects.get_or_create(
                workspace=workspace,
                number=row.pop("number"),
                defaults={**row, "customer": customer},
            )
            created += int(made)
    return created
