import { html } from "lit";
import { CreditsElement, count, number } from "../base.js";

// <credits-auto-recharge>: buy credits automatically when the balance falls below a threshold
// (`auto-recharge`; `auto-recharge/setup` saves a card through Stripe Checkout). Shows the saved
// card, whether it is on or was turned off by a failed payment, and why. A 404 means the server has
// no auto-recharge: the panel says so.
export class CreditsAutoRecharge extends CreditsElement {
  static properties = { settings: { state: true }, message: { state: true }, mode: { state: true } };

  async load() {
    try {
      this.settings = await this.api.credits("auto-recharge");
      this.mode = this.settings.target_balance ? "to" : "by";
    } catch (error) {
      if (error.status !== 404) throw error;
      this.settings = null;
    }
  }

  async save(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const amount = Number(form.get("amount"));
    const body = {
      enabled: form.get("enabled") === "on",
      threshold: Number(form.get("threshold")),
      credits: this.mode === "by" ? amount : null,
      target_balance: this.mode === "to" ? amount : null,
      monthly_limit: Number(form.get("monthly_limit")),
    };
    try {
      this.settings = await this.api.send("PUT", "api/credits/auto-recharge", body);
      const what = this.mode === "by" ? `buy ${count(amount, "credit")}` : `top up to ${number(amount)}`;
      this.message = { kind: "good", text: body.enabled ? `On: ${what} whenever you fall below ${number(body.threshold)}.` : "Auto-recharge is off." };
    } catch (error) {
      if (error.status === 401) this.handle(error);
      this.message = error.code === "payment_method_required"
        ? { kind: "warn", text: "Save a card first: auto-recharge pays with it." }
        : { kind: "bad", text: error.message };
    }
  }

  async saveCard() {
    try {
      const setup = await this.api.post("api/credits/auto-recharge/setup", {});
      window.location.assign(setup.checkout_url || setup.url);
    } catch (error) {
      this.message = { kind: error.code === "payments_not_configured" ? "warn" : "bad",
        text: error.code === "payments_not_configured" ? "Payments are not set up on this server yet." : error.message };
    }
  }

  status(s) {
    const card = s.payment_method
      ? html`<span data-testid="auto-recharge-card">Card: ${s.payment_method.brand} ending ${s.payment_method.last4}</span>`
      : html`<span data-testid="auto-recharge-card" class="muted">No card saved yet.</span>`;
    const failed = s.status === "disabled_after_failure";
    return html`<p class="row">${card}
        <span data-testid="auto-recharge-status">${failed ? "Turned off after a failed payment" : s.enabled ? "On" : "Off"}</span>
        <span class="muted">${count(s.recharged_this_month, "credit")} recharged this month</span></p>
      ${failed ? html`<p class="notice bad" data-testid="auto-recharge-failure" role="alert">
        The last automatic payment failed (${s.last_failure || "declined"}). Update your card, then turn auto-recharge on again.</p>` : ""}`;
  }

  render() {
    const s = this.settings;
    return html`<section class="card" aria-labelledby="recharge-title" aria-busy=${this.loading}>
      <h2 id="recharge-title">Auto-recharge</h2>
      ${this.failureNotice()}
      ${s === undefined ? html`<p class="muted">Loading…</p>` : s === null
        ? html`<p class="muted" data-testid="auto-recharge-unavailable">Auto-recharge is not available on this server yet.</p>`
        : html`${this.status(s)}
          <form class="row" @submit=${this.save}>
            <label style="flex-direction: row; align-items: center; gap: 0.4rem">
              <input type="checkbox" name="enabled" ?checked=${s.enabled} style="min-height: auto"> Enabled</label>
            <label>When below <input name="threshold" type="number" min="0" .value=${String(s.threshold || 20)}></label>
            <label>Then <select name="mode" @change=${(e) => { this.mode = e.target.value; }}>
                <option value="by" ?selected=${this.mode === "by"}>buy</option>
                <option value="to" ?selected=${this.mode === "to"}>top up to</option></select></label>
            <label>Credits <input name="amount" type="number" min="1"
              .value=${String((this.mode === "to" ? s.target_balance : s.credits) ?? 500)}></label>
            <label>At most a month <input name="monthly_limit" type="number" min="0" .value=${String(s.monthly_limit || 2000)}></label>
            <button type="submit">Save</button>
            <button type="button" class="secondary" @click=${this.saveCard}>${s.payment_method ? "Change card" : "Save a card"}</button>
          </form>`}
      ${this.message ? html`<p class="notice ${this.message.kind}" role="status">${this.message.text}</p>` : ""}
    </section>`;
  }
}
