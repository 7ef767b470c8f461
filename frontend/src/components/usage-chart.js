import { html } from "lit";
import { CreditsElement, count, label, number } from "../base.js";
import { draw, PALETTE } from "../charts.js";

const thisMonth = () => new Date().toISOString().slice(0, 7);

function daysOf(period) {
  const [year, month] = period.split("-").map(Number);
  const count = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return Array.from({ length: count }, (_, i) => `${period}-${String(i + 1).padStart(2, "0")}`);
}

// <credits-usage-chart period="YYYY-MM">: credits spent per day and per action in one month
// (`usage/monthly`), as two charts with the same figures in a table for screen readers.
export class CreditsUsageChart extends CreditsElement {
  static properties = { period: { reflect: true }, usage: { state: true } };

  constructor() {
    super();
    this.period = thisMonth();
  }

  updated(changed) {
    super.updated(changed);
    if (changed.has("period") && changed.get("period") !== undefined && this.token) this.reload();
    if (changed.has("usage") && this.usage) this.drawCharts();
  }

  async load() {
    this.usage = await this.api.credits("usage/monthly", { period: this.period });
  }

  get daily() {
    const byDay = Object.fromEntries((this.usage?.daily_usage || []).map((d) => [d.date, d]));
    return daysOf(this.period).map((date) => ({ date, credits: byDay[date]?.credits || 0, actions: byDay[date]?.actions || 0 }));
  }

  get actions() {
    return Object.entries(this.usage?.action_breakdown || {}).map(([action, v]) => ({ action, ...v }));
  }

  drawCharts() {
    const daily = this.daily;
    const dayCanvas = this.renderRoot.querySelector("#daily");
    const actionCanvas = this.renderRoot.querySelector("#actions");
    if (dayCanvas) {
      this.dailyChart = draw(dayCanvas, {
        type: "bar",
        data: {
          labels: daily.map((d) => Number(d.date.slice(8))),
          datasets: [
            { label: "Credits", data: daily.map((d) => d.credits), backgroundColor: PALETTE[0], borderRadius: 3, yAxisID: "y" },
            { label: "Actions", data: daily.map((d) => d.actions), backgroundColor: PALETTE[1], borderRadius: 3, yAxisID: "actions" },
          ],
        },
        // Credits and actions differ by an order of magnitude: each on its own axis (credits left, actions right).
        options: {
          plugins: { legend: { position: "bottom" } },
          scales: {
            y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Credits" } },
            actions: { position: "right", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false },
                       title: { display: true, text: "Actions" } },
          },
        },
      });
    }
    if (actionCanvas) {
      const actions = this.actions;
      this.actionChart = draw(actionCanvas, {
        type: "bar",
        data: {
          labels: actions.map((a) => label(a.action)),
          datasets: [
            { label: "Credits", data: actions.map((a) => a.credits), backgroundColor: PALETTE[0], borderRadius: 3, xAxisID: "x" },
            { label: "Uses", data: actions.map((a) => a.count), backgroundColor: PALETTE[2], borderRadius: 3, xAxisID: "uses" },
          ],
        },
        // A use costs 10 to 25 credits: on the credits axis the uses' bars would be slivers. Uses get their own (top) axis.
        options: {
          indexAxis: "y",
          plugins: { legend: { position: "bottom" } },
          scales: {
            x: { beginAtZero: true, ticks: { precision: 0 }, title: { display: true, text: "Credits" } },
            uses: { position: "top", beginAtZero: true, ticks: { precision: 0 }, grid: { drawOnChartArea: false },
                    title: { display: true, text: "Uses" } },
          },
        },
      });
    }
  }

  render() {
    const u = this.usage;
    return html`<section class="card" aria-labelledby="usage-title" aria-busy=${this.loading}>
      <div class="row" style="justify-content: space-between; align-items: center; margin-bottom: 0.5rem">
        <h2 id="usage-title" style="margin: 0">Usage</h2>
        <label style="flex-direction: row; align-items: center; gap: 0.5rem">Month <input type="month" .value=${this.period} max=${thisMonth()}
          @change=${(e) => e.target.value && (this.period = e.target.value)}></label>
      </div>
      ${this.failureNotice()}
      ${u ? this.renderUsage(u) : html`<p class="muted">Loading…</p>`}
    </section>`;
  }

  renderUsage(u) {
    const summary = `${count(u.total_credits_spent, "credit")} spent on ${count(u.total_actions, "action")} in ${u.period} (${number(u.free_allowances_used)} free).`;
    return html`
      <p data-testid="usage-summary">${summary}</p>
      <div class="stats">
        <div class="stat"><span class="muted">Credits spent</span><b data-testid="usage-total">${number(u.total_credits_spent)}</b></div>
        <div class="stat"><span class="muted">Actions</span><b>${number(u.total_actions)}</b></div>
        <div class="stat"><span class="muted">Free uses</span><b>${number(u.free_allowances_used)}</b></div>
      </div>
      <h3>By day</h3>
      <div class="chart"><canvas id="daily" role="img" aria-label=${`Credits per day. ${summary}`}></canvas></div>
      <h3>By action</h3>
      ${this.actions.length
        ? html`<div class="chart" style="height: ${120 + this.actions.length * 40}px"><canvas id="actions" role="img" aria-label="Credits and uses per action"></canvas></div>`
        : html`<p class="muted">No actions this month yet.</p>`}
      <details>
        <summary>Show as a table</summary>
        <table class="stack">
          <thead><tr><th>Action</th><th class="num">Uses</th><th class="num">Credits</th></tr></thead>
          <tbody>${this.actions.map((a) => html`<tr><td data-label="Action">${label(a.action)}</td>
            <td class="num" data-label="Uses">${number(a.count)}</td><td class="num" data-label="Credits">${number(a.credits)}</td></tr>`)}</tbody>
        </table>
      </details>`;
  }
}
