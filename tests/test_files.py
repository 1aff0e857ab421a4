"""Reading label matrices / labels from files and writing results (tripletws.files)."""

from __future__ import annotations

import sys

import numpy as np
import pytest

from tripletws.files import read_labels, read_matrix, write_array

L = np.array([[0, 1, -1], [1, 1, 0], [-1, -1, 1], [1, 0, 0]], dtype=np.int8)
Y = np.array([0, 1, -1, 1])


def test_npy_is_memory_mapped(tmp_path) -> None:
    np.save(tmp_path / "L.npy", L)
    arr = read_matrix(tmp_path / "L.npy")
    assert isinstance(arr, np.memmap)
    np.testing.assert_array_equal(arr, L)


def test_npz_keys(tmp_path) -> None:
    np.savez(tmp_path / "d.npz", L=L, y=Y, other=L + 1)
    np.testing.assert_array_equal(read_matrix(tmp_path / "d.npz"), L)
    np.testing.assert_array_equal(read_matrix(tmp_path / "d.npz", key="other"), L + 1)
    np.testing.assert_array_equal(read_labels(tmp_path / "d.npz"), Y)
    with pytest.raises(ValueError, match=r"no array 'votes' .*arrays: L, y, other.*--key"):
        read_matrix(tmp_path / "d.npz", key="votes")
    np.savez(tmp_path / "single.npz", weak=L)
    np.testing.assert_array_equal(read_matrix(tmp_path / "single.npz"), L)


@pytest.mark.parametrize(
    "text",
    [
        "0,1,-1\n1,1,0\n-1,-1,1\n1,0,0\n",
        "lf_a,lf_b,lf_c\n0,1,-1\n1,1,0\n-1,-1,1\n1,0,0\n",
        '"a","b","c"\n0,1,-1\n1,1,0\n-1,-1,1\n1,0,0\n',
        "a\tb\tc\n0\t1\t-1\n1\t1\t0\n-1\t-1\t1\n1\t0\t0\n",
        "\n0 1 -1\n1 1 0\n-1 -1 1\n1 0 0\n",
        "0.0,1.0,-1.0\n1,1,0\n-1,-1,1\n1,0,0\n",
    ],
    ids=["plain", "header", "quoted-header", "tabs", "spaces", "floats"],
)
def test_csv_variants(tmp_path, text) -> None:
    path = tmp_path / "L.csv"
    path.write_text(text)
    arr = read_matrix(path)
    np.testing.assert_array_equal(arr, L)
    assert arr.dtype.kind == "i"


def test_csv_problems(tmp_path) -> None:
    path = tmp_path / "L.csv"
    path.write_text("0,1,\n1,1,0\n")
    with pytest.raises(ValueError, match=r"L.csv: cannot parse"):
        read_matrix(path)
    # a cell that is not a number: data row and column counted from 0, as the validation's messages
    path.write_text("a,b,c\n0,1,-1\n1,x,0\n")
    with pytest.raises(ValueError, match=r"'x' .* at row 1, column 1\b"):
        read_matrix(path)
    path.write_text("a,b,c\n")
    assert read_matrix(path).shape == (0, 3)  # no rows: validation reports it where rows are needed
    path.write_text("")
    with pytest.raises(ValueError, match="empty CSV"):
        read_matrix(path)
    path.write_text("0,0.5,1\n")
    assert read_matrix(path).dtype.kind == "f"  # left for validation to report


def test_labels_csv_row_or_column(tmp_path) -> None:
    (tmp_path / "col.csv").write_text("y\n0\n1\n-1\n1\n")
    (tmp_path / "row.csv").write_text("0,1,-1,1\n")
    np.testing.assert_array_equal(read_labels(tmp_path / "col.csv"), Y)
    np.testing.assert_array_equal(read_labels(tmp_path / "row.csv"), Y)
    (tmp_path / "two.csv").write_text("1,0\n0,1\n")
    with pytest.raises(ValueError, match="one column"):
        read_labels(tmp_path / "two.csv")


