import { css, html } from "lit";
import { CreditsElement, day, money, number } from "../base.js";
import { shared } from "../styles.js";

const CHANGEABLE = ["active", "past_due", "unpaid"]; // a live subscription whose package can change
const SUBSCRIBABLE = ["none", "canceled"];
// Which of two packages is bigger: more credits a month, then the dearer (as the server compares them).
const above = (a, b) => a.monthly_credits > b.monthly_credits || (a.monthly_credits === b.monthly_credits && a.price_cents > b.price_cents);
const price = (p) => (p.price_cents ? money(p.price_cents, p.currency) : "Free");

// <credits-plan>: the monthly package and its subscription through Stripe Billing (`packages`,
// `subscription`): subscribe (Stripe Checkout), upgrade or downgrade, cancel at the period's end or
// resume, the customer portal; and a banner when a payment failed or the wallet is locked. A 404 on
// `subscription` means the server sells no subscriptions: the packages are shown without buttons.
export class CreditsPlan extends CreditsElement {
  static properties = { packages: { state: true }, subscription: { state: true }, message: { state: true }, busy: { state: true } };

  static styles = [
    shared,
    css`
      .head { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; margin-bottom: 0.5rem; }
      .head p { margin: 0; }
      .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; }
      .banner { display: flex; flex-wrap: wrap; gap: 0.5rem 1rem; align-items: center; justify-content: space-between; }
      a.button {
        display: inline-flex; align-items: center; min-height: 2.4rem; box-sizing: border-box; padding: 0.45rem 0.9rem;
        border-radius: 8px; background: var(--accent); color: #fff; font-weight: 600; text-decoration: none; white-space: nowrap;
      }
      .banner button, .banner a.button { flex: none; }
      tr.current { background: #f5f9ff; }
      .tag { display: inline-block; font-size: 0.75rem; font-weight: 600; border-radius: 999px; padding: 0.05rem 0.5rem; margin-left: 0.35rem;
        background: #e0ecff; color: var(--accent); white-space: nowrap; }
      .tag.later { background: #f1f5f9; color: var(--muted); }
      table td { vertical-align: middle; }
      td.act { text-align: right; white-space: nowrap; width: 1%; }
      td.act button { min-width: 7rem; }
      @media (max-width: 540px) {
        table.stack td.act { justify-content: flex-end; padding-top: 0.35rem; width: auto; }
        table.stack td.act::before { content: none; }
        td.act button { width: 100%; }
        .actions button { flex: 1 1 auto; }
        .banner a.button, .banner button { width: 100%; justify-content: center; }
      }
    `,
  ];

  async load() {
    const [packages, subscription] = await Promise.all([
      this.api.credits("packages"),
      this.api.credits("subscription").catch((error) => {
        if (error.status === 404) return null;
        throw error;
      }),
    ]);
    this.packages = packages;
    this.subscription = subscription;
  }

  // One action at a time: its answer (a summary) is shown at once, then every panel reloads.
  async act(key, path, body, done) {
    this.busy = key;
    this.message = null;
    try {
      const answer = await this.api.post(`api/credits/subscription/${path}`, body);
      if (answer?.url) {
        this.message = { kind: "good", text: "Taking you to Stripe…" };
        window.location.assign(answer.url);
        return;
      }
      this.subscription = answer;
      this.message = { kind: "good", text: done(answer) };
      this.changed(); // the balance shows the package too; this panel reloads the packages with it
    } catch (error) {
      if (error.status === 401) this.handle(error);
      this.message = error.code === "payments_not_configured"
        ? { kind: "warn", text: "Payments are not set up on this server yet." }
        : { kind: "bad", text: error.message };
    } finally {
      this.busy = null;
    }
  }

  subscribe(p) {
    return this.act(`package-${p.id}`, "checkout", { package: p.id });
  }

  change(p) {
    const current = this.subscription.package;
    return this.act(`package-${p.id}`, "change", { package: p.id }, (s) =>
      p.id === current.id ? `You stay on ${p.name}.`
        : s.upgrade_pending ? `Upgrading to ${p.name}: it applies as soon as its invoice is paid.`
          : `You move to ${p.name} on ${day(s.current_period_end)}.`);
  }

  cancel() {
    return this.act("cancel", "cancel", {}, (s) => `Cancelled: your plan ends on ${day(s.current_period_end)}.`);
  }

  resume() {
    return this.act("resume", "resume", {}, (s) => `Resumed: your plan renews on ${day(s.current_period_end)}.`);
  }

  portal() {
    return this.act("portal", "portal", {});
  }

  statusLine(s) {
    const end = s.current_period_end;
    const parts = {
      none: "No subscription: subscribe for more credits every month.",
      incomplete: "Starting: waiting for the first payment.",
      active: s.cancel_at_period_end ? `Ends on ${day(end)} (cancelled)`
        : end && !s.pending_package ? `Active, renews on ${day(end)}` : "Active",
      past_due: s.cancel_at_period_end ? `Payment overdue; ends on ${day(end)} (cancelled)` : "Payment overdue: Stripe is retrying",
      unpaid: "Unpaid: the wallet is locked until the invoice is paid",
      canceled: end ? `Ended on ${day(end)}` : "Ended",
    };
    return [
      parts[s.status] ?? s.status,
      s.pending_package && !s.cancel_at_period_end ? `Moves to ${s.pending_package.name} on ${day(end)}` : "",
      s.upgrade_pending ? `Upgrade to ${s.upgrade_pending.name} waiting for payment` : "",
    ].filter(Boolean).join(" · ");
  }

