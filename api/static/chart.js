// The date histogram as an SVG bar chart.  Hovering or focusing a bar shows its count;
// clicking a bar, pressing Enter on it, or dragging across bars selects a date range.

import { formatDate, h, plural, s } from "./dom.js";

const BAR = 10; // user units per bucket; the SVG stretches to the width available
const HEIGHT = 100;
const UNITS = { year: "year", month: "month", day: "day" };

/**
 * Draw ``histogram`` ({interval, buckets: [{key, count}]}) into ``root``.
 * ``onSelect(fromKey, toKey)`` is called when a bar or a range of bars is chosen.
 */
export function renderHistogram(root, histogram, onSelect) {
  const buckets = (histogram && histogram.buckets) || [];
  root.replaceChildren();
  root.hidden = buckets.length === 0;
  if (!buckets.length) return;

  const unit = UNITS[histogram.interval] || "period";
  const max = Math.max(1, ...buckets.map((b) => b.count));
  const total = buckets.reduce((sum, b) => sum + b.count, 0);
  const peak = buckets.reduce((best, b) => (b.count > best.count ? b : best), buckets[0]);
  const first = formatDate(buckets[0].key);
  const last = formatDate(buckets[buckets.length - 1].key);
  const span = buckets.length === 1 ? first : `${first} to ${last}`;

  const captionId = "chart-caption";
  const summaryId = "chart-summary";
  const tooltip = h("div", { class: "chart-tooltip", "aria-hidden": "true", hidden: true });
  const bars = buckets.map((bucket, i) => {
    const height = bucket.count ? Math.max(2, (bucket.count / max) * HEIGHT) : 0;
    return s(
      "g",
      {
        class: bucket.count ? "bar" : "bar empty",
        role: "button",
        tabindex: i === buckets.length - 1 ? "0" : "-1",
        "aria-label": `${formatDate(bucket.key)}: ${plural(bucket.count, "event")}. Show only this ${unit}.`,
        dataset: { key: bucket.key, count: String(bucket.count), index: String(i) },
      },
      s("rect", { class: "hit", x: i * BAR, y: 0, width: BAR, height: HEIGHT }),
      s("rect", { class: "fill", x: i * BAR + 1, y: HEIGHT - height, width: BAR - 2, height }),
    );
  });
  const svg = s(
    "svg",
    {
      class: "chart-bars",
      viewBox: `0 0 ${buckets.length * BAR} ${HEIGHT}`,
      preserveAspectRatio: "none",
      role: "group",
      "aria-labelledby": captionId,
      "aria-describedby": summaryId,
    },
    bars,
  );

  const plot = h(
    "div",
    { class: "chart-plot" },
    h("div", { class: "chart-area" }, svg, tooltip),
    h(
      "div",
      { class: "chart-axis", "aria-hidden": "true" },
      h("span", {}, first),
      h("span", {}, `tallest: ${max.toLocaleString("en")}`),
      h("span", {}, buckets.length > 1 ? last : ""),
    ),
  );
  // A few buckets get bars of a readable width rather than the whole row.
  plot.style.maxWidth = `${Math.max(12, buckets.length * 3)}rem`;

  root.append(
    h(
      "figcaption",
      { id: captionId },
      `Events per ${unit}, ${span}`,
      h("span", { class: "hint" }, " — click a bar or drag across bars to filter by date"),
    ),
    h(
      "p",
      { id: summaryId, class: "visually-hidden" },
      `${plural(total, "event")} from ${first} to ${last}, in ${plural(buckets.length, unit)}. ` +
        `The most, ${plural(peak.count, "event")}, in ${formatDate(peak.key)}. ` +
        "Each bar is a button; use the arrow keys to move between them and Enter to filter.",
    ),
    plot,
  );

  let dragFrom = null;
  let dragTo = null;

  const indexAt = (clientX) => {
    const box = svg.getBoundingClientRect();
    const i = Math.floor(((clientX - box.left) / box.width) * buckets.length);
    return Math.min(buckets.length - 1, Math.max(0, i));
  };

  const showTip = (lo, hi) => {
    const a = Math.min(lo, hi);
    const b = Math.max(lo, hi);
    let count = 0;
    for (let i = a; i <= b; i += 1) count += buckets[i].count;
    const label =
      a === b
        ? formatDate(buckets[a].key)
        : `${formatDate(buckets[a].key)} – ${formatDate(buckets[b].key)}`;
    tooltip.textContent = `${label}: ${plural(count, "event")}`;
    tooltip.hidden = false;
    const area = svg.getBoundingClientRect();
    const center = ((a + b + 1) / 2 / buckets.length) * area.width;
    const left = Math.min(Math.max(center - tooltip.offsetWidth / 2, 0), area.width - tooltip.offsetWidth);
    tooltip.style.left = `${Math.max(0, left)}px`;
    bars.forEach((bar, i) => bar.classList.toggle("selected", i >= a && i <= b));
  };

  const hideTip = () => {
    tooltip.hidden = true;
    bars.forEach((bar) => bar.classList.remove("selected"));
  };

  svg.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    dragFrom = dragTo = indexAt(event.clientX);
    svg.setPointerCapture(event.pointerId);
    showTip(dragFrom, dragTo);
  });
  svg.addEventListener("pointermove", (event) => {
    const i = indexAt(event.clientX);
    if (dragFrom === null) {
      showTip(i, i);
    } else if (i !== dragTo) {
      dragTo = i;
      showTip(dragFrom, dragTo);
    }
  });
  svg.addEventListener("pointerup", (event) => {
    if (dragFrom === null) return;
    const a = Math.min(dragFrom, indexAt(event.clientX));
    const b = Math.max(dragFrom, indexAt(event.clientX));
    dragFrom = dragTo = null;
    onSelect(buckets[a].key, buckets[b].key);
  });
  svg.addEventListener("pointercancel", () => {
    dragFrom = dragTo = null;
    hideTip();
  });
  svg.addEventListener("pointerleave", () => {
    if (dragFrom === null) hideTip();
  });

  bars.forEach((bar, i) => {
    bar.addEventListener("focus", () => showTip(i, i));
    bar.addEventListener("blur", hideTip);
    bar.addEventListener("keydown", (event) => {
      let next = null;
      if (event.key === "ArrowRight") next = Math.min(i + 1, bars.length - 1);
      else if (event.key === "ArrowLeft") next = Math.max(i - 1, 0);
      else if (event.key === "Home") next = 0;
      else if (event.key === "End") next = bars.length - 1;
      else if (event.key === "Enter" || event.key === " ") {
        event.preventDefault();
        onSelect(buckets[i].key, buckets[i].key);
        return;
      } else return;
      event.preventDefault();
      bar.setAttribute("tabindex", "-1");
      bars[next].setAttribute("tabindex", "0");
      bars[next].focus();
    });
  });
}
