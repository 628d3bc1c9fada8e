"""Colour check of re-detection candidates (dcfre.longterm.colour) against direct evaluations."""

import colorsys
from types import SimpleNamespace

import numpy as np
import pytest
from skimage import color as skcolor

from dcfre.config import LongTermConfig
from dcfre.longterm.colour import ColourModel, ColourVerdict, IdentityEvidence, bhattacharyya, colour_histogram
from dcfre.longterm.machine import LongTermMachine
from test_longterm_decisions import CENTRE, _tracked_at_centre
from test_longterm import _box, render


def _direct_histogram(patch, n_hue, n_value):
    """The histogram's definition pixel by pixel, with the standard library's HSV conversion."""
    out = np.zeros(n_hue + n_value)
    for r, g, b in patch.reshape(-1, 3) / 255.0:
        hue, _, value = colorsys.rgb_to_hsv(r, g, b)
        chroma = max(r, g, b) - min(r, g, b)
        if chroma > 0:
            out[min(int(hue * n_hue), n_hue - 1)] += chroma
        out[n_hue + min(int(value * n_value), n_value - 1)] += 1 - chroma
    return out / out.sum()


def test_histogram_matches_the_definition_on_random_pixels():
    rng = np.random.default_rng(0)
    # non-integer values: no pixel falls exactly on a bin edge, where either side is right
    image = rng.uniform(0, 255, size=(30, 40, 3)).astype(np.float32)
    # box of 20 x 30 centred at (15, 20); inner 0.5 keeps rows 10..20 and columns 12.5..27.5 -> 12..28 (rounded)
    hist = colour_histogram(image, (15.0, 20.0), (20.0, 30.0), 0.5, 36, 8)
    expected = _direct_histogram(image[10:20, 12:28].astype(np.float64), 36, 8)
    np.testing.assert_allclose(hist, expected, atol=1e-12)
    # uint8 frames are read as the same values
    rounded = image.round().astype(np.uint8)
    np.testing.assert_allclose(colour_histogram(rounded, (15.0, 20.0), (20.0, 30.0), 0.5, 36, 8),
                               colour_histogram(rounded.astype(np.float32), (15.0, 20.0), (20.0, 30.0), 0.5, 36, 8),
                               atol=1e-12)


@pytest.mark.parametrize("rgb, hue_bin, value_bin", [((255, 0, 0), 0, None), ((0, 255, 0), 24, None),
                                                      ((128, 128, 128), None, 4), ((0, 0, 0), None, 0)])
def test_pure_colours_and_greys_fill_one_bin(rgb, hue_bin, value_bin):
    image = np.zeros((10, 10, 3), np.uint8) + np.array(rgb, np.uint8)
    hist = colour_histogram(image, (5.0, 5.0), (10.0, 10.0), 1.0, 72, 8)
    expected = np.zeros(80)
    expected[hue_bin if hue_bin is not None else 72 + value_bin] = 1.0
    np.testing.assert_allclose(hist, expected, atol=1e-12)


def test_box_outside_the_image_gives_an_empty_histogram_and_gray_frames_are_refused():
    image = np.zeros((10, 10, 3), np.uint8)
    assert not colour_histogram(image, (-50.0, -50.0), (8.0, 8.0), 0.8, 72, 8).any()
    with pytest.raises(ValueError, match="RGB"):
        colour_histogram(np.zeros((10, 10), np.uint8), (5.0, 5.0), (4.0, 4.0), 0.8, 72, 8)


def test_bhattacharyya_of_identical_and_disjoint_histograms():
    a = np.array([0.25, 0.75, 0.0])
    assert bhattacharyya(a, a) == pytest.approx(1.0)
    assert bhattacharyya(a, np.array([0.0, 0.0, 1.0])) == 0.0


def _shift_hue(image, degrees):
    hsv = skcolor.rgb2hsv(image / 255.0)
    hsv[..., 0] = (hsv[..., 0] + degrees / 360.0) % 1.0
    return (skcolor.hsv2rgb(hsv) * 255).round().astype(np.uint8)


def test_a_look_alike_of_another_shade_is_nearer_its_own_mined_histogram():
    """The same textured object, hue rotated by 8 degrees: the Color Names of most pixels do not
    change, the histogram does."""
    frame = render(CENTRE)
    target_box = _box(CENTRE)
    size = (target_box[3], target_box[2])
    look_alike = _shift_hue(frame, 8.0)  # the whole frame recoloured: the object at CENTRE is the look-alike
    model = ColourModel(72, 8, 0.8, 0.02, 10)
    model.learn_target(frame, CENTRE, size)
    model.add_distractors(look_alike, [CENTRE], size)
    assert model.verdict(look_alike, CENTRE, size).looks_like_distractor
    assert model.verdict(frame, CENTRE, size).looks_like_target(0.5)
    assert not model.verdict(frame, CENTRE, size).looks_like_distractor


