"""Split bookkeeping of the dataset generator (datasets/generate.py): pure functions, numpy only."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import generate  # noqa: E402

TRAIN, VAL, TEST = 0, 1, 2


def fresh_all_val(groups):
    return {g: VAL for g in groups}


def test_earlier_molecules_keep_their_split():
    group_of = {"a": "a", "b": "b", "c": "c"}
    prior = {"a": TRAIN, "b": TEST, "c": VAL}
    split, dropped = generate.keep_prior_splits(group_of, prior, {}, fresh_all_val)
    assert split == prior and dropped == []


def test_a_reaction_joining_two_splits_is_dropped_and_no_molecule_moves():
    # a new reaction of training molecule a reaches test molecule b: the union-find puts them in
    # one group, but b must stay in test, and the reaction (b as a product of a) must go
    group_of = {"a": "a", "b": "a", "d": "d"}
    prior = {"a": TRAIN, "b": TEST, "d": TRAIN}
    links = {"a:ts0": {"a", "b"}, "a:ts1": {"a"}, "d:ts0": {"d"}}
    split, dropped = generate.keep_prior_splits(group_of, prior, links, fresh_all_val)
    assert split == prior
    assert dropped == ["a:ts0"]


def test_a_new_molecule_joins_its_groups_split():
    group_of = {"a": "a", "n": "a", "m": "x", "b": "x"}
    prior = {"a": TEST, "b": TRAIN}
    split, dropped = generate.keep_prior_splits(group_of, prior, {"r": {"a", "n"}}, fresh_all_val)
    assert split["n"] == TEST and split["m"] == TRAIN and dropped == []


def test_a_new_molecule_between_two_splits_goes_to_the_held_out_one():
    group_of = {"a": "a", "b": "a", "n": "a"}
    prior = {"a": TRAIN, "b": VAL}
    links = {"a:ts0": {"a", "n"}, "b:ts0": {"b", "n"}}
    split, dropped = generate.keep_prior_splits(group_of, prior, links, fresh_all_val)
    assert split["n"] == VAL and split["a"] == TRAIN and split["b"] == VAL
    assert dropped == ["a:ts0"]


def test_groups_without_earlier_molecules_get_a_fresh_draw():
    group_of = {"a": "a", "n1": "g", "n2": "g", "n3": "h"}
    prior = {"a": TRAIN}
    seen = []

    def fresh(groups):
        seen.append(list(groups))
        return {g: TEST for g in groups}

    split, _ = generate.keep_prior_splits(group_of, prior, {}, fresh)
    assert seen == [["g", "h"]]
    assert split == {"a": TRAIN, "n1": TEST, "n2": TEST, "n3": TEST}


def test_fresh_assignment_is_deterministic_and_stratified():
    groups = [f"g{k}" for k in range(40)]
    weights = {g: (1 if k < 20 else 0) for k, g in enumerate(groups)}
    one = generate.assign_splits(groups, weights)
    assert one == generate.assign_splits(groups, weights)
    with_ts = [one[g] for g in groups[:20]]
    assert with_ts.count(TRAIN) == 14 and with_ts.count(VAL) == 3 and with_ts.count(TEST) == 3
