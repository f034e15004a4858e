def word_lengths(text):  # << START_OF_TRACE
    lengths = {}
    for word in text.split():
        lengths[word] = len(word)
    return lengths

word_lengths("to be or not")
