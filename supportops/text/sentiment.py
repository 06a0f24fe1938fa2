"""Sentiment and frustration of a customer message.

A logistic regression over the message's embedding (all-MiniLM-L6-v2), tf-idf word unigrams
and bigrams fitted on the training examples (min_df 2), plus cheap lexical signals:
exclamation marks, question mark, share of words in capitals, counts of complaint and thanks
words, length, and a small hand-written valence lexicon (words, emoji and emoticons, with
negation scope, intensifiers, "but" clauses and shouted words). It is trained on first use
from supportops/text/data/sentiment_examples.csv, which the project wrote
(scripts/make_text_examples.py: messages to shops, subscriptions, software, banks, telecoms,
travel booking, utilities, delivery and local services; complaints, calm questions and
reports of a problem, thanks and praise, sarcasm and mixed feelings), and kept in memory;
nothing is persisted. The regularisation and the weight of negative examples (CLASS_WEIGHT)
were checked by 5-fold cross-validation on those examples
(scripts/crossvalidate_text_models.py --grid); figures are in docs/benchmarks.md.

`frustration` is the signal the bot's handoff trigger reads: a clearly negative message
(probability at or above FRUSTRATION_PROBABILITY), or a negative one that shouts, repeats
itself or says it has waited. A calm question about a problem is not frustration.
"""

from __future__ import annotations

import math
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from supportops.text.examples import DATA_DIR, read_examples

# scikit-learn (and the pandas it pulls in) is imported when a model is first fitted: a process
# that never scores sentiment (an export, a dashboard) saves ~100 MB.
if TYPE_CHECKING:
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

EXAMPLES_FILE = DATA_DIR / "sentiment_examples.csv"
LABELS = ("negative", "neutral", "positive")
REGULARIZATION = 3.0
# The written examples hold fewer negatives than support traffic does (most messages to a
# support handle are complaints), so a negative example counts this much more in training.
CLASS_WEIGHT = {"negative": 2.5, "neutral": 1.0, "positive": 1.0}
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

# Single-token cues, matched against lower-case tokens (negation-aware counts).
_POSITIVE_CUE = re.compile(
    r"thanks?|thx|ty|love[ds]?|loving|great|awesome|amazing|appreciate\w*|excellent|"
    r"fantastic|wonderful|best|kudos|helpful|happy|glad|perfect|brilliant|nice|cheers|good|"
    r"smooth|friendly|kind|excited|yay|woo+hoo|enjoy\w*|pleasure|impressed|rocks?|sweet|cool|"
    r"fab|stellar|superb|grateful|delighted|pleased|favou?rite|lovely|legend|lifesaver|star|"
    r"hero|quick|fast|easy|early|comfy|comfortable|beautiful|props"
)
_NEGATIVE_CUE = re.compile(
    r"delay\w*|cancel\w*|lost|los(e|ing)|hold|rude|worst|terrible|awful|horrible|never|still|"
    r"fail\w*|broken?|stuck|miss(ed|ing)|wrong|sucks?|hate[ds]?|angry|furious|annoy\w*|"
    r"frustrat\w*|ridiculous|unacceptable|disappoint\w*|useless|joke|waste\w*|nightmare|"
    r"pathetic|disgust\w*|disgrace\w*|poor|bad|worse|ugh+|smh|wtf|seriously|shame\w*|"
    r"shocking|ruin\w*|stranded|late|overbooked|bumped|charged|fees?|refund|nobody|ignor\w*|"
    r"again|hours?|waiting|waited|upset|sad|tired|sick|done|scam|lie[ds]?|lying|liars?|mess|"
    r"crap|damn|hell|clueless|incompetent|unhelpful|dirty|filthy|cold|crash\w*|error|down|"
    r"outage|issue|problem"
)
_NEGATOR_CUE = re.compile(
    r"not|no|never|n't|cannot|cant|dont|didnt|doesnt|isnt|wasnt|wont|without|hardly|\w+n't"
)
_CUE_TOKEN = re.compile(r"[a-z']+|[^\sa-z']")
_STARTS_WITH_THANKS = re.compile(r"\W*(thanks|thank you|thx|ty)\b")
_HAPPY_FACE = re.compile(r"[:;]-?\)|:-?d\b|<3")
_SAD_FACE = re.compile(r":-?\(|:/")
_POSITIVE_EMOJI = "😀😃😄😁😊🙂😍🥰😘❤💕💖👍🙌👏💪🎉✈☺😎🤩💯🙏"
_NEGATIVE_EMOJI = "😡😠😤🙄👎😞😢😭😩😫🤬💩😒😣😖🥵🤡😑😐"

# A small valence lexicon written for support messages: word -> weight.
_VALENCE: dict[str, float] = {}


