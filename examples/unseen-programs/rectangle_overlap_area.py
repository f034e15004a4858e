def overlap_length(a1, a2, b1, b2):
    return max(0, min(a2, b2) - max(a1, b1))


def overlap_area(r1, r2):  # << START_OF_TRACE
    width = overlap_length(r1[0], r1[2], r2[0], r2[2])
    height = overlap_length(r1[1], r1[3], r2[1], r2[3])
    return width * height


overlap_area((0, 0, 5, 4), (3, 1, 8, 6))
