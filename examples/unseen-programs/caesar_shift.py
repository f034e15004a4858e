def shift_letter(ch, k):
    base = ord("a") if ch.islower() else ord("A")
    return chr((ord(ch) - base + k) % 26 + base)


def caesar_shift(message, k):  # << START_OF_TRACE
    out = []
    for ch in message:
        out.append(shift_letter(ch, k) if ch.isalpha() else ch)
    return "".join(out)


caesar_shift("Hi, Zoe", 3)
