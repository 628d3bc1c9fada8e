"""dcfre.prefetch.read_ahead: same items, same order, same errors, and no thread left behind."""

import threading

import pytest

from dcfre.errors import FrameReadError
from dcfre.prefetch import read_ahead


def _reader_threads():
    return [t for t in threading.enumerate() if t.name == "dcfre-read-ahead"]


@pytest.mark.parametrize("depth", [1, 2, 5])
def test_items_in_order(depth):
    assert list(read_ahead(iter(range(50)), depth=depth)) == list(range(50))
    assert list(read_ahead([], depth=depth)) == []
    assert not _reader_threads()


def test_error_raised_at_its_position():
    def frames():
        yield "a"
        yield "b"
        raise FrameReadError("cannot decode image 3.jpg")

    got = []
    with pytest.raises(FrameReadError, match="3.jpg"):
        for item in read_ahead(frames()):
            got.append(item)
    assert got == ["a", "b"]
    assert not _reader_threads()


def test_early_stop_closes_the_source():
    closed = threading.Event()
    produced = []

    def frames():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    stream = read_ahead(frames(), depth=2)
    for index, item in enumerate(stream):
        assert item == index
        if index == 3:
            break
    stream.close()
    assert closed.is_set()
    assert len(produced) <= 4 + 2 + 1  # at most depth (+ the one being produced) beyond the last taken
    assert not _reader_threads()


def test_depth_must_be_positive():
    with pytest.raises(ValueError, match="depth"):
        next(read_ahead([1], depth=0))
