def run_length_encode(text):  # << START_OF_TRACE
    pieces = []
    index = 0
    while index < len(text):
        current = text[index]
        run = 1
        while index + run < len(text) and text[index + run] == current:
            run += 1
        pieces.append(str(run) + current)
        index += run
    return "".join(pieces)


run_length_encode("aaabcc")
