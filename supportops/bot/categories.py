"""Issue categories and their example utterances: what the category classifier learns from.

Writes (`category_*`, `categories_*`) are atomic and audited; reads take the workspace, so an
id from another workspace is not found (404).

Negative examples. Messages that belong to no category (CSV rows labelled `out_of_scope`)
are stored as the examples of one reserved category per workspace whose name is exactly
`out_of_scope` (`OUT_OF_SCOPE`, the same word the CSV contract and the classifier use). The
name is the flag: that category trains the classifier's "no category" answer, is never
high stakes, is listed apart from the real categories, and no category can be renamed to or
from it (which would silently turn examples into negatives or back). Using a reserved row
rather than a new column keeps one storage path for every example.

The classifier. `category_classifier_for` trains an `IntentClassifier` on the workspace's
examples when at least two real categories have some (otherwise None: the caller falls back
to the shipped high-stakes classifier). The shipped examples of each default high-stakes
category (billing_dispute, fraud_account_security, legal_threat, data_deletion) are added
for every one of them the workspace has no examples of its own for, so a workspace model
still recognises high-stakes messages. The shipped `out_of_scope` rows are ordinary support
questions ("Where is my order?") that a workspace may well have a category for, so they are
added only while every category the workspace taught is high stakes. Trained models are
cached per process, keyed by a cheap version of the workspace's examples (count and latest
id, plus the category names and marks, since a rename changes the labels without touching
an example).

High stakes. The bot turn treats the shipped high-stakes names as high stakes always, plus
the names in `BotSettings.high_stakes_categories`; that list mirrors the workspace's
categories marked high stakes (kept in step by every write here). So a shipped high-stakes
category cannot be unmarked: switch the high-stakes rule off in the settings instead.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, QuerySet
from django.http import Http404

from supportops.accounts.models import Workspace
from supportops.accounts.services import Actor, audit_log_write
from supportops.lib.csvrows import csv_records
from supportops.text.intents import (
    HIGH_STAKES_CATEGORIES,
    OUT_OF_SCOPE,
    IntentClassifier,
    Prediction,
    load_high_stakes_examples,
)

from .models import BotSettings, CategoryExample, IssueCategory
from .services import bot_settings_get

logger = logging.getLogger(__name__)

NAME_MAX = 80
DESCRIPTION_MAX = 300
EXAMPLE_MAX_CHARS = 2000  # longer tickets are cut here; the embedding model reads far less
IMPORT_MAX_BYTES = 10 * 1024 * 1024
IMPORT_MAX_ROWS = 50_000
CLASSIFIER_CACHE_SIZE = 32

DEFAULT_DESCRIPTIONS = {
    "billing_dispute": "Disputed, unexpected or double charges and chargebacks.",
    "fraud_account_security": "Hacked accounts, unauthorised logins or purchases.",
    "legal_threat": "Lawyers, legal action, regulators and formal complaints.",
    "data_deletion": "Requests to erase an account or personal data (GDPR and similar).",
}


# A workspace teaches a category with a few dozen examples; each shipped high-stakes category
# brings at most as many, so that it does not outweigh the workspace's own small categories.
SHIPPED_EXAMPLES_PER_CATEGORY = 40


def shipped_category_examples() -> tuple[list[str], list[str]]:
    """The shipped examples a workspace's categories use: the first
    SHIPPED_EXAMPLES_PER_CATEGORY of each high-stakes category, and every ordinary
    (`out_of_scope`) one."""
    texts, labels = [], []
    counts: Counter[str] = Counter()
    for text, label in zip(*load_high_stakes_examples(), strict=True):
        if label in HIGH_STAKES_CATEGORIES:
            if counts[label] >= SHIPPED_EXAMPLES_PER_CATEGORY:
                continue
            counts[label] += 1
        texts.append(text)
        labels.append(label)
    return texts, labels


class CategoryError(ValueError):
    """A change to categories or examples was refused; the message says what to fix."""


class TicketImportError(CategoryError):
    """A tickets CSV was refused as a whole; `line` is the line to fix (None: the file)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason, self.line = reason, line
        super().__init__(f"Line {line}: {reason}" if line else reason)


def is_out_of_scope(category: IssueCategory) -> bool:
    return category.name == OUT_OF_SCOPE


def _clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise CategoryError("The category needs a name.")
    if len(name) > NAME_MAX:
        raise CategoryError(f"The name is {len(name)} characters; the limit is {NAME_MAX}.")
    return OUT_OF_SCOPE if name.casefold() == OUT_OF_SCOPE else name


