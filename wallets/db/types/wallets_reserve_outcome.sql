-- What wallets_hold_reserve decided (wallets.outcomes.ReserveOutcome holds the same labels).
CREATE TYPE wallets_reserve_outcome AS ENUM (
    'reserved',        -- the hold is made
    'missing',         -- no such wallet
    'locked',          -- the wallet is locked
    'paid',            -- an access to the resource is in force: nothing to charge
    'retry_captured',  -- this Idempotency-Key's request was charged
    'retry_held',      -- this Idempotency-Key's request is being served
    'in_flight',       -- another request holds the price of this resource
    'requote',         -- the free units left differ from those priced: price again (free_left)
    'short',           -- not enough credits (available)
    'member_cap_reached'  -- a team member's monthly cap would be overshot (member_left)
);