def test_without_mined_distractors_the_check_has_no_opinion():
    frame = render(CENTRE)
    model = ColourModel(72, 8, 0.8, 0.02, 10)
    model.learn_target(frame, CENTRE, (40.0, 44.0))
    verdict = model.verdict(frame, (60.0, 60.0), (40.0, 44.0))
    assert np.isnan(verdict.distractor)
    assert not verdict.looks_like_distractor and not verdict.looks_like_target(1.0)


def test_a_box_outside_the_image_gets_no_opinion():
    frame = render(CENTRE)
    model = ColourModel(72, 8, 0.8, 0.02, 10)
    model.learn_target(frame, CENTRE, (40.0, 44.0))
    model.add_distractors(frame, [(60.0, 60.0)], (40.0, 44.0))
    verdict = model.verdict(frame, (-500.0, -500.0), (40.0, 44.0))
    assert not verdict.looks_like_target(1.0) and not verdict.looks_like_distractor


def test_distance_ratio_is_the_ratio_of_hellinger_distances():
    verdict = ColourVerdict(target=0.96, distractor=0.84)
    assert verdict.distance_ratio == pytest.approx(np.sqrt(0.04) / np.sqrt(0.16))
    assert verdict.looks_like_target(0.55) and not verdict.looks_like_target(0.45)
    assert ColourVerdict(0.84, 0.96).looks_like_distractor


@pytest.mark.parametrize("mode, global_, verdict, expected", [
    ("veto", 0.9, ColourVerdict(0.9, 0.95), False),  # passes the global gate, looks like a distractor
    ("veto", 0.9, ColourVerdict(0.95, 0.9), True),
    ("veto", 0.3, ColourVerdict(0.99, 0.9), False),  # veto never admits what the global gate rejects
    ("gate", 0.3, ColourVerdict(0.99, 0.9), True),  # gate: clearly nearer the target, colour stands in
    ("gate", 0.3, ColourVerdict(0.95, 0.9), False),  # nearer the target, but not by the margin: global decides
    ("gate", 0.9, ColourVerdict(0.9, 0.95), False),
    ("gate", 0.3, ColourVerdict(0.95, float("nan")), False),  # nothing mined: the global gate decides
    ("gate", 0.9, ColourVerdict(0.95, float("nan")), True),
    ("gate", 0.3, None, False),
])
def test_appearance_gate(mode, global_, verdict, expected):
    machine = SimpleNamespace(config=LongTermConfig(colour_check=mode, tau_redetection=0.7, colour_gate_ratio=0.7))
    assert LongTermMachine._appearance_agrees(machine, global_, verdict) is expected


def test_tracker_mines_a_look_alikes_colours_and_rejects_it_while_the_target_is_away():
    """A hue-rotated copy of the target stands in the scene and is mined; the target leaves. Every
    candidate on the look-alike that passes the local threshold is judged nearer the distractors."""
    look_alike_centre = (60.0, 80.0)

    def scene(target_centre, seed):
        frame = render(target_centre, noise_seed=seed)
        shifted = _shift_hue(render(look_alike_centre, noise_seed=seed), 10.0)
        h, w = 40, 44
        y0, x0 = int(look_alike_centre[0] - h / 2), int(look_alike_centre[1] - w / 2)
        frame[y0:y0 + h, x0:x0 + w] = shifted[y0:y0 + h, x0:x0 + w]
        return frame

    longterm = LongTermConfig(redetect="global", colour_check="veto", trace=True, n_hn=5)
    tracker = _tracked_at_centre(longterm, frames=1)
    for i in range(1, 16):
        tracker.track(scene(CENTRE, i))
    assert tracker.longterm.colour is not None and len(tracker.longterm.colour.distractors) > 0
    states = [tracker.track(scene(None, 100 + i)) for i in range(35)]
    judged = [c for s in states for c in s.info.get("candidates", ()) if c["colour_target"] is not None]
    on_look_alike = [c for c in judged if abs(c["box"][0] + c["box"][2] / 2 - look_alike_centre[1]) < 10]
    assert on_look_alike, "the look-alike must be examined as a candidate"
    assert all(c["colour_distractor"] > c["colour_target"] and not c["accepted"] for c in on_look_alike)
    assert not any(s.present for s in states[10:])


def _verdict_with_margin(margin, to_target=0.3):
    """A verdict whose Hellinger distances differ by ``margin`` (distractor minus target)."""
    to_distractor = to_target + margin
    return ColourVerdict(1.0 - to_target ** 2, 1.0 - to_distractor ** 2)