  payNow(s) {
    if (s.payment_url) return html`<a class="button" href=${s.payment_url} data-testid="plan-pay">Pay now</a>`;
    if (s.status === "none") return "";
    return html`<button data-testid="plan-pay" ?disabled=${!!this.busy} @click=${this.portal}>Pay now</button>`;
  }

  banner(s) {
    const locked = s.wallet_status === "locked";
    if (!locked && s.status !== "past_due") return "";
    return html`<div class="notice ${locked ? "bad" : "warn"} banner" role="alert" data-testid="plan-banner">
      <span>${locked ? "Your credit wallet is locked. Please renew your subscription to continue."
        : "Your last payment failed. Your credits keep working while we retry."}</span>
      ${this.payNow(s)}
    </div>`;
  }

  render() {
    const s = this.subscription;
    return html`<section class="card" id="plan" aria-labelledby="plan-title" aria-busy=${this.loading}>
      <h2 id="plan-title">Plan</h2>
      ${this.failureNotice()}
      ${this.packages === undefined ? html`<p class="muted">Loading…</p>` : html`
        ${s ? this.banner(s) : ""}
        ${s ? this.renderStatus(s) : html`<p class="muted" data-testid="plan-unavailable">Subscriptions are not available on this server yet.</p>`}
        ${this.renderPackages(s)}`}
      ${this.message ? html`<p class="notice ${this.message.kind}" role="status" data-testid="plan-message">${this.message.text}</p>` : ""}
    </section>`;
  }

  renderStatus(s) {
    const live = s.status !== "none" && s.status !== "canceled";
    return html`<div class="head">
      <p><span class="muted">Your plan:</span> <b>${s.package.name}</b> · <span data-testid="plan-status">${this.statusLine(s)}</span></p>
      <div class="actions">
        ${live && ["active", "past_due"].includes(s.status) && !s.cancel_at_period_end
          ? html`<button class="secondary" ?disabled=${!!this.busy} @click=${this.cancel}>Cancel subscription</button>` : ""}
        ${live && s.cancel_at_period_end ? html`<button ?disabled=${!!this.busy} @click=${this.resume}>Resume</button>` : ""}
        ${s.status !== "none" ? html`<button class="secondary" ?disabled=${!!this.busy} @click=${this.portal}>Manage billing</button>` : ""}
      </div>
    </div>`;
  }

  renderPackages(s) {
    return html`<table class="stack">
      <thead><tr><th>Package</th><th class="num">Credits a month</th><th class="num">Carried over, at most</th><th class="num">Price a month</th><th><span class="sr-only">Action</span></th></tr></thead>
      <tbody>${this.packages.map((p) => html`<tr class=${p.current ? "current" : ""} data-package=${p.name}>
        <td data-label="Package"><span>${p.current
          ? html`<b data-testid="plan-current">${p.name}</b><span class="tag">Current</span>`
          : p.name}${this.later(p, s)}</span></td>
        <td class="num" data-label="Credits a month">${number(p.monthly_credits)}</td>
        <td class="num" data-label="Carried over, at most">${p.rollover_cap ? number(p.rollover_cap) : "–"}</td>
        <td class="num" data-label="Price a month">${price(p)}</td>
        <td class="act">${this.button(p, s)}</td>
      </tr>`)}</tbody>
    </table>`;
  }

  // What is waiting for a package: a downgrade from the period's end, an upgrade's payment.
  later(p, s) {
    if (s?.pending_package?.id === p.id) return html`<span class="tag later">From ${day(s.current_period_end)}</span>`;
    if (s?.upgrade_pending?.id === p.id) return html`<span class="tag later">Waiting for payment</span>`;
    return "";
  }

  button(p, s) {
    if (!s) return "";
    const busy = !!this.busy;
    const working = this.busy === `package-${p.id}`;
    if (SUBSCRIBABLE.includes(s.status)) {
      if (!p.price_cents) return "";
      return html`<button ?disabled=${busy} aria-label="Subscribe to ${p.name}" @click=${() => this.subscribe(p)}>${working ? "Starting…" : "Subscribe"}</button>`;
    }
    if (!CHANGEABLE.includes(s.status) || !p.price_cents || s.upgrade_pending) return "";
    const current = s.package;
    if (p.id === current.id) {
      // A downgrade still waiting can be taken back by choosing the current package again.
      return s.pending_package
        ? html`<button class="secondary" ?disabled=${busy} aria-label="Keep ${p.name}" @click=${() => this.change(p)}>Keep</button>` : "";
    }
    if (s.pending_package?.id === p.id) return "";
    const up = above(p, current);
    return html`<button class=${up ? "" : "secondary"} ?disabled=${busy} aria-label="${up ? "Upgrade" : "Downgrade"} to ${p.name}"
      @click=${() => this.change(p)}>${working ? "Working…" : up ? "Upgrade" : "Downgrade"}</button>`;
  }
}