def _weigh(weight: float, words: str) -> None:
    for word in words.split():
        _VALENCE[word] = weight


_weigh(
    3.0,
    "love loved loving amazing awesome excellent fantastic wonderful brilliant superb "
    "outstanding perfect best incredible phenomenal stellar delighted thrilled legend lifesaver "
    "exceptional flawless",
)
_weigh(
    2.0,
    "thanks thank thankyou thx ty tysm great appreciate appreciated appreciates happy glad "
    "pleased impressed kudos helpful nice lovely good cool sweet excited yay enjoy enjoyed "
    "grateful cheers smooth friendly kind comfortable comfy beautiful favourite favorite rock "
    "rocks star hero pleasure recommend fab gorgeous props congrats congratulations seamless "
    "efficient professional courteous polite fun woohoo hooray wow better fixed sorted solved "
    "resolved safe",
)
_weigh(1.0, "easy quick fast early ok okay fine well welcome please hope")
_weigh(
    -3.0,
    "worst terrible awful horrible disgusting disgraceful disgrace pathetic unacceptable "
    "ridiculous furious hate hated useless joke nightmare appalling atrocious shameful "
    "incompetent scam liars ruined wtf sucks suck crap clowns outrageous unbelievable "
    "disrespectful garbage trash",
)
_weigh(
    -2.0,
    "bad poor rude disappointed disappointing disappointment annoyed annoying frustrated "
    "frustrating frustration angry upset fail failed fails failure broken lost stuck stranded "
    "delayed delay delays cancelled canceled cancellation missed wrong worse waste wasted "
    "ignored ignoring ignore unhelpful dirty filthy late overbooked bumped ugh smh sad unhappy "
    "tired sick ashamed shame shocking mess damaged lie lied lying hassle chaos disaster "
    "nobody clueless pissed mad nope horrendous ridiculously screwed sigh fed dropped "
    "misleading overcharged cheated unprofessional",
)
_weigh(
    -1.0,
    "still again hold waiting waited wait charged fee fees refund apparently seriously "
    "problem issue issues error never no-one complaint complain hours forever nothing "
    "why cant can't won't didn't doesn't isn't",
)


def _word_set(words: str) -> frozenset[str]:
    return frozenset(words.split())


_NEGATORS = _word_set(
    "not no never cannot cant dont didnt doesnt isnt wasnt wont arent havent hasnt without "
    "hardly nor neither"
)
_INTENSIFIERS = _word_set(
    "very so really extremely absolutely totally super incredibly completely truly "
    "highly seriously utterly such most"
)
_SENTENCE_END = frozenset(".!?;")
_PUNCTUATION = frozenset(".,!?;:")
_EMOJI_VALENCE = {
    **dict.fromkeys("😀😃😄😁😊🙂😍🥰😘❤💕💖💙💜👍🙌👏💪🎉☺😎🤩💯🙏😇🥳✨🌟😻💗", 2.0),
    **dict.fromkeys("😡😠😤🙄👎😞😢😭😩😫🤬💩😒😣😖🥵🤡😑😕😟😔😓🙃💔😱", -2.0),
}
_EMOTICON = re.compile(r"(?<!\w)([:;=]-?[)D\]pP]|<3|[:;=]-?[(/\\]|:'\()(?!\w)")
_VALENCE_TOKEN = re.compile(r"[A-Za-z][A-Za-z']*|[.!?;,]|[^\sA-Za-z0-9]")


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


def valence(text: str) -> tuple[float, float]:
    """Positive and negative strength from the lexicon, emoji and emoticons.

    A negator ("not", "never", "...n't") turns the next three words: a positive word becomes
    mildly negative ("not helpful"), a negative one is softened ("not bad"). An intensifier
    ("so", "really") strengthens the next word, a word in capitals inside a normal sentence
    counts more, and what comes before "but" counts half.
    """
    not_all_caps = not text.isupper()
    scope, boost = 0, 1.0
    values: list[float] = []
    for token in _VALENCE_TOKEN.findall(text):
        low = token.lower().replace("\u2019", "'")
        if low in _SENTENCE_END:
            scope, boost = 0, 1.0
            continue
        if low == ",":
            continue
        if low == "but":
            values = [value * 0.5 for value in values]
            continue
        if low in _NEGATORS or low.endswith("n't"):
            scope = 3
            if low in _VALENCE:
                values.append(_VALENCE[low])
            continue
        if low in _INTENSIFIERS:
            boost = 1.4
            continue
        weight = _VALENCE.get(low, _EMOJI_VALENCE.get(token))
        if weight is not None:
            if token.isupper() and len(token) > 2 and not_all_caps:
                weight *= 1.3
            weight *= boost
            if scope:
                weight = -0.7 * weight if weight > 0 else 0.5 * weight
            values.append(weight)
            boost = 1.0
        if scope:
            scope -= 1
    for face in _EMOTICON.findall(text):
        values.append(-2.0 if any(c in face for c in "(/\\") else 2.0)
    positive = sum(value for value in values if value > 0)
    negative = -sum(value for value in values if value < 0)
    return positive, negative


