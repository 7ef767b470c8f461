import { html } from "lit";
import { CreditsElement, count, number } from "../base.js";

// <credits-auto-recharge>: buy credits automatically when the balance falls below a threshold
// (`auto-recharge`, `auto-recharge/setup` to save a card). A 404 means the server has no
// auto-recharge yet: the panel says so.
export class CreditsAutoRecharge extends CreditsElement {
  static properties = { settings: { state: true }, message: { state: true } };

  async load() {
    try {
      this.settings = await this.api.credits("auto-recharge");
    } catch (error) {
      if (error.status !== 404) throw error;
      this.settings = null;
    }
  }

  async save(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const body = {
      enabled: form.get("enabled") === "on",
      threshold: Number(form.get("threshold")),
      credits: Number(form.get("credits")),
      monthly_limit: Number(form.get("monthly_limit")),
    };
    try {
      this.settings = await this.api.send("PUT", "api/credits/auto-recharge", body);
      this.message = { kind: "good", text: body.enabled ? `On: ${count(body.credits, "credit")} whenever you fall below ${number(body.threshold)}.` : "Auto-recharge is off." };
    } catch (error) {
      if (error.status === 401) this.handle(error);
      this.message = { kind: "bad", text: error.message };
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

  render() {
    const s = this.settings;
    return html`<section class="card" aria-labelledby="recharge-title" aria-busy=${this.loading}>
      <h2 id="recharge-title">Auto-recharge</h2>
      ${this.failureNotice()}
      ${s === undefined ? html`<p class="muted">Loading…</p>` : s === null
        ? html`<p class="muted" data-testid="auto-recharge-unavailable">Auto-recharge is not available on this server yet.</p>`
        : html`<form class="row" @submit=${this.save}>
            <label style="flex-direction: row; align-items: center; gap: 0.4rem">
              <input type="checkbox" name="enabled" ?checked=${s.enabled} style="min-height: auto"> Enabled</label>
            <label>When below <input name="threshold" type="number" min="0" .value=${String(s.threshold ?? 20)}></label>
            <label>Buy <input name="credits" type="number" min="1" .value=${String(s.credits ?? 500)}></label>
            <label>At most a month <input name="monthly_limit" type="number" min="0" .value=${String(s.monthly_limit ?? 2000)}></label>
            <button type="submit">Save</button>
            <button type="button" class="secondary" @click=${this.saveCard}>Save a card</button>
          </form>`}
      ${this.message ? html`<p class="notice ${this.message.kind}" role="status">${this.message.text}</p>` : ""}
    </section>`;
  }
}
