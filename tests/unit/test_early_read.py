"""early_read: the binary read beside the push is taken only for the image the metadata names."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

from freshbin.early_read import EarlyRead

ID = "sha256:" + "ab" * 32
OTHER = "sha256:" + "cd" * 32


def _watch(lines, read):
    with ThreadPoolExecutor(1) as pool:
        watcher = EarlyRead(read, pool)
        for line in lines:
            watcher.on_line(line)
    return watcher


def test_the_written_image_is_read_once_and_taken_for_that_id_only():
    asked = []
    watcher = _watch(["#20 exporting to image", "#20 exporting layers 0.1s done",
                      f"#20 writing image {ID} done", f"#20 writing image {OTHER} done",
                      "#20 naming to 127.0.0.1:5000/x:t done"], lambda image_id: asked.append(image_id) or "facts")
    assert asked == [ID]
    assert watcher.result(ID) == "facts"
    assert watcher.result(OTHER) is None  # the metadata names another image: read again after the build


def test_no_such_line_or_a_failed_read_leaves_the_read_to_after_the_build():
    assert _watch(["#5 [builder 1/2] FROM x", "#9 exporting manifest sha256:" + "ef" * 32],
                  lambda image_id: "facts").result(ID) is None

    def broken(image_id):
        raise OSError("the engine went away")
    assert _watch([f"#20 writing image {ID} done"], broken).result(ID) is None
