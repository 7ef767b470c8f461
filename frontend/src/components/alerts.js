import { html } from "lit";
import { rowsOf } from "../api.js";
import { CHANGED, CreditsElement, count, label, number, when } from "../base.js";

const notFound = (error) => {
  if (error.status === 404) return undefined;
  throw error;
};

// <credits-alerts>: the low-balance threshold (`alerts`) and the in-app notifications
// (`notifications`, `notifications/read`). Either endpoint may be missing on a server: a 404
// shows "not available" for that part instead of an error.
// After an action the page reloads at once, but an in-app notification is written by the worker a
// moment after the charge (the outbox is delivered after the commit): look again a few times.
const FOLLOW_UPS_MS = [1500, 4000, 9000];

export class CreditsAlerts extends CreditsElement {
  static properties = { alerts: { state: true }, notifications: { state: true }, saved: { state: true } };

  constructor() {
    super();
    this._timers = [];
    this._followUp = (event) => {
      if (event.detail?.source === this.localName) return;
      this._timers.forEach(clearTimeout);
      this._timers = FOLLOW_UPS_MS.map((ms) => setTimeout(() => this.reload(), ms));
    };
  }

  connectedCallback() {
    super.connectedCallback();
    document.addEventListener(CHANGED, this._followUp);
  }

  disconnectedCallback() {
    document.removeEventListener(CHANGED, this._followUp);
    this._timers.forEach(clearTimeout);
    super.disconnectedCallback();
  }

  async load() {
    const [alerts, notifications] = await Promise.all([
      this.api.credits("alerts").catch(notFound),
      this.api.credits("notifications").catch(notFound),
    ]);
    this.alerts = alerts === undefined ? null : alerts;
    this.notifications = notifications === undefined ? null : notifications;
  }

  async save(event) {
    event.preventDefault();
    const threshold = Number(new FormData(event.target).get("threshold"));
    try {
      this.alerts = await this.api.send("PATCH", "api/credits/alerts", { low_balance_threshold: threshold });
      this.saved = `Saved: we will tell you when your balance falls below ${count(threshold, "credit")}.`;
    } catch (error) {
      this.handle(error);
    }
  }

  async markRead() {
    try {
      await this.api.post("api/credits/notifications/read", {});
      await this.reload();
    } catch (error) {
      this.handle(error);
    }
  }

  render() {
    const loaded = this.alerts !== undefined;
    return html`<section class="card" aria-labelledby="alerts-title" aria-busy=${this.loading}>
      <h2 id="alerts-title">Alerts</h2>
      ${this.failureNotice()}
      ${!loaded ? html`<p class="muted">Loading…</p>` : this.alerts === null
        ? html`<p class="muted" data-testid="alerts-unavailable">Low-balance alerts are not available on this server yet.</p>`
        : html`<form class="row" @submit=${this.save}>
            <label>Tell me when my balance falls below
              <input name="threshold" type="number" min="0" step="1" .value=${String(this.alerts.low_balance_threshold ?? 0)}></label>
            <button type="submit">Save</button>
          </form>
          ${this.saved ? html`<p class="notice good" role="status">${this.saved}</p>` : ""}`}
      ${loaded ? this.renderNotifications() : ""}
    </section>`;
  }

  renderNotifications() {
    if (this.notifications === null) return html`<p class="muted">Notifications are not available on this server yet.</p>`;
    const rows = rowsOf(this.notifications);
    const unread = this.notifications.unread_count ?? rows.filter((n) => !n.read_at && !n.read).length;
    return html`<h3>Notifications ${unread ? html`<span class="muted" data-testid="unread-count">(${unread} unread)</span>` : ""}</h3>
      ${rows.length
        ? html`<ul style="padding-left: 1.1rem; margin: 0">${rows.slice(0, 10).map(
            (n) => html`<li data-testid="notification" style="margin-bottom: 0.4rem; font-weight: ${n.read_at || n.read ? 400 : 600}">
              ${n.title || n.message || label(n.event || n.event_type || n.type)}
              <span class="muted">· ${when(n.created_at)}</span></li>`,
          )}</ul>
          ${unread ? html`<button class="secondary" @click=${this.markRead}>Mark all as read</button>` : ""}`
        : html`<p class="muted">Nothing yet.</p>`}`;
  }
}
