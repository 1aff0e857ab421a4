"""Reproducers for the file side of issue 9: atomic writes, crash safety, CSV headers and
byte-order marks, Parquet row groups and folders, bounded memory when inferring k, and
error messages that name the file.

Child processes run the real code (``python -m tripletws`` or a short script) so that
resource limits, kills and concurrent writers act on a separate process.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import run_cli

from tripletws import LabelModel
from tripletws.atomic import atomic_write, atomic_write_text
from tripletws.datasets import make_synthetic
from tripletws.files import read_labels, read_matrix, write_array
from tripletws.matrix import MAX_CARDINALITY, check_label_matrix

SRC = Path(__file__).resolve().parents[1] / "src"
ENV = {**os.environ, "PYTHONPATH": str(SRC)}


def temp_leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith(".") and p.name.endswith(".tmp"))


@pytest.fixture(scope="module")
def data():
    return make_synthetic(2000, 8, 2, random_state=4)


# ----------------------------------------------------------------------------
# 9.1 Atomic writes
# ----------------------------------------------------------------------------


def _limit_file_size(limit: int):
    def apply() -> None:
        import resource

        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_update_under_file_size_limit_keeps_old_model(tmp_path, data) -> None:
    # `ulimit -f 2`: writes beyond 2 KiB fail with EFBIG (Python ignores SIGXFSZ).
    np.save(tmp_path / "L.npy", data.L)
    assert run_cli("fit", "L.npy", "-o", "m.json", cwd=tmp_path).returncode == 0
    before = (tmp_path / "m.json").read_bytes()
    assert len(before) > 2048, "the model must be larger than the limit for the test to mean anything"
    res = run_cli("update", "m.json", "L.npy", cwd=tmp_path, preexec_fn=_limit_file_size(2048))
    assert res.returncode == 2
    assert "File too large" in res.stderr
    assert (tmp_path / "m.json").read_bytes() == before
    LabelModel.load(tmp_path / "m.json")
    assert temp_leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("suffix", [".npy", ".npz", ".csv", ".parquet"])
def test_predict_under_file_size_limit_keeps_old_output(tmp_path, data, suffix) -> None:
    if suffix == ".parquet":
        pytest.importorskip("pyarrow")
    np.save(tmp_path / "L.npy", data.L)
    assert run_cli("fit", "L.npy", "-o", "m.json", cwd=tmp_path).returncode == 0
    old = np.array([[0.5, 0.5]])
    write_array(tmp_path / f"p{suffix}", old, columns=["p0", "p1"], key="probs")
    before = (tmp_path / f"p{suffix}").read_bytes()
    res = run_cli(
        "predict", "m.json", "L.npy", "-o", f"p{suffix}", cwd=tmp_path, preexec_fn=_limit_file_size(4096)
    )
    assert res.returncode == 2, res.stderr
    assert (tmp_path / f"p{suffix}").read_bytes() == before
    assert temp_leftovers(tmp_path) == []


def test_atomic_write_failure_keeps_old_file_and_removes_temp(tmp_path) -> None:
    target = tmp_path / "f.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError, match="boom"), atomic_write(target, "w") as fh:
        fh.write("new but incomplete")
        raise RuntimeError("boom")
    assert target.read_text() == "old"
    assert temp_leftovers(tmp_path) == []


def test_atomic_write_permissions_follow_umask_and_links_are_kept(tmp_path) -> None:
    old_mask = os.umask(0o027)
    try:
        atomic_write_text(tmp_path / "a.txt", "x")
    finally:
        os.umask(old_mask)
    assert (tmp_path / "a.txt").stat().st_mode & 0o777 == 0o640
    real = tmp_path / "real.json"
    real.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_atomic_write_refuses_missing_folder(tmp_path) -> None:
    with pytest.raises(FileNotFoundError), atomic_write(tmp_path / "no" / "f.bin") as fh:
        fh.write(b"x")


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_replaced_file_keeps_its_permissions(tmp_path) -> None:
    target = tmp_path / "private.json"
    target.write_text("old")
    target.chmod(0o600)
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert target.stat().st_mode & 0o777 == 0o600


def test_unwritable_folder_error_names_the_target(tmp_path, monkeypatch) -> None:
    import tripletws.atomic as atomic

    def refuse(folder: Path, name: str):
        raise PermissionError(13, "Permission denied", str(folder / f".{name}.1.tmp"))

    monkeypatch.setattr(
        atomic, "_open_temp", refuse
    )  # as an unwritable folder does (root may write anywhere)
    with pytest.raises(PermissionError) as info, atomic_write(tmp_path / "m.json", "w") as fh:
        fh.write("x")
    assert info.value.filename == os.path.realpath(tmp_path / "m.json")
    assert not (tmp_path / "m.json").exists()


SAVER = textwrap.dedent(
    """
    import sys
    from tripletws import LabelModel
    model = LabelModel.load(sys.argv[1])
    target, stop = sys.argv[2], float(sys.argv[3])
    import time
    while time.time() < stop:
        model.save(target)
    """
)


def test_two_processes_saving_one_path_never_mix(tmp_path, data) -> None:
    a = LabelModel(cardinality=2).fit(data.L)
    b = LabelModel(cardinality=2, model="symmetric").fit(data.L[:, ::-1])
    a.save(tmp_path / "a.json")
    b.save(tmp_path / "b.json")
    versions = {(tmp_path / "a.json").read_bytes(), (tmp_path / "b.json").read_bytes()}
    target = tmp_path / "m.json"
    stop = time.time() + 3.0
    procs = [
        subprocess.Popen([sys.executable, "-c", SAVER, str(tmp_path / name), str(target), str(stop)], env=ENV)
        for name in ("a.json", "b.json")
    ]
    reads = 0
    try:
        while time.time() < stop:
            if target.exists():
                content = target.read_bytes()
                assert content in versions, "a reader saw a file that is neither complete model"
                reads += 1
    finally:
        for p in procs:
            assert p.wait(timeout=60) == 0
    assert reads > 0
    LabelModel.load(target)
    assert temp_leftovers(tmp_path) == []


# ----------------------------------------------------------------------------
# Crash safety: SIGKILL at random points while writing
# ----------------------------------------------------------------------------

WRITER = textwrap.dedent(
    """
    import sys
    import numpy as np
    from tripletws import LabelModel
    from tripletws.files import write_array
    kind, target, a, b = sys.argv[1:5]
    if kind == "model":
        versions = [LabelModel.load(a), LabelModel.load(b)]
        write = lambda i: versions[i].save(target)
    else:
        versions = [np.load(a), np.load(b)]
        write = lambda i: write_array(target, versions[i], columns=["p0", "p1"], key="probs")
    print("ready", flush=True)
    i = 0
    while True:
        write(i % 2)
        i += 1
    """
)


@pytest.mark.skipif(sys.platform == "win32", reason="SIGKILL is POSIX")
@pytest.mark.parametrize("kind", ["model", ".npy", ".npz", ".csv", ".parquet"])
def test_sigkill_while_writing_never_leaves_a_wrong_file(tmp_path, data, kind) -> None:
    """The target is absent, or one of the two complete versions, whenever the writer dies."""
    if kind == ".parquet":
        pytest.importorskip("pyarrow")
    rng = np.random.default_rng(7)
    if kind == "model":
        # m = 60 LFs: a file of a few MB that takes tens of milliseconds to write
        wide = make_synthetic(3000, 60, 2, random_state=3)
        LabelModel(cardinality=2).fit(wide.L).save(tmp_path / "a.json")
        LabelModel(cardinality=2, model="symmetric").fit(wide.L).save(tmp_path / "b.json")
        a, b = tmp_path / "a.json", tmp_path / "b.json"
        probe = np.array([[0, 1, -1, 1, 0, 1, 1, -1] + [-1] * 52])
        expected = [LabelModel.load(p).predict_proba(probe) for p in (a, b)]

        def read_back(path: Path):
            return LabelModel.load(path).predict_proba(probe)

        target = tmp_path / "m.json"
    else:
        p = rng.dirichlet([1, 1], size=300_000)
        expected = [p, p[::-1].copy()]
        a, b = tmp_path / "a.npy", tmp_path / "b.npy"
        np.save(a, expected[0])
        np.save(b, expected[1])

        def read_back(path: Path):
            return read_matrix(path, key="probs")

        target = tmp_path / f"out{kind}"
    outcomes = set()
    for trial in range(6):
        proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                WRITER,
                "model" if kind == "model" else "array",
                str(target),
                str(a),
                str(b),
            ],
            env=ENV,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert proc.stdout.readline().strip() == "ready"
            time.sleep(float(rng.uniform(0.0, 0.6)))
        finally:
            proc.send_signal(signal.SIGKILL)
            proc.wait(timeout=60)
            proc.stdout.close()
        if not target.exists():
            assert trial == 0 or "absent" in outcomes, "a complete file disappeared"
            outcomes.add("absent")
            continue
        got = read_back(target)
        tol = 1e-9 if kind == ".csv" else 0.0  # CSV keeps 10 significant digits
        matches = [
            i
            for i, e in enumerate(expected)
            if got.shape == e.shape and np.allclose(got, e, rtol=tol, atol=0)
        ]
        assert matches, f"trial {trial}: the file reads as valid but is neither version"
        outcomes.add(matches[0])
    assert outcomes, "no trial ran"


# ----------------------------------------------------------------------------
# 9.2 CSV: byte-order mark, headers, line ends
# ----------------------------------------------------------------------------

L4 = np.array([[0, 1, -1], [1, 1, 0], [-1, -1, 1], [1, 0, 0]])


@pytest.mark.parametrize(
    "raw",
    [
        b"\xef\xbb\xbf0,1,-1\n1,1,0\n-1,-1,1\n1,0,0\n",
        b"\xef\xbb\xbflf_a,lf_b,lf_c\r\n0,1,-1\r\n1,1,0\r\n-1,-1,1\r\n1,0,0\r\n",
        b'"a";"b";"c"\n"0";"1";"-1"\n1;1;0\n-1;-1;1\n1;0;0\n',
        b"0,1,-1\r\n1,1,0\r\n-1,-1,1\r\n1,0,0\r\n\r\n\n   \n",
        b"# written by np.savetxt\n0\t1\t-1\n\n1\t1\t0\n-1\t-1\t1\n1\t0\t0\n",
    ],
    ids=["bom", "bom-header-crlf", "quoted-semicolons", "crlf-blank-tail", "comment-blank-inside"],
)
def test_csv_variants_keep_every_row(tmp_path, raw) -> None:
    path = tmp_path / "L.csv"
    path.write_bytes(raw)
    np.testing.assert_array_equal(read_matrix(path), L4)


def test_csv_bom_does_not_lose_the_first_row_in_the_cli(tmp_path, data) -> None:
    # Excel writes a byte-order mark; the first row used to be dropped (499 of 500 rows).
    L = data.L[:500]
    body = "\n".join(",".join(str(v) for v in row) for row in L) + "\n"
    (tmp_path / "L.csv").write_bytes(b"\xef\xbb\xbf" + body.encode())
    res = run_cli("fit", "L.csv", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "on 500 rows" in res.stdout
    res = run_cli("predict", "m.json", "L.csv", "-o", "p.npy", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert np.load(tmp_path / "p.npy").shape == (500, 2)


@pytest.mark.parametrize("columns", [[10, 20, 30, 40], [2, 0, 1, 3]])
def test_pandas_numbered_headers_are_refused_unless_told(tmp_path, columns) -> None:
    """A DataFrame with numbered columns written by to_csv: its header row (10,20,30,40; or a default
    frame's labels reordered, 2,0,1,3) was read as a row of votes (k = 41 inferred with a warning, or
    an extra row without a word). It is refused as ambiguous, as 0,1,...,m-1 is; --header names the
    LFs as the DataFrame's labels do."""
    pd = pytest.importorskip("pandas")
    L = np.array([[0, 1, -1, 1], [1, 1, 0, -1], [-1, -1, 1, 0]])
    pd.DataFrame(L, columns=columns).to_csv(tmp_path / "L.csv", index=False)
    first = ",".join(str(c) for c in columns)
    with pytest.raises(ValueError, match=rf"L.csv: the first row {first} could be a header"):
        read_matrix(tmp_path / "L.csv")
    np.testing.assert_array_equal(read_matrix(tmp_path / "L.csv", header=True), L)
    res = run_cli("fit", "L.csv", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2 and "--header" in res.stderr
    res = run_cli("fit", "L.csv", "--header", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    saved = json.loads((tmp_path / "m.json").read_text())
    assert saved["state"]["lf_names"] == [str(c) for c in columns]  # as a DataFrame with these labels


def test_a_first_row_of_votes_is_not_taken_for_numbered_labels(tmp_path) -> None:
    """Rows of votes whose first row repeats a class, holds an abstain, or stays within the votes
    below it are data, as before."""
    for first in ([1, 1, 0, 2], [2, -1, 0, 1], [3, 0, 2, 1, 0], [1, 2, 0]):
        m = len(first)
        L = np.array([first] + [[(i + j) % 3 for j in range(m)] for i in range(4)])
        (tmp_path / "L.csv").write_text("\n".join(",".join(map(str, r)) for r in L) + "\n")
        if sorted(first) == list(range(m)) and m >= 3:
            with pytest.raises(ValueError, match="could be a header"):
                read_matrix(tmp_path / "L.csv")
        else:
            np.testing.assert_array_equal(read_matrix(tmp_path / "L.csv"), L)


def test_pandas_numeric_header_is_refused_unless_told(tmp_path) -> None:
    pd = pytest.importorskip("pandas")
    L = np.array([[0, 1, -1, 1], [1, 1, 0, -1], [-1, -1, 1, 0]])
    pd.DataFrame(L).to_csv(tmp_path / "L.csv", index=False)  # header row "0,1,2,3"
    with pytest.raises(ValueError, match=r"L.csv: the first row 0,1,2,3 could be a header"):
        read_matrix(tmp_path / "L.csv")
    np.testing.assert_array_equal(read_matrix(tmp_path / "L.csv", header=True), L)
    as_data = read_matrix(tmp_path / "L.csv", header=False)
    np.testing.assert_array_equal(as_data, np.vstack([np.arange(4), L]))
    res = run_cli("fit", "L.csv", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2 and "--header" in res.stderr
    res = run_cli("fit", "L.csv", "--header", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert "on 3 rows x 4 LFs, k=2" in res.stdout
    pd.DataFrame(L, columns=["a", "b", "c", "d"]).to_csv(tmp_path / "named.csv", index=False)
    np.testing.assert_array_equal(read_matrix(tmp_path / "named.csv"), L)
    pd.DataFrame(L).to_csv(tmp_path / "index.csv")  # index column with an empty name
    with pytest.raises(ValueError, match=r"index.csv: the first column has no name"):
        read_matrix(tmp_path / "index.csv")


def test_single_row_and_single_column_are_never_headers_by_ambiguity(tmp_path) -> None:
    (tmp_path / "row.csv").write_text("0,1,2\n")  # the only row: data (a header would leave none)
    np.testing.assert_array_equal(read_matrix(tmp_path / "row.csv"), [[0, 1, 2]])
    (tmp_path / "y.csv").write_text("0\n1\n1\n")  # one column: "0" is a label
    np.testing.assert_array_equal(read_labels(tmp_path / "y.csv"), [0, 1, 1])


def test_csv_errors_name_the_file(tmp_path) -> None:
    (tmp_path / "latin1.csv").write_bytes("lf_é,b,c\n0,1,1\n".encode("latin-1"))
    with pytest.raises(ValueError, match=r"latin1.csv: not UTF-8 text \(byte 0xe9"):
        read_matrix(tmp_path / "latin1.csv")
    (tmp_path / "huge.csv").write_text("0,1,1\n1," + "9" * 5000 + ",0\n")
    with pytest.raises(ValueError, match=r"huge.csv: number too large: inf in column 1 \(row 1\)"):
        read_matrix(tmp_path / "huge.csv")
    res = run_cli("fit", "huge.csv", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("tripletws: error: huge.csv: number too large")
    res = run_cli("fit", "latin1.csv", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("tripletws: error: latin1.csv: not UTF-8")


def test_huge_cardinality_is_a_clear_error(tmp_path, data) -> None:
    np.save(tmp_path / "L.npy", data.L)
    res = run_cli("fit", "L.npy", "-k", "99999999999999999999", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.strip() == (
        f"tripletws: error: cardinality 99999999999999999999 is too large; at most {MAX_CARDINALITY} "
        "classes are supported"
    )
    with pytest.raises(ValueError, match="too large"):
        LabelModel(cardinality=MAX_CARDINALITY + 1).fit(data.L)
    big_vote = data.L.astype(np.int32)
    big_vote[5, 2] = MAX_CARDINALITY
    with pytest.raises(ValueError, match="too large"):
        check_label_matrix(big_vote)


@pytest.mark.parametrize(
    "args",
    [
        ["demo", "--n", "99999999999999999999"],
        ["fit", "L.npy", "--window", "99999999999999999999", "-o", "m.json"],
        ["fit", "L.npy", "-k", "-99999999999999999999", "-o", "m.json"],
    ],
    ids=["demo-n", "fit-window", "fit-negative-k"],
)
def test_huge_integer_options_give_one_line(tmp_path, data, args) -> None:
    np.save(tmp_path / "L.npy", data.L)
    res = run_cli(*args, cwd=tmp_path)
    assert res.returncode == 2
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("tripletws: error: ") and res.stderr.count("\n") == 1


# ----------------------------------------------------------------------------
# 9.9 Inferring k in bounded memory
# ----------------------------------------------------------------------------

RSS_PROBE = textwrap.dedent(
    """
    import resource, sys
    import numpy as np
    from tripletws.matrix import check_label_matrix
    L = np.load(sys.argv[1], mmap_mode="r")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    k = check_label_matrix(L, None).cardinality
    after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(k, (after - before) * 1024)  # ru_maxrss is in KiB on Linux
    """
)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="ru_maxrss units and madvise are Linux's")
def test_inferring_k_of_a_memmap_keeps_memory_bounded(tmp_path) -> None:
    n, m = 1_500_000, 100  # 150 MB of int8
    mm = np.lib.format.open_memmap(tmp_path / "big.npy", mode="w+", dtype=np.int8, shape=(n, m))
    mm[:] = 1
    mm[::7, 3] = -1
    mm[n - 1, m - 1] = 4  # the largest class sits in the very last cell
    mm.flush()
    del mm
    res = subprocess.run(
        [sys.executable, "-c", RSS_PROBE, str(tmp_path / "big.npy")], env=ENV, capture_output=True, text=True
    )
    assert res.returncode == 0, res.stderr
    k, grown = (int(v) for v in res.stdout.split())
    assert k == 5
    assert grown < n * m / 4, f"inferring k grew the resident memory by {grown / 1e6:.0f} MB"


def test_inferred_k_scan_reports_bad_values_with_their_row() -> None:
    L = np.ones((300_000, 10), dtype=np.int8)
    L[250_123, 6] = -3
    with pytest.raises(ValueError, match=r"value -3 in column 6 \(row 250123\)"):
        check_label_matrix(L)
    L[250_123, 6] = 3
    assert check_label_matrix(L).cardinality == 4


# ----------------------------------------------------------------------------
# 9.10 / issue 11.6 Parquet: clear errors, row groups, folders
# ----------------------------------------------------------------------------


def test_parquet_non_integer_columns_name_file_and_column(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    stamps = pa.array([0, 1, 2], type=pa.timestamp("s"))
    pq.write_table(pa.table({"lf0": [0, 1, 1], "when": stamps, "lf2": [1, 1, 0]}), tmp_path / "t.parquet")
    with pytest.raises(ValueError, match=r"t.parquet: column 'when' is not numeric \(type timestamp"):
        read_matrix(tmp_path / "t.parquet")
    res = run_cli("fit", "t.parquet", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 2
    assert res.stderr.startswith("tripletws: error: t.parquet: column 'when' is not numeric")
    pq.write_table(pa.table({"lf0": pa.array([0, None, 1], type=pa.int8())}), tmp_path / "n.parquet")
    with pytest.raises(ValueError, match=r"n.parquet: column 'lf0' has 1 missing \(null\)"):
        read_matrix(tmp_path / "n.parquet")


def test_parquet_row_groups_and_folders(tmp_path, data) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    L = data.L.astype(np.int8)

    def table(rows: np.ndarray):
        return pa.table({f"lf{j}": rows[:, j] for j in range(rows.shape[1])})

    pq.write_table(table(L), tmp_path / "one.parquet", row_group_size=128)
    assert pq.ParquetFile(tmp_path / "one.parquet").num_row_groups > 10
    got = read_matrix(tmp_path / "one.parquet")
    assert got.dtype == np.int8  # the columns' own dtype: no int64 copy of the matrix
    np.testing.assert_array_equal(got, L)
    folder = tmp_path / "parts"
    folder.mkdir()
    cuts = [0, 700, 701, 1500, len(L)]
    for i in range(len(cuts) - 1):  # names sort as 00, 01, ...: written out of order on purpose
        name = f"part-{3 - i:02d}.parquet"
        pq.write_table(table(L[cuts[3 - i] : cuts[4 - i]]), folder / name, row_group_size=300)
    np.testing.assert_array_equal(read_matrix(folder), L)
    y_folder = tmp_path / "y"
    y_folder.mkdir()
    pq.write_table(pa.table({"y": data.y[:1000]}), y_folder / "a.parquet")
    pq.write_table(pa.table({"y": data.y[1000:]}), y_folder / "b.parquet")
    np.testing.assert_array_equal(read_labels(y_folder), data.y)
    res = run_cli("fit", "parts", "-o", "m.json", cwd=tmp_path)
    assert res.returncode == 0, res.stderr
    assert f"on {len(L)} rows x {L.shape[1]} LFs" in res.stdout
    pq.write_table(pa.table({"lf0": L[:5, 0].astype(np.int64)}), folder / "part-99.parquet")
    with pytest.raises(ValueError, match=r"part-99.parquet: columns lf0: int64 differ from those of"):
        read_matrix(folder)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match=r"folder holds no \.parquet files"):
        read_matrix(empty)


def test_parquet_int64_columns_are_read_compactly(tmp_path, data) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    L = data.L.astype(np.int64)  # what pandas writes
    table = pa.table({f"lf{j}": L[:, j] for j in range(L.shape[1])})
    pq.write_table(table, tmp_path / "stats.parquet", row_group_size=500)
    got = read_matrix(tmp_path / "stats.parquet")
    assert got.dtype == np.int8  # from the row-group statistics: 8 times less memory
    np.testing.assert_array_equal(got, L)
    pq.write_table(table, tmp_path / "nostats.parquet", write_statistics=False)
    got = read_matrix(tmp_path / "nostats.parquet")
    assert got.dtype == np.int64  # nothing states the range: the columns' own dtype
    np.testing.assert_array_equal(got, L)
    ids = np.arange(len(L), dtype=np.int64) * 10**12  # labels and ids are never narrowed
    pq.write_table(pa.table({"seq": ids}), tmp_path / "ids.parquet")
    np.testing.assert_array_equal(read_labels(tmp_path / "ids.parquet", key="seq"), ids)


def test_parquet_folder_with_a_suffix_is_read(tmp_path) -> None:
    pa = pytest.importorskip("pyarrow")
    pq = pytest.importorskip("pyarrow.parquet")
    folder = tmp_path / "L.parquet"  # Spark and dask write folders named like files
    folder.mkdir()
    pq.write_table(pa.table({"a": [0, 1], "b": [1, 1], "c": [-1, 0]}), folder / "part-0.parquet")
    np.testing.assert_array_equal(read_matrix(folder), [[0, 1, -1], [1, 1, 0]])


def test_write_array_csv_always_reads_back(tmp_path) -> None:
    # A first row 0,1,2 with no column names would be ambiguous: write_array names the columns.
    arr = np.array([[0, 1, 2], [2, 2, 1]])
    write_array(tmp_path / "a.csv", arr)
    assert (tmp_path / "a.csv").read_text().splitlines()[0] == "c0,c1,c2"
    np.testing.assert_array_equal(read_matrix(tmp_path / "a.csv"), arr)
