def format_full_names(people):  # << START_OF_TRACE
    result = []
    for first, last in people:
        name = first.strip().capitalize() + " " + last.strip().capitalize()
        result.append(name)
    return sorted(result, key=len)


format_full_names([("  mary", "SMITH"), ("li", "wu"), ("jo", "ANDERSON ")])
