def line_owner(cells):
    if cells[0] != "." and cells.count(cells[0]) == 3:
        return cells[0]
    return None


def find_winner(board):  # << START_OF_TRACE
    rows = [list(r) for r in board]
    cols = [[r[i] for r in rows] for i in range(3)]
    diags = [[rows[i][i] for i in range(3)], [rows[i][2 - i] for i in range(3)]]
    for line in rows + cols + diags:
        owner = line_owner(line)
        if owner:
            return owner
    return "draw"


find_winner(["XO.", "XOX", ".OX"])
