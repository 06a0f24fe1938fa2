"""What the finance role can do, as data: the finance page lists these features.

A feature with a `url_name` is live and linked; one without is listed as coming. Work that
builds cost figures or exports adds its URL name here (a workspace URL, reversed with the
workspace's slug), and the finance page links to it; nothing else changes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import NoReverseMatch, reverse


@dataclass(frozen=True)
class FinanceFeature:
    title: str
    description: str
    url_name: str = ""  # a URL name; empty while the feature is not built yet
    per_workspace: bool = True  # whether the URL takes the workspace's slug

    def url(self, workspace_slug: str) -> str:
        """The feature's address, or "" while it is not built (or its URL is not routed)."""
        if not self.url_name:
            return ""
        try:
            return reverse(self.url_name, args=[workspace_slug] if self.per_workspace else [])
        except NoReverseMatch:
            return ""


FINANCE_FEATURES: tuple[FinanceFeature, ...] = (
    FinanceFeature(
        "KPI dashboards",
        "Resolution, satisfaction, escalations and speed by period, arm, channel and "
        "category, each figure linked to the conversations behind it.",
        url_name="dashboards:overview",
    ),
    FinanceFeature(
        "Cost per resolution",
        "What each resolved conversation costs, by month, by rollout arm (AI first or "
        "human only) and by category: model tokens plus agent handling time.",
        url_name="analytics:costs",
    ),
    FinanceFeature(
        "Cost per conversation",
        "Model and agent cost of every conversation, with the month's totals.",
        url_name="analytics:costs",
    ),
    FinanceFeature(
        "Price table",
        "What each model, the built-in extractive answers and an hour of handling cost, "
        "from which day on.",
        url_name="analytics:prices",
    ),
    FinanceFeature(
        "CSV exports",
        "Conversations and outcomes, and a monthly finance summary, as CSV files for your "
        "own spreadsheets (cost columns fill in once cost lines are recorded).",
        url_name="exports:index",
    ),
    FinanceFeature(
        "Rollout readout",
        "The bot's effect measured against the customers held back on human-only support: "
        "resolution, repeat contacts, satisfaction and cost per resolution, with intervals.",
        url_name="rollout:index",
    ),
    FinanceFeature(
        "Secure your account",
        "Turn on two-factor sign-in with an authenticator app; finance data deserves it.",
        url_name="mfa_index",
        per_workspace=False,
    ),
)
