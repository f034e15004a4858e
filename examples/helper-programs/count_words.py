def count_words(sentence):  # << START_OF_TRACE
    counts = {}
    for word in sentence.lower().split():
        word = word.strip(".,!")
        counts[word] = counts.get(word, 0) + 1
    return counts


count_words("The cat saw the dog. The end!")