def _clean_example(text: str) -> str:
    return " ".join((text or "").replace("\x00", "").split())[:EXAMPLE_MAX_CHARS]


def _text_key(text: str) -> str:
    return text.casefold()


def _name_taken(workspace: Workspace, name: str, *, exclude_pk: int | None = None) -> bool:
    taken = IssueCategory.objects.filter(workspace=workspace, name__iexact=name)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    return taken.exists()


def _high_stakes_sync(workspace: Workspace) -> None:
    """Mirror the categories marked high stakes into the list the bot turn reads."""
    names = sorted(
        IssueCategory.objects.filter(workspace=workspace, is_high_stakes=True)
        .exclude(name__in=HIGH_STAKES_CATEGORIES)
        .values_list("name", flat=True)
    )
    settings = bot_settings_get(workspace=workspace)
    if list(settings.high_stakes_categories or []) != names:
        BotSettings.objects.filter(pk=settings.pk).update(high_stakes_categories=names)


# --- Reads -----------------------------------------------------------------------------------


def category_list(*, workspace: Workspace) -> QuerySet[IssueCategory]:
    """The real categories (not the reserved out-of-scope one) with `example_count`."""
    return (
        IssueCategory.objects.filter(workspace=workspace)
        .exclude(name=OUT_OF_SCOPE)
        .annotate(example_count=Count("examples"))
        .order_by("name")
    )


def category_out_of_scope(*, workspace: Workspace) -> IssueCategory | None:
    """The reserved category holding negative examples, with `example_count`, if any."""
    return (
        IssueCategory.objects.filter(workspace=workspace, name=OUT_OF_SCOPE)
        .annotate(example_count=Count("examples"))
        .first()
    )


def category_get(*, workspace: Workspace, category_id: int) -> IssueCategory:
    category = IssueCategory.objects.filter(workspace=workspace, pk=category_id).first()
    if category is None:
        raise Http404("category not found")
    return category


def category_examples(*, category: IssueCategory, limit: int = 200) -> list[CategoryExample]:
    """The newest examples first."""
    return list(category.examples.order_by("-pk")[:limit])


def category_example_get(*, category: IssueCategory, example_id: int) -> CategoryExample:
    example = CategoryExample.objects.filter(category=category, pk=example_id).first()
    if example is None:
        raise Http404("example not found")
    return example


# --- Categories ------------------------------------------------------------------------------


@transaction.atomic
def category_create(
    *,
    workspace: Workspace,
    name: str,
    actor: Actor,
    description: str = "",
    is_high_stakes: bool = False,
) -> IssueCategory:
    name = _clean_name(name)
    description = " ".join((description or "").split())[:DESCRIPTION_MAX]
    if _name_taken(workspace, name):
        raise CategoryError(f"There is already a category named “{name}”.")
    if name == OUT_OF_SCOPE and is_high_stakes:
        raise CategoryError(f"“{OUT_OF_SCOPE}” holds negative examples; it cannot be high stakes.")
    is_high_stakes = is_high_stakes or name in HIGH_STAKES_CATEGORIES
    category = IssueCategory.objects.create(
        workspace=workspace, name=name, description=description, is_high_stakes=is_high_stakes
    )
    _high_stakes_sync(workspace)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="category.create",
        target=category,
        details={"name": name, "description": description, "is_high_stakes": is_high_stakes},
    )
    return category


@transaction.atomic
def category_update(
    *,
    category: IssueCategory,
    actor: Actor,
    name: str | None = None,
    description: str | None = None,
    is_high_stakes: bool | None = None,
) -> IssueCategory:
    """Rename, describe, or mark high stakes; arguments left None are not changed.

    Audits the fields that changed with their values before and after.
    """
    wanted: dict[str, Any] = {}
    if name is not None:
        wanted["name"] = _clean_name(name)
    if description is not None:
        wanted["description"] = " ".join(description.split())[:DESCRIPTION_MAX]
    if is_high_stakes is not None:
        wanted["is_high_stakes"] = bool(is_high_stakes)
    changes = {
        key: {"before": getattr(category, key), "after": value}
        for key, value in wanted.items()
        if getattr(category, key) != value
    }
    if not changes:
        return category
    if "name" in changes:
        new_name = changes["name"]["after"]
        if OUT_OF_SCOPE in (category.name, new_name):
            raise CategoryError(
                f"“{OUT_OF_SCOPE}” is reserved for negative examples; a category cannot be "
                "renamed to or from it."
            )
        if _name_taken(category.workspace, new_name, exclude_pk=category.pk):
            raise CategoryError(f"There is already a category named “{new_name}”.")
    marked = changes.get("is_high_stakes", {}).get("after")
    if marked and is_out_of_scope(category):
        raise CategoryError(f"“{OUT_OF_SCOPE}” holds negative examples; it cannot be high stakes.")
    final_name = changes.get("name", {}).get("after", category.name)
    final_mark = category.is_high_stakes if marked is None else marked
    if final_name in HIGH_STAKES_CATEGORIES and not final_mark:
        raise CategoryError(
            f"“{final_name}” is one of the shipped high-stakes categories and always goes to a "
            "person; to stop that, switch off the high-stakes rule in the bot settings."
        )
    for key, change in changes.items():
        setattr(category, key, change["after"])
    category.save(update_fields=list(changes))
    _high_stakes_sync(category.workspace)
    audit_log_write(
        workspace=category.workspace,
        actor=actor,
        action="category.update",
        target=category,
        details={"name": category.name, "changes": changes},
    )
    return category


