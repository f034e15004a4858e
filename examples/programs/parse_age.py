def parse_age(text):  # << START_OF_TRACE
    try:
        age = int(text)
    except ValueError:
        return None
    if age < 0:
        raise ValueError("age must be positive")
    return age

parse_age("-3")
