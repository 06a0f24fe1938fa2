"""Sentiment and frustration of a customer message.

A logistic regression over the message's embedding (all-MiniLM-L6-v2) plus a few cheap
lexical signals (exclamation marks, question mark, share of words in capitals, counts of
complaint and thanks words, length). It is trained on first use from the examples the
project wrote in supportops/bot/data/sentiment_examples.csv (support messages, negative /
neutral / positive, with sarcasm, capitals and "third time asking"), in well under a second
once they are embedded, and kept in memory; nothing is persisted.

`frustration` is the signal the bot's handoff trigger reads: a clearly negative message
(probability at or above FRUSTRATION_PROBABILITY), or a negative one that shouts, repeats
itself or says it has waited.
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression

EXAMPLES_FILE = Path(__file__).resolve().parent / "data" / "sentiment_examples.csv"
LABELS = ("negative", "neutral", "positive")
REGULARIZATION = 3.0
FRUSTRATION_PROBABILITY = 0.8

_HANDLE = re.compile(r"(?<!\w)@\w+")
_URL = re.compile(r"https?://\S+")
_SPACES = re.compile(r"\s+")
_WORD = re.compile(r"[A-Za-z]{2,}")
_COMPLAINT = re.compile(
    r"\b(never|still|again|worst|terrible|awful|horrible|rude|nobody|no one|useless|"
    r"ridiculous|unacceptable|disappoint\w*|delay\w*|cancel\w*|lost|hold|waiting|waited|"
    r"broken|refund|fail\w*|stuck|missed|wrong|worse|sucks?|hate|angry|furious|annoy\w*|"
    r"frustrat\w*|can'?t|won'?t|didn'?t|doesn'?t|not|no)\b",
    re.IGNORECASE,
)
_THANKS = re.compile(
    r"\b(thanks?|thx|ty|thank you|love|loved|great|awesome|amazing|appreciate\w*|excellent|"
    r"fantastic|wonderful|best|kudos|helpful|happy|glad|perfect|brilliant|nice|cheers)\b",
    re.IGNORECASE,
)
_REPEATED = re.compile(
    r"\b(again|still|(second|third|fourth|fifth|\d+(st|nd|rd|th)) time|"
    r"(two|three|four|five|\d+) times|keep(s)? (happening|asking|telling))\b|"
    r"\b(hours?|days?|weeks?) (now|already|later)\b|\bhow (many|much longer)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Sentiment:
    label: str  # negative / neutral / positive
    negative_probability: float
    frustration: bool
    probabilities: dict[str, float] = field(default_factory=dict)
    cues: tuple[str, ...] = ()  # why frustration was flagged, for the handoff record


def normalise(text: str) -> str:
    """Drop social-media handles and links: they address or point, they carry no sentiment."""
    cleaned = _SPACES.sub(" ", _URL.sub("", _HANDLE.sub("", text))).strip()
    return cleaned or text.strip()


def lexical_features(text: str) -> list[float]:
    words = _WORD.findall(text)
    capitals = sum(word.isupper() for word in words) / max(len(words), 1)
    return [
        min(text.count("!"), 3) / 3,
        float("?" in text),
        capitals,
        min(len(_COMPLAINT.findall(text)), 3) / 3,
        min(len(_THANKS.findall(text)), 2) / 2,
        min(len(words), 30) / 30,
    ]


def intensity_cues(text: str) -> tuple[str, ...]:
    words = [w for w in _WORD.findall(text) if len(w) > 2]
    cues = []
    if sum(w.isupper() for w in words) >= max(2, len(words) // 3):
        cues.append("capitals")
    if "!!" in text or "?!" in text or "??" in text:
        cues.append("repeated punctuation")
    if _REPEATED.search(text):
        cues.append("repeated or waiting")
    return tuple(cues)


def load_examples() -> tuple[list[str], list[str]]:
    texts, labels = [], []
    with EXAMPLES_FILE.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            texts.append(row["text"])
            labels.append(row["sentiment"])
    return texts, labels


class SentimentModel:
    def __init__(self, *, regularization: float = REGULARIZATION) -> None:
        self.regularization = regularization
        self._regression: LogisticRegression | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> SentimentModel:
        from supportops.integrations.embeddings import embed_texts

        cleaned = [normalise(t) for t in texts]
        return self.fit_vectors(embed_texts(cleaned), cleaned, labels)

    def fit_vectors(
        self, vectors: np.ndarray, texts: Sequence[str], labels: Sequence[str]
    ) -> SentimentModel:
        unknown = set(labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown sentiment labels: {sorted(unknown)}")
        regression = LogisticRegression(C=self.regularization, max_iter=3000)
        regression.fit(self._features(vectors, texts), list(labels))
        self._regression = regression
        return self

    def score_many(self, texts: Sequence[str]) -> list[Sentiment]:
        from supportops.integrations.embeddings import embed_texts

        cleaned = [normalise(t) for t in texts]
        return self.score_vectors(embed_texts(cleaned), cleaned)

    def score_vectors(self, vectors: np.ndarray, texts: Sequence[str]) -> list[Sentiment]:
        if self._regression is None:
            raise RuntimeError("the sentiment model has not been fitted")
        probabilities = self._regression.predict_proba(self._features(vectors, texts))
        classes = list(self._regression.classes_)
        results = []
        for text, row in zip(texts, probabilities, strict=True):
            by_label = {label: round(float(row[classes.index(label)]), 4) for label in LABELS}
            label = max(by_label, key=by_label.__getitem__)
            negative = by_label["negative"]
            cues = intensity_cues(text) if label == "negative" else ()
            results.append(
                Sentiment(
                    label=label,
                    negative_probability=negative,
                    frustration=negative >= FRUSTRATION_PROBABILITY or bool(cues),
                    probabilities=by_label,
                    cues=cues,
                )
            )
        return results

    @staticmethod
    def _features(vectors: np.ndarray, texts: Sequence[str]) -> np.ndarray:
        lexical = np.array([lexical_features(t) for t in texts], dtype=np.float32)
        return np.hstack([np.asarray(vectors, dtype=np.float32), lexical.reshape(len(texts), -1)])


_model: SentimentModel | None = None
_lock = threading.Lock()


def default_model() -> SentimentModel:
    """The model trained on the shipped examples, trained once per process on first use."""
    global _model
    with _lock:
        if _model is None:
            _model = SentimentModel().fit(*load_examples())
        return _model


def score(text: str) -> Sentiment:
    return default_model().score_many([text])[0]


def score_many(texts: Sequence[str]) -> list[Sentiment]:
    return default_model().score_many(texts)
