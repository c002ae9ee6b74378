"""Baton on Slack: Bolt listeners, Block Kit rendering and the outbox transport."""
