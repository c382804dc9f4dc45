"""bench/ab.py's pieces that decide what a measurement says, checked by hand."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from ab import FLOOR, order, parse_time, summarize  # noqa: E402


def test_parse_time_reads_the_last_line():
    # A run that printed to stderr before /usr/bin/time's line: 2,048,000 KB is 2,000 MB.
    assert parse_time("warning: something\n10.50 17.25 2.40 2048000\n") == (10.5, 17.25, 2.4, 2000)


def test_order_reverses_every_other_round():
    assert order(["a", "b", "c"], 0) == ["a", "b", "c"]
    assert order(["a", "b", "c"], 1) == ["c", "b", "a"]
    assert order(["a", "b", "c"], 2) == ["a", "b", "c"]


def test_summarize_medians_and_ratios_by_hand():
    def row(build, wall, user, system, rss):
        return dict(build=build, wall_s=str(wall), user_s=str(user), sys_s=str(system),
                    max_rss_mb=str(rss))

    rows = [
        row(FLOOR, 5.0, 8.0, 2.0, 500), row(FLOOR, 6.0, 9.0, 2.0, 500),
        row(FLOOR, 7.0, 9.0, 3.0, 520),
        row("old", 10.0, 17.0, 3.0, 1200), row("old", 11.0, 18.0, 2.0, 1300),
        row("old", 12.0, 19.0, 2.0, 1250),
        row("new", 9.0, 16.0, 2.0, 1100), row("new", 10.0, 16.0, 3.0, 1150),
        row("new", 13.0, 17.0, 3.0, 1200),
    ]
    lines = summarize(rows, ["old", "new"])
    # Medians: floor wall 6, cpu 11 (10, 11, 12); old wall 11, cpu 20 (20, 20, 21);
    # new wall 10, cpu 19 (18, 19, 20). old / floor: 11 / 6 = 1.83, 20 / 11 = 1.82;
    # new / floor: 10 / 6 = 1.67, 19 / 11 = 1.73; new vs old: 10 / 11 - 1 = -9.1 %,
    # 19 / 20 - 1 = -5.0 %.
    assert lines[2] == "| decode-floor | 3 | 6.00 | 11.00 | 500 | 1.00x | 1.00x | - |"
    assert lines[3] == "| old | 3 | 11.00 | 20.00 | 1250 | 1.83x | 1.82x | +0.0 %, +0.0 % |"
    assert lines[4] == "| new | 3 | 10.00 | 19.00 | 1150 | 1.67x | 1.73x | -9.1 %, -5.0 % |"


def test_summarize_without_the_floor():
    rows = [dict(build="a", wall_s="2", user_s="3", sys_s="1", max_rss_mb="100")]
    assert summarize(rows, ["a"])[2] == "| a | 1 | 2.00 | 4.00 | 100 | - | - | +0.0 %, +0.0 % |"
