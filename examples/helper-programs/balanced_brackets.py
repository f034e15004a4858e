def brackets_balanced(text):  # << START_OF_TRACE
    pairs = {")": "(", "]": "["}
    stack = []
    for ch in text:
        if ch in "([":
            stack.append(ch)
        elif ch in pairs:
            if not stack or stack.pop() != pairs[ch]:
                return False
    return len(stack) == 0


brackets_balanced("(a[b])c)")
