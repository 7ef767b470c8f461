// Runs example.ts (compiled to build/ by `npm run example`) against a server:
// CREDITS_API (default http://127.0.0.1:8000, where `make run` serves), as the demo user.
import { balance, insights, signIn } from "./build/example.js";

const baseUrl = process.env.CREDITS_API ?? "http://127.0.0.1:8000";
const username = process.env.CREDITS_USER ?? "demo";
const password = process.env.CREDITS_PASSWORD ?? "demo-credits-2026";
const profile = process.argv[2] ?? "dev_dan";

const api = await signIn(baseUrl, username, password);
const before = await balance(api);
console.log(`signed in to ${baseUrl} as ${username}: ${before.current_balance} credits`);
const result = await insights(api, profile);
if (result.ok) {
  console.log(`ai-insights of ${profile}: charged ${result.charged} credits`);
  console.log(`  ${result.summary}`);
  console.log(`  strengths: ${result.strengths.join("; ")}`);
} else {
  console.log(`not enough credits: ${result.message} (need ${result.needed} more)`);
}
console.log(`balance now ${(await balance(api)).current_balance} credits`);
