"""The baseline classifier: hashed TF-IDF word and character n-grams, logistic regression per mode.

Features are *hashed* counts (HashingVectorizer) so memory is bounded by the number of hash buckets, not by the
vocabulary of a corpus of megabyte traces, and so featurising needs no fitting: a segment's counts are the same
whichever segments are trained on, which lets the counts be computed once and the per-mode pipelines (TF-IDF
weighting, then logistic regression) be fitted fold by fold on them. The IDF weights are fitted inside each
fold, as a FeatureUnion of two TfidfVectorizers would be.

C is chosen by an inner stratified cross-validation (GridSearchCV) inside every outer fold, so the
out-of-fold predictions on the training segments are nested-cross-validated: the held-out fold took part in
neither the weights nor the choice of C. Outer folds keep segments of one trace body together
(StratifiedGroupKFold over trace content hashes), so a trace imported twice cannot sit on both sides.

scikit-learn is imported inside the functions: `annotator --help` must not pay for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np

MIN_FOLDS = 3  # outer folds; inner folds are one fewer, and need two to choose C


@dataclass(frozen=True)
class TfidfParams:
    """Everything that decides the classifier (it goes into the rater's hash)."""

    word_ngrams: tuple[int, int] = (1, 2)
    char_ngrams: tuple[int, int] = (3, 5)  # char_wb: n-grams inside words, padded with a space
    word_buckets: int = 2**18  # hashed feature columns per block; collisions are rare at this size
    char_buckets: int = 2**18
    cs: tuple[float, ...] = (0.01, 0.1, 1.0, 10.0, 100.0)  # the grid C is chosen from
    folds: int = 5  # outer folds at most; fewer when a mode has fewer positives (never below MIN_FOLDS)
    scoring: str = "neg_log_loss"  # a proper score: smooth where F1 on a fold of one positive jumps
    max_iter: int = 2000
    seed: int = 0  # shuffles the folds

    def as_dict(self) -> dict:
        return {k: list(v) if isinstance(v, tuple) else v for k, v in asdict(self).items()}


def vectorizers(params: TfidfParams):
    """The two hashing vectorizers (word, char_wb), raw counts: TF-IDF weighting comes per fold."""
    from sklearn.feature_extraction.text import HashingVectorizer

    common = {"alternate_sign": False, "norm": None, "lowercase": True, "dtype": np.float64}
    word = HashingVectorizer(analyzer="word", ngram_range=params.word_ngrams, n_features=params.word_buckets,
                             **common)
    char = HashingVectorizer(analyzer="char_wb", ngram_range=params.char_ngrams, n_features=params.char_buckets,
                             **common)
    return word, char


def featurize(texts: Sequence[str], params: TfidfParams):
    """Hashed counts of `texts`: a sparse matrix, word buckets then char buckets."""
    from scipy import sparse

    word, char = vectorizers(params)
    return sparse.hstack([word.transform(texts), char.transform(texts)], format="csr")


def columns(counts, *, start: int, stop: int):
    """Columns start:stop of the hashed counts (one block: word or char)."""
    return counts[:, start:stop]


def pipeline(params: TfidfParams, *, inner_folds: int):
    """TF-IDF weighting of each block (fitted on the training rows) and logistic regression with balanced
    class weights, C chosen by `inner_folds`-fold stratified cross-validation."""
    from sklearn.feature_extraction.text import TfidfTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, StratifiedKFold
    from sklearn.pipeline import FeatureUnion, Pipeline
    from sklearn.preprocessing import FunctionTransformer

    # A FeatureUnion of per-block pipelines: a ColumnTransformer spends most of a small fit listing the
    # 500k remainder columns. Sublinear TF: a word said 1,000 times in a long trace is not 1,000 times the cue.
    w, c = params.word_buckets, params.char_buckets
    blocks = FeatureUnion([
        (name, Pipeline([("columns", FunctionTransformer(columns, kw_args={"start": start, "stop": stop},
                                                         accept_sparse=True)),
                         ("tfidf", TfidfTransformer(sublinear_tf=True))]))
        for name, start, stop in (("word", 0, w), ("char", w, w + c))])
    inner = StratifiedKFold(n_splits=inner_folds, shuffle=True, random_state=params.seed)
    # GridSearchCV over LogisticRegression rather than LogisticRegressionCV, whose options and fitted
    # attributes change between scikit-learn 1.8 and 1.10; ties go to the first (smallest) C. liblinear's dual
    # solver works in the space of the (few) segments, not of the (many) hashed features.
    model = GridSearchCV(LogisticRegression(class_weight="balanced", solver="liblinear", dual=True,
                                            max_iter=params.max_iter, random_state=params.seed),
                         {"C": list(params.cs)}, cv=inner, scoring=params.scoring)
    return Pipeline([("tfidf", blocks), ("logreg", model)])


def outer_fold_count(y: np.ndarray, params: TfidfParams) -> int:
    """As many folds as asked, but no more than the rarer class has members (one of each per fold)."""
    return int(min(params.folds, (y == 1).sum(), (y == 0).sum()))


def untrainable_reason(y: np.ndarray, groups: np.ndarray, params: TfidfParams) -> str | None:
    """Why a mode cannot be trained on labels `y` (0/1), or None.

    Needs at least MIN_FOLDS positive and MIN_FOLDS negative segments, in as many different trace bodies: then
    every outer fold holds one of each, and every outer training part keeps at least two of each for the inner
    cross-validation that picks C.
    """
    positive, negative = int((y == 1).sum()), int((y == 0).sum())
    if min(positive, negative) < MIN_FOLDS:
        return (f"needs at least {MIN_FOLDS} positive and {MIN_FOLDS} negative segments "
                f"({MIN_FOLDS}-fold cross-validation)")
    k = outer_fold_count(y, params)
    for train, test in outer_splits(y, groups, params):
        for value, name in ((1, "positive"), (0, "negative")):
            if (y[test] == value).sum() == 0 or (y[train] == value).sum() < k - 1:
                return f"too few traces to give each of {k} folds a {name} segment"
    return None


def outer_splits(y: np.ndarray, groups: np.ndarray, params: TfidfParams) -> list[tuple[np.ndarray, np.ndarray]]:
    from sklearn.model_selection import StratifiedGroupKFold

    cv = StratifiedGroupKFold(n_splits=outer_fold_count(y, params), shuffle=True, random_state=params.seed)
    return list(cv.split(np.zeros(len(y)), y, groups))


@dataclass
class ModeFit:
    """One mode's classifier: out-of-fold P(present) on the training rows, and the model fit on all of them."""

    oof_probability: np.ndarray
    model: object  # the Pipeline fit on every training row (predicts every other segment)
    c: float  # the C the final model chose
    folds: int


def fit_mode(counts, y: np.ndarray, groups: np.ndarray, params: TfidfParams) -> ModeFit:
    """Nested cross-validation on the training rows, then one fit on all of them. `counts` come from
    `featurize`; `y` is 0/1; check `untrainable_reason` first."""
    from sklearn.model_selection import cross_val_predict

    splits = outer_splits(y, groups, params)
    k = len(splits)
    oof = cross_val_predict(pipeline(params, inner_folds=k - 1), counts, y, cv=splits, method="predict_proba")[:, 1]
    final = pipeline(params, inner_folds=k - 1).fit(counts, y)
    return ModeFit(oof_probability=oof, model=final, c=float(final[-1].best_params_["C"]), folds=k)


def present(probability: np.ndarray) -> np.ndarray:
    """0/1 labels from P(present): the classifier's own decision (balanced weights put it at 0.5)."""
    return (np.asarray(probability) > 0.5).astype(np.int8)