@transaction.atomic
def category_delete(*, category: IssueCategory, actor: Actor) -> None:
    """Delete the category with its examples (the audit row keeps the name and count)."""
    workspace, pk, name = category.workspace, category.pk, category.name
    examples = category.examples.count()
    category.delete()
    _high_stakes_sync(workspace)
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="category.delete",
        details={"category_id": pk, "name": name, "examples": examples},
    )


# --- Examples --------------------------------------------------------------------------------


@transaction.atomic
def category_examples_add(
    *,
    category: IssueCategory,
    texts: Sequence[str],
    actor: Actor,
    source: str = CategoryExample.Source.WRITTEN,
) -> list[CategoryExample]:
    """Add example utterances; blank ones and those the category already has are skipped."""
    seen = {_text_key(t) for t in category.examples.values_list("text", flat=True)}
    fresh: list[str] = []
    for raw in texts:
        text = _clean_example(raw)
        if text and _text_key(text) not in seen:
            seen.add(_text_key(text))
            fresh.append(text)
    if not fresh:
        return []
    created = CategoryExample.objects.bulk_create(
        CategoryExample(
            workspace_id=category.workspace_id, category=category, text=t, source=source
        )
        for t in fresh
    )
    audit_log_write(
        workspace=category.workspace,
        actor=actor,
        action="category.examples_add",
        target=category,
        details={"name": category.name, "count": len(created), "texts": fresh[:20]},
    )
    return created


@transaction.atomic
def category_example_remove(*, example: CategoryExample, actor: Actor) -> None:
    category = example.category
    text, pk = example.text, example.pk
    example.delete()
    audit_log_write(
        workspace=category.workspace,
        actor=actor,
        action="category.example_remove",
        target=category,
        details={"name": category.name, "example_id": pk, "text": text},
    )


@dataclass
class DefaultsReport:
    created_categories: list[str] = field(default_factory=list)
    examples_added: int = 0


@transaction.atomic
def categories_install_defaults(*, workspace: Workspace, actor: Actor = None) -> DefaultsReport:
    """Create the shipped high-stakes categories with their example utterances.

    Idempotent: a category that exists keeps its name, description and high-stakes mark, and
    only shipped examples it lacks are added, so a second call changes nothing.
    """
    texts, labels = shipped_category_examples()
    by_label: dict[str, list[str]] = {name: [] for name in HIGH_STAKES_CATEGORIES}
    for text, label in zip(texts, labels, strict=True):
        if label in by_label:
            by_label[label].append(text)
    report = DefaultsReport()
    for name, examples in by_label.items():
        category = IssueCategory.objects.filter(workspace=workspace, name__iexact=name).first()
        if category is None:
            category = IssueCategory.objects.create(
                workspace=workspace,
                name=name,
                description=DEFAULT_DESCRIPTIONS.get(name, ""),
                is_high_stakes=True,
            )
            report.created_categories.append(name)
        have = {_text_key(t) for t in category.examples.values_list("text", flat=True)}
        missing = [t for t in examples if _text_key(t) not in have]
        CategoryExample.objects.bulk_create(
            CategoryExample(
                workspace=workspace,
                category=category,
                text=text,
                source=CategoryExample.Source.DEFAULT,
            )
            for text in missing
        )
        report.examples_added += len(missing)
    if report.created_categories or report.examples_added:
        audit_log_write(
            workspace=workspace,
            actor=actor,
            action="category.install_defaults",
            details={
                "created_categories": report.created_categories,
                "examples_added": report.examples_added,
            },
        )
    return report


