def count_vowels(sentence):  # << START_OF_TRACE
    vowels = "aeiou"
    count = 0
    for ch in sentence.lower():
        if ch in vowels:
            count += 1
    return count

count_vowels("Hi Bob")
