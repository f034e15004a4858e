def is_palindrome(word):  # << START_OF_TRACE
    cleaned = word.lower().replace(" ", "")
    reversed_word = cleaned[::-1]
    return cleaned == reversed_word

is_palindrome("Race car")
