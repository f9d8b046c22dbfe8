import pytest

from hifigan_edu.files import atomic_dir, atomic_path, sha256


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "sub" / "x.txt"
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == target.parent
        tmp.write_text("new")
    assert target.read_text() == "new"
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("writer failed")
    assert target.read_text() == "new"
    assert [p.name for p in target.parent.iterdir()] == ["x.txt"]


def test_atomic_dir_replaces_only_on_success_and_touches_no_other_folder(tmp_path):
    target = tmp_path / "corpus"
    (tmp_path / "corpus.partial").mkdir()  # someone's folder with the name a naive build would use
    (tmp_path / "corpus.partial" / "keep.txt").write_text("mine")
    with atomic_dir(target) as tmp:
        assert tmp.parent == tmp_path and tmp.name.startswith(".corpus.") and not any(tmp.iterdir())
        (tmp / "a.txt").write_text("first")
    assert (target / "a.txt").read_text() == "first"
    with pytest.raises(RuntimeError):
        with atomic_dir(target) as tmp:
            (tmp / "a.txt").write_text("half")
            raise RuntimeError("builder failed")
    assert (target / "a.txt").read_text() == "first"  # the old folder, untouched
    with atomic_dir(target) as tmp:
        (tmp / "b.txt").write_text("second")
    assert [p.name for p in target.iterdir()] == ["b.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["corpus", "corpus.partial"]  # no temporary left
    assert (tmp_path / "corpus.partial" / "keep.txt").read_text() == "mine"


def test_sha256_of_known_bytes(tmp_path):
    (tmp_path / "a").write_bytes(b"abc")
    assert sha256(tmp_path / "a") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