def test_bad_files(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        read_matrix(tmp_path / "missing.npy")
    with pytest.raises(ValueError, match=r"unsupported file type '.txt'"):
        read_matrix(tmp_path / "L.txt")
    (tmp_path / "bad.npy").write_bytes(b"not numpy at all")
    with pytest.raises(ValueError, match=r"bad.npy: not a readable .npy"):
        read_matrix(tmp_path / "bad.npy")
    np.save(tmp_path / "obj.npy", np.array([[None, 1, 2]], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match=r"obj.npy"):
        read_matrix(tmp_path / "obj.npy")
    np.save(tmp_path / "vec.npy", Y)
    with pytest.raises(ValueError, match="2-dimensional"):
        read_matrix(tmp_path / "vec.npy")
    (tmp_path / "bad.npz").write_bytes(b"PK garbage")
    with pytest.raises(ValueError, match=r"bad.npz"):
        read_matrix(tmp_path / "bad.npz")


@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".parquet"])
def test_write_read_round_trip(tmp_path, suffix) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    probs = np.array([[0.25, 0.75], [1 / 3, 2 / 3]])
    path = tmp_path / f"probs{suffix}"
    write_array(path, probs, columns=["p0", "p1"])
    np.testing.assert_allclose(read_matrix(path, key="y"), probs, rtol=1e-9)
    labels = np.array([1, -1, 0])
    path = tmp_path / f"labels{suffix}"
    write_array(path, labels, columns=["y"])
    np.testing.assert_array_equal(read_labels(path), labels)


def test_parquet_reads_columns(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"lf0": L[:, 0], "lf1": L[:, 1], "lf2": L[:, 2], "y": Y}), tmp_path / "d.parquet")
    np.testing.assert_array_equal(read_labels(tmp_path / "d.parquet"), Y)
    pq.write_table(pa.table({"a": ["x", "y"]}), tmp_path / "s.parquet")
    with pytest.raises(ValueError, match="column 'a' is not numeric"):
        read_matrix(tmp_path / "s.parquet")


