def letter_for(score):
    if score >= 90:
        return "A"
    elif score >= 80:
        return "B"
    elif score >= 70:
        return "C"
    return "F"


def grade_report(scores):  # << START_OF_TRACE
    grades = [letter_for(s) for s in scores]
    average = round(sum(scores) / len(scores), 1)
    return grades, average


grade_report([93, 78, 85, 61])
