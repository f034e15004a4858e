def classify_triangle(a, b, c):  # << START_OF_TRACE
    sides = sorted([a, b, c])
    if sides[0] + sides[1] <= sides[2]:
        raise ValueError("not a triangle")
    if a == b == c:
        return "equilateral"
    if a == b or b == c or a == c:
        return "isosceles"
    return "scalene"


classify_triangle(3, 4, 9)
