"""Intent classification with an out-of-scope answer.

A message is embedded (all-MiniLM-L6-v2, L2-normalised) and scored by two models over the
same labels: a multinomial logistic regression and a similarity-weighted vote of its nearest
training examples. The label is the argmax of their weighted average; the weight of the vote
is chosen by cross-validation on the training data (it helps where intents are many and
close together, as in banking, and hurts where the regression is much stronger).

The confidence of a prediction is sqrt(best regression probability) x cosine similarity of
the closest in-scope training example: the first part is low when intents compete, the
second when the message looks like nothing the bot was taught. Below the threshold the
answer is out of scope (label None).

The regression is scikit-learn's multinomial objective solved by torch's L-BFGS in float32
(same optimum, about five times faster), so training with five cross-validation folds takes
a few seconds on 10k messages.

The threshold comes from the training data alone, by the same method wherever a classifier
is trained (a workspace's own categories in `bot/categories.py`, the shipped high-stakes
categories, and `manage.py intent_eval`). Cross-validation scores two kinds of held-out
messages: in-scope ones (right when the best label is right and the confidence clears the
threshold) and out-of-scope stand-ins: the training examples labelled `out_of_scope` when
there are enough of them, otherwise whole intents left out of the fold's training (messages
about something the model was never taught). The threshold maximises the mean of in-scope
accuracy and out-of-scope recall over those held-out messages: a wrongful refusal costs as
much as a wrongful answer, whatever share of out-of-scope traffic the training file happens
to hold. (Aiming instead at a fixed out-of-scope recall on intents left out refused most
in-scope messages of sets whose intents are close together: on such sets a left-out intent
looks like the ones kept, so reaching the aim took a threshold above most right answers.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

import numpy as np

from supportops.text.examples import DATA_DIR, read_examples

if TYPE_CHECKING:
    import torch

logger = logging.getLogger(__name__)

OUT_OF_SCOPE = "out_of_scope"
HIGH_STAKES_FILE = DATA_DIR / "high_stakes_intents.csv"
HIGH_STAKES_CATEGORIES = (
    "billing_dispute",
    "fraud_account_security",
    "legal_threat",
    "data_deletion",
)

# How much a refused out-of-scope message weighs against a right in-scope answer when the
# threshold is chosen (0.5: equally, the balanced accuracy of the two).
OUT_OF_SCOPE_WEIGHT = 0.5
MIN_REAL_OUT_OF_SCOPE = 20  # fewer labelled examples than this: use held-out intents
FALLBACK_THRESHOLD = 0.5  # too little data to cross-validate (fewer than three intents)
KNN_WEIGHTS = (0.0, 0.2, 0.35, 0.5)
DEFAULT_KNN_WEIGHT = 0.35


@dataclass(frozen=True)
class Prediction:
    """`label` is None when out of scope; `top_label` is the best in-scope guess anyway.

    `scores` holds the probabilities of the best few labels, for explaining the decision.
    """

    label: str | None
    confidence: float
    top_label: str
    scores: dict[str, float] = field(default_factory=dict)


class _SoftmaxRegression:
    """Multinomial logistic regression with the optimum of scikit-learn's LogisticRegression
    (log loss + ||W||^2 / 2C, intercept not penalised; here both divided by n), solved by
    torch's L-BFGS in float32: the same accuracy, about five times faster on 10k x 384."""

    def __init__(self, regularization: float) -> None:
        self.regularization = regularization

    def fit(self, vectors: np.ndarray, targets: np.ndarray) -> _SoftmaxRegression:
        import torch  # imported when first used: a process that never classifies saves ~200 MB

        self.classes_, compact = np.unique(targets, return_inverse=True)
        x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        y = torch.from_numpy(compact.astype(np.int64))
        weights = torch.zeros(x.shape[1], len(self.classes_), requires_grad=True)
        bias = torch.zeros(len(self.classes_), requires_grad=True)
        optimizer = torch.optim.LBFGS(
            [weights, bias],
            max_iter=1000,
            history_size=20,
            tolerance_grad=1e-4,
            tolerance_change=1e-9,
            line_search_fn="strong_wolfe",
        )
        n = len(y)
        penalty = 0.5 / (self.regularization * n)

        def closure() -> torch.Tensor:
            optimizer.zero_grad()
            logits = x @ weights + bias
            loss = torch.nn.functional.cross_entropy(logits, y) + penalty * (weights**2).sum()
            loss.backward()
            return loss

        optimizer.step(closure)
        self._weights = weights.detach()
        self._bias = bias.detach()
        return self

    def predict_proba(self, vectors: np.ndarray) -> np.ndarray:
        import torch

        x = torch.from_numpy(np.ascontiguousarray(vectors, dtype=np.float32))
        with torch.no_grad():
            return torch.softmax(x @ self._weights + self._bias, dim=1).numpy()


