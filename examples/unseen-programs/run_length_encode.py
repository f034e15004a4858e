def run_length_encode(text):  # << START_OF_TRACE
    if not text:
        return ""
    parts = []
    current, count = text[0], 1
    for ch in text[1:]:
        if ch == current:
            count += 1
        else:
            parts.append(current + str(count))
            current, count = ch, 1
    parts.append(current + str(count))
    return "".join(parts)


run_length_encode("aaabcc")
