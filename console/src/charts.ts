// Chart.js, registered once with only the parts the console draws (bars and lines).
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
} from "chart.js";
import { h } from "./ui";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip);
Chart.defaults.animation = false; // steady for screen readers, screenshots and slow machines
Chart.defaults.font.family = "system-ui, sans-serif";
Chart.defaults.color = "#1f2933";

export const PALETTE = ["#1f6feb", "#0f7b6c", "#8250df", "#bf3989", "#9a6700", "#cf222e", "#57606a"];

const live = new Set<Chart>();

/** A chart in a figure with a caption and a text alternative (the data as a list) for screen readers. */
export function chart(title: string, cfg: ChartConfiguration, summary: string, id?: string): HTMLElement {
  const canvas = h("canvas", { role: "img", "aria-label": `${title}. ${summary}` });
  const figure = h("figure", { class: "chart", id: id ?? null }, h("figcaption", {}, title), h("div", { class: "chart-box" }, canvas), h("p", { class: "sr-only" }, summary));
  queueMicrotask(() => {
    const instance = new Chart(canvas, { ...cfg, options: { responsive: true, maintainAspectRatio: false, ...(cfg.options ?? {}) } });
    live.add(instance);
    figure.dataset.values = JSON.stringify(cfg.data.datasets.map((d) => d.data));
  });
  return figure;
}

/** Charts of the page being left are destroyed (their resize observers go with them). */
export function destroyCharts(): void {
  live.forEach((c) => c.destroy());
  live.clear();
}
