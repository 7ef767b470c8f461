"""Money coming in: top-ups, the payment provider (Stripe), its webhook events. Uses wallets to credit."""
