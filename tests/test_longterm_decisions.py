"""The long-term state machine's decisions: exposed state, loss onset, verification, probation, trace."""

import json
import subprocess
import sys

import numpy as np
import pytest

from dcfre.config import LongTermConfig
from dcfre.state import EVENTS, INFO_KEYS
from dcfre.trace import read_trace
from dcfre.tracker import Tracker
from test_longterm import _box, _iou, out_of_view_sequence, render

CENTRE = (120.0, 150.0)


@pytest.fixture(scope="module")
def out_of_view():
    return out_of_view_sequence()


@pytest.fixture(scope="module")
def traced_run(out_of_view):
    frames, gt = out_of_view
    tracker = Tracker.from_preset("eco-hc", longterm=LongTermConfig.verified(redetect="global", trace=True))
    states = [tracker.initialize(frames[0], gt[0])] + [tracker.track(f) for f in frames[1:]]
    return states, gt


def _tracked_at_centre(longterm, frames=30, distractors=()):
    """An ``eco-hc`` tracker that has followed a still target at CENTRE for ``frames`` frames."""
    tracker = Tracker.from_preset("eco-hc", longterm=longterm)
    tracker.initialize(render(CENTRE, distractors), _box(CENTRE))
    for i in range(1, frames):
        tracker.track(render(CENTRE, distractors, noise_seed=i))
    return tracker


def _events(states):
    return [e for s in states for e in s.info["events"]]


def test_every_info_key_and_event_is_documented(traced_run):
    states, _ = traced_run
    for s in states:
        assert {"state", "r_p", "rbar_p", "events"} <= set(s.info), s.frame_number
        assert set(s.info) <= set(INFO_KEYS), set(s.info) - set(INFO_KEYS)
        assert set(s.info["events"]) <= set(EVENTS), s.info["events"]
    events = _events(states)
    for name in ("mining", "global_trained", "loss_declared", "scan", "redetection_accepted"):
        assert name in events, name


def test_trace_exposes_scans_candidates_and_distractors(traced_run):
    states, gt = traced_run
    scans = [s for s in states if "scan" in s.info]
    assert scans and all(s.info["scan"]["local"].ndim == 2 for s in scans)
    accepted = [c for s in states for c in s.info.get("candidates", ()) if c["accepted"]]
    assert accepted, "the returning target must be an accepted candidate"
    first = next(s for s in states if "redetection_accepted" in s.info["events"])
    assert _iou(first.box, gt[first.frame_number - 1]) > 0.5
    # the re-detected target is reported with the confidence of its verified sample (same domain as t_conf)
    assert first.confidence == pytest.approx(first.info["local_confidence"])
    assert first.confidence >= 0.7


def test_loss_onset_does_not_lower_rbar_p(out_of_view):
    """The N_loss low frames before a loss stay out of rbar_p (deferred, then dropped); eq. 4 applied
    at once (the paper) lets them pull it down."""
    frames, gt = out_of_view

    def rbar_before_and_after_loss(**overrides):
        tracker = Tracker.from_preset("eco-hc", longterm=LongTermConfig.verified(redetect="local"), **overrides)
        states = [tracker.initialize(frames[0], gt[0])] + [tracker.track(f) for f in frames[1:80]]
        lost_at = next(i for i, s in enumerate(states) if "loss_declared" in s.info["events"])
        streak = tracker.config.longterm.n_loss
        return states[lost_at - streak].info["rbar_p"], states[lost_at].info["rbar_p"]

    before, after = rbar_before_and_after_loss()
    assert after == pytest.approx(before)
    before, after = rbar_before_and_after_loss(**{"longterm.defer_low_scores": False})
    assert after < 0.9 * before


