// Charts drawn with uPlot (vendored, MIT): small, fast, canvas-based. Each chart carries a
// text label for screen readers; the pages show the same figures in a table beside it.

import { h } from "./ui.js";

const COLOURS = ["#0b5cad", "#c2410c", "#116b35", "#7c3aed", "#a4161a", "#8a5300"];

function frame(el, label) {
  const box = h("div", { class: "chart", role: "img", "aria-label": label });
  el.append(box);
  return box;
}

function sized(box, opts, data) {
  const plot = new window.uPlot({ ...opts, width: Math.max(box.clientWidth, 280), height: 240 }, data, box);
  const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(box.clientWidth, 280), height: 240 }));
  ro.observe(box);
  return plot;
}

/** A time series: `times` in unix seconds, `series` of `{label, values}`. */
export function lineChart(el, { times, series, label }) {
  const box = frame(el, label);
  if (!window.uPlot) return box;
  sized(
    box,
    {
      series: [{}, ...series.map((s, i) => ({ label: s.label, stroke: COLOURS[i % COLOURS.length], width: 2, points: { show: true } }))],
      axes: [{}, { size: 60 }],
    },
    [times, ...series.map((s) => s.values)],
  );
  return box;
}

/** Bars per category (the first series), other series as markers over them. */
export function barChart(el, { categories, series, label }) {
  const box = frame(el, label);
  if (!window.uPlot) return box;
  const xs = categories.map((_, i) => i);
  const bars = window.uPlot.paths.bars({ size: [0.6, 80] });
  sized(
    box,
    {
      scales: { x: { time: false, range: [-0.5, Math.max(categories.length - 0.5, 0.5)] } },
      series: [
        { label: "" },
        ...series.map((s, i) => ({
          label: s.label,
          stroke: COLOURS[i % COLOURS.length],
          fill: i === 0 ? "rgba(11,92,173,0.35)" : undefined,
          paths: i === 0 ? bars : undefined,
          width: i === 0 ? 1 : 0,
          points: i === 0 ? { show: false } : { show: true, size: 9 },
        })),
      ],
      axes: [
        { splits: () => xs, values: (_, splits) => splits.map((v) => (categories[v] || "").slice(0, 14)) },
        { size: 60 },
      ],
    },
    [xs, ...series.map((s) => s.values)],
  );
  return box;
}