def _cue_counts(low: str) -> tuple[float, float]:
    """Positive and negative cue words, a positive one within three words of a negator
    counting as negative ("not happy", "no help")."""
    positive = negative = 0.0
    scope = 0
    for piece in _CUE_TOKEN.findall(low):
        if _NEGATOR_CUE.fullmatch(piece):
            scope = 3
            continue
        if piece in _PUNCTUATION:
            scope = 0
            continue
        if _POSITIVE_CUE.fullmatch(piece):
            if scope:
                negative += 1
            else:
                positive += 1
        elif _NEGATIVE_CUE.fullmatch(piece):
            negative += 1
        scope = max(scope - 1, 0)
    return positive, negative


def lexical_features(text: str) -> list[float]:
    words = _WORD.findall(text)
    capitals = sum(word.isupper() for word in words) / max(len(words), 1)
    low = text.lower()
    positive, negative = _cue_counts(low)
    happy = sum(low.count(e) for e in _POSITIVE_EMOJI) + len(_HAPPY_FACE.findall(low))
    sad = sum(low.count(e) for e in _NEGATIVE_EMOJI) + len(_SAD_FACE.findall(low))
    strength_positive, strength_negative = valence(text)
    return [
        min(text.count("!"), 3) / 3,
        float("?" in text),
        capitals,
        min(len(_COMPLAINT.findall(text)), 3) / 3,
        min(len(_THANKS.findall(text)), 2) / 2,
        min(len(words), 30) / 30,
        min(positive, 3) / 3,
        min(negative, 4) / 4,
        min(happy, 2) / 2,
        min(sad, 2) / 2,
        float("?" in text and positive == 0 and negative == 0),  # a question with no feeling
        float(bool(_STARTS_WITH_THANKS.match(low))),
        min(text.count("#"), 3) / 3,
        math.tanh(strength_positive / 4),
        math.tanh(strength_negative / 4),
        math.tanh((strength_positive - strength_negative) / 4),
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
    return read_examples(EXAMPLES_FILE, label_column="sentiment")


class SentimentModel:
    def __init__(self, *, regularization: float = REGULARIZATION) -> None:
        self.regularization = regularization
        self._regression: LogisticRegression | None = None
        self._words: TfidfVectorizer | None = None

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> SentimentModel:
        from supportops.integrations.embeddings import embed_corpus

        cleaned = [normalise(t) for t in texts]
        return self.fit_vectors(embed_corpus(cleaned), cleaned, labels)

    def fit_vectors(
        self, vectors: np.ndarray, texts: Sequence[str], labels: Sequence[str]
    ) -> SentimentModel:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression

        unknown = set(labels) - set(LABELS)
        if unknown:
            raise ValueError(f"unknown sentiment labels: {sorted(unknown)}")
        self._words = TfidfVectorizer(ngram_range=(1, 2), min_df=2, sublinear_tf=True)
        self._words.fit(texts)
        regression = LogisticRegression(
            C=self.regularization, max_iter=3000, class_weight=CLASS_WEIGHT
        )
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

    def _features(self, vectors: np.ndarray, texts: Sequence[str]) -> sparse.csr_matrix:
        from scipy import sparse

        if self._words is None:
            raise RuntimeError("the sentiment model has not been fitted")
        lexical = np.array([lexical_features(t) for t in texts], dtype=np.float32)
        dense = np.hstack([np.asarray(vectors, dtype=np.float32), lexical.reshape(len(texts), -1)])
        return sparse.hstack([sparse.csr_matrix(dense), self._words.transform(texts)]).tocsr()


_model: SentimentModel | None = None
_lock = threading.Lock()


def default_model() -> SentimentModel:
    """The model trained on the shipped examples, trained once per process on first use."""
    global _model
    with _lock:
        if _model is None:
            _model = SentimentModel().fit(*load_examples())
        return _model


def score(text: str, *, vector: np.ndarray | None = None) -> Sentiment:
    """The sentiment of one message. `vector`, the embedding of `text` as it stands, saves
    embedding it again when normalising changes nothing but spacing (no handles or links),
    which the model's tokenizer does not see."""
    model = default_model()
    cleaned = normalise(text)
    if vector is not None and cleaned == _SPACES.sub(" ", text).strip():
        return model.score_vectors(np.asarray(vector)[None, :], [cleaned])[0]
    return model.score_many([text])[0]


def score_many(texts: Sequence[str]) -> list[Sentiment]:
    return default_model().score_many(texts)
