import { html } from "lit";
import { CreditsElement, count, label, number, when } from "../base.js";

const TYPES = ["spend", "free_use", "monthly_grant", "expiry", "top_up", "refund", "adjustment"];
const PAGE_SIZE = 20;

function nextDay(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

// <credits-history>: the ledger with filters, search, paging and a CSV download of the same rows
// (`transactions`, `transactions/search`, `transactions/export.csv`).
export class CreditsHistory extends CreditsElement {
  static properties = { page: { state: true }, data: { state: true }, filters: { state: true }, downloading: { state: true } };

  constructor() {
    super();
    this.page = 1;
    this.filters = { q: "", transaction_type: "", action_type: "", from: "", to: "" };
  }

  // The query both the list and the export send: "to" is inclusive for people, `created_before` is exclusive.
  get query() {
    const f = this.filters;
    return {
      q: f.q.trim() || undefined,
      transaction_type: f.transaction_type,
      action_type: f.action_type.trim(),
      created_after: f.from,
      created_before: f.to ? nextDay(f.to) : "",
    };
  }

  async load() {
    const query = this.query;
    const path = query.q ? "transactions/search" : "transactions";
    this.data = await this.api.credits(path, { ...query, page: this.page, page_size: PAGE_SIZE });
  }

  apply(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    this.filters = Object.fromEntries(["q", "transaction_type", "action_type", "from", "to"].map((k) => [k, String(form.get(k) || "")]));
    this.page = 1;
    this.reload();
  }

  clear(event) {
    event.target.form.reset();
    this.filters = { q: "", transaction_type: "", action_type: "", from: "", to: "" };
    this.page = 1;
    this.reload();
  }

  go(page) {
    this.page = page;
    this.reload();
  }

  // The export needs the Authorization header, so it is fetched and handed to the browser as a file.
  async download() {
    this.downloading = true;
    try {
      const response = await this.api.raw("GET", "api/credits/transactions/export.csv", { params: this.query });
      if (!response.ok) {
        const body = await response.json().catch(() => ({}));
        throw Object.assign(new Error(body.detail || `HTTP ${response.status}`), { status: response.status });
      }
      const name = /filename="([^"]+)"/.exec(response.headers.get("Content-Disposition") || "")?.[1] || "credits-transactions.csv";
      const url = URL.createObjectURL(await response.blob());
      const link = Object.assign(document.createElement("a"), { href: url, download: name });
      this.renderRoot.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(url), 10_000);
    } catch (error) {
      this.handle(error);
    } finally {
      this.downloading = false;
    }
  }

  render() {
    const f = this.filters;
    const data = this.data;
    const pages = data ? Math.max(1, Math.ceil(data.count / PAGE_SIZE)) : 1;
    return html`<section class="card" aria-labelledby="history-title" aria-busy=${this.loading}>
      <h2 id="history-title">History</h2>
      <form class="filters" role="search" @submit=${this.apply}>
        <label>Search <input name="q" type="search" .value=${f.q} placeholder="username, action…" maxlength="100"></label>
        <label>Type <select name="transaction_type">
          <option value="">All types</option>
          ${TYPES.map((t) => html`<option value=${t} ?selected=${f.transaction_type === t}>${label(t)}</option>`)}
        </select></label>
        <label>Action <input name="action_type" .value=${f.action_type} placeholder="e.g. ai_insights" maxlength="64"></label>
        <label>From <input name="from" type="date" .value=${f.from}></label>
        <label>To <input name="to" type="date" .value=${f.to}></label>
        <div class="filter-buttons">
          <button type="submit">Apply</button>
          <button type="button" class="secondary" @click=${this.clear}>Clear</button>
          <button type="button" class="secondary" @click=${this.download} ?disabled=${this.downloading}>
            ${this.downloading ? "Preparing…" : "Download CSV"}</button>
        </div>
      </form>
      ${this.failureNotice()}
      ${data ? this.renderRows(data.results) : html`<p class="muted">Loading…</p>`}
      ${data
        ? html`<nav class="row" aria-label="History pages" style="justify-content: space-between; margin-top: 0.75rem">
            <span class="muted" data-testid="history-count">${count(data.count, "transaction")} · page ${this.page} of ${pages}</span>
            <span class="row">
              <button class="secondary" ?disabled=${!data.previous} @click=${() => this.go(this.page - 1)}>Previous</button>
              <button class="secondary" ?disabled=${!data.next} @click=${() => this.go(this.page + 1)}>Next</button>
            </span>
          </nav>`
        : ""}
    </section>`;
  }

  renderRows(rows) {
    if (!rows.length) return html`<p class="muted">No transactions match.</p>`;
    return html`<table class="stack" data-testid="history-table">
      <thead><tr><th>When</th><th>Type</th><th>Action</th><th>Reference</th><th class="num">Change</th><th class="num">Balance</th></tr></thead>
      <tbody>${rows.map(
        (r) => html`<tr>
          <td data-label="When">${when(r.created_at)}</td>
          <td data-label="Type">${label(r.transaction_type)}</td>
          <td data-label="Action">${label(r.action_type) || "–"}</td>
          <td data-label="Reference">${r.reference || r.description || "–"}</td>
          <td class="num" data-label="Change" style="color: ${r.delta < 0 ? "var(--bad)" : r.delta > 0 ? "var(--good)" : "inherit"}">
            ${r.delta > 0 ? "+" : ""}${number(r.delta)}</td>
          <td class="num" data-label="Balance">${number(r.balance_after)}</td>
        </tr>`,
      )}</tbody>
    </table>`;
  }
}
