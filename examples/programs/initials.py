def initials(name):  # << START_OF_TRACE
    parts = name.split(" ")
    letters = [p[0].upper() for p in parts]
    return ".".join(letters)

initials("ada lovelace")