@dataclass
class _Model:
    labels: list[str]  # in-scope labels; target index len(labels) stands for out_of_scope
    regression: _SoftmaxRegression | None
    vectors: np.ndarray
    targets: np.ndarray
    in_scope: np.ndarray  # mask over vectors


class IntentClassifier:
    def __init__(
        self,
        *,
        regularization: float = 30.0,
        knn_k: int = 10,
        knn_temperature: float = 0.03,
        knn_weight: float | None = None,
        threshold: float | None = None,
        out_of_scope_weight: float = OUT_OF_SCOPE_WEIGHT,
        folds: int = 5,
        seed: int = 0,
    ) -> None:
        self.regularization = regularization
        self.knn_k = knn_k
        self.knn_temperature = knn_temperature
        self.knn_weight = DEFAULT_KNN_WEIGHT if knn_weight is None else knn_weight
        self.threshold = FALLBACK_THRESHOLD if threshold is None else threshold
        self.out_of_scope_weight = out_of_scope_weight
        self.cv: dict[str, float] = {}
        self.folds = folds
        self.seed = seed
        self._tune_knn_weight = knn_weight is None
        self._tune_threshold = threshold is None
        self._model: _Model | None = None

    @property
    def labels(self) -> list[str]:
        return list(self._model.labels) if self._model else []

    # Training ---------------------------------------------------------------------------

    def fit(self, texts: Sequence[str], labels: Sequence[str | None]) -> IntentClassifier:
        from supportops.integrations.embeddings import embed_corpus

        return self.fit_vectors(embed_corpus(list(texts)), labels)

    def fit_vectors(self, vectors: np.ndarray, labels: Sequence[str | None]) -> IntentClassifier:
        """Train on precomputed embeddings; labels None, "" or out_of_scope mean no intent."""
        started = time.perf_counter()
        vectors = np.asarray(vectors, dtype=np.float32)
        names = [_clean_label(label) for label in labels]
        if len(names) != len(vectors):
            raise ValueError(f"{len(vectors)} texts but {len(names)} labels")
        intents = sorted({name for name in names if name is not None})
        if not intents:
            raise ValueError("the training data has no in-scope examples")
        index = {name: i for i, name in enumerate(intents)}
        targets = np.array([len(intents) if n is None else index[n] for n in names])
        self._model = self._fit_model(vectors, targets, intents)
        if self._tune_threshold or self._tune_knn_weight:
            self._calibrate(vectors, targets, len(intents))
        logger.info(
            "intent classifier: %d examples, %d intents, knn weight %.2f, threshold %.3f "
            "(cross-validated %s), %.1f s",
            len(vectors),
            len(intents),
            self.knn_weight,
            self.threshold,
            self.cv,
            time.perf_counter() - started,
        )
        return self

    def _fit_model(self, vectors: np.ndarray, targets: np.ndarray, labels: list[str]) -> _Model:
        regression = None
        if len(np.unique(targets)) > 1:
            regression = _SoftmaxRegression(self.regularization).fit(vectors, targets)
        return _Model(
            labels=labels,
            regression=regression,
            vectors=vectors,
            targets=targets,
            in_scope=targets < len(labels),
        )

    def _calibrate(self, vectors: np.ndarray, targets: np.ndarray, n_labels: int) -> None:
        """Cross-validate: choose the neighbour-vote weight, then the threshold."""
        rng = np.random.default_rng(self.seed)
        intents = np.unique(targets[targets < n_labels])
        real_out_of_scope = (targets == n_labels).sum() >= MIN_REAL_OUT_OF_SCOPE
        if len(intents) < 3:
            return
        folds = min(self.folds, len(intents))
        # Within each label the folds take turns, so small intents are spread over the
        # folds; an intent with a single example stays in training (fold -1).
        fold = np.full(len(targets), -1)
        for target in np.unique(targets):
            members = rng.permutation(np.flatnonzero(targets == target))
            if target == n_labels or len(members) > 1:
                fold[members] = np.arange(len(members)) % folds
        # Without real out-of-scope examples, each fold also leaves out a group of intents.
        group = np.full(len(targets), -1)
        if not real_out_of_scope:
            group_of = dict(
                zip(rng.permutation(intents), np.arange(len(intents)) % folds, strict=True)
            )
            group = np.array([group_of.get(t, -1) for t in targets])

        regressions, votes, truths, in_confidence, out_confidence = [], [], [], [], []
        for f in range(folds):
            train = (group != f) & (fold != f)
            if len(np.unique(targets[train])) < 2:
                continue
            model = self._fit_model(vectors[train], targets[train], [""] * n_labels)
            tested = (group != f) & (targets < n_labels) & (fold == f)
            regression, vote, nearest = self._components(model, vectors[tested])
            regressions.append(regression)
            votes.append(vote)
            truths.append(targets[tested])
            in_confidence.append(_confidence(regression, nearest))
            held_out = (group == f) | ((targets == n_labels) & (fold == f))
            regression, _, nearest = self._components(model, vectors[held_out])
            out_confidence.append(_confidence(regression, nearest))
        if not truths:
            return
        if self._tune_knn_weight:
            regression, vote, truth = (np.concatenate(a) for a in (regressions, votes, truths))
            accuracy = {
                w: float((((1 - w) * regression + w * vote).argmax(1) == truth).mean())
                for w in KNN_WEIGHTS
            }
            self.knn_weight = max(KNN_WEIGHTS, key=lambda w: (accuracy[w], -w))
        if self._tune_threshold:
            regression, vote, truth = (np.concatenate(a) for a in (regressions, votes, truths))
            blended = (1 - self.knn_weight) * regression + self.knn_weight * vote
            self.threshold, self.cv = _balanced_threshold(
                right=blended.argmax(1) == truth,
                in_confidence=np.concatenate(in_confidence),
                out_confidence=np.concatenate(out_confidence),
                out_weight=self.out_of_scope_weight,
            )

    # Prediction -------------------------------------------------------------------------

    def predict(self, texts: Sequence[str]) -> list[Prediction]:
        from supportops.integrations.embeddings import embed_texts

        return self.predict_vectors(embed_texts(list(texts)))

    def predict_vectors(self, vectors: np.ndarray, *, top: int = 5) -> list[Prediction]:
        model = self._require_model()
        # A copy when read-only (cached query vectors): torch wants arrays it may write to.
        vectors = np.require(vectors, np.float32, ["C", "W"])
        regression, vote, nearest = self._components(model, vectors)
        probabilities = (1 - self.knn_weight) * regression + self.knn_weight * vote
        confidence = _confidence(regression, nearest)
        predictions = []
        for row, conf in zip(probabilities, confidence, strict=True):
            order = np.argsort(-row)[:top]
            best = model.labels[order[0]]
            predictions.append(
                Prediction(
                    label=best if conf >= self.threshold else None,
                    confidence=round(float(conf), 4),
                    top_label=best,
                    scores={model.labels[i]: round(float(row[i]), 4) for i in order},
                )
            )
        return predictions

    def _require_model(self) -> _Model:
        if self._model is None:
            raise RuntimeError("the classifier has not been fitted")
        return self._model

    def _components(
        self, model: _Model, vectors: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Regression and neighbour-vote probabilities over the in-scope labels (n, labels),
        and the similarity of the closest in-scope training example (n,)."""
        import torch

        n_classes = len(model.labels) + 1
        regression = np.zeros((len(vectors), n_classes))
        if model.regression is None:
            regression[:, model.targets[0]] = 1.0
        else:
            regression[:, model.regression.classes_] = model.regression.predict_proba(vectors)
        votes = np.zeros((len(vectors), n_classes))
        nearest = np.zeros(len(vectors))
        reference = torch.from_numpy(model.vectors)
        targets = torch.from_numpy(model.targets)
        k = min(self.knn_k, len(model.vectors))
        with torch.no_grad():
            for start in range(0, len(vectors), 2048):  # bounded memory for big test sets
                chunk = slice(start, start + 2048)
                similarity = torch.from_numpy(np.ascontiguousarray(vectors[chunk])) @ reference.T
                closeness, neighbours = similarity.topk(k, dim=1)
                weights = torch.exp((closeness.double() - 1.0) / self.knn_temperature)
                chunk_votes = torch.zeros(len(similarity), n_classes, dtype=torch.float64)
                chunk_votes.scatter_add_(1, targets[neighbours], weights)
                votes[chunk] = (chunk_votes / chunk_votes.sum(1, keepdim=True)).numpy()
                in_scope = similarity[:, torch.from_numpy(model.in_scope)]
                nearest[chunk] = in_scope.max(dim=1).values.numpy()
        return regression[:, :-1], votes[:, :-1], nearest


def _balanced_threshold(
    *, right: np.ndarray, in_confidence: np.ndarray, out_confidence: np.ndarray, out_weight: float
) -> tuple[float, dict[str, float]]:
    """The threshold that maximises (1 - w) x in-scope accuracy + w x out-of-scope recall
    over held-out messages, with the two figures it reaches there."""
    if not len(out_confidence):
        return FALLBACK_THRESHOLD, {}
    candidates = np.unique(np.concatenate([in_confidence, out_confidence, [0.0]]))
    # For each candidate t: in-scope messages right and at least t; stand-ins below t.
    order = np.sort(in_confidence[right])
    in_scope = (len(order) - np.searchsorted(order, candidates, side="left")) / len(right)
    out = np.searchsorted(np.sort(out_confidence), candidates, side="left") / len(out_confidence)
    score = (1 - out_weight) * in_scope + out_weight * out
    best = int(np.argmax(score))
    return float(candidates[best]), {
        "in_scope_accuracy": round(float(in_scope[best]), 4),
        "out_of_scope_recall": round(float(out[best]), 4),
    }


def _confidence(regression: np.ndarray, nearest: np.ndarray) -> np.ndarray:
    return np.sqrt(regression.max(axis=1)) * np.clip(nearest, 0.0, 1.0)


def _clean_label(label: str | None) -> str | None:
    label = (label or "").strip()
    return None if not label or label == OUT_OF_SCOPE else label


# The default high-stakes categories shipped with the product ------------------------------


def load_high_stakes_examples() -> tuple[list[str], list[str]]:
    """(texts, labels) from supportops/text/data/: the four high-stakes categories, plus
    ordinary support requests labelled out_of_scope so that the classifier learns what a
    high-stakes message is not."""
    return read_examples(HIGH_STAKES_FILE, label_column="label")


@lru_cache(maxsize=1)
def high_stakes_classifier() -> IntentClassifier:
    """A classifier over the default high-stakes categories, trained on first use."""
    texts, labels = load_high_stakes_examples()
    return IntentClassifier().fit(texts, labels)
