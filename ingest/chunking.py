"""Article -> passages of roughly 150 to 300 words, cut only between sentences, with offsets into the text."""

from __future__ import annotations

from rag.core.schema import Article, Passage
from rag.nlp.sentences import sentence_spans, words

__all__ = ["chunk_article", "chunk_spans"]


def chunk_spans(text: str, *, min_words: int = 150, max_words: int = 300, overlap: int = 1) -> list[tuple[int, int]]:
    """(start, end) of each passage. A passage closes before it would pass max_words, once it has min_words;
    the next one repeats the last `overlap` sentences. One sentence longer than max_words is a passage alone."""
    sents = sentence_spans(text)
    if not sents:
        return []
    counts = [len(words(text[s:e])) for s, e in sents]
    chunks: list[tuple[int, int]] = []  # as (first sentence, last sentence + 1)
    i = 0
    while i < len(sents):
        j, n = i, 0
        while j < len(sents) and (n + counts[j] <= max_words or j == i):
            n += counts[j]
            j += 1
            if n >= min_words and j < len(sents) and _paragraph_break(text, sents[j - 1][1], sents[j][0]) \
                    and n + counts[j] > (min_words + max_words) // 2:
                break  # a paragraph end past the middle of the range is a good place to cut
        chunks.append((i, j))
        if j >= len(sents):
            break
        i = max(j - overlap, i + 1) if j - i > overlap else j
    # A short tail folds into the passage before it when the two still fit.
    if len(chunks) > 1:
        (a, b), (_, d) = chunks[-2], chunks[-1]
        tail = sum(counts[b:d])
        if tail < min_words // 2 and sum(counts[a:d]) <= max_words + min_words // 2:
            chunks[-2:] = [(a, d)]
    return [(sents[a][0], sents[b - 1][1]) for a, b in chunks]


def _paragraph_break(text: str, end: int, start: int) -> bool:
    return text.count("\n", end, start) >= 2


def chunk_article(article: Article, *, min_words: int = 150, max_words: int = 300, overlap: int = 1) -> list[Passage]:
    spans = chunk_spans(article.text, min_words=min_words, max_words=max_words, overlap=overlap)
    return [
        Passage(
            id=f"{article.id}:{n}", article_id=article.id, index=n, start=s, end=e, text=article.text[s:e],
            title=article.title, source=article.source, published_at=article.published_at, url=article.url,
            author=article.author,
        )
        for n, (s, e) in enumerate(spans)
    ]
