def find_duplicate_emails(emails):  # << START_OF_TRACE
    seen = set()
    dupes = []
    for email in emails:
        key = email.strip().lower()
        if key in seen and key not in dupes:
            dupes.append(key)
        seen.add(key)
    return dupes


find_duplicate_emails(["Ann@x.com", "bob@y.org", " ann@x.com", "cy@z.net"])
