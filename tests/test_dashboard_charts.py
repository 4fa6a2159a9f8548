"""dashboard.charts: accessible SVG from series, with nothing unescaped."""

import pytest

from dashboard.charts import Series, bar_chart, heatmap, nice_ceiling


def test_axis_ends_are_round_and_halve_into_whole_numbers() -> None:
    assert [nice_ceiling(v) for v in (0, 1, 3, 5, 9, 11, 45, 101, 12_345)] == [
        2,
        2,
        4,
        6,
        10,
        20,
        60,
        200,
        20_000,
    ]


def test_a_bar_chart_is_a_named_image_with_its_numbers_as_rows() -> None:
    chart = bar_chart(
        key="k",
        title="Pairs <b>per</b> round",
        description="Three & counting",
        labels=["<script>", "2"],
        series=[Series("Pairs", [3, None]), Series("Met", [1, 2])],
        formatter=lambda v: f"{v:g}",
        label_column="Round",
    )

    svg = str(chart.svg)
    assert svg.startswith('<svg class="chart"')
    assert 'role="img" aria-labelledby="k-title k-desc"' in svg
    assert '<title id="k-title">Pairs &lt;b&gt;per&lt;/b&gt; round</title>' in svg
    assert '<desc id="k-desc">Three &amp; counting</desc>' in svg
    assert "<script>" not in svg and "&lt;script&gt;" in svg
    assert svg.count('class="chart-series-0"') == 1  # the missing value draws nothing
    assert svg.count('class="chart-series-1"') == 2
    assert chart.columns == ["Round", "Pairs", "Met"]
    assert chart.rows == [["<script>", "3", "1"], ["2", "–", "2"]]
    assert chart.has_data


def test_more_than_two_series_are_refused() -> None:
    with pytest.raises(ValueError, match="one or two series"):
        bar_chart(
            key="k",
            title="t",
            description="d",
            labels=["a"],
            series=[Series("1", [1]), Series("2", [1]), Series("3", [1])],
            formatter=str,
            label_column="x",
        )


def test_an_empty_heatmap_has_no_data_and_a_busy_cell_is_darkest() -> None:
    def draw(value: float) -> str:
        chart = heatmap(
            key="h",
            title="t",
            description="d",
            row_labels=["Mon", "Tue"],
            column_labels=["00", "01"],
            value=lambda row, column: value if (row, column) == (1, 0) else 0.0,
            formatter=lambda v: f"{v:.1f}",
            corner="Day",
        )
        assert chart.rows[1] == ["Tue", f"{value:.1f}", "0.0"]
        assert chart.has_data is (value > 0)
        return str(chart.svg)

    assert 'class="chart-heat"' not in draw(0)
    busy = draw(2.5)
    assert busy.count('class="chart-heat"') == 1
    assert 'fill-opacity="1.0"' in busy
    assert "<title>Tue 00: 2.5</title>" in busy
