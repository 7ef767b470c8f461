// Every credits web component, registered once. Load this module and use the tags:
//   <credits-balance api-base="/api/v1" token="<JWT access token>"></credits-balance>
// or the whole page: <credits-app api-base="/api/v1"></credits-app>.
import { CreditsAlerts } from "./components/alerts.js";
import { CreditsApp } from "./components/app.js";
import { CreditsAutoRecharge } from "./components/auto-recharge.js";
import { CreditsBalance } from "./components/balance.js";
import { CreditsBuy } from "./components/buy.js";
import { CreditsHistory } from "./components/history.js";
import { CreditsPlan } from "./components/plan.js";
import { CreditsPricing } from "./components/pricing.js";
import { CreditsTeam } from "./components/team.js";
import { CreditsUsageChart } from "./components/usage-chart.js";

const ELEMENTS = {
  "credits-app": CreditsApp,
  "credits-balance": CreditsBalance,
  "credits-usage-chart": CreditsUsageChart,
  "credits-history": CreditsHistory,
  "credits-plan": CreditsPlan,
  "credits-pricing": CreditsPricing,
  "credits-buy": CreditsBuy,
  "credits-alerts": CreditsAlerts,
  "credits-auto-recharge": CreditsAutoRecharge,
  "credits-team": CreditsTeam,
};
for (const [name, element] of Object.entries(ELEMENTS)) {
  if (!customElements.get(name)) customElements.define(name, element);
}

export { ApiError, CreditsApi } from "./api.js";
export { Chart, draw } from "./charts.js";
export { CreditsAlerts, CreditsApp, CreditsAutoRecharge, CreditsBalance, CreditsBuy, CreditsHistory, CreditsPlan, CreditsPricing, CreditsTeam, CreditsUsageChart };
