"""Where payments meets the outside world: payment providers (top-ups by signed webhook), payout
gateways and FX rate providers. Each has one interface and a built-in simulator or file provider."""
