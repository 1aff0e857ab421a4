"""Reproducers for bugs found by fuzzing the readers of label matrices, gold labels and sequence ids
(:mod:`tripletws.files`, :func:`tripletws.matrix.check_labels`, the command line's input options).

Each test failed before its fix: a row silently dropped or a value silently changed, or an error that
was a traceback from numpy / pyarrow internals instead of a ValueError naming the file and the place.
"""

from __future__ import annotations

import re
import warnings
import zipfile

import numpy as np
import pytest
from conftest import run_cli

from tripletws.files import read_labels, read_matrix, read_matrix_named
from tripletws.matrix import check_labels

# ----------------------------------------------------------------------------
# gold labels: no cast may wrap a value into -1..k-1
# ----------------------------------------------------------------------------


def test_uint64_gold_label_beyond_int64_is_refused_not_read_as_unknown():
    y = np.array([0, 1, 2**64 - 1], dtype=np.uint64)  # the cast to int64 made it -1 (unknown)
    with pytest.raises(ValueError, match=r"Y has value 18446744073709551615 at position 2, outside -1\.\.1"):
        check_labels(y, None, 2)
    with pytest.raises(ValueError, match=r"value 9223372036854775808 at position 0"):
        check_labels(np.array([2**63], dtype=np.uint64), None, 2)


@pytest.mark.parametrize("value", [np.inf, -np.inf, 1e300])
def test_infinite_or_huge_float_gold_label_is_named_as_it_is(value):
    y = np.array([0.0, 1.0, value])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # numpy's "invalid value encountered in cast" came first
        message = re.escape(f"Y has value {value!r} at position 2, outside -1..1")
        with pytest.raises(ValueError, match=message):
            check_labels(y, None, 2)


def test_integral_float_gold_label_out_of_range_is_named_as_an_integer():
    with pytest.raises(ValueError, match=r"Y has value 5 at position 1, outside -1\.\.1"):
        check_labels(np.array([0.0, 5.0]), None, 2)


