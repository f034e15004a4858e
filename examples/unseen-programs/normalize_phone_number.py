def normalize_phone(raw):  # << START_OF_TRACE
    digits = ""
    for ch in raw:
        if ch.isdigit():
            digits += ch
    if len(digits) != 10:
        return None
    return digits[:3] + "-" + digits[3:6] + "-" + digits[6:]


normalize_phone("(555) 123 4567")
