"""Themes: what a period's customers wrote about, as clusters a manager can read.

`themes_find(texts=, vectors=)` takes the redacted first customer message of each
conversation and its embedding (`theme_vectors(texts)`: handles and links dropped, then the
workspace's embedding model) and returns a `ThemeSet`: a theme per message, and per theme a
readable label, its size and up to three examples closest to its centre. Nothing here reads
the database; trends against another period and outcome shares are the caller's, which maps
that period's messages onto these themes with `ThemeSet.assign(vectors)`.

How the themes are found:
- k-means (scikit-learn) on the embeddings with their mean removed (every message of a period
  shares a "customer writing to support" direction that says nothing about the topic).
- The number of themes is the method's own choice, at most `MAX_THEMES`: the elbow of the
  within-theme dispersion measured against structureless data. For each k on `K_GRID`,
  k-means' dispersion (inertia) on the messages is divided by its mean on `REFERENCES`
  Gaussian samples with the messages' mean and covariance (the reference of the gap
  statistic, Tibshirani, Walther and Hastie 2001); the chosen k is the knee of that curve
  (the point farthest below the chord from its first to its last point, Satopaa et al. 2011,
  "Kneedle"): where more themes stop explaining more than they would on data with no
  themes. Silhouette and the gap statistic's own rule both fall to one or two themes on
  real support traffic, whose topics overlap; a report of two themes says nothing.
  The criterion was chosen on the project's own labelled messages (see docs/benchmarks.md).
- Labels: the words that set a theme apart from the others (class-based TF-IDF over the
  messages), or the help-centre title nearest the theme's centre when that title sits inside
  the theme (no farther from the centre than the theme's own messages are).
K-means puts every message in a theme, so there is no "other" bucket here.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from supportops.text.sentiment import normalise

MAX_THEMES = 30
# Candidate numbers of themes: dense where a choice changes much, sparse where it does not.
K_GRID = (1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30)
# Structureless samples the dispersion is measured against.
REFERENCES = 3
# The number of themes is chosen on at most this many messages (a year of history can hold
# far more; the choice needs only a fair sample), then every message is clustered.
SELECTION_SAMPLE = 2000
EXAMPLES = 3
LABEL_WORDS = 3
SEED = 0
METHOD = "kmeans on MiniLM; k at the elbow of dispersion over a Gaussian reference; c-TF-IDF"

_PLACEHOLDER = re.compile(r"\[[A-Z_]+\]")
# Words of two or more letters; redaction placeholders are removed before this runs.
_WORD_PATTERN = r"(?u)\b[^\W\d_][^\W\d_'’]+\b"


def theme_text(text: str) -> str:
    """What the clustering reads of a (redacted) message: handles, links and redaction
    placeholders address or hide something, they say nothing about the topic."""
    return normalise(_PLACEHOLDER.sub(" ", text)) or text.strip()


def theme_vectors(texts: Sequence[str]) -> np.ndarray:
    """Embeddings for `themes_find` and `ThemeSet.assign`, with the configured model."""
    from supportops.integrations.embeddings import embed_texts

    return embed_texts([theme_text(text) for text in texts])


@dataclass(frozen=True)
class Theme:
    id: int
    label: str
    words: tuple[str, ...]  # the most distinctive words, best first
    article_title: str | None  # the help-centre title used as the label, if one fits
    size: int
    examples: tuple[int, ...]  # indices into the texts, closest to the centre first
    example_texts: tuple[str, ...]


@dataclass(frozen=True)
class ThemeSet:
    themes: list[Theme]
    assignments: np.ndarray  # theme id per input text
    centroids: np.ndarray  # unit vector per theme, in the embedding space
    method: str = METHOD
    # k -> k-means dispersion over the reference's (the curve the number of themes is read from)
    scores: dict[int, float] = field(default_factory=dict)

    def assign(self, vectors: np.ndarray) -> np.ndarray:
        """Theme ids for other messages (another period's), by the nearest theme centre."""
        vectors = np.asarray(vectors, dtype=np.float32)
        if not len(self.themes) or not len(vectors):
            return np.zeros(len(vectors), dtype=int)
        return np.asarray(np.argmax(_unit(vectors) @ self.centroids.T, axis=1), dtype=int)


def themes_find(
    *,
    texts: Sequence[str],
    vectors: np.ndarray,
    article_titles: Sequence[str] = (),
    article_vectors: np.ndarray | None = None,
) -> ThemeSet:
    """Cluster `texts` (with their `vectors` from `theme_vectors`) into at most
    `MAX_THEMES` themes; label them from the texts or from `article_titles` (with their
    embeddings in `article_vectors`)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    if len(texts) != len(vectors):
        raise ValueError(f"{len(texts)} texts but {len(vectors)} vectors")
    if len(article_titles) and (
        article_vectors is None or len(article_vectors) != len(article_titles)
    ):
        raise ValueError("article_vectors must hold one vector per article title")
    if not len(texts):
        return ThemeSet(themes=[], assignments=np.zeros(0, dtype=int), centroids=np.zeros((0, 0)))

    points = _unit(vectors)
    centred = points - points.mean(axis=0)
    k, scores = _choose_k(centred)
    if k == 1:
        assignments = np.zeros(len(texts), dtype=int)
    else:
        from sklearn.cluster import KMeans  # scikit-learn only when clustering (~100 MB)

        assignments = KMeans(k, n_init=4, random_state=SEED).fit_predict(centred)
    assignments = _number_by_size(assignments)
    count = int(assignments.max()) + 1
    centroids = _unit(np.vstack([points[assignments == t].mean(axis=0) for t in range(count)]))
    words = _distinctive_words([theme_text(text) for text in texts], assignments, count)
    titles = _fitting_titles(points, assignments, centroids, article_titles, article_vectors)
    themes = []
    for theme in range(count):
        members = np.flatnonzero(assignments == theme)
        examples = _examples(texts, members, points[members] @ centroids[theme])
        themes.append(
            Theme(
                id=theme,
                label=titles[theme] or ", ".join(words[theme][:LABEL_WORDS]) or "(no words)",
                words=tuple(words[theme]),
                article_title=titles[theme],
                size=len(members),
                examples=tuple(int(i) for i in examples),
                example_texts=tuple(texts[i] for i in examples),
            )
        )
    return ThemeSet(
        themes=themes,
        assignments=assignments,
        centroids=centroids.astype(np.float32),
        scores=scores,
    )


def _unit(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.where(norms == 0, 1.0, norms)


def _choose_k(points: np.ndarray) -> tuple[int, dict[int, float]]:
    """The knee of the dispersion curve relative to structureless data (module docstring).
    Returns the k and, per k, the dispersion ratio to the reference."""
    distinct = len(np.unique(points.round(6), axis=0))
    if distinct < 4:
        return max(1, distinct), {}
    rng = np.random.default_rng(SEED)
    if len(points) > SELECTION_SAMPLE:
        points = points[rng.choice(len(points), SELECTION_SAMPLE, replace=False)]
    # A theme needs a few messages: at least three per theme on average.
    candidates = [k for k in K_GRID if k <= min(MAX_THEMES, distinct - 1, len(points) // 3)]
    if len(candidates) < 3:
        return candidates[-1], {}
    references = [_gaussian_like(points, rng) for _ in range(REFERENCES)]
    ratio = np.array(
        [
            _dispersion(points, k) / np.mean([_dispersion(r, k) for r in references])
            for k in candidates
        ]
    )
    ks = np.asarray(candidates, dtype=float)
    x = (ks - ks[0]) / (ks[-1] - ks[0])
    span = ratio[0] - ratio[-1]
    if span <= 0:  # the data loses dispersion no faster than noise: no themes to find
        return 1, dict(zip(candidates, ratio.round(4).tolist(), strict=True))
    below_chord = (1 - x) - (ratio - ratio[-1]) / span
    # No point below the chord: every further theme still explains as much as the last (more
    # distinct topics than the list may show), so the list is as long as it may be.
    best = candidates[int(np.argmax(below_chord))] if below_chord.max() > 0 else candidates[-1]
    return best, dict(zip(candidates, ratio.round(4).tolist(), strict=True))


def _dispersion(points: np.ndarray, k: int) -> float:
    """k-means' within-cluster sum of squares."""
    from sklearn.cluster import KMeans

    return float(KMeans(k, n_init=2, random_state=SEED).fit(points).inertia_)


def _gaussian_like(points: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Structureless points with the sample's mean and covariance (Tibshirani's reference
    drawn along the principal components)."""
    centre = points.mean(axis=0)
    _, spread, axes = np.linalg.svd(points - centre, full_matrices=False)
    scale = spread / np.sqrt(max(len(points) - 1, 1))
    return centre + (rng.standard_normal((len(points), len(spread))) * scale) @ axes


def _number_by_size(assignments: np.ndarray) -> np.ndarray:
    """Theme 0 is the largest; ties by first appearance, so the numbering is stable."""
    ids, first, counts = np.unique(assignments, return_index=True, return_counts=True)
    order = sorted(range(len(ids)), key=lambda i: (-counts[i], first[i]))
    remap = np.empty(int(ids.max()) + 1, dtype=int)
    for new, i in enumerate(order):
        remap[ids[i]] = new
    return remap[assignments]


def _distinctive_words(texts: list[str], assignments: np.ndarray, count: int) -> list[list[str]]:
    """Class-based TF-IDF (as in BERTopic): a word's frequency in the theme, weighed by how
    rare it is across all themes; the best ten per theme."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS, CountVectorizer

    vectorizer = CountVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS), token_pattern=_WORD_PATTERN, lowercase=True
    )
    try:
        counts = vectorizer.fit_transform(texts)
    except ValueError:  # nothing but stop words
        return [[] for _ in range(count)]
    vocabulary = vectorizer.get_feature_names_out()
    per_theme = np.vstack(
        [np.asarray(counts[assignments == t].sum(axis=0)).ravel() for t in range(count)]
    ).astype(float)
    term_frequency = per_theme / np.maximum(per_theme.sum(axis=1, keepdims=True), 1.0)
    average_words = per_theme.sum() / count
    weight = term_frequency * np.log1p(average_words / np.maximum(per_theme.sum(axis=0), 1.0))
    words = []
    for theme in range(count):
        # A word used once in the theme says nothing about the theme, unless the theme is tiny.
        usable = per_theme[theme] >= min(2, per_theme[theme].max())
        ranked = np.argsort(-np.where(usable, weight[theme], -1.0), kind="stable")
        words.append(
            [str(vocabulary[i]) for i in ranked[:10] if usable[i] and weight[theme, i] > 0]
        )
    return words