def test_parquet_without_pyarrow(tmp_path, monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    monkeypatch.setitem(sys.modules, "pyarrow.parquet", None)
    (tmp_path / "L.parquet").write_bytes(b"PAR1")
    with pytest.raises(ValueError, match="needs pyarrow"):
        read_matrix(tmp_path / "L.parquet")
    with pytest.raises(ValueError, match="needs pyarrow"):
        write_array(tmp_path / "out.parquet", L)


def test_a_scipy_sparse_archive_gets_a_pointed_error(tmp_path) -> None:
    import scipy.sparse as sp

    sp.save_npz(tmp_path / "L.npz", sp.csr_array(np.array([[1, 0, 2], [0, 1, 1]])))
    with pytest.raises(ValueError, match=r"L.npz: a scipy.sparse matrix .*scipy.sparse.load_npz"):
        read_matrix(tmp_path / "L.npz")


def test_parquet_with_a_pandas_index_column_is_refused(tmp_path) -> None:
    """A shuffled frame written with its index: the index was read as one more LF (k inferred from
    its values: a 300-class model)."""
    pd = pytest.importorskip("pandas")
    pytest.importorskip("pyarrow")
    frame = pd.DataFrame(np.random.default_rng(0).integers(-1, 2, (300, 5)), columns=list("abcde"))
    frame.sample(frac=1, random_state=0).to_parquet(tmp_path / "shuffled.parquet")
    with pytest.raises(ValueError, match=r"shuffled\.parquet: column\(s\) \['__index_level_0__'\] hold"):
        read_matrix(tmp_path / "shuffled.parquet")
    frame.set_index("a").to_parquet(tmp_path / "indexed.parquet")
    with pytest.raises(ValueError, match=r"\['a'\] hold the pandas index"):
        read_matrix(tmp_path / "indexed.parquet")
    frame.to_parquet(tmp_path / "range.parquet")  # a RangeIndex is metadata only: read as written
    np.testing.assert_array_equal(read_matrix(tmp_path / "range.parquet"), frame.to_numpy())


@pytest.mark.parametrize("damage", ["truncated", "flipped"])
def test_a_damaged_npz_is_a_value_error_naming_the_path(tmp_path, damage) -> None:
    """zipfile.BadZipFile and zlib.error used to escape (the CLI said 'unexpected BadZipFile')."""
    path = tmp_path / "L.npz"
    np.savez_compressed(path, L=np.random.default_rng(1).integers(-1, 2, (3000, 5)))
    data = bytearray(path.read_bytes())
    if damage == "truncated":
        data = data[: len(data) // 2]
    else:  # inside the compressed member: a bad CRC or a bad deflate stream
        data[len(data) // 3] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match=r"L\.npz: "):
        read_matrix(path)
    with pytest.raises(ValueError, match=r"L\.npz: "):
        read_labels(path)


def test_csv_header_names_with_the_delimiter_inside_quotes(tmp_path) -> None:
    """pandas quotes a name holding the delimiter ("kw,0"): the header was split on it and dropped,
    and with it the check of the columns' order."""
    from tripletws.files import read_matrix_named

    (tmp_path / "q.csv").write_text('"kw,0","kw,1",plain\n1,0,-1\n0,1,1\n')
    L, names = read_matrix_named(tmp_path / "q.csv")
    assert names == ["kw,0", "kw,1", "plain"] and L.tolist() == [[1, 0, -1], [0, 1, 1]]
    (tmp_path / "t.csv").write_text("a,b,c,\n1,0,-1\n0,1,1\n")  # a trailing delimiter after the names
    assert read_matrix_named(tmp_path / "t.csv")[1] == ["a", "b", "c"]


@pytest.mark.parametrize(
    ("text", "shape", "names"),
    [
        ("-nan\n0\n1\n", (3, 1), None),  # a first row of missing values is data (was a header: row lost)
        ("-1,-1,+nan\n1,0,0\n", (2, 3), None),
        ('a,"""q"""\n1,0\n', (1, 2), ["a", '"q"']),  # a quote inside a quoted name is kept
        ('"lf a" b\n1 0\n', (1, 2), ["lf a", "b"]),  # quoted names in a whitespace-delimited file
        ("a,b,\n", (0, 2), ["a", "b"]),  # a header alone, with a trailing delimiter
        ("١,٢\n1,0\n", (1, 2), ["١", "٢"]),  # digits of other scripts are names, not numbers
    ],
)
def test_csv_header_rule_edges(tmp_path, text, shape, names) -> None:
    from tripletws.files import read_matrix_named

    (tmp_path / "x.csv").write_text(text, encoding="utf-8")
    L, got = read_matrix_named(tmp_path / "x.csv")
    assert L.shape == shape and got == names


def test_csv_header_errors_are_value_errors_naming_the_file(tmp_path) -> None:
    (tmp_path / "long.csv").write_text("a" * 140_000 + ",b\n1,0\n")  # beyond the csv module's field limit
    with pytest.raises(ValueError, match=r"long\.csv: cannot read the first row"):
        read_matrix(tmp_path / "long.csv")
    (tmp_path / "twice.csv").write_text("a,a,b\n")
    with pytest.raises(ValueError, match=r"twice\.csv: the header names \['a'\] more than once"):
        read_matrix(tmp_path / "twice.csv")
    (tmp_path / "y_wide.csv").write_text("y,z\n1\n0\n")  # labels: the header is checked too
    with pytest.raises(ValueError, match=r"y_wide\.csv: the header names 2 columns, the rows have 1"):
        read_labels(tmp_path / "y_wide.csv")


def test_a_row_that_starts_with_a_spreadsheet_error_value_is_not_a_comment(tmp_path) -> None:
    """Excel writes #N/A for a missing value: such a row was dropped as a '#' comment line."""
    (tmp_path / "x.csv").write_text("a,b\n1,0\n#N/A,1\n0,1\n")
    with pytest.raises(ValueError, match=r"x\.csv: .*'#N/A' .* row 1, column 0"):
        read_matrix(tmp_path / "x.csv")
    (tmp_path / "c.csv").write_text("# written by np.savetxt\n1,0\n0,1\n")
    assert read_matrix(tmp_path / "c.csv").tolist() == [[1, 0], [0, 1]]
    # as the first line it was taken for a header, and the row lost without a word
    for first in ("#N/A,1,0", "#VALUE!,#N/A,0"):
        (tmp_path / "first.csv").write_text(f"{first}\n1,1,0\n0,1,1\n")
        with pytest.raises(ValueError, match=r"first\.csv: .*'#(N/A|VALUE!)' .* row 0, column 0"):
            read_matrix(tmp_path / "first.csv")
