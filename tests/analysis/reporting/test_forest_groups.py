"""The summary's forest plots never put different units on one axis: points on a scale, hours
and a number of care workers each get their own plot, and the axis names the unit."""

from __future__ import annotations

from analysis.reporting.published import forest_groups, plural_word


def _row(label: str, scale: str | None) -> dict:
    return {"label": label, "scale": scale, "effect": 0.1, "ci_low": -0.1, "ci_high": 0.3}


def test_scale_outcomes_are_split_by_their_unit_word():
    rows = [
        _row("tevredenheid (0-10)", "eenheden van de uitkomst"),
        _row("kwaliteit van leven (MANSA-12)", "eenheden van de uitkomst"),
        _row("aantal hulpverleners", "eenheden van de uitkomst"),
        _row("contacttijd (uren)", "eenheden van de uitkomst"),
        _row("bijstand", "procentpunten"),
    ]
    groups = {
        key: (title, word, [r["label"] for r in members])
        for key, title, word, members in forest_groups(rows)
    }
    assert groups["procentpunten"][2] == ["bijstand"]
    assert groups["punten"][1] == "punt"
    assert groups["punten"][2] == ["tevredenheid (0-10)", "kwaliteit van leven (MANSA-12)"]
    assert groups["punten-hulpverleners"][2] == ["aantal hulpverleners"]
    assert groups["punten-uur"][2] == ["contacttijd (uren)"]
    assert groups["punten-uur"][0] == "Overige uitkomsten: verschil in uren"
    # Every row is in exactly one plot.
    assert sum(len(members) for *_, members in forest_groups(rows)) == len(rows)


def test_unit_words_are_dutch_plurals():
    assert [plural_word(w) for w in ("punt", "uur", "%", "hulpverleners")] == [
        "punten",
        "uren",
        "procent",
        "hulpverleners",
    ]