def test_identity_evidence_is_the_mean_margin_of_the_observed_frames():
    margins = [0.10, -0.02, 0.05, 0.07]
    plain, running = IdentityEvidence(), IdentityEvidence(rate=0.25)
    for m in margins:
        plain.observe(_verdict_with_margin(m))
        running.observe(_verdict_with_margin(m))
    assert plain.frames == 4 and plain.mean == pytest.approx(np.mean(margins))
    # the running mean is the plain mean until 1 / frames drops below the rate, then exponential
    assert running.mean == pytest.approx(np.mean(margins))
    running.observe(_verdict_with_margin(-0.2))
    assert running.mean == pytest.approx(0.75 * np.mean(margins) + 0.25 * -0.2)
    plain.observe(ColourVerdict(0.9, float("nan")))  # no distractor known: no opinion, not counted
    assert plain.frames == 4


def test_identity_evidence_confirms_after_enough_frames_above_the_reference():
    evidence = IdentityEvidence()
    for _ in range(4):
        evidence.observe(_verdict_with_margin(0.04))
    assert not evidence.confirms(5)  # too few frames
    evidence.observe(_verdict_with_margin(0.04))
    assert evidence.confirms(5) and evidence.confirms(5, 0.03) and evidence.confirms(5, float("nan"))
    assert not evidence.confirms(5, 0.05)  # below the trusted views' margin fraction
    negative = IdentityEvidence()
    for _ in range(5):
        negative.observe(_verdict_with_margin(-0.01))
    assert not negative.confirms(5, -1.0)  # never trusted when nearer the distractors on average


def _machine_with_margins(margins, trusted, reference=0.1, frames=3):
    """The state _identity_trusted reads, with a colour model whose verdicts have the given margins."""
    verdicts = iter(_verdict_with_margin(m) for m in margins)
    reference_margin = IdentityEvidence(0.02)
    reference_margin.observe(_verdict_with_margin(reference))
    events = []
    machine = SimpleNamespace(config=LongTermConfig(confirm_identity_frames=frames, confirm_identity_ratio=0.5),
                              colour=SimpleNamespace(distractors=[object()], judge=lambda view: next(verdicts)),
                              _trusted=trusted, _lock_margin=IdentityEvidence(), _trusted_margin=reference_margin,
                              _event=events.append)
    return machine, events


def test_a_redetected_lock_is_trusted_once_its_mean_margin_reaches_half_the_trusted_views():
    machine, events = _machine_with_margins([0.2, 0.0, 0.01, -0.5], trusted=False)
    trusted = [LongTermMachine._identity_trusted(machine, None) for _ in range(3)]
    assert trusted == [False, False, True] and events == ["identity_confirmed"]  # mean 0.07 > 0.5 * 0.1
    assert LongTermMachine._identity_trusted(machine, None)  # kept until the next loss, whatever follows
    # mean 0.0467 stays below the floor 0.05: not trusted, however many frames
    machine, events = _machine_with_margins([0.06, 0.04, 0.04] * 3, trusted=False)
    assert not any(LongTermMachine._identity_trusted(machine, None) for _ in range(9)) and not events


def test_trusted_views_set_the_reference_margin_and_unmined_scenes_need_no_evidence():
    machine, _ = _machine_with_margins([0.3], trusted=True, reference=0.1)
    assert LongTermMachine._identity_trusted(machine, None)
    assert machine._trusted_margin.mean == pytest.approx(0.5 * 0.1 + 0.5 * 0.3)  # second frame: plain mean
    machine, _ = _machine_with_margins([], trusted=False)
    machine.colour.distractors = []
    assert LongTermMachine._identity_trusted(machine, None) and machine._trusted  # no verdict asked
    off, _ = _machine_with_margins([], trusted=False, frames=0)
    assert LongTermMachine._identity_trusted(off, None)


def test_an_untrusted_lock_defers_mining_and_its_loss_mines_nothing():
    """With ``confirm_identity_frames``, a lock not (yet) trusted mines nothing: neither on schedule nor
    at its loss, where the last confident frame would be mined."""
    longterm = LongTermConfig(redetect="global", confirm_identity_frames=5, n_hn=3, n_loss=3)
    look_alikes = [(60.0, 60.0), (185.0, 300.0)]
    tracker = _tracked_at_centre(longterm, frames=8, distractors=look_alikes)
    machine = tracker.longterm
    assert machine.colour is not None and machine.colour.distractors  # mined while trusted
    machine._trusted = False  # as after a re-detection
    mined = len(machine.colour.distractors)
    states = [tracker.track(render(CENTRE, look_alikes, noise_seed=300 + i)) for i in range(4)]
    events = [e for s in states for e in s.info["events"]]
    assert "mining_deferred" in events and "mining" not in events
    states = [tracker.track(render(None, look_alikes, noise_seed=400 + i)) for i in range(3)]
    events = [e for s in states for e in s.info["events"]]
    assert "loss_declared" in events and "mining" not in events
    assert len(machine.colour.distractors) == mined
