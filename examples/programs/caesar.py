def shift_word(word, key):  # << START_OF_TRACE
    shifted = ""
    for letter in word:
        code = ord(letter) - ord("a")
        shifted += chr((code + key) % 26 + ord("a"))
    return shifted

shift_word("zoo", 2)
