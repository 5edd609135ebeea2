"""Tables and CSV files of results.

Two table formats: :func:`text_table` for a terminal (the demo) and
:func:`markdown_table` for reports that GitHub and the documentation render
(the benchmarks). CSV cells hold full-precision numbers; the tables hold
them formatted (:func:`fmt`).
"""

import csv


def fmt(value, spec):
    """Format a number, or return "" for a missing one.

    Parameters
    ----------
    value : number, None or ""
        The value; None and "" are missing.
    spec : str
        A format specification, e.g. ".3g".

    Returns
    -------
    text : str
        The formatted number, or "".
    """
    if value is None or value == "":
        return ""
    return format(value, spec)


def text_table(header, rows):
    """A left-aligned plain-text table, columns separated by two spaces.

    Parameters
    ----------
    header : sequence of str
        Column titles, underlined by dashes.
    rows : list of sequence
        Cells, one sequence per row, as many as ``header``.

    Returns
    -------
    text : str
        No trailing spaces on any line.

    Examples
    --------
    >>> print(text_table(["a", "bb"], [["xyz", 1]]))
    a    bb
    ---  --
    xyz  1
    """
    widths = [
        max(len(str(cell)) for cell in column)
        for column in zip(header, *rows, strict=True)
    ]
    lines = [
        "  ".join(
            str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)
        )
        for row in [header, ["-" * width for width in widths], *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)


def markdown_table(header, rows):
    """A Markdown table.

    Parameters
    ----------
    header : sequence of str
        Column titles.
    rows : list of sequence of str
        Cells, one sequence per row.

    Returns
    -------
    text : str
        The header, its separator and one line per row.

    Examples
    --------
    >>> print(markdown_table(["a", "b"], [["1", "2"]]))
    | a | b |
    |---|---|
    | 1 | 2 |
    """
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def contestant_table(rows, columns):
    """The Markdown table of a benchmark's contestants, one row each.

    Parameters
    ----------
    rows : list of dict
        Each with ``"contestant"`` and ``"placement"`` (where its data live)
        and the keys of ``columns`` (a missing one is an empty cell).
    columns : sequence of (key, heading, spec)
        The further columns: the row's key, the column's title and the
        format spec of :func:`fmt`.

    Returns
    -------
    text : str
    """
    header = ["contestant", "data on", *(heading for _, heading, _ in columns)]
    cells = [
        [row["contestant"], row["placement"]]
        + [fmt(row.get(key), spec) for key, _, spec in columns]
        for row in rows
    ]
    return markdown_table(header, cells)


def bullet_list(title, items):
    """A titled Markdown list, e.g. the notes closing a report.

    Parameters
    ----------
    title : str
        The line before the list (a blank line separates them).
    items : sequence of str
        One bullet each.

    Returns
    -------
    text : str
        The title, a blank line and one "- item" line per item.
    """
    return f"{title}\n\n" + "\n".join(f"- {item}" for item in items)


def join_warnings(messages, width):
    """Distinct messages, each cut to ``width`` characters, in one cell.

    Parameters
    ----------
    messages : iterable of str
        Warning messages, repeats included.
    width : int
        Characters kept of each.

    Returns
    -------
    text : str
        Sorted, separated by " | ".
    """
    return " | ".join(sorted({message[:width] for message in messages}))


def group_by(rows, key):
    """Group rows by one of their values, groups in order of appearance.

    Parameters
    ----------
    rows : iterable of dict
        Rows of a table.
    key : str
        The key to group on, e.g. "dataset".

    Returns
    -------
    groups : dict
        Value -> list of its rows, in their order.
    """
    groups = {}
    for row in rows:
        groups.setdefault(row[key], []).append(row)
    return groups


def write_csv(path, rows, columns):
    """Write every row: the given columns first, then any other keys.

    Parameters
    ----------
    path : path-like
        The CSV file.
    rows : list of dict
        One dict per line; missing keys and None give empty cells.
    columns : sequence of str
        The leading columns, in order.
    """
    columns = list(columns)
    for row in rows:
        columns += [key for key in row if key not in columns]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def read_csv(path):
    """The rows of a CSV file as dicts; numbers stay strings (empty = missing).

    Parameters
    ----------
    path : path-like
        The CSV file, with a header line.

    Returns
    -------
    rows : list of dict
        Column -> cell text, one dict per line.
    """
    with open(path, newline="") as handle:
        return list(csv.DictReader(handle))


def number(row, key):
    """A cell of a row read by :func:`read_csv` as a float, None if empty.

    Parameters
    ----------
    row : dict
        One row.
    key : str
        The column; a missing column counts as empty.

    Returns
    -------
    value : float or None
        The number, None for an empty cell.
    """
    value = row.get(key, "")
    return float(value) if value not in ("", None) else None
