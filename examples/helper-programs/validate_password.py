def has_digit(password):
    return any([ch.isdigit() for ch in password])


def check_password(password):  # << START_OF_TRACE
    problems = []
    if len(password) < 8:
        problems.append("too short")
    if password.lower() == password:
        problems.append("no uppercase")
    if not has_digit(password):
        problems.append("no digit")
    return len(problems) == 0, problems


check_password("Sunny7day")
