"""A truncated or bit-flipped newest checkpoint (payload, header, or the two newest): detected by
its checksum, reported, set aside as .damaged, and `--resume` continues from the previous good
checkpoint to the same metrics and spectra, byte for byte, as an uninterrupted run."""

import pytest

from conftest import run_tiny

STEPS = ["train.checkpoint_steps=every:10"]


def damage_payload(b):
    b[len(b) - 40] ^= 0x04


def damage_header(b):
    at = b.find(b'"step"')
    b[at + 1] ^= 0x20  # "Step": still JSON, a wrong header


def truncate(b):
    del b[len(b) // 2:]


CASES = {
    "a bit flipped in the weights": (damage_payload, 1),
    "a bit flipped in the header": (damage_header, 1),
    "cut in half": (truncate, 1),
    "the two newest cut in half": (truncate, 2),
}


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("ref") / "run"
    r = run_tiny(out, "train.steps=60", *STEPS)
    assert r.returncode == 0, r.stderr
    return out


@pytest.mark.parametrize("case", CASES)
def test_a_damaged_newest_checkpoint_falls_back_to_the_previous_one(case, reference, tmp_path,
                                                                    record):
    damage, count = CASES[case]
    run = tmp_path / "run"
    assert run_tiny(run, "train.steps=40", *STEPS).returncode == 0
    newest = sorted((run / "checkpoints").glob("step_*.ckpt"))[-count:]
    for f in newest:
        b = bytearray(f.read_bytes())
        damage(b)
        f.write_bytes(bytes(b))
    r = run_tiny(run, "train.steps=60", resume=True)
    assert r.returncode == 0, r.stderr
    for f in newest:
        assert f.name in r.stderr and "damaged" not in f.name
        assert (f.parent / (f.name + ".damaged")).exists()
    fallback = 40 - 10 * count
    assert f"resuming from step {fallback}" in r.stderr, r.stderr
    assert (run / "metrics.jsonl").read_bytes() == (reference / "metrics.jsonl").read_bytes()
    for npy in sorted((reference / "spectra").glob("*.npy")):
        assert (run / "spectra" / npy.name).read_bytes() == npy.read_bytes(), npy.name
    reason = [l for l in r.stderr.splitlines() if "ckpt:" in l][0].split("ckpt: ", 1)[1]
    record(fault=f"newest checkpoint damaged: {case}",
           how="tiny run to step 40 (a checkpoint every 10 steps), the damage written into the "
               "newest file(s), then `run --resume DIR train.steps=60`",
           outcome=f"detected ({reason}); set aside as .damaged; resumed from step {fallback}; "
                   "metrics.jsonl and spectra/ byte-identical to an uninterrupted 60-step run")