def _fitting_titles(
    points: np.ndarray,
    assignments: np.ndarray,
    centroids: np.ndarray,
    titles: Sequence[str],
    title_vectors: np.ndarray | None,
) -> list[str | None]:
    """Per theme, the help-centre title nearest its centre if that title sits inside the
    theme: within the theme's radius (as near the centre as its farthest message; a title is
    short and worded unlike a customer, so it is rarely as close as a typical message), and
    nearer this theme's centre than any other's."""
    fitting: list[str | None] = [None] * len(centroids)
    if not len(titles) or title_vectors is None:
        return fitting
    similarity = _unit(np.asarray(title_vectors, dtype=np.float64)) @ centroids.T
    for theme in range(len(centroids)):
        best = int(np.argmax(similarity[:, theme]))
        radius = float(np.min(points[assignments == theme] @ centroids[theme]))
        if similarity[best, theme] >= radius and int(np.argmax(similarity[best])) == theme:
            fitting[theme] = titles[best]
    return fitting


def _examples(texts: Sequence[str], members: np.ndarray, closeness: np.ndarray) -> list[int]:
    """Up to three members nearest the centre, one per distinct text."""
    chosen: list[int] = []
    seen: set[str] = set()
    for i in members[np.argsort(-closeness, kind="stable")]:
        key = texts[i].strip().lower()
        if key not in seen:
            seen.add(key)
            chosen.append(int(i))
        if len(chosen) == EXAMPLES:
            break
    return chosen
