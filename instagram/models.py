"""Instagram keeps no rows of its own: what a wallet has paid for is the gate's own table
(`wallets.models.Access`), named by the action and the username this app sells."""