def test_cli_evaluate_refuses_uint64_gold_label_beyond_int64(tmp_path):
    rng = np.random.default_rng(0)
    L = rng.integers(-1, 2, (60, 4)).astype(np.int8)
    y = rng.integers(0, 2, 60).astype(np.uint64)
    y[-1] = 2**64 - 1
    np.save(tmp_path / "L.npy", L)
    np.save(tmp_path / "y.npy", y)
    res = run_cli("fit", "L.npy", "--cardinality", "2", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    res = run_cli("evaluate", "m.json", "L.npy", "y.npy", cwd=tmp_path)
    assert res.returncode == 2
    assert "y.npy: Y has value 18446744073709551615 at position 59" in res.stderr


# ----------------------------------------------------------------------------
# Parquet: column names
# ----------------------------------------------------------------------------


def test_parquet_duplicate_column_names_are_refused(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    cols = [pa.array([1, 0]), pa.array([0, 1]), pa.array([1, 1])]
    pq.write_table(pa.Table.from_arrays(cols, names=["a", "a", "b"]), tmp_path / "L.parquet")
    # the matrix was read, and the model then fitted without names (duplicates name no column)
    with pytest.raises(ValueError, match=r"L\.parquet: the column name\(s\) \['a'\] appear more than once"):
        read_matrix_named(tmp_path / "L.parquet")
    pq.write_table(pa.Table.from_arrays(cols[:2], names=["y", "y"]), tmp_path / "y.parquet")
    # the labels failed inside the reader: "zip() argument 2 is longer than argument 1"
    with pytest.raises(ValueError, match=r"y\.parquet: the column name\(s\) \['y'\] appear more than once"):
        read_labels(tmp_path / "y.parquet")


def test_parquet_labels_beside_duplicated_other_columns_still_read(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    cols = [pa.array([1, 0]), pa.array([0, 1]), pa.array([1, 1])]
    pq.write_table(pa.Table.from_arrays(cols, names=["y", "x", "x"]), tmp_path / "y.parquet")
    assert read_labels(tmp_path / "y.parquet").tolist() == [1, 0]


# ----------------------------------------------------------------------------
# .npz: members that are no .npy arrays
# ----------------------------------------------------------------------------


def test_npz_member_that_is_not_an_npy_array_is_a_value_error(tmp_path):
    with zipfile.ZipFile(tmp_path / "raw.npz", "w") as archive:
        archive.writestr("L", "1,0,1\n")  # np.load gives the member's bytes: AttributeError on .ndim
        archive.writestr("y", "1\n")
    with pytest.raises(ValueError, match=r"raw\.npz: array 'L' is not a \.npy array"):
        read_matrix(tmp_path / "raw.npz")
    with pytest.raises(ValueError, match=r"raw\.npz: array 'y' is not a \.npy array"):
        read_labels(tmp_path / "raw.npz")  # was "labels must be one column, got shape ()"
    res = run_cli("fit", "raw.npz", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2 and "unexpected" not in res.stderr
    assert "raw.npz: array 'L' is not a .npy array" in res.stderr


# ----------------------------------------------------------------------------
# CSV
# ----------------------------------------------------------------------------


def test_csv_ragged_row_is_named_from_0_as_every_other_row(tmp_path):
    path = tmp_path / "L.csv"
    path.write_text("a,b,c\n1,0,1\n# a comment\n\n0,1,0\n1,0\n")  # data row 2 has 2 cells
    with pytest.raises(ValueError) as info:  # numpy counts this row from 1: "at row 3"
        read_matrix(path)
    assert "row 2 has 2 cells, the rows above it 3" in str(info.value)
    assert "usecols" not in str(info.value)  # numpy's advice names its own argument
    path.write_text('1,0,1\n"0,1,0\n1,1,1\n')  # an open quote: row 1 has one cell
    with pytest.raises(ValueError, match=r"row 1 has 1 cells, the rows above it 3"):
        read_matrix(path)


def test_csv_integer_just_beyond_2_53_is_refused_not_rounded(tmp_path):
    path = tmp_path / "ids.csv"
    path.write_text("seq\n9007199254740992\n9007199254740993\n")  # both read as 2**53: one sequence
    message = r"ids\.csv: number too large: 9007199254740992\.0 in column 0 \(row 0\)"
    with pytest.raises(ValueError, match=message):
        read_labels(path)
    path.write_text("seq\n9007199254740991\n-9007199254740991\n")  # 2**53 - 1: exact, read
    assert read_labels(path).tolist() == [2**53 - 1, -(2**53 - 1)]


@pytest.mark.parametrize(
    "text", ["1\t0\t1\n\t\t\n0\t1\t0\n", "a\tb\tc\n1\t0\t1\n\t\t\n0\t1\t0\n", "1\t0\n0\t1\n\t\n"]
)
def test_tsv_row_of_empty_cells_is_reported_not_dropped(tmp_path, text):
    path = tmp_path / "L.csv"
    path.write_text(text)  # the row of tabs was taken for a blank line: every later row moved up one
    with pytest.raises(ValueError, match=r"L\.csv: cannot parse as a numeric CSV \(could not convert"):
        read_matrix(path)


def test_tsv_leading_row_of_empty_cells_is_reported_not_dropped(tmp_path):
    path = tmp_path / "L.csv"
    path.write_text("\t\t\n1\t0\t1\n0\t1\t0\n")
    with pytest.raises(ValueError, match=r"L\.csv: line 1 holds only empty cells"):
        read_matrix(path)


def test_csv_blank_lines_with_spaces_or_tabs_stay_blank_in_a_comma_file(tmp_path):
    path = tmp_path / "L.csv"
    path.write_text(" \t\n1,0,1\n\t\n  \n0,1,0\n\t \n")
    assert read_matrix(path).tolist() == [[1, 0, 1], [0, 1, 0]]


# ----------------------------------------------------------------------------
# command line: --sequence-ids
# ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("ids", "message"),
    [
        (np.repeat(np.arange(20), 10) + 0.5, "must be integers or strings: row 0 holds 0.5"),
        (np.arange(200) % 2 == 0, "must be integers or strings, got dtype bool"),
        (np.r_[np.repeat(np.arange(20), 10)[:-1], 0], "sequence id 0 appears again at row 199"),
    ],
)
def test_cli_bad_sequence_ids_name_the_file(tmp_path, ids, message):
    rng = np.random.default_rng(0)
    np.save(tmp_path / "L.npy", rng.integers(-1, 2, (200, 4)).astype(np.int8))
    np.save(tmp_path / "ids.npy", ids)
    res = run_cli("fit", "L.npy", "--sequence-ids", "ids.npy", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith("tripletws: error: ids.npy: --sequence-ids: ")  # was "sequence_ids ..."
    assert message in res.stderr


# ----------------------------------------------------------------------------
# .npz written by scipy.sparse.save_npz
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["csr", "coo", "dia"])
def test_scipy_sparse_npz_of_any_format_is_named_as_such(tmp_path, fmt):
    sp = pytest.importorskip("scipy.sparse")
    X = sp.random(6, 3, density=0.5, format=fmt, random_state=0)
    sp.save_npz(tmp_path / "L.npz", X)  # a COO archive (row, col, data, ...) was "no array 'L' ...; --key"
    with pytest.raises(ValueError, match=r"L\.npz: a scipy\.sparse matrix \(scipy\.sparse\.save_npz\)"):
        read_matrix(tmp_path / "L.npz")


# ----------------------------------------------------------------------------
# command line: --y-dev names its file, as evaluate's and report's gold files do
# ----------------------------------------------------------------------------


@pytest.fixture()
def dev_files(tmp_path):
    rng = np.random.default_rng(1)
    np.save(tmp_path / "L.npy", rng.integers(-1, 2, (200, 4)).astype(np.int8))
    np.save(tmp_path / "Ld.npy", rng.integers(-1, 2, (30, 4)).astype(np.int8))
    np.save(tmp_path / "yd_half.npy", rng.integers(0, 2, 30) / 2)
    np.save(tmp_path / "yd_short.npy", rng.integers(0, 2, 29))
    return tmp_path


@pytest.mark.parametrize("extra", [[], ["--L-dev", "Ld.npy"]])
def test_cli_fit_y_dev_errors_name_the_file(dev_files, extra):
    res = run_cli("fit", "L.npy", *extra, "--y-dev", "yd_half.npy", "-o", "m.json", cwd=dev_files)
    assert res.returncode == 2
    assert "error: yd_half.npy: Y_dev has non-integer value 0.5" in res.stderr  # was "error: Y_dev has ..."


def test_cli_fit_y_dev_of_another_length_than_l_dev_names_both_files(dev_files):
    args = ["--L-dev", "Ld.npy", "--y-dev", "yd_short.npy"]
    res = run_cli("fit", "L.npy", *args, "-o", "m.json", cwd=dev_files)
    assert res.returncode == 2
    assert "error: yd_short.npy: 29 gold labels for the 30 rows of --L-dev Ld.npy" in res.stderr


def test_cli_update_y_dev_errors_name_the_file(dev_files):
    res = run_cli("fit", "L.npy", "--cardinality", "2", "-o", "m.json", cwd=dev_files)
    assert res.returncode == 0, res.stderr
    res = run_cli("update", "m.json", "L.npy", "--y-dev", "yd_half.npy", "-o", "m2.json", cwd=dev_files)
    assert res.returncode == 2
    assert "error: yd_half.npy: Y_dev has non-integer value 0.5" in res.stderr


# ----------------------------------------------------------------------------
# Parquet: string sequence ids (ids are integers or strings)
# ----------------------------------------------------------------------------


def test_parquet_string_sequence_ids_are_read(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    rng = np.random.default_rng(2)
    np.save(tmp_path / "L.npy", rng.integers(-1, 2, (120, 4)).astype(np.int8))
    ids = [f"video_{i // 12}" for i in range(120)]
    pq.write_table(pa.table({"seq": pa.array(ids)}), tmp_path / "ids.parquet")
    # was: "column 'seq' is not numeric (type string); label matrices hold integer votes"
    assert read_labels(tmp_path / "ids.parquet", key="seq").tolist() == ids
    res = run_cli("fit", "L.npy", "--sequence-ids", "ids.parquet", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    np.save(tmp_path / "ids.npy", np.array(ids))  # the same ids from an .npy file: the same model
    res = run_cli("fit", "L.npy", "--sequence-ids", "ids.npy", "-o", "m2.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert (tmp_path / "m.json").read_text() == (tmp_path / "m2.json").read_text()


def test_parquet_string_gold_labels_are_refused_by_their_check(tmp_path):
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    pq.write_table(pa.table({"y": pa.array(["0", "1"])}), tmp_path / "y.parquet")
    with pytest.raises(ValueError, match=r"Y must hold integers; position 0 holds '0'"):
        check_labels(read_labels(tmp_path / "y.parquet"), 2, 2)
    pq.write_table(pa.table({"a": pa.array(["0", "1"]), "b": pa.array([0, 1])}), tmp_path / "L.parquet")
    with pytest.raises(ValueError, match=r"column 'a' is not numeric \(type string\)"):
        read_matrix(tmp_path / "L.parquet")  # a label matrix still holds numbers only


# ----------------------------------------------------------------------------
# CSV of one column: a blank line between rows is a row without a value
# ----------------------------------------------------------------------------


@pytest.mark.parametrize("header", ["y\n", ""])
def test_one_column_csv_with_a_blank_line_between_rows_is_refused(tmp_path, header):
    # a gold column whose unknown labels became blank lines was read as [0 1 0]: rows dropped,
    # every later label moved up onto another row
    (tmp_path / "y.csv").write_text(header + "0\n\n1\n\n0\n")
    line = 3 if header else 2
    with pytest.raises(ValueError, match=rf"line {line} is blank between two rows; .*write -1 there"):
        read_labels(tmp_path / "y.csv")


def test_one_column_csv_blank_lines_around_the_rows_are_ignored(tmp_path):
    (tmp_path / "y.csv").write_text("\n\ny\n0\n1\n\n\n")
    assert read_labels(tmp_path / "y.csv").tolist() == [0, 1]


def test_blank_line_between_rows_of_several_columns_is_still_skipped(tmp_path):
    # a row of a matrix holds its delimiters, so a blank line there is no row
    (tmp_path / "L.csv").write_text("0,1,-1\n\n1,1,0\n")
    assert read_matrix(tmp_path / "L.csv").tolist() == [[0, 1, -1], [1, 1, 0]]


def test_one_column_csv_of_pandas_with_missing_labels_says_write_minus_one(tmp_path):
    pd = pytest.importorskip("pandas")
    pd.DataFrame({"y": [0, np.nan, 1]}).to_csv(tmp_path / "y.csv", index=False)
    with pytest.raises(ValueError, match=r"empty cell is no vote here: write -1 for an abstain \(or"):
        read_labels(tmp_path / "y.csv")


def test_integral_float_sequence_ids_read_alike_from_npy_and_csv(tmp_path):
    # a float .npy of whole ids was refused ("got dtype float64") where the same ids from a CSV were read
    rng = np.random.default_rng(0)
    np.save(tmp_path / "L.npy", rng.integers(-1, 2, (120, 4)).astype(np.int8))
    ids = np.repeat(np.arange(10), 12)
    np.save(tmp_path / "ids_f.npy", ids.astype(float))
    np.save(tmp_path / "ids_i.npy", ids)
    np.savetxt(tmp_path / "ids_f.csv", ids.astype(float), fmt="%.1f")
    for name in ("ids_i.npy", "ids_f.npy", "ids_f.csv"):
        res = run_cli("fit", "L.npy", "--sequence-ids", name, "-o", f"m_{name}.json", cwd=tmp_path)
        assert res.returncode == 0, res.stderr
    same = (tmp_path / "m_ids_i.npy.json").read_text()
    assert (tmp_path / "m_ids_f.npy.json").read_text() == same == (tmp_path / "m_ids_f.csv.json").read_text()
    ids_nan = ids.astype(float)
    ids_nan[30] = np.nan
    np.save(tmp_path / "ids_nan.npy", ids_nan)
    res = run_cli("fit", "L.npy", "--sequence-ids", "ids_nan.npy", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2 and "row 30 holds nan" in res.stderr