# --- Importing labelled past tickets -----------------------------------------------------------


@dataclass(frozen=True)
class TicketRow:
    line: int
    text: str
    label: str


@dataclass
class TicketImportReport:
    rows: int = 0
    added: dict[str, int] = field(default_factory=dict)  # label -> examples added
    duplicates: int = 0  # rows the category already had (or that repeated in the file)
    created_categories: list[str] = field(default_factory=list)

    @property
    def added_total(self) -> int:
        return sum(self.added.values())

    @property
    def out_of_scope(self) -> int:
        return self.added.get(OUT_OF_SCOPE, 0)


def tickets_csv_parse(data: bytes) -> list[TicketRow]:
    """Check a whole `text,label` CSV (UTF-8, header required) before anything is written.

    Raises TicketImportError naming the first bad line. Extra columns are ignored.
    """
    if len(data) > IMPORT_MAX_BYTES:
        raise TicketImportError(f"The file is larger than {IMPORT_MAX_BYTES // 2**20} MB.")
    try:
        content = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise TicketImportError(
            "This is not UTF-8 text; save the file as UTF-8 CSV.", line
        ) from exc
    if not content.strip():
        raise TicketImportError("The file is empty; it needs a header line `text,label`.")
    rows: list[TicketRow] = []
    header: list[str] | None = None
    text_at = label_at = 0
    for line, record in csv_records(content, error=TicketImportError):
        if header is None:
            header = [cell.strip().lower() for cell in record]
            if "text" not in header or "label" not in header:
                raise TicketImportError(
                    "The first line must be the header `text,label` "
                    f"(found `{','.join(record)[:80]}`).",
                    line,
                )
            text_at, label_at = header.index("text"), header.index("label")
            continue
        if len(record) < len(header):
            raise TicketImportError(
                f"{len(record)} column{'s' if len(record) != 1 else ''} where the header has "
                f"{len(header)}; quote texts that contain commas.",
                line,
            )
        text = _clean_example(record[text_at])
        label = " ".join(record[label_at].split())
        if label.casefold() == OUT_OF_SCOPE:
            label = OUT_OF_SCOPE
        if not text:
            raise TicketImportError("The text is empty.", line)
        if not label:
            raise TicketImportError(f"The label is empty (use `{OUT_OF_SCOPE}` for none).", line)
        if len(label) > NAME_MAX:
            raise TicketImportError(
                f"The label is {len(label)} characters; the limit is {NAME_MAX}.", line
            )
        rows.append(TicketRow(line=line, text=text, label=label))
        if len(rows) > IMPORT_MAX_ROWS:
            raise TicketImportError(f"More than {IMPORT_MAX_ROWS} rows; split the file.", line)
    if header is None:
        raise TicketImportError("The file is empty; it needs a header line `text,label`.")
    if not rows:
        raise TicketImportError("The file has a header but no rows.")
    return rows


@transaction.atomic
def category_tickets_import(
    *, workspace: Workspace, data: bytes, actor: Actor, filename: str = ""
) -> TicketImportReport:
    """Import labelled past tickets as examples (all rows or, on any bad row, none).

    A label matches a category by name, ignoring case; unknown labels create categories
    (high stakes when the label is one of the shipped high-stakes names); `out_of_scope`
    rows become negative examples. Texts the category already has are skipped.
    """
    rows = tickets_csv_parse(data)
    report = TicketImportReport(rows=len(rows))
    categories = {c.name.casefold(): c for c in IssueCategory.objects.filter(workspace=workspace)}
    seen: dict[int, set[str]] = {}
    for category_id, text in CategoryExample.objects.filter(workspace=workspace).values_list(
        "category_id", "text"
    ):
        seen.setdefault(category_id, set()).add(_text_key(text))
    new: list[CategoryExample] = []
    added: Counter[str] = Counter()
    for row in rows:
        category = categories.get(row.label.casefold())
        if category is None:
            category = IssueCategory.objects.create(
                workspace=workspace,
                name=row.label,
                is_high_stakes=row.label in HIGH_STAKES_CATEGORIES,
            )
            categories[row.label.casefold()] = category
            report.created_categories.append(category.name)
        keys = seen.setdefault(category.pk, set())
        if _text_key(row.text) in keys:
            report.duplicates += 1
            continue
        keys.add(_text_key(row.text))
        new.append(
            CategoryExample(
                workspace=workspace,
                category=category,
                text=row.text,
                source=CategoryExample.Source.TICKET,
            )
        )
        added[category.name] += 1
    CategoryExample.objects.bulk_create(new, batch_size=1000)
    if report.created_categories:
        _high_stakes_sync(workspace)
    report.added = dict(sorted(added.items()))
    audit_log_write(
        workspace=workspace,
        actor=actor,
        action="category.import_tickets",
        details={
            "filename": filename,
            "rows": report.rows,
            "added": report.added,
            "duplicates": report.duplicates,
            "created_categories": report.created_categories,
        },
    )
    return report


