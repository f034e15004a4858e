def tidy_name(name):
    parts = name.strip().split()
    return " ".join([part[0].upper() + part[1:].lower() for part in parts])


def tidy_names(raw_names):  # << START_OF_TRACE
    cleaned = []
    for raw in raw_names:
        if raw.startswith("#"):
            continue
        cleaned.append(tidy_name(raw))
    cleaned.reverse()
    return cleaned


tidy_names(["  ada LOVELACE", "#skip me", "alan turing "])