def test_lookalike_in_place_of_absent_target_is_not_kept():
    """The target leaves and a look-alike sits where the global model was trained to reject it:
    the tracker must not report the look-alike as the target for long (it is either never accepted
    or fails its probation)."""
    lookalike = (60.0, 60.0)
    tracker = _tracked_at_centre(LongTermConfig.verified(redetect="global"), 40, [lookalike])
    states = [tracker.track(render(None, [lookalike], noise_seed=100 + i)) for i in range(90)]
    present = np.array([s.present for s in states[10:]])
    assert present.mean() < 0.2, present.astype(int)


def test_probation_failure_returns_to_lost_and_forgets_the_candidate():
    """A re-detection that keeps failing the global check is undone after ``probation_frames``."""
    lookalike = (60.0, 60.0)
    # colour off: the look-alike must get through acceptance so that its probation can be tested
    tracker = _tracked_at_centre(LongTermConfig.verified(redetect="global", probation_frames=4, tau_redetection=0.0,
                                                         colour_check="off"), 30, [lookalike])
    memory_count = tracker.models[0].model.memory.count
    updates = tracker.models[0].model.updates
    # with tau_redetection 0 anything is accepted; the probation check uses the same threshold,
    # so raise it again once the re-detection happened
    states = []
    for i in range(40):
        state = tracker.track(render(None, [lookalike], noise_seed=200 + i))
        states.append(state)
        if state.mode == "redetected":
            tracker.longterm.config = _with(tracker.config.longterm, tau_redetection=0.95)
            break
    assert states[-1].mode == "redetected"
    following = [tracker.track(render(None, [lookalike], noise_seed=300 + i)) for i in range(4)]
    assert following[-1].info["state"] in ("lost",) and not following[-1].present
    assert "probation_failed" in following[-1].info["events"]
    assert tracker.models[0].model.updates == updates  # nothing learnt from the candidate
    assert tracker.models[0].model.memory.count == memory_count


def _with(config, **fields):
    from dataclasses import replace

    return replace(config, **fields)


def test_paper_variant_keeps_the_section_3_structure(out_of_view):
    frames, gt = out_of_view
    config = LongTermConfig.paper(redetect="global")
    tracker = Tracker.from_preset("eco-hc", longterm=config)
    states = [tracker.initialize(frames[0], gt[0])] + [tracker.track(f) for f in frames[1:]]
    events = _events(states)
    assert "last_position_check" not in events  # the paper scans every n_redetection frames only
    assert not any(s.info["state"] == "probation" for s in states)
    assert tracker.longterm.colour is None  # candidates are judged by the local and global filters only
    assert "lock_challenged" not in events and "mining_deferred" not in events  # no questioning, no trust
    back = [_iou(s.box, g) for s, g in zip(states[125:], gt[125:])]
    assert np.mean(np.array(back) > 0.5) > 0.8