# --- The classifier --------------------------------------------------------------------------

_cache: OrderedDict[int, tuple[tuple[Any, ...], IntentClassifier | None]] = OrderedDict()
_cache_lock = threading.Lock()


def _examples_version(workspace: Workspace) -> tuple[Any, ...]:
    """Changes whenever an example is added or removed, or a category renamed or marked."""
    stats = CategoryExample.objects.filter(workspace=workspace).aggregate(
        count=Count("pk"), latest=Max("pk")
    )
    names = tuple(
        IssueCategory.objects.filter(workspace=workspace)
        .order_by("pk")
        .values_list("pk", "name", "is_high_stakes")
    )
    return (stats["count"], stats["latest"], names)


def category_training_data(*, workspace: Workspace) -> tuple[list[str], list[str]] | None:
    """(texts, labels) the workspace's classifier learns from, or None below two categories.

    Adds the shipped examples of each default high-stakes category the workspace has no
    examples of its own for. The shipped `out_of_scope` rows (ordinary support questions)
    are added only while every category the workspace taught is high stakes: then ordinary
    questions really are out of scope, and without them the model would push them into a
    high-stakes category.
    """
    texts: list[str] = []
    labels: list[str] = []
    for text, name in CategoryExample.objects.filter(workspace=workspace).values_list(
        "text", "category__name"
    ):
        texts.append(text)
        labels.append(name)
    own = set(labels) - {OUT_OF_SCOPE}
    if len(own) < 2:
        return None
    marked = set(
        IssueCategory.objects.filter(workspace=workspace, is_high_stakes=True).values_list(
            "name", flat=True
        )
    )
    only_high_stakes = own <= marked | set(HIGH_STAKES_CATEGORIES)
    default_texts, default_labels = shipped_category_examples()
    for text, label in zip(default_texts, default_labels, strict=True):
        is_negative = label not in HIGH_STAKES_CATEGORIES  # labelled out_of_scope
        if only_high_stakes if is_negative else label not in own:
            texts.append(text)
            labels.append(label)
    return texts, labels


def category_classifier_for(*, workspace: Workspace) -> IntentClassifier | None:
    """The workspace's trained classifier (cached per process), or None when fewer than two
    categories have examples. May raise EmbeddingError when the embedding model fails."""
    version = _examples_version(workspace)
    with _cache_lock:
        cached = _cache.get(workspace.pk)
        if cached is not None and cached[0] == version:
            _cache.move_to_end(workspace.pk)
            return cached[1]
    data = category_training_data(workspace=workspace)
    # Two requests may train the same version at once; both results are equal, either wins.
    classifier = IntentClassifier().fit(*data) if data is not None else None
    with _cache_lock:
        _cache[workspace.pk] = (version, classifier)
        _cache.move_to_end(workspace.pk)
        while len(_cache) > CLASSIFIER_CACHE_SIZE:
            _cache.popitem(last=False)
    return classifier


def category_classifier_forget(*, workspace: Workspace | None = None) -> None:
    """Drop cached models (of one workspace, or all); the next call trains afresh."""
    with _cache_lock:
        if workspace is None:
            _cache.clear()
        else:
            _cache.pop(workspace.pk, None)


@dataclass(frozen=True)
class CategoryGuess:
    prediction: Prediction
    category: IssueCategory | None  # the workspace's category of the label, if it has one
    is_high_stakes: bool


def category_try(*, workspace: Workspace, text: str) -> CategoryGuess | None:
    """What the classifier makes of one message, for the settings page; None if untrained."""
    classifier = category_classifier_for(workspace=workspace)
    if classifier is None:
        return None
    prediction = classifier.predict([text])[0]
    category = None
    if prediction.label is not None:
        category = IssueCategory.objects.filter(workspace=workspace, name=prediction.label).first()
    # The same test as the bot turn's high-stakes rule.
    extra = set(bot_settings_get(workspace=workspace).high_stakes_categories or [])
    high_stakes = prediction.label is not None and (
        prediction.label in HIGH_STAKES_CATEGORIES or prediction.label in extra
    )
    return CategoryGuess(prediction=prediction, category=category, is_high_stakes=high_stakes)
