def letter_grade(scores):  # << START_OF_TRACE
    avg = sum(scores) / len(scores)
    if avg >= 90:
        return "A"
    elif avg >= 80:
        return "B"
    elif avg >= 70:
        return "C"
    return "F"


letter_grade([88, 74, 91])
