def count_words(sentence):
    counts = {}
    for word in sentence.lower().split():
        word = word.strip(".,!?")
        counts[word] = counts.get(word, 0) + 1
    return counts


def most_common_word(sentence):  # << START_OF_TRACE
    counts = count_words(sentence)
    best, best_count = None, 0
    for word, c in counts.items():
        if c > best_count:
            best, best_count = word, c
    return best, best_count


most_common_word("The dog saw the cat. The cat ran!")