def test_cli_trace_writes_one_json_line_per_frame(tmp_path, out_of_view):
    frames, gt = out_of_view
    from dcfre.io import write_results_atomic  # noqa: F401  (the folder layout below is the plain one)
    from PIL import Image

    folder = tmp_path / "seq"
    (folder / "img").mkdir(parents=True)
    n = 75
    for i, frame in enumerate(frames[:n]):
        Image.fromarray(frame).save(folder / "img" / f"{i + 1:04d}.png")
    lines = ["NaN,NaN,NaN,NaN" if not np.isfinite(b).all() else ",".join(f"{v:.2f}" for v in b) for b in gt[:n]]
    (folder / "groundtruth.txt").write_text("\n".join(lines) + "\n")
    trace, video = tmp_path / "trace.jsonl", tmp_path / "out.mp4"
    run = subprocess.run([sys.executable, "-m", "dcfre", "track", str(folder), "--preset", "eco-hc",
                          "--redetect", "global", "--trace", str(trace), "--save-video", str(video), "--quiet"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    records = read_trace(trace)
    assert [r["frame"] for r in records] == list(range(1, n + 1))
    assert all(set(r) <= {"frame", "box", "confidence", "present", "mode"} | set(INFO_KEYS) for r in records)
    assert any("loss_declared" in r["events"] for r in records)
    scans = [r for r in records if "scan" in r]
    assert scans and {"max", "argmax_yx", "shape"} <= set(scans[0]["scan"]["local"])
    json.dumps(records)  # plain JSON all the way down
    assert video.stat().st_size > 0


def test_held_out_calibration_is_the_median_of_fresh_target_ratios():
    """``target_ratio`` is the global / local score at a sample's centre (checked against the score
    maps sampled by the model's own inverse transform); ``calibration`` is their median."""
    lookalike = (60.0, 60.0)
    tracker = Tracker.from_preset("eco-hc", longterm=LongTermConfig.verified(redetect="global"))
    tracker.initialize(render(CENTRE, [lookalike]), _box(CENTRE))
    gm = tracker.global_model
    assert gm.ready  # trained after the first frame's mining round
    appearance = tracker.confidence_model
    frame = render(CENTRE, [lookalike], noise_seed=77)
    detection = appearance.detect(frame, tracker.position, np.array([tracker.scale]))
    sample = appearance.training_sample(detection, tracker.position)
    batch = [z[None] for z in sample]
    local_map = appearance.sampler(appearance.model.score(batch)[0])
    from dcfre.eco.operators import score_spectrum

    global_map = appearance.sampler(score_spectrum(gm.filters, batch, appearance.model.layout)[0])
    assert gm.target_ratio(sample) == pytest.approx(global_map[0, 0] / local_map[0, 0], rel=1e-4)
    gm.held_out_ratios.clear()
    for ratio in (0.5, 0.9, 0.6):
        gm.held_out_ratios.append(ratio)
    assert gm.calibration == pytest.approx(0.6)


def _returning_off_centre(recentre: bool):
    """Track at CENTRE, hide the target until the loss, show it again 24 px away (inside the search
    sample at the frozen last position); the last-position checks' candidates and the tracker."""
    config = LongTermConfig(redetect="local", trace=True, recentre_candidates=recentre)
    tracker = _tracked_at_centre(config)
    for i in range(12):
        tracker.track(render(None, noise_seed=100 + i))
    assert tracker.longterm.lost
    moved = (CENTRE[0] + 16.0, CENTRE[1] - 18.0)
    checks = []
    for i in range(6):
        frame = render(moved, noise_seed=200 + i)
        state = tracker.track(frame)
        checks.append((state, frame))
        if state.present:
            break
    return tracker, checks, moved


def test_off_centre_candidate_is_scored_on_its_own_centred_sample():
    """A returning target found off-centre in the last-position sample is damped by the cosine
    window; re-centred, its score is the one a tracked (centred) target gets, as rbar_p assumes."""
    tracker, checks, moved = _returning_off_centre(recentre=False)
    damped = [s.info["candidates"][0]["local"] for s, _ in checks if "last_position_check" in s.info["events"]]
    assert damped and not any(s.present for s, _ in checks)  # rejected every time: damped below 0.7

    tracker, checks, moved = _returning_off_centre(recentre=True)
    state, frame = next((s, f) for s, f in checks if "last_position_check" in s.info["events"])
    candidate = state.info["candidates"][0]
    assert _iou(np.array(candidate["box"]), _box(moved)) > 0.7
    assert candidate["accepted"] and state.present
    # the same number as a centred sample scored directly (independent of the machine's code path)
    centred = tracker.localize(frame, np.array(moved), tracker.scale, [1.0])
    assert candidate["local"] == pytest.approx(centred.confidence_score / state.info["rbar_p"], rel=0.02)
    assert candidate["local"] > max(damped) + 0.2


def test_only_candidates_that_could_pass_are_recentred():
    """While the target is absent the last-position peaks are background (far below the threshold):
    they are not sampled a second time; a returning target is."""
    tracker = _tracked_at_centre(LongTermConfig(redetect="local", n_redetection=1000))
    calls = []
    localize = tracker.localize
    tracker.localize = lambda *a, **k: calls.append(1) or localize(*a, **k)

    def calls_in(frame):
        calls.clear()
        state = tracker.track(frame)
        return len(calls), state

    for i in range(12):
        count, state = calls_in(render(None, noise_seed=100 + i))
    assert tracker.longterm.lost and "last_position_check" in state.info["events"]
    ratio = tracker.config.longterm.recentre_min_ratio * tracker.config.longterm.tau_redetection
    assert state.confidence < ratio and count == 1
    count, state = calls_in(render((CENTRE[0] + 16.0, CENTRE[1] - 18.0), noise_seed=300))
    assert count == 2 and state.present


@pytest.mark.parametrize("recovery_frames", [1, 3])
def test_deferred_samples_wait_for_a_run_of_confident_frames(recovery_frames):
    """A short low-confidence streak (target hidden for 2 frames, fewer than n_loss): its samples are
    learnt only once confidence has been back for ``recovery_frames`` frames in a row."""
    config = LongTermConfig(redetect="local", learn_after_recovery=True, recovery_frames=recovery_frames)
    tracker = _tracked_at_centre(config)
    hidden = [tracker.track(render(None, noise_seed=100 + i)) for i in range(2)]
    assert all("low_confidence" in s.info["events"] for s in hidden) and not tracker.longterm.lost
    back = [tracker.track(render(CENTRE, noise_seed=200 + i)) for i in range(4)]
    learnt_at = [i for i, s in enumerate(back) if "learnt_deferred" in s.info["events"]]
    assert learnt_at == [recovery_frames - 1]


def test_weak_return_needs_consecutive_near_passes_of_tau_min_and_the_appearance_gate():
    """The hysteresis of a return: ``weak_return_frames`` last-position checks in a row at or above
    ``tau_min`` (below ``tau_redetection``), each near the previous one, with the appearance gate."""
    from types import SimpleNamespace

    from dcfre.longterm.machine import Candidate, LongTermMachine

    config = LongTermConfig(weak_return_frames=3, tau_min=0.6, tau_redetection=0.7)
    machine = SimpleNamespace(config=config, _weak_hits=0, _weak_position=None,
                              _appearance_agrees=lambda global_, colour: global_ >= 0.5,
                              _target_size=lambda scale: np.array([20.0, 10.0]) * scale)

    def check(local, x, global_=0.9):
        candidate = Candidate(np.array([50.0, x]), 1.0, local, global_, False)
        return LongTermMachine._weak_return(machine, candidate)

    assert [check(0.65, 100), check(0.62, 103), check(0.61, 104)] == [False, False, True]
    assert machine._weak_hits == 0  # accepted: the count starts again
    assert [check(0.65, 100), check(0.55, 100), check(0.65, 100), check(0.65, 101)] == [False] * 4  # one miss
    assert check(0.65, 102) is True
    assert [check(0.65, 100), check(0.65, 120), check(0.65, 121)] == [False] * 3  # a jump of more than w/2
    assert check(0.65, 122) is True
    assert [check(0.65, 100, 0.1), check(0.65, 100), check(0.65, 100)] == [False] * 3  # the gate disagreed once
    off = SimpleNamespace(**{**vars(machine), "config": LongTermConfig(weak_return_frames=0)})
    assert not any(LongTermMachine._weak_return(off, Candidate(np.zeros(2), 1.0, 5.0, 5.0, False)) for _ in range(9))


@pytest.mark.parametrize("freeze", [True, False])
def test_scale_on_low_confidence_frames_and_its_restoration_at_a_loss(freeze):
    """A low-confidence frame keeps the previous size (``freeze_scale_when_low``) or the one estimated
    on it; a declared loss always returns to the size of the last confident frame."""
    longterm = LongTermConfig(redetect="local", freeze_scale_when_low=freeze, n_loss=3)
    tracker = _tracked_at_centre(longterm, frames=10)
    confident_scale = tracker.scale
    monitor = tracker.longterm.monitor
    observe, estimate = monitor.observe, tracker._scale_filter.estimate
    monitor.observe = lambda score: observe(0.1 * score)  # the target's score collapses
    tracker._scale_filter.estimate = lambda *args: 1.1 * estimate(*args)  # ... and its size seems to grow
    state = tracker.track(render(CENTRE, noise_seed=50))
    assert "low_confidence" in state.info["events"] and state.present
    if freeze:
        assert tracker.scale == confident_scale
    else:
        assert tracker.scale > 1.05 * confident_scale
    states = [tracker.track(render(CENTRE, noise_seed=51 + i)) for i in range(2)]
    assert "loss_declared" in states[-1].info["events"]
    assert tracker.scale == confident_scale


def test_deferred_size_changes_apply_when_confidence_returns_and_drop_at_a_loss():
    """``defer_scale_when_low``: the size changes estimated on low-confidence frames are held back (the
    size stays frozen) and applied at the next confident frame; a streak that ends in a loss drops them."""
    longterm = LongTermConfig(redetect="local", defer_scale_when_low=True, n_loss=3)
    tracker = _tracked_at_centre(longterm, frames=10)
    confident_scale = tracker.scale
    monitor = tracker.longterm.monitor
    observe = monitor.observe
    low = {"on": True}
    monitor.observe = lambda score: observe(0.1 * score if low["on"] else score)
    tracker._scale_filter.estimate = lambda *args: 1.1 if low["on"] else 1.0
    for i in range(2):  # two low frames: frozen, 1.1 x 1.1 held back
        state = tracker.track(render(CENTRE, noise_seed=70 + i))
        assert "low_confidence" in state.info["events"] and tracker.scale == confident_scale
    low["on"] = False
    state = tracker.track(render(CENTRE, noise_seed=72))
    assert "low_confidence" not in state.info["events"]
    assert tracker.scale == pytest.approx(min(confident_scale * 1.21, tracker.max_scale))
    resumed_scale = tracker.scale
    low["on"] = True
    states = [tracker.track(render(CENTRE, noise_seed=73 + i)) for i in range(3)]
    assert "loss_declared" in states[-1].info["events"] and tracker.scale == resumed_scale
    assert tracker.longterm._deferred_scale_change == 1.0  # nothing left to apply after the loss


@pytest.mark.parametrize("interval", [0, 5])
def test_a_challenge_moves_a_lock_off_a_look_alike_and_never_off_the_target(interval):
    """``challenge_interval``: the tracker is put on a look-alike while the target stays in view. With
    challenges, a scan finds the target stronger than the lock (and nearer its colours): the lock moves
    there, passes its probation, and later challenges (the look-alike as challenger) leave it. Without,
    the look-alike is followed to the end."""
    look_alike = (60.0, 60.0)
    longterm = LongTermConfig(redetect="global", challenge_interval=interval, challenge_margin=1.1,
                              retrain_global_on_mining=True)
    tracker = _tracked_at_centre(longterm, frames=10, distractors=[look_alike])
    tracker.position = np.array(look_alike)  # a drift onto the look-alike
    states = [tracker.track(render(CENTRE, [look_alike], noise_seed=500 + i)) for i in range(30)]
    events = [e for s in states for e in s.info["events"]]
    on_target = [_iou(s.box, _box(CENTRE)) > 0.5 for s in states]
    if interval == 0:
        assert "lock_challenged" not in events and not any(on_target)
        return
    assert events.count("lock_challenged") >= 4 and events.count("challenger_accepted") == 1
    assert "probation_passed" in events and "probation_failed" not in events
    switched = next(i for i, s in enumerate(states) if "challenger_accepted" in s.info["events"])
    assert switched < interval and all(on_target[switched:])  # at the first challenge, on the target from then on
